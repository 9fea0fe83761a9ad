"""run(scenario) -> Plan: the chain over every option, and the tidy results table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.catalog import Catalog, Row
from ..data.errors import InputError
from ..data.scenario import Scenario, load_scenario
from ..data.units import convert
from .lookup import tables_for
from .options import TIERS, evaluate, supply_for
from .rows import scenario_rows

RESULT_COLUMNS = ["scenario", "region", "option", "variable", "unit", "year", "value"]
SCHEMA_VERSION = 1
"""Version of the results table's layout in exported JSON (`capacity diff` reads it back)."""

# variable -> (where it comes from, canonical unit, report unit)
VARIABLES: dict[str, tuple[str, str, str]] = {
    "Demand|Tokens": ("shared:tokens", "token/yr", "token/yr"),
    "Demand|Tokens|Input": ("shared:input_tokens", "token/yr", "token/yr"),
    "Demand|Tokens|Output": ("shared:output_tokens", "token/yr", "token/yr"),
    "Demand|Peak output rate": ("shared:peak_output_rate", "token/s", "token/s"),
    "Capacity|GPUs": ("gpus", "GPU", "GPU"),
    "Capacity|GPUs|Offshore": ("gpus_offshore", "GPU", "GPU"),
    "Capacity|Utilisation": ("utilisation", "", "%"),
    "Power|IT": ("it_power", "W", "MW"),
    "Power|Facility": ("facility_power", "W", "MW"),
    "Power|IT|Offshore": ("it_power_offshore", "W", "MW"),
    "Power|Facility|Offshore": ("facility_power_offshore", "W", "MW"),
    "Energy|Electricity": ("energy", "J/yr", "TWh/yr"),
    "Energy|Electricity|Offshore": ("energy_offshore", "J/yr", "TWh/yr"),
    "Grid|Share of consumption": ("share_consumption", "", "%"),
    "Grid|Share of peak demand": ("share_peak", "", "%"),
    "Demand|Unserved": ("unserved", "token/yr", "token/yr"),
    "Demand|Unserved|Share": ("unserved_share", "", "%"),
    "Demand|Served below frontier": ("below_frontier", "token/yr", "token/yr"),
    "Capacity|Shortfall": ("shortfall", "GPU", "GPU"),
    "Limits|GPU allocation|Binding": ("binds_gpu_allocation", "0/1", "0/1"),
    "Limits|Grid connection|Binding": ("binds_grid_connection", "0/1", "0/1"),
    "Limits|Build rate|Binding": ("binds_build_rate", "0/1", "0/1"),
    "Cost|Total": ("total", "USD/yr", "USD/yr"),
    "Cost|Capital": ("capital", "USD/yr", "USD/yr"),
    "Cost|Operating": ("operating", "USD/yr", "USD/yr"),
    "Cost|Operating|Price floor": ("floor_uplift", "USD/yr", "USD/yr"),
    "Cost|Per million tokens": ("per_mtok", "USD/Mtok", "USD/Mtok"),
    "Cost|Per request": ("per_request", "USD", "USD"),
    "Cost|NPV": ("npv", "USD", "USD"),
    "Sovereignty|Domestic share": ("domestic_share", "", "%"),
    "Emissions|CO2": ("co2", "kg/yr", "t CO2/yr"),
    "Emissions|CO2|Offshore": ("co2_offshore", "kg/yr", "t CO2/yr"),
}
"""Every variable in `Plan.results`. GPUs, power, energy, grid shares and emissions count what
stands on national soil (rented GPUs in a domestic cloud region included); ``|Offshore``
variables what stands abroad. `Sovereignty|Domestic share` is the share of tokens served by
capacity the country owns (the domestic buildout's own fleet, and a pooled machine at home that
it co-owns): rented GPUs and foreign APIs are not. `Cost|NPV` is the present value, at the scenario's discount rate, of `Cost|Total` from the
first year of the horizon to the row's year. `Capacity|Utilisation` is the average busy share
of every GPU the option provisions, at home and abroad (mean GPUs kept busy over the year /
GPUs provisioned; empty where there is no fleet). `Cost|Per request` is `Cost|Total` / requests
per year, the demand-weighted average over use cases. `Cost|Operating|Price floor` is the
part of API spend that the serving-cost floor adds: what the labs' own cost of serving (with
their markup) charges above the list price on its trend; zero where the list price is higher.
`Demand|Unserved` is the demand no route of the option serves (after shocks, limits and the
fallback chain; `|Share` of `Demand|Tokens`); `Demand|Served below frontier` the frontier-tier
tokens served by open-weight models (any route but the API); `Capacity|Shortfall` the GPUs the
option's domestic routes would need beyond what the limits let stand; `Limits|*|Binding` is 1
in a year the limit cuts what the option's domestic capacity could carry, else 0."""

