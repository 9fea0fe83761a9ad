"""Compare two results tables: which values changed, by how much, as Markdown or plain text.

>>> before = read_results_json("main.json")              # saved with `export.tabular.to_json`
>>> changes = diff_results(before, capacity.run().results)
>>> print(to_markdown(changes, "main", "this branch"))    # a pull-request comment
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.errors import InputError
from ..data.reading import check_text_value, read_text
from ..model.plan import SCHEMA_VERSION

KEY_COLUMNS = ["scenario", "region", "option", "variable", "unit", "year"]
RESULT_COLUMNS = [*KEY_COLUMNS, "value"]
DIFF_COLUMNS = [*KEY_COLUMNS, "before", "after", "change", "relative_change"]
_TEXT_COLUMNS = ["scenario", "region", "option", "variable", "unit"]
_HEADERS = {"scenario": "Scenario", "region": "Region", "option": "Option", "variable": "Variable",
            "unit": "Unit", "year": "Year", "before": "Before", "after": "After",
            "change": "Change", "relative_change": "Relative change"}
_NUMERIC = {"year", "before", "after", "change", "relative_change"}
_EXPECTED_DOCUMENT = (f'a JSON results document {{"schema_version": {SCHEMA_VERSION}, "results": '
                      '[{scenario, region, option, variable, unit, year, value}, ...]}')


# --- reading ------------------------------------------------------------------------------------

def _refuse_constant(name: str):
    raise ValueError(f"the JSON constant {name} (not a number JSON allows)")


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):          # 1e400: beyond float range, read as infinity
        raise ValueError(f"the number {text[:40]} (beyond the range of a float)")
    return number


def _unique_keys(pairs: list) -> dict:
    document = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"the key {key[:60]!r} twice in one object (only one can be read)")
        document[key] = value
    return document


def read_results_json(path: str | Path) -> pd.DataFrame:
    """Read a file written by `export.tabular.to_json` back into the results table.

    Columns and dtypes match `Plan.results` (text columns as strings, ``year`` int, ``value``
    float, null -> NaN). Anything else raises `InputError` naming the file.
    """
    where = str(path)
    text = read_text(path, "results", _EXPECTED_DOCUMENT)   # a regular file, size-limited, UTF-8
    try:
        document = json.loads(text, parse_constant=_refuse_constant, parse_float=_float,
                              object_pairs_hook=_unique_keys)
    except RecursionError:
        raise InputError(where, None, "JSON nested too deep to read", _EXPECTED_DOCUMENT) from None
    except ValueError as exc:
        if not isinstance(exc, json.JSONDecodeError):
            raise InputError(where, None, str(exc), _EXPECTED_DOCUMENT) from None
        raise InputError(f"{where}:{exc.lineno}", None, f"invalid JSON ({exc.msg})",
                         _EXPECTED_DOCUMENT) from None

    if not isinstance(document, dict) or "results" not in document:
        found = (f"an object with keys {sorted(document)}" if isinstance(document, dict)
                 else f"a JSON {_json_type(document)}")
        raise InputError(where, None, found, _EXPECTED_DOCUMENT)
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputError(where, "schema_version", json.dumps(version), str(SCHEMA_VERSION),
                         "the file was written by a different version of capacity")
    records = document["results"]
    if not isinstance(records, list):
        raise InputError(where, "results", f"a JSON {_json_type(records)}", "a list of records")
    return _records_to_frame(records, where)


def _records_to_frame(records: list, where: str) -> pd.DataFrame:
    """Check every record's keys and value types, then build the typed table."""
    bad = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
    if bad is not None:
        raise InputError(where, f"results[{bad}]", f"a JSON {_json_type(records[bad])}",
                         "an object {scenario, region, option, variable, unit, year, value}")
    missing = next((i for i, r in enumerate(records) if not set(RESULT_COLUMNS) <= r.keys()), None)
    if missing is not None:
        raise InputError(where, f"results[{missing}]", f"keys {sorted(records[missing])}",
                         f"keys {RESULT_COLUMNS}")

    # checked as Python lists before pandas sees them (a 400-digit integer overflows its
    # conversions, differently across versions)
    raw = {column: [record[column] for record in records] for column in RESULT_COLUMNS}
    checks = {column: (lambda v: isinstance(v, str), "a string") for column in _TEXT_COLUMNS}
    checks["year"] = (lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 9999,
                      "an integer year (0 to 9999)")
    checks["value"] = (lambda v: v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)
                                               and _finite(v)), "a finite number or null")
    for column, (valid, expected) in checks.items():
        i = next((i for i, value in enumerate(raw[column]) if not valid(value)), None)
        if i is not None:
            raise InputError(where, f"results[{i}].{column}", json.dumps(records[i][column]), expected)

    for column in _TEXT_COLUMNS:      # text printed to a terminal: no control characters
        for value, i in {v: i for i, v in reversed(list(enumerate(raw[column])))}.items():
            check_text_value(value, where, f"results[{i}].{column}")
    table = pd.DataFrame({column: pd.Series(raw[column], dtype=str) for column in _TEXT_COLUMNS})
    table["year"] = pd.Series(raw["year"], dtype="int64")
    table["value"] = pd.Series([np.nan if v is None else float(v) for v in raw["value"]], dtype="float64")
    return table[RESULT_COLUMNS]


