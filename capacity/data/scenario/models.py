"""The scenario's parts as pydantic models: what a ministry analyst may write, with units.

Numbers may carry units ("12 MUSD/MW", "3 yr", "700 W"); a bare number is read in the unit the
field documents (`Q`), and kept in canonical units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ..catalog import Catalog, Row, default_catalog
from ..units import convert, describe_unit, to_magnitude

PRECISIONS = ("bf16", "fp8", "fp4")


# --- quantities with units -------------------------------------------------------------------

@dataclass(frozen=True)
class UnitSpec:
    """Field metadata: a bare number is read in `display`; the value is kept in `canonical`."""

    display: str
    canonical: str


MAX_MAGNITUDE = 1e18
"""Largest magnitude of any quantity, in the unit it is shown in (people, TWh/yr, USD/Mtok...):
far above every real input (a population of 1.4e9, 1e7 GPUs, 1e16 tokens a year) and far below what would overflow
the cost chain to infinity."""


def Q(display: str, canonical: str | None = None, **constraints: Any):  # noqa: N802
    """A float field given as a number or a 'number unit' string, kept in `canonical` units."""
    canonical = canonical if canonical is not None else display
    cap: list[float] = []

    def parse(value: Any) -> float:
        try:
            magnitude = to_magnitude(value, canonical, default_unit=display)
        except ValueError as exc:
            found, _, expected = str(exc).partition("; expected ")
            if not expected.startswith("a quantity in ") or ": " in expected:   # how it is written: as said
                raise
            # say what the analyst writes ("ms"), not the canonical unit kept inside ("s")
            raise ValueError(f"{found}; expected a quantity in {describe_unit(display)}") from None
        if not cap:
            cap.append(MAX_MAGNITUDE * float(convert(1.0, display, canonical)) if display != canonical
                       else MAX_MAGNITUDE)
        if abs(magnitude) > cap[0]:
            raise ValueError(f"found {value!r}; expected a magnitude of at most {MAX_MAGNITUDE:.0e}"
                             + (f" {display}" if display else "") + " (no real input comes near it)")
        return magnitude

    return Annotated[float, BeforeValidator(parse), Field(**constraints),
                     UnitSpec(display, canonical)]


Fraction = Q("", ge=0.0, le=1.0)
Count = Q("", ge=0.0)
Rate = Q("1/yr", gt=-1.0)  # a yearly change, e.g. -0.3 for -30 %/yr: above -100 %/yr


Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,79}$")]
"""A region code or a use-case id: a letter or digit first, then letters, digits, '_', '.', '+'
or '-' (at most 80): it names rows of every export, so it may not start a spreadsheet formula."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


# --- the scenario's parts --------------------------------------------------------------------

class Horizon(Strict):
    first_year: int = Field(ge=2000, le=2100)
    last_year: int = Field(ge=2000, le=2100)

    @model_validator(mode="after")
    def _ordered(self) -> "Horizon":
        if self.last_year < self.first_year:
            raise ValueError(f"found last_year {self.last_year} before first_year "
                             f"{self.first_year}; expected last_year >= first_year")
        return self


class Region(Strict):
    """A country or region; its statistics default to `assumptions/countries.csv`."""

    name: str
    population: Q("", gt=0.0)
    workforce: Count | None = None
    electricity_consumption: Q("TWh/yr", "J/yr", gt=0.0)
    peak_demand: Q("GW", "W", gt=0.0)
    electricity_price: Q("USD/kWh", "USD/J", ge=0.0)
    grid_co2_intensity: Q("g/kWh", "kg/J", ge=0.0)
    working_days_per_year: Q("day/yr", gt=0.0, le=366.0)
    # who works where (ISCO-08 shares of employed persons), who is online and who uses AI:
    # what the occupational user bases and the country's adoption are computed from
    workforce_share_managers: Fraction | None = None
    workforce_share_professionals: Fraction | None = None
    workforce_share_technicians: Fraction | None = None
    workforce_share_clerical: Fraction | None = None
    workforce_share_ict_professionals: Fraction | None = None
    internet_user_share: Fraction | None = None
    ai_user_share: Fraction | None = None
    limits: Limits = Field(default_factory=lambda: Limits())

    def base(self, user_base: str) -> float | None:
        """The number of people in a use case's user base (`USER_BASE_NEEDS`), or None when a
        field it needs is missing."""
        needs = [getattr(self, name) for name in USER_BASE_NEEDS.get(user_base, ())]
        if any(value is None for value in needs):
            return None
        if user_base in ("population", "online-population"):
            return self.population * (self.internet_user_share if needs else 1.0)
        return self.workforce * (sum(needs[1:]) if len(needs) > 1 else 1.0)


