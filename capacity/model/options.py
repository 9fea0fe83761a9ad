"""Options as portfolios of supply routes, each evaluated on the same demand rows.

An option assigns each tier of each row (scenario x region x year x use case) to routes
(`capacity.model.routes`) with shares; the three pure options put everything on one route,
portfolios (the default `hedged` and a scenario's own) mix them. `evaluate(rows, tables,
supply)` allocates the demand (the owned route's bridge before its capacity arrives, access
shocks, the fallback chain, the limits on domestic capacity), evaluates each route on the demand
it serves, and sums them: every variable on a grid of series (scenario x region) by year, in
canonical units, plus what no route could serve. Array arithmetic over rows and cells
throughout; the only Python loops run over options, routes and fallback steps.

Demand splits into two tiers per row: the share that needs a frontier model and the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.scenario.models import PURE_OPTIONS, ROUTES
from .cells import TIERS, Cells, _f, ids
from .limits import LIMITS, capped_growth, capped_stock, served_share
from .lookup import Tables
from .routes import frontier_api, hosted_open_weight, owned, pooled, request_shapes, tier_throughput
from .shocks import Events, compile_shocks, ramp
from .stages import cost, demand, fleet, power

OPTIONS = tuple(PURE_OPTIONS)
"""The pure options, in the order every view shows them (portfolios follow)."""
DEFAULT_OPTIONS = OPTIONS + ("hedged",)
"""The options of a scenario that declares no portfolio of its own."""
API, HOSTED, OWNED, POOLED = (ROUTES.index(name) for name in ("api", "hosted", "owned", "pooled"))
OPEN_ROUTES = slice(HOSTED, POOLED + 1)
"""The routes that serve open-weight models (hosted, owned, pooled): adjacent in `ROUTES`, so a
slice (a view, not a gathered copy)."""
assert list(range(len(ROUTES)))[OPEN_ROUTES] == [HOSTED, OWNED, POOLED]
"""The routes that serve open-weight models (every route but the API)."""

ROW_COLUMNS = {
    # identity
    "scenario": "scenario (variant) name", "region": "region code", "use_case": "use case id",
    "year": "calendar year", "first_year": "first year of the horizon",
    # demand
    "potential_users": "people who could use it [1]",
    "adoption": "share of potential users active; NaN to use the logistic curve [1]",
    "adoption_saturation": "[1]", "adoption_midpoint_year": "[yr]", "adoption_steepness": "[1/yr]",
    "requests_per_user_per_day": "[1/day]", "working_days_per_year": "the region's [day/yr]",
    "active_days_per_year": "days a year the use case runs [day/yr]",
    "demand_scale": "multiplies every use case's requests [1]",
    "input_tokens": "per request in the first year [token]",
    "output_tokens": "per request in the first year, reasoning included [token]",
    "token_growth": "[1/yr]", "token_growth_years": "years the growth lasts [yr]",
    "frontier_share": "[1]", "peak_to_average": "[1]",
    "cached_input_share": "share of prompt tokens served from a prefix cache [1]",
    "turns_per_session": "model calls per request (session) [1]",
    "context_growth_per_turn": "tokens the context grows by per call [token]",
    "session_length_dispersion": "E[T^2] / E[T]^2 of calls per session [1]",
    # region
    "electricity_consumption": "[J/yr]", "peak_demand": "[W]", "electricity_price": "[USD/J]",
    "grid_co2_intensity": "[kg/J]",
    # fleet and finance
    "target_utilisation": "[1]", "redundancy": "[1]", "usable_hbm_fraction": "[1]",
    "max_batch_size": "sequences per engine replica [1]", "max_tokens_per_step": "[token]",
    "server_overhead": "[1]", "idle_power_fraction": "[1]", "discount_rate": "[1/yr]",
    # frontier-api: prices per tier, and the offshore fleet behind them
    "fa_frontier_input_price": "[USD/token]", "fa_frontier_output_price": "[USD/token]",
    "fa_open_input_price": "[USD/token]", "fa_open_output_price": "[USD/token]",
    "fa_frontier_cached_price": "[USD/token]", "fa_open_cached_price": "[USD/token]",
    "fa_price_change": "[1/yr]", "fa_price_year": "[yr]",
    "fa_frontier_model": "proxy model id", "fa_open_model": "proxy model id",
    "fa_gpu": "GPU generation of the offshore fleet this year",
    "fa_serving_server_capex": "server price per GPU of that generation bought this year [USD/GPU]", "fa_precision": "bf16|fp8|fp4", "fa_max_tpot": "[s], inf for none",
    "fa_gpus_per_replica": "[GPU], NaN to choose", "fa_pue": "[1]", "fa_grid_co2_intensity": "[kg/J]",
    # hosted-open-weight
    "ho_frontier_model": "model id", "ho_open_model": "model id",
    "ho_gpu": "GPU generation rented this year (roadmap)",
    "ho_precision": "", "ho_max_tpot": "[s]", "ho_gpus_per_replica": "[GPU]", "ho_pue": "[1]",
    "ho_domestic": "rented GPUs stand on national soil [bool]",
    "ho_access_agreement": "the domestic region's provider guarantees access (not exposed) [bool]",
    "ho_rental_price": "of this year's GPU, at the price year [USD/GPU/s]",
    "ho_year_round": "1: a peak-sized reserved fleet all year; 0: reserved baseline and on-demand burst",
    "ho_reserved_price_ratio": "reserved over on-demand rent [1]",
    "ho_supply": "0 rent, 1 per-token from hosts, 2 auto (the cheaper per tier and year)",
    "ho_frontier_host_input_price": "[USD/token]", "ho_frontier_host_output_price": "[USD/token]",
    "ho_frontier_host_cached_input_price": "[USD/token]", "ho_open_host_input_price": "[USD/token]",
    "ho_open_host_output_price": "[USD/token]", "ho_open_host_cached_input_price": "[USD/token]",
    "ho_host_price_change": "[1/yr]", "ho_host_price_year": "[yr]",
    "ho_rent_year": "year the rent of this year's GPU moves from: price year or launch [yr]",
    "ho_server_capex": "the provider's server price per GPU of this year's GPU, bought this year [USD/GPU]", "ho_rental_price_change": "[1/yr]", "ho_price_year": "[yr]",
    # domestic-buildout
    "do_frontier_model": "model id", "do_open_model": "model id",
    "do_gpu": "reference GPU id (what capacity is counted in)",
    "do_gpu_bought": "GPU generation bought in this year (roadmap)",
    "do_precision": "", "do_max_tpot": "[s]", "do_gpus_per_replica": "[GPU]", "do_pue": "[1]",
    "do_server_capex": "all-in server price per GPU of the generation bought this year, in that year [USD/GPU]",
    "do_facility_capex": "[USD/W of IT]", "do_grid_connection_capex": "[USD/W of facility]",
    "do_server_lifetime": "[yr]", "do_facility_lifetime": "[yr]", "do_grid_lifetime": "[yr]",
    "do_server_om": "[1/yr]", "do_facility_om": "[1/yr]", "do_discount_rate": "[1/yr]",
    "do_arrival_year": "first year domestic capacity serves: build or grid lead time (the "
                       "region's grid queue when given) after the first year [yr]",
    "do_bridge": "option serving demand before arrival",
    # limits on what the region may add of domestic capacity a year (inf: none)
    "limit_gpu_allocation": "H100-equivalents delivered a year [1/yr]",
    "limit_grid_connection": "facility load new datacenters may connect a year [W/yr]",
    "limit_build_rate": "datacenter capacity the country may commission a year [W/yr]",
}


def workload(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """Demand stage over rows: tokens per year, per request, and rates, split by tier."""
    year = _f(rows, "year")
    # tokens per request grow for `token_growth_years`, then stay level
    since = np.minimum(year - _f(rows, "first_year"), _f(rows, "token_growth_years"))
    adoption = np.where(np.isnan(_f(rows, "adoption")),
                        demand.logistic_adoption(year, _f(rows, "adoption_saturation"),
                                                 _f(rows, "adoption_midpoint_year"),
                                                 _f(rows, "adoption_steepness")),
                        _f(rows, "adoption"))
    users = demand.active_users(_f(rows, "potential_users"), 1.0, adoption)
    active_days = _f(rows, "active_days_per_year")
    requests = demand.requests_per_year(users, _f(rows, "requests_per_user_per_day"),
                                        active_days) * _f(rows, "demand_scale")
    first_context = demand.tokens_per_request(_f(rows, "input_tokens"), _f(rows, "token_growth"), since)
    output_per_call = demand.tokens_per_request(_f(rows, "output_tokens"), _f(rows, "token_growth"), since)
    turns = _f(rows, "turns_per_session")
    # a session's shape holds as its tokens grow: its first context and its growth per turn alike
    growth = demand.tokens_per_request(_f(rows, "context_growth_per_turn"), _f(rows, "token_growth"), since)
    input_per_call = demand.mean_context(first_context, growth, turns, _f(rows, "session_length_dispersion"))
    input_per_request, output_per_request = turns * input_per_call, turns * output_per_call
    share = _f(rows, "frontier_share")
    tier_share = np.stack([share, 1.0 - share], axis=1)
    input_tokens = (requests * input_per_request)[:, None] * tier_share
    output_tokens = (requests * output_per_request)[:, None] * tier_share
    return {
        "active_users": users, "requests": requests,
        "input_per_request": input_per_request, "output_per_request": output_per_request,
        # what one model call (turn) reads and writes: what the throughput model serves
        "input_per_call": input_per_call, "output_per_call": output_per_call,
        "input_tokens": input_tokens, "output_tokens": output_tokens,
        "peak_output_rate": demand.peak_rate(output_tokens, active_days[:, None],
                                             _f(rows, "peak_to_average")[:, None]),
        "average_output_rate": demand.average_rate(output_tokens),
        "cached_input_share": _f(rows, "cached_input_share"),
    }


@dataclass
class Supply:
    """The options of a run as arrays over rows: route shares, reserve, fallback chain, shocks.

    ``shares[o, r, i, t]`` is the share of row i's tier t that option o puts on route r;
    ``present[o, i]`` whether the row's case has option o; ``reserve[o, i]`` the share of the
    frontier tier's peak kept on owned capacity as a reserve, taking over after ``switch[o, i]``
    years; ``fallback[o, k, i]`` the route of step k of the fallback chain (-1: none), after
    ``fallback_ramp[o, k, i]`` years."""

    options: tuple[str, ...]
    shares: np.ndarray
    present: np.ndarray
    reserve: np.ndarray
    switch: np.ndarray
    fallback: np.ndarray
    fallback_ramp: np.ndarray
    events: Events
    pooled: pd.DataFrame | None = None
    """The pooled route's settings per row (``po_*`` columns from `options.pooled`; NaN where
    the row's case has none), or None when no case has a pooled machine."""


