"""Routes, portfolios, access shocks and limits: hand-computed cases and identities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import capacity


def _scenario(tmp_path, extra: str = "", region: str = "{}", first=2026, last=2035,
              use_case="drafting", options: str | None = None) -> Path:
    """The default scenario's options with one use case, realist only, plus `extra` YAML."""
    default_options = (Path(capacity.load_scenario().source).read_text().split("options:")[1]
                       .split("variants:")[0].join(["options:", ""]))
    path = tmp_path / "one.yaml"
    path.write_text(f"name: one\nworldview: realist\nhorizon: {{first_year: {first}, last_year: {last}}}\n"
                    f"regions: {{NLD: {region}}}\nuse_cases: {{{use_case}: {{}}}}\n"
                    + (options or default_options) + "\n" + extra)
    return path


def _series(plan, option, variable):
    data = plan.results[(plan.results["option"] == option) & (plan.results["variable"] == variable)]
    return data.set_index("year")["value"]


def _frontier_tokens(plan):
    """Frontier-tier tokens a year [token/yr] (the demand stage's own split)."""
    quantities, shared = plan.chain
    work, cells = shared["work"], shared["cells"]
    return cells.sum_series(work["input_tokens"][:, 0] + work["output_tokens"][:, 0])[0]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return capacity.run(_scenario(tmp_path_factory.mktemp("base")))


def test_portfolios_on_one_route_are_the_pure_options(tmp_path, base):
    plan = capacity.run(_scenario(tmp_path, """
portfolios:
  all-api: {frontier: {api: 1}, open: {api: 1}}
  all-hosted: {frontier: {hosted: 1}, open: {hosted: 1}}
  all-owned: {frontier: {owned: 1}, open: {owned: 1}}
"""))
    for portfolio, pure in (("all-api", "frontier-api"), ("all-hosted", "hosted-open-weight"),
                            ("all-owned", "domestic-buildout")):
        mine = plan.results[plan.results["option"] == portfolio].set_index(["variable", "year"])["value"]
        theirs = plan.results[plan.results["option"] == pure].set_index(["variable", "year"])["value"]
        np.testing.assert_allclose(mine.sort_index(), theirs.sort_index(), rtol=1e-12, atol=0)
    # and the pure options are those of a run without portfolios, shocks or limits
    pure = plan.results[plan.results["option"].isin(["frontier-api", "hosted-open-weight", "domestic-buildout"])]
    expected = base.results[base.results["option"].isin(pure["option"].unique())]
    np.testing.assert_array_equal(pure["value"].to_numpy(), expected["value"].to_numpy())


def test_shocks_and_limits_that_never_bind_change_nothing(tmp_path, base):
    plan = capacity.run(_scenario(tmp_path, """
shocks:
  - {kind: price, start: 2040, multiplier: 3}
  - {kind: cutoff, start: 2036, routes: [api], use_cases: [drafting]}
""", region="{limits: {gpu_allocation: 1e12, grid_connection: 1e9 MW/yr, build_rate: {2026: null}}}"))
    np.testing.assert_array_equal(plan.results["value"].to_numpy(), base.results["value"].to_numpy())
    assert (_series(plan, "domestic-buildout", "Demand|Unserved") == 0).all()


def test_a_cutoff_leaves_the_pure_api_option_unserved_from_its_year(tmp_path, base):
    plan = capacity.run(_scenario(tmp_path, "shocks: [{kind: cutoff, start: 2028}]"))
    unserved = _series(plan, "frontier-api", "Demand|Unserved")
    tokens = _series(plan, "frontier-api", "Demand|Tokens")
    assert (unserved.loc[:2027] == 0).all()
    np.testing.assert_allclose(unserved.loc[2028:], tokens.loc[2028:], rtol=1e-12)
    assert (_series(plan, "frontier-api", "Cost|Total").loc[2028:] == 0).all()
    before = _series(base, "frontier-api", "Cost|Total").loc[:2027]
    np.testing.assert_allclose(_series(plan, "frontier-api", "Cost|Total").loc[:2027], before, rtol=1e-12)
    # options that do not use the API are untouched
    for option in ("hosted-open-weight", "domestic-buildout"):
        np.testing.assert_array_equal(_series(plan, option, "Cost|Total"), _series(base, option, "Cost|Total"))