USER_BASES = ("population", "online-population", "workforce", "desk-workers", "professionals",
              "clerical-workers", "ict-professionals")
USER_BASE_NEEDS = {"online-population": ("internet_user_share",),
                   "workforce": ("workforce",),
                   "desk-workers": ("workforce", "workforce_share_managers",
                                    "workforce_share_professionals", "workforce_share_technicians",
                                    "workforce_share_clerical"),
                   "professionals": ("workforce", "workforce_share_professionals"),
                   "clerical-workers": ("workforce", "workforce_share_clerical"),
                   "ict-professionals": ("workforce", "workforce_share_ict_professionals")}
"""The region fields each user base is computed from: the population (times the internet user
share for the online population), or the employed persons (times the sum of the ISCO-08 shares
listed: desk workers are major groups 1-4, professionals 2, clerical workers 4, ICT
professionals sub-major group 25)."""


class LogisticAdoption(Strict):
    """Share of potential users active: ``saturation / (1 + exp(-steepness (year - midpoint)))``."""

    saturation: Fraction = 1.0
    midpoint_year: float
    steepness: Q("1/yr", gt=0.0)


class UseCase(Strict):
    """Who uses AI for what, how often and how heavily."""

    archetype: str | None = None
    users: Count | None = None
    user_base: Literal[USER_BASES] | None = None
    user_share: Fraction | None = None
    adoption: LogisticAdoption | dict[int, Fraction]
    requests_per_user_per_day: Q("1/day", ge=0.0)
    input_tokens: Q("token", ge=0.0)
    output_tokens: Q("token", gt=0.0)
    reasoning_tokens: Q("token", ge=0.0) = 0.0
    token_growth: Rate = 0.0
    token_growth_years: Q("yr", ge=0.0)
    cached_input_share: Fraction = 0.0
    frontier_share: Fraction
    peak_to_average: Q("", ge=1.0)
    # a request is a session of model calls (turns): each re-reads the context so far, which
    # starts at `input_tokens` and grows by `context_growth_per_turn`; `output_tokens` is per
    # turn; `session_length_dispersion` = E[T^2] / E[T]^2 over sessions (1 when all alike)
    turns_per_session: Q("", ge=1.0) = 1.0
    context_growth_per_turn: Q("token", ge=0.0) = 0.0
    session_length_dispersion: Q("", ge=1.0) = 1.0
    # days a year it runs: consumer use every day; work use (None) the region's working days
    active_days_per_year: Q("day/yr", gt=0.0, le=366.0) | None = None
    enabled: bool = True          # false: left out of the run (national demand without it)

    @model_validator(mode="after")
    def _who(self) -> "UseCase":
        if self.users is None and (self.user_base is None or self.user_share is None):
            raise ValueError("found neither users nor user_base with user_share; expected a "
                             "number of users, or user_base (" + "|".join(USER_BASES) + ") and user_share")
        return self


class Fleet(Strict):
    """How fleets are provisioned and how their servers draw power (all options)."""

    target_utilisation: Q("", gt=0.0, le=1.0)
    redundancy: Q("", ge=0.0)
    usable_hbm_fraction: Q("", gt=0.0, le=1.0)
    max_batch_size: Q("", ge=1.0)
    max_tokens_per_step: Q("token", ge=1.0)
    server_overhead: Q("", ge=1.0)
    idle_power_fraction: Fraction
    # a generation's server price after it ships, per year: never rising (a chip gets cheaper
    # as newer ones arrive); new generations are priced by the library's perf-per-dollar trend
    generation_price_change: Q("1/yr", ge=-1.0, le=0.0)


