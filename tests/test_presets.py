"""Country presets: each runs, carries both worldviews, and gives finite required variables."""

import numpy as np
import pytest

import capacity
from capacity.model.options import DEFAULT_OPTIONS as OPTIONS
from capacity.model.plan import REQUIRED_VARIABLES

PRESETS = ["netherlands", "united-kingdom", "germany", "japan", "singapore", "australia",
           "united-arab-emirates", "saudi-arabia"]


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_runs_both_worldviews_with_finite_required_variables(preset):
    plan = capacity.run(preset)
    results = plan.results
    assert set(results["scenario"]) == {"realist", "maximalist"}
    required = results[results["variable"].isin(REQUIRED_VARIABLES)]
    assert np.isfinite(required["value"]).all()
    assert len(required) == 2 * len(OPTIONS) * len(REQUIRED_VARIABLES) * 10


def test_worldviews_differ_in_frontier_share_growth_and_adoption():
    cases = capacity.load_scenario("germany").cases
    realist, maximalist = cases["realist"].use_cases, cases["maximalist"].use_cases
    for name in realist:
        assert maximalist[name].frontier_share >= realist[name].frontier_share
        assert maximalist[name].token_growth >= realist[name].token_growth
        assert maximalist[name].adoption.midpoint_year < realist[name].adoption.midpoint_year


def test_every_country_preset_says_which_rows_are_its_own(tmp_path):
    # the block is generated from countries.csv; rerun write_preset_comments() after editing it
    import shutil

    from capacity.data.paths import scenarios_dir
    from capacity.data.scenario.reference import BEGIN_OWN, write_preset_comments
    copy = tmp_path / "scenarios"
    shutil.copytree(scenarios_dir(), copy)
    assert write_preset_comments(copy) == []
    india = (copy / "india.yaml").read_text()
    assert BEGIN_OWN in india and "workforce_share_professionals" in india


def test_presets_differ_from_the_netherlands_for_the_reasons_their_rows_state():
    # India and Japan build at their own construction cost and pay their own electricity price,
    # and count desk workers from their own occupational statistics (India: PLFS 2023-24)
    from capacity.data.catalog import default_catalog
    catalog = default_catalog()
    cost = {}
    for preset, code in (("netherlands", "NLD"), ("india", "IND"), ("japan", "JPN")):
        plan = capacity.run(preset)
        case = plan.scenario.cases["realist"]
        built = catalog.get("countries", code, "datacenter_construction_cost")
        assert case.options.domestic_buildout.facility_capex == pytest.approx(float(built.value))
        region = case.regions[code]
        desk = sum(float(catalog.get("countries", code, f"workforce_share_{group}").value)
                   for group in ("managers", "professionals", "technicians", "clerical"))
        assert region.base("desk-workers") == pytest.approx(region.workforce * desk, rel=1e-12)
        cost[code] = plan.table("Cost|Per million tokens", option="domestic-buildout")[("realist", code, "domestic-buildout")].loc[2035]
    assert "PLFS" in catalog.get("countries", "IND", "workforce_share_professionals").source
    for code in ("IND", "JPN"):
        assert abs(cost[code] / cost["NLD"] - 1) > 0.01, cost
