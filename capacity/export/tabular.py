"""CSV and JSON views of the results table."""

from __future__ import annotations

import json
import math

import pandas as pd

SCHEMA_VERSION = 1


def to_json(results: pd.DataFrame) -> str:
    """``{"schema_version": 1, "results": [{scenario, region, option, variable, unit, year,
    value}, ...]}``; a value that is not finite is written as null."""
    records = [
        {**record, "year": int(record["year"]),
         "value": float(record["value"]) if math.isfinite(record["value"]) else None}
        for record in results.to_dict(orient="records")
    ]
    return json.dumps({"schema_version": SCHEMA_VERSION, "results": records}, indent=1) + "\n"


def to_csv(results: pd.DataFrame) -> str:
    """The tidy table, one value a row, full float precision."""
    return results.to_csv(index=False, lineterminator="\n", float_format="%.17g")
