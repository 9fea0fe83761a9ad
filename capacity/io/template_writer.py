"""Writing the Excel input template: what a ministry analyst fills in instead of writing YAML.

`write_template` writes a workbook pre-filled with a scenario; its layout is
`capacity.data.scenario.template_layout`, and `capacity.data.scenario.template_reader` reads a
filled one back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..data.catalog import Catalog
from ..data.errors import InputError
from ..data.scenario.models import Scenario
from ..data.scenario.ranges import TABLE as RANGE_TABLE
from ..data.scenario.template_layout import (
    BOOLEAN_KEYS,
    CATALOGUE_LISTS,
    DEFAULTS_SHEET,
    INPUT_SHEETS,
    OPTION_FIELDS,
    REGION_FIELDS,
    ROADMAP_OPTIONS,
    SCENARIO_FIELDS,
    USE_CASE_FIELDS,
    WORLDVIEWS,
    InputField,
    is_template,
)
from ..data.units import convert
from .export.files import FIXED_TIME, atomic_write, save_workbook

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
HEADER_FONT = Font(bold=True)
NOTE_FONT = Font(italic=True, color="666666")
DEFAULT_FONT = Font(italic=True, color="7F7F7F")
DEFAULT_FILL = PatternFill("solid", fgColor="F2F2F2", bgColor="F2F2F2")
"""How a cell looks while it holds the library's default (grey italic on grey)."""
BLANK_TABLE_ROWS = 10     # empty, styled rows left for new regions, use cases, variants, roadmap


def _display(value: Any, field: InputField) -> Any:
    """A Case value as the analyst writes it: numbers in the display unit, 15 digits."""
    if value is None or field.kind != "number":
        return value
    shown = convert(float(value), field.canonical, field.unit) if field.canonical != field.unit \
        else float(value)
    shown = float(f"{shown:.15g}")
    return int(shown) if shown.is_integer() and abs(shown) < 1e15 else shown


def _lookup(data: dict, path: tuple) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _explicit(scenario: Scenario) -> tuple[dict, dict[tuple, str], dict[tuple, Any]]:
    """What the scenario states itself (not filled from the library), a note per filled
    value (``default from the library: table:id:parameter = value (source)``), and the filled
    values as the template shows them (only those every variant shares)."""
    explicit: dict | None = None
    notes: dict[tuple, list[str]] = {}
    library: dict[tuple, list] = {}
    for name, case in scenario.cases.items():
        used = scenario.assumptions_used.get(name, {})
        dumped = case.model_dump(by_alias=True)
        values: dict[tuple, Any] = {}
        groups = [((), SCENARIO_FIELDS), ((), OPTION_FIELDS)]
        groups += [(("regions", code), REGION_FIELDS) for code in case.regions]
        groups += [(("use_cases", uc), USE_CASE_FIELDS) for uc in case.use_cases]
        for prefix, fields in groups:
            for field in fields:
                path = prefix + field.path
                if path in used and used[path].table != RANGE_TABLE:   # a range: its value is written
                    row = used[path]
                    text = f"{row.key} = {row.text} ({row.source})"
                    if text not in notes.setdefault(path, []):
                        notes[path].append(text)
                    shown = _lookup(dumped, path)
                    if shown is not None and not isinstance(shown, dict):
                        library.setdefault(path, []).append(_display(shown, field))
                    continue
                if "adoption" in path and prefix + ("adoption", "midpoint_year") in used:
                    continue   # the adoption curve comes from the library as a whole
                if path in (("name",), ("worldview",)):
                    continue
                value = _lookup(dumped, path)
                if isinstance(value, dict):
                    raise ValueError(f"{'.'.join(path)}: a year table cannot be written to the "
                                     "template; use the logistic adoption curve")
                if value is not None:
                    values[path] = _display(value, field)
        for option in ROADMAP_OPTIONS:
            for year, gpu in _lookup(dumped, ("options", option, "gpu_roadmap")).items():
                values[("options", option, "gpu_roadmap", int(year))] = gpu
        if explicit is None:
            explicit = values
        elif values != explicit:
            differing = sorted(".".join(map(str, k)) for k in set(values) ^ set(explicit)
                               | {k for k in values if explicit.get(k) != values[k]})
            raise ValueError("the template holds variants that differ only in their worldview; "
                             f"these values differ between variants: {', '.join(differing[:5])}")
    defaults = {path: shown[0] for path, shown in library.items()
                if len(shown) == len(scenario.cases) and all(v == shown[0] for v in shown)}
    return explicit or {}, {path: "default from the library: " + "; ".join(texts)
                            for path, texts in notes.items()}, defaults


