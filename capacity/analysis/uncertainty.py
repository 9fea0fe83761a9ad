"""Monte Carlo over the sourced ranges: draws are rows of the same vectorised chain.

Every assumption the scenario takes from the library with a low/high range is an uncertain
input (`uncertain_inputs`), drawn from a PERT distribution on [low, high] with its mode at the
stated value (a beta distribution, shape ``1 + 4 (mode - low) / (high - low)`` and ``1 + 4 (high
- mode) / (high - low)``: skewed where the value is not central, as the sources' ranges are),
independently or in correlation groups (a Gaussian copula: rank correlation within a group).

The scenario is validated once. How each input moves the rows is learnt from two probes, the
rows with the input at its low and at its high (`probe`): a column that moves in proportion
(a product of inputs, e.g. users = population x share) is scaled by ``draw / value``; one that
moves linearly (a sum, or a copy) gets ``slope x (draw - value)``; anything else (a compound
trend, a lead time's ceiling, an adoption midpoint) is interpolated through the low, stated and
high points. A draw's rows are the base rows with these changes applied, all draws of a chunk
at once: `draw_rows`. Draws are evaluated in chunks of rows (`CHUNK_ROWS`), each a set of
extra series of one evaluation of the chain; nothing loops over draws.

Ranged catalogue rows of the GPUs and models a case's rows name are inputs too. One its rows
are built from (a GPU's server or rental price, read when the fleet buys a later generation or
rents another GPU) is probed like a scenario value, on rows rebuilt from a catalogue with the
row at its low and at its high (GPU generations derived from it re-extrapolated). One the chain
reads through its look-ups (board power, HBM, bandwidth, peak FLOP/s, model shapes: the
properties `looked_up_columns` records) is probed on the look-up tables built from those
catalogues (`table_probe`), and each draw gets its own entry ``<id>~<draw>`` with its values,
named by that draw's rows (`drawn_catalogue`). A portfolio's settings (the hedged reserve
share, its switch time, a fallback's ramp) set supply arrays over the rows: probed on
`supply_for` at the low and the high (`supply_probe`) and drawn into each draw's supply
(`drawn_supply`). Held at their values, and listed in `Uncertainty.held`: inputs of the
robustness matrix and the plausibility thresholds (not the chain), and ranged catalogue rows
the chain does not read (a GPU's purchase price: servers are priced whole). The calibrated
efficiency factors carry no range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.errors import InputError
from ..data.scenario.models import Scenario

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""The quantiles reported: P5, P25, P50, P75, P95."""
CHUNK_ROWS = 100_000
MAX_DRAWS = 100_000   # every draw keeps all variables x options x years in memory
"""Rows evaluated at once: draws are split into chunks of about this many rows (at 100,000
rows the chain's (routes, rows, tiers) temporaries are 6 MB, and 1e6 rows run 20 % faster
than in chunks of 200,000 on these machines)."""
ROW_ROOTS = ("options", "fleet", "finance", "demand", "regions", "use_cases")
"""Scenario sections whose values become row columns (what a draw can move); a portfolio's
settings (``portfolios``) move the supply arrays over the rows (`supply_probe`)."""


@dataclass(frozen=True)
class Input:
    """One uncertain assumption: its library row and where the scenario uses it."""

    key: str                                  # table:id:parameter
    value: float                              # canonical
    low: float
    high: float
    paths: dict[str, list[tuple]]             # case -> scenario paths taking the value
    source: str
    quality: str


def uncertain_inputs(scenario: Scenario) -> tuple[list[Input], list[str]]:
    """Every library row the scenario uses with a range (low < high), and the keys held at
    their value because they set no row of the chain."""
    found: dict[str, dict] = {}
    held: set[str] = set()
    for case, used in scenario.assumptions_used.items():
        for path, row in used.items():
            if not isinstance(row.value, (int, float)) or math.isnan(row.low) or math.isnan(row.high) \
                    or not row.low < row.high:
                continue
            if (path[0] not in ROW_ROOTS and path[0] != "portfolios") or path[:2] == ("options", "pooled"):
                held.add(row.key)
                continue
            entry = found.setdefault(row.key, {"row": row, "paths": {}})
            entry["paths"].setdefault(case, []).append(path)
    moving, unread = _catalogue_inputs(scenario, set(found) | held)
    found.update(moving)
    inputs = [Input(key, float(e["row"].value), float(e["row"].low), float(e["row"].high), e["paths"],
                    e["row"].source, e["row"].quality or "unrated") for key, e in sorted(found.items())]
    return inputs, sorted((held | unread) - set(found))


CATALOGUE_TABLES = ("gpus", "models", "api_products")
"""Tables whose rows the chain reads by id (not through a scenario path)."""


