"""Demand that belongs to a country: occupational user bases, the online population, adoption
moved by the country's AI user share, active days, disabled use cases and the country's
construction cost. Hand-computed cases and identities over real runs."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import capacity
from capacity.data.catalog import COLUMNS
from capacity.data.errors import InputError
from capacity.data.paths import scenarios_dir
from capacity.model.stages.demand import ADOPTION_OBSERVED_YEAR, country_midpoint, logistic_adoption

DEFAULT = (scenarios_dir() / "netherlands.yaml").read_text()
SHARES = {"regions.NLD.workforce": 1e7, "regions.NLD.population": 2e7,
          "regions.NLD.workforce_share_managers": 0.05, "regions.NLD.workforce_share_professionals": 0.25,
          "regions.NLD.workforce_share_technicians": 0.15, "regions.NLD.workforce_share_clerical": 0.10,
          "regions.NLD.workforce_share_ict_professionals": 0.04, "regions.NLD.internet_user_share": 0.9}


def _rows(plan, use_case, case="realist"):
    rows = plan.rows
    return np.flatnonzero(((rows["use_case"] == use_case) & (rows["scenario"] == case)).to_numpy())


@pytest.mark.parametrize("base, expected", [
    ("population", 2e7), ("online-population", 2e7 * 0.9), ("workforce", 1e7),
    ("desk-workers", 1e7 * (0.05 + 0.25 + 0.15 + 0.10)), ("professionals", 1e7 * 0.25),
    ("clerical-workers", 1e7 * 0.10), ("ict-professionals", 1e7 * 0.04)])
def test_a_user_base_counts_the_people_its_shares_say(base, expected):
    plan = capacity.run(overrides={**SHARES, "use_cases.drafting.user_base": base,
                                   "use_cases.drafting.user_share": 0.5})
    potential = plan.rows["potential_users"].to_numpy()[_rows(plan, "drafting")]
    assert potential == pytest.approx(np.full(potential.shape, 0.5 * expected), rel=1e-12)


def test_country_midpoint_by_hand():
    # s = 1, k = 1/yr, t0 = 2025: a(2025) = 0.5
    s, t0, k = np.ones(4), np.full(4, 2025.0), np.ones(4)
    moved = country_midpoint(s, t0, k, np.array([1.0, 0.5, 3.0, np.nan]))
    assert moved[0] == pytest.approx(2025.0)
    assert moved[1] == pytest.approx(2025.0 + math.log(3.0))          # A' = 0.25: ln(1/0.25 - 1)
    assert moved[2] == pytest.approx(2025.0 + math.log(1 / 0.99 - 1))  # capped at 99 % of s
    assert moved[3] == 2025.0                                           # no AI user share: unmoved


@pytest.mark.parametrize("country_share", [0.08, 0.2, 0.35])
def test_a_countrys_adoption_in_the_observed_year_is_its_ratio_times_the_curve(country_share):
    reference = 0.25
    settings = {"regions.NLD.ai_user_share": country_share, "demand.reference_ai_user_share": reference}
    moved = capacity.run(overrides=settings)
    unmoved = capacity.run(overrides={**settings, "demand.country_adoption": False})
    for use_case in moved.scenario.cases["realist"].use_cases:
        index = _rows(moved, use_case)[0]
        s, k = (float(moved.rows[c].iloc[index]) for c in ("adoption_saturation", "adoption_steepness"))
        if math.isnan(s):
            continue
        at = lambda plan: float(logistic_adoption(ADOPTION_OBSERVED_YEAR, s,
                                                  plan.rows["adoption_midpoint_year"].iloc[index], k))
        expected = min(country_share / reference * at(unmoved), 0.99 * s)
        assert at(moved) == pytest.approx(expected, rel=1e-9), use_case


def test_a_use_case_on_every_day_has_more_requests_but_the_same_peak():
    working = capacity.run(overrides={"use_cases.drafting.active_days_per_year": None})
    daily = capacity.run(overrides={"use_cases.drafting.active_days_per_year": 365})
    days = float(working.rows["working_days_per_year"].iloc[0])
    index = _rows(working, "drafting")
    requests = lambda plan: plan.chain[1]["work"]["requests"][index]
    peak = lambda plan: plan.chain[1]["work"]["peak_output_rate"][index]
    assert requests(daily) == pytest.approx(requests(working) * 365 / days, rel=1e-12)
    assert peak(daily) == pytest.approx(peak(working), rel=1e-12)   # same requests per day


def test_a_disabled_use_case_takes_its_tokens_out_of_national_demand():
    whole = capacity.run()
    without = capacity.run(overrides={"use_cases.drafting.enabled": False})
    assert "drafting" not in without.scenario.cases["realist"].use_cases
    tokens = lambda plan: plan.chain[1]["work"]["input_tokens"].sum(1) + plan.chain[1]["work"]["output_tokens"].sum(1)
    drafting = tokens(whole)[(whole.rows["use_case"] == "drafting").to_numpy()].sum()
    assert tokens(without).sum() == pytest.approx(tokens(whole).sum() - drafting, rel=1e-12)


def test_every_use_case_disabled_is_refused():
    case = capacity.load_scenario().cases["realist"]
    overrides = {f"use_cases.{name}.enabled": False for name in case.use_cases}
    with pytest.raises(InputError, match="use_cases: found every use case disabled"):
        capacity.run(overrides=overrides)


def test_a_base_whose_share_is_missing_is_refused_naming_the_field(tmp_path):
    scenario = tmp_path / "island.yaml"
    scenario.write_text(
        DEFAULT.replace("  NLD: {}", "  XXX: {name: Island, population: 1000000, workforce: 500000, "
                 "electricity_consumption: 5 TWh/yr, peak_demand: 1 GW, electricity_price: 0.1 USD/kWh, "
                 "grid_co2_intensity: 300 g/kWh}")
        .replace("  drafting: {}", "  drafting: {user_base: ict-professionals}"))
    with pytest.raises(InputError) as error:
        capacity.load_scenario(scenario)
    message = str(error.value)
    assert "regions.XXX.workforce_share_ict_professionals: found nothing" in message, message
    assert "'drafting' counts its users as a share of its ict-professionals" in message


def test_a_one_country_scenario_builds_at_its_construction_cost(tmp_path):
    costs = tmp_path / "countries.csv"
    costs.write_text(",".join(COLUMNS) + "\nNLD,datacenter_construction_cost,10.5,USD/W,,,"
                     "Ministry cost survey,survey 2026/3,2026-03,primary,\n")
    scenario = tmp_path / "nl.yaml"
    scenario.write_text(DEFAULT + "\nassumptions: [countries.csv]\n")
    loaded = capacity.load_scenario(scenario)
    assert loaded.cases["realist"].options.domestic_buildout.facility_capex == pytest.approx(10.5)
    used = loaded.assumptions_used["realist"][("options", "domestic-buildout", "facility_capex")]
    assert used.key == "countries:NLD:datacenter_construction_cost"


def test_the_citizen_assistant_is_in_the_default_run_and_the_cli_can_leave_it_out(tmp_path):
    import subprocess
    import sys

    import pandas as pd

    def tokens(*extra):
        out = tmp_path / f"run{len(extra)}.csv"
        subprocess.run([sys.executable, "-m", "capacity.cli", "run", "-o", str(out), *extra],
                       check=True, capture_output=True)
        frame = pd.read_csv(out)
        return frame.query("variable == 'Demand|Tokens' and scenario == 'realist'")["value"].iloc[0]

    plan = capacity.run()
    assert "citizen-assistant" in plan.scenario.cases["realist"].use_cases
    work = plan.chain[1]["work"]
    first = ((plan.rows["year"] == plan.rows["first_year"]) & (plan.rows["scenario"] == "realist")).to_numpy()
    citizen = first & (plan.rows["use_case"] == "citizen-assistant").to_numpy()
    per_row = work["input_tokens"].sum(1) + work["output_tokens"].sum(1)
    assert tokens() - tokens("--set", "use_cases.citizen-assistant.enabled=false") == pytest.approx(
        per_row[citizen].sum(), rel=1e-9)



@settings(max_examples=200, deadline=None)
@given(saturation=st.floats(0.05, 1.0), midpoint=st.floats(2015.0, 2045.0), steepness=st.floats(0.1, 3.0),
       ratio=st.floats(0.01, 10.0))
def test_a_moved_curve_passes_through_ratio_times_the_observed_adoption(saturation, midpoint, steepness, ratio):
    # on the moved curve, adoption in the observed year is the country's ratio times the
    # curve's (capped below saturation), the saturation is unchanged, and a lower ratio never
    # brings the midpoint earlier
    arrays = [np.array([v]) for v in (saturation, midpoint, steepness)]
    observed = logistic_adoption(ADOPTION_OBSERVED_YEAR, saturation, midpoint, steepness)
    moved = country_midpoint(*arrays, np.array([ratio]))[0]
    target = min(ratio * observed, 0.99 * saturation)
    assert logistic_adoption(ADOPTION_OBSERVED_YEAR, saturation, moved, steepness) == pytest.approx(target, rel=1e-6)
    lower = country_midpoint(*arrays, np.array([ratio * 0.5]))[0]
    assert lower >= moved - 1e-9
