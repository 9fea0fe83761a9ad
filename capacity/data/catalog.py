"""The assumption library: reads `assumptions/*.csv` into unit-checked, canonical tables.

Every row is checked on loading: its parameter is known to the table's schema, its unit parses
in the dimension the parameter needs, ``low <= value <= high``, ``(id, parameter)`` is unique
and it names a source, a URL or document, and a date. A violation raises `InputError` naming the
file, the row (line) and the column.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .paths import assumptions_dir
from .reading import MAX_CSV_ROWS, check_file, check_text_value, read_text
from .schema import TABLES, Parameter, efficiency_id_problem
from .units import convert, describe_unit, to_magnitude

COLUMNS = ["id", "parameter", "value", "unit", "low", "high", "source", "url", "source_date", "quality",
           "notes"]
REQUIRED = ["id", "parameter", "value", "source", "url", "source_date"]
QUALITIES = ("primary", "secondary", "estimate")
"""How good a row's evidence is: ``primary`` (the publisher of the figure: a vendor's datasheet, a
provider's price page, a statistics office), ``secondary`` (a reputable report or compilation
citing one) or ``estimate`` (no published figure; the notes give the derivation)."""
OPTIONAL = ("quality", "notes")
"""Columns a user's own file may leave out (its rows are then marked unrated)."""


@dataclass(frozen=True)
class Row:
    """One assumption: where it came from and its value in the canonical unit."""

    table: str
    id: str
    parameter: str
    value: float | str          # canonical magnitude, or text
    low: float                  # canonical, NaN when exact
    high: float
    unit_given: str
    value_given: str
    source: str
    url: str
    source_date: str
    quality: str                # primary, secondary, estimate; "" when a user file has no column
    notes: str
    file: str
    line: int
    canonical_unit: str = ""    # set for rows not of a library table (a scenario's own range)

    @property
    def key(self) -> str:
        """Identifier used in provenance: ``table:id:parameter``."""
        return f"{self.table}:{self.id}:{self.parameter}"

    def given(self, magnitude: float) -> float:
        """A canonical magnitude of this row (its low or high) back in the unit the row is
        written in."""
        if self.canonical_unit and self.unit_given and not math.isnan(magnitude):
            return float(convert(magnitude, self.canonical_unit, self.unit_given))
        spec = _parameter_spec(self.table, self.id, self.parameter)
        if spec is None or spec.unit is None or not self.unit_given or math.isnan(magnitude):
            return magnitude
        return float(convert(magnitude, spec.unit, self.unit_given))

    @property
    def text(self) -> str:
        """The value as written, with its unit: what a scenario would say."""
        return f"{self.value_given} {self.unit_given}".strip()


def _parameter_spec(table: str, row_id: str, parameter: str) -> Parameter | None:
    specs = TABLES.get(table, {})
    return specs.get(f"{row_id}.{parameter}") or specs.get(parameter)


def read_table(path: Path, table: str) -> list[Row]:
    """Read and check one long-format CSV assumption table (UTF-8, or Windows-1252 as Excel's
    plain "CSV" writes it; see `capacity.data.reading`)."""
    text = read_text(path, "assumption", "an assumption CSV file", windows_1252=True)
    lines = max(text.count("\n"), text.count("\r"))    # old Mac files end lines with \r alone
    if lines > MAX_CSV_ROWS + 1:
        raise InputError(str(path), None, f"{lines:,} lines",
                         f"an assumption table of at most {MAX_CSV_ROWS:,} rows")
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    done = [0]                      # the last line of the last record read whole
    try:
        return _read_records(reader, path, table, done)
    except csv.Error as exc:
        # the record that failed starts on the line after the last good one (a field too long
        # or an unclosed quote may run over many lines: name the line where its row starts)
        line = done[0] + 1
        hint = ("a double quote opens a field that is never closed, or text follows a closing "
                "quote" if "expected after" in str(exc) or "end of data" in str(exc) else None)
        raise InputError(f"{path}:{line}", None, f"text that is not CSV ({exc})",
                         "comma-separated values with double quotes around fields that hold "
                         "commas", hint) from None