def pure_supply(rows: pd.DataFrame, events: Events | None = None) -> Supply:
    """The three pure options over `rows`, without portfolios (and without shocks unless given)."""
    return _supply(rows, list(OPTIONS), {}, events or Events.none(len(rows)))


def supply_for(scenario, rows: pd.DataFrame, shocks_of: dict[str, list] | None = None) -> Supply:
    """The pure options and every enabled portfolio of the scenario's cases, with their shocks
    (or `shocks_of[case]`), over `rows`."""
    from ..data.errors import InputError
    names = list(OPTIONS)
    portfolios: dict[str, dict] = {}
    for case_name, case in scenario.cases.items():
        for name, portfolio in case.portfolios.items():
            if portfolio.enabled:
                uses_pool = any(shares.get("pooled", 0) > 0 for tier in (portfolio.frontier, portfolio.open)
                                for shares in tier.values()) or any(s.route == "pooled" for s in portfolio.fallback)
                if uses_pool and case.options.pooled is None:
                    raise InputError(scenario.source, f"portfolios.{name} (scenario {case_name})",
                                     "a share or fallback on the pooled route", "options.pooled: the "
                                     "machine the country has a share of (see docs/scenario.md)")
                portfolios.setdefault(name, {})[case_name] = portfolio
                if name not in names:
                    names.append(name)
    pooled = pooled_settings(scenario, rows)
    exposed = None if pooled is None else (pooled["po_exposed"].to_numpy(float) > 0.5)
    supply = _supply(rows, names, portfolios, compile_shocks(scenario.cases, rows, shocks_of, exposed))
    supply.pooled = pooled
    return supply


