"""The whole chain on the default scenario: every required variable, and the identities."""

from pathlib import Path

import numpy as np
import pytest

from capacity.data.units import SECONDS_PER_YEAR
from capacity.model.options import DEFAULT_OPTIONS as OPTIONS
from capacity.model.plan import REQUIRED_VARIABLES, RESULT_COLUMNS


def wide(plan, variable):
    data = plan.results[plan.results["variable"] == variable]
    return data.set_index(["scenario", "region", "option", "year"])["value"].sort_index()


def test_results_table_has_the_issue_columns_and_every_required_variable(default_plan):
    results = default_plan.results
    assert list(results.columns) == RESULT_COLUMNS
    horizon = default_plan.scenario.cases["realist"].horizon
    years = set(range(horizon.first_year, horizon.last_year + 1))
    for variable in REQUIRED_VARIABLES:
        data = results[results["variable"] == variable]
        for scenario in ("realist", "maximalist"):
            for option in OPTIONS:
                cell = data[(data["scenario"] == scenario) & (data["option"] == option)]
                assert set(cell["year"]) == years, (variable, scenario, option)
                assert np.isfinite(cell["value"]).all(), (variable, scenario, option)


def test_cost_per_million_tokens_is_total_cost_over_tokens(default_plan):
    total, tokens = wide(default_plan, "Cost|Total"), wide(default_plan, "Demand|Tokens")
    per_mtok = wide(default_plan, "Cost|Per million tokens")
    np.testing.assert_allclose(per_mtok, total / tokens * 1e6, rtol=1e-12)


def test_total_cost_is_capital_plus_operating(default_plan):
    np.testing.assert_allclose(wide(default_plan, "Cost|Total"),
                               wide(default_plan, "Cost|Capital") + wide(default_plan, "Cost|Operating"),
                               rtol=1e-12)


def test_facility_power_is_it_power_times_pue(default_plan):
    case = default_plan.scenario.cases["realist"]
    it, facility = wide(default_plan, "Power|IT"), wide(default_plan, "Power|Facility")
    hosted = (slice(None), slice(None), "hosted-open-weight", slice(None))
    np.testing.assert_allclose(facility.loc[hosted], it.loc[hosted] * case.options.hosted_open_weight.pue,
                               rtol=1e-12)
    share = wide(default_plan, "Sovereignty|Domestic share")
    domestic = facility.xs("domestic-buildout", level="option")
    domestic_it = it.xs("domestic-buildout", level="option")
    arrived = domestic.index[(domestic.index.get_level_values("year")
                              >= case.horizon.first_year + 5)]  # after max(build, grid) lead time
    np.testing.assert_allclose(domestic.loc[arrived],
                               domestic_it.loc[arrived] * case.options.domestic_buildout.pue, rtol=1e-12)


def test_energy_never_exceeds_facility_power_all_year(default_plan):
    energy_twh = wide(default_plan, "Energy|Electricity")
    facility_mw = wide(default_plan, "Power|Facility")
    assert (energy_twh <= facility_mw * SECONDS_PER_YEAR / 3600 / 1e6 * (1 + 1e-12)).all()
    assert (energy_twh[facility_mw > 0] > 0).all()


def test_frontier_api_has_no_domestic_gpus_but_reports_offshore_ones(default_plan):
    gpus = wide(default_plan, "Capacity|GPUs").xs("frontier-api", level="option")
    offshore = wide(default_plan, "Capacity|GPUs|Offshore").xs("frontier-api", level="option")
    assert (gpus == 0).all() and (offshore > 0).all()
    assert (wide(default_plan, "Sovereignty|Domestic share").xs("frontier-api", level="option") == 0).all()
    assert (wide(default_plan, "Energy|Electricity").xs("frontier-api", level="option") == 0).all()


def test_every_option_sees_the_same_demand(default_plan):
    tokens = wide(default_plan, "Demand|Tokens").unstack("option")
    assert (tokens.nunique(axis=1) == 1).all()


def test_domestic_buildout_is_bridged_until_capacity_arrives(default_plan):
    share = wide(default_plan, "Sovereignty|Domestic share").xs("domestic-buildout", level="option")
    years = share.index.get_level_values("year")
    first = default_plan.scenario.cases["realist"].horizon.first_year
    # lead time max(build 2.5 yr, grid 5 yr) -> domestic capacity serves from the sixth year
    assert (share[years < first + 5] == 0).all()
    np.testing.assert_allclose(share[years >= first + 5], 100.0, rtol=1e-12)
    hosted = wide(default_plan, "Cost|Total").xs("hosted-open-weight", level="option")
    domestic = wide(default_plan, "Cost|Total").xs("domestic-buildout", level="option")
    np.testing.assert_allclose(domestic[years < first + 5], hosted[years < first + 5], rtol=1e-12)