def _read_records(reader: csv.DictReader, path: Path, table: str, done: list[int]) -> list[Row]:
    rows: list[Row] = []
    seen: dict[tuple[str, str], int] = {}
    header = reader.fieldnames or []
    done[0] = reader.line_num
    if not header:
        raise InputError(f"{path}:1", "header", "an empty file", "the columns " + ",".join(COLUMNS))
    missing = [c for c in COLUMNS if c not in header and c not in OPTIONAL]
    if missing:
        separated = ";" in header[0] or "\t" in header[0]
        raise InputError(f"{path}:1", "header", ",".join(header)[:200],
                         "the columns " + ",".join(COLUMNS),
                         "the file is not separated by commas: save it as 'CSV UTF-8 (comma "
                         "delimited)'" if len(header) == 1 and separated else None)
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise InputError(f"{path}:1", "header", f"the column {twice[0]!r} more than once",
                         "each column once")
    for record in reader:
        done[0] = reader.line_num
        breaks = sum(v.count("\n") + v.count("\r") - v.count("\r\n")
                     for v in record.values() if isinstance(v, str))
        line = reader.line_num - breaks            # where the row starts (a note may span lines)
        where = f"{path}:{line}"
        if len(rows) >= MAX_CSV_ROWS:
            raise InputError(where, None, f"more than {MAX_CSV_ROWS:,} rows",
                             f"an assumption table of at most {MAX_CSV_ROWS:,} rows")
        if None in record:
            raise InputError(where, None, f"{len(header) + len(record[None])} "
                             "fields", f"{len(header)} fields, as in the "
                             "header (quote a field that holds a comma)")
        if None in record.values():
            given = sum(v is not None for v in record.values())
            raise InputError(where, None, f"{given} field{'s' if given != 1 else ''}",
                             f"{len(header)} fields, as in the header")
        record = {k: (v or "").strip() for k, v in record.items()}
        for column, text in record.items():
            check_text_value(text, where, f"column {column!r}")
        for column in REQUIRED:
            if not record.get(column):
                raise InputError(where, f"column {column!r}", "an empty cell",
                                 "a value" if column != "source" else
                                 "the publisher and title of the source")
        quality = record.get("quality", "")
        if "quality" in (reader.fieldnames or []) and quality not in QUALITIES:
            raise InputError(where, "column 'quality'", repr(quality) if quality else "an empty cell",
                             "one of " + ", ".join(QUALITIES))
        if quality == "estimate" and not record.get("notes", "").lower().startswith("estimate"):
            raise InputError(where, "column 'notes'", repr(record.get("notes", "")[:40]),
                             "an estimate's derivation, starting 'estimate:'")
        row_id, parameter = record["id"], record["parameter"]
        if not row_id[:1].isalnum():
            raise InputError(where, "column 'id'", repr(row_id[:60]),
                             "an id starting with a letter or a digit (h100-sxm, llama-3.3-70b)")
        spec = _parameter_spec(table, row_id, parameter)
        if spec is None:
            known = sorted({k.split(".")[-1] for k in TABLES.get(table, {})})
            close = difflib.get_close_matches(parameter, known, n=1)
            raise InputError(where, "column 'parameter'", repr(parameter),
                             f"a parameter of table {table!r}",
                             f"did you mean {close[0]!r}?" if close else None)
        if table == "efficiency" and efficiency_id_problem(row_id):
            raise InputError(where, "column 'id'", repr(row_id),
                             "all, an architecture or a GPU id, optionally after an engine "
                             "and a slash (vllm/cdna 3)", efficiency_id_problem(row_id))
        if (row_id, parameter) in seen:
            raise InputError(where, "columns 'id','parameter'", f"{row_id!r},{parameter!r}",
                             f"a unique pair (first defined on line {seen[row_id, parameter]})")
        seen[row_id, parameter] = line
        unit_text = record.get("unit", "")
        if spec.unit is None:
            value: float | str = record["value"]
            low = high = math.nan
        else:
            value = _checked_number(record["value"], unit_text, spec.unit, where, "value")
            if table in POSITIVE_TABLES and value <= 0 and parameter not in MAY_BE_ZERO:
                raise InputError(where, "column 'value'", repr(record["value"]),
                                 f"a {table[:-1]} property above 0 ({parameter}: {spec.description})")
            low = (_checked_number(record["low"], unit_text, spec.unit, where, "low")
                   if record.get("low") else math.nan)
            high = (_checked_number(record["high"], unit_text, spec.unit, where, "high")
                    if record.get("high") else math.nan)
            if not math.isnan(low) and low > value + 1e-12 * abs(value):
                raise InputError(where, "column 'low'", f"{record['low']} above the value "
                                 f"{record['value']}", "low <= value <= high")
            if not math.isnan(high) and high < value - 1e-12 * abs(value):
                raise InputError(where, "column 'high'", f"{record['high']} below the value "
                                 f"{record['value']}", "low <= value <= high")
        rows.append(Row(table, row_id, parameter, value, low, high, unit_text, record["value"],
                        record["source"], record["url"], record["source_date"], quality,
                        record.get("notes", ""), str(path), line))
    if not rows:
        raise InputError(f"{path}:{done[0] or 1}", None, "a header and no rows",
                         "at least one row (id, parameter, value, unit, ..., source)")
    return rows


