"""A choice that holds up under every worldview and shock: minimax regret over a matrix.

The matrix crosses a scenario's cases (its worldviews: the variants) with shock cases (each a
list of shocks; the scenario's `robustness.shock_cases`, else
`capacity.data.scenario.defaults.DEFAULT_SHOCK_CASES`). Every option and portfolio runs in
every cell, all cells in one vectorised evaluation. In each cell an option's **full cost** is
the present value over the horizon of what it pays plus what it leaves unserved at
`robustness.unserved_value` (USD per million tokens not served, a policy input;
`assumptions/limits.csv` id ``policy`` gives the default and its reasoning), both discounted
at the case's rate to its first year. **Regret** is an option's full cost less the lowest full
cost of any option in the same cell (>= 0, and 0 for the best option of each cell); the
**robust choice** is the option whose largest regret over the cells is smallest (ties: the
lower expected full cost, then the order of the options). The **expected full cost** weights
the cells by ``weights[worldview] x weights[shock case]`` (default 1 each), normalised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.errors import InputError
from ..data.scenario.defaults import DEFAULT_SHOCK_CASES
from ..data.scenario.models import Scenario, Shock

CELL_SEPARATOR = " x "
"""How a matrix cell is named in the results: ``<worldview> x <shock case>``."""

MATRIX_COLUMNS = ["worldview", "shock_case", "option", "weight", "cost", "unserved_tokens",
                  "unserved_share", "unserved_cost", "full_cost", "regret"]
SUMMARY_COLUMNS = ["option", "max_regret", "worst_case", "expected_full_cost", "expected_cost",
                   "expected_unserved_share", "max_unserved_share", "choice"]


@dataclass
class Robustness:
    """The regret matrix (`MATRIX_COLUMNS`, one row per cell and option; money in USD of
    present value, tokens over the horizon), the summary by option (`SUMMARY_COLUMNS`), the
    minimax-regret choice and the settings it was computed with."""

    matrix: pd.DataFrame
    summary: pd.DataFrame
    choice: str
    unserved_value: float           # USD per token
    unserved_value_source: str
    shock_cases: dict[str, list[Shock]]

    def to_json(self) -> str:
        import json
        return json.dumps({"schema_version": 1, "choice": self.choice,
                           "unserved_value_usd_per_mtok": self.unserved_value * 1e6,
                           "unserved_value_source": self.unserved_value_source,
                           "shock_cases": {name: [shock.model_dump(exclude_none=True) for shock in shocks]
                                           for name, shocks in self.shock_cases.items()},
                           "summary": self.summary.to_dict(orient="records"),
                           "matrix": self.matrix.to_dict(orient="records")}, indent=1, allow_nan=False)

    def to_csv(self) -> str:
        return self.matrix.to_csv(index=False, lineterminator="\n")


def regret(full_cost: pd.DataFrame) -> pd.DataFrame:
    """Regret of each option (columns) in each cell (rows): full cost less the cell's lowest."""
    return full_cost.sub(full_cost.min(axis=1), axis=0)


def minimax_choice(regrets: pd.DataFrame, expected: pd.Series) -> str:
    """The option (column) with the smallest largest regret; ties broken by the lower expected
    full cost, then by column order."""
    worst = regrets.max(axis=0)
    best = worst.min()
    tied = [option for option in regrets.columns if worst[option] <= best + 1e-9 * max(abs(best), 1.0)]
    return min(tied, key=lambda option: (expected[option], list(regrets.columns).index(option)))


def matrix_scenario(scenario: Scenario, shock_cases: dict[str, list[Shock]]) -> Scenario:
    """The scenario with one case per (worldview, shock case), named ``worldview x shock``."""
    cases = {}
    for worldview, case in scenario.cases.items():
        for shock_case, shocks in shock_cases.items():
            name = f"{worldview}{CELL_SEPARATOR}{shock_case}"
            cases[name] = case.model_copy(update={"name": name, "shocks": list(case.shocks) + list(shocks)})
    return Scenario(name=scenario.name, source=scenario.source, cases=cases,
                    assumptions_used={name: scenario.assumptions_used.get(name.split(CELL_SEPARATOR)[0], {})
                                      for name in cases},
                    catalog=scenario.catalog, checks=[])


def _shock_cases(scenario: Scenario) -> dict[str, list[Shock]]:
    first = next(iter(scenario.cases.values()))
    declared = first.robustness.shock_cases
    if declared:
        return dict(declared)
    return {name: [Shock.model_validate(shock) for shock in shocks]
            for name, shocks in DEFAULT_SHOCK_CASES.items()}


