"""Scenarios: the YAML a ministry analyst writes, validated by pydantic, completed from the
assumption library.

A scenario file holds one base case and optional named ``variants`` (deep-merged overrides),
e.g. ``realist`` and ``maximalist``; each variant becomes one value of the ``scenario`` column
of the results. Numbers may carry units ("12 MUSD/MW", "3 yr", "700 W"); a bare number is read
in the unit the field documents. What a scenario leaves out is filled from `assumptions/`, and
every filled value is remembered (provenance). Every error names the file, the line and the key.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from .catalog import Catalog, Row, default_catalog
from .errors import InputError
from .units import describe_unit, to_magnitude

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "assumptions" / "scenarios"
DEFAULT_SCENARIO = "netherlands"
PRECISIONS = ("bf16", "fp8", "fp4")


# --- quantities with units -------------------------------------------------------------------

@dataclass(frozen=True)
class UnitSpec:
    """Field metadata: a bare number is read in `display`; the value is kept in `canonical`."""

    display: str
    canonical: str


def Q(display: str, canonical: str | None = None, **constraints: Any):  # noqa: N802
    """A float field given as a number or a 'number unit' string, kept in `canonical` units."""
    canonical = canonical if canonical is not None else display

    def parse(value: Any) -> float:
        try:
            return to_magnitude(value, canonical, default_unit=display)
        except ValueError as exc:
            # say what the analyst writes ("ms"), not the canonical unit kept inside ("s")
            found, _, _ = str(exc).partition("; expected ")
            raise ValueError(f"{found}; expected a quantity in {describe_unit(display)}") from None

    return Annotated[float, BeforeValidator(parse), Field(**constraints),
                     UnitSpec(display, canonical)]


Fraction = Q("", ge=0.0, le=1.0)
Count = Q("", ge=0.0)
Rate = Q("1/yr")  # a yearly change, e.g. -0.3 for -30 %/yr


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
    population: Count
    workforce: Count | None = None
    electricity_consumption: Q("TWh/yr", "J/yr", gt=0.0)
    peak_demand: Q("GW", "W", gt=0.0)
    electricity_price: Q("USD/kWh", "USD/J", ge=0.0)
    grid_co2_intensity: Q("g/kWh", "kg/J", ge=0.0)
    working_days_per_year: Q("day/yr", gt=0.0, le=366.0)


class LogisticAdoption(Strict):
    """Share of potential users active: ``saturation / (1 + exp(-steepness (year - midpoint)))``."""

    saturation: Fraction = 1.0
    midpoint_year: float
    steepness: Q("1/yr", gt=0.0)


class UseCase(Strict):
    """Who uses AI for what, how often and how heavily."""

    archetype: str | None = None
    users: Count | None = None
    user_base: Literal["population", "workforce"] | None = None
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

    @model_validator(mode="after")
    def _who(self) -> "UseCase":
        if self.users is None and (self.user_base is None or self.user_share is None):
            raise ValueError("found neither users nor user_base with user_share; expected a "
                             "number of users, or user_base (population|workforce) and user_share")
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


class ServedTier(Strict):
    """An open-weight model serving one tier of demand on GPUs."""

    model: str


class ApiTier(Strict):
    """An API product serving one tier of demand, with its prices (default: catalogue)."""

    product: str
    input_price: Q("USD/Mtok", "USD/token", ge=0.0)
    output_price: Q("USD/Mtok", "USD/token", ge=0.0)
    cached_input_price: Q("USD/Mtok", "USD/token", ge=0.0)
    proxy_model: str


class GpuServing(Strict):
    """How a fleet of GPUs serves: hardware, precision and latency target."""

    gpu: str
    precision: Literal["bf16", "fp8", "fp4"]
    max_tpot_ms: Q("ms", "s", gt=0.0) | None = None
    gpus_per_replica: int | None = Field(default=None, ge=1)
    pue: Q("", ge=1.0)


class FrontierApi(Strict):
    frontier_tier: ApiTier
    open_tier: ApiTier
    price_change: Rate
    price_year: int
    offshore: GpuServing
    offshore_grid_co2_intensity: Q("g/kWh", "kg/J", ge=0.0)


class HostedOpenWeight(GpuServing):
    frontier_tier: ServedTier
    open_tier: ServedTier
    gpu_roadmap: dict[int, str] = Field(default_factory=dict)
    location: Literal["domestic", "offshore"]
    rental_price: Q("USD/GPU/h", "USD/GPU/s", ge=0.0)
    rental_price_change: Rate
    price_year: int


class DomesticBuildout(GpuServing):
    frontier_tier: ServedTier
    open_tier: ServedTier
    gpu_roadmap: dict[int, str] = Field(default_factory=dict)
    server_capex: Q("USD/GPU", ge=0.0)
    facility_capex: Q("MUSD/MW", "USD/W", ge=0.0)
    grid_connection_capex: Q("MUSD/MW", "USD/W", ge=0.0)
    server_lifetime: Q("yr", gt=0.0)
    facility_lifetime: Q("yr", gt=0.0)
    grid_lifetime: Q("yr", gt=0.0)
    server_om: Q("1/yr", ge=0.0)
    facility_om: Q("1/yr", ge=0.0)
    discount_rate: Q("1/yr", ge=0.0)
    build_lead_time: Q("yr", ge=0.0)
    grid_connection_lead_time: Q("yr", ge=0.0)
    bridge: Literal["frontier-api", "hosted-open-weight"]


class Options(Strict):
    frontier_api: FrontierApi = Field(alias="frontier-api")
    hosted_open_weight: HostedOpenWeight = Field(alias="hosted-open-weight")
    domestic_buildout: DomesticBuildout = Field(alias="domestic-buildout")


class Finance(Strict):
    discount_rate: Q("1/yr", ge=0.0)


class Demand(Strict):
    """Scenario-wide demand knobs."""

    scale: Q("", gt=0.0) = 1.0   # multiplies every use case's requests (a sensitivity)


class Case(Strict):
    """One fully specified scenario: what the model runs on."""

    schema_version: Literal[1] = 1
    name: str
    title: str | None = None
    description: str | None = None
    worldview: Literal["realist", "maximalist"] = "realist"
    horizon: Horizon
    regions: dict[str, Region] = Field(min_length=1)
    use_cases: dict[str, UseCase] = Field(min_length=1)
    demand: Demand = Field(default_factory=Demand)
    checks: list[str] = Field(default_factory=list)   # `capacity check` expressions
    fleet: Fleet
    options: Options
    finance: Finance


# --- reading YAML with line numbers ----------------------------------------------------------

def _plain(node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> Any:
    """Turn a composed YAML node into Python values, recording the line of every key."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node)) if key_node.tag != \
                "tag:yaml.org,2002:str" else key_node.value
            lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = _plain(value_node, path + (key,), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, path + (i,), lines) for i, item in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def read_yaml(path: Path) -> tuple[dict, dict[tuple, int]]:
    """Parse a YAML file into a dict and a map from key path to line number."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(str(path), None, f"a file that cannot be read ({exc.strerror})",
                         "a readable scenario file") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise InputError(where, None, f"invalid YAML ({getattr(exc, 'problem', exc)})",
                         "a YAML mapping") from None
    lines: dict[tuple, int] = {}
    data = _plain(node, (), lines) if node is not None else None
    if not isinstance(data, dict):
        raise InputError(f"{path}:1", None, "a document that is not a mapping of keys",
                         "a YAML mapping with horizon, regions, use_cases and options")
    return data, lines


# --- filling what a scenario leaves out ------------------------------------------------------

# scenario path -> (table, id, parameter) in the assumption library
OPTION_DEFAULTS: dict[tuple[str, ...], tuple[str, str, str]] = {
    ("fleet", "target_utilisation"): ("defaults", "fleet", "target_utilisation"),
    ("fleet", "redundancy"): ("defaults", "fleet", "redundancy"),
    ("fleet", "usable_hbm_fraction"): ("defaults", "fleet", "usable_hbm_fraction"),
    ("fleet", "max_batch_size"): ("defaults", "fleet", "max_batch_size"),
    ("fleet", "max_tokens_per_step"): ("defaults", "fleet", "max_tokens_per_step"),
    ("fleet", "server_overhead"): ("defaults", "server", "overhead_factor"),
    ("fleet", "idle_power_fraction"): ("defaults", "server", "idle_power_fraction"),
    ("finance", "discount_rate"): ("defaults", "finance", "discount_rate_public"),
    ("options", "frontier-api", "price_change"): ("defaults", "trend", "frontier_api_price_change"),
    ("options", "frontier-api", "offshore", "pue"): ("defaults", "offshore", "pue"),
    ("options", "frontier-api", "offshore_grid_co2_intensity"):
        ("defaults", "offshore", "grid_co2_intensity"),
    ("options", "hosted-open-weight", "pue"): ("defaults", "facility", "pue_colocation"),
    ("options", "hosted-open-weight", "rental_price_change"):
        ("defaults", "trend", "gpu_rental_price_change"),
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
REGION_FIELDS = ("name", "population", "workforce", "electricity_consumption", "peak_demand",
                 "electricity_price", "grid_co2_intensity")
USE_CASE_FIELDS = {  # scenario field -> use_cases.csv parameter ({w}: the worldview)
    "user_base": "user_base", "user_share": "user_share",
    "requests_per_user_per_day": "requests_per_user_per_day",
    "input_tokens": "input_tokens_per_request", "output_tokens": "output_tokens_per_request",
    "reasoning_tokens": "reasoning_tokens_per_request", "token_growth": "token_growth_{w}",
    "frontier_share": "frontier_share_{w}", "peak_to_average": "peak_to_average",
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


def fill_defaults(data: dict, catalog: Catalog) -> dict[tuple, Row]:
    """Complete a raw scenario (in place) from the assumption library; return what was used."""
    used: dict[tuple, Row] = {}
    worldview = data.get("worldview", "realist")
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
    for tier in ("frontier_tier", "open_tier"):
        product = _get(options, ("frontier-api", tier, "product"))
        if isinstance(product, str):
            for name in ("input_price", "output_price", "cached_input_price"):
                _set_default(data, ("options", "frontier-api", tier, name),
                             catalog.get("api_products", product, name), used)
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


def _deep_merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _expected_for(model: type[BaseModel], loc: tuple) -> tuple[list[str], str | None]:
    """The keys allowed where `loc` points, and the field's documented unit."""
    current: Any = model
    for key in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {f.alias or n: f for n, f in current.model_fields.items()}
            if key not in fields:
                return sorted(fields), None
            info = fields[key]
            current = info.annotation
            unit = next((m for m in info.metadata if isinstance(m, UnitSpec)), None)
            args = getattr(current, "__args__", ())
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            if models:
                current = models[0]
            elif args and str(getattr(current, "__origin__", "")) == "<class 'dict'>":
                current = args[1]
            if unit is not None and key == loc[-1]:
                return [], unit.display
        elif getattr(current, "__origin__", None) is dict:
            current = current.__args__[1]
        else:
            return [], None
    return [], None


