"""Filling what a scenario leaves out from the assumption library, remembering every value
taken (provenance)."""

from __future__ import annotations

import math

from typing import Any

from ..catalog import Catalog, Row

# scenario path -> (table, id, parameter) in the assumption library
OPTION_DEFAULTS: dict[tuple[str, ...], tuple[str, str, str]] = {
    ("fleet", "target_utilisation"): ("defaults", "fleet", "target_utilisation"),
    ("fleet", "redundancy"): ("defaults", "fleet", "redundancy"),
    ("fleet", "usable_hbm_fraction"): ("defaults", "fleet", "usable_hbm_fraction"),
    ("fleet", "max_batch_size"): ("defaults", "fleet", "max_batch_size"),
    ("fleet", "max_tokens_per_step"): ("defaults", "fleet", "max_tokens_per_step"),
    ("fleet", "server_overhead"): ("defaults", "server", "overhead_factor"),
    ("fleet", "idle_power_fraction"): ("defaults", "server", "idle_power_fraction"),
    ("fleet", "generation_price_change"): ("defaults", "trend", "gpu_generation_price_change"),
    ("finance", "discount_rate"): ("defaults", "finance", "discount_rate_public"),
    ("demand", "reference_ai_user_share"): ("defaults", "demand", "reference_ai_user_share"),
    ("plausibility", "consumption_share"): ("countries", "IRL", "datacenter_electricity_share"),
    ("options", "frontier-api", "frontier_tier", "price_change"):
        ("defaults", "trend", "frontier_api_price_change"),
    ("options", "frontier-api", "open_tier", "price_change"):
        ("defaults", "trend", "fixed_capability_price_change"),
    ("options", "frontier-api", "serving_cost", "electricity_price"):
        ("defaults", "offshore", "electricity_price"),
    ("options", "frontier-api", "offshore", "pue"): ("defaults", "offshore", "pue"),
    ("options", "frontier-api", "offshore_grid_co2_intensity"):
        ("defaults", "offshore", "grid_co2_intensity"),
    ("options", "hosted-open-weight", "pue"): ("defaults", "facility", "pue_colocation"),
    ("options", "hosted-open-weight", "rental_price_change"):
        ("defaults", "trend", "gpu_rental_price_change"),
    ("options", "hosted-open-weight", "reserved_price_ratio"): ("defaults", "market", "reserved_to_on_demand"),
    ("options", "hosted-open-weight", "host_price_change"): ("defaults", "trend", "host_price_change"),
    ("options", "domestic-buildout", "pue"): ("defaults", "facility", "pue_hyperscale"),
    ("options", "domestic-buildout", "facility_capex"): ("defaults", "facility", "capex_per_mw_it"),
    ("options", "domestic-buildout", "grid_connection_capex"):
        ("defaults", "grid", "connection_capex_per_mw"),
    ("options", "domestic-buildout", "server_lifetime"): ("defaults", "server", "lifetime"),
    ("options", "domestic-buildout", "facility_lifetime"): ("defaults", "facility", "lifetime"),
    ("options", "domestic-buildout", "grid_lifetime"): ("defaults", "grid", "lifetime"),
    ("options", "domestic-buildout", "server_om"): ("defaults", "server", "om_fraction"),
    ("options", "domestic-buildout", "facility_om"): ("defaults", "facility", "om_fraction"),
    ("options", "domestic-buildout", "discount_rate"): ("defaults", "finance", "discount_rate_public"),
    ("options", "domestic-buildout", "build_lead_time"): ("defaults", "facility", "build_lead_time"),
    ("options", "domestic-buildout", "grid_connection_lead_time"):
        ("defaults", "grid", "connection_lead_time"),
}
OWNER_COST_DEFAULTS: dict[str, tuple[str, str, str]] = {
    "server_lifetime": ("defaults", "server", "lifetime"),
    "server_om": ("defaults", "server", "om_fraction"),
    "facility_capex": ("defaults", "facility", "capex_per_mw_it"),
    "facility_lifetime": ("defaults", "facility", "lifetime"),
    "facility_om": ("defaults", "facility", "om_fraction"),
    "discount_rate": ("defaults", "finance", "discount_rate_private"),
    "markup": ("defaults", "market", "compute_markup"),
}
"""The owner's-cost settings (`OwnerCost`) both price floors take from the library: the labs'
serving cost under API prices and the provider's cost under rent."""
OPTION_DEFAULTS.update({
    prefix + (name,): source for prefix in (("options", "frontier-api", "serving_cost"),
                                            ("options", "hosted-open-weight", "rent_floor"))
    for name, source in OWNER_COST_DEFAULTS.items()})
