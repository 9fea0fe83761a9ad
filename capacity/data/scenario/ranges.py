"""Scenario values given as ranges: ``pue: {value: 1.2, low: 1.1, high: 1.4}``.

Any numeric value of a scenario may be written as a mapping with its stated ``value`` and a
``low`` and/or ``high`` (each a number or a 'number unit' text, read like the value), and
optionally the ``source`` and ``quality`` of the range. The case uses the value; the range
becomes an assumption of its own (table ``scenario``) that the Monte Carlo draws and the
tornado swings, exactly as it does the library's sourced ranges. Each end is checked by the
field's own validator (its unit and bounds: a PUE's low below 1 is refused), and
``low <= value <= high``; an error names the file, the line and ``<path>.low``.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ValidationError

from ..catalog import Row
from ..errors import InputError

RANGE_KEYS = {"value", "low", "high", "source", "quality"}
"""The keys of a range mapping; ``value`` and one of ``low``/``high`` are required."""
TABLE = "scenario"
"""The table name of range rows (``scenario:<where>:<path>``)."""


def is_range(node: Any) -> bool:
    """Whether a raw scenario value is a range mapping (see the module)."""
    return (isinstance(node, dict) and "value" in node and ("low" in node or "high" in node)
            and all(isinstance(key, str) and key in RANGE_KEYS for key in node))


def extract_ranges(data: dict, path: tuple = ()) -> dict[tuple, dict]:
    """Replace every range mapping in `data` (in place) by its value; return path -> range."""
    found: dict[tuple, dict] = {}
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, node in list(items):
        if is_range(node):
            found[path + (key,)] = node
            data[key] = node["value"]
        elif isinstance(node, (dict, list)):
            found.update(extract_ranges(node, path + (key,)))
    return found


def value_at(model: Any, path: tuple) -> Any:
    """The value at `path` of a validated case (models, mappings and lists)."""
    for key in path:
        if isinstance(model, BaseModel):
            name = next((n for n, info in type(model).model_fields.items() if (info.alias or n) == key), key)
            model = getattr(model, name)
        elif isinstance(model, dict):
            model = model[key] if key in model else next(v for k, v in model.items() if str(k) == str(key))
        else:
            model = model[int(key)]
    return model


def unit_of(model: type[BaseModel], path: tuple):
    """The `UnitSpec` of the field at `path` of `model` (through sections, mappings by id and
    year tables), or None where the field documents no unit."""
    from typing import get_args, get_origin

    from .models import UnitSpec

    def spec_in(annotation, metadata=()):
        found = next((m for m in metadata if isinstance(m, UnitSpec)), None)
        for arg in get_args(annotation):
            found = found or spec_in(arg, getattr(arg, "__metadata__", ()))
        return found

    def parts(annotation) -> list:
        """The alternatives of an annotation: models, mappings and plain types."""
        if get_origin(annotation) is dict or (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return [annotation]
        return [p for arg in get_args(annotation) for p in parts(arg)] or [annotation]

    current, i = model, 0
    while isinstance(current, type) and issubclass(current, BaseModel) and i < len(path):
        info = next((f for n, f in current.model_fields.items() if (f.alias or n) == path[i]), None)
        if info is None:
            return None
        if i == len(path) - 1:
            return spec_in(info.annotation, info.metadata)
        following = path[i + 1]
        options = parts(info.annotation)
        section = next((o for o in options if isinstance(o, type) and issubclass(o, BaseModel)
                        and any((f.alias or n) == following for n, f in o.model_fields.items())), None)
        if section is not None:
            current, i = section, i + 1
            continue
        mapping = next((o for o in options if get_origin(o) is dict), None)
        if mapping is None:
            return None
        value_type = get_args(mapping)[1]
        if isinstance(value_type, type) and issubclass(value_type, BaseModel):
            current, i = value_type, i + 2
            continue
        return spec_in(value_type, getattr(value_type, "__metadata__", ())) if i + 2 == len(path) else None
    return None


def range_rows(ranges: dict[tuple, dict], filled: dict, case, source: str, lines: dict[tuple, int],
               variant_prefix: tuple = ()) -> dict[tuple, Row]:
    """One assumption row per range of a validated case: its ends parsed and checked by the
    field's validator in `filled` (the raw case completed from the library)."""
    from ..units import convert
    from .models import Case
    from .validation import _line_for, readable_constraint
    rows: dict[tuple, Row] = {}
    for path, given in ranges.items():
        dotted = ".".join(map(str, path))
        line = _line_for(lines, path, variant_prefix) or 1
        where = f"{source}:{line}"
        value = value_at(case, path)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(where, dotted, "a range on a value that is not a number",
                             "a range only where the field is a number")
        ends = {}
        for end in ("low", "high"):
            if end not in given:
                ends[end] = float(value)
                continue
            trial = copy.deepcopy(filled)
            parent = trial
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = given[end]
            try:
                ends[end] = float(value_at(Case.model_validate(trial), path))
            except ValidationError as exc:
                error = next((e for e in exc.errors() if tuple(e["loc"][:len(path)]) == path), exc.errors()[0])
                message = error["msg"].removeprefix("Value error, ")
                found, _, expected = message.partition("; expected ")
                if not expected:
                    found, expected = repr(given[end]), readable_constraint(message)
                raise InputError(where, f"{dotted}.{end}", found.removeprefix("found "), expected) from None
        if not ends["low"] <= value <= ends["high"]:
            raise InputError(where, dotted, f"low {given.get('low')!r}, value {given['value']!r}, "
                             f"high {given.get('high')!r}", "low <= value <= high")
        spec = unit_of(Case, path)
        display, canonical = (spec.display, spec.canonical) if spec else ("", "")
        shown = float(convert(value, canonical, display)) if canonical else float(value)
        written_in_variant = variant_prefix and variant_prefix + path in lines
        rows[path] = Row(
            table=TABLE, id=str(variant_prefix[-1]) if written_in_variant else "file",
            parameter=dotted, value=float(value),
            low=ends["low"], high=ends["high"],
            unit_given=display, value_given=f"{shown:g}",
            source=str(given.get("source") or f"the scenario file, line {line}"), url=source,
            source_date="", quality=str(given.get("quality") or ""), notes="a range given in the scenario",
            file=source, line=line, canonical_unit=canonical)
    return rows
