"""The scenario key reference (docs/scenario.md), generated from the models."""

from __future__ import annotations

from pydantic import BaseModel

from .defaults import OPTION_DEFAULTS, REGION_FIELDS, USE_CASE_FIELDS
from .models import Case, UnitSpec


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