REGION_FIELDS = ("name", "population", "workforce", "electricity_consumption", "peak_demand",
                 "electricity_price", "grid_co2_intensity", "workforce_share_managers",
                 "workforce_share_professionals", "workforce_share_technicians",
                 "workforce_share_clerical", "workforce_share_ict_professionals",
                 "internet_user_share", "ai_user_share")
USE_CASE_FIELDS = {  # scenario field -> use_cases.csv parameter ({w}: the worldview)
    "user_base": "user_base", "user_share": "user_share",
    "requests_per_user_per_day": "requests_per_user_per_day",
    "input_tokens": "input_tokens_per_request", "output_tokens": "output_tokens_per_request",
    "reasoning_tokens": "reasoning_tokens_per_request", "token_growth": "token_growth_{w}",
    "frontier_share": "frontier_share_{w}", "peak_to_average": "peak_to_average",
    "turns_per_session": "turns_per_session", "context_growth_per_turn": "context_growth_per_turn",
    "session_length_dispersion": "session_length_dispersion",
    "active_days_per_year": "active_days_per_year",
}


def _get(data: dict, path: tuple) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _set_default(data: dict, path: tuple, row: Row | None, used: dict[tuple, Row]) -> None:
    """Put an assumption's value at `path` unless the scenario gives one."""
    if row is None:
        return
    parent = data
    for key in path[:-1]:
        if not isinstance(parent.get(key, {}), dict):
            return
        parent = parent.setdefault(key, {})
    if path[-1] not in parent:
        parent[path[-1]] = row.value if isinstance(row.value, str) else row.text
        used[path] = row
    elif isinstance(used, Used):
        used.replaced[path] = row


class Used(dict):
    """The library rows a case was filled from, by key path; `replaced` holds the rows whose
    value the scenario gives itself (checked against their range: `range_warnings`)."""

    def __init__(self):
        super().__init__()
        self.replaced: dict[tuple, Row] = {}
        self.warnings: list[str] = []


RANGE_FACTOR = 3.0
"""A value given in a scenario is flagged (a warning, not an error) when it lies more than this
factor outside the sourced low/high of the library row it replaces: below low/3 or above
3 x high for a positive range; for a range reaching zero or below, more than twice its width
beyond either end. Such a value is often a unit slip (W for kW) or a percentage for a fraction."""


def _short(text: str, size: int = 70) -> str:
    return text if len(text) <= size else text[:size].rsplit(" ", 1)[0] + "..."


def range_warnings(case, replaced: dict[tuple, Row], where_of) -> list[str]:
    """Warnings for values of `case` far outside the range of the library row they replace;
    `where_of(path)` gives the file:line of a key path."""
    from .ranges import value_at
    found = []
    for path, row in replaced.items():
        if isinstance(row.value, str) or not (math.isfinite(row.low) and math.isfinite(row.high)):
            continue
        try:
            value = value_at(case, path)
        except (KeyError, IndexError, StopIteration, AttributeError, ValueError, TypeError):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value == 0:
            continue                                   # 0 is a choice (no growth, none), not a slip
        low, high = row.low, row.high
        if low > 0:
            outside = value < low / RANGE_FACTOR or value > high * RANGE_FACTOR
        else:
            span = max(high - low, abs(high), 1e-300)
            outside = value < low - (RANGE_FACTOR - 1) * span or value > high + (RANGE_FACTOR - 1) * span
        if outside:
            unit = f" {row.unit_given}" if row.unit_given else ""
            found.append(f"{where_of(path)}: {'.'.join(map(str, path))} = {row.given(value):.4g}{unit} is far "
                         f"outside the sourced range {row.given(low):.4g} to {row.given(high):.4g}{unit} of "
                         f"{row.key} ({_short(row.source)}); check the unit and the number")
    return found


def newest_flagship(catalog: Catalog) -> str | None:
    """The flagship API product (`tier: flagship`) released last; ties go to the first id."""
    dated = [(str(release.value), pid) for pid in catalog.ids("api_products")
             if (tier := catalog.get("api_products", pid, "tier")) is not None and tier.value == "flagship"
             and (release := catalog.get("api_products", pid, "release_date")) is not None]
    return max(dated, key=lambda pair: (pair[0], [-ord(c) for c in pair[1]]))[1] if dated else None


