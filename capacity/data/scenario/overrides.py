"""``--set PATH=VALUE`` overrides: the path checked against the scenario's keys, the value read
as YAML and validated with the rest of the scenario."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel

from ..errors import InputError
from .models import Case

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
