"""Checks on a plan's results: small expressions that pass or fail, for CI and reports.

Two forms, one expression per check (whitespace is free)::

    VARIABLE[OPTION, YEAR] OP NUMBER [UNIT]
    VARIABLE[OPTION, YEAR, REGION] OP NUMBER [UNIT]
    VARIABLE[OPTION, YEAR, REGION, SCENARIO] OP NUMBER [UNIT]
    cheapest(YEAR[, REGION[, SCENARIO]]) == OPTION

OP is one of ``<= < >= > == !=``. A bare NUMBER is read in the variable's unit in the results;
a NUMBER with a UNIT is converted into it (``<= 0.5 GW`` on a variable in MW is ``<= 500 MW``).
``cheapest(...) == OPTION`` holds when OPTION has the lowest ``Cost|Total`` that year (any of
tied options counts as cheapest). When the region or scenario is not given, a check must hold
for every region and scenario in the results; the message names the worst one.

>>> checks = [parse_check("Grid|Share of consumption[domestic-buildout, 2030] <= 2 %")]
>>> print(to_text(evaluate_checks(plan.results, checks)))      # doctest: +SKIP
Grid|Share of consumption[domestic-buildout, 2030] = 1.23 % <= 2 %: ok
"""

from __future__ import annotations

import difflib
import json
import math
import operator
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Callable, NoReturn

import numpy as np
import pandas as pd
import pint

from ..data.errors import InputError
from ..data.reading import check_text_value
from ..data.units import convert
from ..data.units import unit as parse_unit

GRAMMAR = ("'VARIABLE[OPTION, YEAR(, REGION(, SCENARIO))(, pNN)] OP NUMBER (UNIT)' or "
           "'cheapest(YEAR(, REGION(, SCENARIO))) == OPTION', with OP one of <=, <, >=, >, ==, !=, "
           "and pNN a quantile of the draws (p5, p25, p50, p75, p95)")

COMPARISONS: dict[str, Callable] = {
    "<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt,
    "==": np.isclose, "!=": lambda a, b: ~np.isclose(a, b),
}
"""Operator text -> vectorised test. Equality is read with numpy's default tolerance."""

COST_VARIABLE = "Cost|Total"

_OPERATOR = r"<=|>=|==|!=|<|>"
_COMPARISON = re.compile(
    rf"^(?P<variable>[^\[\]]*)\[(?P<selectors>[^\[\]]*)\]\s*(?P<op>{_OPERATOR})?\s*(?P<rhs>.*)$")
_CHEAPEST = re.compile(
    rf"^cheapest\s*\((?P<selectors>[^()]*)\)\s*(?P<op>{_OPERATOR})?\s*(?P<option>.*)$")
_NUMBER_AND_UNIT = re.compile(
    r"^(?P<number>[+-]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>.*)$")
_YEAR = re.compile(r"^\d{4}$")
_SELECTOR_NAMES = ("OPTION", "YEAR", "REGION", "SCENARIO")


@dataclass(frozen=True)
class Check:
    """One parsed check. `kind` is 'compare' or 'cheapest'; `text` is the expression (runs of
    whitespace folded to one space)."""

    text: str
    kind: str
    option: str
    year: int
    region: str | None = None
    scenario: str | None = None
    variable: str | None = None
    op: str = "=="
    number: float | None = None
    unit: str | None = None
    where: str | None = None
    quantile: str | None = None     # p5 ... p95: a quantile of the draws, not the run's value

    @property
    def subject(self) -> str:
        """The left-hand side, normalised: 'Capacity|GPUs[domestic-buildout, 2031]'."""
        if self.kind == "cheapest":
            return f"cheapest({', '.join(self._selectors()[1:])})"
        return f"{self.variable}[{', '.join(self._selectors())}]"

    @property
    def variable_looked_at(self) -> str:
        """The results variable the check reads: its VARIABLE, or Cost|Total for cheapest()."""
        return self.variable if self.variable is not None else COST_VARIABLE

    def _selectors(self) -> list[str]:
        given = [self.option, str(self.year), self.region, self.scenario, self.quantile]
        return [value for value in given if value is not None]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check; `actual` is a number, or the cheapest option's name."""

    expr: str
    ok: bool
    actual: float | str
    unit: str
    message: str


