"""A first results workbook (openpyxl): summary, one sheet per option, demand, assumptions."""

from __future__ import annotations

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
    book.save(path)


def _write_frame_at(sheet, frame: pd.DataFrame) -> None:
    sheet.append([str(c) for c in frame.columns])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for record in frame.itertuples(index=False):
        sheet.append([_text(v) if isinstance(v, str) else (None if pd.isna(v) else v)
                      for v in record])