def pooled_settings(scenario, rows: pd.DataFrame) -> pd.DataFrame | None:
    """The pooled route's settings per row from each case's `options.pooled` (None if no case
    has one): what `routes.pooled` and its throughput read."""
    machines = {name: case.options.pooled for name, case in scenario.cases.items()
                if case.options.pooled is not None}
    if not machines:
        return None
    of = rows["scenario"].map
    number = lambda get: of({n: float(get(m)) for n, m in machines.items()}).to_numpy(float)
    text = lambda get: of({n: get(m) for n, m in machines.items()}).to_numpy(object)
    return pd.DataFrame({
        "po_gpu": text(lambda m: m.gpu), "po_frontier_model": text(lambda m: m.frontier_tier.model),
        "po_open_model": text(lambda m: m.open_tier.model), "po_precision": text(lambda m: m.precision),
        "po_engine": text(lambda m: m.engine), "po_pue": number(lambda m: m.pue),
        "po_max_tpot": number(lambda m: np.inf if m.max_tpot_ms is None else m.max_tpot_ms),
        "po_gpus_per_replica": number(lambda m: np.nan if m.gpus_per_replica is None else m.gpus_per_replica),
        "po_gpus": number(lambda m: m.gpus), "po_allocation_share": number(lambda m: m.allocation_share),
        "po_cost_share": number(lambda m: m.cost_share), "po_capex": number(lambda m: m.capex),
        "po_first_year": number(lambda m: m.first_year), "po_lifetime": number(lambda m: m.lifetime),
        "po_om": number(lambda m: m.om), "po_discount_rate": number(lambda m: m.discount_rate),
        "po_domestic": number(lambda m: m.location == "domestic"),
        "po_exposed": number(lambda m: m.location != "domestic" and not m.access_agreement),
    })


