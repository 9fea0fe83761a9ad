"""Break-even values: how far an assumption must move before another option becomes the cheapest.

For one scenario variant and year, each lever (an assumption that drives one option's cost: the
frontier price trend, rent, the fleets' utilisation, ...) is swept over a wide range as extra
series of the same vectorised chain (one evaluation per refinement pass, no run per point); the
value nearest the default at which the cheapest option (lowest `Cost|Total` that year) changes
is the break-even, refined to a small fraction of the range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.errors import InputError
from ..model.lookup import tables_for
from ..model.options import OPTIONS, evaluate, pure_supply
from ..model.shocks import Events, compile_shocks
from ..model.rows import scenario_rows


@dataclass(frozen=True)
class Lever:
    """An assumption the sweep moves: a row column, set to a value or scaled by a factor."""

    column: str
    kind: str            # "value": the column takes the swept value; "scale": it is multiplied
    low: float
    high: float
    unit: str            # of the value shown
    to_shown: float      # shown = canonical x to_shown (e.g. USD/J -> USD/kWh)
    description: str


LEVERS: dict[str, Lever] = {
    "frontier-price-trend": Lever("fa_frontier_price_change", "value", -0.9, 0.5, "1/yr", 1.0,
                                  "yearly change of the frontier tier's API list prices"),
    "open-price-trend": Lever("fa_open_price_change", "value", -0.99, 0.2, "1/yr", 1.0,
                              "yearly change of the open tier's API list prices"),
    "api-floor-markup": Lever("fa_serving_markup", "value", 0.0, 3.0, "", 1.0,
                              "the labs' markup over their cost of serving (the API price floor)"),
    "host-price-trend": Lever("ho_host_price_change", "value", -0.6, 0.5, "1/yr", 1.0,
                              "yearly change of hosts' per-token prices for open-weight models"),
    "rent": Lever("ho_rental_price", "scale", 0.05, 5.0, "x", 1.0,
                  "rented GPUs' market prices, as a multiple of the library's (every generation and "
                  "year); rent never falls below its floor"),
    "rent-floor-markup": Lever("ho_floor_markup", "value", 0.0, 3.0, "", 1.0,
                               "the rental provider's markup over its cost of owning (the rent floor)"),
    "target-utilisation": Lever("target_utilisation", "value", 0.1, 1.0, "", 1.0,
                                "peak-hour busy share the rented and owned fleets are sized for"),
    "server-capex": Lever("do_server_capex", "scale", 0.1, 5.0, "x", 1.0,
                          "owned server prices, as a multiple of the library's"),
    "electricity-price": Lever("electricity_price", "value", 0.01 / 3.6e6, 0.5 / 3.6e6, "USD/kWh", 3.6e6,
                               "national electricity price (owned and domestically rented fleets)"),
}
GRID_POINTS = 48
PASSES = 3


def _cheapest(rows: pd.DataFrame, tables, lever: Lever, values: np.ndarray, year: int,
              events: Events | None = None, unserved_value: float = 0.0) -> np.ndarray:
    """The cheapest pure option's index at each swept value: every value is a series of its
    own, under the variant's shocks (`events`, compiled over `rows`). An option's cost counts
    the demand it leaves unserved (after shocks and limits) at `unserved_value` [USD/token],
    as `capacity robust` does: without shocks and limits nothing is unserved."""
    k = len(values)
    stacked = pd.concat([rows] * k, ignore_index=True)
    point = np.repeat(np.arange(k), len(rows))
    stacked["scenario"] = stacked["scenario"].astype(str) + "#" + pd.Series(point).astype(str)
    base = stacked[lever.column].to_numpy(dtype=float)
    stacked[lever.column] = values[point] if lever.kind == "value" else base * values[point]
    tiled = None if events is None else Events(
        np.tile(events.cut, (1, k, 1)), np.tile(events.price, (1, k)), np.tile(events.quota, (1, k)),
        np.tile(events.open_share, k), np.tile(events.start, k))
    cells, quantities, _ = evaluate(stacked, tables, pure_supply(stacked, tiled))
    column = year - cells.first_grid_year
    # each series is one (point, region): add the regions of a point up
    point_of_series = np.zeros(cells.n_series, dtype=np.int64)
    point_of_series[cells.series] = point
    totals = np.stack([np.bincount(point_of_series, weights=np.nan_to_num(
        quantities[option]["total"][:, column] + quantities[option]["unserved"][:, column] * unserved_value),
        minlength=k) for option in OPTIONS], axis=1)
    return np.argmin(totals, axis=1)


def breakeven(scenario, variant: str | None = None, year: int | None = None,
              levers: list[str] | None = None) -> pd.DataFrame:
    """For each lever: its default, the cheapest option at the default, and the break-even value
    nearest the default (below or above it) with the option that becomes the cheapest there.

    `scenario` is a loaded `Scenario`; `variant` one of its cases (default: the first); `year`
    one of its years (default: the last). Values are in the lever's shown unit.
    """
    names = list(scenario.cases)
    variant = names[0] if variant is None else variant
    if variant not in names:
        raise InputError(None, "variant", repr(variant), "one of " + ", ".join(names))
    rows = scenario_rows(scenario)
    rows = rows[rows["scenario"] == variant].reset_index(drop=True)
    years = sorted(int(y) for y in rows["year"].unique())
    year = years[-1] if year is None else int(year)
    if year not in years:
        raise InputError(None, "year", str(year), f"a year of the horizon, {years[0]}-{years[-1]}")
    unknown = [name for name in (levers or []) if name not in LEVERS]
    if unknown:
        raise InputError(None, "lever", repr(unknown[0]), "one of " + ", ".join(LEVERS))
    tables = tables_for(scenario.catalog)
    case = scenario.cases[variant]
    events = compile_shocks({variant: case}, rows)
    value = case.robustness.unserved_value or 0.0
    records = []
    for name in levers or list(LEVERS):
        lever = LEVERS[name]
        column = rows[lever.column].to_numpy(dtype=float)
        default = float(np.nanmax(column)) if lever.kind == "value" else 1.0
        at_default = int(_cheapest(rows, tables, lever, np.array([default]), year, events, value)[0])
        record = {"lever": name, "description": lever.description, "unit": lever.unit,
                  "default": default * lever.to_shown, "cheapest": OPTIONS[at_default],
                  "breakeven_below": np.nan, "cheapest_below": None,
                  "breakeven_above": np.nan, "cheapest_above": None}
        for side, (start, end) in (("below", (lever.low, default)), ("above", (default, lever.high))):
            if not start < end:
                continue
            low, high = start, end
            found = None
            for _ in range(PASSES):
                grid = np.linspace(low, high, GRID_POINTS)
                cheapest = _cheapest(rows, tables, lever, grid, year, events, value)
                changed = np.flatnonzero(cheapest != at_default)
                if not changed.size:
                    break
                # the change nearest the default, and the grid step that brackets it
                index = changed[-1] if side == "below" else changed[0]
                found = int(cheapest[index])
                low, high = (grid[index], grid[index + 1]) if side == "below" else (grid[index - 1], grid[index])
            if found is not None:
                record[f"breakeven_{side}"] = (low + high) / 2 * lever.to_shown
                record[f"cheapest_{side}"] = OPTIONS[found]
        records.append(record)
    return pd.DataFrame.from_records(records)


def to_text(table: pd.DataFrame, variant: str, year: int) -> str:
    """The break-even table for a terminal."""
    lines = [f"break-even values, {variant} {year} (the cheapest option by Cost|Total that year, "
             "unserved demand counted at its value)"]
    for row in table.itertuples(index=False):
        unit = f" {row.unit}" if row.unit and row.unit != "x" else ("x" if row.unit == "x" else "")
        show = lambda value: f"{value:.4g}{unit}"
        parts = [f"{row.lever}: default {show(row.default)} -> {row.cheapest} cheapest"]
        for side in ("below", "above"):
            value, option = getattr(row, f"breakeven_{side}"), getattr(row, f"cheapest_{side}")
            if isinstance(option, str):
                parts.append(f"at {show(value)} ({side} the default): {option}")
        if len(parts) == 1:
            parts.append("no change within the swept range")
        lines.append("  " + "; ".join(parts))
    return "\n".join(lines)