REQUIRED_VARIABLES = [
    "Demand|Tokens", "Capacity|GPUs", "Power|IT", "Power|Facility", "Energy|Electricity",
    "Grid|Share of consumption", "Grid|Share of peak demand", "Cost|Total", "Cost|Capital",
    "Cost|Operating", "Cost|Per million tokens", "Sovereignty|Domestic share", "Emissions|CO2",
]


def _report_unit_factor(canonical: str, report: str) -> float:
    if canonical == report:
        return 1.0
    report_parsable = report.replace("t CO2", "t").replace("%", "percent")
    return float(convert(1.0, canonical, report_parsable))


HEADLINE_VARIABLES = {  # variable -> (column, factor from the report unit)
    "Capacity|GPUs": ("GPUs", 1.0),
    "Power|Facility": ("MW", 1.0),
    "Grid|Share of consumption": ("% of electricity", 1.0),
    "Cost|Total": ("MUSD/yr", 1e-6),
    "Cost|Per million tokens": ("USD/Mtok", 1.0),
    "Sovereignty|Domestic share": ("% domestic", 1.0),
}


def _refuse_unknown(value: str, known, what: str) -> None:
    if value in known:
        return
    import difflib
    known = [str(item) for item in known]
    close = difflib.get_close_matches(str(value), known, n=1)
    raise InputError(None, what, repr(value), "one of " + ", ".join(known),
                     f"did you mean {close[0]!r}?" if close else None)