def _default_flagship(options: dict, catalog: Catalog, used: dict[tuple, Row]) -> None:
    """The frontier tier tracks the frontier: without a product, the newest flagship."""
    tier = _get(options, ("frontier-api", "frontier_tier"))
    if isinstance(tier, dict) and "product" not in tier and (product := newest_flagship(catalog)):
        tier["product"] = product
        used[("options", "frontier-api", "frontier_tier", "product")] = catalog.get(
            "api_products", product, "release_date")


def host_of(catalog: Catalog, model: str) -> str | None:
    """The catalogue's per-token host product of an open-weight model (the first by id)."""
    hosts = [pid for pid in catalog.ids("api_products")
             if (row := catalog.get("api_products", pid, "serves_model")) is not None and row.value == model]
    return hosts[0] if hosts else None


def _default_hosts(data: dict, options: dict, catalog: Catalog, used: dict[tuple, Row]) -> None:
    """Each hosted tier's per-token host: the catalogue's host of its model, with its prices
    (a cached prompt token costs an input token where the host lists no cached price)."""
    hosted = options.get("hosted-open-weight")
    if not isinstance(hosted, dict):
        return
    for tier in ("frontier_tier", "open_tier"):
        settings = hosted.get(tier)
        if not isinstance(settings, dict) or not isinstance(settings.get("model"), str):
            continue
        product = settings.get("host_product") or host_of(catalog, settings["model"])
        if product is None:
            continue
        if "host_product" not in settings:
            settings["host_product"] = product
            used[("options", "hosted-open-weight", tier, "host_product")] = catalog.get(
                "api_products", product, "serves_model")
        path = ("options", "hosted-open-weight", tier)
        for name, parameter in (("host_input_price", "input_price"), ("host_output_price", "output_price"),
                                ("host_cached_input_price", "cached_input_price"),
                                ("host_cached_input_price", "input_price")):
            _set_default(data, path + (name,), catalog.get("api_products", product, parameter), used)
        date = catalog.get("api_products", product, "price_date")
        if date is not None and "host_price_year" not in hosted:
            hosted["host_price_year"] = int(str(date.value)[:4])
            used[("options", "hosted-open-weight", "host_price_year")] = date


def _default_construction_cost(data: dict, catalog: Catalog, used: dict[tuple, Row]) -> None:
    """A one-country scenario builds at that country's data-centre construction cost (the
    library's cost per W of IT load stands in for a scenario of several regions)."""
    regions = data.get("regions")
    if isinstance(regions, dict) and len(regions) == 1:
        code = next(iter(regions))
        _set_default(data, ("options", "domestic-buildout", "facility_capex"),
                     catalog.get("countries", str(code), "datacenter_construction_cost"), used)


HEDGED = {
    "title": "frontier tier through the API, open tier on owned capacity, with a reserve",
    "frontier": {"api": 1.0},
    "open": {"owned": 1.0},
}
"""The default `hedged` portfolio; its reserve share, switch time and the ramp of its fallback
to rented capacity come from the library (`limits.csv`, id ``policy``)."""
DEFAULT_SHOCK_CASES = {
    "no shock": [],
    "frontier cut-off 2028": [{"kind": "cutoff", "start": 2028, "routes": ["api"],
                               "title": "frontier API access withdrawn from 2028"}],
    "API price x3 2027": [{"kind": "price", "start": 2027, "multiplier": 3.0, "routes": ["api"],
                           "title": "API prices tripled from 2027"}],
    "foreign compute cut-off 2028": [{"kind": "cutoff", "start": 2028, "routes": ["exposed"],
                                      "title": "every foreign-controlled route withdrawn from 2028 "
                                               "(API, hosts, rented GPUs without an access agreement)"}],
}
"""The shock cases `capacity robust` crosses with the worldviews when a scenario declares none:
the policy analysis's questions (access withdrawn, access repriced), not figures."""


def _default_portfolios(data: dict, catalog: Catalog, used: dict[tuple, Row]) -> None:
    """Add the `hedged` portfolio (unless the scenario writes its own) with its reserve and
    fallback from the library; the robustness matrix's defaults."""
    portfolios = data.setdefault("portfolios", {})
    if not isinstance(portfolios, dict):
        return
    hedged = portfolios.setdefault("hedged", {})
    if isinstance(hedged, dict) and not {"frontier", "open"} & set(hedged):
        for key, value in HEDGED.items():
            hedged.setdefault(key, value)
        hedged.setdefault("reserve", {})
        _set_default(data, ("portfolios", "hedged", "reserve", "share"),
                     catalog.get("limits", "policy", "reserve_share"), used)
        _set_default(data, ("portfolios", "hedged", "reserve", "switch_time"),
                     catalog.get("limits", "policy", "open_switch_time"), used)
        ramp = catalog.get("limits", "policy", "rented_ramp_time")
        if "fallback" not in hedged and ramp is not None:
            hedged["fallback"] = [{"route": "hosted", "ramp_time": ramp.text}]
            used[("portfolios", "hedged", "fallback", 0, "ramp_time")] = ramp
    robustness = data.setdefault("robustness", {})
    if isinstance(robustness, dict):
        robustness.setdefault("shock_cases", DEFAULT_SHOCK_CASES)
        _set_default(data, ("robustness", "unserved_value"),
                     catalog.get("limits", "policy", "unserved_value"), used)