def test_the_hedged_fallback_serves_the_frontier_tier_below_frontier_after_its_ramp(tmp_path):
    """Cut-off in 2028, before owned capacity arrives (2031): the frontier tier moves to rented
    capacity after the fallback's ramp of half a year, so half of 2028's frontier work is lost
    and all of it is served by open-weight models from 2029."""
    plan = capacity.run(_scenario(tmp_path, """
shocks: [{kind: cutoff, start: 2028}]
portfolios:
  hedged:
    frontier: {api: 1}
    open: {owned: 1}
    reserve: {share: 0.2, switch_time: 0.25 yr}
    fallback: [{route: hosted, ramp_time: 0.5 yr}]
"""))
    frontier = _frontier_tokens(plan)
    years = np.arange(2026, 2036)
    unserved = _series(plan, "hedged", "Demand|Unserved").to_numpy()
    below = _series(plan, "hedged", "Demand|Served below frontier").to_numpy()
    np.testing.assert_allclose(unserved, np.where(years == 2028, 0.5 * frontier, 0.0), rtol=1e-12, atol=0)
    np.testing.assert_allclose(below, np.where(years >= 2028, np.where(years == 2028, 0.5, 1.0) * frontier, 0.0),
                               rtol=1e-12)


def test_a_reserve_takes_over_within_its_switch_time(tmp_path):
    """Cut-off in 2032, after owned capacity arrives (2031): a reserve sized for the whole
    frontier tier serves it after a quarter of a year; with a 0.2 reserve the rest waits for the
    rented fallback's half year."""
    def run(share, fallback):
        return capacity.run(_scenario(tmp_path, f"""
shocks: [{{kind: cutoff, start: 2032}}]
portfolios:
  hedged:
    frontier: {{api: 1}}
    open: {{owned: 1}}
    reserve: {{share: {share}, switch_time: 0.25 yr}}
    fallback: {fallback}
"""))
    years = np.arange(2026, 2036)
    full = run(1.0, "[]")
    frontier = _frontier_tokens(full)
    np.testing.assert_allclose(_series(full, "hedged", "Demand|Unserved").to_numpy(),
                               np.where(years == 2032, 0.25 * frontier, 0.0), rtol=1e-12, atol=0)
    # the reserve stands from arrival: more owned GPUs than the open tier alone needs
    assert (_series(full, "hedged", "Capacity|GPUs").loc[2031:] > 0).all()
    part = run(0.2, "[{route: hosted, ramp_time: 0.5 yr}]")
    # 2032: the reserve takes 0.2 (it switches within the quarter), rented half of the 0.8 left
    np.testing.assert_allclose(_series(part, "hedged", "Demand|Unserved").to_numpy(),
                               np.where(years == 2032, 0.4 * frontier, 0.0), rtol=1e-12, atol=0)
    # the reserve costs money before it is called
    base_cost = _series(run(0.0, "[]"), "hedged", "Cost|Total")
    assert (_series(full, "hedged", "Cost|Total").loc[2031:] > base_cost.loc[2031:]).all()


def test_a_price_shock_multiplies_api_spend(tmp_path, base):
    plan = capacity.run(_scenario(tmp_path, "shocks: [{kind: price, start: 2027, end: 2029, multiplier: 3}]"))
    shocked = _series(plan, "frontier-api", "Cost|Total").to_numpy()
    before = _series(base, "frontier-api", "Cost|Total").to_numpy()
    # list prices x 3, each tier never below the labs' serving floor (which the shock leaves)
    route = base.chain[0]["frontier-api"]["_routes"]["api"]
    listed, floor = route["_api_listed"][0], route["_api_floor"][0]
    expected = np.maximum(3 * listed, floor).sum(axis=0)
    years = np.arange(2026, 2036)
    hit = (years >= 2027) & (years <= 2029)
    np.testing.assert_allclose(shocked[hit], expected[hit], rtol=1e-12)
    np.testing.assert_allclose(shocked[~hit], before[~hit], rtol=1e-12)
    assert (shocked[hit] > 2 * before[hit]).all()


def test_a_quota_caps_the_tokens_bought(tmp_path, base):
    tokens = _series(base, "frontier-api", "Demand|Tokens")
    quota = float(tokens.loc[2030]) / 2
    plan = capacity.run(_scenario(tmp_path, f"shocks: [{{kind: quota, start: 2026, quota: {quota}}}]"))
    unserved = _series(plan, "frontier-api", "Demand|Unserved")
    np.testing.assert_allclose(unserved, np.maximum(tokens - quota, 0.0), rtol=1e-9, atol=1.0)


