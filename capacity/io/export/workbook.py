"""The results workbook (openpyxl): readable without the tool, the same layout every time.

Sheets, in order: Summary (headline figures and native charts), Comparison (every required
variable, option by option and year by year, in a fixed layout), one sheet per option (an
Excel Table of the year-by-year results), Demand (use cases and their token volumes), What-if
(the headline chain of one year as live formulas over named inputs), Assumptions (every library value the run used) with Sources (one row per source) and Method.
Exporters never compute model quantities: everything here is a view of `Plan.results`,
`Plan.rows` and `Plan.assumptions`.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from ...model.plan import REQUIRED_VARIABLES, VARIABLES
from .files import save_workbook
from .whatif import write_whatif

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
TITLE_FONT = Font(bold=True, size=13)

SUMMARY_VARIABLES = ["Capacity|GPUs", "Power|Facility", "Energy|Electricity",
                     "Grid|Share of consumption", "Cost|Total", "Cost|Per million tokens",
                     "Cost|NPV", "Sovereignty|Domestic share", "Demand|Unserved|Share"]
NUMBER_FORMATS = {"MUSD/yr": "#,##0.0", "MUSD": "#,##0.0", "GPU": "#,##0", "MW": "#,##0.0", "TWh/yr": "#,##0.000", "%": "0.000",
                  "USD/yr": "#,##0", "USD": "#,##0", "USD/Mtok": "#,##0.000", "token/yr": "#,##0",
                  "token/s": "#,##0", "t CO2/yr": "#,##0"}


COMPARISON_UNITS = {"USD/yr": ("MUSD/yr", 1e-6), "USD": ("MUSD", 1e-6)}
"""Money on the Comparison sheet: millions of USD (the option sheets keep the report units)."""


def number_format(unit: str) -> str:
    """Thousands separators, no 15-digit floats."""
    return NUMBER_FORMATS.get(unit, "#,##0.00")


def _put(sheet, row: int, column: int, value, fmt: str | None = None, bold: bool = False):
    """Write one cell. Text is always stored as text, never read as a formula."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        value = None
    elif isinstance(value, np.generic):
        value = value.item()
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    if fmt:
        cell.number_format = fmt
    if bold:
        cell.font = HEADER_FONT
    return cell


