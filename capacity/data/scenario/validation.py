"""Validating a raw scenario case: defaults filled, pydantic checks, unknown ids; every error
located (file:line, Sheet!Cell or the `--set`) with what was found and what was expected."""

from __future__ import annotations

import copy
import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from ..catalog import Catalog, Row
from ..errors import InputError
from ..schema import TABLES
from .. import generations
from .defaults import Used, _get, fill_defaults, range_warnings
from .models import USER_BASE_NEEDS, Case, UnitSpec
from .ranges import extract_ranges, range_rows


MAX_VARIANTS = 100
"""Most variants in one scenario (each is a whole run of the model; the presets have two)."""


def check_variant_count(count: int, where: str) -> None:
    """Refuse more than `MAX_VARIANTS` variants before any is validated or run."""
    if count > MAX_VARIANTS:
        raise InputError(where, "variants", f"{count:,} variants",
                         f"at most {MAX_VARIANTS} (each is a whole run of the model)")


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
        where = overridden[loc]
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
    expected = readable_constraint(message) + unit_text
    if unit == "1/yr" and isinstance(found, (int, float)) and found <= -1:
        expected += (" (a yearly change is a fraction a year: -0.4, or '-40 %/yr', for -40 %/yr; "
                     "-1 would mean everything gone in a year)")
    return InputError(where, key, repr(found) if not isinstance(found, dict) else "a mapping", expected)


def readable_constraint(message: str) -> str:
    """A pydantic message as what is expected: 'Input should be greater than or equal to 1'
    -> 'a value >= 1'."""
    if message.startswith("String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.+-]"):
        return ("a code of letters, digits, '_', '.', '+' or '-' starting with a letter or digit "
                "(at most 80)")
    return (message.replace("Input should be a valid", "a valid").replace("Input should be", "a value").replace("greater than or equal to", ">=")
            .replace("less than or equal to", "<=").replace("greater than", ">").replace("less than", "<"))


def validate_case(data: dict, source: str, lines: dict[tuple, int], catalog: Catalog,
                  variant_prefix: tuple = (), overridden: dict[tuple, str] | None = None
                  ) -> tuple[Case, dict[tuple, Row]]:
    """Fill a raw case from the library and validate it; errors are located in `source`."""
    data = copy.deepcopy(data)
    for section in ("regions", "use_cases", "options", "demand", "finance", "fleet", "portfolios",
                    "robustness", "plausibility"):
        if section in data and data[section] is not None and not isinstance(data[section], dict):
            line = _line_for(lines, (section,), variant_prefix)
            raise InputError(f"{source}:{line}" if line else source, section, repr(data[section])[:60],
                             "a mapping of keys (see docs/scenario.md)")
    ranges = extract_ranges(data)          # a value given as {value, low, high}: its value here
    check_raw_identifiers(data, source, lines, catalog, variant_prefix, overridden)
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
    if ranges:
        own = range_rows(ranges, data, case, source, lines, variant_prefix)
        used.update({path: row for path, row in own.items()
                     if path[0] != "use_cases" or case.use_cases[path[1]].enabled})
    enabled = {name: use_case for name, use_case in case.use_cases.items() if use_case.enabled}
    if not enabled:
        line = _line_for(lines, ("use_cases",), variant_prefix)
        raise InputError(f"{source}:{line}" if line else source, "use_cases",
                         "every use case disabled (enabled: false)", "at least one enabled use case")
    case = case.model_copy(update={"use_cases": enabled})
    check_workforce(case, source, lines, variant_prefix)
    check_shocks(case, source, lines, variant_prefix, overridden)
    if isinstance(used, Used):
        used.warnings = range_warnings(case, used.replaced, lambda path: (overridden or {}).get(path)
                                       or _where(source, lines, path, variant_prefix))
    return case, used


def _where(source: str, lines: dict, path: tuple, variant_prefix: tuple) -> str:
    line = _line_for(lines, path, variant_prefix)
    return f"{source}:{line}" if line else source


