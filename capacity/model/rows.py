"""From a validated scenario to the flat table of rows the chain computes on.

One row per scenario (variant) x region x year x use case, with every setting the stages need
as a column in canonical units (see `options.ROW_COLUMNS`). Building it reads each case's
settings once; the years and regions are laid out with array operations.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..data import generations
from ..data.catalog import Catalog
from ..data.scenario.models import Case, LogisticAdoption, Scenario
from .limits import LIMITS
from .stages.demand import country_midpoint

SUPPLY_CODES = {"rent": 0, "per-token": 1, "auto": 2}   # hosted-open-weight's `supply`


def _roadmap(settings, years: np.ndarray, first_year: int, catalog: Catalog) -> np.ndarray:
    """GPU generation an option uses each year: the newest roadmap entry so far, else its GPU;
    after the last entry (or the first year, without a roadmap), with ``after_roadmap: newest``,
    the newest generation of that GPU's product line shipping that year (see `generations`)."""
    roadmap = getattr(settings, "gpu_roadmap", None) or {}
    if roadmap:
        entry_years = np.array(sorted(roadmap), dtype=int)
        entry_gpus = np.array([roadmap[y] for y in entry_years], dtype=object)
        index = np.searchsorted(entry_years, years, side="right") - 1
        chosen = np.where(index >= 0, entry_gpus[np.maximum(index, 0)], settings.gpu)
    else:
        chosen = np.full(years.shape, settings.gpu, dtype=object)
    if settings.after_roadmap != "newest":
        return chosen
    last_year = max(roadmap) if roadmap else first_year
    last_gpu = str(roadmap[last_year]) if roadmap else settings.gpu
    head = generations.line_of(catalog, last_gpu)
    if head is None:
        return chosen
    head_release = _release_year(catalog, np.array([head], dtype=object))[0]
    shipped = np.minimum(years, generations.LAST_EXTRAPOLATED_YEAR)
    newest = np.where(shipped > head_release,
                      np.array([f"{head}{generations.SEPARATOR}{int(y)}" for y in shipped], dtype=object),
                      head)
    newer = _release_year(catalog, newest) > _release_year(catalog, chosen)
    return np.where((years > last_year) & newer, newest, chosen)


def _release_year(catalog: Catalog, gpus: np.ndarray) -> np.ndarray:
    return _catalog_value(catalog, gpus, "release_year")


def _price_year(catalog: Catalog, gpus: np.ndarray) -> np.ndarray:
    """The year each GPU's catalogued server price is quoted for: its source's year, never
    before the GPU shipped (an extrapolated generation's price is its launch price)."""
    unique, inverse = np.unique(np.asarray(gpus, dtype=str), return_inverse=True)
    quoted = []
    for gpu in map(str, unique):
        row = catalog.get("gpus", gpu, "server_cost")
        year = str(row.source_date)[:4] if row is not None else ""
        quoted.append(float(year) if year.isdigit() and generations.base_of(gpu) is None else math.nan)
    return np.fmax(np.array(quoted)[inverse.ravel()], _release_year(catalog, gpus))


def generation_price(catalog: Catalog, gpus: np.ndarray, years: np.ndarray, change: float,
                     own_gpu: str | None = None, own_price: float = math.nan,
                     own_year: int | None = None) -> np.ndarray:
    """All-in server price per GPU of generation `gpus` bought in `years` [USD/GPU]: the price
    quoted (the catalogue's at its source year, or the scenario's `own_price` for `own_gpu` in
    `own_year`, the first year) changed by `change` a year after (never rising: `change` <= 0)."""
    quoted, since_year = _catalog_value(catalog, gpus, "server_cost"), _price_year(catalog, gpus)
    if own_gpu is not None:
        own = gpus == own_gpu
        quoted = np.where(own, own_price, quoted)
        since_year = np.where(own, own_year, since_year)
    return quoted * (1.0 + change) ** np.maximum(years - since_year, 0.0)


