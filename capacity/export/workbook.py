"""A first results workbook (openpyxl): summary, one sheet per option, demand, assumptions."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..options import OPTIONS

HEADLINE = ["Capacity|GPUs", "Power|Facility", "Energy|Electricity", "Grid|Share of consumption",
            "Cost|Total", "Cost|Per million tokens", "Sovereignty|Domestic share"]


def _text(value):
    """User text goes in as text, never as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _write_frame(sheet, frame: pd.DataFrame) -> None:
    sheet.append([_text(str(c)) for c in frame.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for record in frame.itertuples(index=False):
        sheet.append([_text(v) if isinstance(v, str) else (None if pd.isna(v) else v)
                      for v in record])
    sheet.freeze_panes = "A2"
    for i, column in enumerate(frame.columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(12, min(48, len(str(column)) + 4))


def write_workbook(plan, path: Path) -> None:
    """Write the plan's results to an .xlsx at `path` (the caller makes it atomic)."""
    results = plan.results
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    last = results["year"].max()
    head = results[(results["year"] == last) & results["variable"].isin(HEADLINE)]
    table = head.pivot_table(index=["scenario", "region", "variable", "unit"], columns="option",
                             values="value", sort=False).reindex(columns=list(OPTIONS)).reset_index()
    summary.append([f"Headline figures for {last}"])
    summary["A1"].font = Font(bold=True, size=13)
    summary.append([])
    _write_frame_at(summary, table)
    for option in OPTIONS:
        sheet = book.create_sheet(option)
        wide = results[results["option"] == option].pivot_table(
            index=["scenario", "region", "variable", "unit"], columns="year", values="value",
            sort=False).reset_index()
        _write_frame(sheet, wide)
    demand = book.create_sheet("Demand")
    _write_frame(demand, plan.rows[["scenario", "region", "year", "use_case", "potential_users",
                                    "requests_per_user_per_day", "input_tokens", "output_tokens",
                                    "frontier_share", "peak_to_average"]])
    _write_frame(book.create_sheet("Assumptions"), plan.assumptions)
    # fixed document times, then fixed archive times: the same inputs give the same bytes
    book.properties.created = book.properties.modified = FIXED_TIME
    book.save(path)
    _normalise_archive(Path(path))


FIXED_TIME = dt.datetime(2000, 1, 1)


def _normalise_archive(path: Path) -> None:
    """Rewrite the xlsx (a zip) with every entry stamped at one fixed time, in the same order,
    so that two runs on the same inputs produce byte-identical files."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info.filename)) for info in source.infolist()]
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    # openpyxl stamps the save time as "modified" whatever the properties say
    entries = [(info, re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + stamp + rb"\g<2>", data)
                if info.filename == "docProps/core.xml" else data) for info, data in entries]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            stamped = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            stamped.compress_type = zipfile.ZIP_DEFLATED
            stamped.external_attr = info.external_attr
            target.writestr(stamped, data)


def _write_frame_at(sheet, frame: pd.DataFrame) -> None:
    sheet.append([str(c) for c in frame.columns])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for record in frame.itertuples(index=False):
        sheet.append([_text(v) if isinstance(v, str) else (None if pd.isna(v) else v)
                      for v in record])