@dataclass(repr=False)
class Plan:
    """The outcome of a run: results, the rows it ran on, and the assumptions it used.

    ``plan.results`` is the long table (`RESULT_COLUMNS`), one value a row; ``plan.table(var)``
    one variable as years x (scenario, region, option); ``plan.headline()`` the headline figures
    of a year; ``plan.to_excel(path)``, ``to_csv``, ``to_json``, ``to_iamc`` write it.
    """

    scenario: Scenario
    results: pd.DataFrame
    rows: pd.DataFrame
    throughput: pd.DataFrame
    chain: tuple = ()
    """(quantities by option, shared quantities): the chain's intermediate arrays, for views
    that show how a figure is built (the workbook's What-if sheet)."""
    uncertainty: Any = None
    """`capacity.analysis.uncertainty.Uncertainty` when the run made draws (`run(draws=N)`):
    its quantiles, the probability each option is the cheapest, and the risks."""
    _calibration: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def assumptions(self) -> pd.DataFrame:
        """Every assumption-library row the scenario took a value from, with its source."""
        used: dict[str, tuple[Row, list[str]]] = {}
        for case, rows in self.scenario.assumptions_used.items():
            for path, row in rows.items():
                entry = used.setdefault(row.key, (row, []))
                entry[1].append(".".join(map(str, path)))
        records = [{
            "id": key, "table": row.table, "item": row.id, "parameter": row.parameter,
            "value": row.value_given, "unit": row.unit_given,
            "low": row.given(row.low), "high": row.given(row.high), "source": row.source,
            "url": row.url,
            "source_date": row.source_date, "quality": row.quality or "unrated", "notes": row.notes,
            "used_for": ", ".join(sorted(set(paths)))} for key, (row, paths) in sorted(used.items())]
        return pd.DataFrame.from_records(records)

    @property
    def outside_calibration(self) -> pd.DataFrame:
        """What in this run lies outside the range the throughput model was calibrated on:
        one row per finding (kind: prompt length, output length, GPU, model family; the item;
        what was found; what the measurements cover; options, use cases, first year). Empty
        when nothing does (`capacity.model.coverage`)."""
        return self._coverage()[0]

    @cached_property
    def implausible(self) -> pd.DataFrame:
        """Where an option's power or energy goes beyond what a national grid has carried (the
        scenario's `plausibility` thresholds): scenario, region, option, check, the first year,
        the largest value and the threshold, in % (`capacity.model.plausibility`). Empty when
        nothing is."""
        from .plausibility import flags
        return flags(self.results, self.scenario.cases)

    @property
    def calibration_warnings(self) -> list[str]:
        """`outside_calibration` in a few lines, for a warning."""
        from .coverage import describe
        outside, measurements = self._coverage()
        return describe(outside, measurements)

    def _coverage(self) -> tuple[pd.DataFrame, int]:
        if self._calibration is None:
            from .coverage import calibrated_range, outside_calibration
            calibrated = calibrated_range(self.scenario.catalog)
            self._calibration = (outside_calibration(self.throughput, self.scenario.catalog,
                                                     calibrated), calibrated.measurements)
        return self._calibration

    @property
    def quantiles(self) -> pd.DataFrame:
        """With draws: every variable's P5, P25, P50, P75 and P95 (columns as `results`, plus
        ``quantile``: p5 ... p95). Without draws: an empty table."""
        if self.uncertainty is None:
            return pd.DataFrame(columns=RESULT_COLUMNS[:-1] + ["quantile", "value"])
        return self.uncertainty.quantiles

    @property
    def table_with_quantiles(self) -> pd.DataFrame:
        """`results` with a ``quantile`` column (empty: the deterministic run), followed by the
        quantile rows when draws were made: what the CSV export writes."""
        if self.uncertainty is None:
            return self.results
        return pd.concat([self.results.assign(quantile=""), self.quantiles[RESULT_COLUMNS[:-1]
                          + ["quantile", "value"]]], ignore_index=True)[RESULT_COLUMNS[:-1] + ["quantile", "value"]]

    @property
    def options(self) -> tuple[str, ...]:
        """The options of the run, in the order views show them: the pure options, then the
        portfolios (the default `hedged` and the scenario's own)."""
        return tuple(self.chain[1]["options"]) if self.chain else tuple(
            dict.fromkeys(self.results["option"]))

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.results["year"].unique())

    def table(self, variable: str, option: str | None = None) -> pd.DataFrame:
        """One variable as a years x (scenario, region, option) table, in its report unit
        (`VARIABLES`). An unknown variable or option raises `InputError` with the valid ones."""
        _refuse_unknown(variable, list(VARIABLES), "variable")
        data = self.results[self.results["variable"] == variable]
        if option is not None:
            _refuse_unknown(option, list(self.options), "option")
            data = data[data["option"] == option]
        return data.pivot_table(index="year", columns=["scenario", "region", "option"],
                                values="value", sort=False)

    def headline(self, year: int | None = None) -> pd.DataFrame:
        """The headline figures of `year` (default: the last), one row per (scenario, region,
        option): GPUs and facility MW on national soil, % of national electricity, MUSD/yr,
        USD per million tokens and the domestic share."""
        year = self.years[-1] if year is None else int(year)
        _refuse_unknown(year, self.years, "year")
        rows = self.results[(self.results["year"] == year)
                            & self.results["variable"].isin(list(HEADLINE_VARIABLES))]
        table = rows.pivot_table(index=["scenario", "region", "option"], columns="variable",
                                 values="value", sort=False)
        table = table[list(HEADLINE_VARIABLES)]
        table = table * np.array([factor for _, factor in HEADLINE_VARIABLES.values()])
        table.columns = [column for column, _ in HEADLINE_VARIABLES.values()]
        return table

    def __repr__(self) -> str:
        years = self.years
        names = list(self.scenario.cases)
        regions = sorted(self.results["region"].unique())
        return (f"<capacity.Plan {self.scenario.name!r}: scenarios {', '.join(names)}; "
                f"regions {', '.join(regions)}; years {years[0]}-{years[-1]}\n"
                f"  options: {', '.join(self.options)}\n"
                f"  {self.results['variable'].nunique()} variables, {len(self.results):,} rows "
                f"(plan.results; plan.table('Capacity|GPUs'); plan.headline())>")

    def _repr_html_(self) -> str:
        year = self.years[-1]
        formats = {"GPUs": "{:,.0f}", "MW": "{:,.1f}", "% of electricity": "{:.2f}",
                   "MUSD/yr": "{:,.0f}", "USD/Mtok": "{:.3f}", "% domestic": "{:.0f}"}
        table = self.headline(year).to_html(
            formatters={column: text.format for column, text in formats.items()})
        from html import escape
        return (f"<p><b>capacity plan {escape(self.scenario.name)}</b>: scenarios "
                f"{escape(', '.join(self.scenario.cases))}, years {self.years[0]}&ndash;{year}, "
                f"{len(self.results):,} result rows. Headline figures for {year} (GPUs and MW on "
                f"national soil):</p>" + table)

    def to_excel(self, path: str | Path, robustness=None) -> Path:
        """Write the results workbook (Summary, Comparison, option sheets, Assumptions,
        Sources, Method; a Robustness sheet when given `capacity.robust`'s result); the file is
        replaced atomically. Returns the path."""
        from ..io.export.writers import write_excel  # the one door from model to io: Plan.to_*
        return write_excel(self, path, robustness)

    def to_csv(self, path: str | Path | None = None, sep: str = ",", decimal: str = ".") -> str | Path:
        """The tidy results table as CSV (with draws: a ``quantile`` column and the quantile
        rows): written atomically to `path`, or returned as text. ``sep=";", decimal=","``
        writes what a decimal-comma Excel (Dutch, German...) opens directly; `sep` may also be
        ``"tab"``."""
        from ..io.export.tabular import to_csv
        from ..io.export.writers import write_csv
        return to_csv(self.table_with_quantiles, sep, decimal) if path is None else write_csv(self, path, sep, decimal)

    def to_json(self, path: str | Path | None = None) -> str | Path:
        """``{"schema_version": 1, "results": [...]}`` (with draws also ``quantiles``,
        ``cheapest_probability`` and ``risks``): written atomically, or returned as text."""
        from ..io.export.writers import json_text, write_json
        return json_text(self) if path is None else write_json(self, path)

    def to_iamc(self, path: str | Path | None = None) -> str | Path:
        """The IAMC wide table (pyam reads it): to a ``.csv`` or ``.xlsx`` path, written
        atomically, or returned as CSV text."""
        from ..io.export.writers import iamc_csv, write_iamc_file
        return iamc_csv(self) if path is None else write_iamc_file(self, path)


