"""Hostile and broken inputs (issue 14), family: sizes and shapes. Files above their size limit
(`capacity.data.reading.LIMITS`), assumption CSVs with too many rows, fields or values too long,
CSVs whose header or rows do not fit, and scenarios with too many values or variants: each is
refused at once with one located message (exit 2, no traceback, nothing written). Large files
are written sparse where the content does not matter, so the module stays fast."""

from __future__ import annotations

import time

import pytest
from hostile_support import invoke, refused

from capacity.data.paths import assumptions_dir
from capacity.data.reading import LIMITS, MAX_CSV_ROWS, MAX_FIELD_CHARS

HEADER = "id,parameter,value,unit,low,high,source,url,source_date,quality,notes\n"
ROW = '{id},{parameter},{value},{unit},,,NVIDIA,https://example.org,2023,primary,"{notes}"\n'
NETHERLANDS = assumptions_dir() / "scenarios" / "netherlands.yaml"
SOURCE = NETHERLANDS.read_text(encoding="utf-8")


def _row(parameter="board_power", value=700, unit="W", notes="a quote", id="h100-sxm"):
    return ROW.format(id=id, parameter=parameter, value=value, unit=unit, notes=notes)


OTHER_ROWS = _row("hbm_capacity", 80, "GB") + _row("memory_bandwidth", 3.35, "TB/s")


@pytest.fixture
def small(tmp_path, scenario_file):
    return scenario_file(tmp_path, first=2026, last=2027, name="small")


def _run_csv(tmp_path, small, text: str | bytes, before: bytes | None = None):
    table = tmp_path / "gpus.csv"
    table.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    out = tmp_path / "p.csv"
    if before is not None:
        out.write_bytes(before)
    return invoke("run", str(small), "--assumptions", str(table), "-o", str(out)), out


def _sparse(path, size: int):
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def _line_of(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if line.lstrip().startswith(start))


# --- files above their size limit -----------------------------------------------------------------

def test_a_scenario_one_byte_above_the_limit_is_refused_by_its_size(tmp_path):
    path = tmp_path / "s.yaml"
    padding = LIMITS["scenario"] + 1 - len(SOURCE.encode())
    path.write_text(SOURCE + "#" * (padding - 1) + "\n", encoding="utf-8")
    assert path.stat().st_size == LIMITS["scenario"] + 1
    out = tmp_path / "p.csv"
    refused(invoke("run", str(path), "-o", str(out)), "s.yaml", f"at most {LIMITS['scenario']:,} bytes", out)


def test_a_scenario_at_the_limit_is_read(tmp_path):
    import capacity
    path = tmp_path / "s.yaml"
    padding = LIMITS["scenario"] - len(SOURCE.encode())
    path.write_text(SOURCE + "#" * (padding - 1) + "\n", encoding="utf-8")
    assert path.stat().st_size == LIMITS["scenario"]
    assert capacity.load_scenario(path).cases.keys() == {"realist", "maximalist"}


@pytest.mark.parametrize("kind, name, command", [
    ("scenario", "s.yaml", "run {path}"),
    ("scenario", "huge.yaml", "run {path}"),
    ("assumption", "gpus.csv", "run --assumptions {path}"),
    ("template", "input.xlsx", "run {path}"),
    ("results", "old.json", "diff {path} {path}"),
])
def test_a_sparse_file_above_the_limit_is_refused_before_it_is_read(tmp_path, kind, name, command):
    size = LIMITS[kind] + 1 if name != "huge.yaml" else 8 * 1024 ** 3        # 8 GB, sparse
    path = _sparse(tmp_path / name, size)
    out = tmp_path / "p.csv"
    started = time.perf_counter()
    args = command.format(path=path).split() + (["-o", str(out)] if command.startswith("run") else [])
    refused(invoke(*args), name, f"a file of {size:,} bytes", out if command.startswith("run") else None)
    assert time.perf_counter() - started < 10


# --- too many rows -----------------------------------------------------------------------------------

