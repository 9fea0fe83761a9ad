"""Robust choice: regret identities (properties), the matrix of the default scenario, the CLI,
and the policy presets' shocks and limits."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import capacity
from capacity.analysis.robust import minimax_choice, regret, robust
from capacity.cli import main

# whole dollars: sums and shifts stay exact in float64, so ties are ties
costs = st.lists(st.lists(st.integers(0, 10**12).map(float), min_size=4, max_size=4),
                 min_size=1, max_size=8)


@given(costs)
@settings(max_examples=200, deadline=None)
def test_regret_is_nonnegative_zero_for_each_cells_best_and_the_choice_minimises_the_worst(rows):
    full = pd.DataFrame(rows, columns=["a", "b", "c", "d"])
    regrets = regret(full)
    assert (regrets.to_numpy() >= 0).all()
    np.testing.assert_array_equal(regrets.min(axis=1).to_numpy(), 0.0)
    expected = full.mean(axis=0)
    choice = minimax_choice(regrets, expected)
    worst = regrets.max(axis=0)
    assert worst[choice] <= worst.min() * (1 + 1e-9) + 1e-9
    # the choice does not depend on adding the same cost to every option of a cell
    shifted = full.add(np.arange(len(full)) * 1e6, axis=0)
    assert minimax_choice(regret(shifted), shifted.mean(axis=0)) == choice


def test_a_hand_made_matrix_names_the_option_with_the_smallest_largest_regret():
    full = pd.DataFrame({"api": [10.0, 100.0], "owned": [30.0, 30.0], "hedged": [20.0, 50.0]},
                        index=["no shock", "cut-off"])
    regrets = regret(full)
    assert regrets.to_dict("list") == {"api": [0.0, 70.0], "owned": [20.0, 0.0], "hedged": [10.0, 20.0]}
    assert minimax_choice(regrets, full.mean()) == "owned"   # max regrets 70, 20, 20: tie to the cheaper


@pytest.fixture(scope="module")
def default_robustness():
    return robust(capacity.load_scenario())


def test_the_default_matrix_crosses_worldviews_with_shock_cases(default_robustness):
    matrix = default_robustness.matrix
    assert set(matrix["worldview"]) == {"realist", "maximalist"}
    assert set(matrix["shock_case"]) == {"no shock", "frontier cut-off 2028", "API price x3 2027",
                                         "foreign compute cut-off 2028"}
    assert set(matrix["option"]) == {"frontier-api", "hosted-open-weight", "domestic-buildout", "hedged"}
    assert len(matrix) == 2 * 4 * 4
    assert (matrix["regret"] >= 0).all()
    assert (matrix.groupby(["worldview", "shock_case"])["regret"].min() == 0).all()
    np.testing.assert_allclose(matrix["full_cost"], matrix["cost"] + matrix["unserved_cost"], rtol=1e-12)
    summary = default_robustness.summary.set_index("option")
    assert summary.loc[default_robustness.choice, "max_regret"] == summary["max_regret"].min()
    # a cut-off leaves the pure API option almost all of its demand unserved; no shock, nothing
    api = matrix[matrix["option"] == "frontier-api"].set_index(["worldview", "shock_case"])
    assert (api.xs("no shock", level="shock_case")["unserved_share"] == 0).all()
    assert (api.xs("frontier cut-off 2028", level="shock_case")["unserved_share"] > 0.9).all()


def test_the_no_shock_cells_cost_what_a_plain_run_costs(default_robustness, default_plan):
    """The matrix's cost is the present value of Cost|Total, the same as Cost|NPV's last year."""
    npv = default_plan.results[(default_plan.results["variable"] == "Cost|NPV")
                               & (default_plan.results["year"] == 2035)].set_index(["scenario", "option"])["value"]
    cells = default_robustness.matrix[default_robustness.matrix["shock_case"] == "no shock"]
    for record in cells.itertuples(index=False):
        assert record.cost == pytest.approx(npv[(record.worldview, record.option)], rel=1e-9)


def test_the_value_of_unserved_demand_moves_the_full_cost_only(default_robustness):
    cheap = robust(capacity.load_scenario(), unserved_value=0.0)
    np.testing.assert_allclose(cheap.matrix["cost"], default_robustness.matrix["cost"], rtol=1e-12)
    assert (cheap.matrix["unserved_cost"] == 0).all()


def test_cli_robust_writes_the_matrix_as_json_csv_and_a_robustness_sheet(tmp_path):
    runner = CliRunner()
    out = runner.invoke(main, ["robust", "--format", "json", "-o", "-"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["choice"] in {"frontier-api", "hosted-open-weight", "domestic-buildout", "hedged"}
    assert len(data["matrix"]) == 32 and data["unserved_value_usd_per_mtok"] == pytest.approx(28.0)
    out = runner.invoke(main, ["robust", "-o", str(tmp_path / "r.xlsx")])
    assert out.exit_code == 0, out.output
    assert "Minimax-regret choice" in out.stdout
    sheet = load_workbook(tmp_path / "r.xlsx")["Robustness"]
    assert sheet["A1"].value.endswith(data["choice"])
    out = runner.invoke(main, ["robust", "-o", str(tmp_path / "r.csv")])
    frame = pd.read_csv(tmp_path / "r.csv")
    assert len(frame) == 32 and {"regret", "full_cost", "unserved_share"} <= set(frame.columns)
    bad = runner.invoke(main, ["robust", "--unserved-value", "12 MW"])
    assert bad.exit_code == 2 and "--unserved-value" in bad.output and "Traceback" not in bad.output


def test_the_plan_workbook_carries_the_robustness_sheet_when_given(tmp_path, default_plan, default_robustness):
    path = default_plan.to_excel(tmp_path / "plan.xlsx", robustness=default_robustness)
    assert "Robustness" in load_workbook(path).sheetnames


def test_the_grid_limited_preset_reports_what_it_cannot_serve():
    """The maximalist Netherlands within its grid operator's limits: the domestic option leaves
    demand unserved and names the binding limits instead of loading the national grid."""
    results = capacity.run("netherlands-grid-limited").results
    at = lambda variable: results[(results["scenario"] == "maximalist") & (results["option"] == "domestic-buildout")
                                  & (results["variable"] == variable)].set_index("year")["value"]
    free = capacity.run("netherlands").results
    free_mw = free[(free["scenario"] == "maximalist") & (free["option"] == "domestic-buildout")
                   & (free["variable"] == "Power|Facility")].set_index("year")["value"]
    assert at("Demand|Unserved|Share").loc[2035] > 50
    assert at("Power|Facility").loc[2035] < free_mw.loc[2035] / 10
    assert at("Limits|Grid connection|Binding").loc[2035] == 1
    assert at("Capacity|Shortfall").loc[2035] > 0


def test_the_allocation_cap_preset_keeps_domestic_gpus_within_the_cap():
    plan = capacity.run("india-allocation-cap")
    results = plan.results
    case = plan.scenario.cases["maximalist"]
    per_year = case.regions["IND"].limits.gpu_allocation[2025]
    assert per_year == pytest.approx(49899 / 3)
    # every GPU the owned fleet buys (H100e of the generation bought) stays within the cap
    owned = plan.chain[0]["domestic-buildout"]
    bought_h100e = owned["_routes"]["owned"]["_h100e_bought"]
    assert (bought_h100e <= per_year * 1.02 + 2 * 8 * 2.5).all()
    unserved = results[(results["option"] == "domestic-buildout") & (results["variable"] == "Demand|Unserved|Share")]
    assert unserved["value"].max() > 50


def test_the_shock_presets_hit_the_api_from_their_year():
    cut = capacity.run("netherlands-frontier-cutoff-2028").results
    api = cut[(cut["option"] == "frontier-api") & (cut["variable"] == "Demand|Unserved|Share")].set_index(["scenario", "year"])["value"]
    assert (api.xs(2027, level="year") == 0).all()
    np.testing.assert_allclose(api.xs(2028, level="year"), 100.0, rtol=1e-12)
    priced = capacity.run("netherlands-api-price-x3").results
    base = capacity.run("netherlands").results
    cost = lambda r: r[(r["option"] == "frontier-api") & (r["variable"] == "Cost|Total")].set_index(["scenario", "year"])["value"]
    assert (cost(priced).xs(2026, level="year") == cost(base).xs(2026, level="year")).all()
    assert (cost(priced).xs(2027, level="year") > 2.5 * cost(base).xs(2027, level="year")).all()


def test_the_readmes_worked_policy_question_is_what_the_tool_computes():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "docs" / "examples" / "frontier_cutoff_reserve.py"
    if not path.exists():
        pytest.skip("the docs/ examples are not shipped with an installed wheel's tests")
    spec = importlib.util.spec_from_file_location("worked", path)
    worked = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worked)
    readme = (path.parents[2] / "README.md").read_text(encoding="utf-8")
    slow = worked.answer(0.0, "0.25 yr", fast_site=False)
    assert f"{slow['unserved_2028']:.1f} % of 2028's demand goes unserved" in readme
    assert slow["unserved_later"] == 0
    insured = worked.answer(0.9, "0.1 yr")
    assert insured["unserved_2028"] < 5 and insured["unserved_later"] == 0
    assert f"{insured['unserved_2028']:.1f} % unserved in 2028" in readme
    assert f"costs {insured['insurance_musd_per_year']:,.0f} MUSD a year" in readme
    assert f"({insured['insurance_share'] * 100:.1f} % of the" in readme
    for reserve, text in ((0.2, "20 % of the frontier tier's peak leaves"), (0.5, "50 % leaves"),
                          (1.0, "100 %\n  leaves")):
        assert f"{worked.answer(reserve, '0.25 yr')['unserved_2028']:.1f} %" in readme.split(text)[1][:12]


def test_cli_run_robust_adds_the_sheet_and_refuses_other_formats(tmp_path):
    runner = CliRunner()
    out = runner.invoke(main, ["run", "--robust", "-o", str(tmp_path / "plan.xlsx")])
    assert out.exit_code == 0, out.output
    assert load_workbook(tmp_path / "plan.xlsx").sheetnames[2] == "Robustness"
    refused = runner.invoke(main, ["run", "--robust", "--format", "csv", "-o", "-"])
    assert refused.exit_code == 2 and "capacity robust --format csv" in refused.output


def test_breakeven_counts_unserved_demand_at_its_value():
    """Under a cut-off the pure API option pays nothing and serves nothing: it is not the cheapest."""
    from capacity.analysis.breakeven import breakeven
    table = breakeven(capacity.load_scenario("netherlands-frontier-cutoff-2028"), year=2030, levers=["rent"])
    assert table.loc[0, "cheapest"] != "frontier-api"
    priced = capacity.run("netherlands-frontier-cutoff-2028").results
    api = priced[(priced["option"] == "frontier-api") & (priced["variable"] == "Cost|Total") & (priced["year"] == 2030)]
    assert (api["value"] == 0).all()


def test_case_weights_move_the_expected_cost_and_unknown_ones_are_refused(default_robustness):
    scenario = capacity.load_scenario(overrides={"robustness.weights.maximalist": 0})
    weighted = robust(scenario)
    realist = default_robustness.matrix[default_robustness.matrix["worldview"] == "realist"]
    expected = realist.groupby("option", sort=False)["full_cost"].mean()
    got = weighted.summary.set_index("option")["expected_full_cost"]
    np.testing.assert_allclose(got[expected.index], expected, rtol=1e-12)
    with pytest.raises(capacity.InputError, match="robustness.weights.optimist"):
        robust(capacity.load_scenario(overrides={"robustness.weights.optimist": 1}))