def run(source_or_scenario: Scenario | str | Path | None = None,
        overrides: Mapping[str, Any] | Iterable[str] | None = None,
        assumptions: str | Path | Iterable[str | Path] | None = None, *,
        catalog: Catalog | None = None) -> Plan:
    """Evaluate every option of every case of a scenario; see `VARIABLES` for the results.
    (`capacity.run` adds the Monte Carlo: ``draws=N, seed=S``.)

    `source_or_scenario` is a loaded `Scenario`, or anything `load_scenario` takes (a preset
    name, a YAML file, a filled Excel template; None for the default scenario), loaded with
    `overrides` and `assumptions` as `load_scenario` reads them.

    >>> plan = capacity.run("germany", overrides={"demand.scale": 2})
    >>> plan.table("Capacity|GPUs")
    """
    if isinstance(source_or_scenario, Scenario):
        if overrides or assumptions or catalog is not None:
            raise InputError(None, "overrides", "overrides or assumptions given with a loaded "
                             "Scenario", "a scenario source (a preset name or a file) to load "
                             "them with", "or give them to capacity.load_scenario")
        scenario = source_or_scenario
    else:
        scenario = load_scenario(source_or_scenario, overrides, assumptions, catalog=catalog)
    rows = scenario_rows(scenario)
    tables = tables_for(scenario.catalog)
    cells, quantities, shared = evaluate(rows, tables, supply_for(scenario, rows))
    _check_feasible(scenario, rows, quantities)
    results = _tidy(cells, rows, quantities, shared)
    _check_finite(scenario, results)
    return Plan(scenario=scenario, results=results, rows=rows,
                throughput=_throughput_table(rows, quantities, shared["work"]),
                chain=(quantities, shared))


def _check_finite(scenario: Scenario, results: pd.DataFrame) -> None:
    """Refuse inputs so extreme that a result overflows to infinity (each input is within its
    bounds, but their product is not), naming the first such result."""
    infinite = np.isinf(results["value"].to_numpy())
    if infinite.any():
        first = results[infinite].iloc[0]
        raise InputError(scenario.source, None, f"inputs so extreme that {first['variable']}"
                         f"[{first['option']}, {first['year']}, {first['region']}, "
                         f"{first['scenario']}] is infinite",
                         "values nearer the sourced ranges (see the Assumptions sheet)")


