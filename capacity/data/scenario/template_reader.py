"""Reading a filled Excel input template into the same `Scenario` the YAML loader builds,
through the same validation (units, defaults from the assumption library, variants, unknown
ids). The file is read safely (defusedxml, archive limits before parsing, values only, no
formulas). Every error names the cell:
``plan.xlsx:Use cases!E4: use_cases.drafting.input_tokens: found text 'many'; expected ...``.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from ..catalog import Catalog, default_catalog
from ..errors import InputError
from ..reading import check_file, check_text_value
from .models import Scenario
from .overrides import Override, apply_overrides
from .template_layout import (
    DEFAULTS_SHEET,
    INPUT_SHEETS,
    OPTION_FIELDS,
    REGION_FIELDS,
    ROADMAP_OPTIONS,
    SCENARIO_FIELDS,
    USE_CASE_FIELDS,
    WORLDVIEWS,
    InputField,
)
from .validation import _deep_merge, check_variant_count, validate_case

MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 1000
MAX_COMPRESSION_RATIO = 100


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


_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
"""How Excel writes a character XML cannot hold (a control character: ``_x001B_``); openpyxl
leaves it as written, so it is decoded here and then checked like any text."""

MAX_CELLS = 100_000
"""Most cells read from one sheet of a template (the input sheets hold a few hundred)."""


class _Reader:
    """Reads cells of the template into a raw scenario dict, remembering where each came from."""

    def __init__(self, source: str, book):
        self.source, self.book = source, book
        self.lines: dict[tuple, str] = {}   # key path -> "Sheet!Cell", as YAML lines are kept
        self.cells: dict[str, dict[tuple[int, int], Any]] = {}
        self.defaults = self._defaults()

    def _defaults(self) -> dict[tuple[str, str], Any]:
        """The library defaults the template showed, by (sheet, cell) (its hidden Defaults
        sheet; none in an older template): a cell still holding its default reads as blank."""
        if DEFAULTS_SHEET not in self.book.sheetnames:
            return {}
        found = {}
        for row in self.book[DEFAULTS_SHEET].iter_rows(min_row=2, max_col=3, values_only=True):
            if len(row) == 3 and isinstance(row[0], str) and isinstance(row[1], str) and row[2] is not None:
                found[row[0], row[1].upper()] = row[2]
        return found

    def _is_default(self, sheet: str, row: int, column: int, value: Any) -> bool:
        default = self.defaults.get((sheet, f"{get_column_letter(column)}{row}"))
        if default is None or isinstance(value, bool) != isinstance(default, bool):
            return False
        if isinstance(value, (int, float)) and isinstance(default, (int, float)):
            return float(value) == float(default)
        return str(value).strip() == str(default).strip()

    def sheet(self, name: str) -> dict[tuple[int, int], Any]:
        """The non-empty cells of a sheet by (row, column)."""
        if name not in self.cells:
            if name not in self.book.sheetnames:
                raise InputError(f"{self.source}:{name}", None, f"no sheet {name!r}",
                                 "the sheets " + ", ".join(INPUT_SHEETS))
            cells = {}
            sheet = self.book[name]
            sheet.reset_dimensions()   # read the cells there are, not the size the file claims
            count = 0
            for row in sheet.iter_rows():
                for cell in row:
                    count += 1
                    if count > MAX_CELLS:
                        raise InputError(f"{self.source}:{name}", None, f"more than {MAX_CELLS:,} cells",
                                         "an input template (a few hundred cells a sheet)")
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
            value = _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
            value = check_text_value(value.strip(), self.where(sheet, row, column), key)
            if not value:
                return None
        if self._is_default(sheet, row, column, value):
            return None                      # unchanged: the library's value, with its source
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


def read_template(path: str | Path, catalog: Catalog | None = None,
                  overrides: list[Override] = ()) -> Scenario:
    """Read a filled template into a validated `Scenario`, refusing unsafe or bad input with one
    `InputError` naming ``file:Sheet!Cell``; `overrides` (see `read_overrides`) are applied to
    every variant, as for a YAML scenario."""
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
    check_file(path, "template", "a filled input template (.xlsx)")
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
    except InputError:
        raise
    except Exception as exc:   # openpyxl parses sheets lazily: a damaged one fails here
        raise InputError(source, None, f"a workbook that cannot be read ({type(exc).__name__}: "
                         f"{str(exc)[:200]})", "an .xlsx workbook saved by Excel or "
                         "LibreOffice") from None
    finally:
        book.close()
    return _validate(data, variants, checks, source, reader.lines, catalog or default_catalog(),
                     list(overrides))


def _validate(data: dict, variants: dict, checks: list, source: str, lines: dict,
              catalog: Catalog, overrides: list[Override]) -> Scenario:
    """Validate like `load_scenario` does a YAML file: one case per variant."""
    name = str(data.get("name") or Path(source).stem)
    data.setdefault("name", name)
    cases, used_by_case = {}, {}
    overridden = {override.path: override.where for override in overrides}
    check_variant_count(len(variants), f"{source}:Scenario")
    if not variants:
        case, used = validate_case(apply_overrides(copy.deepcopy(data), overrides), source, lines,
                                   catalog, overridden=overridden)
        cases[case.name], used_by_case[case.name] = case, used
    for variant, variant_values in variants.items():
        merged = apply_overrides(_deep_merge(data, variant_values), overrides)
        merged["name"] = str(variant)
        case, used = validate_case(merged, source, lines, catalog, ("variants", variant),
                                   overridden=overridden)
        cases[str(variant)], used_by_case[str(variant)] = case, used
    return Scenario(name=name, source=source, cases=cases, assumptions_used=used_by_case,
                    catalog=catalog, checks=checks,
                    warnings=_range_warnings(used_by_case))


def _range_warnings(used_by_case: dict) -> list[str]:
    """Every case's range warnings, each once, in order."""
    return list(dict.fromkeys(w for used in used_by_case.values() for w in getattr(used, "warnings", [])))