# ---------------------------------------------------------------------------------------------
# parsing

def parse_check(expression: str, where: str | None = None) -> Check:
    """Parse one check expression; InputError (naming `where`) when it does not fit the grammar."""
    if not isinstance(expression, str) or not expression.strip():
        _malformed(where, expression, "an empty expression" if isinstance(expression, str)
                   else f"{type(expression).__name__} {expression!r}")
    check_text_value(expression, where, "check")    # no control characters, not too long
    text = " ".join(expression.split())
    if re.match(r"^cheapest\s*\(", text):
        return _parse_cheapest(text, where)
    return _parse_comparison(text, where)


def _parse_comparison(text: str, where: str | None) -> Check:
    match = _COMPARISON.match(text)
    if not match:
        _malformed(where, text, f"{text!r}, which has no VARIABLE[...] selector")
    variable = match["variable"].strip()
    if not variable:
        _malformed(where, text, "no VARIABLE before '['")
    selectors = _split_selectors(match["selectors"], 2, where, text)
    op = _operator(match["op"], where, text)
    rhs = match["rhs"].strip()
    number_and_unit = _NUMBER_AND_UNIT.match(rhs)
    if not number_and_unit:
        _malformed(where, text, f"{rhs!r} after {op!r}" if rhs else f"no NUMBER after {op!r}",
                   "a NUMBER, optionally followed by a UNIT, e.g. '2 %' or '0.5 GW'")
    unit_text = number_and_unit["unit"].strip() or None
    if unit_text is not None:
        try:
            parse_unit(_pint_unit(unit_text))
        except (pint.errors.PintError, AttributeError, TypeError, ValueError, SyntaxError,
                KeyError, AssertionError):
            _malformed(where, text, f"unit {unit_text!r}, which is not a unit",
                       "a unit such as %, MW, GW, USD/Mtok, t CO2/yr")
    number = float(number_and_unit["number"].replace("_", ""))
    if not math.isfinite(number):
        _malformed(where, text, f"the number {number_and_unit['number']!r}, beyond float range",
                   "a finite NUMBER, e.g. 5e9")
    return Check(text=text, kind="compare", variable=variable, op=op,
                 number=number, unit=unit_text,
                 where=where, **selectors)


def _parse_cheapest(text: str, where: str | None) -> Check:
    match = _CHEAPEST.match(text)
    if not match:
        _malformed(where, text, f"{text!r}, whose 'cheapest(' is not closed by ')'")
    selectors = _split_selectors(match["selectors"], 1, where, text, first=1)
    op = _operator(match["op"], where, text)
    if op != "==":
        _malformed(where, text, f"{op!r} after cheapest(...)", "'cheapest(YEAR) == OPTION'")
    option = match["option"].strip()
    if not option or re.search(r"[\s,()\[\]]", option):
        _malformed(where, text, f"{option!r} after '=='" if option else "no OPTION after '=='",
                   "one OPTION name, e.g. 'cheapest(2030) == frontier-api'")
    return Check(text=text, kind="cheapest", option=option, where=where, **selectors)