def case_rows(case: Case, catalog: Catalog) -> pd.DataFrame:
    """Rows of one case: regions x years x use cases."""
    return pd.DataFrame(case_columns(case, catalog))


def case_columns(case: Case, catalog: Catalog) -> dict[str, np.ndarray]:
    """The columns of `case_rows` as arrays (what the Monte Carlo's probes compare)."""
    years = np.arange(case.horizon.first_year, case.horizon.last_year + 1)
    regions = list(case.regions)
    use_cases = list(case.use_cases)
    # regions x years x use cases, as integer positions (the columns are built as arrays and
    # framed once at the end)
    n_r, n_y, n_u = len(regions), len(years), len(use_cases)
    region_index = np.repeat(np.arange(n_r), n_y * n_u)
    use_case_index = np.tile(np.arange(n_u), n_r * n_y)
    year_of = np.tile(np.repeat(years, n_u), n_r)
    region_of = np.array(regions, dtype=object)[region_index]
    use_case_of = np.array(use_cases, dtype=object)[use_case_index]
    n = len(year_of)

    def per_region(getter) -> np.ndarray:
        return np.array([getter(r) for r in case.regions.values()], dtype=object)[region_index]

    def per_use_case(getter) -> np.ndarray:
        return np.array([getter(u) for u in case.use_cases.values()], dtype=object)[use_case_index]

    out: dict[str, object] = {"scenario": np.full(n, case.name, dtype=object), "region": region_of,
                              "year": year_of, "use_case": use_case_of}
    out["first_year"] = case.horizon.first_year

    # demand
    def base(region, use_case) -> float:
        if use_case.users is not None:
            return use_case.users
        return region.base(use_case.user_base) * use_case.user_share

    potential = np.array([[base(case.regions[r], case.use_cases[u]) for u in use_cases] for r in regions],
                         dtype=float)
    out["potential_users"] = potential[region_index, use_case_index]
    logistic = per_use_case(lambda u: u.adoption if isinstance(u.adoption, LogisticAdoption) else None)
    # adoption tables: interpolated over the horizon once per use case, then gathered per row
    table_adoption = pd.DataFrame({
        uid: (np.interp(years, sorted(u.adoption), [u.adoption[k] for k in sorted(u.adoption)])
              if not isinstance(u.adoption, LogisticAdoption) else np.full(years.shape, np.nan))
        for uid, u in case.use_cases.items()}, index=years)
    out["adoption"] = table_adoption.to_numpy()[year_of - years[0], use_case_index]
    out["adoption_saturation"] = np.array([np.nan if a is None else a.saturation for a in logistic], float)
    out["adoption_midpoint_year"] = np.array([np.nan if a is None else a.midpoint_year for a in logistic], float)
    out["adoption_steepness"] = np.array([np.nan if a is None else a.steepness for a in logistic], float)
    reference = case.demand.reference_ai_user_share
    ai_users = per_region(lambda r: np.nan if r.ai_user_share is None else r.ai_user_share).astype(float)
    if case.demand.country_adoption and reference is not None:
        out["adoption_midpoint_year"] = country_midpoint(
            out["adoption_saturation"], out["adoption_midpoint_year"], out["adoption_steepness"],
            ai_users / reference)
    for name in ("requests_per_user_per_day", "input_tokens", "token_growth", "token_growth_years",
                 "frontier_share", "peak_to_average", "cached_input_share", "turns_per_session",
                 "context_growth_per_turn", "session_length_dispersion"):
        out[name] = per_use_case(lambda u, n=name: getattr(u, n)).astype(float)
    out["output_tokens"] = per_use_case(lambda u: u.output_tokens + u.reasoning_tokens).astype(float)

    # region
    for name in ("working_days_per_year", "electricity_consumption", "peak_demand",
                 "electricity_price", "grid_co2_intensity"):
        out[name] = per_region(lambda r, n=name: getattr(r, n)).astype(float)
    # a use case runs on its own days a year (consumer use: every day), else on working days
    own_days = per_use_case(lambda u: np.nan if u.active_days_per_year is None
                            else u.active_days_per_year).astype(float)
    out["active_days_per_year"] = np.where(np.isnan(own_days), out["working_days_per_year"], own_days)

    # fleet and finance
    for name in ("target_utilisation", "redundancy", "usable_hbm_fraction", "max_batch_size",
                 "max_tokens_per_step", "server_overhead", "idle_power_fraction"):
        out[name] = getattr(case.fleet, name)
    out["discount_rate"] = case.finance.discount_rate
    out["demand_scale"] = case.demand.scale

    fa, ho, do = case.options.frontier_api, case.options.hosted_open_weight, case.options.domestic_buildout
    inf_or = lambda x: math.inf if x is None else x
    nan_or = lambda x: math.nan if x is None else float(x)
    out.update(
        fa_frontier_input_price=fa.frontier_tier.input_price, fa_frontier_output_price=fa.frontier_tier.output_price,
        fa_open_input_price=fa.open_tier.input_price, fa_open_output_price=fa.open_tier.output_price,
        fa_frontier_cached_price=fa.frontier_tier.cached_input_price,
        fa_open_cached_price=fa.open_tier.cached_input_price,
        fa_frontier_price_change=fa.frontier_tier.price_change,
        fa_open_price_change=fa.open_tier.price_change, fa_price_year=float(fa.price_year),
        **{f"fa_serving_{name}": value for name, value in fa.serving_cost.model_dump().items()},
        fa_frontier_model=fa.frontier_tier.proxy_model, fa_open_model=fa.open_tier.proxy_model,
        fa_gpu=fa.offshore.gpu, fa_precision=fa.offshore.precision, fa_engine=fa.offshore.engine,
        ho_engine=ho.engine, do_engine=do.engine,
        fa_max_tpot=inf_or(fa.offshore.max_tpot_ms), fa_gpus_per_replica=nan_or(fa.offshore.gpus_per_replica),
        fa_pue=fa.offshore.pue, fa_grid_co2_intensity=fa.offshore_grid_co2_intensity,
        ho_frontier_model=ho.frontier_tier.model, ho_open_model=ho.open_tier.model,
        ho_precision=ho.precision, ho_max_tpot=inf_or(ho.max_tpot_ms),
        ho_gpus_per_replica=nan_or(ho.gpus_per_replica), ho_pue=ho.pue,
        ho_domestic=float(ho.location == "domestic"), ho_access_agreement=float(ho.access_agreement),
        ho_rental_price_change=ho.rental_price_change, ho_price_year=float(ho.price_year),
        ho_year_round=float(ho.rented_capacity == "year-round"),
        ho_reserved_price_ratio=ho.reserved_price_ratio, ho_supply=float(SUPPLY_CODES[ho.supply]),
        ho_host_price_change=ho.host_price_change, ho_host_price_year=nan_or(ho.host_price_year),
        **{f"ho_{tier}_host_{kind}_price": nan_or(getattr(getattr(ho, f"{tier}_tier"), f"host_{kind}_price"))
           for tier in ("frontier", "open") for kind in ("input", "output", "cached_input")},
        **{f"ho_floor_{name}": value for name, value in ho.rent_floor.model_dump().items()},
        do_frontier_model=do.frontier_tier.model, do_open_model=do.open_tier.model, do_gpu=do.gpu,
        do_precision=do.precision, do_max_tpot=inf_or(do.max_tpot_ms),
        do_gpus_per_replica=nan_or(do.gpus_per_replica), do_pue=do.pue,
        do_facility_capex=do.facility_capex, do_grid_connection_capex=do.grid_connection_capex,
        do_server_lifetime=do.server_lifetime, do_facility_lifetime=do.facility_lifetime,
        do_grid_lifetime=do.grid_lifetime, do_server_om=do.server_om, do_facility_om=do.facility_om,
        do_discount_rate=do.discount_rate,
        do_arrival_year=per_region(lambda r: float(case.horizon.first_year + math.ceil(max(
            do.build_lead_time, do.grid_connection_lead_time if r.limits.grid_connection_queue is None
            else r.limits.grid_connection_queue) - 1e-9))).astype(float),
        do_bridge=do.bridge,
    )
    # limits on what each region may add a year (inf: none), from their year tables
    for name in LIMITS:
        out[f"limit_{name}"] = _limit_values(case, name, region_of, year_of)
    # fleets move to the generation of the year; a rented one's market price comes from the
    # catalogue unless it is the option's own GPU, whose price the scenario may set; the price
    # of a generation bought (or owned by the seller of rent and tokens) is the one of that year
    first = case.horizon.first_year
    change = case.fleet.generation_price_change
    rented = _roadmap(ho, year_of, first, catalog)
    out["ho_gpu"] = rented
    out["ho_rental_price"] = np.where(rented == ho.gpu, ho.rental_price,
                                      _catalog_value(catalog, rented, "rental_price"))
    out["ho_server_capex"] = generation_price(catalog, rented, year_of, change)
    # a generation's rent moves on its trend from the price year, or from its launch if later
    out["ho_rent_year"] = np.fmax(float(ho.price_year), _release_year(catalog, rented))
    bought = _roadmap(do, year_of, first, catalog)
    out["do_gpu_bought"] = bought
    out["do_server_capex"] = generation_price(catalog, bought, year_of, change, do.gpu, do.server_capex, first)
    offshore = _roadmap(fa.offshore, year_of, first, catalog)
    out["fa_gpu"] = offshore
    out["fa_serving_server_capex"] = generation_price(catalog, offshore, year_of, change, fa.offshore.gpu,
                                                      fa.serving_cost.server_capex, first)
    # scalars broadcast to every row
    return {name: (value if isinstance(value, np.ndarray) else np.full(n, value)) for name, value in out.items()}