def _supply(rows, names: list[str], portfolios: dict[str, dict], events: Events) -> Supply:
    n, n_options = len(rows), len(names)
    scenario, year = rows["scenario"].to_numpy(), rows["year"].to_numpy()
    steps = max([len(p.fallback) for by_case in portfolios.values() for p in by_case.values()] + [1])
    shares = np.zeros((n_options, len(ROUTES), n, len(TIERS)))
    present = np.zeros((n_options, n), bool)
    reserve, switch = np.zeros((n_options, n)), np.zeros((n_options, n))
    fallback = np.full((n_options, steps, n), -1)
    fallback_ramp = np.zeros((n_options, steps, n))
    for o, name in enumerate(names):
        if name in PURE_OPTIONS:
            shares[o, ROUTES.index(PURE_OPTIONS[name])] = 1.0
            present[o] = True
            continue
        for case_name, portfolio in portfolios[name].items():
            mine = scenario == case_name
            present[o] |= mine
            for t, tier in enumerate(TIERS):
                table = getattr(portfolio, tier)
                for start in sorted(table):            # a portfolio's year table: from that year on
                    when = mine & (year >= start)
                    for r, route in enumerate(ROUTES):
                        shares[o, r, :, t] = np.where(when, table[start].get(route, 0.0), shares[o, r, :, t])
            if portfolio.reserve is not None:
                reserve[o] = np.where(mine, portfolio.reserve.share, reserve[o])
                switch[o] = np.where(mine, portfolio.reserve.switch_time, switch[o])
            for k, step in enumerate(portfolio.fallback):
                fallback[o, k] = np.where(mine, ROUTES.index(step.route), fallback[o, k])
                fallback_ramp[o, k] = np.where(mine, step.ramp_time, fallback_ramp[o, k])
    return Supply(tuple(names), shares, present, reserve, switch, fallback, fallback_ramp, events)


def _scaled(work: dict, share: np.ndarray) -> dict:
    """The demand arrays of `work` times a (rows, tiers) share: what a route is given."""
    out = dict(work)
    if share.size and (share == 1.0).all():         # all of the demand (x 1.0 changes nothing)
        return out
    for name in ("input_tokens", "output_tokens", "peak_output_rate", "average_output_rate"):
        out[name] = work[name] * share
    return out


@dataclass
class Allocation:
    """What an option's routes serve, as (routes, rows, tiers) shares of each row's tier, and
    what is left unserved (rows, tiers), before and after the limits."""

    served: np.ndarray
    sized_owned: np.ndarray      # (rows, tiers): what owned capacity is sized for (reserve included)
    substitutable: np.ndarray    # unserved work an open-weight model could do
    frontier_only: np.ndarray    # unserved frontier-tier work only a frontier model can do


