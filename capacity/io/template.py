"""The Excel input template: what a ministry analyst fills in instead of writing YAML.

`write_template` writes a workbook pre-filled with a scenario; `read_template` reads a filled one
back into the same `Scenario` the YAML loader builds, through the same validation (units,
defaults from the assumption library, variants, unknown ids). Every error names the cell:
``plan.xlsx:Use cases!E4: use_cases.drafting.input_tokens: found text 'many'; expected ...``.

Layout (row 1 of every input sheet is a header; yellow cells are inputs; a blank input cell means
"take the value from the assumption library", the source is given beside it or in its comment):

- ``Scenario``: key | value | unit | notes rows (name, title, description, worldview, horizon,
  demand.scale, check), then a ``variant | worldview`` table.
- ``Region``: one row per region: code, then each statistic followed by a ``unit`` column.
- ``Use cases``: one row per use case: id, archetype, the demand fields; row 2 gives the units.
- ``Options``: key | value | unit | notes rows for the three options, the fleet and finance,
  then an ``option | from year | GPU`` roadmap table.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import annotated_types
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ..data.catalog import Catalog, default_catalog
from ..data.errors import InputError
from ..data.scenario.models import Case, Finance, Fleet, Options, Region, Scenario, UnitSpec, UseCase
from ..data.scenario.validation import _deep_merge, validate_case
from ..data.units import convert
from .export.files import FIXED_TIME, atomic_write, save_workbook

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
HEADER_FONT = Font(bold=True)
NOTE_FONT = Font(italic=True, color="666666")

INPUT_SHEETS = ("Scenario", "Region", "Use cases", "Options")
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 1000
MAX_COMPRESSION_RATIO = 100
BLANK_TABLE_ROWS = 10     # empty, styled rows left for new regions, use cases, variants, roadmap
CATALOGUE_LISTS = {"gpu": "gpus", "model": "models", "proxy_model": "models",
                   "product": "api_products"}
"""Fields whose value is an id of a catalogue table (a drop-down from the `Lists` sheet)."""
ROADMAP_OPTIONS = ("hosted-open-weight", "domestic-buildout")
WORLDVIEWS = ("realist", "maximalist")


# --- the fields, read off the pydantic models ----------------------------------------------

@dataclass(frozen=True)
class InputField:
    """One input: its key path (below its sheet's prefix), kind, unit and allowed values."""

    path: tuple[str, ...]
    kind: str                     # "number", "integer", "text" or "choice"
    unit: str = ""                # what a bare number means (display unit)
    canonical: str = ""           # the unit the validated Case keeps
    choices: tuple[str, ...] = ()  # for a Literal
    catalogue: str | None = None  # a catalogue table whose ids are allowed
    low: float | None = None
    high: float | None = None

    @property
    def key(self) -> str:
        return ".".join(self.path)


def _bounds(metadata: list) -> tuple[float | None, float | None]:
    low = high = None
    for item in metadata:
        for inner in (item.metadata if isinstance(item, FieldInfo) else [item]):
            if isinstance(inner, (annotated_types.Ge, annotated_types.Gt)):
                low = float(getattr(inner, "ge", getattr(inner, "gt", None)))
            if isinstance(inner, (annotated_types.Le, annotated_types.Lt)):
                high = float(getattr(inner, "le", getattr(inner, "lt", None)))
    return low, high


def _leaf(path: tuple[str, ...], info: FieldInfo) -> InputField:
    annotation = info.annotation
    is_union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    args = [a for a in typing.get_args(annotation) if a is not type(None)] if is_union \
        else [annotation]
    metadata = list(info.metadata) + [m for a in args for m in getattr(a, "__metadata__", ())]
    spec = next((m for m in metadata if isinstance(m, UnitSpec)), None)
    low, high = _bounds(metadata)
    literal = next((a for a in args if typing.get_origin(a) is typing.Literal), None)
    if literal is not None:
        return InputField(path, "choice", choices=tuple(typing.get_args(literal)))
    if spec is not None:
        return InputField(path, "number", spec.display, spec.canonical, low=low, high=high)
    if int in args:
        return InputField(path, "integer", low=low, high=high)
    if float in args:
        return InputField(path, "number", low=low, high=high)
    return InputField(path, "text", catalogue=CATALOGUE_LISTS.get(path[-1]))


def model_fields(model: type[BaseModel], prefix: tuple[str, ...] = (),
                 skip: tuple[str, ...] = ()) -> list[InputField]:
    """Every value a model holds, depth first (nested models flattened, mappings skipped)."""
    fields = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in skip:
            continue
        annotation = info.annotation
        nested = [a for a in (annotation, *typing.get_args(annotation))
                  if isinstance(a, type) and issubclass(a, BaseModel)]
        if nested:
            fields += model_fields(nested[0], prefix + (key,), skip)
        elif typing.get_origin(annotation) is not dict:
            fields.append(_leaf(prefix + (key,), info))
    return fields


SCENARIO_FIELDS = [f for f in model_fields(Case, skip=("schema_version", "regions", "use_cases",
                                                       "checks", "fleet", "options", "finance"))]
REGION_FIELDS = model_fields(Region)
USE_CASE_FIELDS = model_fields(UseCase)
OPTION_FIELDS = (model_fields(Options, ("options",), skip=("gpu_roadmap",))
                 + model_fields(Fleet, ("fleet",)) + model_fields(Finance, ("finance",)))


# --- writing --------------------------------------------------------------------------------

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


def _explicit(scenario: Scenario) -> tuple[dict, dict[tuple, str]]:
    """What the scenario states itself (not filled from the library), and a note per filled
    value: ``from assumptions: table:id:parameter = value (source)``."""
    explicit: dict | None = None
    notes: dict[tuple, list[str]] = {}
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
                if path in used:
                    row = used[path]
                    text = f"{row.key} = {row.text} ({row.source})"
                    if text not in notes.setdefault(path, []):
                        notes[path].append(text)
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
    return explicit or {}, {path: "from assumptions: " + "; ".join(texts)
                            for path, texts in notes.items()}


def _header(sheet, row: int, labels: list[str]) -> None:
    for column, label in enumerate(labels, start=1):
        cell = sheet.cell(row=row, column=column, value=label)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL


def _unit_label(field: InputField) -> str:
    if field.path[-1].endswith("year"):
        return "year"
    if field.kind == "integer":
        return "whole number"
    if field.kind == "number":
        return field.unit or ("fraction 0..1" if field.high == 1.0 else "number")
    return "id" if field.catalogue else ("one of the list" if field.kind == "choice" else "text")


class _Validations:
    """The data validations of one sheet: one per distinct rule, cells added as they come."""

    def __init__(self, sheet, lists: dict[str, str]):
        self.sheet, self.lists, self.rules = sheet, lists, {}

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
                validations: _Validations):
    cell = sheet.cell(row=row, column=column, value=value)
    cell.fill = INPUT_FILL
    validations.add(field, cell.coordinate)
    return cell


