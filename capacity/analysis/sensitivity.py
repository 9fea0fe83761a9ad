"""Which assumptions decide an output: one-at-a-time swings (a tornado) and variance-based
(Sobol) indices.

An output is a selector as `capacity check` writes it, ``VARIABLE[OPTION, YEAR(, REGION(,
SCENARIO))]``, e.g. ``Cost|Total[domestic-buildout, 2030]`` (default region: all regions
summed; default scenario: the first variant).

`tornado` moves each uncertain input (`capacity.analysis.uncertainty.uncertain_inputs`) to its
low and to its high with every other input at its value; all swings are series of one
evaluation of the chain. `sobol` computes first-order and total indices with SALib (Saltelli
sampling, Sobol analysis) over the inputs named (by default the tornado's largest), their
draws uniform on [low, high] as the method expects, the rest held at their values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.errors import InputError
from ..data.scenario.models import Scenario
from .checks import _split_selectors
from .uncertainty import Input, draw_rows, probe, uncertain_inputs

TOP = 15


def parse_output(text: str) -> dict:
    """``VARIABLE[OPTION, YEAR(, REGION(, SCENARIO))]`` -> its parts; InputError otherwise."""
    import re
    match = re.match(r"^\s*(?P<variable>[^\[\]]+?)\s*\[(?P<selectors>[^\[\]]*)\]\s*$", text or "")
    if not match:
        raise InputError("--output", None, repr(text), "VARIABLE[OPTION, YEAR(, REGION(, SCENARIO))], "
                         "e.g. 'Cost|Total[domestic-buildout, 2030]'")
    selectors = _split_selectors(match["selectors"], 2, "--output", text)
    return {"variable": match["variable"], **selectors}


def _output_values(plan_like, output: dict, n_points: int) -> np.ndarray:
    """The output for each evaluated point: (cells, quantities, shared, rows, points)."""
    from ..model.plan import VARIABLES, _report_unit_factor
    cells, quantities, shared, rows, point_of_row = plan_like
    variable = output["variable"]
    if variable not in VARIABLES:
        raise InputError("--output", "VARIABLE", repr(variable), "a results variable, e.g. Cost|Total")
    if output["option"] not in shared["options"]:
        raise InputError("--output", "OPTION", repr(output["option"]), "one of " + ", ".join(shared["options"]))
    source, canonical, report = VARIABLES[variable]
    kind, _, name = source.rpartition(":")
    values = np.broadcast_to((shared if kind == "shared" else quantities[output["option"]])[name],
                             (cells.n_series, cells.n_years))
    column = output["year"] - cells.first_grid_year
    if not 0 <= column < cells.n_years:
        raise InputError("--output", "YEAR", str(output["year"]), "a year of the horizon")
    key = rows[["scenario", "region"]].drop_duplicates().reset_index(drop=True)
    mine = np.ones(len(key), bool) if output.get("region") is None else (key["region"] == output["region"]).to_numpy()
    if not mine.any():
        raise InputError("--output", "REGION", repr(output["region"]), "a region of the scenario")
    series_point = point_of_row[np.unique(cells.series, return_index=True)[1]]
    total = np.bincount(series_point[mine], weights=np.nan_to_num(values[mine, column]), minlength=n_points)
    return total * _report_unit_factor(canonical, report)


def _evaluate_points(scenario: Scenario, case: str, base, effects, inputs: list[Input],
                     values: np.ndarray):
    """Evaluate one case at each row of `values` (points x inputs) as series of one run."""
    from ..model.lookup import tables_for
    from ..model.options import evaluate, supply_for
    from .uncertainty import _tile_cases, drawn_catalogue, drawn_supply, supply_probe, table_probe
    rows = draw_rows(base, effects, inputs, values, case, 0)
    single = Scenario(scenario.name, scenario.source, {case: scenario.cases[case]},
                      {case: scenario.assumptions_used.get(case, {})}, scenario.catalog)
    base_supply = supply_for(single, base)
    supply = drawn_supply(_tile_cases(base_supply, base, len(values)), supply_probe(single, inputs, base),
                          inputs, values, base)
    tables, rows, supply = drawn_catalogue(tables_for(scenario.catalog), table_probe(single, inputs), inputs,
                                           values, 0, rows, supply, np.repeat(np.arange(len(values)), len(base)))
    cells, quantities, shared = evaluate(rows, tables, supply)
    point_of_row = np.repeat(np.arange(len(values)), len(base))
    return cells, quantities, shared, rows, point_of_row


def tornado(scenario: Scenario, output: str, top: int = TOP) -> pd.DataFrame:
    """The `top` inputs whose low-to-high swing moves `output` most: input, its source and
    quality, its low, value and high, the output at its low and at its high, the swing, and the
    output at the stated values (``base``), largest swing first."""
    selector = parse_output(output)
    case = selector.get("scenario") or next(iter(scenario.cases))
    if case not in scenario.cases:
        raise InputError("--output", "SCENARIO", repr(case), "one of " + ", ".join(scenario.cases))
    inputs, _ = uncertain_inputs(scenario)
    inputs = [spec for spec in inputs if case in spec.paths]
    base, effects = _probe_case(scenario, case, inputs)
    k = len(inputs)
    stated = np.array([spec.value for spec in inputs])
    points = np.tile(stated, (2 * k + 1, 1))
    points[1:k + 1][np.arange(k), np.arange(k)] = [spec.low for spec in inputs]
    points[k + 1:][np.arange(k), np.arange(k)] = [spec.high for spec in inputs]
    evaluated = _evaluate_points(scenario, case, base, effects, inputs, points)
    values = _output_values(evaluated, selector, len(points))
    at_base, at_low, at_high = values[0], values[1:k + 1], values[k + 1:]
    from ..model.plan import VARIABLES
    table = pd.DataFrame({
        "input": [spec.key for spec in inputs], "source": [spec.source for spec in inputs],
        "quality": [spec.quality for spec in inputs],
        "low": [spec.low for spec in inputs], "value": stated, "high": [spec.high for spec in inputs],
        "output_at_low": at_low, "output_at_high": at_high, "swing": np.abs(at_high - at_low),
        "base": at_base, "unit": VARIABLES[selector["variable"]][2]})
    table = table.sort_values(["swing", "input"], ascending=[False, True], kind="stable")
    return table.head(top).reset_index(drop=True)


def _probe_case(scenario: Scenario, case: str, inputs: list[Input]):
    single = Scenario(scenario.name, scenario.source, {case: scenario.cases[case]},
                      {case: scenario.assumptions_used.get(case, {})}, scenario.catalog)
    return probe(single, inputs)[case]


def sobol(scenario: Scenario, output: str, inputs: list[str] | None = None, samples: int = 256,
          seed: int = 0, top: int = 8) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices of `output` with their 95 % confidence
    half-widths, for the inputs named (default: the `top` of the tornado), computed by SALib
    from ``samples x (2 D + 2)`` points (Saltelli); inputs uniform on [low, high]."""
    try:
        from SALib.analyze import sobol as analyze
        from SALib.sample import sobol as saltelli
    except ImportError:
        raise InputError(None, "sobol", "SALib is not installed",
                         'pip install "capacity[uncertainty]"') from None
    selector = parse_output(output)
    case = selector.get("scenario") or next(iter(scenario.cases))
    every, _ = uncertain_inputs(scenario)
    keys = inputs if inputs is not None else list(tornado(scenario, output, top)["input"])
    chosen = [spec for spec in every if spec.key in keys and case in spec.paths]
    if len(chosen) < 2:
        raise InputError(None, "inputs", repr(keys), "at least two uncertain inputs of the scenario")
    problem = {"num_vars": len(chosen), "names": [spec.key for spec in chosen],
               "bounds": [[spec.low, spec.high] for spec in chosen]}
    points = saltelli.sample(problem, samples, calc_second_order=False, seed=seed)
    base, effects = _probe_case(scenario, case, chosen)
    evaluated = _evaluate_points(scenario, case, base, effects, chosen, points)
    values = _output_values(evaluated, selector, len(points))
    indices = analyze.analyze(problem, values, calc_second_order=False, seed=seed)
    return pd.DataFrame({"input": problem["names"], "S1": indices["S1"], "S1_conf": indices["S1_conf"],
                         "ST": indices["ST"], "ST_conf": indices["ST_conf"],
                         "source": [spec.source for spec in chosen]}).sort_values(
        "ST", ascending=False, kind="stable").reset_index(drop=True)
