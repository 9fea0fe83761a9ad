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
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30   # Linux: KiB
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_gib": peak}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