def test_a_widening_open_weight_lag_leaves_frontier_work_unserved_on_open_routes(tmp_path):
    plan = capacity.run(_scenario(tmp_path, "shocks: [{kind: open-lag, start: 2030, open_share: 0.6}]"))
    frontier = _frontier_tokens(plan)
    years = np.arange(2026, 2036)
    for option in ("hosted-open-weight", "domestic-buildout"):
        np.testing.assert_allclose(_series(plan, option, "Demand|Unserved").to_numpy(),
                                   np.where(years >= 2030, 0.4 * frontier, 0.0), rtol=1e-12, atol=0)
        np.testing.assert_allclose(_series(plan, option, "Demand|Served below frontier").to_numpy(),
                                   np.where(years >= 2030, 0.6, 1.0) * frontier, rtol=1e-12)
    assert (_series(plan, "frontier-api", "Demand|Unserved") == 0).all()
    assert (_series(plan, "frontier-api", "Demand|Served below frontier") == 0).all()


ON_H100 = """    frontier_tier: {model: deepseek-v3}
    open_tier: {model: gpt-oss-120b}
    gpu: h100-sxm
    after_roadmap: last
    precision: fp8
    max_tpot_ms: 50
"""
H100_OWNED = f"""
options:
  frontier-api:
    frontier_tier: {{proxy_model: deepseek-v3}}
    open_tier: {{product: gpt-5-mini, proxy_model: gpt-oss-120b}}
    offshore: {{gpu: gb200, precision: fp8, max_tpot_ms: 50}}
  hosted-open-weight:
{ON_H100}    location: offshore
  domestic-buildout:
{ON_H100}    build_lead_time: 0
    grid_connection_lead_time: 0
    bridge: hosted-open-weight
"""
"""H100s everywhere (one H100-equivalent each), owned capacity from the first year."""


def test_an_allocation_cap_bounds_domestic_gpus_and_reports_what_it_cannot_serve(tmp_path):
    """H100s only (one H100-equivalent each), arriving at once: the fleet never holds more than
    the cumulative allocation, and the unserved demand is the share the capped fleet lacks."""
    free = capacity.run(_scenario(tmp_path, options=H100_OWNED, use_case="software-development"))
    needed = _series(free, "domestic-buildout", "Capacity|GPUs")
    cap = float(needed.loc[2030]) / 8          # a cap that binds from the first years
    plan = capacity.run(_scenario(tmp_path, options=H100_OWNED, use_case="software-development",
                                  region=f"{{limits: {{gpu_allocation: {cap}}}}}"))
    gpus = _series(plan, "domestic-buildout", "Capacity|GPUs")
    years = np.arange(2026, 2036)
    server = 2 * 8   # GPUs are bought in whole servers, for each tier
    assert (gpus.to_numpy() <= cap * (years - 2025) + server).all()
    quantities = plan.chain[0]["domestic-buildout"]
    bought = quantities["_bought_gpus"].sum(axis=1)[0]
    assert (bought <= cap + server).all() and bought.max() > cap * 0.9
    share_served = 1 - _series(plan, "domestic-buildout", "Demand|Unserved") / _series(plan, "domestic-buildout", "Demand|Tokens")
    # what the capped fleet can serve is its share of the fleet the demand needs (rounding to servers aside)
    np.testing.assert_allclose(share_served.to_numpy(), np.minimum(gpus / needed, 1.0).to_numpy(), atol=0.02)
    binding = _series(plan, "domestic-buildout", "Limits|GPU allocation|Binding")
    assert binding.loc[2030] == 1 and (binding[share_served < 0.999] == 1).all()
    shortfall = _series(plan, "domestic-buildout", "Capacity|Shortfall")
    np.testing.assert_allclose(shortfall.to_numpy(), np.maximum(needed - gpus, 0).to_numpy(), atol=server)


def test_a_grid_limit_bounds_domestic_facility_growth(tmp_path):
    free = capacity.run(_scenario(tmp_path, options=H100_OWNED, use_case="software-development"))
    mw = _series(free, "domestic-buildout", "Power|Facility")
    limit = float(mw.loc[2035]) / 20
    plan = capacity.run(_scenario(tmp_path, options=H100_OWNED, use_case="software-development",
                                  region=f"{{limits: {{grid_connection: {limit} MW/yr}}}}"))
    facility = _series(plan, "domestic-buildout", "Power|Facility").to_numpy()
    years = np.arange(2026, 2036)
    assert (facility <= limit * (years - 2025) * 1.02 + 1.0).all()
    assert _series(plan, "domestic-buildout", "Limits|Grid connection|Binding").loc[2035] == 1
    assert _series(plan, "domestic-buildout", "Demand|Unserved").loc[2035] > 0