def robust(scenario: Scenario, unserved_value: float | None = None) -> Robustness:
    """Run every option across the worldviews x shock cases of `scenario`; see the module.

    `unserved_value` [USD/token] replaces the scenario's `robustness.unserved_value`.
    """
    from ..model.plan import run
    first = next(iter(scenario.cases.values()))
    value = first.robustness.unserved_value if unserved_value is None else unserved_value
    if value is None:
        raise InputError(scenario.source, "robustness.unserved_value", "no value",
                         "a value of unserved demand in USD/Mtok (the library's limits.csv "
                         "policy row, or the scenario's own)")
    row = scenario.assumptions_used.get(next(iter(scenario.cases)), {}).get(("robustness", "unserved_value"))
    source = (f"{row.key} = {row.text}, {row.quality}" if row is not None and unserved_value is None
              else "given by the scenario" if unserved_value is None else "given by the caller")
    shock_cases = _shock_cases(scenario)
    known = list(scenario.cases) + list(shock_cases)
    for name in first.robustness.weights:
        if name not in known:
            raise InputError(scenario.source, f"robustness.weights.{name}", repr(name),
                             "a worldview (variant) or shock case: " + ", ".join(known))
    plan = run(matrix_scenario(scenario, shock_cases))
    results = plan.results
    wanted = results[results["variable"].isin(["Cost|Total", "Demand|Unserved", "Demand|Tokens"])]
    table = wanted.pivot_table(index=["scenario", "region", "option", "year"], columns="variable",
                               values="value", sort=False).reset_index()
    cells = table["scenario"].str.split(CELL_SEPARATOR, n=1, expand=True)
    table["worldview"], table["shock_case"] = cells[0], cells[1]
    # discount each year to the case's first year, at its rate (as Cost|NPV does)
    rate = table["worldview"].map({name: case.finance.discount_rate for name, case in scenario.cases.items()})
    first_year = table["worldview"].map({name: case.horizon.first_year for name, case in scenario.cases.items()})
    factor = (1.0 + rate) ** -(table["year"] - first_year).astype(float)
    table["cost"] = table["Cost|Total"] * factor
    table["unserved_cost"] = table["Demand|Unserved"] * value * factor
    grouped = table.groupby(["worldview", "shock_case", "option"], sort=False)
    matrix = grouped.agg(cost=("cost", "sum"), unserved_cost=("unserved_cost", "sum"),
                         unserved_tokens=("Demand|Unserved", "sum"), tokens=("Demand|Tokens", "sum")).reset_index()
    matrix["unserved_share"] = np.where(matrix["tokens"] > 0, matrix["unserved_tokens"] / matrix["tokens"], 0.0)
    matrix["full_cost"] = matrix["cost"] + matrix["unserved_cost"]
    weights = first.robustness.weights
    matrix["weight"] = (matrix["worldview"].map(lambda w: weights.get(w, 1.0))
                        * matrix["shock_case"].map(lambda s: weights.get(s, 1.0)))
    options = list(plan.options)
    full = matrix.pivot_table(index=["worldview", "shock_case"], columns="option", values="full_cost",
                              sort=False)[options]
    regrets = regret(full)
    long_regret = regrets.stack().rename("regret")
    matrix = matrix.join(long_regret, on=["worldview", "shock_case", "option"])
    weight = matrix.pivot_table(index=["worldview", "shock_case"], columns="option", values="weight",
                                sort=False)[options].iloc[:, 0]
    if weight.sum() <= 0:
        raise InputError(scenario.source, "robustness.weights", "weights adding up to 0",
                         "at least one worldview and shock case with a positive weight")
    share = weight / weight.sum()
    expected = full.mul(share, axis=0).sum(axis=0)
    pick = lambda column: matrix.pivot_table(index=["worldview", "shock_case"], columns="option",
                                             values=column, sort=False)[options]
    choice = minimax_choice(regrets, expected)
    worst = regrets.idxmax(axis=0)
    summary = pd.DataFrame({
        "option": options, "max_regret": regrets.max(axis=0).to_numpy(),
        "worst_case": [CELL_SEPARATOR.join(worst[o]) for o in options],
        "expected_full_cost": expected.to_numpy(),
        "expected_cost": pick("cost").mul(share, axis=0).sum(axis=0).to_numpy(),
        "expected_unserved_share": pick("unserved_share").mul(share, axis=0).sum(axis=0).to_numpy(),
        "max_unserved_share": pick("unserved_share").max(axis=0).to_numpy(),
        "choice": [o == choice for o in options]})
    return Robustness(matrix[MATRIX_COLUMNS], summary, choice, float(value), source, shock_cases)


def to_text(result: Robustness) -> str:
    """The summary as a short table: billions of USD of present value, % unserved."""
    lines = [f"Minimax-regret choice: {result.choice}",
             f"(full cost = present value of cost + unserved demand at "
             f"{result.unserved_value * 1e6:,.0f} USD/Mtok; {result.unserved_value_source})", "",
             f"{'option':<22}{'max regret':>14}{'expected':>14}{'exp. cost':>14}{'max unserved':>14}  worst case",
             f"{'':<22}{'[BUSD]':>14}{'[BUSD]':>14}{'[BUSD]':>14}{'[%]':>14}"]
    for row in result.summary.itertuples(index=False):
        mark = " <- choice" if row.choice else ""
        lines.append(f"{row.option:<22}{row.max_regret / 1e9:>14,.2f}{row.expected_full_cost / 1e9:>14,.2f}"
                     f"{row.expected_cost / 1e9:>14,.2f}{row.max_unserved_share * 100:>14.1f}  "
                     f"{row.worst_case}{mark}")
    return "\n".join(lines)