def _header(sheet, row: int, labels: list[str], start: int = 1) -> None:
    for offset, label in enumerate(labels):
        cell = _put(sheet, row, start + offset, label, bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _widths(sheet, widths: dict[int, float]) -> None:
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width


def write_workbook(plan, path: Path, robustness=None) -> None:
    """Write the plan's workbook to `path` (the caller makes the write atomic), with a
    Robustness sheet when `robustness` (`capacity.analysis.robust.Robustness`) is given."""
    book = Workbook()
    _summary(book.active, plan)
    _comparison(book.create_sheet("Comparison"), plan)
    if plan.uncertainty is not None:
        uncertainty_sheet(book.create_sheet("Uncertainty"), plan)
    for option in plan.options:
        _option_sheet(book.create_sheet(option), plan, option)
    _demand(book.create_sheet("Demand"), plan)
    write_whatif(book.create_sheet("What-if"), book, plan)
    sources = _sources(plan.assumptions)
    _assumptions(book.create_sheet("Assumptions"), plan.assumptions, sources)
    _sources_sheet(book.create_sheet("Sources"), sources)
    _method(book.create_sheet("Method"), plan)
    _summary_charts(book["Summary"], book.create_sheet("Chart data"), plan, book["Summary"].max_row + 2)
    if robustness is not None:
        robustness_sheet(book.create_sheet("Robustness", index=2), robustness)
    fit_columns(book)
    set_up_printing(book, plan.scenario.name)
    save_workbook(book, Path(path), formula_sheets=("What-if",))


@lru_cache(maxsize=256)
def _format_parts(number_format: str) -> tuple[bool, int, bool, bool]:
    """(General, decimals, thousands separators, percent) of an Excel number format."""
    fmt = number_format.split(";")[0]
    if fmt in ("General", "@", ""):
        return True, 0, False, False
    body = fmt.rstrip("%")
    decimals = len(re.sub(r"[^0#]", "", body.split(".")[1])) if "." in body else 0
    return False, decimals, "," in body, fmt.endswith("%")


def shown_length(value: float, number_format: str) -> int:
    """Characters `value` takes in `number_format` (thousands separators, decimals, %)."""
    general, decimals, comma, percent = _format_parts(number_format)
    if general:
        return len(f"{value:.10g}")
    scaled = value * 100 if percent else value
    text = f"{scaled:,.{decimals}f}" if comma else f"{scaled:.{decimals}f}"
    return len(text) + percent


def fit_columns(book, most: float = 60.0) -> None:
    """Every column at least as wide as its widest formatted number (plus a digit's padding,
    so none shows as ``###``), and text that would run into a filled neighbour wrapped."""
    for sheet in book.worksheets:
        merged = {cell for block in sheet.merged_cells.ranges for cell in block.cells}
        needed: dict[int, float] = {}
        for cell in list(sheet._cells.values()):           # the written cells only, none created
            value = cell.value
            if value is None or isinstance(value, bool) or (cell.row, cell.column) in merged:
                continue
            if isinstance(value, (int, float)):
                if math.isfinite(value):
                    length = shown_length(float(value), cell.number_format) + 2
                    needed[cell.column] = max(needed.get(cell.column, 0.0), float(length))
            elif isinstance(value, str) and len(value) > 8 and not value.startswith("="):
                right = sheet._cells.get((cell.row, cell.column + 1))   # no new empty cell
                if right is None or right.value is None:
                    continue
                width = sheet.column_dimensions[get_column_letter(cell.column)].width or 8.43
                if len(value) > width and not cell.alignment.wrap_text:
                    cell.alignment = Alignment(wrap_text=True, vertical="top",
                                               horizontal=cell.alignment.horizontal)
        for column, length in needed.items():
            dimension = sheet.column_dimensions[get_column_letter(column)]
            if (dimension.width or 8.43) < length:
                dimension.width = min(max(length, dimension.width or 0.0), max(most, length))


def _last_printed_row(sheet) -> int:
    """The last row with a value or under a chart (a chart of height h cm covers about 2 h
    rows of the default 15-point height)."""
    from openpyxl.utils.cell import coordinate_from_string
    last = max(sheet.max_row, 1)
    for chart in sheet._charts:
        if isinstance(chart.anchor, str):
            _, row = coordinate_from_string(chart.anchor)
            last = max(last, row + int(np.ceil(chart.height * 2)) + 1)
    return last


def set_up_printing(book, title: str) -> None:
    """Every sheet prints landscape on A4, fitted to the page width (as many pages down as it
    needs), with the scenario, the sheet and the page number in the header and footer, and
    the first row and column repeated on every page."""
    for sheet in book.worksheets:
        setup = sheet.page_setup
        setup.orientation, setup.paperSize = "landscape", sheet.PAPERSIZE_A4
        setup.fitToWidth, setup.fitToHeight = 1, 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_options.gridLines = False
        sheet.oddHeader.left.text = f"capacity: {title}"
        sheet.oddHeader.right.text = "&A"                          # the sheet's name
        sheet.oddFooter.right.text = "page &P of &N"
        if sheet.max_row > 1:
            sheet.print_title_rows = "1:1"
        if not sheet.print_area:
            sheet.print_area = f"A1:{get_column_letter(max(sheet.max_column, 1))}{_last_printed_row(sheet)}"
        frozen = sheet.freeze_panes
        if frozen and not frozen.startswith("A"):                 # the label columns on every page
            sheet.print_title_cols = f"A:{get_column_letter(sheet[frozen].column - 1)}"
    if "Chart data" in book.sheetnames:                            # a short table: one page
        book["Chart data"].page_setup.fitToHeight = 1


def _years(results: pd.DataFrame) -> list[int]:
    return sorted(int(y) for y in results["year"].unique())


SUMMARY_ROWS = [  # variable, label, how it is shown
    ("Cost|Total", "Cost per year", "money"),
    ("Cost|NPV", "Present value of cost so far", "money"),
    ("Cost|Per million tokens", "Cost per million tokens", "USD/Mtok"),
    ("Capacity|GPUs", "GPUs on national soil", "GPU"),
    ("Power|Facility", "Facility power on national soil", "MW"),
    ("Energy|Electricity", "Electricity used on national soil", "TWh/yr"),
    ("Grid|Share of consumption", "Share of national electricity", "%"),
    ("Grid|Share of peak demand", "Share of the national peak", "%"),
    ("Sovereignty|Domestic share", "Tokens served on national soil", "%"),
    ("Demand|Unserved|Share", "Demand unserved", "%"),
]
FLAG_FILL = PatternFill("solid", fgColor="FCE4D6")
FLAG_FONT = Font(bold=True, color="9C0006")
MESSAGE_COLUMNS = 8
"""The key messages span columns A to H, wrapped."""


def money_unit(values) -> tuple[str, float]:
    """MUSD or BUSD for a set of amounts in USD (BUSD when the largest is 10 billion or
    more), and the factor from USD."""
    largest = np.nanmax(np.abs(np.asarray(values, dtype=float))) if len(values) else 0.0
    return ("BUSD", 1e-9) if np.isfinite(largest) and largest >= 1e10 else ("MUSD", 1e-6)


def _summary(sheet, plan) -> None:
    """Key messages written from the results, the headline table (options as columns, the
    first, a middle and the last year), and three native charts with readable axes."""
    from ...analysis.messages import key_messages, picked_years
    sheet.title = "Summary"
    results = plan.results
    _put(sheet, 1, 1, f"{plan.scenario.name}: what each way of getting the country's AI takes",
         bold=True).font = TITLE_FONT
    _put(sheet, 2, 1, "GPUs, megawatts, energy and grid shares count what stands on national soil; "
                      "costs include everything each option pays (rent, tokens, capital, operation).")
    _put(sheet, 4, 1, "Key messages", bold=True).font = Font(bold=True, size=12)
    row = 4
    series = list(dict.fromkeys(zip(results["scenario"], results["region"])))
    heard = None
    for message in key_messages(plan, prefixed=False):
        if len(series) > 1 and (message.scenario, message.region) != heard:
            heard = (message.scenario, message.region)
            row += 1
            _put(sheet, row, 1, f"{message.scenario}, {message.region}", bold=True)
        row += 1
        cell = _put(sheet, row, 1, message.text)
        cell.alignment = Alignment(wrap_text=True, vertical="top", indent=1)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=MESSAGE_COLUMNS)
        sheet.row_dimensions[row].height = 15.0 * max(1, -(-len(message.text) // 185))
        if message.warning:
            cell.fill, cell.font = FLAG_FILL, FLAG_FONT
    flags = plan.implausible
    row += 2
    for scenario, region in dict.fromkeys(zip(results["scenario"], results["region"])):
        data = results[(results["scenario"] == scenario) & (results["region"] == region)]
        years = picked_years(sorted(int(y) for y in data["year"].unique()))
        options = [o for o in plan.options if o in set(data["option"])]
        wide = data[data["year"].isin(years)].set_index(["variable", "year", "option"])["value"].to_dict()
        _put(sheet, row, 1, f"Headline figures: {scenario}, {region}", bold=True).font = Font(bold=True, size=12)
        row += 1
        _header(sheet, row, ["figure", "unit", "year", *options, "flag"])
        sheet.cell(row=row, column=4 + len(options)).alignment = Alignment(vertical="top", horizontal="left", indent=2)
        for column in range(3, 4 + len(options)):             # over numbers: aligned as they are
            sheet.cell(row=row, column=column).alignment = Alignment(wrap_text=True, vertical="top",
                                                                     horizontal="right")
        mine = flags[(flags["scenario"] == scenario) & (flags["region"] == region)]
        thresholds = {(f.option, f.variable): (float(f.threshold), f.check) for f in mine.itertuples(index=False)}
        for variable, label, shown in SUMMARY_ROWS:
            values = [wide.get((variable, y, o), np.nan) for y in years for o in options]
            unit, factor, fmt = _shown(variable, shown, values)
            for year in years:
                row += 1
                if year == years[0]:                    # a figure's rows read as one group
                    _put(sheet, row, 1, label)
                    _put(sheet, row, 2, unit)
                _put(sheet, row, 3, int(year), "0")
                reasons = []
                for column, option in enumerate(options, start=4):
                    value = wide.get((variable, year, option), np.nan)
                    cell = _put(sheet, row, column, float(value) * factor, fmt)
                    threshold, check = thresholds.get((option, variable), (np.inf, ""))
                    if float(value) > threshold:
                        cell.fill, cell.font = FLAG_FILL, FLAG_FONT
                        reasons.append(f"{option}: {check}")
                if reasons:
                    flag = _put(sheet, row, 4 + len(options), "; ".join(reasons))
                    flag.font = FLAG_FONT
                    flag.alignment = Alignment(wrap_text=True, vertical="top")
                    sheet.row_dimensions[row].height = 15.0 * max(1, -(-len(flag.value) // 45))
        row += 1
        _put(sheet, row, 1, "Domestic capacity serves from")
        _put(sheet, row, 2, "year")
        share = data[(data["variable"] == "Sovereignty|Domestic share") & (data["value"] > 0)]
        for column, option in enumerate(options, start=4):
            served = share[share["option"] == option]["year"]
            _put(sheet, row, column, int(served.min()) if len(served) else "never",
                 "0").alignment = Alignment(horizontal="right")
        row += 3
    _widths(sheet, {1: 34, 2: 11, 3: 7, **{4 + i: 20 for i in range(len(plan.options))},
                    4 + len(plan.options): 48})
    sheet.freeze_panes = "A4"


def _shown(variable: str, shown: str, values) -> tuple[str, float, str]:
    """The unit, factor from the report unit and number format a Summary row is shown in."""
    if shown == "money":
        unit, factor = money_unit(values)
        return (unit + ("/yr" if variable == "Cost|Total" else "")), factor, (
            "#,##0.00" if unit == "BUSD" else "#,##0")
    if shown == "%":
        return "%", 0.01, "0.00%"
    return shown, 1.0, number_format(shown)


def _summary_charts(sheet, data_sheet, plan, top: int) -> None:
    """Cost per year (lines, MUSD or BUSD), facility MW (columns) and share of national
    electricity (lines, %), by option, for the first scenario and region; their data, in the
    charts' units, on `data_sheet` (Chart data)."""
    results = plan.results
    first = results.iloc[0]
    mine = results[(results["scenario"] == first["scenario"]) & (results["region"] == first["region"])]
    years = _years(mine)
    block = 1
    money, factor = money_unit(mine[mine["variable"] == "Cost|Total"]["value"].to_numpy())
    charts = [("Cost|Total", "Cost per year", f"{money} per year", LineChart, factor, "#,##0.0"),
              ("Power|Facility", "Facility power on national soil", "MW", BarChart, 1.0, "#,##0"),
              ("Grid|Share of consumption", "Share of national electricity", "share of national "
               "electricity", LineChart, 0.01, "0.0%")]
    from openpyxl.worksheet.pagebreak import Break
    sheet.row_breaks.append(Break(id=top - 1))                 # the charts start a printed page
    _put(sheet, top, 1, f"By option, {first['scenario']}, {first['region']} (data on the Chart data sheet)",
         bold=True).font = Font(bold=True, size=12)
    top += 1
    row = 1
    _put(data_sheet, row, block, f"Data of the Summary's charts: scenario {first['scenario']}, region {first['region']}", bold=True)
    for place, (variable, title, axis, kind, scale, fmt) in enumerate(charts):
        row += 1
        data = mine[mine["variable"] == variable].pivot_table(index="year", columns="option", values="value")
        options = [option for option in plan.options if option in data.columns]
        _header(data_sheet, row, [f"year ({axis})"] + options, start=block)
        for offset, year in enumerate(years, start=1):
            _put(data_sheet, row + offset, block, int(year), "0")
            for column, option in enumerate(options, start=1):
                _put(data_sheet, row + offset, block + column, float(data.loc[year, option]) * scale, fmt)
        chart = kind()
        if kind is BarChart:
            chart.type = "col"
        chart.title = title
        chart.y_axis.title = axis
        chart.y_axis.number_format = fmt
        chart.x_axis.title = "year"
        chart.x_axis.delete = chart.y_axis.delete = False       # show both axes in every reader
        chart.legend.position = "b"
        chart.height, chart.width = 9.0, 9.5
        chart.add_data(Reference(data_sheet, min_col=block + 1, max_col=block + len(options), min_row=row,
                                 max_row=row + len(years)), titles_from_data=True)
        chart.set_categories(Reference(data_sheet, min_col=block, min_row=row + 1, max_row=row + len(years)))
        # the three side by side under the tables (columns A, D and G start 0, 10 and 21 cm in)
        sheet.add_chart(chart, f"{'ADG'[place]}{top + 1}")
        row += len(years) + 1
    _widths(data_sheet, {block: 24, **{block + i: 20 for i in range(1, len(plan.options) + 1)}})


def _comparison(sheet, plan) -> None:
    """Every required variable, option by option, year by year; the same cell always holds
    the same quantity: one block per (scenario, region), rows in a fixed order, years by
    position in the horizon (the calendar year is in the block's header row)."""
    results = plan.results
    horizon = max(len(_years(results[results["scenario"] == s])) for s in results["scenario"].unique())
    _put(sheet, 1, 1, "Comparison: required variables by option and year", bold=True).font = TITLE_FONT
    row = 3
    for scenario, region in results[["scenario", "region"]].drop_duplicates().itertuples(index=False):
        data = results[(results["scenario"] == scenario) & (results["region"] == region)]
        years = _years(data)
        _header(sheet, row, ["scenario", "region", "variable", "option", "unit"]
                + [int(y) for y in years] + [""] * (horizon - len(years)))
        wide = data.set_index(["variable", "option", "year"])["value"].to_dict()   # one look-up a cell
        options = [option for option in plan.options if option in set(data["option"])]
        for variable in REQUIRED_VARIABLES:
            for option in options:
                row += 1
                unit, factor = COMPARISON_UNITS.get(VARIABLES[variable][2], (VARIABLES[variable][2], 1.0))
                for column, value in enumerate((scenario, region, variable, option, unit), start=1):
                    _put(sheet, row, column, value)
                for offset, year in enumerate(years):
                    _put(sheet, row, 6 + offset, float(wide.get((variable, option, year), np.nan)) * factor,
                         number_format(unit))
        row += 2
    _widths(sheet, {1: 12, 2: 8, 3: 28, 4: 20, 5: 10, **{6 + i: 20 for i in range(horizon)}})
    sheet.freeze_panes = "F4"


def _option_sheet(sheet, plan, option: str) -> None:
    """The option's results, one row per (scenario, region, variable), years across, as an
    Excel Table with filters; units in the headers."""
    data = plan.results[plan.results["option"] == option]
    years = _years(data)
    wide = data.pivot_table(index=["scenario", "region", "variable", "unit"], columns="year",
                            values="value", sort=False).reset_index()
    # an Excel table: its headings must be text
    _header(sheet, 1, ["scenario", "region", "variable", "unit"] + [str(y) for y in years])
    for row, record in enumerate(wide.itertuples(index=False), start=2):
        for column, value in enumerate(record[:4], start=1):
            _put(sheet, row, column, value)
        for offset, value in enumerate(record[4:]):
            _put(sheet, row, 5 + offset, float(value), number_format(record[3]))
    last = get_column_letter(4 + len(years))
    table = Table(displayName=re.sub(r"\W", "_", option), ref=f"A1:{last}{len(wide) + 1}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    sheet.add_table(table)
    sheet.freeze_panes = "E2"
    _widths(sheet, {1: 12, 2: 8, 3: 30, 4: 10, **{5 + i: 20 for i in range(len(years))}})


def _demand(sheet, plan) -> None:
    """Use cases, their settings and their derived token volumes per year."""
    rows = plan.rows
    tokens = plan.results[plan.results["variable"].isin(["Demand|Tokens", "Demand|Peak output rate"])
                          & (plan.results["option"] == plan.options[0])]
    columns = [("scenario", None), ("region", None), ("year", None), ("use_case", None),
               ("potential_users", "#,##0"), ("requests_per_user_per_day", "0.00"),
               ("input_tokens", "#,##0"), ("output_tokens", "#,##0"), ("frontier_share", "0.00"),
               ("peak_to_average", "0.00")]
    _header(sheet, 1, ["scenario", "region", "year", "use case", "potential users",
                       "requests per user per working day [1/day]",
                       "input tokens per request, first year [token]",
                       "output tokens per request, first year [token]",
                       "frontier share [1]", "peak-to-average [1]"])
    for row, record in enumerate(rows[[c for c, _ in columns]].itertuples(index=False), start=2):
        for column, ((_, fmt), value) in enumerate(zip(columns, record), start=1):
            _put(sheet, row, column, value, fmt)
    start = len(rows) + 4
    _put(sheet, start, 1, "Totals by year (all use cases)", bold=True)
    wide = tokens.pivot_table(index=["scenario", "region", "year"], columns="variable",
                              values="value").reset_index()
    _header(sheet, start + 1, ["scenario", "region", "year", "tokens [token/yr]", "peak output rate [token/s]"])
    for row, record in enumerate(wide.itertuples(index=False), start=start + 2):
        for column, value in enumerate(record[:3], start=1):
            _put(sheet, row, column, value)
        _put(sheet, row, 4, float(record[wide.columns.get_loc("Demand|Tokens")]), "#,##0")
        _put(sheet, row, 5, float(record[wide.columns.get_loc("Demand|Peak output rate")]), "#,##0")
    sheet.freeze_panes = "A2"
    _widths(sheet, {1: 12, 2: 8, 3: 8, 4: 22, **{c: 16 for c in range(5, 11)}})


def _sources(assumptions: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct source (publisher and title, URL, date), numbered S1, S2, ..."""
    if assumptions.empty:
        return pd.DataFrame(columns=["ref", "source", "url", "source_date", "quality"])
    rank = {"primary": 0, "secondary": 1, "estimate": 2}
    sources = (assumptions.groupby(["source", "url", "source_date"], sort=True)["quality"]
               .agg(lambda q: ", ".join(sorted(set(q), key=lambda m: rank.get(m, 3))))
               .reset_index())
    sources.insert(0, "ref", [f"S{i}" for i in range(1, len(sources) + 1)])
    return sources


def _assumptions(sheet, assumptions: pd.DataFrame, sources: pd.DataFrame) -> None:
    """Every library value the run used, with its range and a reference into Sources."""
    refs = {tuple(r[1:4]): r[0] for r in sources.itertuples(index=False)}
    labels = ["identifier", "value", "unit", "low", "high", "source", "source date", "quality",
              "ref", "used for", "notes"]
    _header(sheet, 1, labels)
    for row, record in enumerate(assumptions.itertuples(index=False), start=2):
        values = [record.id, _number_or_text(record.value), record.unit, record.low, record.high,
                  record.source,
                  record.source_date, record.quality,
                  refs.get((record.source, record.url, record.source_date), ""),
                  record.used_for, record.notes]
        for column, value in enumerate(values, start=1):
            _put(sheet, row, column, value, magnitude_format(value) if column in (2, 4, 5) else None)
    sheet.freeze_panes = "B2"
    sheet.print_area = f"A1:K{max(sheet.max_row, 1)}"   # long notes are clipped at the column, not printed on
    longest = max((len(str(i)) for i in assumptions["id"]), default=40) if len(assumptions) else 40
    _widths(sheet, {1: min(max(42, longest + 2), 72), 2: 14, 3: 12, 4: 10, 5: 10, 6: 60, 7: 12, 8: 10,
                    9: 6, 10: 50, 11: 80})


def magnitude_format(value) -> str | None:
    """Thousands separators for large values, enough decimals for small ones (a number of any
    size: populations, prices in USD/kWh, shares); None for text."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not np.isfinite(value):
        return None
    magnitude = abs(float(value))
    if magnitude >= 1000:
        return "#,##0" if float(value).is_integer() else "#,##0.0"
    if magnitude >= 1 or magnitude == 0:
        return "0.###" if not float(value).is_integer() else "0"
    return "0.000###" if magnitude >= 0.001 else "0.00E+00"


def _number_or_text(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _sources_sheet(sheet, sources: pd.DataFrame) -> None:
    _header(sheet, 1, ["ref", "source", "url or document", "date",
                       "quality (of the rows citing it)"])
    for row, record in enumerate(sources.itertuples(index=False), start=2):
        for column, value in enumerate(record, start=1):
            cell = _put(sheet, row, column, value)
            if column == 3 and isinstance(value, str) and re.match(r"https?://\S+$", value):
                cell.hyperlink = value                     # a web source opens from its cell
                cell.style = "Hyperlink"
    sheet.freeze_panes = "A2"
    sheet.print_area = f"A1:E{max(sheet.max_row, 1)}"
    _widths(sheet, {1: 6, 2: 80, 3: 80, 4: 12, 5: 30})


METHOD = [
    "Demand: users (a share of the population, the online population, the employed or an ISCO-08 "
    "occupational group) x adoption (moved by the country's AI user share) x requests per active "
    "day (working days for work, every day for the citizen assistant) x tokens per request "
    "(growing yearly); peak token rate = an active day's mean rate x peak-to-average.",
    "Throughput per GPU: a roofline model of continuous batching (dense layers, routed experts "
    "and attention each bound by memory bandwidth or compute; batch limited by KV-cache memory, "
    "engine limits and the latency target), calibrated on the published measurements below.",
    "GPUs = ceil(peak GPU-seconds per second / utilisation / replica) x (1 + redundancy), "
    "rounded to servers; the domestic fleet buys vintages that retire and are replaced.",
    "IT power = GPUs x board power x server overhead x (idle + (1 - idle) x busy share); "
    "facility power = IT power x PUE; energy from the mean load over a year of 365.25 days.",
    "Cost: API tokens x prices (cached input at its price); rental of the peak-sized fleet all "
    "year; buildout capital x capital recovery factor r(1+r)^n/((1+r)^n-1) + energy + O&M; "
    "cost per million tokens = total cost / tokens x 10^6; NPV at the scenario's discount rate.",
    "Options are portfolios of routes (api, hosted, owned, pooled): each tier's share by route; "
    "owned capacity's share goes to its bridge before it arrives; shocks (cut-off, quota, price, "
    "open-weight lag) withdraw a route's share, which the fallback chain takes over after its ramp "
    "time (a reserve on owned capacity first); limits (GPU allocation in H100-equivalents, grid "
    "connection and build rate in MW a year) bound owned and domestically rented capacity; what "
    "no route serves is Demand|Unserved.",
]

EQUATIONS = [  # stage, quantity, equation, reference
    ("demand", "potential users N", "N = base x share (base: population, online population, employed "
     "persons, or an ISCO-08 group of them), or a given count", "ILO ISCO-08; countries.csv"),
    ("demand", "adoption a(y)", "a(y) = s / (1 + exp(-k (y - y0))), or a year table interpolated; a "
     "country with AI user share u: y0' = 2025 + ln(s / A' - 1) / k, A' = min(u / u_ref x a(2025), 0.99 s)",
     "logistic diffusion; reference_ai_user_share"),
    ("demand", "requests R [1/yr]", "R = N x a(y) x requests per user per active day x active days a year", ""),
    ("demand", "tokens per request", "I(y) = I0 (1 + g)^min(y - first year, growth years); output O(y) "
     "likewise (visible output + reasoning)", "IEA, Energy and AI (2025): growth years"),
    ("demand", "tokens [token/yr]", "T_in = R I, T_out = R O; frontier tier share f, open tier 1 - f", ""),
    ("demand", "peak output rate [token/s]", "T_out / active days / 86,400 s x peak-to-average", ""),
    ("throughput", "step time t_step [s]", "L tau + max(W_dense / BWe, n_tok 2 N_dense / Fe) + max(W_exp "
     "rho(n_tok) / BWe, n_tok 2 N_exp,act / (Fe eta_moe)) + max(B KV(ctx) / BWe, attention FLOP / F_bf16,e); "
     "BWe = k BW eta_bw, Fe = k F eta_F; n_tok = B (1 + (1 - c) I / O), ctx = I + O / 2, "
     "rho(n) = 1 - (1 - e / E)^n", "Williams et al., Roofline, CACM 2009; Pope et al., MLSys 2023; "
     "Agrawal et al., Sarathi-Serve, OSDI 2024"),
    ("throughput", "batch B and throughput", "B: the largest batch whose KV cache fits k HBM u - W, within the "
     "engine's limits and the time-per-output-token target; throughput = B / t_step / k [token/s/GPU]; "
     "k: the tensor-parallel size in one scale-up domain that maximises it", "Kwon et al., PagedAttention, SOSP 2023"),
    ("fleet", "GPUs", "replicas = ceil(peak GPU load / utilisation / k); replicas = ceil(replicas (1 + redundancy)); "
     "GPUs = ceil(replicas k / GPUs per server) x GPUs per server", ""),
    ("fleet", "domestic vintages", "bought P[y] = sum_j dC[y - j life] (increments and replacements), in the "
     "generation of the year; arrival = first year + ceil(max(build lead time, grid lead time))", ""),
    ("power", "IT power [W]", "GPUs x board power x server overhead x (idle + (1 - idle) x busy share)",
     "Barroso, Hoelzle & Ranganathan, The Datacenter as a Computer, 3rd ed., 2018"),
    ("power", "facility, energy, grid", "facility = IT x PUE; energy = facility power at the mean load x "
     "365.25 d; share of electricity = energy / national consumption; of the peak = facility / national peak; "
     "CO2 = energy x grid intensity", "The Green Grid, PUE, 2007"),
    ("cost", "API [USD/yr]", "max(T_in ((1 - c) p_in + c p_cached) + T_out p_out, owner's cost of the "
     "offshore fleet x (1 + markup)); prices x (1 + trend)^(year - price year)", "api_products.csv"),
    ("cost", "rent [USD/yr]", "(B x reserved + (G - B) x G_mean / G_peak x on-demand) x 8,766 h; rent >= "
     "(1 + m) ((S (CRF(r, n_s) + o_s) + W F (CRF(r, n_f) + o_f)) / 8,766 h + W PUE p_e)", "gpus.csv rental_price"),
    ("cost", "capital recovery factor", "CRF = r (1 + r)^n / ((1 + r)^n - 1)", "NREL/TP-462-5173, 1995"),
    ("cost", "buildout [USD/yr]", "sum over servers, facility and grid of CRF x capital standing + O&M x "
     "capital standing + energy x national electricity price", "Epoch AI 1 GW GB200 cost model (O&M)"),
    ("cost", "per million tokens, NPV", "Cost|Total / Demand|Tokens x 10^6; NPV = sum_y Cost|Total (1 + r)^-(y - first year)", ""),
    ("robustness", "regret", "full cost = PV(cost) + PV(unserved tokens x value of unserved demand); regret = "
     "full cost - the lowest in the (worldview, shock) cell; choice = the least largest regret", "Savage, 1951"),
]


METHOD_WIDTHS = {1: 46, 2: 24, 3: 14, 4: 18, 5: 10, 6: 16, 7: 11, 8: 11, 9: 9, 10: 18, 11: 11, 12: 60}
"""The Method sheet's columns: the calibration table's, under which the text spans merged cells."""


def _text(sheet, row: int, first: int, last: int, text: str, bold: bool = False) -> None:
    """`text` wrapped across columns `first`..`last` of `row`, the row tall enough for it."""
    cell = _put(sheet, row, first, text, bold=bold)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    if last > first:
        sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
    width = sum(METHOD_WIDTHS[c] for c in range(first, last + 1))
    lines = -(-len(text) // max(int(width * 1.1), 1))
    current = sheet.row_dimensions[row].height or 15.0
    sheet.row_dimensions[row].height = max(current, 15.0 * max(lines, 1))


def _method(sheet, plan) -> None:
    """The method inside the workbook: the chain in brief, its equations with references, the
    versions, what in this run lies outside the calibration or beyond plausibility, and the
    calibration of the throughput model against every published measurement."""
    from ... import __version__
    from ...data.paths import assumptions_dir
    from ...model.calibrate import stored_fit
    last = len(METHOD_WIDTHS)
    _put(sheet, 1, 1, "Method: how the numbers are made", bold=True).font = TITLE_FONT
    row = 3
    for line in METHOD:
        _text(sheet, row, 1, last, line)
        row += 1
    row += 1
    _put(sheet, row, 1, "Equations", bold=True).font = Font(bold=True, size=12)
    row += 1
    _header(sheet, row, ["stage", "quantity", "equation"])
    _header(sheet, row, ["reference"], start=11)
    sheet.merge_cells(start_row=row, start_column=3, end_row=row, end_column=10)
    sheet.merge_cells(start_row=row, start_column=11, end_row=row, end_column=12)
    for stage, quantity, equation, reference in EQUATIONS:
        row += 1
        _text(sheet, row, 1, 1, stage)
        _text(sheet, row, 2, 2, quantity)
        _text(sheet, row, 3, 10, equation)
        _text(sheet, row, 11, 12, reference)
    row += 2
    import hashlib
    files = sorted(assumptions_dir().glob("*.csv"))
    digest = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in files)).hexdigest()[:12]
    for label, value in (("capacity version", __version__),
                         ("scenario", f"{plan.scenario.name} ({Path(plan.scenario.source).name})"),
                         ("assumption library version", f"sha256 {digest} of "
                                                        + ", ".join(p.name for p in files))):
        _put(sheet, row, 1, label, bold=True)
        _text(sheet, row, 2, last, value)
        row += 1
    row += 1
    outside = plan.outside_calibration
    _put(sheet, row, 1, "Outside the calibrated range", bold=True)
    _text(sheet, row, 2, last, "none: every request shape, GPU and model family of this run lies within the "
                               "published measurements the throughput model is fitted on" if outside.empty else
                               "extrapolated beyond the published measurements the throughput model is fitted "
                               "on (the calibration table below); read these figures with more caution")
    for record in outside.itertuples(index=False):
        row += 1
        _put(sheet, row, 1, record.kind).alignment = Alignment(vertical="top")
        where = (f"options {record.options}" if record.kind in ("prompt length", "output length")
                 else f"options {record.options}; use cases {record.use_cases}")
        _text(sheet, row, 2, last, f"{record.item}: {record.found}, from {record.from_year} "
                                   f"(measured: {record.calibrated}); {where}")
    row += 2
    flagged = plan.implausible
    _put(sheet, row, 1, "Plausibility", bold=True)
    _text(sheet, row, 2, last, "nothing flagged: no option's facility power or electricity exceeds the "
                               "scenario's shares of the national peak and consumption (plausibility.*; by "
                               "default the whole peak, and the largest share data centres take in any "
                               "country, Ireland's)" if flagged.empty
                               else "beyond what a national grid has carried: read these as stress tests, "
                                    "not plans")
    for record in flagged.itertuples(index=False):
        row += 1
        _put(sheet, row, 1, f"{record.option} ({record.scenario}, {record.region})")
        _text(sheet, row, 2, last, f"from {record.first_year}: {record.check} (up to {record.largest:.0f} %)")
    _calibration_table(sheet, row + 3, stored_fit(plan.scenario.catalog))
    _widths(sheet, METHOD_WIDTHS)
    sheet.print_area = f"A1:L{sheet.max_row}"   # long source names are clipped at the page, not printed on


def _calibration_table(sheet, row: int, result) -> None:
    """Every published measurement of assumptions/calibration.csv against the model with the
    shipped efficiency factors (what `capacity calibrate` shows)."""
    m = result.measurements
    _put(sheet, row, 1, "Calibration of the throughput model", bold=True).font = Font(bold=True, size=12)
    by_engine = ", ".join(f"{e} {v:.3f}" for e, v in result.rms_by_engine().items())
    _text(sheet, row + 1, 1, len(METHOD_WIDTHS),
          f"{int(m['usable'].sum())} measurements fitted (the others shown as validation); RMS log error "
          f"{result.rms_log_error:.3f} ({by_engine}). Output tokens per second per GPU, measured and modelled "
          "with the efficiency factors the library ships (capacity calibrate).")
    row += 3
    _header(sheet, row, ["measurement", "engine", "GPU", "model", "precision", "input / output tokens",
                         "measured", "modelled", "error %", "bound", "fitted", "source"])
    for record in m.itertuples(index=False):
        row += 1
        shape = (f"{record.input_tokens:,.0f} / {record.output_tokens:,.0f}"
                 if np.isfinite(record.input_tokens) and np.isfinite(record.output_tokens) else "not published")
        values = [record.id, record.engine_id, record.gpu, record.model, record.precision, shape,
                  record.measured_output_tokens_per_s_per_gpu, record.modelled_output_tokens_per_s_per_gpu,
                  record.error_pct, record.bound, "yes" if record.usable else "validation", record.source]
        for column, value in enumerate(values, start=1):
            fmt = "#,##0" if column in (7, 8) else ("+0.0;-0.0;0.0" if column == 9 else None)
            cell = _put(sheet, row, column, value, fmt)
            if column == 12 and isinstance(record.url, str) and record.url.startswith("https://"):
                cell.hyperlink, cell.style = record.url, "Hyperlink"     # one line a measurement


def robustness_sheet(sheet, result) -> None:
    """The regret matrix and its summary (`capacity.analysis.robust`): the choice on top, then
    one row per option (maximum regret, expected full cost), then every cell of the matrix."""
    sheet.title = "Robustness"
    _put(sheet, 1, 1, f"Robust choice (minimax regret): {result.choice}", bold=True).font = TITLE_FONT
    _put(sheet, 2, 1, "Full cost = present value of what an option pays + of the demand it leaves "
                      f"unserved at {result.unserved_value * 1e6:,.2f} USD per million tokens "
                      f"({result.unserved_value_source}). Regret = full cost - the lowest full "
                      "cost of any option in the same worldview and shock case.")
    row = 4
    _header(sheet, row, ["option", "max regret [MUSD]", "worst case", "expected full cost [MUSD]",
                         "expected cost [MUSD]", "expected unserved [%]", "max unserved [%]",
                         "minimax-regret choice"])
    for record in result.summary.itertuples(index=False):
        row += 1
        values = [(record.option, None), (record.max_regret / 1e6, "#,##0"), (record.worst_case, None),
                  (record.expected_full_cost / 1e6, "#,##0"), (record.expected_cost / 1e6, "#,##0"),
                  (record.expected_unserved_share * 100, "0.0"), (record.max_unserved_share * 100, "0.0"),
                  ("yes" if record.choice else "", None)]
        for column, (value, fmt) in enumerate(values, start=1):
            _put(sheet, row, column, value, fmt)
    row += 2
    _put(sheet, row, 1, "Shock cases", bold=True)
    for name, shocks in result.shock_cases.items():
        row += 1
        _put(sheet, row, 1, name)
        _put(sheet, row, 2, "; ".join(shock.title or f"{shock.kind} from {shock.start}" for shock in shocks)
             or "none")
    row += 2
    row_of_matrix = row
    _header(sheet, row, ["worldview", "shock case", "option", "weight", "cost [MUSD]",
                         "unserved [Mtok]", "unserved [%]", "unserved value [MUSD]",
                         "full cost [MUSD]", "regret [MUSD]"])
    for record in result.matrix.itertuples(index=False):
        row += 1
        values = [(record.worldview, None), (record.shock_case, None), (record.option, None),
                  (record.weight, "0.00"), (record.cost / 1e6, "#,##0"),
                  (record.unserved_tokens / 1e6, "#,##0"), (record.unserved_share * 100, "0.0"),
                  (record.unserved_cost / 1e6, "#,##0"), (record.full_cost / 1e6, "#,##0"),
                  (record.regret / 1e6, "#,##0")]
        for column, (value, fmt) in enumerate(values, start=1):
            _put(sheet, row, column, value, fmt)
    _widths(sheet, {1: 28, 2: 30, 3: 36, 4: 22, 5: 18, 6: 20, 7: 16, 8: 22, 9: 18, 10: 16})
    sheet.merge_cells("A2:J2")
    sheet["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[2].height = 45
    for header_row in (4, row_of_matrix):
        sheet.row_dimensions[header_row].height = 30
        for cell in sheet[header_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A5"
    # print: landscape, one page wide, the title rows on every page
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:2"
    sheet.oddFooter.center.text = "Robustness - page &P of &N"


def write_robustness_workbook(result, path: Path) -> None:
    """A workbook with the Robustness sheet alone (the caller makes the write atomic)."""
    book = Workbook()
    robustness_sheet(book.active, result)
    save_workbook(book, Path(path))


FAN_VARIABLES = [("Cost|Total", "cost per year", "MUSD/yr", 1e-6), ("Power|Facility", "facility power", "MW", 1.0)]
"""The fan charts of the Uncertainty sheet: variable, what it is called, the axis unit, the
factor from the variable's report unit."""


def uncertainty_sheet(sheet, plan) -> None:
    """Monte Carlo results: the probability each option is the cheapest each year, the P5-P95
    of the headline variables, and fan charts (P5-P95 band around P50) of cost and facility
    power per option for the first scenario and region, as native charts."""
    from openpyxl.chart import AreaChart
    from openpyxl.chart.shapes import GraphicalProperties
    u = plan.uncertainty
    _put(sheet, 1, 1, f"Uncertainty: {u.draws:,} draws (seed {u.seed}) over {len(u.inputs)} sourced ranges",
         bold=True).font = TITLE_FONT
    years = sorted(u.cheapest["year"].unique())
    # a long line: merged over the table's width and wrapped, so it prints on the page
    note = _put(sheet, 2, 1, "Each assumption with a low/high range is drawn from a PERT distribution around "
                             "its stated value. Held at their values (inputs of the robustness matrix or the "
                             "plausibility checks, and ranged catalogue rows the model does not read): "
                             + (", ".join(u.held) or "none") + ".")
    note.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=2 + len(years))
    sheet.row_dimensions[2].height = 15 * (1 + len(note.value) // 170)
    row = 4
    _put(sheet, row, 1, "Probability that the option is the cheapest (lowest Cost|Total) [%]", bold=True)
    row += 1
    _header(sheet, row, ["scenario", "option"] + [int(y) for y in years])
    wide = u.cheapest.pivot_table(index=["scenario", "option"], columns="year", values="probability", sort=False)
    for (scenario, option), values in wide.iterrows():
        row += 1
        _put(sheet, row, 1, scenario)
        _put(sheet, row, 2, option)
        for offset, year in enumerate(years):
            _put(sheet, row, 3 + offset, float(values[year]) * 100, "0")
    q = u.quantiles
    first = q.iloc[0]
    # the fan charts first (what people look at), their data far to the right
    chart_row = row + 3
    _put(sheet, chart_row - 1, 1, f"Fan charts: P5 to P95 (band) and P50 (line), scenario {first['scenario']}, "
                                  f"region {first['region']}", bold=True)
    block, data_row = 6 + len(years) + 3, 4
    for v, (variable, label, unit, factor) in enumerate(FAN_VARIABLES):
        for o, option in enumerate(plan.options):
            mine = q[(q["scenario"] == first["scenario"]) & (q["region"] == first["region"])
                     & (q["option"] == option) & (q["variable"] == variable)]
            levels = mine.pivot_table(index="year", columns="quantile", values="value") * factor
            _header(sheet, data_row, ["year", "P5", "P5 to P95", "P50"], start=block)
            for offset, year in enumerate(years, start=1):
                _put(sheet, data_row + offset, block, int(year))
                _put(sheet, data_row + offset, block + 1, float(levels.loc[year, "p5"]), "#,##0.0")
                _put(sheet, data_row + offset, block + 2, float(levels.loc[year, "p95"] - levels.loc[year, "p5"]), "#,##0.0")
                _put(sheet, data_row + offset, block + 3, float(levels.loc[year, "p50"]), "#,##0.0")
            area = AreaChart()
            area.grouping = "stacked"
            area.add_data(Reference(sheet, min_col=block + 1, max_col=block + 2, min_row=data_row,
                                    max_row=data_row + len(years)), titles_from_data=True)
            area.set_categories(Reference(sheet, min_col=block, min_row=data_row + 1, max_row=data_row + len(years)))
            area.series[0].graphicalProperties = GraphicalProperties(noFill=True)
            area.series[0].graphicalProperties.line.noFill = True
            area.series[1].graphicalProperties = GraphicalProperties(solidFill="9DB9DE")
            middle = LineChart()
            middle.add_data(Reference(sheet, min_col=block + 3, min_row=data_row, max_row=data_row + len(years)),
                            titles_from_data=True)
            area += middle
            area.title = f"{option}: {label}"
            area.y_axis.title = unit
            area.x_axis.title = "year"
            area.legend.position = "b"
            area.height, area.width = 7.5, 15
            sheet.add_chart(area, f"{get_column_letter(1 + 6 * v)}{chart_row + 16 * o}")
            data_row += len(years) + 2
    row = chart_row + 16 * len(plan.options) + 1
    _put(sheet, row, 1, "Quantiles of the headline variables (money in MUSD)", bold=True)
    row += 1
    _header(sheet, row, ["scenario", "option", "variable", "unit", "quantile"] + [int(y) for y in years])
    shown = q[q["variable"].isin(["Cost|Total", "Power|Facility", "Grid|Share of consumption",
                                  "Cost|Per million tokens", "Demand|Unserved|Share"])]
    table = shown.groupby(["scenario", "option", "variable", "unit", "quantile", "year"], sort=False)["value"].sum()
    table = table.unstack("year")
    for key, values in table.iterrows():
        row += 1
        money = key[3] == "USD/yr"
        for column, value in enumerate(key[:3] + ("MUSD/yr" if money else key[3], key[4]), start=1):
            _put(sheet, row, column, value)
        for offset, year in enumerate(years):
            _put(sheet, row, 6 + offset, float(values[year]) * (1e-6 if money else 1.0),
                 "#,##0" if money else number_format(key[3]))
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    _widths(sheet, {1: 14, 2: 22, 3: 26, 4: 10, 5: 10, **{6 + i: 14 for i in range(len(years))}})


def sensitivity_sheet(sheet, output: str, swings, indices=None) -> None:
    """The tornado of `capacity sensitivity` (`analysis.sensitivity.tornado`'s table): the output
    at each assumption's low and high as a native bar chart around the stated value, the
    sources beside it, and the Sobol indices when given."""
    sheet.title = "Sensitivity"
    unit = str(swings["unit"].iloc[0]) if len(swings) else ""
    base = float(swings["base"].iloc[0]) if len(swings) else 0.0
    _put(sheet, 1, 1, f"What moves {output}", bold=True).font = TITLE_FONT
    _put(sheet, 2, 1, f"{base:,.6g} {unit} at the stated values; each assumption alone at its low and its high "
                      "(the others at their values), largest swing first.")
    row = 4
    _header(sheet, row, ["assumption", f"at its low - stated [{unit}]", f"at its high - stated [{unit}]",
                         "low", "value", "high", "quality", "source"])
    first = row + 1
    for record in swings.itertuples(index=False):
        row += 1
        values = [(record.input, None), (record.output_at_low - base, "#,##0.###" if abs(base) < 1e3 else "#,##0"),
                  (record.output_at_high - base, "#,##0.###" if abs(base) < 1e3 else "#,##0"), (record.low, "General"),
                  (record.value, "General"), (record.high, "General"), (record.quality, None),
                  (record.source, None)]
        for column, (value, fmt) in enumerate(values, start=1):
            _put(sheet, row, column, value, fmt)
        sheet.cell(row=row, column=8).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[row].height = 15 * -(-len(str(record.source)) // 75)   # lines of ~75 characters
    sheet.row_dimensions[4].height = 30
    for cell in sheet[4]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    if len(swings):
        chart = BarChart()
        chart.type, chart.grouping, chart.overlap = "bar", "clustered", 100
        chart.add_data(Reference(sheet, min_col=2, max_col=3, min_row=first - 1, max_row=row), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=row))
        chart.x_axis.scaling.orientation = "maxMin"     # the largest swing on top
        chart.x_axis.tickLblPos = "low"                 # the names left of the bars, not on them
        chart.title = f"Tornado: {output}"
        chart.y_axis.title = f"change from {base:,.4g} {unit}"
        chart.legend.position = "b"
        chart.height, chart.width = 10, 22
        sheet.add_chart(chart, f"A{row + 3}")
    if indices is not None:
        row += 25
        _put(sheet, row, 1, "Sobol indices (SALib): first order S1 and total ST, with 95 % confidence", bold=True)
        row += 1
        _header(sheet, row, ["assumption", "S1", "S1 +/-", "ST", "ST +/-", "source"])
        for record in indices.itertuples(index=False):
            row += 1
            for column, (value, fmt) in enumerate([(record.input, None), (record.S1, "0.000"), (record.S1_conf, "0.000"),
                                                   (record.ST, "0.000"), (record.ST_conf, "0.000"),
                                                   (record.source, None)], start=1):
                _put(sheet, row, column, value, fmt)
    _widths(sheet, {1: 52, 2: 22, 3: 22, 4: 12, 5: 12, 6: 12, 7: 10, 8: 60})
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def write_sensitivity_workbook(output: str, swings, indices, path: Path) -> None:
    book = Workbook()
    sensitivity_sheet(book.active, output, swings, indices)
    save_workbook(book, Path(path))
