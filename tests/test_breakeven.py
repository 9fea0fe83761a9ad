"""Break-even values of the assumptions that decide the cheapest option, checked by hand where
the cost is linear in the lever."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

import capacity
from capacity.analysis.breakeven import breakeven
from capacity.cli import main


def _total(plan, option, year, scenario="realist"):
    r = plan.results
    return float(r[(r.option == option) & (r.variable == "Cost|Total") & (r.year == year)
                   & (r.scenario == scenario)].value.iloc[0])


@pytest.fixture(scope="module")
def tables(default_scenario):
    return {year: breakeven(default_scenario, "realist", year).set_index("lever") for year in (2030, 2035)}


def _cheapest_run(overrides, year):
    plan = capacity.run(overrides=overrides)
    costs = {option: _total(plan, option, year) for option in ("frontier-api", "hosted-open-weight",
                                                               "domestic-buildout")}
    return min(costs, key=costs.get), costs


@pytest.mark.parametrize("year, lever, path, step", [
    (2030, "frontier-price-trend", "options.frontier-api.frontier_tier.price_change", 0.003),
    (2035, "frontier-price-trend", "options.frontier-api.frontier_tier.price_change", 0.003)])
def test_each_breakeven_flips_the_ranking_where_it_says(tables, year, lever, path, step):
    # the hosted option (open-weight tokens bought per token or on rented GPUs) is the cheapest
    # by default; where a lever has a break-even, a full run of the scenario just before and
    # just past it (a path independent of the sweep) finds the ranking the table states
    row = tables[year].loc[lever]
    assert row["cheapest"] == "hosted-open-weight"
    side = "below" if isinstance(row["cheapest_below"], str) else "above"
    value, option = row[f"breakeven_{side}"], row[f"cheapest_{side}"]
    assert isinstance(option, str) and np.isfinite(value), row
    sign = -1 if side == "below" else 1
    assert _cheapest_run({path: value - sign * step}, year)[0] == "hosted-open-weight"
    assert _cheapest_run({path: value + sign * step}, year)[0] == option


def test_server_capex_breakeven_by_direct_evaluation(tables, default_scenario):
    # owned servers at about a third of the library's prices would make building the cheapest
    # by 2035: evaluate the chain with every generation's price scaled either side of it
    from capacity.model.lookup import tables_for
    from capacity.model.options import OPTIONS, evaluate
    from capacity.model.rows import scenario_rows
    row = tables[2035].loc["server-capex"]
    value = row["breakeven_below"]
    assert row["cheapest_below"] == "domestic-buildout" and 0.2 < value < 0.5
    rows = scenario_rows(default_scenario)
    rows = rows[rows["scenario"] == "realist"].reset_index(drop=True)
    for factor, cheapest in ((value + 0.01, "hosted-open-weight"), (value - 0.01, "domestic-buildout")):
        _, quantities, _ = evaluate(rows.assign(do_server_capex=rows["do_server_capex"] * factor),
                                    tables_for(default_scenario.catalog))
        costs = {option: quantities[option]["total"][0, -1] for option in OPTIONS}
        assert min(costs, key=costs.get) == cheapest, (factor, costs)


def test_the_frontier_trend_must_fall_fast_for_the_api_to_win(tables):
    # flagship prices flat to falling 5 %/yr (the default) keep the API dearer; only a fall of
    # a third or more a year from 2026 would make it the cheapest
    assert tables[2035].loc["frontier-price-trend", "breakeven_below"] < -0.3


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
    assert row["lever"] == "frontier-price-trend" and row["cheapest"] == "hosted-open-weight"
    text = CliRunner().invoke(main, ["breakeven", "--year", "2030", "--lever", "frontier-price-trend"])
    assert text.stdout.splitlines()[1].startswith(
        "  frontier-price-trend: default -0.05 1/yr -> hosted-open-weight cheapest; at -0.5")


def test_the_help_lists_every_lever():
    from capacity.analysis.breakeven import LEVERS
    text = CliRunner().invoke(main, ["breakeven", "--help"]).stdout.replace("\n", " ")
    assert all(name in text for name in LEVERS)
