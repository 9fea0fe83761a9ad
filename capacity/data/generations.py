"""GPU generations after the last catalogued one, extrapolated from sourced hardware trends.

The catalogue ends with the generations that ship today (B300/GB300, MI355X). A plan that runs
to 2035 buys and rents hardware that does not exist yet; rather than freeze the last generation,
each product line is continued with one extrapolated generation a year, with its own id
(``b300-x2029``: "what the B300 line ships in 2029") so every result says what it assumes.

For a line whose newest catalogued generation ``base`` shipped in year ``r``, the generation
of year ``y > r`` (``k = y - r``) is

- performance (dense peak FLOP/s at every precision, HBM bandwidth and capacity) x ``(1 + w)^k``
  at the same board power, ``w`` = `trend.gpu_perf_per_watt_gain`;
- server price and launch rent x ``((1 + w) / (1 + d))^k``, ``d`` = `trend.gpu_perf_per_dollar_gain`,
  so that performance per dollar grows at ``d`` and the line's rent keeps its ratio to the
  owner's cost (the model never lets rent fall below that cost plus the provider's markup).

A product line is a vendor and a scale-up domain (an 8-GPU board and a 72-GPU rack are different
lines); its newest member is the catalogued GPU with the latest `release_year`. Every derived row
carries the derivation in its notes and the quality mark "estimate: extrapolated".
"""

from __future__ import annotations

import math

from .catalog import Catalog, Row

LAST_EXTRAPOLATED_YEAR = 2050
"""Generations are extrapolated up to this year (scenario horizons beyond it see the last one)."""

SCALED = ("peak_flops_bf16", "peak_flops_fp8", "peak_flops_fp4", "memory_bandwidth", "hbm_capacity")
KEPT = ("vendor", "architecture", "board_power", "scale_up_domain", "gpus_per_server")
SEPARATOR = "-x"


def extrapolated_id(base: str, year: int) -> str:
    """The id of the generation the line of `base` ships in `year`."""
    return f"{base}{SEPARATOR}{year}"


def base_of(gpu: str) -> tuple[str, int] | None:
    """(base id, year) of an extrapolated id, else None."""
    head, sep, tail = gpu.rpartition(SEPARATOR)
    return (head, int(tail)) if sep and head and tail.isdigit() else None


def line_heads(catalog: Catalog) -> dict[tuple[str, float], str]:
    """The newest catalogued GPU of each product line (vendor, scale-up domain)."""
    heads: dict[tuple[str, float], tuple[float, float, str]] = {}
    for gpu in catalog.ids("gpus"):
        if base_of(gpu) is not None:
            continue
        rows = {p: catalog.get("gpus", gpu, p) for p in ("vendor", "scale_up_domain", "release_year",
                                                           "peak_flops_fp8")}
        if any(rows[p] is None for p in ("vendor", "scale_up_domain", "release_year")):
            continue
        line = (str(rows["vendor"].value).lower(), float(rows["scale_up_domain"].value))
        rank = (float(rows["release_year"].value),
                float(rows["peak_flops_fp8"].value) if rows["peak_flops_fp8"] else 0.0, gpu)
        if line not in heads or rank > heads[line]:
            heads[line] = rank
    return {line: rank[2] for line, rank in heads.items()}


def line_of(catalog: Catalog, gpu: str) -> str | None:
    """The head of the product line `gpu` belongs to (itself when it is the newest)."""
    parsed = base_of(gpu)
    if parsed is not None:
        return parsed[0]
    vendor, domain = catalog.get("gpus", gpu, "vendor"), catalog.get("gpus", gpu, "scale_up_domain")
    if vendor is None or domain is None:
        return None
    return line_heads(catalog).get((str(vendor.value).lower(), float(domain.value)))


def _trend(catalog: Catalog, parameter: str) -> Row:
    row = catalog.get("defaults", "trend", parameter)
    if row is None:
        raise KeyError(f"defaults:trend:{parameter}")
    return row


def extrapolated_rows(catalog: Catalog) -> list[Row]:
    """Rows of every extrapolated generation of every product line (table ``gpus``)."""
    per_watt, per_dollar = _trend(catalog, "gpu_perf_per_watt_gain"), _trend(catalog, "gpu_perf_per_dollar_gain")
    w, d = float(per_watt.value), float(per_dollar.value)
    rows: list[Row] = []
    for base in line_heads(catalog).values():
        released = int(float(catalog.get("gpus", base, "release_year").value))
        for year in range(released + 1, LAST_EXTRAPOLATED_YEAR + 1):
            k = year - released
            gain, price = (1.0 + w) ** k, ((1.0 + w) / (1.0 + d)) ** k
            gpu = extrapolated_id(base, year)
            derivation = (f"estimate: extrapolated, the {base} line {k} yr on: performance x (1 + {w:g})^{k}"
                          f" = {gain:.3g} at the same board power ({per_watt.key}); server price x "
                          f"((1 + {w:g}) / (1 + {d:g}))^{k} = {price:.3g} ({per_dollar.key})")

            def derived(parameter: str, value, given: str, unit: str, notes: str, source: Row) -> Row:
                return Row("gpus", gpu, parameter, value, math.nan, math.nan, unit, given,
                           source.source, source.url, source.source_date, "estimate", notes, source.file,
                           source.line)

            rows.append(derived("release_year", float(year), str(year), "",
                                derivation, catalog.get("gpus", base, "release_year")))
            rows.append(derived("extrapolated_from", base, base, "", derivation, per_watt))
            for parameter in KEPT:
                row = catalog.get("gpus", base, parameter)
                if row is not None:
                    rows.append(derived(parameter, row.value, row.value_given, row.unit_given,
                                        f"estimate: extrapolated, kept from {row.key}", row))
            for parameter, factor in [(p, gain) for p in SCALED] + [(p, price) for p in ("purchase_price", "server_cost", "rental_price")]:
                row = catalog.get("gpus", base, parameter)
                if row is None:
                    continue
                given = row.given(float(row.value) * factor)
                rows.append(derived(parameter, float(row.value) * factor, f"{given:.6g}", row.unit_given,
                                    f"{derivation}; from {row.key} = {row.text}", row))
    return rows


def with_extrapolated(catalog: Catalog) -> Catalog:
    """`catalog` with the extrapolated generations added (replacing any derived before)."""
    kept = {key: row for key, row in catalog.rows.get("gpus", {}).items() if base_of(key[0]) is None}
    catalog.rows["gpus"] = kept
    if catalog.get("defaults", "trend", "gpu_perf_per_watt_gain") is not None \
            and catalog.get("defaults", "trend", "gpu_perf_per_dollar_gain") is not None:
        catalog.add(extrapolated_rows(catalog))
    return catalog
