"""Overrides: one scenario value changed for a run, as ``--set PATH=VALUE`` on the command line
or ``overrides=`` in the library (a mapping ``{"demand.scale": 2}`` or a list of ``"PATH=VALUE"``
strings). The path is checked against the scenario's keys, a text value is read as YAML (so
``"1.25"`` is a number and ``"0.2 USD/kWh"`` a quantity), and the value is validated with the
rest of the scenario; an error names the override.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..errors import InputError
from ..reading import check_text_value, read_yaml_text
from .models import Case

SET_SOURCE = "--set"
MAPPING_SOURCE = "overrides"
EXPECTED = ("a mapping such as {'demand.scale': 2, 'options.domestic-buildout.pue': '1.25'} or a "
            "list of 'PATH=VALUE' strings such as ['demand.scale=2']")


@dataclass(frozen=True)
class Override:
    """One scenario value to change: its key path, the value, and how an error names it."""

    path: tuple
    value: Any
    where: str   # "--set demand.scale=2" or "overrides['demand.scale']"


def _read_value(text: str, where: str = SET_SOURCE) -> Any:
    """A value as written on the command line: YAML (a number, a list, or text such as
    ``700 W``); text that is not valid YAML is kept as it is."""
    if not text.strip():
        return None
    try:
        value, _ = read_yaml_text(text, where)
    except InputError as exc:
        if "invalid YAML" not in str(exc):    # named by the override, not a line of it
            raise InputError(where, exc.key, exc.found, exc.expected, exc.hint) from None
        return check_text_value(text.strip(), where)
    return value


def _split_path(path_text: str, source: str, key: str) -> tuple:
    path = tuple(int(p) if p.isdigit() else p for p in path_text.strip().split("."))
    _check_override_path(path, key, source)
    return path


def parse_override(text: str) -> tuple[tuple, Any]:
    """``PATH=VALUE`` -> (key path, value). VALUE is read as YAML (a number, or text such as
    ``1.25`` or ``"700 W"``); the path is checked against the scenario's keys."""
    path_text, sep, value_text = text.partition("=")
    if not sep or not path_text.strip():
        raise InputError(SET_SOURCE, None, repr(text), "PATH=VALUE, e.g. options.domestic-buildout.pue=1.25")
    check_text_value(text, SET_SOURCE)
    return (_split_path(path_text, SET_SOURCE, path_text.strip()),
            _read_value(value_text, f"{SET_SOURCE} {text}"))


def read_overrides(overrides: Mapping[str, Any] | Iterable[str] | None) -> list[Override]:
    """Overrides in either form -> `Override`s, every path checked. A mapping's text values are
    read like the command line's, so ``{"x": "1.25"}`` equals ``--set x=1.25``; a plain string
    (not a list of them) is refused."""
    if overrides is None:
        return []
    if isinstance(overrides, (str, bytes)):
        raise InputError(MAPPING_SOURCE, None, f"a plain string {str(overrides)[:80]!r}", EXPECTED)
    if isinstance(overrides, Mapping):
        read = []
        for key, value in overrides.items():
            if not isinstance(key, str) or not key.strip():
                raise InputError(MAPPING_SOURCE, None, f"the key {key!r}",
                                 "a scenario path as text, e.g. 'demand.scale'")
            where = f"{MAPPING_SOURCE}[{key!r}]"
            path = _split_path(key, MAPPING_SOURCE, key.strip())
            read.append(Override(path, _read_value(value, where) if isinstance(value, str) else value,
                                 where))
        return read
    if not isinstance(overrides, Iterable):
        raise InputError(MAPPING_SOURCE, None, f"a {type(overrides).__name__}", EXPECTED)
    read = []
    for text in overrides:
        if not isinstance(text, str):
            raise InputError(MAPPING_SOURCE, None, f"the item {text!r}",
                             "'PATH=VALUE' strings, e.g. 'demand.scale=2'")
        path, value = parse_override(text)
        read.append(Override(path, value, f"{SET_SOURCE} {text}"))
    return read


def apply_overrides(raw: dict, overrides: list[Override]) -> dict:
    """Set every override's value in a raw scenario case (in place); returns it."""
    for override in overrides:
        _set_path(raw, override.path, override.value)
    return raw


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


def _check_override_path(path: tuple, text: str, source: str = SET_SOURCE) -> None:
    """Refuse a path that names no scenario key, with the keys allowed where it went wrong."""
    node: Any = Case
    for depth, key in enumerate(path):
        if isinstance(node, _Mapping):
            node = node.inner
            continue
        if node is None:
            raise InputError(source, text, f"a key below the value "
                             f"{'.'.join(map(str, path[:depth]))!r}", "a path that ends at a value")
        fields = {info.alias or name: info for name, info in node.model_fields.items()}
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            where = ".".join(map(str, path[:depth]))
            raise InputError(source, text, f"no key {key!r}" + (f" under {where!r}" if where else ""),
                             "one of " + ", ".join(sorted(fields)),
                             f"did you mean {close[0]!r}?" if close else None)
        node = _node_for(fields[key].annotation)
    if isinstance(node, _Mapping) or (isinstance(node, type) and issubclass(node, BaseModel)):
        raise InputError(source, text, "a path that ends at a section", "a path to one value")


def _set_path(data: dict, path: tuple, value: Any) -> None:
    target = data
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = value