def _key_value_rows(sheet, row: int, prefix: tuple, fields: list[InputField], values: dict,
                    notes: dict, validations: _Validations) -> int:
    for field in fields:
        path = prefix + field.path
        sheet.cell(row=row, column=1, value=".".join(path))
        _input_cell(sheet, row, 2, values.get(path), field, validations)
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
        ("A blank yellow cell takes its value from the assumption library (assumptions/*.csv);", False),
        ("the value and its source are shown beside it (Scenario, Options) or in its comment (Region, Use cases).", False),
        ("Numbers are read in the unit shown beside them or in the units row; write plain numbers, not text or formulas.", False),
        ("Shares are fractions between 0 and 1 (0.25 = 25 %); yearly changes are fractions per year (-0.3 = -30 %/yr).", False),
        ("Drop-down lists hold the GPUs, models and API products of the assumption library.", False),
        ("", False),
        ("Sheets", True),
        ("Scenario: the name, the horizon (first and last year), demand.scale, and the variants:", False),
        ("    one row per variant (worldview realist or maximalist); each becomes a scenario in the results.", False),
        ("Region: one row per country or region (ISO code, e.g. NLD); its statistics default to assumptions/countries.csv.", False),
        ("Use cases: one row per use case; the id, or the archetype column, names an archetype of assumptions/use_cases.csv.", False),
        ("    Give users, or user_base (population|workforce) with user_share. Row 2 gives each column's unit.", False),
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


