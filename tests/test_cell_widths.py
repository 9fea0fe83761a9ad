"""Every formatted cell of the default workbook fits its column: no ``###`` at default zoom and
no text running into a filled neighbour.

Widths are in Excel's unit, the width of one digit of the default font (Calibri 11; LibreOffice
maps it to Carlito, with the same metrics). A number shows as ``###`` when its formatted text is
wider than the column less the cell's padding; digits, separators and signs are at most one
unit wide, so a number fits when its formatted length is at most the width less one unit. Text
is proportional: most letters are narrower than a digit, capitals and ``m``/``w`` wider; the
measure below weighs them as Calibri does, to 10 %.
"""

from __future__ import annotations

import math
import re

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

DEFAULT_WIDTH = 8.43
"""Excel's width of a column that sets none [digit widths]."""
PADDING = 1.0
"""What a cell keeps free of its column's width [digit widths]."""
WIDE = set("mwMW@%") | set("ABCDEFGHKNOQRUVXYZ")
NARROW = set("iljtfr.,:;'|!() -")


def text_width(text: str) -> float:
    """The width of `text` in digit widths of Calibri 11 (wide letters 1.3, narrow 0.5, the rest
    0.9; digits 1)."""
    return sum(1.0 if c.isdigit() else 1.3 if c in WIDE else 0.5 if c in NARROW else 0.9 for c in text)


def formatted(value: float, number_format: str) -> str:
    """`value` as Excel shows it in `number_format` (the formats the workbook uses)."""
    fmt = number_format.split(";")[0]
    if fmt in ("General", "@"):
        if float(value).is_integer() and abs(value) < 1e11:
            return str(int(value))
        return f"{value:.10g}" if abs(value) < 1e11 else f"{value:.5E}"
    percent = fmt.endswith("%")
    body = fmt.rstrip("%")
    if "E" in body.upper():
        decimals = len(body.split(".")[1].upper().split("E")[0]) if "." in body else 0
        return f"{value:.{decimals}E}"
    decimals = len(re.sub(r"[^0#]", "", body.split(".")[1])) if "." in body else 0
    shown = value * 100 if percent else value
    text = f"{shown:,.{decimals}f}" if "," in body else f"{shown:.{decimals}f}"
    return text + ("%" if percent else "")


def widths(sheet) -> dict[int, float]:
    out = {}
    for column in range(1, sheet.max_column + 1):
        dimension = sheet.column_dimensions.get(get_column_letter(column))
        out[column] = dimension.width if dimension is not None and dimension.width else DEFAULT_WIDTH
    # openpyxl keeps a group of equal widths on its first letter (min..max)
    for dimension in sheet.column_dimensions.values():
        if dimension.width and dimension.min and dimension.max:
            for column in range(dimension.min, dimension.max + 1):
                out[column] = dimension.width
    return out


def merged(sheet) -> set[tuple[int, int]]:
    return {(r, c) for block in sheet.merged_cells.ranges
            for r in range(block.min_row, block.max_row + 1) for c in range(block.min_col, block.max_col + 1)}


def overflows(book) -> list[str]:
    found = []
    for sheet in book.worksheets:
        width = widths(sheet)
        skip = merged(sheet)
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if value is None or (cell.row, cell.column) in skip:
                    continue
                room = width.get(cell.column, DEFAULT_WIDTH)
                if isinstance(value, bool):
                    continue
                if isinstance(value, (int, float)):
                    if isinstance(value, float) and not math.isfinite(value):
                        continue
                    text = formatted(value, cell.number_format)
                    if len(text) > room - PADDING:
                        found.append(f"{sheet.title}!{cell.coordinate}: {text!r} ({len(text)}) in width {room}")
                elif isinstance(value, str) and not value.startswith("="):
                    if cell.alignment.wrap_text:
                        if cell.hyperlink is not None:              # a link opens; it need not be read
                            continue
                        # lines break at spaces and after hyphens
                        longest = max(re.split(r"\s+|(?<=-)", value), key=text_width, default="")
                        if text_width(longest) > room * 1.1:         # a word longer than a line
                            found.append(f"{sheet.title}!{cell.coordinate}: word {longest!r} in width {room}")
                        continue
                    neighbour = sheet.cell(row=cell.row, column=cell.column + 1).value
                    if neighbour is not None and text_width(value) > room * 1.1:
                        found.append(f"{sheet.title}!{cell.coordinate}: {value[:40]!r} runs into "
                                     f"{get_column_letter(cell.column + 1)} (width {room})")
    return found


@pytest.mark.parametrize("value, fmt, text", [(1244937497041.0, "#,##0", "1,244,937,497,041"),
                                              (0.1234, "0.00%", "12.34%"), (2.5, "#,##0.0", "2.5"),
                                              (2026, "0", "2026"), (0.5, "General", "0.5")])
def test_formats_render_as_excel_shows_them(value, fmt, text):
    assert formatted(value, fmt) == text


def test_every_cell_of_the_default_workbook_fits_its_column(workbook):
    found = overflows(load_workbook(workbook))
    assert not found, f"{len(found)} cells overflow, e.g.\n" + "\n".join(found[:25])


def test_a_cell_too_wide_for_its_column_is_found(tmp_path):
    """The check itself: a long number in a narrow column, and text running into a neighbour."""
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet["A1"], sheet["A1"].number_format = 1244937497041.0, "#,##0"
    sheet["B1"] = "a label much longer than its column"
    sheet["C1"] = 1
    assert [f.split(":")[0] for f in overflows(book)] == ["Sheet!A1", "Sheet!B1"]


def test_the_uncertainty_sheet_fits_too(tmp_path):
    import capacity
    path = capacity.run(draws=20, seed=1).to_excel(tmp_path / "drawn.xlsx")
    found = overflows(load_workbook(path))
    assert not found, "\n".join(found[:25])