def _finite(value: int | float) -> bool:
    """Finite, or NaN (null reads as NaN: the NaN literal itself is refused when parsing)."""
    try:
        number = float(value)
        return math.isfinite(number) or math.isnan(number)
    except OverflowError:                  # an integer of hundreds of digits
        return False


def _json_type(value) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number",
            float: "number", type(None): "null"}.get(type(value), type(value).__name__)


# --- comparing ----------------------------------------------------------------------------------

def diff_results(before: pd.DataFrame, after: pd.DataFrame, rtol: float = 1e-6,
                 atol: float = 1e-9) -> pd.DataFrame:
    """The values that differ between two results tables, largest relative change first.

    Rows are matched on (scenario, region, option, variable, unit, year); a row counts as changed
    when ``abs(after - before) > atol + rtol * abs(before)``, when one side is NaN and the other
    is not, or when the row exists on one side only (the missing side is NaN). ``change`` is
    ``after - before`` and ``relative_change`` is ``change / abs(before)`` (inf when before is 0,
    NaN when a side is missing). Sorted by ``abs(relative_change)`` descending, inf/NaN first.
    """
    left = _checked(before, "before")
    right = _checked(after, "after")
    merged = left.merge(right, on=KEY_COLUMNS, how="outer", suffixes=("_before", "_after"),
                        indicator=True)
    old = merged["value_before"].to_numpy(dtype=float)
    new = merged["value_after"].to_numpy(dtype=float)

    with np.errstate(invalid="ignore", divide="ignore"):
        both_finite = np.isfinite(old) & np.isfinite(new)
        close = both_finite & (np.abs(new - old) <= atol + rtol * np.abs(old))
        same = (old == new) | (np.isnan(old) & np.isnan(new))
        one_sided = (merged["_merge"] != "both").to_numpy()
        changed = one_sided | ~(close | same)
        change = new - old
        relative = change / np.abs(old)

    diff = merged.loc[changed, KEY_COLUMNS].reset_index(drop=True)
    diff["before"], diff["after"] = old[changed], new[changed]
    diff["change"], diff["relative_change"] = change[changed], relative[changed]
    diff["year"] = diff["year"].astype("int64")

    size = np.abs(diff["relative_change"].to_numpy())
    diff["_size"] = np.where(np.isnan(size), np.inf, size)
    diff = diff.sort_values(["_size", *KEY_COLUMNS], ascending=[False] + [True] * len(KEY_COLUMNS),
                            kind="stable")
    return diff[DIFF_COLUMNS].reset_index(drop=True)


