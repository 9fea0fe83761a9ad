"""The Excel input template's layout, shared by its reader (here) and its writer
(`capacity.io.template_writer`): the sheets, and every input field read off the pydantic models
with its kind, unit, bounds and allowed values.

Layout (row 1 of every input sheet is a header; yellow cells are inputs; a blank input cell means
"take the value from the assumption library", the source is given beside it or in its comment):

- ``Scenario``: key | value | unit | notes rows (name, title, description, worldview, horizon,
  demand.scale, check), then a ``variant | worldview`` table.
- ``Region``: one row per region: code, then each statistic followed by a ``unit`` column.
- ``Use cases``: one row per use case: id, archetype, the demand fields; row 2 gives the units.
- ``Options``: key | value | unit | notes rows for the three options, the fleet and finance,
  then an ``option | from year | GPU`` roadmap table.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from pathlib import Path

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .models import Case, Finance, Fleet, Options, Region, UnitSpec, UseCase

INPUT_SHEETS = ("Scenario", "Region", "Use cases", "Options")
CATALOGUE_LISTS = {"gpu": "gpus", "model": "models", "proxy_model": "models",
                   "product": "api_products"}
"""Fields whose value is an id of a catalogue table (a drop-down from the `Lists` sheet)."""
ROADMAP_OPTIONS = ("hosted-open-weight", "domestic-buildout")
WORLDVIEWS = ("realist", "maximalist")


def is_template(path: str | Path) -> bool:
    """Whether `path` names an input template (an .xlsx workbook) rather than a YAML scenario."""
    return Path(path).suffix.lower() == ".xlsx"


# --- the fields, read off the pydantic models ----------------------------------------------

DEFAULTS_SHEET = "Defaults"
"""The hidden sheet listing the library defaults the template shows, by cell."""
BOOLEAN_KEYS = ("enabled", "access_agreement", "country_adoption")
"""Text inputs that are TRUE or FALSE (a drop-down in the template)."""


@dataclass(frozen=True)
class InputField:
    """One input: its key path (below its sheet's prefix), kind, unit and allowed values."""

    path: tuple[str, ...]
    kind: str                     # "number", "integer", "text" or "choice"
    unit: str = ""                # what a bare number means (display unit)
    canonical: str = ""           # the unit the validated Case keeps
    choices: tuple[str, ...] = ()  # for a Literal
    catalogue: str | None = None  # a catalogue table whose ids are allowed
    low: float | None = None
    high: float | None = None

    @property
    def key(self) -> str:
        return ".".join(self.path)


def _bounds(metadata: list) -> tuple[float | None, float | None]:
    low = high = None
    for item in metadata:
        for inner in (item.metadata if isinstance(item, FieldInfo) else [item]):
            if isinstance(inner, (annotated_types.Ge, annotated_types.Gt)):
                low = float(getattr(inner, "ge", getattr(inner, "gt", None)))
            if isinstance(inner, (annotated_types.Le, annotated_types.Lt)):
                high = float(getattr(inner, "le", getattr(inner, "lt", None)))
    return low, high


def _leaf(path: tuple[str, ...], info: FieldInfo) -> InputField:
    annotation = info.annotation
    is_union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    args = [a for a in typing.get_args(annotation) if a is not type(None)] if is_union \
        else [annotation]
    metadata = list(info.metadata) + [m for a in args for m in getattr(a, "__metadata__", ())]
    spec = next((m for m in metadata if isinstance(m, UnitSpec)), None)
    low, high = _bounds(metadata)
    literal = next((a for a in args if typing.get_origin(a) is typing.Literal), None)
    if literal is not None:
        return InputField(path, "choice", choices=tuple(typing.get_args(literal)))
    if spec is not None:
        return InputField(path, "number", spec.display, spec.canonical, low=low, high=high)
    if int in args:
        return InputField(path, "integer", low=low, high=high)
    if float in args:
        return InputField(path, "number", low=low, high=high)
    return InputField(path, "text", catalogue=CATALOGUE_LISTS.get(path[-1]))


def model_fields(model: type[BaseModel], prefix: tuple[str, ...] = (),
                 skip: tuple[str, ...] = ()) -> list[InputField]:
    """Every value a model holds, depth first (nested models flattened, mappings skipped)."""
    fields = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in skip:
            continue
        annotation = info.annotation
        nested = [a for a in (annotation, *typing.get_args(annotation))
                  if isinstance(a, type) and issubclass(a, BaseModel)]
        if nested:
            fields += model_fields(nested[0], prefix + (key,), skip)
        elif typing.get_origin(annotation) is not dict:
            fields.append(_leaf(prefix + (key,), info))
    return fields


# limits, shocks, portfolios and the robustness matrix are lists and year tables: YAML only
SCENARIO_FIELDS = [f for f in model_fields(Case, skip=("schema_version", "regions", "use_cases",
                                                       "checks", "fleet", "options", "finance",
                                                       "shocks", "portfolios", "robustness"))]
REGION_FIELDS = model_fields(Region, skip=("limits",))
USE_CASE_FIELDS = model_fields(UseCase)
OPTION_FIELDS = (model_fields(Options, ("options",), skip=("gpu_roadmap", "pooled"))
                 + model_fields(Fleet, ("fleet",)) + model_fields(Finance, ("finance",)))