def _header(sheet, row: int, labels: list[str]) -> None:
    for column, label in enumerate(labels, start=1):
        cell = sheet.cell(row=row, column=column, value=label)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL


PLAIN_UNITS = {
    "1/day": "per day", "1/yr": "a year, as a share (0.05 = 5 %/yr)", "yr": "years", "token": "tokens",
    "ms": "milliseconds", "day/yr": "days a year", "USD/GPU/h": "USD per GPU-hour",
    "USD/Mtok": "USD per million tokens", "MUSD/MW": "million USD per MW", "g/kWh": "g CO2 per kWh",
    "TWh/yr": "TWh a year", "USD/GPU": "USD per GPU", "USD/kWh": "USD per kWh", "GW": "GW",
}
"""Units in the words an analyst reads (the value is still read in the field's unit)."""
PLAIN_NUMBERS = {"population": "people", "workforce": "people", "users": "people",
                 "pue": "ratio, 1 or more", "peak_to_average": "ratio, 1 or more",
                 "turns_per_session": "calls per request", "session_length_dispersion": "ratio, 1 or more",
                 "scale": "multiplier (1 = as stated)", "max_batch_size": "sequences",
                 "server_overhead": "ratio, 1 or more", "markup": "share (0.2 = 20 %)",
                 "redundancy": "share (0.1 = 10 % spare)", "peak_share": "share of the peak (1 = all of it)"}


def _unit_label(field: InputField) -> str:
    """The unit of an input cell in plain words: ``people``, ``USD per kWh``, ``share, 0–1``."""
    if field.kind in ("number", "integer") and field.unit in PLAIN_UNITS:
        return PLAIN_UNITS[field.unit]
    if field.path[-1].endswith("year") and not field.unit:
        return "year"
    if field.kind == "integer":
        return "whole number"
    if field.kind == "number":
        if field.unit:
            return field.unit
        if field.path[-1] in PLAIN_NUMBERS:
            return PLAIN_NUMBERS[field.path[-1]]
        return "share, 0–1" if field.high == 1.0 else "number"
    if field.catalogue:
        return "id from the list"
    return "one of the list" if field.kind == "choice" else (
        "TRUE or FALSE" if field.path[-1] in ("enabled", "access_agreement", "country_adoption") else "text")


class _Validations:
    """The data validations of one sheet: one per distinct rule, cells added as they come."""

    def __init__(self, sheet, lists: dict[str, str], defaults: list | None = None):
        self.sheet, self.lists, self.rules = sheet, lists, {}
        self.defaults = defaults if defaults is not None else []

    def add(self, field: InputField, coordinate: str) -> None:
        rule = self._rule(field)
        if rule is None:
            return
        if rule not in self.rules:
            kind, operator, formula1, formula2 = rule
            validation = DataValidation(type=kind, operator=operator, formula1=formula1,
                                        formula2=formula2, allow_blank=True, showErrorMessage=True,
                                        errorTitle="Not allowed", error=self._message(field))
            self.sheet.add_data_validation(validation)
            self.rules[rule] = validation
        self.rules[rule].add(coordinate)

    def _rule(self, field: InputField) -> tuple | None:
        if field.catalogue:
            return ("list", None, self.lists[field.catalogue], None)
        if field.path[-1] in BOOLEAN_KEYS:
            return ("list", None, '"TRUE,FALSE"', None)
        if field.kind == "choice":
            return ("list", None, '"' + ",".join(field.choices) + '"', None)
        if field.kind not in ("number", "integer"):
            return None
        kind = "whole" if field.kind == "integer" else "decimal"
        scale = convert(1.0, field.unit, field.canonical) if field.kind == "number" \
            and field.unit != field.canonical else 1.0
        low = None if field.low is None else f"{field.low / scale:.15g}"
        high = None if field.high is None else f"{field.high / scale:.15g}"
        if low is not None and high is not None:
            return (kind, "between", low, high)
        if low is not None:
            return (kind, "greaterThanOrEqual", low, None)
        if high is not None:
            return (kind, "lessThanOrEqual", high, None)
        return (kind, "between", "-1E+307", "1E+307")

    @staticmethod
    def _message(field: InputField) -> str:
        if field.catalogue or field.kind == "choice":
            return "Choose a value from the list."
        return f"Enter a number in {_unit_label(field)} within the allowed range."


