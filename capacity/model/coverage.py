"""The calibration guard: what in a run lies outside what the throughput model was fitted on.

The model's efficiency factors are fitted to published measurements
(`assumptions/calibration.csv`, rows with scope ``calibration``): a few prompt and output
lengths, some GPUs, some model families (architecture and attention). A request longer than any
measured one, a GPU never measured, or a model family never measured is an extrapolation.
`outside_calibration` lists them, so the CLI can warn on stderr and the workbook's Method sheet
can show them, instead of letting them pass silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..data import generations

from ..data.catalog import Catalog
from .calibrate import read_measurements

COLUMNS = ["kind", "item", "found", "calibrated", "options", "use_cases", "from_year"]


@dataclass(frozen=True)
class CalibratedRange:
    """What the published measurements cover."""

    max_input_tokens: float
    max_output_tokens: float
    gpus: frozenset[str]
    families: frozenset[tuple[str, str]]   # (architecture, attention) of the models measured
    measurements: int


def _family(catalog: Catalog, model: str) -> tuple[str, str]:
    get = lambda parameter: catalog.get("models", model, parameter)
    architecture, attention = get("architecture"), get("attention")
    return (str(architecture.value) if architecture else "?", str(attention.value) if attention else "?")


def calibrated_range(catalog: Catalog, measurements: pd.DataFrame | None = None) -> CalibratedRange:
    """The range the fitted measurements span (the rows the fit used)."""
    measured = read_measurements() if measurements is None else measurements
    used = measured[measured["usable"]]
    return CalibratedRange(
        max_input_tokens=float(used["input_tokens"].max()),
        max_output_tokens=float(used["output_tokens"].max()),
        gpus=frozenset(used["gpu"]),
        families=frozenset(_family(catalog, model) for model in used["model"].unique()),
        measurements=len(used))


def outside_calibration(throughput: pd.DataFrame, catalog: Catalog,
                        calibrated: CalibratedRange | None = None) -> pd.DataFrame:
    """The parts of a run's serving (`Plan.throughput`: one row per row, option and tier, with
    the tokens it serves) that lie outside the calibrated range, one row per finding:
    kind (prompt length, output length, GPU, model family), the item, what was found, what was
    calibrated, the options and use cases concerned and the first year."""
    calibrated = calibrated or calibrated_range(catalog)
    served = throughput[throughput["tokens"] > 0]
    findings = []
    checks = (
        ("prompt length", served["input_tokens"] > calibrated.max_input_tokens * (1 + 1e-9),
         lambda frame: f"{frame['input_tokens'].max():,.0f} tokens per request",
         f"up to {calibrated.max_input_tokens:,.0f}"),
        ("output length", served["output_tokens"] > calibrated.max_output_tokens * (1 + 1e-9),
         lambda frame: f"{frame['output_tokens'].max():,.0f} tokens per request",
         f"up to {calibrated.max_output_tokens:,.0f}"),
    )
    for kind, outside, found, expected in checks:
        frame = served[outside.to_numpy()]
        for item, group in frame.groupby("use_case", sort=True):
            findings.append((kind, str(item), found(group), expected, group))
    gpus = pd.concat([served[["gpu", "option", "use_case", "year"]],
                      served[["gpu_bought", "option", "use_case", "year"]].rename(
                          columns={"gpu_bought": "gpu"})])
    unmeasured = gpus[~gpus["gpu"].isin(calibrated.gpus)]
    bases = {gpu: (generations.base_of(str(gpu)) or ("", 0))[0] for gpu in unmeasured["gpu"].unique()}
    base = unmeasured["gpu"].map(bases)
    for gpu, group in unmeasured[base == ""].groupby("gpu", sort=True):
        findings.append(("GPU", str(gpu), "its architecture's factors apply",
                         ", ".join(sorted(calibrated.gpus)), group))
    # generations past the catalogue: one finding per product line, first to last
    for head, group in unmeasured[base != ""].groupby(base[base != ""], sort=True):
        ids = sorted(group["gpu"].unique(), key=lambda gpu: generations.base_of(gpu)[1])
        span = ids[0] if len(ids) == 1 else f"{ids[0]} to {ids[-1]}"
        findings.append(("extrapolated GPU", span, f"extrapolated from {head}, whose "
                         "architecture's factors apply", ", ".join(sorted(calibrated.gpus)), group))
    families = pd.Series({model: "/".join(_family(catalog, model)) for model in served["model"].unique()})
    known = {"/".join(family) for family in calibrated.families}
    for model, family in families.items():
        if family not in known:
            group = served[served["model"] == model]
            findings.append(("model family", model, family, ", ".join(sorted(known)), group))
    return pd.DataFrame([
        (kind, item, found, expected, ", ".join(sorted(group["option"].unique())),
         ", ".join(sorted(group["use_case"].unique())), int(group["year"].min()))
        for kind, item, found, expected, group in findings], columns=COLUMNS)


def describe(outside: pd.DataFrame, calibrated_measurements: int) -> list[str]:
    """One line per kind of finding (prompt length, output length, GPU, model family), for a
    warning on stderr; the workbook lists every finding."""
    lines = []
    for kind, group in outside.groupby("kind", sort=False):
        if kind in ("prompt length", "output length"):
            items = ", ".join(f"{row.item} (from {row.from_year}, up to {row.found.split(' ')[0]})"
                              for row in group.itertuples(index=False))
            lines.append(f"{kind}s beyond the {group['calibrated'].iloc[0].removeprefix('up to ')} "
                         f"tokens per request measured: {items}")
        else:
            items = ", ".join(f"{row.item} ({row.options}, from {row.from_year}: {row.found})"
                              for row in group.itertuples(index=False))
            lines.append(f"{kind}s never measured: {items}" + (
                "" if kind == "extrapolated GPU" else f"; measured: {group['calibrated'].iloc[0]}"))
    if lines:
        lines.insert(0, f"outside the range of the {calibrated_measurements} published measurements the "
                        "throughput model is calibrated on (extrapolated; see the workbook's Method sheet):")
    return lines
