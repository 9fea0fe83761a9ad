"""Country presets: each runs, carries both worldviews, and gives finite required variables."""

import numpy as np
import pytest

import capacity
from capacity.model.options import OPTIONS
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
