"""CSV and JSON views of the results table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ...data.errors import InputError
from ...model.plan import SCHEMA_VERSION
from .files import atomic_write


def _records(table: pd.DataFrame) -> list[dict]:
    frame = table.astype(object)
    if "value" in table:
        frame["value"] = frame["value"].where(np.isfinite(table["value"].to_numpy(float)), None)
    if "probability" in table:
        frame["probability"] = table["probability"].astype(float)
    if "year" in table:
        frame["year"] = table["year"].astype(int)
    return frame.to_dict(orient="records")


def to_json(results: pd.DataFrame, extra: dict | None = None) -> str:
    """``{"schema_version": 1, "results": [{scenario, region, option, variable, unit, year,
    value}, ...]}`` (and `extra`'s entries: tables as lists of records); a value that is not
    finite is written as null."""
    document = {"schema_version": SCHEMA_VERSION, "results": _records(results.astype({"value": float}))}
    for key, value in (extra or {}).items():
        document[key] = _records(value) if isinstance(value, pd.DataFrame) else value
    return json.dumps(document, indent=1) + "\n"


CSV_SEPARATORS = {",": ",", ";": ";", "tab": "\t"}
"""Field separators a CSV may use: ``,`` (the default), ``;`` (what Dutch, German and other
decimal-comma Excel installations open directly) and ``tab``."""
DECIMAL_MARKS = (".", ",")


def csv_convention(sep: str = ",", decimal: str = ".") -> tuple[str, str]:
    """The (separator, decimal mark) of a CSV, checked: a decimal comma needs a separator other
    than the comma, or every number would split in two."""
    if sep not in CSV_SEPARATORS:
        raise InputError(None, "--csv-sep", repr(sep), "one of " + ", ".join(repr(s) for s in CSV_SEPARATORS))
    if decimal not in DECIMAL_MARKS:
        raise InputError(None, "--decimal", repr(decimal), "'.' or ','")
    if decimal == "," and CSV_SEPARATORS[sep] == ",":
        raise InputError(None, "--decimal", "',' with the comma as the field separator",
                         "--csv-sep ';' (or tab) with --decimal ','")
    return CSV_SEPARATORS[sep], decimal


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a spreadsheet recognises a formula at the start of a cell (OWASP, "CSV Injection")."""


def neutralised(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with every text cell that begins like a formula (`FORMULA_STARTS`) prefixed with
    an apostrophe, as OWASP recommends for CSV a spreadsheet may open: ``=HYPERLINK(..)`` is
    shown as text, not run. Numbers are left alone (a negative number is not text)."""
    changed = {}
    for column in table.columns:
        values = table[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            text = values.astype(str)
            risky = text.str.startswith(FORMULA_STARTS) & values.map(lambda v: isinstance(v, str))
            if risky.any():
                changed[column] = values.where(~risky, "'" + text)
    return table.assign(**changed) if changed else table


def to_csv(results: pd.DataFrame, sep: str = ",", decimal: str = ".") -> str:
    """The tidy table, one value a row, full float precision; `sep` and `decimal` as
    `csv_convention` allows (``;`` and ``,`` for a decimal-comma Excel); text cells that would
    start a formula neutralised (`neutralised`)."""
    sep, decimal = csv_convention(sep, decimal)
    return neutralised(results).to_csv(index=False, lineterminator="\n", float_format="%.17g", sep=sep, decimal=decimal)


IAMC_INDEX = ["model", "scenario", "region", "variable", "unit"]


def to_iamc(results: pd.DataFrame, model_name: str) -> pd.DataFrame:
    """The results as an IAMC wide table: ``model, scenario, region, variable, unit`` and one
    column per year (int labels), one row per time series.

    IAMC readers (pyam) need (model, scenario, region, variable, unit) to be unique, and the
    results have one series per supply option. The option goes into the scenario name,
    ``"{scenario}|{option}"`` (e.g. ``realist|frontier-api``), so each option is its own IAMC
    scenario and variable names stay those of `plan.VARIABLES`. `model_name` fills the ``model``
    column (the CLI passes ``f"capacity {capacity.__version__}"``). Rows are grouped by IAMC
    scenario, variables in the order of the results; a missing (series, year) is NaN.
    """
    scenario = results["scenario"].astype(str) + "|" + results["option"].astype(str)
    data = results.assign(model=model_name, scenario=scenario)
    wide = data.pivot(index=IAMC_INDEX, columns="year", values="value")
    series = data[IAMC_INDEX].drop_duplicates()
    rank = {name: i for i, name in enumerate(series["scenario"].unique())}
    series = series.sort_values("scenario", key=lambda names: names.map(rank), kind="stable")
    wide = wide.reindex(pd.MultiIndex.from_frame(series))
    wide.columns = [int(year) for year in wide.columns]
    return wide.reset_index()


def write_iamc(results: pd.DataFrame, path: str | Path, model_name: str) -> Path:
    """Write `to_iamc` as CSV (``.csv``) or Excel (``.xlsx``, sheet ``data`` as pyam expects).

    The file is replaced atomically; another extension raises `InputError`.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(str(path), None, f"the file extension {suffix or '(none)'!r}",
                         "an IAMC output path ending in .csv or .xlsx")
    table = to_iamc(results, model_name)

    def write(temporary: Path) -> None:
        if suffix == ".csv":
            neutralised(table).to_csv(temporary, index=False, lineterminator="\n")
        else:
            write_table_xlsx(table, temporary, "data")

    return atomic_write(path, write)


def write_table_xlsx(table: pd.DataFrame, path: Path, sheet_name: str) -> None:
    """A table as a plain sheet: a header row, then the values; every text cell stored as text
    (never a formula), the file byte-reproducible (`files.save_workbook`)."""
    import openpyxl

    from .files import save_workbook
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = sheet_name
    sheet.append([str(column) if not isinstance(column, int) else column for column in table.columns])
    for record in table.itertuples(index=False, name=None):
        sheet.append([None if isinstance(v, float) and v != v else v for v in record])
    save_workbook(book, path)
