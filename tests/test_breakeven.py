"""Break-even values of the assumptions that decide the cheapest option, checked by hand where
the cost is linear in the lever."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

import capacity
from capacity.analysis.breakeven import GRID_POINTS, PASSES, breakeven
from capacity.cli import main


def _total(plan, option, year, scenario="realist"):
    r = plan.results
    return float(r[(r.option == option) & (r.variable == "Cost|Total") & (r.year == year)
                   & (r.scenario == scenario)].value.iloc[0])


@pytest.fixture(scope="module")
def table_2035(default_scenario):
    return breakeven(default_scenario, "realist", 2035,
                     ["api-floor-markup", "frontier-price-trend", "rent"]).set_index("lever")


def test_markup_breakeven_is_where_the_floored_api_costs_what_owning_costs(table_2035, default_plan):
    # by 2035 both tiers' API prices sit on their floor, (1 + m) x the labs' cost: the API's cost
    # is linear in 1 + m, so the break-even markup is (1 + 0.20) x domestic / API - 1
    fa = default_plan.chain[0]["frontier-api"]
    assert (fa["_api_listed"][0, :, -1] < fa["_api_floor"][0, :, -1]).all()
    row = table_2035.loc["api-floor-markup"]
    assert row["cheapest"] == "frontier-api" and row["cheapest_above"] == "domestic-buildout"
    expected = 1.2 * _total(default_plan, "domestic-buildout", 2035) / _total(default_plan, "frontier-api", 2035) - 1
    step = (3.0 - 0.2) / (GRID_POINTS - 1) ** PASSES
    assert row["breakeven_above"] == pytest.approx(expected, abs=step)
    assert np.isnan(row["breakeven_below"])


def test_frontier_trend_breakeven_flips_the_ranking_where_it_says(table_2035):
    row = table_2035.loc["frontier-price-trend"]
    assert row["default"] == pytest.approx(-0.05)
    value = row["breakeven_above"]
    assert -0.05 < value < 0.5 and row["cheapest_above"] == "domestic-buildout"
    # just below and just above the break-even the cheapest option differs, as the tool says
    for shift, cheapest in ((-0.003, "frontier-api"), (0.003, "domestic-buildout")):
        plan = capacity.run(overrides={"options.frontier-api.frontier_tier.price_change": value + shift})
        costs = {option: _total(plan, option, 2035) for option in ("frontier-api", "hosted-open-weight",
                                                                   "domestic-buildout")}
        assert min(costs, key=costs.get) == cheapest, (shift, costs)


def test_market_rent_cannot_undercut_the_rent_floor(table_2035):
    # renting never costs less than the provider's cost of owning (with its markup), so no cut
    # in market rent makes renting the cheapest in 2035
    row = table_2035.loc["rent"]
    assert not isinstance(row["cheapest_below"], str)


def test_bad_lever_year_or_variant_is_refused(default_scenario):
    with pytest.raises(capacity.InputError, match="lever: found 'rents'; expected one of"):
        breakeven(default_scenario, levers=["rents"])
    with pytest.raises(capacity.InputError, match="year: found 2040"):
        breakeven(default_scenario, year=2040)
    with pytest.raises(capacity.InputError, match="variant: found 'central'"):
        breakeven(default_scenario, variant="central")


def test_cli_prints_and_exports_the_table():
    result = CliRunner().invoke(main, ["breakeven", "--year", "2030", "--lever", "frontier-price-trend",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["lever"] == "frontier-price-trend" and row["cheapest"] == "frontier-api"
    text = CliRunner().invoke(main, ["breakeven", "--year", "2030", "--lever", "frontier-price-trend"])
    assert text.stdout.splitlines()[1].startswith(
        "  frontier-price-trend: default -0.05 1/yr -> frontier-api cheapest; at 0.13")


def test_the_help_lists_every_lever():
    from capacity.analysis.breakeven import LEVERS
    text = CliRunner().invoke(main, ["breakeven", "--help"]).stdout.replace("\n", " ")
    assert all(name in text for name in LEVERS)
