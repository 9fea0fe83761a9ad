"""Start-up time of the command line, as a ratio to a bare Python start (imports are deferred
until a command needs them). Run with: pytest tests/benchmarks --benchmark-only"""

import subprocess
import sys
import time

import pytest


def _seconds(argv, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.benchmark(group="cli")
def test_help_starts_within_three_times_a_bare_python(benchmark):
    bare = _seconds([sys.executable, "-c", "pass"])
    ratio = benchmark.pedantic(lambda: _seconds([sys.executable, "-m", "capacity.cli", "--help"]) / bare,
                               rounds=1, iterations=1)
    assert ratio < 3.0