def allocate(supply: Supply, o: int, rows: pd.DataFrame, cells: Cells, tokens: np.ndarray) -> Allocation:
    """Route shares of option `o` after the bridge, the shocks and the fallback chain."""
    events = supply.events
    year = _f(rows, "year")
    arrival = (year >= _f(rows, "do_arrival_year")).astype(float)[:, None]
    shares = supply.shares[o].copy()
    # before owned capacity arrives, its share goes to its bridge (a planned hand-over)
    before = shares[OWNED] * (1.0 - arrival)
    shares[OWNED] -= before
    bridge = ids(rows, "do_bridge")                     # compared by integer code, not as text
    for r, option in ((API, "frontier-api"), (HOSTED, "hosted-open-weight")):
        if option in bridge.categories:
            shares[r] += np.where((bridge.codes == bridge.categories.get_loc(option))[:, None], before, 0.0)
    quotas, any_cut = cells.once(("events", id(events)), lambda: (
        [r for r in range(len(ROUTES)) if np.isfinite(events.quota[r]).any()], bool(events.cut.any())))
    withdrawn = bool(quotas) or any_cut                # without cuts or quotas, all is available
    available = 1.0 - events.cut if withdrawn else np.broadcast_to(1.0, events.cut.shape)
    for r in quotas:                                   # quotas: tokens a year per cell and route
        wanted = cells.sum_series(shares[r] * available[r] * tokens)
        quota = cells.series_value(events.quota[r])
        allowed = np.where(wanted > quota, quota / np.where(wanted > 0, wanted, 1.0), 1.0)
        available[r] *= allowed.ravel()[cells.series_cell()][:, None]
    open_share = events.open_share
    open_available = shares[OPEN_ROUTES, :, 0] * available[OPEN_ROUTES, :, 0] if withdrawn else shares[OPEN_ROUTES, :, 0]
    lagged = open_available.sum(axis=0) * (1.0 - open_share)    # before `served` (maybe `shares`) changes
    cut = (shares * (1.0 - available)).sum(axis=0) if withdrawn else np.zeros(shares.shape[1:])
    sized = shares[OWNED].copy()
    # without cuts, what is served starts as the shares (this call's own copy, changed in place)
    served = shares * available if withdrawn else shares
    served[OPEN_ROUTES, :, 0] *= open_share          # open models do only so much frontier work
    substitutable = cut.copy()
    substitutable[:, 0] *= open_share
    frontier_only = np.zeros_like(cut)
    frontier_only[:, 0] = cut[:, 0] * (1.0 - open_share) + lagged
    # the reserve: owned capacity for a share of the frontier tier's peak, idle until called
    reserve = supply.reserve[o] * arrival[:, 0]
    sized[:, 0] += reserve
    if reserve.any():
        take = ramp(year, events.start, supply.switch[o]) * available[OWNED, :, 0]
        room = reserve * tokens[:, 0]                   # tokens a year the reserve can carry
        for t in range(len(TIERS)):                     # the frontier tier first, then the open one
            moved = np.minimum(substitutable[:, t] * take, np.divide(
                room, tokens[:, t], out=np.zeros_like(room), where=tokens[:, t] > 0))
            served[OWNED, :, t] += moved
            substitutable[:, t] -= moved
            room = room - moved * tokens[:, t]
    for k in range(supply.fallback.shape[1]):
        route = supply.fallback[o, k]
        if (route < 0).all():
            continue
        for r in range(len(ROUTES)):
            mine = (route == r)[:, None]
            if not mine.any():
                continue
            take = ramp(year, events.start, supply.fallback_ramp[o, k])[:, None] * available[r]
            if r == OWNED:
                take = take * arrival
            moved = np.where(mine, substitutable * take, 0.0)
            served[r] += moved
            substitutable -= moved
            if r == API:                                 # the API can do frontier-only work too
                moved = np.where(mine, frontier_only * take, 0.0)
                served[r] += moved
                frontier_only -= moved
    sized = np.maximum(sized, served[OWNED])
    return Allocation(served, sized, substitutable, frontier_only)


def _domestic_rented(rows: pd.DataFrame) -> np.ndarray:
    """(rows,) True where hosted capacity is rented in a domestic region (what the limits bound)."""
    return _f(rows, "ho_domestic") > 0.5