def _line_for(lines: dict[tuple, int], path: tuple, variant_prefix: tuple = ()) -> int | None:
    """Line of `path`: in the variant's overrides if it is there, else in the base scenario,
    else the nearest enclosing key that is written."""
    if variant_prefix and variant_prefix + path in lines:
        return lines[variant_prefix + path]
    probe = tuple(path)
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe[:-1]
    return lines.get(variant_prefix) if variant_prefix else None


def _format_error(error: dict, source: str, lines: dict[tuple, int], variant_prefix: tuple,
                  used: dict[tuple, Row], overridden: dict[tuple, str]) -> InputError:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and ("[" in p or p in (
        "function-after", "dict[int,constrained-float]"))))
    loc = tuple(p for p in loc if p not in ("LogisticAdoption",))
    key = ".".join(str(p) for p in loc) or "(top level)"
    if loc in overridden:
        where = f"{SET_SOURCE} {overridden[loc]}"
    elif loc in used:
        row = used[loc]
        where = f"{row.file}:{row.line}"
    else:
        line = _line_for(lines, loc, variant_prefix)
        where = f"{source}:{line}" if line else source
    kind, message, found = error["type"], error["msg"], error.get("input")
    if kind == "extra_forbidden":
        allowed, _ = _expected_for(Case, loc[:-1] + ("\0",))
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        return InputError(where, key, f"an unknown key {loc[-1]!r}",
                          "one of " + ", ".join(allowed) if allowed else "no such key",
                          f"did you mean {close[0]!r}?" if close else None)
    if kind == "missing":
        return InputError(where, key, "nothing (the key is missing and the assumption library "
                          "has no default for it)", "a value")
    if kind == "value_error":
        text = message.removeprefix("Value error, ")
        found_text, _, expected = text.partition("; expected ")
        return InputError(where, key, found_text.removeprefix("found "), expected or None)
    _, unit = _expected_for(Case, loc)
    unit_text = f" {unit}" if unit else ""
    return InputError(where, key, repr(found) if not isinstance(found, dict) else "a mapping",
                      message.replace("Input should be", "a value").replace(
                          "greater than or equal to", ">=").replace("less than or equal to", "<=")
                      .replace("greater than", ">").replace("less than", "<") + unit_text)