def _split_selectors(inside: str, minimum: int, where: str | None, text: str,
                     first: int = 0) -> dict:
    """'domestic-buildout, 2031, NLD' -> {'option': ..., 'year': 2031, 'region': 'NLD'}."""
    names = _SELECTOR_NAMES[first:]
    values = [value.strip() for value in inside.split(",")]
    quantile = [value for value in values if re.fullmatch(r"[pP]\d{1,2}", value)]
    if quantile and first == 0:
        values = [value for value in values if value not in quantile]
    if len(values) < minimum or len(values) > len(names) or not all(values):
        _malformed(where, text, f"selectors [{inside.strip()}]",
                   f"{minimum} to {len(names)} non-empty, comma-separated selectors: "
                   + ", ".join(names))
    selectors: dict[str, str | int] = dict(zip((name.lower() for name in names), values))
    year = str(selectors["year"])
    if not _YEAR.match(year):
        _malformed(where, text, f"{year!r} as YEAR",
                   "a four-digit year such as 2030, in the order " + ", ".join(names))
    selectors["year"] = int(year)
    if quantile and first == 0:
        if len(quantile) > 1 or quantile[0].lower() not in QUANTILE_NAMES:
            _malformed(where, text, f"quantile {', '.join(quantile)}", "one of " + ", ".join(QUANTILE_NAMES))
        selectors["quantile"] = quantile[0].lower()
    return selectors


QUANTILE_NAMES = ("p5", "p25", "p50", "p75", "p95")


def _operator(op: str | None, where: str | None, text: str) -> str:
    if op is None:
        _malformed(where, text, "no comparison operator", "one of <=, <, >=, >, ==, !=")
    return op


def _malformed(where: str | None, text: object, found: str, expected: str = GRAMMAR) -> NoReturn:
    raise InputError(where, f"check {text!r}" if isinstance(text, str) else "check", found,
                     expected if expected == GRAMMAR else f"{expected} (grammar: {GRAMMAR})")


def _pint_unit(text: str) -> str:
    """A results/report unit as pint reads it: 't CO2/yr' -> 'tonne/yr', '%' -> 'percent'.

    Tonnes of CO2 are spelled out ('kt CO2' is kilotonnes; to pint 'kt' alone is a knot).
    """
    text = re.sub(r"\b([kMGT]?)t\s*CO2(?:e|eq)?\b", r"\1tonne", text)
    text = re.sub(r"\s*\bCO2(?:e|eq)?\b", "", text)
    return text.replace("%", "percent").strip()


# ---------------------------------------------------------------------------------------------
# evaluation

def evaluate_checks(results: pd.DataFrame, checks: list[Check],
                    quantiles: pd.DataFrame | None = None) -> list[CheckResult]:
    """Evaluate each check against a results table (columns as `Plan.results`); a check with
    a quantile selector against `quantiles` (`Plan.quantiles`: the draws')."""
    names = ("scenario", "region", "option", "variable", "unit", "year", "value")
    columns = {name: results[name].to_numpy() for name in names}
    choices = {name: sorted(pd.unique(columns[name]).tolist())
               for name in ("scenario", "region", "option", "variable", "year")}
    outcomes = []
    for check in checks:
        _validate(check, choices)
        if check.quantile is not None:
            if quantiles is None or quantiles.empty:
                raise InputError(check.where, f"check {check.text!r}", f"quantile {check.quantile} of a run without draws",
                                 "a run with draws (capacity check --draws N)")
            mine = quantiles[quantiles["quantile"] == check.quantile]
            selected = _select(check, {name: mine[name].to_numpy() for name in names})
        else:
            selected = _select(check, columns)
        if check.kind == "cheapest":
            outcomes.append(_evaluate_cheapest(check, selected))
        else:
            outcomes.append(_evaluate_comparison(check, selected))
    return outcomes


def _validate(check: Check, choices: dict[str, list]) -> None:
    """Refuse a name or year the results do not hold, listing those they do."""
    _require_known(check, "variable", check.variable_looked_at, choices["variable"])
    _require_known(check, "option", check.option, choices["option"])
    if check.year not in choices["year"]:
        years = choices["year"]
        expected = (f"a year from {years[0]} to {years[-1]}"
                    if years and years == list(range(years[0], years[-1] + 1))
                    else f"one of the results' years: {', '.join(map(str, years)) or 'none'}")
        raise InputError(check.where, f"check {check.text!r}", f"year {check.year}", expected)
    for name in ("region", "scenario"):
        if getattr(check, name) is not None:
            _require_known(check, name, getattr(check, name), choices[name])