def _catalogue_inputs(scenario: Scenario, known: set[str]) -> tuple[dict[str, dict], set[str]]:
    """Ranged catalogue rows of the GPUs, models and API products the scenario's rows name:
    those that move some case's rows or the chain's look-up tables (with their paths,
    ``("catalog", key)``, in the cases whose rows name the id), and the keys of the others
    (which the chain does not read)."""
    from ..data.generations import base_of
    from ..model.rows import case_columns
    named: dict[str, set[str]] = {}
    base_columns = {}
    for name, case in scenario.cases.items():
        columns = case_columns(case, scenario.catalog)
        base_columns[name] = columns
        ids = {value for values in columns.values() if values.dtype == object
               for value in set(values.tolist()) if isinstance(value, str)}
        named[name] = ids | {base_of(value) for value in ids if base_of(value) is not None}
    moving: dict[str, dict] = {}
    unread: set[str] = set()
    for table in CATALOGUE_TABLES:
        for row in scenario.catalog.all_rows(table):
            cases = [name for name in scenario.cases if row.id in named[name]]
            if not cases or row.key in known or not isinstance(row.value, (int, float)) \
                    or isinstance(row.value, bool) or not row.low < row.high:
                continue
            paths = {}
            for name in cases:
                base = base_columns[name]
                for x in (row.low, row.high):
                    probed = case_columns(scenario.cases[name], _catalog_with(scenario, row.key, x))
                    if any(not _same(base[c], probed[c]) for c in base if base[c].dtype.kind in "fi"):
                        paths[name] = [("catalog", row.key)]
                        break
            if not paths and table in LOOKUP_TABLES and any(
                    _table_moves(scenario, row.key, x, table) for x in (row.low, row.high)):
                paths = {name: [("catalog", row.key)] for name in cases}
            if paths:
                moving[row.key] = {"row": row, "paths": paths}
            else:
                unread.add(row.key)
    return moving, unread


LOOKUP_TABLES = ("gpus", "models")
"""Catalogue tables the chain reads through its look-ups (`capacity.model.lookup.Tables`)."""


_READ: dict[int, tuple] = {}
"""`looked_up_columns` of a scenario (keyed by its id, checked by identity)."""


def looked_up_columns(scenario: Scenario) -> dict[str, list[str]]:
    """The numeric properties of each look-up table (`LOOKUP_TABLES`) the chain reads when it
    runs the scenario's cases, recorded in one evaluation (`lookup.recording_reads`)."""
    from ..model.lookup import recording_reads, tables_for
    from ..model.options import evaluate, supply_for
    from ..model.rows import scenario_rows
    found = _READ.get(id(scenario))
    if found is not None and found[0] is scenario:
        return found[1]
    tables = tables_for(scenario.catalog)
    rows = scenario_rows(scenario)
    with recording_reads() as reads:
        evaluate(rows, tables, supply_for(scenario, rows))
    read = {table: sorted(column for frame_id, column in reads if frame_id == id(getattr(tables, table)))
            for table in LOOKUP_TABLES}
    if len(_READ) > 16:
        _READ.clear()
    _READ[id(scenario)] = (scenario, read)
    return read