def _scenario_sheet(sheet, scenario: Scenario, values: dict, notes: dict, lists) -> None:
    validations = _Validations(sheet, lists)
    _header(sheet, 1, ["key", "value", "unit", "notes"])
    first = next(iter(scenario.cases.values()))
    has_variants = list(scenario.cases) != [scenario.name]
    values = dict(values)
    values[("name",)] = scenario.name
    values[("worldview",)] = None if has_variants else first.worldview
    row = _key_value_rows(sheet, 2, (), SCENARIO_FIELDS, values, notes, validations)
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
                 values: dict, notes: dict, lists, unit_columns: bool) -> None:
    """One row per region or use case; units in a column beside each input, or in row 2."""
    validations = _Validations(sheet, lists)
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
                               validations)
            if item and path in notes and cell.value is None:
                cell.comment = Comment(notes[path], "capacity", width=400, height=120)
            if unit_columns:
                sheet.cell(row=row, column=column + 1, value=_unit_label(field)).font = NOTE_FONT
    sheet.freeze_panes = sheet.cell(row=first, column=2)
    for column in range(1, len(labels) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = \
            8 if labels[column - 1] == "unit" else max(12, len(labels[column - 1]) + 2)


def _options_sheet(sheet, scenario: Scenario, values: dict, notes: dict, lists) -> None:
    validations = _Validations(sheet, lists)
    _header(sheet, 1, ["key", "value", "unit", "notes"])
    row = _key_value_rows(sheet, 2, (), OPTION_FIELDS, values, notes, validations) + 1
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


def write_template(path: str | Path, scenario: Scenario | None = None) -> Path:
    """Write the input template, pre-filled with `scenario` (default: the default scenario).

    Values the scenario takes from the assumption library are left blank, with their source.
    The same scenario always gives the same bytes.
    """
    if scenario is None:
        from ..data.scenario import load_scenario
        scenario = load_scenario()
    values, notes = _explicit(scenario)
    first = next(iter(scenario.cases.values()))
    book = Workbook()
    book.properties.created = book.properties.modified = FIXED_TIME
    book.properties.creator = "capacity"
    _instructions(book.active)
    book.active.title = "Instructions"
    sheets = {name: book.create_sheet(name) for name in (*INPUT_SHEETS, "Lists")}
    lists = _lists_sheet(sheets["Lists"], scenario.catalog)
    sheets["Lists"].sheet_state = "hidden"
    _scenario_sheet(sheets["Scenario"], scenario, values, notes, lists)
    _table_sheet(sheets["Region"], "code", "regions", REGION_FIELDS, list(first.regions),
                 values, notes, lists, unit_columns=True)
    _table_sheet(sheets["Use cases"], "id", "use_cases", USE_CASE_FIELDS, list(first.use_cases),
                 values, notes, lists, unit_columns=False)
    _options_sheet(sheets["Options"], scenario, values, notes, lists)
    for sheet in sheets.values():
        for cell in sheet[1]:
            cell.alignment = Alignment(vertical="top")

    return atomic_write(path, lambda temporary: save_workbook(book, temporary))


# --- reading --------------------------------------------------------------------------------

def is_template(path: str | Path) -> bool:
    """Whether `path` names an input template (an .xlsx workbook) rather than a YAML scenario."""
    return Path(path).suffix.lower() == ".xlsx"


def check_archive(path: Path, source: str) -> None:
    """Refuse a file that is not a zip, or whose entries are too many, too large or too
    compressed (a zip bomb), before any XML is parsed."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except OSError as exc:
        raise InputError(source, None, f"a file that cannot be read ({exc.strerror or exc})",
                         "a readable .xlsx workbook") from None
    except zipfile.BadZipFile:
        raise InputError(source, None, "a file that is not an .xlsx workbook (not a zip archive)",
                         "a workbook saved by Excel or LibreOffice as .xlsx") from None
    if len(entries) > MAX_ENTRIES:
        raise InputError(source, None, f"an archive of {len(entries)} entries",
                         f"at most {MAX_ENTRIES} entries in an .xlsx workbook")
    total = sum(entry.file_size for entry in entries)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise InputError(source, None, f"{total} bytes once uncompressed",
                         f"at most {MAX_UNCOMPRESSED_BYTES} bytes")
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if ratio > MAX_COMPRESSION_RATIO:
            raise InputError(source, None, f"entry {entry.filename!r} compressed {ratio:.0f} to 1",
                             f"a compression ratio of at most {MAX_COMPRESSION_RATIO}")


class _Reader:
    """Reads cells of the template into a raw scenario dict, remembering where each came from."""

    def __init__(self, source: str, book):
        self.source, self.book = source, book
        self.lines: dict[tuple, str] = {}   # key path -> "Sheet!Cell", as YAML lines are kept
        self.cells: dict[str, dict[tuple[int, int], Any]] = {}

    def sheet(self, name: str) -> dict[tuple[int, int], Any]:
        """The non-empty cells of a sheet by (row, column)."""
        if name not in self.cells:
            if name not in self.book.sheetnames:
                raise InputError(f"{self.source}:{name}", None, f"no sheet {name!r}",
                                 "the sheets " + ", ".join(INPUT_SHEETS))
            cells = {}
            for row in self.book[name].iter_rows():
                for cell in row:
                    if getattr(cell, "value", None) is not None and cell.value != "":
                        cells[cell.row, cell.column] = cell
            self.cells[name] = cells
        return self.cells[name]

    def where(self, sheet: str, row: int, column: int) -> str:
        return f"{self.source}:{sheet}!{get_column_letter(column)}{row}"

    def value(self, sheet: str, row: int, column: int, field: InputField, key: str,
              path: tuple | None = None) -> Any:
        """The value of an input cell, checked against its field's kind; None when blank."""
        if path is not None:
            self.lines[path] = f"{sheet}!{get_column_letter(column)}{row}"
        cell = self.sheet(sheet).get((row, column))
        if cell is None:
            return None
        value = cell.value
        if cell.data_type == "f" or (isinstance(value, str) and value.startswith("=")):
            raise InputError(self.where(sheet, row, column), key, f"a formula {str(value)!r}",
                             "a typed value (formulas are not read; paste the value instead)")
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
        if field.kind in ("number", "integer"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                unit = f" in {field.unit}" if field.kind == "number" and field.unit else ""
                raise InputError(self.where(sheet, row, column), key,
                                 f"text {value!r} in a number cell",
                                 f"a number{unit}" + (" (a whole number)" if field.kind ==
                                                      "integer" else ""))
            if field.kind == "integer" and float(value).is_integer():
                return int(value)
            return value
        if isinstance(value, (dt.datetime, dt.date, dt.time)):
            raise InputError(self.where(sheet, row, column), key, f"a date {value}", "text")
        return value if isinstance(value, str) else (
            str(int(value)) if isinstance(value, float) and value.is_integer() else str(value))

    def header(self, sheet: str, row: int) -> dict[int, str]:
        cells = self.sheet(sheet)
        return {column: str(cells[row, column].value).strip()
                for (r, column) in sorted(cells) if r == row}

    def last_row(self, sheet: str) -> int:
        return max((row for row, _ in self.sheet(sheet)), default=0)


def _put(data: dict, path: tuple, value: Any) -> None:
    if value is None:
        return
    for key in path[:-1]:
        data = data.setdefault(key, {})
    data[path[-1]] = value


def _find_row(reader: _Reader, sheet: str, label: str) -> int | None:
    return next((row for (row, column), cell in sorted(reader.sheet(sheet).items())
                 if column == 1 and str(cell.value).strip() == label), None)


def _read_key_values(reader: _Reader, sheet: str, fields: list[InputField], data: dict,
                     first: int, last: int) -> list[int]:
    """Rows `first..last` of a key | value sheet; returns the rows holding extra keys
    ('check'), which the caller reads."""
    by_key = {field.key: field for field in fields}
    extra = []
    for row in range(first, last + 1):
        label_cell = reader.sheet(sheet).get((row, 1))
        if label_cell is None:
            continue
        label = str(label_cell.value).strip()
        if label == "check":
            extra.append(row)
            continue
        if label not in by_key:
            raise InputError(reader.where(sheet, row, 1), None, f"an unknown key {label!r}",
                             "one of " + ", ".join(sorted(by_key)))
        field = by_key[label]
        _put(data, field.path, reader.value(sheet, row, 2, field, label, field.path))
    return extra


def _read_scenario(reader: _Reader, data: dict) -> tuple[dict, list[tuple[str, str]]]:
    sheet = "Scenario"
    reader.sheet(sheet)
    variants_row = _find_row(reader, sheet, "variant") or reader.last_row(sheet) + 1
    check_rows = _read_key_values(reader, sheet, SCENARIO_FIELDS, data, 2, variants_row - 1)
    checks = []
    for row in check_rows:
        text = reader.value(sheet, row, 2, InputField(("check",), "text"), "checks")
        if text is not None:
            reader.lines[("checks", len(checks))] = f"{sheet}!B{row}"
            checks.append((text, reader.where(sheet, row, 2)))
    variants: dict = {}
    name_field = InputField(("variant",), "text")
    worldview = InputField(("worldview",), "choice", choices=WORLDVIEWS)
    for row in range(variants_row + 1, reader.last_row(sheet) + 1):
        name = reader.value(sheet, row, 1, name_field, "variants")
        view = reader.value(sheet, row, 2, worldview, "variants.worldview")
        if name is None:
            if view is not None:
                raise InputError(reader.where(sheet, row, 1), "variants", "an empty variant name "
                                 f"beside worldview {view!r}", "a name for the variant")
            continue
        if name in variants:
            raise InputError(reader.where(sheet, row, 1), "variants", f"{name!r} a second time",
                             "each variant once")
        reader.lines[("variants", name)] = f"{sheet}!A{row}"
        reader.lines[("variants", name, "worldview")] = f"{sheet}!B{row}"
        variants[name] = {} if view is None else {"worldview": view}
    if checks:
        data["checks"] = [text for text, _ in checks]
    return variants, checks


def _read_table(reader: _Reader, sheet: str, id_label: str, prefix: str,
                fields: list[InputField], first: int, data: dict) -> None:
    """One row per region or use case; the columns are found by their header."""
    by_key = {field.key: field for field in fields}
    header = reader.header(sheet, 1)
    if header.get(1) != id_label:
        raise InputError(reader.where(sheet, 1, 1), None, repr(header.get(1)),
                         f"the header {id_label!r} in the first column")
    columns = {}
    for column, label in header.items():
        if column == 1 or label == "unit":
            continue
        if label not in by_key:
            raise InputError(reader.where(sheet, 1, column), None, f"an unknown column {label!r}",
                             "one of " + ", ".join(by_key))
        columns[column] = by_key[label]
    items = data.setdefault(prefix, {})
    id_field = InputField((id_label,), "text")
    for row in range(first, reader.last_row(sheet) + 1):
        item = reader.value(sheet, row, 1, id_field, prefix)
        if item is None:
            filled = [c for c in columns if (row, c) in reader.sheet(sheet)]
            if filled:
                raise InputError(reader.where(sheet, row, 1), prefix, "an empty " + id_label,
                                 f"the {id_label} of the row that has values")
            continue
        if item in items:
            raise InputError(reader.where(sheet, row, 1), f"{prefix}.{item}", "a second row",
                             f"each {id_label} once")
        reader.lines[(prefix, item)] = f"{sheet}!A{row}"
        items[item] = {}
        for column, field in columns.items():
            path = (prefix, item) + field.path
            _put(items[item], field.path,
                 reader.value(sheet, row, column, field, ".".join(path), path))


def _read_options(reader: _Reader, data: dict) -> None:
    sheet = "Options"
    reader.sheet(sheet)
    roadmap_row = _find_row(reader, sheet, "GPU roadmap: option") or reader.last_row(sheet) + 1
    _read_key_values(reader, sheet, OPTION_FIELDS, data, 2, roadmap_row - 1)
    option_field = InputField(("option",), "choice", choices=ROADMAP_OPTIONS)
    year_field = InputField(("year",), "integer")
    gpu_field = InputField(("gpu",), "text", catalogue="gpus")
    for row in range(roadmap_row + 1, reader.last_row(sheet) + 1):
        option = reader.value(sheet, row, 1, option_field, "gpu_roadmap")
        year = reader.value(sheet, row, 2, year_field, "gpu_roadmap.year")
        gpu = reader.value(sheet, row, 3, gpu_field, "gpu_roadmap.gpu")
        if option is None and year is None and gpu is None:
            continue
        for column, (value, what) in enumerate(((option, "one of " + ", ".join(ROADMAP_OPTIONS)),
                                                (year, "a year"), (gpu, "a GPU id")), start=1):
            if value is None:
                raise InputError(reader.where(sheet, row, column), "gpu_roadmap", "an empty cell",
                                 what)
        if option not in ROADMAP_OPTIONS:
            raise InputError(reader.where(sheet, row, 1), "gpu_roadmap", repr(option),
                             "one of " + ", ".join(ROADMAP_OPTIONS))
        path = ("options", option, "gpu_roadmap", year)
        reader.lines.setdefault(path[:3], f"{sheet}!A{row}")
        reader.lines[path] = f"{sheet}!C{row}"
        _put(data, path, gpu)


def read_template(path: str | Path, catalog: Catalog | None = None) -> Scenario:
    """Read a filled template into a validated `Scenario`, refusing unsafe or bad input with one
    `InputError` naming ``file:Sheet!Cell``."""
    path = Path(path)
    source = str(path)
    try:
        import defusedxml  # noqa: F401  (openpyxl parses with it when it is installed)
        import openpyxl
        import openpyxl.xml
    except ImportError:
        raise InputError(source, None, "no defusedxml installed",
                         "defusedxml, to read workbooks safely (pip install defusedxml)") from None
    if not openpyxl.xml.DEFUSEDXML:
        raise InputError(source, None, "openpyxl not using defusedxml (OPENPYXL_DEFUSEDXML is "
                         "not 'True')", "safe XML parsing, to read workbooks")
    if not path.is_file():
        raise InputError(source, None, "no such file", "a filled input template (.xlsx)")
    check_archive(path, source)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:   # openpyxl raises many kinds on a damaged file
        raise InputError(source, None, f"a workbook that cannot be opened ({exc})",
                         "an .xlsx workbook saved by Excel or LibreOffice") from None
    try:
        reader = _Reader(source, book)
        for name in INPUT_SHEETS:
            reader.sheet(name)
        data: dict = {}
        variants, checks = _read_scenario(reader, data)
        _read_table(reader, "Region", "code", "regions", REGION_FIELDS, 2, data)
        _read_table(reader, "Use cases", "id", "use_cases", USE_CASE_FIELDS, 3, data)
        _read_options(reader, data)
    finally:
        book.close()
    return _validate(data, variants, checks, source, reader.lines, catalog or default_catalog())


def _validate(data: dict, variants: dict, checks: list, source: str, lines: dict,
              catalog: Catalog) -> Scenario:
    """Validate like `load_scenario` does a YAML file: one case per variant."""
    name = str(data.get("name") or Path(source).stem)
    data.setdefault("name", name)
    cases, used_by_case = {}, {}
    if not variants:
        case, used = validate_case(data, source, lines, catalog)
        cases[case.name], used_by_case[case.name] = case, used
    for variant, overrides in variants.items():
        merged = _deep_merge(data, overrides)
        merged["name"] = str(variant)
        case, used = validate_case(merged, source, lines, catalog, ("variants", variant))
        cases[str(variant)], used_by_case[str(variant)] = case, used
    return Scenario(name=name, source=source, cases=cases, assumptions_used=used_by_case,
                    catalog=catalog, checks=checks)