@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_a_150000_row_csv_is_refused_at_once_by_the_row_limit(small, tmp_path, ending):
    rows = "".join(f"g{i},x{ending}" for i in range(150_000))              # short rows: 1.6 MB
    started = time.perf_counter()
    result, out = _run_csv(tmp_path, small, HEADER.replace("\n", ending) + rows)
    refused(result, "gpus.csv", f"at most {MAX_CSV_ROWS:,} rows", out)
    assert time.perf_counter() - started < 5


def test_a_csv_of_150000_blank_lines_is_refused_by_the_row_limit(small, tmp_path):
    result, out = _run_csv(tmp_path, small, HEADER + _row() + "\n" * 150_000)
    refused(result, "gpus.csv", f"at most {MAX_CSV_ROWS:,} rows", out)


def test_one_row_over_the_limit_without_a_final_line_break_is_refused_naming_its_line(small, tmp_path):
    rows = "".join(f"g{i},board_power,700,W,,,x,u,2023,primary,\n" for i in range(MAX_CSV_ROWS + 1))
    started = time.perf_counter()
    result, out = _run_csv(tmp_path, small, HEADER + rows.rstrip("\n"))
    refused(result, f"gpus.csv:{MAX_CSV_ROWS + 2}", f"more than {MAX_CSV_ROWS:,} rows", out)
    assert time.perf_counter() - started < 20


# --- fields and values too long --------------------------------------------------------------------

LONG = "x" * 200_000


def test_a_200000_character_field_in_the_first_row_names_line_2(small, tmp_path):
    result, out = _run_csv(tmp_path, small, HEADER + _row(notes=LONG))
    refused(result, "gpus.csv:2:", "field larger than field limit", out)


def test_a_200000_character_field_in_the_third_row_names_line_4(small, tmp_path):
    result, out = _run_csv(tmp_path, small, HEADER + OTHER_ROWS + _row(notes=LONG))
    refused(result, "gpus.csv:4:", "field larger than field limit", out)


def test_a_200000_character_field_after_a_note_of_three_lines_names_its_own_line(small, tmp_path):
    text = HEADER + _row("hbm_capacity", 80, "GB", notes="one\ntwo\nthree") + _row(notes=LONG)
    result, out = _run_csv(tmp_path, small, text)
    refused(result, "gpus.csv:5:", "field larger than field limit", out)


def test_a_200000_character_field_of_many_lines_names_the_line_its_row_starts(small, tmp_path):
    text = HEADER + OTHER_ROWS + _row(notes=("z" * 99 + "\n") * 2_000)       # 200,000 characters
    result, out = _run_csv(tmp_path, small, text)
    refused(result, "gpus.csv:4:", "field larger than field limit", out)


def test_a_200000_character_header_field_names_line_1(small, tmp_path):
    result, out = _run_csv(tmp_path, small, LONG + "," + HEADER + _row())
    refused(result, "gpus.csv:1:", "field limit", out)


@pytest.mark.parametrize("column", ["notes", "source", "id"])
def test_a_field_longer_than_the_text_limit_names_its_line_and_column(small, tmp_path, column):
    long = "y" * (MAX_FIELD_CHARS + 1)
    row = _row(notes=long) if column == "notes" else _row(id=long) if column == "id" else \
        _row().replace("NVIDIA", long)
    result, out = _run_csv(tmp_path, small, HEADER + OTHER_ROWS + row)
    refused(result, "gpus.csv:4:", f"column '{column}'", out)


@pytest.mark.parametrize("setting", ["name=" + LONG, "demand.scale=" + LONG, "regions.NLD.electricity_price=0."
                                     + "1" * 200_000, LONG + "=1", "options." + LONG + ".pue=1"])
def test_a_200000_character_set_value_or_name_is_refused_naming_the_set(tmp_path, setting):
    out = tmp_path / "p.csv"
    message = refused(invoke("run", "--set", setting, "-o", str(out)), "--set", "characters", out)
    assert len(message) < 2_000                                         # not echoed whole