def _input_cell(sheet, row: int, column: int, value: Any, field: InputField,
                validations: _Validations, default: Any = None):
    """An input cell; with `default` (the library's value, shown when the scenario gives none)
    the cell holds it, styled as a default while it is unchanged (a conditional format), and
    `validations.defaults` records it for the reader (an unchanged default reads as blank)."""
    if value is None and default is not None:
        value = ("TRUE" if default else "FALSE") if isinstance(default, bool) else default
        validations.defaults.append((sheet.title, f"{get_column_letter(column)}{row}", value))
        literal = f'"{value.replace(chr(34), chr(34) * 2)}"' if isinstance(value, str) else f"{value!r}"
        coordinate = f"{get_column_letter(column)}{row}"
        sheet.conditional_formatting.add(coordinate, FormulaRule(
            formula=[f"{coordinate}={literal}"], font=DEFAULT_FONT, fill=DEFAULT_FILL))
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 10_000 \
            and float(value).is_integer():
        cell.number_format = "#,##0"                           # 18,228,740
    cell.fill = INPUT_FILL
    validations.add(field, cell.coordinate)
    return cell


def _key_value_rows(sheet, row: int, prefix: tuple, fields: list[InputField], values: dict,
                    notes: dict, validations: _Validations, defaults: dict) -> int:
    for field in fields:
        path = prefix + field.path
        sheet.cell(row=row, column=1, value=".".join(path))
        _input_cell(sheet, row, 2, values.get(path), field, validations, defaults.get(path))
        sheet.cell(row=row, column=3, value=_unit_label(field)).font = NOTE_FONT
        if path in notes and values.get(path) is None:
            sheet.cell(row=row, column=4, value=notes[path]).font = NOTE_FONT
        row += 1
    return row


def _instructions(sheet) -> None:
    lines = [
        ("AI capacity scenario: input template", True),
        ("Fill in the yellow cells, save, and run:  capacity run this-file.xlsx", False),
        ("", False),
        ("Every yellow cell shows the value the run will use. Grey italic values are the assumption library's defaults", False),
        ("(assumptions/*.csv; the source is beside the cell on Scenario and Options, in its comment on Region and Use cases):", False),
        ("type over one to change it (it turns black); clear it to go back to the library's value.", False),
        ("Numbers are read in the unit shown beside them or in the units row; write plain numbers, not text or formulas.", False),
        ("Shares are fractions between 0 and 1 (0.25 = 25 %); yearly changes are fractions per year (-0.3 = -30 %/yr).", False),
        ("Drop-down lists hold the GPUs, models and API products of the assumption library.", False),
        ("", False),
        ("Sheets", True),
        ("Scenario: the name, the horizon (first and last year), demand.scale, and the variants:", False),
        ("    one row per variant (worldview realist or maximalist); each becomes a scenario in the results.", False),
        ("Region: one row per country or region (ISO code, e.g. NLD); its statistics default to assumptions/countries.csv.", False),
        ("Use cases: one row per use case; the id, or the archetype column, names an archetype of assumptions/use_cases.csv.", False),
        ("    Give users, or user_base (population, online-population, workforce, desk-workers, professionals, clerical-workers or ict-professionals) with user_share; enabled: FALSE leaves a use case out. Row 2 gives each column's unit.", False),
        ("Options: the three ways to supply the demand (frontier-api, hosted-open-weight, domestic-buildout),", False),
        ("    the fleet and finance settings, and the GPU roadmap (the GPU rented or bought from a year on).", False),
        ("Lists: the allowed ids (used by the drop-downs); not read.", False),
        ("", False),
        ("Errors name the sheet and the cell, e.g.  plan.xlsx:Use cases!E4: ... found ...; expected ...", False),
        ("docs/scenario.md lists every key with its unit and default.", False),
    ]
    for row, (text, bold) in enumerate(lines, start=1):
        sheet.cell(row=row, column=1, value=text).font = Font(bold=bold, size=13 if row == 1 else 11)
    sheet.column_dimensions["A"].width = 120