def _require_known(check: Check, what: str, value: str, known: list[str]) -> None:
    if value in known:
        return
    close = difflib.get_close_matches(value, known, n=1)
    raise InputError(check.where, f"check {check.text!r}", f"{what} {value!r}",
                     f"one of: {', '.join(known) or '(none in the results)'}",
                     f"did you mean {close[0]!r}?" if close else None)


def _select(check: Check, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """The rows a check looks at, by boolean mask (no loop over rows)."""
    mask = (columns["variable"] == check.variable_looked_at) & (columns["year"] == check.year)
    if check.kind == "compare":
        mask &= columns["option"] == check.option
    for name in ("region", "scenario"):
        if getattr(check, name) is not None:
            mask &= columns[name] == getattr(check, name)
    selected = pd.DataFrame({name: values[mask] for name, values in columns.items()})
    if selected.empty:
        raise InputError(check.where, f"check {check.text!r}", "no results for it",
                         "a variable, option, year, region and scenario the results hold together")
    return selected


def _evaluate_comparison(check: Check, selected: pd.DataFrame) -> CheckResult:
    results_unit = str(selected["unit"].iloc[0])
    bound = _bound_in(check, results_unit)
    values = selected["value"].to_numpy(dtype=float)
    passed = np.asarray(COMPARISONS[check.op](values, bound), dtype=bool)
    worst = int(np.argmin(_margin(check.op, values, bound, passed)))
    actual = float(values[worst])
    ok = bool(passed.all())
    number = float(check.number)  # type: ignore[arg-type]  # always set on a comparison
    given = f"{_number(number)} {check.unit}" if check.unit else _number(number)
    if check.unit and _pint_unit(check.unit) != _pint_unit(results_unit):
        given += f" ({_number(bound)} {results_unit})"
    message = (f"{check.subject} = {_number(actual)} {results_unit} {check.op} {given}: "
               f"{'ok' if ok else 'FAILED'}{_which(selected, worst)}")
    return CheckResult(check.text, ok, actual, results_unit, message)


def _bound_in(check: Check, results_unit: str) -> float:
    """The check's NUMBER in the results' unit."""
    number = float(check.number)  # type: ignore[arg-type]  # always set on a comparison
    if check.unit is None:
        return number
    source, target = _pint_unit(check.unit), _pint_unit(results_unit)
    try:
        return float(convert(number, source, target))
    except pint.errors.DimensionalityError:
        raise InputError(check.where, f"check {check.text!r}",
                         f"unit {check.unit!r} ({parse_unit(source).dimensionality})",
                         f"a unit of the same dimension as the results' {results_unit!r} "
                         f"({parse_unit(target).dimensionality})") from None
    except (pint.errors.PintError, AttributeError, TypeError, ValueError):
        raise InputError(check.where, f"check {check.text!r}", f"results unit {results_unit!r}",
                         "a results unit pint can read") from None


def _margin(op: str, values: np.ndarray, bound: float, passed: np.ndarray) -> np.ndarray:
    """How far each value is inside the bound (smallest = worst); failures always rank first."""
    distance = {"<=": bound - values, "<": bound - values, ">=": values - bound,
                ">": values - bound, "==": -np.abs(values - bound),
                "!=": np.abs(values - bound)}[op]
    distance = np.where(np.isnan(distance), -np.inf, distance)
    return np.where(passed, np.abs(distance), -np.abs(distance) - 1.0)


def _evaluate_cheapest(check: Check, costs: pd.DataFrame) -> CheckResult:
    """Cheapest = lowest Cost|Total per (scenario, region); ties all count as cheapest."""
    groups = costs.groupby(["scenario", "region"], sort=False)["value"]
    lowest = groups.transform("min").to_numpy(dtype=float)
    values = costs["value"].to_numpy(dtype=float)
    costs = costs.assign(cheapest=np.isclose(values, lowest, rtol=1e-9, atol=0.0))
    is_option = costs["option"].to_numpy() == check.option
    option_cheapest = costs.loc[is_option & costs["cheapest"].to_numpy(), ["scenario", "region"]]
    option_cheapest = option_cheapest.drop_duplicates()
    series = costs[["scenario", "region"]].drop_duplicates()
    holds = series.merge(option_cheapest, how="left", indicator=True)
    failing = holds.index[holds["_merge"].to_numpy() == "left_only"]
    ok = len(failing) == 0
    shown = holds.loc[failing[0] if not ok else holds.index[0], ["scenario", "region"]]
    in_shown = ((costs["scenario"] == shown["scenario"]) & (costs["region"] == shown["region"]))
    shown_costs = costs.loc[in_shown.to_numpy()].sort_values("value", kind="stable")
    winners = shown_costs.loc[shown_costs["cheapest"], "option"].tolist()
    cost_unit = str(shown_costs["unit"].iloc[0])
    listed = ", ".join(f"{row.option} {_number(row.value)} {cost_unit}"
                       for row in shown_costs.itertuples())     # one series: a row per option
    actual = " / ".join(winners) if winners else "none"
    location = "" if len(series) == 1 else (
        f" [{'first failing' if not ok else 'first'} of {len(series)}: "
        f"region {shown['region']}, scenario {shown['scenario']}]")
    message = (f"{check.subject} = {actual} ({listed}) == {check.option}: "
               f"{'ok' if ok else 'FAILED'}{location}")
    return CheckResult(check.text, ok, actual, "", message)


def _which(selected: pd.DataFrame, row: int) -> str:
    """' [worst of 2: region NLD, scenario maximalist]' when several series were checked."""
    if len(selected) == 1:
        return ""
    return (f" [worst of {len(selected)}: region {selected['region'].iloc[row]}, "
            f"scenario {selected['scenario'].iloc[row]}]")


def _number(value: float) -> str:
    return f"{value:.6g}"


# ---------------------------------------------------------------------------------------------
# reports

def to_text(results: list[CheckResult]) -> str:
    """One line per check: its message."""
    return "".join(f"{result.message}\n" for result in results)


def to_json(results: list[CheckResult]) -> str:
    """{"schema_version": 1, "checks": [{"expr", "ok", "actual", "unit", "message"}, ...]}."""
    def actual(value):
        return None if isinstance(value, float) and not math.isfinite(value) else value
    document = {"schema_version": 1, "checks": [
        {"expr": result.expr, "ok": bool(result.ok), "actual": actual(result.actual),
         "unit": result.unit, "message": result.message} for result in results]}
    return json.dumps(document, indent=2, allow_nan=False)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """Text XML 1.0 can hold: a character it cannot (a control character) shown as ``\\xNN``."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def to_junit(results: list[CheckResult], suite_name: str = "capacity") -> str:
    """JUnit XML: one testcase per check; a failed check carries a <failure> with its message.
    Characters XML cannot hold are escaped (`_xml_text`), so the report always parses."""
    counts = {"tests": str(len(results)),
              "failures": str(sum(not result.ok for result in results)), "errors": "0"}
    root = ET.Element("testsuites", {"name": suite_name, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": suite_name, "skipped": "0", **counts})
    for result in results:
        case = ET.SubElement(suite, "testcase", name=_xml_text(result.expr), classname=_xml_text(suite_name))
        if not result.ok:
            failure = ET.SubElement(case, "failure", message=_xml_text(result.message), type="CheckFailed")
            failure.text = _xml_text(f"actual: {result.actual} {result.unit}".rstrip())
        else:
            ET.SubElement(case, "system-out").text = _xml_text(result.message)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