def test_grid_shares_are_energy_and_power_over_national_totals(default_plan):
    case = default_plan.scenario.cases["realist"]
    region = case.regions["NLD"]
    energy = wide(default_plan, "Energy|Electricity").xs("realist", level="scenario")
    share = wide(default_plan, "Grid|Share of consumption").xs("realist", level="scenario")
    national_twh = region.electricity_consumption / 3.6e15
    np.testing.assert_allclose(share, energy / national_twh * 100, rtol=1e-9)
    peak = wide(default_plan, "Grid|Share of peak demand").xs("realist", level="scenario")
    facility = wide(default_plan, "Power|Facility").xs("realist", level="scenario")
    np.testing.assert_allclose(peak, facility / (region.peak_demand / 1e6) * 100, rtol=1e-9)


def test_npv_is_the_discounted_sum_of_total_cost(default_plan):
    case = default_plan.scenario.cases["realist"]
    total = wide(default_plan, "Cost|Total").loc[("realist", "NLD", "frontier-api")]
    npv = wide(default_plan, "Cost|NPV").loc[("realist", "NLD", "frontier-api")]
    r = case.finance.discount_rate
    expected = sum(cost / (1 + r) ** (year - case.horizon.first_year) for year, cost in total.items())
    assert npv.iloc[-1] == pytest.approx(expected, rel=1e-12)


def test_plan_lists_the_assumptions_it_used_with_sources(default_plan):
    used = default_plan.assumptions
    assert {"id", "value", "unit", "source", "url", "source_date"} <= set(used.columns)
    assert "countries:NLD:population" in set(used["id"])
    assert "defaults:facility:pue_hyperscale" in set(used["id"])
    assert used["source"].str.len().min() > 0


def test_variants_with_different_horizons_run_side_by_side(tmp_path):
    import capacity
    from capacity.data.paths import scenarios_dir
    text = (scenarios_dir() / "netherlands.yaml").read_text().replace(
        "  maximalist:\n    worldview: maximalist",
        "  maximalist:\n    worldview: maximalist\n    horizon: {first_year: 2028, last_year: 2037}")
    (tmp_path / "s.yaml").write_text(text)
    results = capacity.run(capacity.load_scenario(tmp_path / "s.yaml")).results
    span = results.groupby("scenario")["year"].agg(["min", "max"])
    assert span.loc["maximalist"].tolist() == [2028, 2037] and span.loc["realist"].tolist() == [2026, 2035]
    required = results[results["variable"].isin(REQUIRED_VARIABLES)]
    assert np.isfinite(required["value"]).all()
    capital = results.query("scenario == 'maximalist' and option == 'domestic-buildout' and "
                            "variable == 'Cost|Capital'").set_index("year")["value"]
    assert (capital.loc[:2032] == 0).all() and (capital.loc[2033:] > 0).all()   # arrives 2028 + 5


def _one_use_case_plan(tmp_path, use_case="drafting", overrides=None):
    """The default scenario with a single use case, realist only: hand-checkable figures."""
    import capacity
    text = (tmp_path / "one.yaml")
    text.write_text("name: one\nworldview: realist\nhorizon: {first_year: 2026, last_year: 2030}\n"
                    "regions: {NLD: {}}\nuse_cases: {" + use_case + ": {}}\n"
                    + (Path(capacity.load_scenario().source).read_text().split("options:")[1]
                       .split("variants:")[0].join(["options:", ""])))
    return capacity.run(text, overrides=overrides)


def test_cost_per_request_is_total_cost_over_requests_by_hand(tmp_path):
    plan = _one_use_case_plan(tmp_path)
    case = plan.scenario.cases["one"]
    use = case.use_cases["drafting"]
    # first year: no growth yet, so tokens per request are the archetype's own
    tokens_per_request = use.input_tokens + use.output_tokens + use.reasoning_tokens
    per_mtok = wide(plan, "Cost|Per million tokens").loc[("one", "NLD", "hosted-open-weight", 2026)]
    per_request = wide(plan, "Cost|Per request").loc[("one", "NLD", "hosted-open-weight", 2026)]
    assert per_request == pytest.approx(per_mtok * tokens_per_request / 1e6, rel=1e-12)


def test_cost_per_request_times_requests_is_total_cost(default_plan):
    shared = default_plan.chain[1]
    requests = shared["requests"][shared["present"]]
    for option in OPTIONS:
        total = default_plan.chain[0][option]["total"][shared["present"]]
        per_request = default_plan.chain[0][option]["per_request"][shared["present"]]
        np.testing.assert_allclose(per_request * requests, total, rtol=1e-12)
    ratio = wide(default_plan, "Cost|Per request") / wide(default_plan, "Cost|Per million tokens")
    tokens = wide(default_plan, "Demand|Tokens")
    # the ratio is tokens per request / 1e6, the same for every option in a (scenario, year)
    by_cell = (ratio * 1e6).groupby(level=["scenario", "year"]).agg(["min", "max"])
    np.testing.assert_allclose(by_cell["min"], by_cell["max"], rtol=1e-12)
    assert (tokens > 0).all()