class ServedTier(Strict):
    """An open-weight model serving one tier of demand on GPUs, or bought per token from a
    host that serves it (`host_product`, default: the catalogue's host of that model)."""

    model: str
    host_product: str | None = None
    host_input_price: Q("USD/Mtok", "USD/token", ge=0.0) | None = None
    host_output_price: Q("USD/Mtok", "USD/token", ge=0.0) | None = None
    host_cached_input_price: Q("USD/Mtok", "USD/token", ge=0.0) | None = None


class ApiTier(Strict):
    """An API product serving one tier of demand, with its prices (default: catalogue)."""

    product: str
    input_price: Q("USD/Mtok", "USD/token", ge=0.0)
    output_price: Q("USD/Mtok", "USD/token", ge=0.0)
    cached_input_price: Q("USD/Mtok", "USD/token", ge=0.0)
    price_change: Rate   # yearly change of the tier's list prices from the price year
    proxy_model: str


class GpuServing(Strict):
    """How a fleet of GPUs serves: hardware, precision and latency target."""

    gpu: str
    precision: Literal["bf16", "fp8", "fp4"]
    max_tpot_ms: Q("ms", "s", gt=0.0) | None = None
    gpus_per_replica: int | None = Field(default=None, ge=1)
    pue: Q("", ge=1.0)
    # after the last roadmap entry: move each year to the newest generation of that GPU's line
    # (extrapolated past the catalogue, ids like b300-x2030), or stay on the last entry
    after_roadmap: Literal["newest", "last"] = "newest"
    # the inference engine, whose calibrated efficiency factors apply; TensorRT-LLM by default:
    # the engine behind NVIDIA's supported enterprise serving (NIM) and the best-measured one
    # (vLLM and SGLang have too few published NVIDIA results to carry a default; assumptions/
    # calibration-notes.md)
    engine: Literal["tensorrt-llm", "vllm", "sglang"] = "tensorrt-llm"


class OwnerCost(Strict):
    """What owning a GPU costs a seller of compute, before the server price and energy: asset
    lives, O&M, the facility's share and the cost of capital, and the seller's markup."""

    server_lifetime: Q("yr", ge=1.0)
    server_om: Q("1/yr", ge=0.0)
    facility_capex: Q("MUSD/MW", "USD/W", ge=0.0)   # per W of IT nameplate
    facility_lifetime: Q("yr", ge=1.0)
    facility_om: Q("1/yr", ge=0.0)
    discount_rate: Q("1/yr", ge=0.0, le=1.0)
    markup: Q("", ge=0.0)   # over the owner's cost


class ServingCost(OwnerCost):
    """What it costs the labs to serve tokens on their offshore fleet: the floor under API
    prices (`price >= (1 + markup) x owner's cost of the fleet behind it`)."""

    server_capex: Q("USD/GPU", ge=0.0)
    electricity_price: Q("USD/kWh", "USD/J", ge=0.0)


class FrontierApi(Strict):
    frontier_tier: ApiTier
    open_tier: ApiTier
    price_year: int
    serving_cost: ServingCost
    offshore: GpuServing
    offshore_grid_co2_intensity: Q("g/kWh", "kg/J", ge=0.0)


class RentFloor(OwnerCost):
    """What owning a rented GPU costs its provider: the floor under rent (`rent >= (1 + markup)
    x the owner's cost per GPU-hour`, with the server price of the GPU rented that year and the
    electricity price where it stands)."""