def _checked(results: pd.DataFrame, side: str) -> pd.DataFrame:
    """The key and value columns of one side, refusing a table whose keys repeat."""
    missing = [column for column in RESULT_COLUMNS if column not in results.columns]
    if missing:
        raise InputError(None, f"{side} results", f"no column(s) {missing}",
                         f"columns {RESULT_COLUMNS}")
    table = results[RESULT_COLUMNS]
    repeated = table.duplicated(KEY_COLUMNS)
    if repeated.any():
        first = table[repeated].iloc[0]
        raise InputError(None, f"{side} results",
                         f"{int(repeated.sum())} repeated row(s), e.g. "
                         + ", ".join(f"{c}={first[c]}" for c in KEY_COLUMNS),
                         "one value per (scenario, region, option, variable, unit, year)")
    return table


# --- reporting ----------------------------------------------------------------------------------

def to_markdown(diff: pd.DataFrame, before_label: str, after_label: str, max_rows: int = 50) -> str:
    """A GitHub-flavoured Markdown report of `diff_results`, for a pull request or CI summary."""
    lines = [f"### Results: {before_label} → {after_label}", ""]
    if diff.empty:
        return "\n".join(lines + ["No value changed beyond the tolerance.", ""])
    lines += [_count_line(len(diff)), ""]
    cells = _formatted(diff.head(max_rows))
    columns = list(cells.columns)
    lines.append("| " + " | ".join(_HEADERS[c] for c in columns) + " |")
    lines.append("|" + "|".join("---:" if c in _NUMERIC else "---" for c in columns) + "|")
    escaped = cells.apply(lambda column: column.str.replace("|", "\\|", regex=False))
    lines += ("| " + escaped.agg(" | ".join, axis=1) + " |").tolist()
    if len(diff) > max_rows:
        lines += ["", f"... and {len(diff) - max_rows:,} more"]
    return "\n".join(lines) + "\n"


def to_text(diff: pd.DataFrame) -> str:
    """The `to_markdown` report as aligned plain text, every row."""
    if diff.empty:
        return "No value changed beyond the tolerance.\n"
    cells = _formatted(diff)
    header = pd.DataFrame([[_HEADERS[c] for c in cells.columns]], columns=cells.columns)
    table = pd.concat([header, cells], ignore_index=True)
    widths = table.apply(lambda column: column.str.len().max())
    padded = table.apply(lambda column: column.str.rjust(widths[column.name])
                         if column.name in _NUMERIC else column.str.ljust(widths[column.name]))
    rows = padded.agg("  ".join, axis=1).str.rstrip().tolist()
    rule = "  ".join("-" * widths[c] for c in table.columns)
    return "\n".join([_count_line(len(diff)), "", rows[0], rule, *rows[1:]]) + "\n"


def _count_line(n: int) -> str:
    return f"{n:,} value{'s' if n != 1 else ''} changed beyond the tolerance."


def _formatted(diff: pd.DataFrame) -> pd.DataFrame:
    """Every cell of a diff as display text."""
    cells = pd.DataFrame({column: diff[column].astype(str) for column in _TEXT_COLUMNS})
    cells["year"] = diff["year"].astype(str)
    cells["before"] = diff["before"].map(_number)
    cells["after"] = diff["after"].map(_number)
    cells["change"] = diff["change"].map(lambda x: _number(x, sign=True))
    cells["relative_change"] = diff["relative_change"].map(_percent)
    return cells.astype(str)


def _number(x: float, sign: bool = False) -> str:
    """Thousands separators; four significant digits below 1,000; 'n/a' for NaN."""
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return ("+" if sign and x > 0 else "-" if x < 0 else "") + "inf"
    plus = "+" if sign else ""
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    if magnitude >= 3:
        return f"{x:{plus},.0f}"
    if magnitude < -3:
        return f"{x:{plus}.3e}"
    return f"{x:{plus},.{3 - magnitude}f}".rstrip("0").rstrip(".")


def _percent(x: float) -> str:
    """A relative change as a percentage to three significant digits: 1.0 -> '+100%'."""
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    pct = float(f"{x * 100:.3g}")
    if pct == 0:
        return "0%"
    magnitude = math.floor(math.log10(abs(pct)))
    if magnitude < -4:
        return f"{pct:+.2e}%"
    return f"{pct:+,.{max(0, 2 - magnitude)}f}%"