def apply_limits(rows, tables, cells, supply: Supply, o: int, alloc: Allocation, routes: dict) -> dict:
    """Bound the domestic capacity of an option's routes (owned, and hosted in a domestic
    region) by the region's limits; what they cannot carry moves to a fallback route abroad,
    else stays unserved. Returns the shares of owned and of rented capacity the limits leave
    by (series, year), and which limits bind."""
    limit = {name: cells.series_setting(rows, f"limit_{name}") for name in LIMITS}
    zero = np.zeros((cells.n_series, cells.n_years))
    one = np.ones((cells.n_series, cells.n_years))
    pool = routes.get("pooled")
    # what a pooled machine's allocation carries of what its share of the demand needs
    pooled = one if pool is None else served_share(pool["_allocation"], pool["_needed_gpus"])
    if not any(np.isfinite(value).any() for value in limit.values()):
        if pool is None or (pooled >= 1.0).all():
            return {}
        return {"owned": one, "rented": one, "pooled": pooled, "gpus_needed": zero,
                "binding": {name: np.zeros_like(one, dtype=bool) for name in LIMITS}}
    own, hosted = routes.get("owned"), routes.get("hosted")
    rented_at_home = cells.series_value(_domestic_rented(rows).astype(float)) > 0.5
    if hosted is not None:
        rented_gpus = np.where(rented_at_home, hosted["gpus"], 0.0)
        rented_h100e = rented_gpus * np.nan_to_num(cells.series_value(tables.h100_equivalents(ids(rows, "ho_gpu"))))
        rented_facility = np.maximum.accumulate(np.where(rented_at_home, hosted["facility_power"], 0.0), axis=-1)
    else:
        rented_gpus = rented_h100e = rented_facility = zero
    own_h100e = own["_h100e_standing"] if own is not None else zero
    own_facility = own["_facility_built"] if own is not None else zero
    life = own["_life"] if own is not None else np.full(cells.n_series, 5.0)
    # rented capacity stands first (it bridges until owned capacity arrives) and uses the
    # allowance of the years it grows; owned capacity gets what is left. Capacity a provider
    # stops renting frees no allowance: it stays the provider's.
    grows = lambda path: np.maximum(np.diff(path, axis=-1, prepend=0.0), 0.0)
    power_allowance = np.minimum(limit["grid_connection"], limit["build_rate"])
    rented_built = capped_growth(rented_facility, power_allowance)
    own_built = capped_growth(own_facility, power_allowance - grows(rented_built))
    power_rented, power_own = served_share(rented_built, rented_facility), served_share(own_built, own_facility)
    rented_need, own_need = rented_h100e * power_rented, own_h100e * power_own
    rented_h = capped_growth(rented_need, limit["gpu_allocation"])
    own_h = capped_stock(own_need, limit["gpu_allocation"] - grows(rented_h), np.nan_to_num(life, nan=5.0))
    gpu_rented, gpu_own = served_share(rented_h, rented_need), served_share(own_h, own_need)
    power_cut = (power_rented < 1.0) | (power_own < 1.0)
    binding = {"gpu_allocation": (gpu_rented < 1.0) | (gpu_own < 1.0),
               "grid_connection": power_cut & (limit["grid_connection"] <= limit["build_rate"]),
               "build_rate": power_cut & (limit["build_rate"] <= limit["grid_connection"])}
    return {"owned": power_own * gpu_own, "rented": power_rented * gpu_rented, "pooled": pooled,
            "binding": binding, "gpus_needed": (own["gpus"] if own is not None else zero) + rented_gpus}


def _limited(rows, cells, supply, o, alloc: Allocation, limits: dict, tokens) -> Allocation:
    """The allocation once the limits leave a share (series, year) of its owned and of its
    domestically rented capacity, and the pooled allocation what it can carry: what the limits
    cut moves to fallback routes abroad, what the pooled machine cannot carry to any fallback
    route (no ramp: both are known in advance; the limits were found before this extra load),
    else it stays unserved."""
    per_row = lambda share: share.ravel()[cells.series_cell()][:, None]
    owned_share, rented_share = per_row(limits["owned"]), per_row(limits["rented"])
    served = alloc.served.copy()
    domestic = np.zeros_like(served, dtype=bool)
    domestic[OWNED] = True
    domestic[HOSTED] = _domestic_rented(rows)[:, None]
    kept = np.ones_like(served)
    kept[OWNED] = owned_share
    kept[HOSTED] = np.where(domestic[HOSTED], rented_share, 1.0)
    kept[POOLED] = per_row(limits["pooled"])
    domestic[POOLED] = True          # a pooled machine's allocation is full: nothing more there
    cut = served * (1.0 - kept)
    served -= cut
    substitutable, frontier_only = alloc.substitutable.copy(), alloc.frontier_only.copy()
    # what the national limits cut may go only abroad (another domestic route meets the same
    # limits); what a full pooled allocation cannot carry may go to any other route of the chain
    limited = (cut[OWNED] + np.where(domestic[HOSTED], cut[HOSTED], 0.0))
    pool_full = cut[POOLED]
    available = 1.0 - supply.events.cut
    arrival = (_f(rows, "year") >= _f(rows, "do_arrival_year")).astype(float)[:, None]
    for k in range(supply.fallback.shape[1]):
        route = supply.fallback[o, k]
        for r in (API, HOSTED, OWNED):
            mine = (route == r)[:, None]
            if not mine.any():
                continue
            room = available[r] * (arrival if r == OWNED else 1.0)
            abroad = mine & ~domestic[r]
            moved = np.where(abroad, limited * room, 0.0) + np.where(mine, pool_full * room, 0.0)
            served[r] += moved
            limited = limited - np.where(abroad, limited * room, 0.0)
            pool_full = pool_full - np.where(mine, pool_full * room, 0.0)
    substitutable += limited + pool_full
    sized = np.maximum(alloc.sized_owned * owned_share, served[OWNED])
    return Allocation(served, sized, substitutable, frontier_only)