def validate_case(data: dict, source: str, lines: dict[tuple, int], catalog: Catalog,
                  variant_prefix: tuple = (), overridden: dict[tuple, str] | None = None
                  ) -> tuple[Case, dict[tuple, Row]]:
    """Fill a raw case from the library and validate it; errors are located in `source`."""
    data = copy.deepcopy(data)
    check_raw_identifiers(data, source, lines, catalog, variant_prefix)
    used = fill_defaults(data, catalog)
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        rank = {"extra_forbidden": 0, "missing": 2}
        errors = sorted(exc.errors(), key=lambda e: rank.get(e["type"], 1))
        first = _format_error(errors[0], source, lines, variant_prefix, used, overridden or {})
        if len(errors) > 1:
            first.args = (f"{first.args[0]} (and {len(errors) - 1} more problem"
                          f"{'s' if len(errors) > 2 else ''})",)
        raise first from None
    check_workforce(case, source, lines, variant_prefix)
    return case, used


ID_PATHS: list[tuple[tuple, str]] = [
    (("options", "frontier-api", "frontier_tier", "product"), "api_products"),
    (("options", "frontier-api", "open_tier", "product"), "api_products"),
    (("options", "frontier-api", "frontier_tier", "proxy_model"), "models"),
    (("options", "frontier-api", "open_tier", "proxy_model"), "models"),
    (("options", "frontier-api", "offshore", "gpu"), "gpus"),
    (("options", "hosted-open-weight", "gpu"), "gpus"),
    (("options", "hosted-open-weight", "frontier_tier", "model"), "models"),
    (("options", "hosted-open-weight", "open_tier", "model"), "models"),
    (("options", "domestic-buildout", "gpu"), "gpus"),
    (("options", "domestic-buildout", "frontier_tier", "model"), "models"),
    (("options", "domestic-buildout", "open_tier", "model"), "models"),
]
"""Where a scenario names an id of the assumption library, and which table holds it."""


