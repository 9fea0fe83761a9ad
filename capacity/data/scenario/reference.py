"""The scenario key reference (docs/scenario.md), generated from the models."""

from __future__ import annotations

from pydantic import BaseModel

from .defaults import OPTION_DEFAULTS, REGION_FIELDS, USE_CASE_FIELDS
from .models import Case, UnitSpec


def bounds_of(metadata: list) -> str:
    """A field's bounds as written in docs/scenario.md (``> 0``, ``>= 1``, ``0 to 1``), from its
    pydantic constraints (in the field's canonical unit; every bound shipped is 0, 1 or a
    count, the same in the unit shown)."""
    import annotated_types as at
    from pydantic.fields import FieldInfo

    found: dict[str, float] = {}
    pattern = None
    stack = list(metadata)
    while stack:
        item = stack.pop()
        if isinstance(item, FieldInfo):
            stack.extend(item.metadata)
        for kind in ("ge", "gt", "le", "lt"):
            if isinstance(item, getattr(at, kind.capitalize())):
                found[kind] = getattr(item, kind)
        if getattr(item, "pattern", None):
            pattern = item.pattern
    if pattern:
        return "a code: letter or digit first"
    low = (f">= {found['ge']:g}" if "ge" in found else f"> {found['gt']:g}" if "gt" in found else "")
    high = (f"<= {found['le']:g}" if "le" in found else f"< {found['lt']:g}" if "lt" in found else "")
    return ", ".join(part for part in (low, high) if part)


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
        "options.domestic-buildout.facility_capex": "one region: `countries:<id>:datacenter_"
                                                    "construction_cost`; else `defaults:facility:"
                                                    "capex_per_mw_it`",
        "use_cases.<id>.active_days_per_year": "`use_cases:<archetype>:active_days_per_year`, "
                                               "else the region's working days",
        "options.hosted-open-weight.price_year": "year of that price's source",
        "options.domestic-buildout.server_capex": "`gpus:<gpu>:server_cost`",
        "options.frontier-api.serving_cost.server_capex": "`gpus:<offshore gpu>:server_cost`",
        "options.frontier-api.price_year": "`api_products:<frontier product>:price_date`",
        **{f"options.frontier-api.{tier}.{name}": f"`api_products:<product>:{name}`"
           for tier in ("frontier_tier", "open_tier")
           for name in ("input_price", "output_price", "cached_input_price")},
    })
    lines = ["| key | unit of a bare number | bounds | if left out |", "|---|---|---|---|"]

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
            lines.append(f"| `{key}` | {unit if unit is not None else ''} | {bounds_of(metadata)} | "
                         f"{source or 'required'} |")

    walk(Case, "")
    return "\n".join(lines) + "\n"


BEGIN_OWN = "# --- this country's own rows (generated: capacity.data.scenario.reference.write_preset_comments) ---"
END_OWN = "# --- end of the generated rows ---"


def country_rows_comment(catalog, code: str) -> str:
    """The comment block a country preset carries: which of its values are the country's own
    rows of `countries.csv` (by source quality) and which are shared by every preset."""
    import textwrap

    from ..schema import TABLES
    by_quality: dict[str, list[str]] = {}
    for parameter in TABLES["countries"]:
        row = catalog.get("countries", code, parameter)
        if row is not None and parameter != "name":
            by_quality.setdefault(row.quality or "unrated", []).append(parameter)
    used = [*REGION_FIELDS, "datacenter_construction_cost"]
    missing = [p for p in used if catalog.get("countries", code, p) is None]
    lines = [BEGIN_OWN, f"# Own rows, assumptions/countries.csv ({code}), by source quality:"]

    def listed(label: str, names: list[str]) -> None:
        lines.extend(textwrap.wrap(f"{label}: " + ", ".join(names), 96, initial_indent="#   ",
                                   subsequent_indent="#     "))

    for quality in ("primary", "secondary", "estimate", "unrated"):
        if quality in by_quality:
            listed("estimate (derived in the row's notes, some from a comparable country)"
                   if quality == "estimate" else quality, by_quality[quality])
    if missing:
        listed("missing (the scenario gives them, or they take the library's default)", missing)
    lines += ["# Shared by every preset (not country-specific): the use-case archetypes' behavioural",
              "# shares, request rates and tokens (use_cases.csv); the GPU, model and API catalogue;",
              "# facility, grid, finance and trend defaults (defaults.csv), except the construction",
              "# cost above, which sets the domestic option's facility capex.", END_OWN]
    return "\n".join(lines)


def write_preset_comments(directory=None) -> list[str]:
    """Rewrite the generated block of every one-country preset; return the files changed."""
    import yaml

    from ..catalog import default_catalog
    from ..paths import scenarios_dir
    changed = []
    for path in sorted((directory or scenarios_dir()).glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        regions = list((yaml.safe_load(text) or {}).get("regions") or {})
        if len(regions) != 1:
            continue
        block = country_rows_comment(default_catalog(), str(regions[0]))
        if BEGIN_OWN in text:
            head, rest = text.split(BEGIN_OWN, 1)
            new = head + block + rest.split(END_OWN, 1)[1]
        else:
            marker = "schema_version:"
            head, rest = text.split(marker, 1)
            new = head + block + "\n" + marker + rest
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path.name)
    return changed