def _lists_sheet(sheet, catalog: Catalog) -> dict[str, str]:
    """The catalogue ids, one column per table; returns table -> range formula."""
    formulas = {}
    for column, table in enumerate(sorted(set(CATALOGUE_LISTS.values())), start=1):
        ids = catalog.ids(table)
        sheet.cell(row=1, column=column, value=table).font = HEADER_FONT
        for row, value in enumerate(ids, start=2):
            sheet.cell(row=row, column=column, value=value)
        letter = get_column_letter(column)
        formulas[table] = f"Lists!${letter}$2:${letter}${len(ids) + 1}"
    return formulas


def _scenario_sheet(sheet, scenario: Scenario, values: dict, notes: dict, lists, defaults: dict,
                    shown: list) -> None:
    validations = _Validations(sheet, lists, shown)
    _header(sheet, 1, ["key", "value", "unit", "notes"])
    first = next(iter(scenario.cases.values()))
    has_variants = list(scenario.cases) != [scenario.name]
    values = dict(values)
    values[("name",)] = scenario.name
    values[("worldview",)] = None if has_variants else first.worldview
    row = _key_value_rows(sheet, 2, (), SCENARIO_FIELDS, values, notes, validations, defaults)
    check = InputField(("check",), "text")
    for text, _ in scenario.checks or [("", "")]:
        sheet.cell(row=row, column=1, value="check")
        _input_cell(sheet, row, 2, text or None, check, validations)
        sheet.cell(row=row, column=3, value="VARIABLE[OPTION, YEAR] OP NUMBER [UNIT]").font = NOTE_FONT
        row += 1
    row += 1
    _header(sheet, row, ["variant", "worldview", "", "one row per variant; none: the scenario "
                         "runs once, with its own worldview"])
    variants = [(name, case.worldview) for name, case in scenario.cases.items()] if has_variants else []
    worldview = InputField(("worldview",), "choice", choices=WORLDVIEWS)
    name = InputField(("variant",), "text")
    for offset in range(len(variants) + BLANK_TABLE_ROWS):
        variant, view = variants[offset] if offset < len(variants) else (None, None)
        _input_cell(sheet, row + 1 + offset, 1, variant, name, validations)
        _input_cell(sheet, row + 1 + offset, 2, view, worldview, validations)
    for letter, width in zip("ABCD", (26, 40, 38, 100)):
        sheet.column_dimensions[letter].width = width