SUMMED = ("gpus", "busy_gpus", "held_gpus", "it_power", "facility_power", "energy", "gpus_offshore",
          "busy_gpus_offshore", "held_gpus_offshore", "it_power_offshore", "facility_power_offshore",
          "energy_offshore", "capital", "operating", "floor_uplift", "domestic_tokens")


def _route_quantities(rows, tables, cells, work, supply, alloc: Allocation, throughput: dict,
                      capacity: np.ndarray | None = None, keep: str | None = None) -> dict[str, dict]:
    """Each route the allocation uses (and route `keep`, used or not: a pure option's own),
    evaluated on the demand it serves."""
    out = {}
    price = supply.events.price
    if alloc.served[API].any() or keep == "api":
        out["api"] = frontier_api(rows, tables, cells, _scaled(work, alloc.served[API]), throughput["api"], price[API])
    if alloc.served[HOSTED].any() or keep == "hosted":
        out["hosted"] = hosted_open_weight(rows, tables, cells, _scaled(work, alloc.served[HOSTED]),
                                           throughput["hosted"], price[HOSTED])
    if alloc.sized_owned.any() or alloc.served[OWNED].any() or keep == "owned":
        out["owned"] = owned(rows, tables, cells, _scaled(work, alloc.sized_owned),
                             _scaled(work, alloc.served[OWNED]), throughput, capacity)
    if alloc.served[POOLED].any():
        out["pooled"] = pooled(rows, tables, cells, _scaled(work, alloc.served[POOLED]),
                               throughput["pooled"], supply.pooled)
    return out


def _combine(cells: Cells, routes: dict[str, dict], offshore_co2: np.ndarray) -> dict[str, np.ndarray]:
    zero = np.zeros((cells.n_series, cells.n_years))
    total = {name: zero.copy() for name in SUMMED}
    for q in routes.values():
        for name in SUMMED:
            if name.startswith("held_gpus"):
                where = name.replace("held_gpus", "gpus")
                total[name] = total[name] + q.get(name, q.get(where, 0.0))
            else:
                total[name] = total[name] + q.get(name, 0.0)
    total["co2_intensity_offshore"] = offshore_co2
    total["_routes"] = routes
    return total