class HostedOpenWeight(GpuServing):
    # a foreign provider's capacity in a domestic region stays exposed to access shocks unless
    # the country holds an access agreement with it (the compute-for-access bargain)
    access_agreement: bool = False
    frontier_tier: ServedTier
    open_tier: ServedTier
    gpu_roadmap: dict[int, str] = Field(default_factory=dict)
    location: Literal["domestic", "offshore"]
    rental_price: Q("USD/GPU/h", "USD/GPU/s", ge=0.0)   # on demand
    rental_price_change: Rate
    price_year: int
    rent_floor: RentFloor
    # rent a reserved baseline sized to the average load and top it up on demand for the peak
    # hours, or hold a peak-sized reserved fleet all year; or buy the tokens per token from a
    # host (`per-token`), or whichever of renting and buying costs less per tier and year
    rented_capacity: Literal["baseline-and-burst", "year-round"] = "baseline-and-burst"
    reserved_price_ratio: Q("", gt=0.0, le=1.0)   # reserved over on-demand rent
    supply: Literal["rent", "per-token", "auto"] = "auto"
    host_price_change: Rate
    host_price_year: int | None = None


class DomesticBuildout(GpuServing):
    frontier_tier: ServedTier
    open_tier: ServedTier
    gpu_roadmap: dict[int, str] = Field(default_factory=dict)
    server_capex: Q("USD/GPU", ge=0.0)
    facility_capex: Q("MUSD/MW", "USD/W", ge=0.0)
    grid_connection_capex: Q("MUSD/MW", "USD/W", ge=0.0)
    server_lifetime: Q("yr", ge=1.0)
    facility_lifetime: Q("yr", ge=1.0)
    grid_lifetime: Q("yr", ge=1.0)
    server_om: Q("1/yr", ge=0.0)
    facility_om: Q("1/yr", ge=0.0)
    discount_rate: Q("1/yr", ge=0.0)
    build_lead_time: Q("yr", ge=0.0)
    grid_connection_lead_time: Q("yr", ge=0.0)
    bridge: Literal["frontier-api", "hosted-open-weight"]


class Pooled(Strict):
    """A share of a public or consortium machine (a EuroHPC AI Factory, a university
    consortium): `allocation_share` of its `gpus` from `first_year` (renewed at the end of each
    `lifetime` at the same cost), for `cost_share` of its annualised cost (capex x capital
    recovery over the lifetime + O&M) and the energy the country's work draws. What the allocation cannot carry goes down a portfolio's fallback
    chain. Used by portfolios (route ``pooled``), never a pure option."""

    gpu: str
    gpus: Count
    allocation_share: Fraction
    cost_share: Fraction
    capex: Q("MUSD", "USD", ge=0.0)
    first_year: int = Field(ge=2000, le=2100)
    lifetime: Q("yr", ge=1.0)
    om: Q("1/yr", ge=0.0)
    discount_rate: Q("1/yr", ge=0.0, le=1.0)
    location: Literal["domestic", "partner"] = "domestic"
    access_agreement: bool = True    # a treaty consortium guarantees access to its members
    frontier_tier: ServedTier
    open_tier: ServedTier
    precision: Literal["bf16", "fp8", "fp4"] = "fp8"
    max_tpot_ms: Q("ms", "s", gt=0.0) | None = None
    gpus_per_replica: int | None = Field(default=None, ge=1)
    pue: Q("", ge=1.0)
    engine: Literal["tensorrt-llm", "vllm", "sglang"] = "tensorrt-llm"


class Options(Strict):
    frontier_api: FrontierApi = Field(alias="frontier-api")
    hosted_open_weight: HostedOpenWeight = Field(alias="hosted-open-weight")
    domestic_buildout: DomesticBuildout = Field(alias="domestic-buildout")
    pooled: Pooled | None = None


class Finance(Strict):
    discount_rate: Q("1/yr", ge=0.0)


class Demand(Strict):
    """Scenario-wide demand knobs."""

    scale: Q("", gt=0.0) = 1.0   # multiplies every use case's requests (a sensitivity)
    # a country's adoption runs ahead or behind the curves observed where AI use is common, in
    # the ratio of its AI user share to theirs (`ai_user_share` / `reference_ai_user_share`)
    country_adoption: bool = True
    reference_ai_user_share: Q("", gt=0.0, le=1.0) | None = None


