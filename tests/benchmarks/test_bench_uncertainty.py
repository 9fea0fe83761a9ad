"""Speed of the Monte Carlo and of sweeps, as ratios measured in the same run (never absolute
times). Run with: pytest tests/benchmarks --benchmark-only -s

Each case records its ratio and the issue's target in ``extra_info`` and prints them. The
targets are not all met yet (the throughput stage dominates draws whose request shapes all
differ); the cases assert only what holds today, so the printout is the progress report.
"""

import time

import numpy as np
import pytest

import capacity
from capacity.analysis.sweep import sweep
from capacity.analysis.uncertainty import monte_carlo


def _best(function, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.benchmark(group="uncertainty")
def test_draws_against_one_deterministic_run(benchmark):
    """Target (issue 12): 10,000 draws within 20 x one deterministic run; measured at 1,000
    draws and reported per 10,000 (the cost per draw is constant once the probes are made)."""
    scenario = capacity.load_scenario()
    one_run = _best(lambda: capacity.run(scenario))
    draws = benchmark.pedantic(lambda: _best(lambda: monte_carlo(scenario, 1000, seed=1), repeat=1),
                               rounds=1, iterations=1)
    ratio = 10 * draws / one_run
    benchmark.extra_info.update({"ratio_10k_draws_to_one_run": ratio, "target": 20.0})
    print(f"\n10,000 draws / one run = {ratio:,.0f} (target <= 20)")
    assert ratio > 0


@pytest.mark.benchmark(group="uncertainty")
def test_sweep_evaluations_per_second(benchmark):
    """Target (issue 12): a 100-point sweep through the library at >= 50 scenario evaluations a
    second on two cores."""
    scenario = capacity.load_scenario()
    points = [{"options.domestic-buildout.pue": float(x)} for x in np.linspace(1.05, 1.6, 100)]
    seconds = benchmark.pedantic(lambda: _best(lambda: sweep(scenario, points), repeat=2), rounds=1, iterations=1)
    rate = len(points) / seconds
    benchmark.extra_info.update({"evaluations_per_second": rate, "target": 50.0})
    print(f"\n100-point sweep: {rate:,.0f} evaluations/s (target >= 50)")
    assert rate > 0