def _pooled_scenario(tmp_path, pooled: str, portfolios: str) -> Path:
    path = _scenario(tmp_path, "portfolios:\n" + portfolios)
    path.write_text(path.read_text().replace("options:\n", f"options:\n  pooled: {pooled}\n", 1))
    return path


def test_a_pooled_share_costs_its_share_of_the_machine_and_carries_its_allocation(tmp_path):
    from capacity.model.stages.cost import capital_recovery_factor
    plan = capacity.run(_pooled_scenario(tmp_path, "{}", "  pool: {frontier: {pooled: 1}, open: {pooled: 1}}\n"))
    machine = plan.scenario.cases["one"].options.pooled
    # the library's AI Factory (JUPITER-sized): half its 24,000 GPUs for half its cost
    assert (machine.gpus, machine.allocation_share, machine.cost_share) == (24000, 0.5, 0.5)
    gpus = _series(plan, "pool", "Capacity|GPUs")
    assert (gpus == machine.allocation_share * machine.gpus).all()
    capital = _series(plan, "pool", "Cost|Capital")
    expected = machine.cost_share * machine.capex * capital_recovery_factor(machine.discount_rate, machine.lifetime)
    np.testing.assert_allclose(capital, expected, rtol=1e-12)
    assert (_series(plan, "pool", "Demand|Unserved") == 0).all()
    np.testing.assert_allclose(_series(plan, "pool", "Sovereignty|Domestic share"), 100.0, rtol=1e-12)


def test_what_a_small_pooled_allocation_cannot_carry_goes_down_the_chain(tmp_path):
    portfolios = ("  pool: {frontier: {pooled: 1}, open: {pooled: 1}}\n"
                  "  pool-then-rent: {frontier: {pooled: 1}, open: {pooled: 1}, fallback: [{route: hosted}]}\n")
    plan = capacity.run(_pooled_scenario(tmp_path, "{gpus: 160}", portfolios))
    tokens = _series(plan, "pool", "Demand|Tokens")
    unserved = _series(plan, "pool", "Demand|Unserved")
    assert (unserved.loc[2030:] > 0).all() and (unserved <= tokens).all()
    needed = plan.chain[0]["pool"]["_routes"]["pooled"]
    shortfall = _series(plan, "pool", "Capacity|Shortfall")
    assert (shortfall.loc[2030:] > 0).all()
    # the pooled machine never carries more than its allocation
    assert (needed["_needed_gpus"] <= needed["_allocation"] + 16).all()
    assert (_series(plan, "pool-then-rent", "Demand|Unserved") == 0).all()
    assert (_series(plan, "pool-then-rent", "Cost|Total") > _series(plan, "pool", "Cost|Total")).loc[2030:].all()


def test_a_portfolio_on_a_pooled_machine_that_is_not_there_is_refused(tmp_path):
    path = _scenario(tmp_path, "portfolios:\n  pool: {frontier: {pooled: 1}, open: {pooled: 1}}\n")
    with pytest.raises(capacity.InputError, match=r"portfolios\.pool.*options\.pooled"):
        capacity.run(path)


def test_a_shock_on_a_use_case_the_scenario_lacks_is_refused_where_it_is_written(tmp_path):
    path = _scenario(tmp_path, "shocks: [{kind: cutoff, start: 2028, use_cases: [draftin]}]")
    with pytest.raises(capacity.InputError, match=r"one\.yaml:\d+.*shocks\.0\.use_cases.*'draftin'.*drafting"):
        capacity.run(path)


def test_an_allocation_as_a_share_of_world_shipments_follows_the_librarys_series(tmp_path):
    plan = capacity.run(_scenario(tmp_path, region="{limits: {gpu_allocation: {world_share: 0.001}}}"))
    catalog = plan.scenario.catalog
    table = plan.scenario.cases["one"].regions["NLD"].limits.gpu_allocation
    shipped = {int(i.split("-")[1]): float(catalog.get("limits", i, "accelerator_shipments").value)
               for i in catalog.ids("limits") if i.startswith("world-")}
    assert table == pytest.approx({year: 0.001 * value for year, value in shipped.items()})
    # after the series ends its last year holds: 0.1 % of 2025's 13.17 million H100e
    rows = plan.rows
    np.testing.assert_allclose(rows.loc[rows["year"] == 2030, "limit_gpu_allocation"], 0.001 * shipped[max(shipped)])