class Plausibility(Strict):
    """When a result is flagged as beyond what a national grid has carried: an option's
    facility power above `peak_share` of the national peak, or its energy above
    `consumption_share` of national consumption (default: the highest share data centres take
    anywhere in the library's sources, Ireland's)."""

    peak_share: Q("", gt=0.0) = 1.0
    consumption_share: Q("", gt=0.0, le=1.0) | None = None


# --- supply routes, portfolios, limits and shocks ----------------------------------------------

ROUTES = ("api", "hosted", "owned", "pooled")
"""Ways to serve a tier: ``api`` buys tokens from foreign frontier labs (the frontier-api
option's settings); ``hosted`` rents GPUs for open-weight models or buys their tokens from hosts
(the hosted-open-weight option's settings, domestic or abroad); ``owned`` is domestic capacity
the country owns (the domestic-buildout option's settings, with its bridge before arrival);
``pooled`` a share of a public or consortium machine (`options.pooled`)."""
PURE_OPTIONS = {"frontier-api": "api", "hosted-open-weight": "hosted", "domestic-buildout": "owned"}
"""The pure options: every tier, every year, on one route."""

Route = Literal[ROUTES]
YearLimit = Q("", ge=0.0)


def _year_table(value: Any) -> Any:
    """A limit as written: a number for every year, or ``{year: number or null}`` from that year
    on (null: no limit from then); kept as ``{year: value}``, year 0 for "every year"."""
    if value is None or isinstance(value, dict):
        return value
    return {0: value}


def YearValues(display: str, canonical: str | None = None):  # noqa: N802
    return Annotated[dict[int, Q(display, canonical, ge=0.0) | None] | None,
                     BeforeValidator(_year_table), UnitSpec(display, canonical or display)]


class Limits(Strict):
    """What a region can add of domestic capacity (owned, and rented in a domestic region) each
    year. Each is optional: a number holds for every year, ``{year: value}`` from that year on
    (``null``: no limit from then on)."""

    # GPUs delivered a year, in H100-equivalents: dense FP8 peak over the H100 SXM's 1,979
    # TFLOP/s (the export rules' total processing performance, TPP = 8 x dense FP8 TFLOP/s)
    gpu_allocation: YearValues("1/yr") = None
    # facility load that new datacenters can connect to the grid a year
    grid_connection: YearValues("MW/yr", "W/yr") = None
    # datacenter capacity (facility load) the country can commission a year
    build_rate: YearValues("MW/yr", "W/yr") = None
    # years a new large connection waits; replaces the domestic option's grid lead time
    grid_connection_queue: Q("yr", ge=0.0) | None = None


Region.model_rebuild()


class Shock(Strict):
    """An access shock from `start` to `end` (inclusive; none: to the horizon's end).

    ``cutoff``: the routes stop serving (all use cases, or `use_cases`; both tiers or `tiers`);
    ``quota``: at most `quota` tokens a year through the routes; ``price``: their prices times
    `multiplier`; ``open-lag``: open-weight models can serve only `open_share` of frontier-tier
    work (the rest of it needs a frontier model). `routes` names the routes hit (default
    ``api``); ``exposed`` hits every route exposed to access shocks."""

    kind: Literal["cutoff", "quota", "price", "open-lag"]
    start: int = Field(ge=2000, le=2100)
    end: int | None = Field(default=None, ge=2000, le=2100)
    routes: list[Literal[ROUTES + ("exposed",)]] = Field(default_factory=lambda: ["api"])
    use_cases: list[str] | None = None
    tiers: list[Literal["frontier", "open"]] = Field(default_factory=lambda: ["frontier", "open"])
    quota: Q("token/yr", ge=0.0) | None = None
    multiplier: Q("", gt=0.0) | None = None
    open_share: Fraction | None = None
    title: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> "Shock":
        needs = {"quota": "quota", "price": "multiplier", "open-lag": "open_share"}.get(self.kind)
        if needs and getattr(self, needs) is None:
            raise ValueError(f"found a {self.kind} shock without `{needs}`; expected `{needs}`")
        if self.end is not None and self.end < self.start:
            raise ValueError(f"found end {self.end} before start {self.start}; expected end >= start")
        return self


