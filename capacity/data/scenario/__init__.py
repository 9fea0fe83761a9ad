"""Scenarios: the YAML a ministry analyst writes (or a filled Excel template), validated by
pydantic, completed from the assumption library.

`models` (the parts and their units), `loading` (files, presets, variants), `defaults` (what
the library fills in), `validation` (located errors), `overrides` (``--set PATH=VALUE``),
`reference` (the generated key reference).
"""

from .loading import DEFAULT_SCENARIO, load_scenario, preset_names, resolve_source
from .models import PRECISIONS, Case, Scenario
from .reference import field_reference

__all__ = ["DEFAULT_SCENARIO", "PRECISIONS", "Case", "Scenario", "field_reference",
           "load_scenario", "preset_names", "resolve_source"]
