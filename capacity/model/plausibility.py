"""Plausibility flags: results beyond what a national grid has carried, reported, never hidden.

An option is flagged where its facility power exceeds a share of the national peak
(`plausibility.peak_share`, default the whole peak: more would need new generation and grid
before any GPU) or its energy exceeds a share of national consumption
(`plausibility.consumption_share`, default the highest share data centres take in any country
of the library, Ireland's, `countries:IRL:datacenter_electricity_share`).
"""

from __future__ import annotations

import pandas as pd

CHECKS = {  # result variable [%] -> (the scenario's threshold, what it means)
    "Grid|Share of peak demand": ("peak_share", "facility power above {t:.0%} of the national peak "
                                                "(plausibility.peak_share)"),
    "Grid|Share of consumption": ("consumption_share", "electricity above {t:.1%} of national "
                                                       "consumption (plausibility.consumption_share)"),
}
FLAG_COLUMNS = ["scenario", "region", "option", "variable", "check", "first_year", "largest", "threshold", "unit"]


def flags(results: pd.DataFrame, cases: dict) -> pd.DataFrame:
    """One row per scenario, region, option and check whose threshold is exceeded: the first
    year it is, the largest value and the threshold (both in % of the national figure)."""
    thresholds = pd.DataFrame(
        [(name, variable, 100.0 * getattr(case.plausibility, field), text)
         for name, case in cases.items() for variable, (field, text) in CHECKS.items()
         if getattr(case.plausibility, field) is not None],
        columns=["scenario", "variable", "threshold", "text"])
    picked = results.merge(thresholds, on=["scenario", "variable"])
    over = picked[picked["value"] > picked["threshold"]]
    if over.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    keys = ["scenario", "region", "option", "variable"]
    found = over.groupby(keys, sort=False).agg(first_year=("year", "min"), largest=("value", "max"),
                                               threshold=("threshold", "first"), text=("text", "first"))
    found = found.reset_index()
    found["check"] = [text.format(t=t / 100.0) for text, t in zip(found["text"], found["threshold"])]
    found["unit"] = "%"
    return found[FLAG_COLUMNS].reset_index(drop=True)


def describe(found: pd.DataFrame) -> list[str]:
    """The flags as warning lines."""
    return [f"implausible: {r.option} ({r.scenario}, {r.region}) from {r.first_year}: {r.check} "
            f"(up to {r.largest:.0f} %)" for r in found.itertuples(index=False)]