def _table_sheet(sheet, id_label: str, prefix: str, fields: list[InputField], ids: list[str],
                 values: dict, notes: dict, lists, unit_columns: bool, defaults: dict, shown: list) -> None:
    """One row per region or use case; units in a column beside each input, or in row 2."""
    validations = _Validations(sheet, lists, shown)
    columns: list[tuple[int, InputField]] = []
    labels = [id_label]
    for field in fields:
        labels.append(field.key)
        columns.append((len(labels), field))
        if unit_columns:
            labels.append("unit")
    _header(sheet, 1, labels)
    first = 2
    if not unit_columns:
        _header(sheet, 2, ["unit"] + [""] * (len(labels) - 1))
        for column, field in columns:
            sheet.cell(row=2, column=column, value=_unit_label(field)).font = NOTE_FONT
        first = 3
    id_field = InputField((id_label,), "text")
    for offset in range(len(ids) + BLANK_TABLE_ROWS):
        row = first + offset
        item = ids[offset] if offset < len(ids) else None
        _input_cell(sheet, row, 1, item, id_field, validations)
        for column, field in columns:
            path = (prefix, item) + field.path
            cell = _input_cell(sheet, row, column, values.get(path) if item else None, field,
                               validations, defaults.get(path) if item else None)
            if item and path in notes and values.get(path) is None:
                cell.comment = Comment(notes[path], "capacity", width=400, height=120)
            if unit_columns:
                sheet.cell(row=row, column=column + 1, value=_unit_label(field)).font = NOTE_FONT
    sheet.freeze_panes = sheet.cell(row=first, column=2)
    for column in range(1, len(labels) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = \
            8 if labels[column - 1] == "unit" else max(12, len(labels[column - 1]) + 2)


def _options_sheet(sheet, scenario: Scenario, values: dict, notes: dict, lists, defaults: dict,
                   shown: list) -> None:
    validations = _Validations(sheet, lists, shown)
    _header(sheet, 1, ["key", "value", "unit", "notes"])
    row = _key_value_rows(sheet, 2, (), OPTION_FIELDS, values, notes, validations, defaults) + 1
    _header(sheet, row, ["GPU roadmap: option", "from year", "GPU", "the GPU rented or bought "
                         "from that year on (for growth and replacement)"])
    roadmap = sorted((path[1], path[3], gpu) for path, gpu in values.items()
                     if len(path) == 4 and path[2] == "gpu_roadmap")
    option = InputField(("option",), "choice", choices=ROADMAP_OPTIONS)
    year = InputField(("year",), "integer", low=2000, high=2100)
    gpu = InputField(("gpu",), "text", catalogue="gpus")
    for offset in range(len(roadmap) + BLANK_TABLE_ROWS):
        entry = roadmap[offset] if offset < len(roadmap) else (None, None, None)
        for column, (field, value) in enumerate(zip((option, year, gpu), entry), start=1):
            _input_cell(sheet, row + 1 + offset, column, value, field, validations)
    for letter, width in zip("ABCD", (58, 22, 14, 100)):
        sheet.column_dimensions[letter].width = width


def _defaults_sheet(sheet, shown: list) -> None:
    """The defaults the template shows, by cell (hidden): the reader takes a cell that still
    holds its default as blank, so the library's value (with its source and range) applies."""
    sheet.sheet_state = "hidden"
    _header(sheet, 1, ["sheet", "cell", "default"])
    for row, (title, coordinate, value) in enumerate(shown, start=2):
        sheet.cell(row=row, column=1, value=title).data_type = "s"
        sheet.cell(row=row, column=2, value=coordinate).data_type = "s"
        cell = sheet.cell(row=row, column=3, value=value)
        if isinstance(value, str):
            cell.data_type = "s"


def write_template(path: str | Path, scenario: Scenario | None = None) -> Path:
    """Write the input template, pre-filled with `scenario` (default: the default scenario).

    Values the scenario takes from the assumption library are left blank, with their source.
    The same scenario always gives the same bytes.
    """
    if scenario is None:
        from ..data.scenario import load_scenario
        scenario = load_scenario()
    values, notes, defaults = _explicit(scenario)
    shown: list[tuple[str, str, Any]] = []          # (sheet, cell, value) of every default shown
    first = next(iter(scenario.cases.values()))
    book = Workbook()
    book.properties.created = book.properties.modified = FIXED_TIME
    book.properties.creator = "capacity"
    _instructions(book.active)
    book.active.title = "Instructions"
    sheets = {name: book.create_sheet(name) for name in (*INPUT_SHEETS, "Lists")}
    lists = _lists_sheet(sheets["Lists"], scenario.catalog)
    sheets["Lists"].sheet_state = "hidden"
    _scenario_sheet(sheets["Scenario"], scenario, values, notes, lists, defaults, shown)
    _table_sheet(sheets["Region"], "code", "regions", REGION_FIELDS, list(first.regions),
                 values, notes, lists, True, defaults, shown)
    _table_sheet(sheets["Use cases"], "id", "use_cases", USE_CASE_FIELDS, list(first.use_cases),
                 values, notes, lists, False, defaults, shown)
    _options_sheet(sheets["Options"], scenario, values, notes, lists, defaults, shown)
    _defaults_sheet(book.create_sheet(DEFAULTS_SHEET), shown)
    for sheet in sheets.values():
        for cell in sheet[1]:
            cell.alignment = Alignment(vertical="top")

    return atomic_write(path, lambda temporary: save_workbook(book, temporary))


def write_scenario_file(path: str | Path, source: str | Path | None = None) -> Path:
    """Copy a scenario's YAML file (a preset by name, or None for the default scenario) to
    `path`, comments and all, after checking that it loads; the copy runs unchanged. A
    scenario's own assumption files are not copied: refused, with the files named."""
    from ..data.scenario import load_scenario, resolve_source
    from ..data.scenario.loading import read_yaml
    if source is not None and is_template(source):
        raise InputError(str(source), None, "an Excel template",
                         "a YAML scenario or a preset name to copy to a .yaml file")
    origin = resolve_source(source)
    load_scenario(origin)
    files = read_yaml(origin)[0].get("assumptions")
    if files:
        raise InputError(str(origin), "assumptions", f"assumption files of its own ({files})",
                         "a scenario without them, to copy alone; copy the scenario together "
                         "with its files instead")
    text = origin.read_bytes()
    return atomic_write(path, lambda temporary: temporary.write_bytes(text))