def test_utilisation_of_a_peak_sized_fleet_by_hand(tmp_path):
    # one use case: mean load / peak load = working days / 365.25 / peak-to-average, and the
    # fleet is the peak / target utilisation x (1 + redundancy), rounded up to whole replicas
    # (demand x 4: a fleet large enough that rounding to replicas and servers stays small)
    plan = _one_use_case_plan(tmp_path, overrides={"options.hosted-open-weight.supply": "rent",
                                                   "options.hosted-open-weight.rented_capacity": "year-round",
                                                   "demand.scale": 4})
    case = plan.scenario.cases["one"]
    use, region = case.use_cases["drafting"], case.regions["NLD"]
    days = region.working_days_per_year * 86400 / SECONDS_PER_YEAR
    expected = days / use.peak_to_average * case.fleet.target_utilisation / (1 + case.fleet.redundancy)
    utilisation = wide(plan, "Capacity|Utilisation").loc[("one", "NLD", "hosted-open-weight")] / 100
    # rounding up to replicas and servers only lowers it, by at most a few % on these fleets
    assert (utilisation <= expected * (1 + 1e-9)).all()
    assert (utilisation >= expected * 0.95).all(), (utilisation.tolist(), expected)


def test_a_reserved_baseline_with_on_demand_burst_by_hand(tmp_path):
    # one use case: the baseline is the mean load / target utilisation in whole servers, the
    # burst tops it up to the peak-sized fleet for mean / peak of the year (a block profile);
    # the fleet's cost is reserved x baseline all year plus on-demand x burst for those hours
    plan = _one_use_case_plan(tmp_path, overrides={"options.hosted-open-weight.supply": "rent"})
    hosted = plan.chain[0]["hosted-open-weight"]
    rented = hosted["_rented"]
    case = plan.scenario.cases["one"]
    use, region = case.use_cases["drafting"], case.regions["NLD"]
    share = region.working_days_per_year * 86400 / SECONDS_PER_YEAR / use.peak_to_average
    np.testing.assert_allclose(rented["burst_share"][0], share, rtol=1e-9)   # both tiers alike
    assert (rented["baseline"] < rented["gpus"]).all() and (rented["baseline"] % 8 == 0).all()
    ratio = case.options.hosted_open_weight.reserved_price_ratio
    on_demand = np.fmax(hosted["_rent_market"], hosted["_rent_floor"])[0]
    reserved = np.fmax(hosted["_rent_market"] * ratio, hosted["_rent_floor"])[0]
    expected = (rented["baseline"][0] * reserved + (rented["gpus"] - rented["baseline"])[0]
                * rented["burst_share"][0] * on_demand).sum(axis=0) * SECONDS_PER_YEAR
    np.testing.assert_allclose(hosted["operating"][0], expected, rtol=1e-12)
    # it costs less than holding the peak-sized fleet all year on demand, and its GPUs are busier
    assert (hosted["operating"][0] < (rented["gpus"][0] * on_demand).sum(axis=0) * SECONDS_PER_YEAR).all()
    year_round = _one_use_case_plan(tmp_path, overrides={
        "options.hosted-open-weight.supply": "rent", "options.hosted-open-weight.rented_capacity": "year-round"})
    assert (wide(plan, "Capacity|Utilisation").loc[("one", "NLD", "hosted-open-weight")]
            > wide(year_round, "Capacity|Utilisation").loc[("one", "NLD", "hosted-open-weight")]).all()


def test_utilisation_is_a_share_for_every_option_with_a_fleet(default_plan):
    utilisation = wide(default_plan, "Capacity|Utilisation")
    assert set(utilisation.index.get_level_values("option")) == set(OPTIONS)
    assert ((utilisation > 0) & (utilisation <= 100)).all()


def test_an_agentic_session_of_turns_by_hand(default_plan):
    # agentic coding is a session of 31 calls: the first reads 15,000 tokens of context, each
    # later one the context grown by 1,700 (GHCP and TraceLab traces); sessions vary in length
    # (E[T^2] / E[T]^2 = 2), so the mean call reads 15,000 + 1,700 x (2 x 31 - 1) / 2 = 66,850
    # tokens (GHCP measured 67,818) and a session 31 x that; output is 530 a call
    rows, work = default_plan.rows, default_plan.chain[1]["work"]
    first = ((rows["use_case"] == "agentic-coding") & (rows["year"] == 2026)).to_numpy()
    assert set(work["input_per_call"][first]) == {66_850.0}
    assert set(work["input_per_request"][first]) == {31 * 66_850.0}
    assert set(work["output_per_request"][first]) == {31 * 530.0}
    # tokens per session grow as a whole: a year on, both the first context and the growth
    later = ((rows["use_case"] == "agentic-coding") & (rows["year"] == 2027)
             & (rows["scenario"] == "realist")).to_numpy()
    growth = default_plan.scenario.cases["realist"].use_cases["agentic-coding"].token_growth
    np.testing.assert_allclose(work["input_per_call"][later], 66_850.0 * (1 + growth), rtol=1e-12)
    # a use case of single calls is unchanged: its context is its input tokens
    drafting = ((rows["use_case"] == "drafting") & (rows["year"] == 2026)).to_numpy()
    np.testing.assert_allclose(work["input_per_call"][drafting], rows.loc[drafting, "input_tokens"])