LIBRARY_LIMITS = {"grid_connection": "grid_connection_per_year", "build_rate": "build_rate",
                  "grid_connection_queue": "grid_connection_queue"}
"""Region limits a scenario may take from the library by writing ``library``: the field and its
`limits.csv` parameter (the row's id is the region code)."""


def _library_limits(data: dict, catalog: Catalog, used: dict[tuple, Row]) -> None:
    """Region limits written as ``library`` (the region's own `limits.csv` row) or, for
    `gpu_allocation`, as the id of an allocation row (``ai-diffusion-tier2``: its H100-
    equivalents over the rule's period, spread evenly over its years, from its first year on)
    or as ``{world_share: s}`` (s x the world's accelerator shipments of each year of the
    library's series, the last year's held on)."""
    for code, region in (data.get("regions") or {}).items():
        limits = region.get("limits") if isinstance(region, dict) else None
        if not isinstance(limits, dict):
            continue
        for name, parameter in LIBRARY_LIMITS.items():
            if limits.get(name) == "library":
                row = catalog.get("limits", str(code), parameter)
                if row is not None:
                    limits[name] = row.text
                    used[("regions", code, "limits", name)] = row
        allocation = limits.get("gpu_allocation")
        if isinstance(allocation, dict) and set(allocation) == {"world_share"}:
            # a share of world accelerator shipments: the library's yearly series (world-<year>),
            # its last year held on after it
            share = float(allocation["world_share"])
            years = sorted(int(row_id.split("-")[1]) for row_id in catalog.ids("limits")
                           if row_id.startswith("world-") and row_id.split("-")[1].isdigit())
            table = {}
            for year in years:
                row = catalog.get("limits", f"world-{year}", "accelerator_shipments")
                table[year] = share * float(row.value)
                used[("regions", code, "limits", "gpu_allocation", year)] = row
            limits["gpu_allocation"] = table
            continue
        if isinstance(allocation, str) and catalog.get("limits", allocation, "gpu_allocation"):
            total = catalog.get("limits", allocation, "gpu_allocation")
            first = int(float(catalog.get("limits", allocation, "first_year").value))
            last = int(float(catalog.get("limits", allocation, "last_year").value))
            limits["gpu_allocation"] = {first: float(total.value) / (last - first + 1)}
            used[("regions", code, "limits", "gpu_allocation")] = total


POOLED_DEFAULTS = {"gpus": "gpus", "capex": "capex", "cost_share": "cost_share",
                   "allocation_share": "allocation_share", "first_year": "first_year"}
"""`options.pooled` fields from `limits.csv` id ``eurohpc-ai-factory`` (JUPITER, a EuroHPC
machine: its share rules and size), when a scenario writes `options.pooled`."""


def _default_pooled(data: dict, catalog: Catalog, used: dict[tuple, Row]) -> None:
    """Fill `options.pooled` (when the scenario has it) from the library: the AI Factory's size,
    cost and shares; the GPU (h100-sxm: JUPITER's GH200 carries the H100's GPU die), models,
    lifetime, O&M, PUE and discount rate as the domestic buildout's."""
    options = data.get("options")
    pooled = options.get("pooled") if isinstance(options, dict) else None
    if not isinstance(pooled, dict):
        return
    for name, parameter in POOLED_DEFAULTS.items():
        row = catalog.get("limits", "eurohpc-ai-factory", parameter)
        if name == "first_year" and row is not None and "first_year" not in pooled:
            pooled["first_year"] = int(float(row.value))
            used[("options", "pooled", "first_year")] = row
            continue
        _set_default(data, ("options", "pooled", name), row, used)
    pooled.setdefault("gpu", "h100-sxm")
    domestic = options.get("domestic-buildout") if isinstance(options.get("domestic-buildout"), dict) else {}
    for tier in ("frontier_tier", "open_tier"):
        if tier not in pooled and isinstance(domestic.get(tier), dict) and "model" in domestic[tier]:
            pooled[tier] = {"model": domestic[tier]["model"]}
    # the machine's cost (capex) covers its system and about six years of operation: no O&M on top
    pooled.setdefault("om", 0.0)
    for name, source in (("lifetime", ("defaults", "server", "lifetime")),
                         ("pue", ("defaults", "facility", "pue_hyperscale")),
                         ("discount_rate", ("defaults", "finance", "discount_rate_public"))):
        _set_default(data, ("options", "pooled", name), catalog.get(*source), used)


