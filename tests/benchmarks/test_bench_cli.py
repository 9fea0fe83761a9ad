"""Start-up time of the command line, as a ratio to a bare Python start (imports are deferred
until a command needs them). Run with: pytest tests/benchmarks --benchmark-only"""

import subprocess
import sys
import time
from pathlib import Path

import pytest


def _seconds(argv, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.benchmark(group="cli")
def test_help_starts_within_three_times_a_bare_python(benchmark, ratio):
    bare = _seconds([sys.executable, "-c", "pass"])
    script = Path(sys.executable).with_name("capacity")         # the installed console script
    command = [str(script)] if script.exists() else [sys.executable, "-m", "capacity.entry"]
    measured = benchmark.pedantic(lambda: _seconds(command + ["--help"]) / bare,
                                  rounds=1, iterations=1)
    assert ratio("help_to_bare_python", measured, 3.0, "lower")
