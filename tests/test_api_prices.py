"""API prices by tier: each tier's list price on its own trend, and the floor under it (the labs'
cost of serving on the offshore fleet, with a markup). Hand-computed cases and invariants over
random settings (hypothesis)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import capacity
from capacity.data.catalog import default_catalog
from capacity.model.lookup import tables_for
from capacity.model.options import evaluate
from capacity.model.rows import scenario_rows
from capacity.model.stages import cost

CATALOG = default_catalog()


def library(table, item, parameter):
    return float(CATALOG.get(table, item, parameter).value)


def crf(rate, years):
    return rate * (1 + rate) ** years / ((1 + rate) ** years - 1)


def test_tiers_take_their_trends_from_the_library(default_scenario):
    api = default_scenario.cases["realist"].options.frontier_api
    assert api.frontier_tier.price_change == library("defaults", "trend", "frontier_api_price_change") == -0.05
    assert api.open_tier.price_change == library("defaults", "trend", "fixed_capability_price_change") == -0.90
    used = default_scenario.assumptions_used["realist"]
    assert used[("options", "frontier-api", "serving_cost", "server_capex")].key == "gpus:gb200:server_cost"


def test_owner_cost_per_gpu_year_by_hand():
    # one GB200 at the library's defaults: server 47,200 USD over 5 yr at 6 % plus 0.5 %/yr,
    # and its share of a 12.3 USD/W facility (20 yr, 2 %/yr) for its IT nameplate
    server, watts = library("gpus", "gb200", "server_cost"), (
        library("gpus", "gb200", "board_power") * library("defaults", "server", "overhead_factor"))
    expected = (server * (crf(0.06, 5) + 0.005) + watts * 12.3 * (crf(0.06, 20) + 0.02))
    assert cost.owner_cost_per_gpu_year(server, 5, 0.005, watts, 12.3, 20, 0.02, 0.06) == \
        pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(47_200 * 0.242396 + watts * 12.3 * 0.107185, rel=1e-5)
    # with no capital cost of money it is straight-line
    assert cost.owner_cost_per_gpu_year(100.0, 4, 0.0, 0.0, 0.0, 1, 0.0, 0.0) == pytest.approx(25.0)


def test_the_floor_is_the_offshore_fleets_cost_with_the_markup(default_plan):
    api = default_plan.scenario.cases["realist"].options.frontier_api.serving_cost
    quantities, shared = default_plan.chain
    fa = quantities["frontier-api"]
    # the offshore fleet moves to the newest generation each year, priced as bought that year
    rows = default_plan.rows
    year = rows[rows["scenario"] == "realist"].drop_duplicates("year")
    watts = np.array([library("gpus", gpu, "board_power") for gpu in year["fa_gpu"]]) * library(
        "defaults", "server", "overhead_factor")
    assert year["fa_gpu"].iloc[0] == "gb200" and year["fa_gpu"].iloc[-1] == "gb300-x2035"
    assert year["fa_serving_server_capex"].iloc[0] == api.server_capex
    per_gpu = (year["fa_serving_server_capex"].to_numpy() * (crf(api.discount_rate, api.server_lifetime)
                                                             + api.server_om)
               + watts * api.facility_capex * (crf(api.discount_rate, api.facility_lifetime)
                                                + api.facility_om))
    # the offshore fleet by tier, and its energy, from the independent sums the option reports
    gpus = fa["gpus_offshore"][0]
    energy = fa["energy_offshore"][0]
    floor = fa["_api_floor"][0].sum(axis=0)
    np.testing.assert_allclose(floor, (1 + api.markup) * (gpus * per_gpu + energy * api.electricity_price),
                               rtol=1e-9)


def test_list_prices_follow_each_tiers_trend(tmp_path):
    # one use case, no growth of tokens per request, no floor (serving costs set to zero):
    # the frontier tier's spend per token falls 5 %/yr, the open tier's 90 %/yr
    options = open(capacity.load_scenario().source).read().split("options:")[1].split("variants:")[0]
    (tmp_path / "one.yaml").write_text(
        "name: one\nworldview: realist\nhorizon: {first_year: 2026, last_year: 2035}\n"
        "regions: {NLD: {}}\nuse_cases: {drafting: {token_growth: 0}}\noptions:" + options)
    free = {f"options.frontier-api.serving_cost.{name}": 0 for name in
            ("server_capex", "facility_capex", "electricity_price")}
    free["options.frontier-api.offshore.after_roadmap"] = "last"   # only the free GPU
    plan = capacity.run(tmp_path / "one.yaml", overrides=free)
    fa, shared = plan.chain[0]["frontier-api"], plan.chain[1]
    work = shared["work"]
    tokens_by_tier = shared["cells"].sum_tiers(work["input_tokens"] + work["output_tokens"])[0]
    per_token = fa["_api_listed"][0] / tokens_by_tier
    years = np.arange(per_token.shape[1])
    price_year = plan.scenario.cases["one"].options.frontier_api.price_year
    since = 2026 - price_year + years
    np.testing.assert_allclose(per_token[0] / per_token[0, 0], 0.95 ** (since - since[0]), rtol=1e-9)
    np.testing.assert_allclose(per_token[1] / per_token[1, 0], 0.10 ** (since - since[0]), rtol=1e-9)
    assert np.all(fa["floor_uplift"] == 0)


def test_the_floor_binds_on_the_open_tier_once_its_price_has_fallen(default_plan):
    fa = default_plan.chain[0]["frontier-api"]
    listed, floor = fa["_api_listed"][0], fa["_api_floor"][0]
    assert listed[0, 0] > floor[0, 0] and listed[1, 0] > floor[1, 0]   # 2026: list prices above cost
    assert listed[1, -1] < floor[1, -1]                                  # 2035: 0.1^9 of the 2026 price
    uplift = default_plan.table("Cost|Operating|Price floor", option="frontier-api")
    assert uplift.iloc[0].max() == 0 and uplift.iloc[-1].min() > 0


@pytest.fixture(scope="module")
def base():
    scenario = capacity.load_scenario()
    return scenario_rows(scenario), tables_for(scenario.catalog)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frontier=st.floats(-0.9, 0.3), open_change=st.floats(-0.99, 0.0), markup=st.floats(0.0, 2.0),
       scale=st.floats(0.05, 20.0), capex=st.floats(0.0, 3.0))
def test_api_price_is_never_below_its_serving_cost_floor(base, frontier, open_change, markup, scale, capex):
    rows, tables = base
    rows = rows.assign(fa_frontier_price_change=frontier, fa_open_price_change=open_change,
                       fa_serving_markup=markup, potential_users=rows["potential_users"] * scale,
                       fa_serving_server_capex=rows["fa_serving_server_capex"] * capex)
    _, quantities, shared = evaluate(rows, tables)
    fa = quantities["frontier-api"]
    paid = fa["operating"]
    floor, listed = fa["_api_floor"].sum(axis=1), fa["_api_listed"].sum(axis=1)
    present = shared["present"]
    assert np.all(paid[present] >= floor[present] * (1 - 1e-12))
    assert np.all(paid[present] >= listed[present] * (1 - 1e-12))
    np.testing.assert_allclose(fa["floor_uplift"][present], (paid - listed)[present], rtol=1e-9,
                               atol=1e-6)
    assert np.all(fa["floor_uplift"][present] >= -1e-6)
    # the floor per token never falls below the bare energy cost of the fleet
    energy_cost = fa["energy_offshore"] * rows["fa_serving_electricity_price"].iloc[0]
    assert np.all(paid[present] >= energy_cost[present] * (1 - 1e-12))


def test_the_rent_floor_by_hand_for_an_h100_in_the_netherlands(default_plan):
    # 2026: an H100 rented in a Dutch region; the provider's cost of owning it, with its markup
    case = default_plan.scenario.cases["realist"]
    floor = case.options.hosted_open_weight.rent_floor
    # the H100's server price is quoted for 2024 and falls 14 %/yr after (a generation's price)
    assert CATALOG.get("gpus", "h100-sxm", "server_cost").source_date == "2024"
    server = library("gpus", "h100-sxm", "server_cost") * (1 - 0.14) ** 2
    watts = library("gpus", "h100-sxm", "board_power") * library("defaults", "server", "overhead_factor")
    hours = 365.25 * 24
    owner = (server * (crf(floor.discount_rate, floor.server_lifetime) + floor.server_om)
             + watts * floor.facility_capex * (crf(floor.discount_rate, floor.facility_lifetime)
                                                + floor.facility_om)) / hours
    energy = watts / 1000 * case.options.hosted_open_weight.pue * case.regions["NLD"].electricity_price * 3.6e6
    expected = (1 + floor.markup) * (owner + energy)
    modelled = default_plan.chain[0]["hosted-open-weight"]["_rent_floor"][0, 0] * 3600
    assert modelled == pytest.approx(expected, rel=1e-9)
    # in 2026 the floor lies below the H100's market rent, so the market price is what is paid
    market = default_plan.chain[0]["hosted-open-weight"]["_rent_market"][0, 0] * 3600
    assert market == pytest.approx(library("gpus", "h100-sxm", "rental_price") * 3600, rel=1e-12)
    assert modelled < market


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trend=st.floats(-0.9, 0.5), markup=st.floats(0.0, 2.0), rent=st.floats(0.01, 5.0),
       scale=st.floats(0.05, 20.0), ratio=st.floats(0.3, 1.0), year_round=st.booleans(),
       host=st.floats(0.0, 3.0))
def test_rent_is_never_below_the_owners_cost_of_the_same_gpu(base, trend, markup, rent, scale, ratio,
                                                               year_round, host):
    rows, tables = base
    rows = rows.assign(ho_rental_price_change=trend, ho_floor_markup=markup,
                       ho_rental_price=rows["ho_rental_price"] * rent, ho_reserved_price_ratio=ratio,
                       ho_year_round=float(year_round), ho_supply=0.0,
                       potential_users=rows["potential_users"] * scale)
    _, quantities, shared = evaluate(rows, tables)
    hosted = quantities["hosted-open-weight"]
    present = shared["present"]
    floor_without_markup = hosted["_rent_floor"] / (1 + markup)
    held = hosted["held_gpus"] + hosted["held_gpus_offshore"]
    paid_per_gpu_s = np.divide(hosted["operating"], held * 365.25 * 86400, out=np.zeros_like(held),
                               where=held > 0)
    busy = present & (held > 0)
    # every year and generation: rent per GPU-hour held >= the owner's cost, and >= the floor
    # with the markup; at least the reserved market rent, at most the on-demand one (or the floor)
    assert np.all(paid_per_gpu_s[busy] >= floor_without_markup[busy] * (1 - 1e-12))
    assert np.all(paid_per_gpu_s[busy] >= hosted["_rent_floor"][busy] * (1 - 1e-12))
    assert np.all(paid_per_gpu_s[busy] >= ratio * hosted["_rent_market"][busy] * (1 - 1e-12))
    assert np.all(paid_per_gpu_s[busy] <= np.fmax(hosted["_rent_market"], hosted["_rent_floor"])[busy]
                  * (1 + 1e-12))
    assert np.all(hosted["floor_uplift"][present] >= -1e-6)
    # bought per token instead, a host's price never falls below its cost of serving the same
    # load on the same generation at the target utilisation (the rent floor with its markup)
    rows = rows.assign(ho_supply=1.0, **{column: rows[column] * host for column in rows.columns
                                         if column.startswith(("ho_frontier_host_", "ho_open_host_"))})
    _, quantities, shared = evaluate(rows, tables)
    hosted = quantities["hosted-open-weight"]
    rented = hosted["_rented"]
    host_cost = (rented["busy"] / rows["target_utilisation"].iloc[0]
                 * hosted["_rent_floor"][:, None, :] * 365.25 * 86400)
    assert np.all(hosted["_host_by_tier"] >= host_cost * (1 - 1e-12))
    np.testing.assert_allclose(hosted["operating"], hosted["_host_by_tier"].sum(axis=1), rtol=1e-12)