def _numeric(scenario: Scenario, frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """The columns of a look-up table the chain reads (as floats)."""
    return frame.reindex(columns=looked_up_columns(scenario)[table]).apply(pd.to_numeric, errors="coerce")


def _table_moves(scenario: Scenario, key: str, value: float, table: str) -> bool:
    from ..model.lookup import tables_for
    base = _numeric(scenario, getattr(tables_for(scenario.catalog), table), table)
    probed = _numeric(scenario, getattr(tables_for(_catalog_with(scenario, key, value)), table), table).reindex(
        index=base.index)
    return not all(_same(base[c].to_numpy(), probed[c].to_numpy()) for c in base.columns)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = a.astype(float), b.astype(float)
    return bool(((a == b) | (np.isnan(a) & np.isnan(b))).all())


_CATALOGS: dict[tuple, tuple] = {}
"""Catalogues with one row replaced, kept for the probes of one scenario (keyed by its id and
checked by identity): each is made once for the filter and the probes."""


def _catalog_with(scenario: Scenario, key: str, value: float):
    """The scenario's catalogue with row `key` (table:id:parameter) at `value`, GPU
    generations re-derived."""
    from dataclasses import replace

    from ..data.catalog import Catalog, _extrapolated
    memo = (id(scenario.catalog), key, value)
    found = _CATALOGS.get(memo)
    if found is not None and found[0] is scenario.catalog:
        return found[1]
    table, row_id, parameter = key.split(":", 2)
    catalog = Catalog({name: dict(rows) for name, rows in scenario.catalog.rows.items()})
    catalog.add([replace(catalog.get(table, row_id, parameter), value=value)])
    catalog = _extrapolated(catalog) if table == "gpus" else catalog
    if len(_CATALOGS) > 512:
        _CATALOGS.clear()
    _CATALOGS[memo] = (scenario.catalog, catalog)
    return catalog


# --- sampling --------------------------------------------------------------------------------

def pert_shapes(low, mode, high) -> tuple[np.ndarray, np.ndarray]:
    """Beta shapes of the PERT distribution on [low, high] with mode `mode` (lambda = 4)."""
    low, mode, high = (np.asarray(x, dtype=float) for x in (low, mode, high))
    span = high - low
    return 1.0 + 4.0 * (mode - low) / span, 1.0 + 4.0 * (high - mode) / span


def sample(inputs: list[Input], draws: int, seed: int,
           correlated: list[tuple[list[str], float]] | None = None) -> np.ndarray:
    """(draws, inputs) PERT draws, reproducible for a seed. `correlated` lists groups of input
    keys with the rank correlation within each group (a Gaussian copula)."""
    from scipy import special, stats
    rng = np.random.default_rng(seed)
    k = len(inputs)
    correlation = np.eye(k)
    index = {spec.key: i for i, spec in enumerate(inputs)}
    for keys, rho in correlated or []:
        unknown = [key for key in keys if key not in index]
        if unknown:
            raise InputError(None, "correlated", repr(unknown[0]), "a key of an uncertain input "
                             "(capacity.analysis.uncertainty.uncertain_inputs)")
        members = [index[key] for key in keys]
        # Pearson correlation of the normals that gives rank correlation rho
        pearson = 2.0 * math.sin(math.pi * rho / 6.0)
        for a in members:
            for b in members:
                if a != b:
                    correlation[a, b] = pearson
    normals = rng.multivariate_normal(np.zeros(k), correlation, size=draws, method="cholesky") \
        if correlated else rng.standard_normal((draws, k))
    uniforms = stats.norm.cdf(normals)
    low = np.array([spec.low for spec in inputs])
    high = np.array([spec.high for spec in inputs])
    alpha, beta = pert_shapes(low, np.array([spec.value for spec in inputs]), high)
    return low + (high - low) * special.betaincinv(alpha, beta, uniforms)


# --- how an input moves the rows -------------------------------------------------------------

def replace_path(model, path: tuple, value):
    """A copy of a (frozen) pydantic model, dict or list with the value at `path` replaced."""
    from pydantic import BaseModel
    head, rest = path[0], path[1:]
    if isinstance(model, BaseModel):
        name = next((n for n, info in type(model).model_fields.items() if (info.alias or n) == head), head)
        current = getattr(model, name)
        new = replace_path(current, rest, value) if rest else _like(current, value)
        return model.model_copy(update={name: new})
    if isinstance(model, dict):
        new = dict(model)
        key = head if head in model else next(k for k in model if str(k) == str(head))
        new[key] = replace_path(model[key], rest, value) if rest else _like(model[key], value)
        return new
    if isinstance(model, list):
        new = list(model)
        new[int(head)] = replace_path(model[int(head)], rest, value) if rest else value
        return new
    raise TypeError(f"cannot replace {path} in {type(model).__name__}")


def _like(current, value):
    """`value` in the type of the value it replaces: a whole number for an int field, a float
    for a number, the same value for every year of a year table (a region limit a library row
    sets: ``{0: value}``), as given otherwise (text, a choice, a section)."""
    if isinstance(current, dict) and isinstance(value, (int, float)):
        return {year: None if entry is None else _like(entry, value) for year, entry in current.items()}
    if isinstance(current, bool) or not isinstance(current, (int, float)) or not isinstance(value, (int, float)):
        return value
    return int(round(value)) if isinstance(current, int) else float(value)


@dataclass
class Effect:
    """How one input moves one case's rows: per numeric column, its kind and the probes."""

    columns: list[str]
    kinds: list[np.ndarray]          # per column, per row: NONE, SCALE, LINEAR or CURVE
    low: dict[str, np.ndarray]       # column -> rows at the input's low
    high: dict[str, np.ndarray]


def _with(scenario: Scenario, case, spec: Input, name: str, value: float):
    """The case and catalogue with `spec` at `value` where case `name` uses it."""
    catalog = scenario.catalog
    for path in spec.paths[name]:
        if path[0] == "catalog":
            catalog = _catalog_with(scenario, path[1], value)
        else:
            case = replace_path(case, path, value)
    return case, catalog


def probe(scenario: Scenario, inputs: list[Input]) -> dict[str, tuple[pd.DataFrame, dict[str, Effect]]]:
    """For each case: its base rows and, for every input it uses, the effect on them."""
    from ..model.rows import case_columns
    out = {}
    for name, case in scenario.cases.items():
        columns = case_columns(case, scenario.catalog)
        base = pd.DataFrame(columns)
        numeric = [c for c, values in columns.items() if values.dtype.kind in "fi"]
        matrix = np.stack([columns[c].astype(float) for c in numeric])          # (columns, rows)
        effects = {}
        for spec in inputs:
            if name not in spec.paths:
                continue
            probes = [case_columns(*_with(scenario, case, spec, name, x)) for x in (spec.low, spec.high)]
            low, high = (np.stack([p[c].astype(float) for c in numeric]) for p in probes)
            effects[spec.key] = _effect(spec, numeric, matrix, low, high)
        out[name] = (base, effects)
    return out


def _effect(spec: Input, names: list[str], base: np.ndarray, low: np.ndarray, high: np.ndarray) -> Effect:
    """The effect of `spec` on the columns `names` (rows of the (columns, entries) arrays):
    the columns its low or high probe moves, and how each entry moves (`_kind`)."""
    same = lambda other: ((other == base) | (np.isnan(other) & np.isnan(base))).all(axis=1)
    moved = np.flatnonzero(~(same(low) & same(high)))
    return Effect([names[i] for i in moved], [_kind(base[i], low[i], high[i], spec) for i in moved],
                  {names[i]: low[i] for i in moved}, {names[i]: high[i] for i in moved})


NONE, SCALE, LINEAR, CURVE = 0, 1, 2, 3
"""How a row's column moves with an input: not at all, in proportion, linearly, otherwise."""


def _kind(base, low, high, spec: Input) -> np.ndarray:
    """Per row: SCALE where the column moves in proportion to the input, LINEAR where by a fixed
    slope (or only one side of the range exists), CURVE otherwise (interpolated through the
    three points), NONE where it does not move."""
    with np.errstate(invalid="ignore", divide="ignore"):
        moved = ~(np.isclose(low, base, rtol=0, atol=0, equal_nan=True)
                  & np.isclose(high, base, rtol=0, atol=0, equal_nan=True))
        up, down = spec.high > spec.value, spec.value > spec.low     # a range may end at the value
        close = lambda a, b: np.isclose(a, b, rtol=1e-9, atol=1e-12 * max(np.nanmax(np.abs(base)), 1.0)
                                        if np.isfinite(base).any() else 0.0)
        scale = (spec.value != 0) & (~up | close(high, base * spec.high / spec.value)) \
            & (~down | close(low, base * spec.low / spec.value))
        slope_high = (high - base) / (spec.high - spec.value) if up else np.zeros_like(base)
        slope_low = (base - low) / (spec.value - spec.low) if down else slope_high
        linear = ~(up and down) | close(slope_high, slope_low)
    return np.where(~moved, NONE, np.where(scale, SCALE, np.where(linear, LINEAR, CURVE)))


def draw_rows(base: pd.DataFrame, effects: dict[str, Effect], inputs: list[Input],
              values: np.ndarray, case: str, first_draw: int) -> pd.DataFrame:
    """The rows of one case for a block of draws (`values`: draws x inputs), named
    ``<case>#<draw>``: the base rows with each input's effect applied (see the module)."""
    d, n = values.shape[0], len(base)
    rows = pd.DataFrame({c: np.tile(base[c].to_numpy(), d) for c in base.columns})
    rows["scenario"] = np.repeat(np.char.add(f"{case}#", np.arange(first_draw, first_draw + d).astype(str)),
                                 n).astype(object)
    for column, moved in moved_columns(base, effects, inputs, values).items():
        rows[column] = moved.ravel()
    return rows


def moved_columns(base: pd.DataFrame, effects: dict[str, Effect], inputs: list[Input],
                  values: np.ndarray) -> dict[str, np.ndarray]:
    """Each column of `base` some input moves, as (draws, rows) values for the draws
    `values` (draws x inputs): scaled, shifted or interpolated as its probes showed."""
    d, n = values.shape[0], len(base)
    columns: dict[str, dict] = {}
    for k, spec in enumerate(inputs):
        effect = effects.get(spec.key)
        if effect is None:
            continue
        x = values[:, k][:, None]
        for column, kind in zip(effect.columns, effect.kinds):
            entry = columns.setdefault(column, {"add": np.zeros((d, n)), "times": np.ones((d, n))})
            b = base[column].to_numpy(float)[None, :]
            lo, hi = effect.low[column][None, :], effect.high[column][None, :]
            kind = kind[None, :]
            if spec.value != 0:
                entry["times"] = entry["times"] * np.where(kind == SCALE, x / spec.value, 1.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                slope = ((hi - b) / (spec.high - spec.value) if spec.high > spec.value
                         else (b - lo) / (spec.value - spec.low))
                below = x < spec.value
                t_below = np.nan_to_num((x - spec.low) / (spec.value - spec.low)) if spec.value > spec.low else 0.0
                t_above = np.nan_to_num((x - spec.value) / (spec.high - spec.value)) if spec.high > spec.value else 0.0
                curve = np.where(below, (lo - b) * (1.0 - t_below), (hi - b) * t_above)
            entry["add"] = entry["add"] + np.where(kind == LINEAR, np.nan_to_num(slope) * (x - spec.value), 0.0) \
                + np.where(kind == CURVE, np.nan_to_num(curve), 0.0)
    out = {}
    for column, entry in columns.items():
        b = base[column].to_numpy(float)[None, :]
        with np.errstate(invalid="ignore"):
            moved = (b + np.nan_to_num(entry["add"])) * entry["times"]
        out[column] = np.where(np.isnan(b), b, moved)
    return out


# --- catalogue rows read through the look-ups: an entry per draw --------------------------------

VARIANT = "~"
"""Separator of a drawn look-up entry's id: ``<id>~<draw>`` (GPU ``b300~17``)."""


@dataclass
class TableEffect:
    """How the catalogue inputs move one look-up table (its ids are the probed rows)."""

    frame: pd.DataFrame              # the table as the chain reads it, ids x properties
    effects: dict[str, Effect]       # input key -> its effect on the table's numeric columns


def table_probe(scenario: Scenario, inputs: list[Input]) -> dict[str, TableEffect]:
    """For each look-up table (`LOOKUP_TABLES`) some catalogue input moves: the table and each
    input's effect, probed like the rows (`probe`) on tables built from the catalogue with the
    input at its low and at its high (GPU generations re-derived)."""
    from ..model.lookup import tables_for
    catalogue = [spec for spec in inputs
                 if any(path[0] == "catalog" for paths in spec.paths.values() for path in paths)]
    out: dict[str, TableEffect] = {}
    if not catalogue:
        return out
    base_tables = tables_for(scenario.catalog)
    for table in LOOKUP_TABLES:
        frame = getattr(base_tables, table)
        base = _numeric(scenario, frame, table)
        numeric = list(base.columns)
        matrix = base.to_numpy(float).T                                   # (columns, ids)
        effects = {}
        for spec in catalogue:
            low, high = (_numeric(scenario, getattr(tables_for(_catalog_with(scenario, spec.key, x)), table),
                                  table).reindex(index=frame.index).to_numpy(float).T for x in (spec.low, spec.high))
            effect = _effect(spec, numeric, matrix, low, high)
            if effect.columns:
                effects[spec.key] = effect
        if effects:
            out[table] = TableEffect(frame, effects)
    return out


def drawn_catalogue(tables, table_effects: dict[str, TableEffect], inputs: list[Input], values: np.ndarray,
                    first_draw: int, rows: pd.DataFrame, supply, draw_of_row: np.ndarray):
    """Tables, rows and supply for a block of draws (`values`: draws x inputs) in which each
    id an input moves has an entry per draw (``<id>~<draw>``, `VARIANT`) carrying that draw's
    values, and each row names the entry of its own draw (`draw_of_row`); unchanged when no
    input moves a look-up table."""
    if not table_effects:
        return tables, rows, supply
    from dataclasses import replace
    d = values.shape[0]
    suffixes = np.char.add(VARIANT, np.arange(first_draw, first_draw + d).astype(str))
    frames, varied = {}, set()
    cube = tables.efficiency
    for table in LOOKUP_TABLES:
        frame = getattr(tables, table)
        effect = table_effects.get(table)
        if effect is None:
            frames[table] = frame
            continue
        moved = moved_columns(effect.frame, effect.effects, inputs, values)
        changed = np.zeros(len(frame), bool)
        for one in effect.effects.values():
            for kinds in one.kinds:
                changed |= kinds != NONE
        positions = np.flatnonzero(changed)
        block = frame.iloc[np.tile(positions, d)].copy()
        block.index = pd.Index(np.char.add(np.tile(frame.index[positions].to_numpy(str), d),
                                           np.repeat(suffixes, len(positions))).astype(object), name=frame.index.name)
        for column, array in moved.items():
            block[column] = array[:, positions].ravel()
        frames[table] = pd.concat([frame, block])
        varied |= set(frame.index[positions])
        if table == "gpus" and cube is not None:     # efficiency factors are not drawn: the base id's
            cube = np.concatenate([cube, cube[:, np.tile(positions, d), :]], axis=1)
    drawn = replace(tables, gpus=frames["gpus"], models=frames["models"], efficiency=cube)
    suffix_of_row = np.char.add(VARIANT, draw_of_row.astype(str))
    rows = _variant_ids(rows, varied, suffix_of_row)
    if supply.pooled is not None:
        supply = replace(supply, pooled=_variant_ids(supply.pooled, varied, suffix_of_row))
    return drawn, rows, supply


def _variant_ids(frame: pd.DataFrame, varied: set[str], suffix_of_row: np.ndarray) -> pd.DataFrame:
    """`frame` with each id in `varied` (in any text column but the rows' identity) replaced by
    its row's draw entry."""
    from ..model.rows import IDENTITY_COLUMNS
    changed = {}
    for column in frame.columns:
        series = frame[column]
        if column in IDENTITY_COLUMNS or not (series.dtype == object or isinstance(series.dtype, pd.CategoricalDtype)
                                              or pd.api.types.is_string_dtype(series.dtype)):
            continue
        mask = series.isin(varied).to_numpy()
        if mask.any():
            text = series.to_numpy(dtype=object).copy()
            text[mask] = np.char.add(text[mask].astype(str), suffix_of_row[mask]).astype(object)
            changed[column] = text
    return frame.assign(**changed) if changed else frame


# --- portfolio settings: the supply arrays over the rows ----------------------------------------

SUPPLY_SETTINGS = ("reserve", "switch", "fallback_ramp")
"""The per-row arrays of `Supply` a portfolio's settings set (reserve share, switch and ramp
times), probed and drawn like the rows' columns."""


@dataclass
class SupplyEffect:
    """How the portfolio inputs move the supply settings over the base rows."""

    frame: pd.DataFrame              # one column per (setting, leading index), one row per base row
    effects: dict[str, Effect]


def _supply_frame(supply) -> pd.DataFrame:
    columns = {}
    for name in SUPPLY_SETTINGS:
        array = np.asarray(getattr(supply, name), dtype=float)
        for j, column in enumerate(array.reshape(-1, array.shape[-1])):
            columns[f"{name}/{j}"] = column
    return pd.DataFrame(columns)


def supply_probe(scenario: Scenario, inputs: list[Input], base_rows: pd.DataFrame) -> SupplyEffect | None:
    """The supply settings of the base rows and each portfolio input's effect on them, from
    `supply_for` with the input at its low and at its high (None when no input sets one)."""
    from ..model.options import supply_for
    chosen = [spec for spec in inputs
              if any(path[0] == "portfolios" for paths in spec.paths.values() for path in paths)]
    if not chosen:
        return None
    frame = _supply_frame(supply_for(scenario, base_rows))
    matrix = frame.to_numpy(float).T
    effects = {}
    for spec in chosen:
        probes = []
        for x in (spec.low, spec.high):
            cases = {name: (_with(scenario, case, spec, name, x)[0] if name in spec.paths else case)
                     for name, case in scenario.cases.items()}
            moved = Scenario(scenario.name, scenario.source, cases, scenario.assumptions_used, scenario.catalog)
            probes.append(_supply_frame(supply_for(moved, base_rows)).to_numpy(float).T)
        effect = _effect(spec, list(frame.columns), matrix, *probes)
        if effect.columns:
            effects[spec.key] = effect
    return SupplyEffect(frame, effects) if effects else None


def drawn_supply(supply, effect: SupplyEffect | None, inputs: list[Input], values: np.ndarray,
                 base_rows: pd.DataFrame):
    """The supply of a block of draws (rows laid out as `_tile_cases` lays them: case by case,
    each case's draws together) with each draw's portfolio settings."""
    if effect is None:
        return supply
    from dataclasses import replace
    d = values.shape[0]
    scenario = base_rows["scenario"].to_numpy()
    base_of_row, draw_of_row = [], []
    for case in dict.fromkeys(scenario):                   # cases (a few), not rows
        mine = np.flatnonzero(scenario == case)
        base_of_row.append(np.tile(mine, d))
        draw_of_row.append(np.repeat(np.arange(d), len(mine)))
    base_of_row, draw_of_row = np.concatenate(base_of_row), np.concatenate(draw_of_row)
    moved = moved_columns(effect.frame, effect.effects, inputs, values)       # column -> (draws, base rows)
    changed = {}
    for name in SUPPLY_SETTINGS:
        array = getattr(supply, name)
        flat = array.reshape(-1, array.shape[-1])
        mine = [(j, moved[f"{name}/{j}"]) for j in range(flat.shape[0]) if f"{name}/{j}" in moved]
        if mine:
            flat = flat.astype(float)                       # a copy: the tiled base stays as it is
            for j, draws in mine:
                flat[j] = draws[draw_of_row, base_of_row]
            changed[name] = flat.reshape(array.shape)
    return replace(supply, **changed) if changed else supply


# --- the run ---------------------------------------------------------------------------------

@dataclass
class Uncertainty:
    """What the draws gave: quantiles of every variable, the probability that each option is
    the cheapest (lowest Cost|Total) in each year, that demand goes unserved, that a limit
    binds; the inputs drawn and those held."""

    draws: int
    seed: int
    inputs: list[Input]
    held: list[str]
    quantiles: pd.DataFrame           # scenario, region, option, variable, unit, year, quantile, value
    cheapest: pd.DataFrame            # scenario, year, option, probability
    risks: pd.DataFrame               # scenario, region, option, year, event, probability
    samples: np.ndarray = field(repr=False, default=None)   # (draws, inputs)


def monte_carlo(scenario: Scenario, draws: int, seed: int = 0, vary: list[str] | None = None,
                correlated: list[tuple[list[str], float]] | None = None, scheduler=None) -> Uncertainty:
    """Draw every uncertain input (or the keys in `vary`) `draws` times and run the chain on
    all draws; see the module. The same seed gives the same draws and results. With
    `scheduler` (a `dask.distributed.Client` or its address) the chunks of draws run on the
    cluster's workers, each returning only its draws' variables (no rows): the quantiles are
    the same as here."""
    from ..model.lookup import tables_for
    from ..model.options import evaluate, supply_for
    from ..model.plan import VARIABLES, _report_factors
    if not 1 <= draws <= MAX_DRAWS:
        raise InputError(None, "draws", str(draws), f"a whole number of draws from 1 to {MAX_DRAWS:,}")
    inputs, held = uncertain_inputs(scenario)
    if vary is not None:
        unknown = [key for key in vary if key not in {spec.key for spec in inputs}]
        if unknown:
            raise InputError(None, "vary", repr(unknown[0]), "the key of an uncertain input: "
                             + ", ".join(spec.key for spec in inputs[:5]) + ", ...")
        inputs = [spec for spec in inputs if spec.key in vary]
    values = sample(inputs, draws, seed, correlated)
    probes = probe(scenario, inputs)
    tables = tables_for(scenario.catalog)
    from ..model.rows import scenario_rows
    base_rows = scenario_rows(scenario)
    base_supply = supply_for(scenario, base_rows)
    chunk = max(1, CHUNK_ROWS // len(base_rows))
    names = list(VARIABLES)
    factors = _report_factors()
    from .sweep import map_partitions

    table_effects = table_probe(scenario, inputs)
    supply_effect = supply_probe(scenario, inputs, base_rows)

    def run_chunk(start: int) -> dict:
        block = values[start:start + chunk]
        parts = [draw_rows(base, effects, inputs, block, case, start) for case, (base, effects) in probes.items()]
        rows = pd.concat(parts, ignore_index=True)       # case by case, each case's draws together
        draw_of_row = np.concatenate([np.repeat(np.arange(start, start + len(block)), len(base))
                                      for base, _ in probes.values()])
        supply = drawn_supply(_tile_cases(base_supply, base_rows, len(block)), supply_effect, inputs, block,
                              base_rows)
        drawn, rows, supply = drawn_catalogue(tables, table_effects, inputs, block, start, rows, supply,
                                              draw_of_row)
        cells, quantities, shared = evaluate(rows, drawn, supply)
        return _variables(cells, rows, quantities, shared, names, len(block))

    # chunks of rows (memory), here or on the cluster's workers; never one draw at a time
    results = map_partitions(run_chunk, range(0, draws, chunk), scheduler)
    collected = {key: [part[key] for part in results] for key in results[0]}
    stacked = {key: np.concatenate(parts, axis=0) for key, parts in collected.items()}
    series = list(dict.fromkeys(zip(base_rows["scenario"], base_rows["region"])))
    first = int(base_rows["year"].min())
    n_years = int(base_rows["year"].max()) - first + 1
    quantiles = _quantile_table(stacked, series, first, n_years, names, factors)
    cheapest, risks = _probabilities(stacked, series, first, n_years, base_supply.options)
    return Uncertainty(draws, seed, inputs, held, quantiles, cheapest, risks, values)


def _tile_cases(supply, base_rows: pd.DataFrame, k: int):
    """The base supply's arrays for draw rows laid out case by case, `k` draws each."""
    scenario = base_rows["scenario"].to_numpy()
    index = np.concatenate([np.tile(np.flatnonzero(scenario == case), k) for case in dict.fromkeys(scenario)])
    from ..model.options import Supply
    from ..model.shocks import Events
    e = supply.events
    # np.take keeps the arrays C-contiguous (a fancy index on an inner axis returns a
    # transposed view, and every stage would then stride through it)
    take = lambda array, axis: np.take(array, index, axis=axis)
    return Supply(supply.options, take(supply.shares, 2), take(supply.present, 1),
                  take(supply.reserve, 1), take(supply.switch, 1), take(supply.fallback, 2),
                  take(supply.fallback_ramp, 2),
                  Events(take(e.cut, 1), take(e.price, 1), take(e.quota, 1), take(e.open_share, 0),
                         take(e.start, 0)),
                  None if supply.pooled is None else supply.pooled.iloc[index].reset_index(drop=True))


def _series_key(cells, rows) -> tuple[np.ndarray, np.ndarray, int]:
    """For each series of the grid (``<case>#<draw>``, region): its draw (from 0 in the
    chunk), its base series (case, region) and how many base series there are."""
    # each series' first row, in the order the series are numbered (first appearance)
    _, first_rows = np.unique(cells.series, return_index=True)
    key = pd.DataFrame({"scenario": rows["scenario"].to_numpy()[first_rows],
                        "region": rows["region"].to_numpy()[first_rows]})
    case = key["scenario"].str.rsplit("#", n=1).str[0]
    draw = key["scenario"].str.rsplit("#", n=1).str[1].astype(int)
    draw = (draw - draw.min()).to_numpy()
    base_series = pd.Series(list(zip(case, key["region"]))).factorize()[0]
    return draw, base_series, int(base_series.max()) + 1


def _variables(cells, rows, quantities, shared, names, k: int, series_key: tuple | None = None) -> dict:
    """Every variable of every option as (draws, base series, years) arrays for one chunk
    (`series_key`: `_series_key` of the chunk, when known)."""
    from ..model.plan import VARIABLES
    draw, base_series, n_base = series_key if series_key is not None else _series_key(cells, rows)
    out = {}
    for option in shared["options"]:
        for variable in names:
            source = VARIABLES[variable][0]
            kind, _, name = source.rpartition(":")
            values = np.broadcast_to((shared if kind == "shared" else quantities[option])[name],
                                     (cells.n_series, cells.n_years))
            grid = np.full((k, n_base, cells.n_years), np.nan)
            grid[draw, base_series] = values
            out[(option, variable)] = grid
    return out


def _long(values: np.ndarray, axes: list[tuple[list[str], list]]) -> pd.DataFrame:
    """A long table of an n-d array: for each axis its column names and its labels (one tuple
    of column values per position), then ``value``, in the array's (C) order."""
    shape = values.shape
    columns = {}
    for axis, (names, labels) in enumerate(axes):
        inner = int(np.prod(shape[axis + 1:], dtype=int))
        outer = int(np.prod(shape[:axis], dtype=int))
        for j, name in enumerate(names):
            column = np.array([label[j] for label in labels], dtype=object)
            columns[name] = np.tile(np.repeat(column, inner), outer)
    return pd.DataFrame({**columns, "value": values.ravel()})


def _quantile_table(stacked, series, first, n_years, names, factors) -> pd.DataFrame:
    """Quantiles of every (option, variable), series and year, as one long table."""
    from ..model.plan import VARIABLES
    factor_of = dict(zip(names, factors))
    keys = list(stacked)
    # (keys, quantiles, series, years) -> (keys, series, quantiles, years)
    import warnings
    with warnings.catch_warnings():   # a value no draw defines (nothing served: no cost per token) is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        q = np.stack([np.nanquantile(stacked[key], QUANTILES, axis=0) * factor_of[key[1]] for key in keys])
    table = _long(q.transpose(0, 2, 1, 3), [
        (["option", "variable", "unit"], [(o, v, VARIABLES[v][2]) for o, v in keys]),
        (["scenario", "region"], series),
        (["quantile"], [(f"p{round(level * 100)}",) for level in QUANTILES]),
        (["year"], [(year,) for year in range(first, first + n_years)])])
    return table[["scenario", "region", "option", "variable", "unit", "year", "quantile", "value"]].astype(
        {"year": int, "value": float})


RISKS = {"demand unserved": ("Demand|Unserved", 0.0), "GPU allocation binds": ("Limits|GPU allocation|Binding", 0.5),
         "grid connection binds": ("Limits|Grid connection|Binding", 0.5),
         "build rate binds": ("Limits|Build rate|Binding", 0.5)}
"""Events whose probability the draws report: the variable and the level it must exceed."""


def _probabilities(stacked, series, first, n_years, options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """P(option cheapest) per (scenario, year) over the regions summed; P(demand unserved),
    P(each limit binds) per (scenario, region, option, year)."""
    total = np.stack([np.nan_to_num(stacked[(option, "Cost|Total")]) for option in options])   # (o, d, s, y)
    scenarios = list(dict.fromkeys(s for s, _ in series))
    scenario_of = np.array([scenarios.index(s) for s, _ in series])
    by_scenario = np.stack([total[:, :, scenario_of == c].sum(axis=2) for c in range(len(scenarios))], axis=2)
    winner = np.argmin(by_scenario, axis=0)                                                      # (d, c, y)
    share = (winner[None] == np.arange(len(options))[:, None, None, None]).mean(axis=1)          # (o, c, y)
    years = [(year,) for year in range(first, first + n_years)]
    cheapest = _long(share, [(["option"], [(o,) for o in options]), (["scenario"], [(s,) for s in scenarios]),
                             (["year"], years)])
    cheapest = cheapest.rename(columns={"value": "probability"})[["scenario", "year", "option", "probability"]]
    happens = np.stack([np.stack([(np.nan_to_num(stacked[(option, variable)]) > level).mean(axis=0)
                                  for variable, level in RISKS.values()]) for option in options])  # (o, e, s, y)
    risks = _long(happens, [(["option"], [(o,) for o in options]), (["event"], [(e,) for e in RISKS]),
                            (["scenario", "region"], series), (["year"], years)])
    risks = risks.rename(columns={"value": "probability"})[["scenario", "region", "option", "year", "event",
                                                            "probability"]]
    return cheapest.astype({"year": int}), risks.astype({"year": int})
