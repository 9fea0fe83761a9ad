"""The chain's speed and memory at scale, as ratios measured in the same run (issue 12).
Run with: pytest tests/benchmarks --benchmark-only -s

Rows are a demand sweep of the default scenario (`capacity.analysis.sweep.demand_sweep`: 180
rows a point), evaluated in chunks. Sizes that need their own memory figure run in a child
process (`sweep_child.py`), so the peak is that size's alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import capacity

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from sweep_child import peak_gib  # the same measure of memory in every process
ROWS_PER_POINT = 180


def _child(n_rows: int) -> dict:
    done = subprocess.run([sys.executable, str(HERE / "sweep_child.py"), str(n_rows)], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _streaming_seconds(n_rows: int) -> tuple[float, float]:
    """A numpy copy of the bytes the chain reads and writes at `n_rows` rows: every input
    column of the rows and every result array of `evaluate`, per row, times `n_rows`."""
    from capacity.analysis.uncertainty import _tile_cases
    from capacity.model.lookup import tables_for
    from capacity.model.options import evaluate, supply_for
    from capacity.model.rows import scenario_rows
    scenario = capacity.load_scenario()
    base = scenario_rows(scenario)
    k = 100
    rows = base.iloc[np.tile(np.arange(len(base)), k)].reset_index(drop=True)
    rows["scenario"] = rows["scenario"].astype(str) + "#" + np.repeat(np.arange(k), len(base)).astype(str)
    rows = rows.sort_values("scenario", kind="stable").reset_index(drop=True)
    _, quantities, shared = evaluate(rows, tables_for(scenario.catalog), _tile_cases(supply_for(scenario, base),
                                                                                    base, k))
    arrays = [v for q in quantities.values() for v in q.values() if isinstance(v, np.ndarray)]
    arrays += [v for v in shared.values() if isinstance(v, np.ndarray)]
    per_row = (rows.memory_usage(index=False, deep=False).sum() + sum(a.nbytes for a in arrays)) / len(rows)
    source = np.ones(int(per_row * n_rows) // 8)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        copy = source.copy()
        best = min(best, time.perf_counter() - start)
        del copy
    return best, per_row * n_rows / 2**30


@pytest.mark.benchmark(group="targets")
def test_chain_at_a_million_rows_against_streaming_its_bytes(benchmark, ratio):
    """Target: the whole chain at 1e6 rows <= 10 x a numpy copy of its input and result bytes."""
    streaming, gib = _streaming_seconds(1_000_000)
    chain = benchmark.pedantic(lambda: _child(1_000_000)["seconds"], rounds=1, iterations=1)
    assert ratio("chain_1e6_to_streaming", chain / streaming, 10.0, "lower",
          f"{chain:.1f} s against {streaming:.2f} s for {gib:.1f} GiB")


@pytest.mark.benchmark(group="targets")
def test_ten_million_rows_cost_per_row_and_peak_memory(benchmark, ratio):
    """Targets: time per row at 1e7 rows within 1.25 x that at 1e6; peak memory at 1e7 rows
    <= 2 GiB (the rows are made and evaluated in chunks)."""
    small = _child(1_000_000)
    large = benchmark.pedantic(lambda: _child(10_000_000), rounds=1, iterations=1)
    per_row = (large["seconds"] / large["rows"]) / (small["seconds"] / small["rows"])
    per_row_met = ratio("per_row_1e7_to_1e6", per_row, 1.25, "lower",
          f"{large['seconds'] / large['rows'] * 1e6:.1f} against {small['seconds'] / small['rows'] * 1e6:.1f} µs a row")
    memory_met = ratio("peak_memory_1e7_gib", large["peak_gib"], 2.0, "lower", f"{small['peak_gib']:.2f} GiB at 1e6 rows")
    assert per_row_met and memory_met


def _run_seconds(*argv, cwd, repeat=3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "capacity.cli", *argv], cwd=cwd, capture_output=True, check=True)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.benchmark(group="targets")
def test_the_workbook_against_csv(benchmark, ratio, tmp_path):
    """Target: the default `capacity run -o plan.xlsx` within 1.5 x `capacity run --format csv`."""
    csv = _run_seconds("run", "--format", "csv", "-o", "plan.csv", cwd=tmp_path)
    xlsx = benchmark.pedantic(lambda: _run_seconds("run", "-o", "plan.xlsx", cwd=tmp_path), rounds=1, iterations=1)
    assert ratio("xlsx_to_csv", xlsx / csv, 1.5, "lower", f"{xlsx:.1f} s against {csv:.1f} s")


@pytest.mark.benchmark(group="targets")
def test_a_hundred_million_rows_on_a_local_dask_cluster(benchmark, ratio):
    """Target: a 1e8-row demand sweep on a LocalCluster (2 workers, one thread each) with each
    worker's peak memory bounded (<= 2 GiB) and reported; the points' results are gathered as
    arrays, never as rows."""
    distributed = pytest.importorskip("distributed")
    from capacity.analysis.sweep import demand_sweep
    scenario = capacity.load_scenario()
    points = 100_000_000 // ROWS_PER_POINT
    scales = np.random.default_rng(0).lognormal(0.0, 0.5, points)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="3GiB",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        start = time.perf_counter()
        out = benchmark.pedantic(lambda: demand_sweep(scenario, scales, variables=["Cost|Total"], scheduler=client,
                                                      partitions_per_worker=8), rounds=1, iterations=1)
        seconds = time.perf_counter() - start
        peaks = client.run(peak_gib)
    assert out["values"][("domestic-buildout", "Cost|Total")].shape[0] == points
    worst = max(peaks.values())
    assert ratio("dask_1e8_worker_peak_gib", worst, 2.0, "lower",
          f"{points * ROWS_PER_POINT:,} rows in {seconds / 60:.0f} min; workers "
          + ", ".join(f"{p:.2f}" for p in peaks.values()) + " GiB")