def _unknown_id(value: str, path: tuple, table: str, source: str, lines: dict[tuple, int],
                catalog: Catalog, variant_prefix: tuple) -> InputError | None:
    known = catalog.ids(table)
    if value in known:
        return None
    line = _line_for(lines, path, variant_prefix)
    close = difflib.get_close_matches(value, known, n=1)
    return InputError(f"{source}:{line}" if line else source, ".".join(map(str, path)),
                      f"unknown id {value!r}", "one of " + ", ".join(known),
                      f"did you mean {close[0]!r}?" if close else None)


def check_raw_identifiers(data: dict, source: str, lines: dict[tuple, int], catalog: Catalog,
                          variant_prefix: tuple = ()) -> None:
    """Refuse unknown ids before anything is looked up by them."""
    for path, table in ID_PATHS:
        value = _get(data, path)
        if isinstance(value, str):
            error = _unknown_id(value, path, table, source, lines, catalog, variant_prefix)
            if error:
                raise error
    for option in ("hosted-open-weight", "domestic-buildout"):
        roadmap = _get(data, ("options", option, "gpu_roadmap"))
        if isinstance(roadmap, dict):
            for year, gpu in roadmap.items():
                path = ("options", option, "gpu_roadmap", year)
                error = _unknown_id(str(gpu), path, "gpus", source, lines, catalog, variant_prefix)
                if error:
                    raise error


def check_workforce(case: Case, source: str, lines: dict[tuple, int],
                    variant_prefix: tuple = ()) -> None:
    """Refuse a use case that counts its users in a workforce its region does not give.
    (Unknown ids are refused earlier, on the raw data: `check_raw_identifiers`.)"""
    for code in case.regions:
        for name, use_case in case.use_cases.items():
            if use_case.user_base == "workforce" and case.regions[code].workforce is None:
                path = ("regions", code, "workforce")
                line = _line_for(lines, path, variant_prefix)
                raise InputError(f"{source}:{line}" if line else source, ".".join(path),
                                 "nothing", f"the workforce (use case {name!r} counts its users "
                                 "as a share of it)")


def preset_names() -> list[str]:
    """Names of the scenarios shipped in `assumptions/scenarios/`."""
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml"))


