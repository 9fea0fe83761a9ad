"""Loading a scenario file: YAML read with the line of every key, variants deep-merged,
overrides applied, each case validated and completed from the assumption library.

A scenario file holds one base case and optional named ``variants`` (deep-merged overrides),
e.g. ``realist`` and ``maximalist``; each variant becomes one value of the ``scenario`` column
of the results. What a scenario leaves out is filled from `assumptions/`, and every filled
value is remembered (provenance). Every error names the file, the line and the key.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..catalog import Catalog, Row, default_catalog
from ..errors import InputError
from ..reading import read_text, read_yaml_text
from ..paths import scenarios_dir
from .models import Case, Scenario
from .overrides import apply_overrides, read_overrides
from .template_layout import is_template
from .validation import _deep_merge, check_variant_count, validate_case

DEFAULT_SCENARIO = "netherlands"


# --- reading YAML with line numbers ----------------------------------------------------------

def read_yaml(path: Path) -> tuple[dict, dict[tuple, int]]:
    """Parse a YAML scenario file into a dict and a map from key path to line number, through
    the input boundary (`capacity.data.reading`: size, encoding, tags, aliases, duplicates)."""
    text = read_text(path, "scenario", "a scenario file (YAML, UTF-8)")
    data, lines = read_yaml_text(text, str(path))
    if not isinstance(data, dict):
        raise InputError(f"{path}:1", None, "a document that is not a mapping of keys",
                         "a YAML mapping with horizon, regions, use_cases and options")
    return data, lines


def preset_names() -> list[str]:
    """Names of the scenarios shipped in `assumptions/scenarios/`."""
    return sorted(p.stem for p in scenarios_dir().glob("*.yaml"))


def resolve_source(source: str | Path | None) -> Path:
    """A path, a preset name or None (the default scenario) -> the scenario file."""
    if source is None:
        source = DEFAULT_SCENARIO
    path = Path(source)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise InputError(str(path), None, "no such file", "a scenario file or a preset "
                             "name: " + ", ".join(preset_names()))
        return path
    preset = scenarios_dir() / f"{source}.yaml"
    if not preset.exists():
        close = difflib.get_close_matches(str(source), preset_names(), n=1)
        raise InputError(None, "scenario", repr(str(source)), "a scenario file or a preset name: "
                         + ", ".join(preset_names()), f"did you mean {close[0]!r}?" if close else None)
    return preset


def _assumption_files(assumptions: str | Path | Iterable[str | Path] | None) -> tuple[Path, ...]:
    if assumptions is None:
        return ()
    if isinstance(assumptions, (str, Path)):
        return (Path(assumptions),)
    return tuple(Path(item) for item in assumptions)


def load_scenario(source: str | Path | None = None,
                  overrides: Mapping[str, Any] | Iterable[str] | None = None,
                  assumptions: str | Path | Iterable[str | Path] | None = None, *,
                  catalog: Catalog | None = None) -> Scenario:
    """Load and validate a scenario.

    Parameters
    ----------
    source : a preset name (``"germany"``; `preset_names()` lists them), a YAML scenario file,
        a filled Excel input template (``.xlsx``), or None for the default scenario.
    overrides : values to change, validated like the file and applied to every variant after
        its own settings: a mapping ``{"demand.scale": 2, "options.domestic-buildout.pue":
        "1.25"}`` or a list of ``"PATH=VALUE"`` strings as ``--set`` takes them. Text values
        may carry units (``"0.2 USD/kWh"``). docs/scenario.md lists every path.
    assumptions : assumption CSV files (one path or several), each named after the table it
        adds to or overrides (``gpus.csv``, ``defaults.csv``...); their rows win over the
        library's. A scenario may list its own under ``assumptions:`` (paths relative to the
        scenario file), which win over both.
    catalog : the assumption library to start from (default: the packaged one).

    Every bad input raises `capacity.InputError` naming the file and line (or Sheet!Cell, or
    the override), what was found and what was expected.

    >>> scenario = capacity.load_scenario("germany", overrides={"demand.scale": 2})
    """
    settings = read_overrides(overrides)
    catalog = catalog or default_catalog()
    files = _assumption_files(assumptions)
    if files:
        catalog = catalog.with_files(files)
    if source is not None and is_template(source):
        from .template_reader import read_template
        return read_template(source, catalog, settings)
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
    if "name" in data:
        _check_name(data["name"], f"{path}:{lines.get(('name',), 1)}")
    for override in settings:
        if override.path == ("name",):
            _check_name(override.value, override.where)
    variants = data.pop("variants", None) or {}
    if not isinstance(variants, dict):
        raise InputError(f"{path}:{lines.get(('variants',), 1)}", "variants", repr(variants),
                         "a mapping of variant names to overrides")
    check_variant_count(len(variants), f"{path}:{lines.get(('variants',), 1)}")
    cases: dict[str, Case] = {}
    used_by_case: dict[str, dict[tuple, Row]] = {}
    set_lines = {override.path: override.where for override in settings}

    def with_overrides(raw: dict) -> dict:
        return apply_overrides(raw, settings)

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
                    assumptions_used=used_by_case, catalog=catalog, checks=checks,
                    warnings=_range_warnings(used_by_case))


def _check_name(value: Any, where: str) -> None:
    """A scenario's name is text (a number or a date is read as text too): never a list, a
    mapping, a boolean or empty."""
    if isinstance(value, bool) or value is None or not isinstance(value, (str, int, float, dt.date)):
        raise InputError(where, "name", "an empty value" if value is None else repr(value)[:60],
                         "a name as text (netherlands, my-country)")


def _range_warnings(used_by_case: dict) -> list[str]:
    """Every case's range warnings, each once, in order."""
    return list(dict.fromkeys(w for used in used_by_case.values() for w in getattr(used, "warnings", [])))