class Fallback(Strict):
    """A step of a portfolio's fallback chain: the route that takes over what its routes cannot
    serve (after a shock, or beyond a limit), after `ramp_time` from the shock's start."""

    route: Route
    ramp_time: Q("yr", ge=0.0) = 0.0


class Reserve(Strict):
    """Owned capacity kept for `share` of the frontier tier's peak, idle until frontier access is
    cut; frontier work moves onto it (on open-weight models) within `switch_time`."""

    share: Fraction
    switch_time: Q("yr", ge=0.0)


def _shares(value: Any) -> Any:
    """Route shares as written: ``{route: share}`` for every year, or ``{year: {route:
    share}}`` from that year on; kept as ``{year: {route: share}}``, year 0 for "every year"."""
    if isinstance(value, dict) and value and all(isinstance(k, str) and not k.isdigit()
                                                 for k in value):
        return {0: value}
    return value


Shares = Annotated[dict[int, dict[Route, Fraction]], BeforeValidator(_shares)]


class Portfolio(Strict):
    """An option made of routes: each tier's shares by route (they add up to 1), a reserve, and
    the fallback chain for what its routes cannot serve."""

    title: str | None = None
    frontier: Shares
    open: Shares
    reserve: Reserve | None = None
    fallback: list[Fallback] = Field(default_factory=list)
    enabled: bool = True

    @model_validator(mode="after")
    def _whole(self) -> "Portfolio":
        for tier in ("frontier", "open"):
            for year, shares in getattr(self, tier).items():
                total = sum(shares.values())
                if abs(total - 1.0) > 1e-6:
                    when = "" if year == 0 else f" from {year}"
                    raise ValueError(f"found {tier}-tier shares{when} adding up to {total:g}; "
                                     "expected route shares that add up to 1")
        return self


class Robustness(Strict):
    """The matrix `capacity robust` runs: the scenario's worldviews (its variants) x these shock
    cases, each a list of shocks; the value placed on demand not served; the case weights."""

    shock_cases: dict[str, list[Shock]] = Field(default_factory=dict)
    unserved_value: Q("USD/Mtok", "USD/token", ge=0.0) | None = None
    weights: dict[str, Q("", ge=0.0)] = Field(default_factory=dict)


class Case(Strict):
    """One fully specified scenario: what the model runs on."""

    schema_version: Literal[1] = 1
    name: str
    title: str | None = None
    description: str | None = None
    worldview: Literal["realist", "maximalist"] = "realist"
    horizon: Horizon
    regions: dict[Identifier, Region] = Field(min_length=1)
    use_cases: dict[Identifier, UseCase] = Field(min_length=1)
    demand: Demand = Field(default_factory=Demand)
    checks: list[str] = Field(default_factory=list)   # `capacity check` expressions
    plausibility: Plausibility = Field(default_factory=Plausibility)
    shocks: list[Shock] = Field(default_factory=list)
    portfolios: dict[str, Portfolio] = Field(default_factory=dict)
    robustness: Robustness = Field(default_factory=Robustness)
    fleet: Fleet
    options: Options
    finance: Finance


# --- the loaded scenario ---------------------------------------------------------------------

@dataclass
class Scenario:
    """A scenario file, validated: one `Case` per variant, with provenance."""

    name: str
    source: str
    cases: dict[str, Case]
    assumptions_used: dict[str, dict[tuple, Row]] = field(default_factory=dict)
    catalog: Catalog = field(default_factory=default_catalog, repr=False)
    checks: list[tuple[str, str]] = field(default_factory=list)
    """The scenario's `checks:` expressions, each with where it is written (file:line)."""
    warnings: list[str] = field(default_factory=list)
    """Values far outside the sourced range of the library row they replace, each located
    (`defaults.range_warnings`): shown, never refused."""