def resolve_source(source: str | Path | None) -> Path:
    """A path, a preset name or None (the default scenario) -> the scenario file."""
    if source is None:
        return SCENARIOS_DIR / f"{DEFAULT_SCENARIO}.yaml"
    path = Path(source)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise InputError(str(path), None, "no such file", "a scenario file or a preset "
                             "name: " + ", ".join(preset_names()))
        return path
    preset = SCENARIOS_DIR / f"{source}.yaml"
    if not preset.exists():
        close = difflib.get_close_matches(str(source), preset_names(), n=1)
        raise InputError(None, "scenario", repr(str(source)), "a scenario file or a preset name: "
                         + ", ".join(preset_names()), f"did you mean {close[0]!r}?" if close else None)
    return preset


SET_SOURCE = "--set"


def parse_override(text: str) -> tuple[tuple, Any]:
    """``PATH=VALUE`` -> (key path, value). VALUE is read as YAML (a number, or text such as
    ``1.25`` or ``"700 W"``); the path is checked against the scenario's keys."""
    path_text, sep, value_text = text.partition("=")
    if not sep or not path_text.strip():
        raise InputError(SET_SOURCE, None, repr(text), "PATH=VALUE, e.g. options.domestic-buildout.pue=1.25")
    path = tuple(int(p) if p.isdigit() else p for p in path_text.strip().split("."))
    _check_override_path(path, path_text.strip())
    try:
        value = yaml.safe_load(value_text) if value_text.strip() else None
    except yaml.YAMLError:
        value = value_text.strip()
    return path, value


@dataclass(frozen=True)
class _Mapping:
    """A mapping level of the scenario (regions, use cases, roadmaps): any key, then `inner`."""

    inner: Any


def _node_for(annotation: Any) -> Any:
    """What lies below a field: a pydantic model, a `_Mapping`, or None for a value."""
    if getattr(annotation, "__origin__", None) is dict:
        return _Mapping(_node_for(annotation.__args__[1]))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    models = [a for a in getattr(annotation, "__args__", ())
              if isinstance(a, type) and issubclass(a, BaseModel)]
    return models[0] if models else None


def _check_override_path(path: tuple, text: str) -> None:
    """Refuse a path that names no scenario key, with the keys allowed where it went wrong."""
    node: Any = Case
    for depth, key in enumerate(path):
        if isinstance(node, _Mapping):
            node = node.inner
            continue
        if node is None:
            raise InputError(SET_SOURCE, text, f"a key below the value "
                             f"{'.'.join(map(str, path[:depth]))!r}", "a path that ends at a value")
        fields = {info.alias or name: info for name, info in node.model_fields.items()}
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            where = ".".join(map(str, path[:depth]))
            raise InputError(SET_SOURCE, text, f"no key {key!r}" + (f" under {where!r}" if where else ""),
                             "one of " + ", ".join(sorted(fields)),
                             f"did you mean {close[0]!r}?" if close else None)
        node = _node_for(fields[key].annotation)
    if isinstance(node, _Mapping) or (isinstance(node, type) and issubclass(node, BaseModel)):
        raise InputError(SET_SOURCE, text, "a path that ends at a section", "a path to one value")


def _set_path(data: dict, path: tuple, value: Any) -> None:
    target = data
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = value


