"""Speed of the whole chain over flat rows. Run with: pytest tests/benchmarks --benchmark-only

The default test run skips these (``--benchmark-skip`` in pyproject.toml). Targets are ratios,
not wall-clock times: a million rows cost about a hundred times ten thousand, because every
stage is array arithmetic.
"""

import time

import numpy as np
import pandas as pd
import pytest

import capacity
from capacity.model.lookup import tables_for
from capacity.model.options import evaluate
from capacity.model.rows import scenario_rows


def sweep_rows(n_rows: int, seed: int = 0, vary_shapes: bool = False) -> tuple[pd.DataFrame, object]:
    """About `n_rows` rows (whole sweep members): the default scenario's rows repeated as
    distinct sweep members, each with its own demand scale (a Monte-Carlo-like sweep over
    demand) and, with `vary_shapes`, its own tokens per request (so no two rows share a
    throughput computation)."""
    scenario = capacity.load_scenario()
    base = scenario_rows(scenario)
    copies = max(1, round(n_rows / len(base)))               # whole members only
    rows = pd.concat([base] * copies, ignore_index=True)
    member = np.repeat(np.arange(copies), len(base))
    rows["scenario"] = rows["scenario"].astype(str) + "#" + member.astype(str)
    rng = np.random.default_rng(seed)
    rows["potential_users"] *= rng.lognormal(0.0, 0.5, copies)[member]
    if vary_shapes:
        rows["input_tokens"] *= rng.lognormal(0.0, 0.3, len(rows))
    return rows, tables_for(scenario.catalog)


@pytest.mark.benchmark(group="chain")
def test_whole_chain_on_a_million_rows_in_one_call(benchmark):
    rows, tables = sweep_rows(1_000_000)
    cells, results, shared = benchmark.pedantic(evaluate, args=(rows, tables), rounds=1, iterations=1)
    assert shared["present"].sum() == cells.n_series * cells.n_years
    assert np.isfinite(results["domestic-buildout"]["total"][shared["present"]]).all()


@pytest.mark.benchmark(group="chain")
def test_whole_chain_on_a_hundred_thousand_distinct_request_shapes(benchmark):
    """The worst case for the throughput stage: every row a different request shape."""
    rows, tables = sweep_rows(100_000, vary_shapes=True)
    benchmark.pedantic(evaluate, args=(rows, tables), rounds=1, iterations=1)


@pytest.mark.benchmark(group="chain")
def test_whole_chain_on_ten_thousand_rows(benchmark):
    rows, tables = sweep_rows(10_000)
    benchmark.pedantic(evaluate, args=(rows, tables), rounds=3, iterations=1)


def test_cost_per_row_does_not_grow_with_the_sweep(benchmark):
    """Vectorised: time per row at 1,000,000 rows within 3x of that at 10,000 rows."""
    small, tables = sweep_rows(10_000)
    large, _ = sweep_rows(1_000_000)

    def per_row(rows):
        start = time.perf_counter()
        evaluate(rows, tables)
        return (time.perf_counter() - start) / len(rows)

    per_row(small)  # warm caches
    ratio = benchmark.pedantic(lambda: per_row(large) / per_row(small), rounds=1, iterations=1)
    assert ratio < 3.0