def fill_defaults(data: dict, catalog: Catalog) -> dict[tuple, Row]:
    """Complete a raw scenario (in place) from the assumption library; return what was used."""
    used: dict[tuple, Row] = Used()
    worldview = data.get("worldview", "realist")
    _default_construction_cost(data, catalog, used)
    _default_portfolios(data, catalog, used)
    _library_limits(data, catalog, used)
    _default_pooled(data, catalog, used)
    for path, (table, row_id, parameter) in OPTION_DEFAULTS.items():
        _set_default(data, path, catalog.get(table, row_id, parameter), used)
    for code, region in (data.get("regions") or {}).items():
        if isinstance(region, dict):
            for name in REGION_FIELDS:
                _set_default(data, ("regions", code, name), catalog.get("countries", code, name), used)
            _set_default(data, ("regions", code, "working_days_per_year"),
                         catalog.get("defaults", "demand", "working_days_per_year"), used)
    for uc_id, use_case in (data.get("use_cases") or {}).items():
        if not isinstance(use_case, dict):
            continue
        archetype = use_case.get("archetype", uc_id)
        for name, parameter in USE_CASE_FIELDS.items():
            if name in ("user_base", "user_share") and "users" in use_case:
                continue
            _set_default(data, ("use_cases", uc_id, name),
                         catalog.get("use_cases", archetype, parameter.format(w=worldview)), used)
        _set_default(data, ("use_cases", uc_id, "token_growth_years"),
                     catalog.get("defaults", "demand", "token_growth_years"), used)
        _set_default(data, ("use_cases", uc_id, "cached_input_share"),
                     catalog.get("use_cases", archetype, "cached_input_share")
                     or catalog.get("defaults", "api", "cached_input_share"), used)
        if "adoption" not in use_case and catalog.get("use_cases", archetype, "adoption_midpoint_year"):
            for name, parameter in (("midpoint_year", "adoption_midpoint_year"),
                                    ("steepness", "adoption_steepness")):
                # a worldview's own row wins over the shared one
                row = (catalog.get("use_cases", archetype, f"{parameter}_{worldview}")
                       or catalog.get("use_cases", archetype, parameter))
                _set_default(data, ("use_cases", uc_id, "adoption", name), row, used)
    options = data.get("options") or {}
    gpu = _get(options, ("hosted-open-weight", "gpu"))
    if isinstance(gpu, str):
        _set_default(data, ("options", "hosted-open-weight", "rental_price"),
                     catalog.get("gpus", gpu, "rental_price"), used)
    gpu = _get(options, ("domestic-buildout", "gpu"))
    if isinstance(gpu, str):
        _set_default(data, ("options", "domestic-buildout", "server_capex"),
                     catalog.get("gpus", gpu, "server_cost"), used)
    gpu = _get(options, ("frontier-api", "offshore", "gpu"))
    if isinstance(gpu, str):
        _set_default(data, ("options", "frontier-api", "serving_cost", "server_capex"),
                     catalog.get("gpus", gpu, "server_cost"), used)
    _default_flagship(options, catalog, used)
    for tier in ("frontier_tier", "open_tier"):
        product = _get(options, ("frontier-api", tier, "product"))
        if isinstance(product, str):
            for name in ("input_price", "output_price", "cached_input_price"):
                _set_default(data, ("options", "frontier-api", tier, name),
                             catalog.get("api_products", product, name), used)
    _default_hosts(data, options, catalog, used)
    for option, row in (("frontier-api", catalog.get("api_products", str(_get(
            options, ("frontier-api", "frontier_tier", "product"))), "price_date")),
                        ("hosted-open-weight", catalog.get("gpus", str(_get(
                            options, ("hosted-open-weight", "gpu"))), "rental_price"))):
        if row is not None and isinstance(options.get(option), dict) \
                and "price_year" not in options[option]:
            date = row.value if option == "frontier-api" else row.source_date
            options[option]["price_year"] = int(str(date)[:4])
            used[("options", option, "price_year")] = row
    return used
