"""Run in a child process by the benchmarks: a demand sweep of N rows of the default scenario,
printing its time and the process's peak memory as JSON (``python sweep_child.py N``)."""

import json
import resource
import sys
import time

import numpy as np

import capacity
from capacity.analysis.sweep import demand_sweep


def main(n_rows: int) -> None:
    scenario = capacity.load_scenario()
    capacity.run(scenario)                                   # warm the tables and caches
    points = max(1, n_rows // 180)
    scales = np.random.default_rng(0).lognormal(0.0, 0.5, points)
    start = time.perf_counter()
    out = demand_sweep(scenario, scales, variables=["Cost|Total", "Power|Facility"])
    seconds = time.perf_counter() - start
    rows = points * 180
    assert np.isfinite(out["values"][("domestic-buildout", "Cost|Total")]).any()
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_gib": peak_gib()}))


def peak_gib() -> float:
    """This process's peak resident memory [GiB]: Linux's VmHWM, which (unlike ru_maxrss, kept
    across fork and exec) counts this program's memory only."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024 / 2**30                       # kB
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30


if __name__ == "__main__":
    main(int(sys.argv[1]))