def _checked_number(text: str, unit_text: str, spec_unit: str, where: str, column: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is None or not math.isfinite(number):
        raise InputError(where, f"column {column!r}", repr(text),
                         "a number (finite, with a point for decimals: 0.15, 1200, 1.5e6)") from None
    try:
        return to_magnitude(f"{number!r} {unit_text}" if unit_text else number, spec_unit)
    except ValueError:
        raise InputError(where, "column 'unit'", repr(unit_text) if unit_text else "no unit",
                         f"a unit of {describe_unit(spec_unit)}") from None


POSITIVE_TABLES = ("gpus", "models")
"""Tables of physical properties (capacities, bandwidths, powers, sizes, prices): every number > 0."""
MAY_BE_ZERO = ("shared_experts",)
"""Their parameters that may be 0 (a model without shared experts)."""


@dataclass
class Catalog:
    """All assumption rows, by table; later files override earlier ones row by row."""

    rows: dict[str, dict[tuple[str, str], Row]] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path | None = None, extra_files: tuple[Path, ...] = ()) -> "Catalog":
        """Every table of `directory` (default: the packaged library); a missing table file is
        refused, so a broken installation never gives an empty catalogue."""
        directory = assumptions_dir() if directory is None else Path(directory)
        catalog = cls()
        for table in TABLES:
            path = directory / f"{table}.csv"
            if not path.is_file():
                raise InputError(str(path), None, "no such file",
                                 f"the assumption table {table}.csv of the library in {directory}")
            catalog.add(read_table(path, table))
        return catalog.with_files(tuple(extra_files)) if extra_files else _extrapolated(catalog)

    def with_files(self, files: tuple[Path, ...]) -> "Catalog":
        """A copy with the rows of `files` added (a row with the same table, id and parameter
        replaces the library's)."""
        copy = Catalog({table: dict(rows) for table, rows in self.rows.items()})
        for path in files:
            check_file(path, "assumption", "an assumption CSV file")
            table = path.stem
            if table not in TABLES:
                raise InputError(str(path), "file name", repr(path.name),
                                 "one of " + ", ".join(f"{t}.csv" for t in TABLES))
            copy.add(read_table(path, table))
        return _extrapolated(copy)

    def all_rows(self, table: str | None = None) -> list[Row]:
        """Every row, by table then id then parameter."""
        tables = [table] if table else list(self.rows)
        return [row for t in tables for _, row in sorted(self.rows.get(t, {}).items())]

    def add(self, rows: list[Row]) -> None:
        for row in rows:
            self.rows.setdefault(row.table, {})[row.id, row.parameter] = row

    def ids(self, table: str) -> list[str]:
        return sorted({row_id for row_id, _ in self.rows.get(table, {})})

    def get(self, table: str, row_id: str, parameter: str) -> Row | None:
        """The row, or None (also for an id that is not one: a mapping or list a scenario wrote
        where an id belongs, which its validation then refuses)."""
        if isinstance(row_id, (dict, list, set)):
            return None
        return self.rows.get(table, {}).get((row_id, parameter))

    def wide(self, table: str) -> pd.DataFrame:
        """One row per id, one column per parameter: canonical numbers (NaN when absent) or text."""
        records = self.rows.get(table, {})
        frame = pd.DataFrame(
            [(row_id, parameter, row.value) for (row_id, parameter), row in records.items()],
            columns=["id", "parameter", "value"])
        wide = frame.pivot(index="id", columns="parameter", values="value") if len(frame) else \
            pd.DataFrame(index=pd.Index([], name="id"))
        for parameter, spec in TABLES[table].items():
            if "." in parameter:
                continue
            if parameter not in wide.columns:
                wide[parameter] = np.nan if spec.unit is not None else None
            elif spec.unit is not None:
                wide[parameter] = pd.to_numeric(wide[parameter])
        return wide


def _extrapolated(catalog: "Catalog") -> "Catalog":
    """The GPU generations after the catalogued ones, derived from the library's trends."""
    from .generations import with_extrapolated
    return with_extrapolated(catalog)


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The packaged assumption library, loaded once."""
    return Catalog.load()