def _check_feasible(scenario: Scenario, rows: pd.DataFrame, quantities: dict) -> None:
    """Refuse a model that cannot be served on its GPU at all (memory or latency target)."""
    prefixes = {"frontier-api": ("fa", "offshore"), "hosted-open-weight": ("ho", None),
                "domestic-buildout": ("do", None)}
    for option, (prefix, sub) in prefixes.items():
        tput = quantities[option]["_throughput"]
        bad = np.argwhere(np.isnan(tput.output_tokens_per_s_per_gpu))
        if bad.size:
            row, tier = bad[0]
            model = rows[f"{prefix}_{TIERS[tier]}_model"].iloc[row]
            gpu = rows[f"{prefix}_gpu"].iloc[row]
            tpot = rows[f"{prefix}_max_tpot"].iloc[row]
            key = f"options.{option}" + (f".{sub}" if sub else "")
            raise InputError(scenario.source, key + f" (scenario {rows['scenario'].iloc[row]})",
                             f"{model} on {gpu} at {rows[f'{prefix}_precision'].iloc[row]}"
                             + (f" with max_tpot_ms {tpot * 1e3:g}" if np.isfinite(tpot) else ""),
                             "a model whose weights and one sequence's KV cache fit the GPUs of one "
                             "interconnect domain, within the latency target",
                             "choose a larger GPU, a lower precision, or a looser latency target")


@lru_cache(maxsize=None)
def _report_factors() -> np.ndarray:
    return np.array([_report_unit_factor(canonical, report) for _, canonical, report in VARIABLES.values()])


def _tidy(cells, rows, quantities, shared) -> pd.DataFrame:
    """Long table: one value a row, in report units, for every present (series, year), in the
    order option, variable, series, year; built from one stacked array per option."""
    present = shared["present"].ravel()
    key = rows[["scenario", "region"]].drop_duplicates().reset_index(drop=True)
    series = np.repeat(np.arange(cells.n_series), cells.n_years)[present]
    years = np.tile(cells.first_grid_year + np.arange(cells.n_years), cells.n_series)[present]
    scenario_of, region_of = key["scenario"].to_numpy()[series], key["region"].to_numpy()[series]
    grid = (cells.n_series, cells.n_years)
    names = list(VARIABLES)
    n_variables = len(names)
    columns = {name: [] for name in ("scenario", "region", "option", "variable", "unit", "year", "value")}
    for option in shared["options"]:
        mine = quantities[option]["_present"].ravel()[present]
        stacked = np.stack([np.broadcast_to((shared if kind == "shared" else quantities[option])[name], grid)
                            .ravel()[present][mine]
                            for kind, _, name in (source.rpartition(":") for source, _, _ in VARIABLES.values())])
        n = int(mine.sum())
        columns["value"].append((stacked * _report_factors()[:, None]).ravel())
        columns["scenario"].append(np.tile(scenario_of[mine], n_variables))
        columns["region"].append(np.tile(region_of[mine], n_variables))
        columns["year"].append(np.tile(years[mine], n_variables))
        columns["option"].append(np.full(n * n_variables, option, dtype=object))
        columns["variable"].append(np.repeat(np.array(names, dtype=object), n))
        columns["unit"].append(np.repeat(np.array([report for _, _, report in VARIABLES.values()], dtype=object), n))
    results = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
    results["year"] = results["year"].astype(int)
    return results[RESULT_COLUMNS]


def _throughput_table(rows: pd.DataFrame, quantities: dict, work: dict) -> pd.DataFrame:
    """Per-GPU throughput each option's fleet was sized with, by row and tier, with the request
    shape and the tokens served (what the calibration guard checks)."""
    frames = []
    for option, prefix in (("frontier-api", "fa"), ("hosted-open-weight", "ho"), ("domestic-buildout", "do")):
        tput = quantities[option]["_throughput"]
        bought = rows["do_gpu_bought"] if option == "domestic-buildout" else rows[f"{prefix}_gpu"]
        for t, tier in enumerate(TIERS):
            frames.append(pd.DataFrame({
                "scenario": rows["scenario"], "region": rows["region"], "year": rows["year"],
                "use_case": rows["use_case"], "option": option, "tier": tier,
                "model": rows[f"{prefix}_{tier}_model"], "gpu": rows[f"{prefix}_gpu"],
                "gpu_bought": bought, "input_tokens": work["input_per_call"],
                "output_tokens": work["output_per_call"],
                "tokens": work["input_tokens"][:, t] + work["output_tokens"][:, t],
                "output_tokens_per_s_per_gpu": tput.output_tokens_per_s_per_gpu[:, t],
                "gpus_per_replica": tput.gpus_per_replica[:, t], "batch_size": tput.batch_size[:, t],
                "bound": tput.bound[:, t]}))
    return pd.concat(frames, ignore_index=True)