def _limit_values(case: Case, name: str, region_of: np.ndarray, year_of: np.ndarray) -> np.ndarray:
    """A limit per row: the value of the latest entry of its region's year table at or before
    the row's year (year 0: every year); inf where there is none or it is null."""
    out = np.full(len(year_of), np.inf)
    for code, region in case.regions.items():
        table = getattr(region.limits, name) or {}
        for start in sorted(table):
            value = np.inf if table[start] is None else table[start]
            out = np.where((region_of == code) & (year_of >= start), value, out)
    return out


def _catalog_value(catalog: Catalog, gpus: np.ndarray, parameter: str) -> np.ndarray:
    """A GPU property per row, looked up once per distinct GPU."""
    unique, inverse = np.unique(np.asarray(gpus, dtype=str), return_inverse=True)
    rows = [catalog.get("gpus", str(g), parameter) for g in unique]
    return np.array([float(r.value) if r is not None else math.nan for r in rows])[inverse.ravel()]


IDENTITY_COLUMNS = ("scenario", "region", "use_case")
"""The text columns that name a row (kept as text: results and views carry them)."""


def scenario_rows(scenario: Scenario) -> pd.DataFrame:
    """Rows of every case of a scenario, stacked. The chain's text settings (model, GPU,
    precision, engine and bridge ids) are categoricals, so the stages read them as integer
    codes (`cells.ids`) and tiling rows for draws or sweep points copies codes, not strings."""
    rows = pd.concat([case_rows(case, scenario.catalog) for case in scenario.cases.values()],
                     ignore_index=True)
    return with_id_codes(rows)


def with_id_codes(rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` with every text column but `IDENTITY_COLUMNS` as a categorical."""
    text = [name for name in rows.columns if name not in IDENTITY_COLUMNS
            and (rows[name].dtype == object or pd.api.types.is_string_dtype(rows[name].dtype))
            and not isinstance(rows[name].dtype, pd.CategoricalDtype)]
    return rows.astype({name: "category" for name in text}) if text else rows