def evaluate(rows: pd.DataFrame, tables: Tables, supply: Supply | None = None
             ) -> tuple[Cells, dict[str, dict[str, np.ndarray]], dict]:
    """Run the whole chain on rows for every option of `supply` (default: the pure options,
    without shocks); return the grid, each option's quantities and the shared demand."""
    cells = Cells.from_rows(rows)
    work = workload(rows)
    supply = supply if supply is not None else pure_supply(rows)
    shapes = request_shapes(rows, work)
    throughput = {"api": tier_throughput(rows, tables, work, "fa", shapes=shapes),
                  "hosted": tier_throughput(rows, tables, work, "ho", shapes=shapes),
                  "owned": tier_throughput(rows, tables, work, "do", "do_gpu", shapes=shapes),
                  "owned-bought": tier_throughput(rows, tables, work, "do", "do_gpu_bought", shapes=shapes)}
    if supply.pooled is not None:
        with_pool = pd.concat([rows.reset_index(drop=True), supply.pooled.reset_index(drop=True)], axis=1)
        throughput["pooled"] = tier_throughput(with_pool, tables, work, "po", shapes=shapes)
    tokens = work["input_tokens"] + work["output_tokens"]
    offshore_co2 = cells.series_value(_f(rows, "fa_grid_co2_intensity"))
    results = {}
    for o, name in enumerate(supply.options):
        alloc = allocate(supply, o, rows, cells, tokens)
        keep = PURE_OPTIONS.get(name)
        routes = _route_quantities(rows, tables, cells, work, supply, alloc, throughput, keep=keep)
        limits = apply_limits(rows, tables, cells, supply, o, alloc, routes)
        needed_gpus = None
        if limits and any((limits[route] < 1.0).any() for route in ("owned", "rented", "pooled")):
            needed_gpus = limits["gpus_needed"]
            capacity = routes["owned"]["_held_ref"] * limits["owned"][:, None, :] if "owned" in routes else None
            alloc = _limited(rows, cells, supply, o, alloc, limits, tokens)
            routes = _route_quantities(rows, tables, cells, work, supply, alloc, throughput, capacity, keep)
        quantities = _combine(cells, routes, offshore_co2)
        if name in PURE_OPTIONS:   # what the pure option's views show of its route
            main = routes.get(PURE_OPTIONS[name], {})
            quantities.update({key: value for key, value in main.items() if key.startswith("_")})
            quantities["_throughput"] = throughput[PURE_OPTIONS[name]]
        if "owned" in routes:
            quantities["_arrival"] = routes["owned"]["_arrival"]
        quantities["unserved"] = cells.sum_series((alloc.substitutable + alloc.frontier_only) * tokens)
        quantities["below_frontier"] = cells.sum_series((alloc.served[OPEN_ROUTES, :, 0] * tokens[None, :, 0]).sum(axis=0))
        shortfall = np.zeros((cells.n_series, cells.n_years))
        if needed_gpus is not None:
            rented = routes.get("hosted", {}).get("gpus", 0.0) * (cells.series_value(
                _domestic_rented(rows).astype(float)) > 0.5)
            shortfall = np.maximum(needed_gpus - routes.get("owned", {}).get("gpus", 0.0) - rented, 0.0)
        if "pooled" in routes:   # what the pooled allocation lacks
            shortfall = shortfall + np.maximum(routes["pooled"]["_needed_gpus"] - routes["pooled"]["_allocation"], 0.0)
        quantities["shortfall"] = shortfall
        for limit in LIMITS:
            quantities[f"binds_{limit}"] = (limits["binding"][limit].astype(float) if limits
                                            else np.zeros((cells.n_series, cells.n_years)))
        quantities["_present"] = cells.series_value(supply.present[o].astype(float)) > 0.5
        results[name] = quantities
    tokens_in = cells.sum_series(work["input_tokens"])
    tokens_out = cells.sum_series(work["output_tokens"])
    shared = {
        "tokens": tokens_in + tokens_out, "input_tokens": tokens_in, "output_tokens": tokens_out,
        "requests": cells.sum_series(work["requests"]),
        "peak_output_rate": cells.sum_series(work["peak_output_rate"]),
        "consumption": cells.series_setting(rows, "electricity_consumption"),
        "peak_demand": cells.series_setting(rows, "peak_demand"),
        "co2_intensity": cells.series_value(_f(rows, "grid_co2_intensity")),
        "discount_rate": cells.series_setting(rows, "discount_rate"),
        "year": np.broadcast_to(cells.first_grid_year + np.arange(cells.n_years, dtype=float),
                                (cells.n_series, cells.n_years)),
        "first_year": cells.series_setting(rows, "first_year"),
        "present": cells.present(),
        "work": work, "cells": cells, "options": supply.options,
    }
    for quantities in results.values():
        total = quantities["capital"] + quantities["operating"]
        quantities["total"] = total
        factor = cost.discount_factor(shared["discount_rate"], shared["year"] - shared["first_year"])
        quantities["npv"] = np.cumsum(np.nan_to_num(total * factor), axis=-1)
        quantities["per_mtok"] = cost.cost_per_million_tokens(total, shared["tokens"])
        quantities["per_request"] = cost.cost_per_request(total, shared["requests"])
        quantities["utilisation"] = fleet.utilisation(
            quantities["busy_gpus"] + quantities["busy_gpus_offshore"],
            quantities["held_gpus"] + quantities["held_gpus_offshore"])
        quantities["share_consumption"] = power.share(quantities["energy"], shared["consumption"])
        quantities["share_peak"] = power.share(quantities["facility_power"], shared["peak_demand"])
        quantities["domestic_share"] = power.share(quantities["domestic_tokens"], shared["tokens"])
        quantities["co2"] = power.emissions(quantities["energy"], shared["co2_intensity"])
        quantities["co2_offshore"] = power.emissions(quantities["energy_offshore"],
                                                     quantities["co2_intensity_offshore"])
        quantities["unserved_share"] = power.share(quantities["unserved"], shared["tokens"])
    return cells, results, shared
