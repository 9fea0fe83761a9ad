"""Sweeps: many variants of one validated scenario in one evaluation, locally or on Dask.

`sweep(scenario, points)` takes a list of points, each a mapping of scenario paths to values
(``{"options.domestic-buildout.pue": 1.25}``; a value may carry a unit, as `--set` reads it).
The scenario is validated once; each point changes only its fields, each checked by the
field's own validator (unit, bounds) and located in the error. Every point's cases are
stacked as extra series of one evaluation of the chain.

With `scheduler` (a `dask.distributed.Client`, or its address), the points are split into
partitions run on the cluster's workers; each returns its part of the long results, so no
process holds another's rows. `capacity.analysis.uncertainty.monte_carlo` takes the same
argument for its chunks of draws.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from ..data.errors import InputError
from ..data.scenario.models import Case, Scenario

DERIVING = ("gpu", "product", "proxy_model", "model", "archetype", "user_base", "host_product")
"""Fields the library derives other defaults from (a GPU's price from its id): a sweep changes
one field of the validated scenario and would leave those stale, so it refuses them."""
POINT_SEPARATOR = "@"
"""How a point's cases are named while they are evaluated: ``<case>@<point>``."""


def set_value(case: Case, path: str, value: Any, where: str = "sweep") -> Case:
    """`case` with the field at dotted `path` set to `value`, validated by that field alone."""
    from pydantic import BaseModel, TypeAdapter, ValidationError
    from typing import Annotated

    from .uncertainty import replace_path
    keys = tuple(path.split("."))
    if keys[-1] in DERIVING:
        raise InputError(where, path, "a field other defaults are derived from",
                         "a numeric or choice field; load a scenario per value instead "
                         "(capacity.load_scenario(..., overrides={...}))")
    parent: Any = case
    for key in keys[:-1]:
        if isinstance(parent, BaseModel):
            name = next((n for n, info in type(parent).model_fields.items() if (info.alias or n) == key), None)
            if name is None:
                raise InputError(where, path, f"no key {key!r}", "a path of docs/scenario.md")
            parent = getattr(parent, name)
        elif isinstance(parent, dict) and key in parent:
            parent = parent[key]
        else:
            raise InputError(where, path, f"no key {key!r}", "a path of docs/scenario.md")
    if not isinstance(parent, BaseModel):
        raise InputError(where, path, "a path into a mapping", "a path that ends at one value of a section")
    fields = type(parent).model_fields
    name = next((n for n, info in fields.items() if (info.alias or n) == keys[-1]), None)
    if name is None:
        raise InputError(where, path, f"no key {keys[-1]!r}", "one of " + ", ".join(
            info.alias or n for n, info in fields.items()))
    info = fields[name]
    try:
        kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        parsed = TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        found, _, expected = message.partition("; expected ")
        if not expected:
            from ..data.scenario.validation import readable_constraint
            found, expected = repr(value), readable_constraint(message)
        raise InputError(where, path, found.removeprefix("found "), expected) from None
    return replace_path(case, keys, parsed)


def _point_scenario(scenario: Scenario, points: list[Mapping[str, Any]], first: int) -> Scenario:
    cases = {}
    used = {}
    for offset, point in enumerate(points):
        for name, case in scenario.cases.items():
            for path, value in point.items():
                case = set_value(case, path, value, f"point {first + offset}")
            label = f"{name}{POINT_SEPARATOR}{first + offset}"
            cases[label] = case.model_copy(update={"name": label})
            used[label] = scenario.assumptions_used.get(name, {})
    return Scenario(scenario.name, scenario.source, cases, used, scenario.catalog)


def _evaluate_points(scenario: Scenario, points: list[Mapping[str, Any]], first: int) -> pd.DataFrame:
    """The long results of some points, with ``point`` and the case as ``scenario``."""
    from ..model.plan import run
    results = run(_point_scenario(scenario, points, first)).results
    parts = results["scenario"].str.rsplit(POINT_SEPARATOR, n=1)
    return results.assign(scenario=parts.str[0].astype(results["region"].dtype), point=parts.str[1].astype(int))[
        ["point", "scenario", "region", "option", "variable", "unit", "year", "value"]]


def partitions(n: int, parts: int) -> list[range]:
    """`n` items split into at most `parts` contiguous ranges of near-equal size."""
    parts = max(1, min(parts, n))
    bounds = [round(i * n / parts) for i in range(parts + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(parts) if bounds[i] < bounds[i + 1]]


def map_partitions(function: Callable, items: Iterable, scheduler=None) -> list:
    """`function` over `items`, here or on a Dask cluster (a Client or its address); results
    in the order of `items`."""
    items = list(items)
    if scheduler is None:
        return [function(item) for item in items]          # partitions, not rows or draws
    try:
        from distributed import Client
    except ImportError:
        raise InputError(None, "scheduler", "dask.distributed is not installed",
                         'pip install "capacity[dask]"') from None
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    futures = client.map(function, items, pure=False)
    return client.gather(futures)


def sweep(scenario: Scenario, points: list[Mapping[str, Any]], scheduler=None,
          partitions_per_worker: int = 2) -> pd.DataFrame:
    """Every point's results, as `Plan.results` with a leading ``point`` column (its index in
    `points`), point by point; see the module."""
    if not points:
        raise InputError(None, "points", "no points", "at least one mapping of paths to values")
    n_parts = 1
    if scheduler is not None:
        from distributed import Client
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        n_parts = max(1, len(client.scheduler_info()["workers"]) * partitions_per_worker)
        scheduler = client
    parts = partitions(len(points), n_parts)
    frames = map_partitions(lambda part: _evaluate_points(scenario, [points[i] for i in part], part.start),
                            parts, scheduler)
    # one order however the points were partitioned: point by point, each as `Plan.results`
    return pd.concat(frames, ignore_index=True).sort_values("point", kind="stable").reset_index(drop=True)


# --- sweeps over demand at scale: rows of the chain in chunks --------------------------------

def demand_sweep(scenario: Scenario, scales, variables: list[str] | None = None, scheduler=None,
                 chunk_rows: int | None = None, partitions_per_worker: int = 2) -> dict:
    """Every (option, variable) at each demand scale (``demand.scale``, a multiplier of every
    use case's requests), as arrays ``(points, series, years)`` in reporting units, with the
    ``series`` (scenario, region) and ``years`` they run over.

    The same as ``sweep(scenario, [{"demand.scale": s} for s in scales])`` (a test keeps them
    equal), but built for millions of points: a point's rows are the scenario's rows with their
    scale, made and evaluated in chunks of about `chunk_rows` rows, so no process holds more
    than one chunk's rows and no long table is built. With `scheduler` the points are split
    over the cluster's workers, each returning only its points' arrays. `variables` limits
    what is kept (default: every variable of `Plan.results`)."""
    import numpy as np

    from ..model.plan import VARIABLES, _report_factors
    from ..model.rows import scenario_rows
    from .uncertainty import CHUNK_ROWS
    scales = np.asarray(scales, dtype=float).ravel()
    if scales.size == 0 or not np.isfinite(scales).all() or (scales <= 0).any():
        raise InputError(None, "scales", "no scales, or one that is not a positive number",
                         "demand multipliers > 0")
    names = list(VARIABLES) if variables is None else list(variables)
    unknown = [name for name in names if name not in VARIABLES]
    if unknown:
        raise InputError(None, "variables", repr(unknown[0]), "a variable of Plan.results")
    base = scenario_rows(scenario)
    per_chunk = max(1, (chunk_rows or CHUNK_ROWS) // len(base))
    n_parts = 1
    if scheduler is not None:
        from distributed import Client
        scheduler = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        n_parts = max(1, len(scheduler.scheduler_info()["workers"]) * partitions_per_worker)
    parts = partitions(len(scales), n_parts)
    factor = dict(zip(VARIABLES, _report_factors()))

    def run_part(part: range) -> dict:
        layouts: dict[int, tuple] = {}        # rows and supply of a chunk of k points, made once
        chunks = []
        for start in range(part.start, part.stop, per_chunk):
            block = scales[start:min(start + per_chunk, part.stop)]
            if len(block) not in layouts:
                layouts[len(block)] = _demand_layout(scenario, base, len(block)) + ({},)
            chunks.append(_demand_chunk(scenario, *layouts[len(block)][:-1], block, names, layouts[len(block)][-1]))
        return {key: np.concatenate([chunk[key] for chunk in chunks]) for key in chunks[0]}

    results = map_partitions(run_part, parts, scheduler)
    arrays = {key: np.concatenate([part[key] for part in results]) * factor[key[1]] for key in results[0]}
    series = list(dict.fromkeys(zip(base["scenario"], base["region"])))
    first = int(base["year"].min())
    return {"values": arrays, "series": series, "years": list(range(first, int(base["year"].max()) + 1))}


def _demand_layout(scenario: Scenario, base: pd.DataFrame, k: int) -> tuple:
    """The rows of `k` points of a demand sweep at scale 1, laid out case by case with each
    case's points together (as the Monte Carlo's draws), the point of each row, and the supply
    arrays for them: the same for every chunk of `k` points, so made once."""
    import numpy as np

    from ..model.options import supply_for
    from .uncertainty import _tile_cases
    cases = list(dict.fromkeys(base["scenario"]))
    scenario_of = base["scenario"].to_numpy()
    order = np.concatenate([np.tile(np.flatnonzero(scenario_of == case), k) for case in cases])
    point = np.concatenate([np.repeat(np.arange(k), int((scenario_of == case).sum())) for case in cases])
    rows = base.iloc[order].reset_index(drop=True)
    # the series' names as categoricals: the chain tells series apart by integer codes
    counts = [int((scenario_of == case).sum()) for case in cases]
    names = np.char.add(np.repeat(np.array(cases, dtype=str), k), "#")
    names = np.char.add(names, np.tile(np.arange(k).astype(str), len(cases)))      # <case>#<point>
    case_of_row = np.repeat(np.arange(len(cases)), [count * k for count in counts])
    rows["scenario"] = pd.Categorical.from_codes(case_of_row * k + point, categories=names.astype(object))
    rows["region"] = pd.Categorical(rows["region"].to_numpy(object))
    return rows, rows["demand_scale"].to_numpy(float), point, _tile_cases(supply_for(scenario, base), base, k)


def _demand_chunk(scenario: Scenario, rows: pd.DataFrame, unit_scale, point, supply, scales,
                  names: list[str], memo: dict) -> dict:
    """One chunk of a demand sweep: the layout's rows at these scales, evaluated together
    (`memo`: what every chunk of this layout shares, its series' points and base series)."""
    from ..model.lookup import tables_for
    from ..model.options import evaluate
    from .uncertainty import _series_key, _variables
    rows["demand_scale"] = unit_scale * scales[point]          # the one column a point changes
    cells, quantities, shared = evaluate(rows, tables_for(scenario.catalog), supply)
    if "series" not in memo:
        memo["series"] = _series_key(cells, rows)
    return _variables(cells, rows, quantities, shared, names, len(scales), memo["series"])