def load_scenario(source: str | Path | None = None, catalog: Catalog | None = None,
                  overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Load a scenario: a YAML path, a preset name, or None for the default scenario.

    `overrides` are ``PATH=VALUE`` settings (``demand.scale=2``,
    ``options.domestic-buildout.pue=1.25``, ``regions.NLD.electricity_price=0.2 USD/kWh``)
    applied to every variant after its own overrides, and validated like the file.

    A scenario may list its own assumption files (``assumptions: [national-prices.csv]``,
    paths relative to the scenario file, each named after the table it adds to or overrides,
    e.g. ``gpus.csv``): their rows are checked like the library's and win over it.
    """
    path = resolve_source(source)
    data, lines = read_yaml(path)
    extra = data.pop("assumptions", None) or []
    if not isinstance(extra, list) or not all(isinstance(item, str) for item in extra):
        raise InputError(f"{path}:{lines.get(('assumptions',), 1)}", "assumptions", repr(extra),
                         "a list of CSV file paths")
    if extra:
        files = tuple((path.parent / item) for item in extra)
        for i, file in enumerate(files):
            if not file.exists():
                raise InputError(f"{path}:{lines.get(('assumptions', i), 1)}", f"assumptions[{i}]",
                                 f"{str(file)!r}, which does not exist", "an assumption CSV file")
        catalog = (catalog or default_catalog()).with_files(files)
    catalog = catalog or default_catalog()
    variants = data.pop("variants", None) or {}
    if not isinstance(variants, dict):
        raise InputError(f"{path}:{lines.get(('variants',), 1)}", "variants", repr(variants),
                         "a mapping of variant names to overrides")
    cases: dict[str, Case] = {}
    used_by_case: dict[str, dict[tuple, Row]] = {}
    settings = [parse_override(text) for text in overrides]
    set_lines = {key: text for key, text in zip((p for p, _ in settings), overrides)}

    def with_overrides(raw: dict) -> dict:
        for key, value in settings:
            _set_path(raw, key, value)
        return raw

    if not variants:
        case, used = validate_case(with_overrides(copy.deepcopy(data)), str(path), lines, catalog,
                                   overridden=set_lines)
        cases[case.name] = case
        used_by_case[case.name] = used
    for variant, variant_overrides in variants.items():
        if not isinstance(variant_overrides, dict):
            raise InputError(f"{path}:{lines.get(('variants', variant), 1)}", f"variants.{variant}",
                             repr(variant_overrides), "a mapping of overrides")
        merged = with_overrides(_deep_merge(data, variant_overrides))
        merged["name"] = str(variant)
        case, used = validate_case(merged, str(path), lines, catalog, ("variants", variant),
                                   overridden=set_lines)
        cases[str(variant)] = case
        used_by_case[str(variant)] = used
    checks = [(str(text), f"{path}:{lines.get(('checks', i), lines.get(('checks',), 1))}")
              for i, text in enumerate(data.get("checks") or [])]
    return Scenario(name=str(data.get("name", path.stem)), source=str(path), cases=cases,
                    assumptions_used=used_by_case, catalog=catalog, checks=checks)


def field_reference() -> str:
    """A Markdown table of every scenario key: its unit (what a bare number means) and where a
    value left out comes from. Generated from the pydantic models, so it cannot drift."""
    defaults = {".".join(path): f"`{table}:{row_id}:{parameter}`"
                for path, (table, row_id, parameter) in OPTION_DEFAULTS.items()}
    defaults.update({   # the look-ups fill_defaults makes by id
        "regions.<id>.working_days_per_year": "`defaults:demand:working_days_per_year`",
        "use_cases.<id>.token_growth_years": "`defaults:demand:token_growth_years`",
        "use_cases.<id>.cached_input_share": "`use_cases:<archetype>:cached_input_share`, else "
                                              "`defaults:api:cached_input_share`",
        "options.hosted-open-weight.rental_price": "`gpus:<gpu>:rental_price`",
        "options.hosted-open-weight.price_year": "year of that price's source",
        "options.domestic-buildout.server_capex": "`gpus:<gpu>:server_cost`",
        "options.frontier-api.price_year": "`api_products:<frontier product>:price_date`",
        **{f"options.frontier-api.{tier}.{name}": f"`api_products:<product>:{name}`"
           for tier in ("frontier_tier", "open_tier")
           for name in ("input_price", "output_price", "cached_input_price")},
    })
    lines = ["| key | unit of a bare number | if left out |", "|---|---|---|"]

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            key = f"{prefix}{info.alias or name}"
            annotation = info.annotation
            metadata = list(info.metadata) + [m for a in getattr(annotation, "__args__", ())
                                              for m in getattr(a, "__metadata__", ())]
            unit = next((m.display for m in metadata if isinstance(m, UnitSpec)), None)
            args = [a for a in getattr(annotation, "__args__", ()) if isinstance(a, type)]
            nested = [a for a in ([annotation] + args) if isinstance(a, type) and issubclass(a, BaseModel)]
            if nested:
                walk(nested[0], key + ("." if getattr(annotation, "__origin__", None) is not dict
                                       else ".<id>."))
                continue
            if getattr(annotation, "__origin__", None) is dict and args and issubclass(args[-1], BaseModel):
                walk(args[-1], key + ".<id>.")
                continue
            source = defaults.get(key, "")
            if not source and key.startswith("regions.<id>.") and name in REGION_FIELDS:
                source = "`countries:<id>:" + name + "`"
            if not source and key.startswith("use_cases.<id>.") and name in USE_CASE_FIELDS:
                source = "`use_cases:<archetype>:" + USE_CASE_FIELDS[name].format(w="<worldview>") + "`"
            if not source and not info.is_required():
                default = info.get_default(call_default_factory=True)
                source = "none" if default is None else f"`{default!r}`"
            lines.append(f"| `{key}` | {unit if unit is not None else ''} | {source or 'required'} |")

    walk(Case, "")
    return "\n".join(lines) + "\n"