def check_shocks(case: Case, source: str, lines: dict[tuple, int], variant_prefix: tuple = (),
                 overridden: dict[tuple, str] | None = None) -> None:
    """Refuse a shock naming a use case the case does not have (a typo would otherwise hit
    nothing, silently), and robustness weights naming no worldview or shock case."""
    known = sorted(case.use_cases)
    shock_lists = [(("shocks",), case.shocks)] + [(("robustness", "shock_cases", name), shocks)
                                                  for name, shocks in case.robustness.shock_cases.items()]
    for path, shocks in shock_lists:
        for index, shock in enumerate(shocks):
            for name in shock.use_cases or []:
                if name not in case.use_cases:
                    line = _line_for(lines, path, variant_prefix)
                    raise InputError(_overridden_where(path, overridden)
                                     or (f"{source}:{line}" if line else source),
                                     ".".join(map(str, path + (index, "use_cases"))), repr(name),
                                     "a use case of the scenario: " + ", ".join(known))


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


def _overridden_where(path: tuple, overridden: dict[tuple, str] | None) -> str | None:
    """The override (``--set PATH=VALUE``) that set `path` or a section holding it, if any:
    what it set is blamed on it, not on the line of the file it replaced."""
    for set_path, where in (overridden or {}).items():
        if tuple(path[:len(set_path)]) == tuple(set_path):
            return where
    return None


def _unknown_id(value: str, path: tuple, table: str, source: str, lines: dict[tuple, int],
                catalog: Catalog, variant_prefix: tuple,
                overridden: dict[tuple, str] | None = None) -> InputError | None:
    known = catalog.ids(table)
    if value in known:
        return None
    line = _line_for(lines, path, variant_prefix)
    where = _overridden_where(path, overridden) or (f"{source}:{line}" if line else source)
    close = difflib.get_close_matches(value, known, n=1)
    expected = "one of " + ", ".join(known)
    if table == "gpus":   # the extrapolated generations are named by a pattern, not listed
        heads = sorted(set(generations.line_heads(catalog).values()))
        expected = ("one of " + ", ".join(k for k in known if generations.base_of(k) is None)
                    + ", or a generation extrapolated past the catalogue, "
                    + ", ".join(f"{head}-x<year>" for head in heads)
                    + f" (up to {generations.LAST_EXTRAPOLATED_YEAR})")
    return InputError(where, ".".join(map(str, path)),
                      f"unknown id {value!r}", expected,
                      f"did you mean {close[0]!r}?" if close else None)


def check_raw_identifiers(data: dict, source: str, lines: dict[tuple, int], catalog: Catalog,
                          variant_prefix: tuple = (), overridden: dict[tuple, str] | None = None) -> None:
    """Refuse unknown ids before anything is looked up by them (blamed on the ``--set`` that
    gave one, if any)."""
    for path, table in ID_PATHS:
        value = _get(data, path)
        if isinstance(value, str):
            error = _unknown_id(value, path, table, source, lines, catalog, variant_prefix, overridden)
            if error:
                raise error
    for option in ("hosted-open-weight", "domestic-buildout"):
        roadmap = _get(data, ("options", option, "gpu_roadmap"))
        if isinstance(roadmap, dict):
            for year, gpu in roadmap.items():
                path = ("options", option, "gpu_roadmap", year)
                error = _unknown_id(str(gpu), path, "gpus", source, lines, catalog, variant_prefix,
                                    overridden)
                if error:
                    raise error


def check_workforce(case: Case, source: str, lines: dict[tuple, int],
                    variant_prefix: tuple = ()) -> None:
    """Refuse a use case that counts its users in a population its region does not give (a
    workforce, an occupational share, the internet user share).
    (Unknown ids are refused earlier, on the raw data: `check_raw_identifiers`.)"""
    for code, region in case.regions.items():
        for name, use_case in case.use_cases.items():
            if use_case.users is not None:
                continue
            for field_name in USER_BASE_NEEDS.get(use_case.user_base, ()):
                if getattr(region, field_name) is None:
                    path = ("regions", code, field_name)
                    line = _line_for(lines, path, variant_prefix)
                    spec = TABLES["countries"].get(field_name)
                    what = spec.description if spec else field_name.replace("_", " ")
                    raise InputError(f"{source}:{line}" if line else source, ".".join(path),
                                     "nothing", f"the {what} (use case {name!r} counts its users "
                                     f"as a share of its {use_case.user_base}; give it here or "
                                     f"in countries.csv)")