@pytest.mark.parametrize("where", ["value", "key"])
def test_a_200000_character_yaml_value_or_key_is_refused_with_its_line(tmp_path, where):
    text = SOURCE.replace("title: Netherlands", f"title: {LONG}" if where == "value" else f"{LONG}: 1\ntitle: x", 1)
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "p.csv"
    line = _line_of(text, "title:" if where == "value" else "x" * 20)
    message = refused(invoke("run", str(path), "-o", str(out)), f"s.yaml:{line}",
                      "at most 10,000 characters" if where == "value" else "invalid YAML", out)   # a key: at most 1024
    assert len(message) < 2_000


def test_a_scenario_of_100001_values_is_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("".join(f"k{i}: 1\n" for i in range(100_001)), encoding="utf-8")
    out = tmp_path / "p.csv"
    refused(invoke("run", str(path), "-o", str(out)), "s.yaml:", "more than 100,000 values", out)


def test_a_scenario_of_5000_variants_is_refused_before_any_is_run(tmp_path):
    path = tmp_path / "s.yaml"
    text = SOURCE + "".join(f"  v{i}: {{worldview: realist}}\n" for i in range(5000))
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "p.csv"
    started = time.perf_counter()
    refused(invoke("run", str(path), "-o", str(out)), f"s.yaml:{_line_of(text, 'variants:')}", "at most 100", out)
    assert time.perf_counter() - started < 10


# --- headers and rows that do not fit ------------------------------------------------------------------

SHAPES = {   # name -> (CSV text, where, word)
    "a header missing columns": ("id,parameter,value\nh100-sxm,board_power,700\n", "gpus.csv:1", "header"),
    "a header with other names": ("name,key,amount\nh100-sxm,board_power,700\n", "gpus.csv:1", "the columns id"),
    "a semicolon-separated file": (HEADER.replace(",", ";") + _row().replace(",", ";"), "gpus.csv:1",
                                   "not separated by commas"),
    "a tab-separated file": (HEADER.replace(",", "\t") + _row().replace(",", "\t"), "gpus.csv:1",
                             "not separated by commas"),
    "a column twice": (HEADER.rstrip("\n") + ",value\n" + _row().rstrip("\n") + ",800\n", "gpus.csv:1",
                       "'value' more than once"),
    "an empty file": ("", "gpus.csv:1", "an empty file"),
    "only blank lines": ("\n\n\n", "gpus.csv:1", "an empty file"),
    "only a header": (HEADER, "gpus.csv:1", "no rows"),
    "only a header without a line break": (HEADER.rstrip("\n"), "gpus.csv:1", "no rows"),
    "only a header and blank lines": (HEADER + "\n\n\n", "gpus.csv:1", "no rows"),
    "extra fields in a row": (HEADER + OTHER_ROWS + _row().rstrip("\n") + ",extra,more\n", "gpus.csv:4", "13 fields"),
    "fewer fields in a row": (HEADER + OTHER_ROWS + "h100-sxm,board_power,700,W\n", "gpus.csv:4", "4 fields"),
    "an unterminated quote in the middle": (HEADER + _row("hbm_capacity", 80, "GB") + _row().replace(
        '"a quote"', '"a quote') + _row("memory_bandwidth", 3.35, "TB/s"), "gpus.csv:3", "never closed"),
    "an unterminated quote at the end": (HEADER + OTHER_ROWS + _row().replace('"a quote"', '"a quote'),
                                         "gpus.csv:4", "unexpected end of data"),
    "text after a closing quote": (HEADER + OTHER_ROWS + _row().replace('"a quote"', '"a" quote'),
                                   "gpus.csv:4", "expected after"),
}


@pytest.mark.parametrize("case", list(SHAPES))
def test_a_csv_whose_header_or_rows_do_not_fit_is_refused_with_its_line(small, tmp_path, case):
    text, where, word = SHAPES[case]
    result, out = _run_csv(tmp_path, small, text, before=b"an earlier plan\n")
    refused(result, where + ":", word, out, b"an earlier plan\n", folder=tmp_path)
