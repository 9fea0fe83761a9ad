"""Break-even values of the assumptions that decide the cheapest option, checked by hand where
the cost is linear in the lever."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

import capacity
from capacity.analysis.breakeven import GRID_POINTS, LEVERS, PASSES, breakeven
from capacity.cli import main


def _total(plan, option, year, scenario="realist"):
    r = plan.results
    return float(r[(r.option == option) & (r.variable == "Cost|Total") & (r.year == year)
                   & (r.scenario == scenario)].value.iloc[0])


@pytest.fixture(scope="module")
def table_2030(default_scenario):
    return breakeven(default_scenario, "realist", 2030, ["rent", "frontier-price-trend"]).set_index("lever")


def test_rent_breakeven_is_where_renting_costs_what_the_api_costs(table_2030, default_plan):
    # the rented fleet's cost is its GPUs x rent: linear in the rent, so the break-even multiple
    # is the API's cost over the rented fleet's cost at today's rents
    row = table_2030.loc["rent"]
    assert row["cheapest"] == "frontier-api" and row["cheapest_below"] == "hosted-open-weight"
    expected = _total(default_plan, "frontier-api", 2030) / _total(default_plan, "hosted-open-weight", 2030)
    step = (1.0 - LEVERS["rent"].low) / (GRID_POINTS - 1) ** PASSES
    assert row["breakeven_below"] == pytest.approx(expected, abs=step)
    assert np.isnan(row["breakeven_above"]) and not isinstance(row["cheapest_above"], str)


def test_frontier_trend_breakeven_flips_the_ranking_where_it_says(table_2030, default_scenario):
    row = table_2030.loc["frontier-price-trend"]
    assert row["default"] == pytest.approx(-0.05)
    value = row["breakeven_above"]
    assert -0.05 < value < 0.5 and row["cheapest_above"] == "hosted-open-weight"
    # just below and just above the break-even the cheapest option differs, as the tool says
    for shift, cheapest in ((-0.01, "frontier-api"), (0.01, "hosted-open-weight")):
        plan = capacity.run(overrides={"options.frontier-api.frontier_tier.price_change": value + shift})
        costs = {option: _total(plan, option, 2030) for option in ("frontier-api", "hosted-open-weight",
                                                                   "domestic-buildout")}
        assert min(costs, key=costs.get) == cheapest, (shift, costs)


def test_bad_lever_year_or_variant_is_refused(default_scenario):
    with pytest.raises(capacity.InputError, match="lever: found 'rents'; expected one of"):
        breakeven(default_scenario, levers=["rents"])
    with pytest.raises(capacity.InputError, match="year: found 2040"):
        breakeven(default_scenario, year=2040)
    with pytest.raises(capacity.InputError, match="variant: found 'central'"):
        breakeven(default_scenario, variant="central")


def test_cli_prints_and_exports_the_table():
    result = CliRunner().invoke(main, ["breakeven", "--year", "2030", "--lever", "rent", "--format", "json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["lever"] == "rent" and row["cheapest"] == "frontier-api"
    text = CliRunner().invoke(main, ["breakeven", "--year", "2030", "--lever", "rent"])
    assert "rent: default 1x -> frontier-api cheapest; at 0.43" in text.stdout
