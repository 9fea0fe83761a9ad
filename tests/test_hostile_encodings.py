"""Hostile and broken inputs (issue 14), family: encodings and file kinds. A scenario YAML or an
assumption CSV that is UTF-16/32, binary, holds NUL or control characters, is a device, a folder,
a pipe or missing is refused with one located message (exit 2, nothing written); the encodings
Excel and editors really write (UTF-8 with a BOM, Windows-1252 for CSV) are read."""

from __future__ import annotations

import codecs
import os
import random
import threading
import time

import pytest
from hostile_support import invoke, refused

import capacity
from capacity.data.paths import assumptions_dir

HEADER = "id,parameter,value,unit,low,high,source,url,source_date,quality,notes\n"
ROW = "{id},board_power,{value},W,,,{source},https://example.org,2023,primary,\"{notes}\"\n"
NETHERLANDS = assumptions_dir() / "scenarios" / "netherlands.yaml"


def _csv(id="h100-sxm", value=650, source="NVIDIA", notes="a quote"):
    return HEADER + ROW.format(id=id, value=value, source=source, notes=notes)


@pytest.fixture
def small(tmp_path, scenario_file):
    return scenario_file(tmp_path, first=2026, last=2027, name="small")


def _run_scenario(tmp_path, path, *extra):
    out = tmp_path / "p.csv"
    return invoke("run", str(path), *extra, "-o", str(out)), out


def _run_csv(tmp_path, small, table):
    out = tmp_path / "p.csv"
    return invoke("run", str(small), "--assumptions", str(table), "-o", str(out)), out


def _line_of(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if line.lstrip().startswith(start))


# --- UTF-16 and UTF-32, with and without a byte-order mark -------------------------------------

ENCODINGS = {   # codec -> a word the refusal names
    "utf-16": "UTF-16",                                        # LE with BOM (Python's default)
    "utf-16-le-bom": "UTF-16", "utf-16-be-bom": "UTF-16",
    "utf-16-le": "UTF-16", "utf-16-be": "UTF-16",              # no BOM: every other byte is 0
    "utf-32": "UTF-32", "utf-32-be-bom": "UTF-32",
    "utf-32-le": "UTF-32", "utf-32-be": "UTF-32",              # no BOM: three of four bytes are 0
}


def _encoded(text: str, encoding: str) -> bytes:
    if encoding.endswith("-bom"):
        codec = encoding[:-4]
        bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
               "utf-32-be": codecs.BOM_UTF32_BE}[codec]
        return bom + text.encode(codec)
    return text.encode(encoding)


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_utf16_or_utf32_scenario_is_refused_naming_the_encoding(tmp_path, encoding):
    path = tmp_path / "s.yaml"
    path.write_bytes(_encoded(NETHERLANDS.read_text(encoding="utf-8"), encoding))
    result, out = _run_scenario(tmp_path, path)
    refused(result, "s.yaml", ENCODINGS[encoding], out)


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_utf16_or_utf32_assumption_csv_is_refused_naming_the_encoding(small, tmp_path, encoding):
    table = tmp_path / "gpus.csv"
    table.write_bytes(_encoded(_csv(), encoding))
    result, out = _run_csv(tmp_path, small, table)
    refused(result, "gpus.csv", ENCODINGS[encoding], out)


# --- binary data, NUL bytes, control characters ------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_bytes_as_a_scenario_are_refused(tmp_path, seed):
    path = tmp_path / "s.yaml"
    path.write_bytes(random.Random(seed).randbytes(4096))
    result, out = _run_scenario(tmp_path, path)
    refused(result, "s.yaml", "", out)


@pytest.mark.parametrize("seed", [0, 1])
def test_random_bytes_as_an_assumption_csv_are_refused(small, tmp_path, seed):
    table = tmp_path / "gpus.csv"
    table.write_bytes(random.Random(seed).randbytes(4096))
    result, out = _run_csv(tmp_path, small, table)
    refused(result, "gpus.csv", "", out)


def test_a_nul_byte_in_a_scenario_is_refused_as_binary_data(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(NETHERLANDS.read_bytes().replace(b"name: netherlands", b"name: nether\x00lands", 1))
    result, out = _run_scenario(tmp_path, path)
    refused(result, "s.yaml", "NUL byte", out)


def test_a_nul_byte_in_an_assumption_csv_is_refused_as_binary_data(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_bytes(_csv(notes="a\x00b").encode("utf-8"))
    result, out = _run_csv(tmp_path, small, table)
    refused(result, "gpus.csv", "NUL byte", out)


CONTROLS = ["\x01", "\x1b", "\x7f"]


@pytest.mark.parametrize("char", CONTROLS, ids=["U+0001", "U+001B", "U+007F"])
@pytest.mark.parametrize("field", ["name", "region code", "use case id", "description"])
def test_a_control_character_in_a_scenario_is_refused_with_its_line(tmp_path, field, char):
    text = NETHERLANDS.read_text(encoding="utf-8")
    edit = {"name": ("name: netherlands", f"name: nether{char}lands"),
            "region code": ("  NLD: {}", f"  N{char}LD: {{}}"),
            "use case id": ("  drafting: {}", f"  draft{char}ing: {{}}"),
            "description": ("title: Netherlands", f"title: Nether{char}lands")}[field]
    edited = text.replace(*edit, 1)
    assert edited != text
    path = tmp_path / "s.yaml"
    path.write_text(edited, encoding="utf-8")
    line = _line_of(edited, edit[1].strip()[:6])
    result, out = _run_scenario(tmp_path, path)
    refused(result, f"s.yaml:{line}", f"U+{ord(char):04X}", out)


@pytest.mark.parametrize("char", CONTROLS, ids=["U+0001", "U+001B", "U+007F"])
@pytest.mark.parametrize("column", ["id", "notes", "source"])
def test_a_control_character_in_an_assumption_csv_is_refused_with_its_line(small, tmp_path, column, char):
    table = tmp_path / "gpus.csv"
    fields = {"id": f"h100{char}sxm", "notes": f"a {char} quote", "source": f"NV{char}IDIA"}
    kwargs = {column: fields[column]}
    table.write_text(_csv(**kwargs), encoding="utf-8")
    result, out = _run_csv(tmp_path, small, table)
    refused(result, "gpus.csv:2", f"U+{ord(char):04X}", out)


def test_a_control_character_in_a_set_name_is_refused(tmp_path):
    out = tmp_path / "p.csv"
    refused(invoke("run", "--set", "name=a\x1b[31mred", "-o", str(out)), "--set", "U+001B", out)


# --- Windows-1252 and UTF-8 with a byte-order mark ---------------------------------------------

def test_a_windows_1252_assumption_csv_is_read(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_bytes(_csv(value=640, source="Soci\u00e9t\u00e9 G\u00e9n\u00e9rale \u20ac",
                           notes="mesur\u00e9 \u2013 \u00e9t\u00e9").encode("cp1252"))
    scenario = capacity.load_scenario(small, assumptions=table)
    row = scenario.catalog.get("gpus", "h100-sxm", "board_power")
    assert row.value == 640 and row.source.endswith("\u20ac") and "\u00e9t\u00e9" in row.notes


def test_a_windows_1252_scenario_is_refused_naming_windows_1252(tmp_path):
    text = NETHERLANDS.read_text(encoding="utf-8").replace("title: Netherlands", "title: Pays-Bas \u00e9t\u00e9", 1)
    path = tmp_path / "s.yaml"
    path.write_bytes(text.encode("cp1252"))
    result, out = _run_scenario(tmp_path, path)
    refused(result, f"s.yaml:{_line_of(text, 'title:')}", "Windows-1252", out)


def test_a_utf8_bom_scenario_is_read_as_the_same_scenario(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(codecs.BOM_UTF8 + NETHERLANDS.read_bytes())
    with_bom, plain = capacity.load_scenario(path), capacity.load_scenario(NETHERLANDS)
    assert with_bom.cases == plain.cases


def test_a_utf8_bom_assumption_csv_is_read(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_bytes(codecs.BOM_UTF8 + _csv(value=610).encode("utf-8"))
    scenario = capacity.load_scenario(small, assumptions=table)
    assert scenario.catalog.get("gpus", "h100-sxm", "board_power").value == 610


def test_a_utf8_bom_windows_line_endings_csv_is_read(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_bytes(codecs.BOM_UTF8 + _csv(value=620).replace("\n", "\r\n").encode("utf-8"))
    scenario = capacity.load_scenario(small, assumptions=table)
    assert scenario.catalog.get("gpus", "h100-sxm", "board_power").value == 620


def test_bytes_valid_in_no_accepted_encoding_are_refused_in_a_csv(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_bytes(_csv().encode("utf-8").replace(b"a quote", b"a \x81\x8d quote"))   # undefined in cp1252
    result, out = _run_csv(tmp_path, small, table)
    refused(result, "gpus.csv", "neither UTF-8 nor Windows-1252", out)


# --- devices, folders, pipes, missing and unreadable files -------------------------------------

@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_the_scenario_is_refused_at_once(tmp_path, device):
    started = time.perf_counter()
    result, out = _run_scenario(tmp_path, device)
    refused(result, device, "not a regular file", out)
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_assumptions_is_refused_at_once(small, tmp_path, device):
    started = time.perf_counter()
    result, out = _run_csv(tmp_path, small, device)
    refused(result, device, "not a regular file", out)
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("name", ["s.yaml", "folder"])
def test_a_folder_as_the_scenario_is_refused(tmp_path, name):
    (tmp_path / name).mkdir()
    result, out = _run_scenario(tmp_path, tmp_path / name)
    refused(result, name, "a folder", out)


def test_a_folder_as_assumptions_is_refused(small, tmp_path):
    (tmp_path / "gpus.csv").mkdir()
    result, out = _run_csv(tmp_path, small, tmp_path / "gpus.csv")
    refused(result, "gpus.csv", "a folder", out)


def test_a_missing_scenario_file_is_refused(tmp_path):
    result, out = _run_scenario(tmp_path, tmp_path / "nowhere.yaml")
    refused(result, "nowhere.yaml", "no such file", out)


def test_a_missing_assumption_file_is_refused(small, tmp_path):
    result, out = _run_csv(tmp_path, small, tmp_path / "gpus.csv")
    refused(result, "gpus.csv", "no such file", out)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
@pytest.mark.parametrize("kind", ["scenario", "assumptions"])
def test_an_unreadable_file_is_refused(small, tmp_path, kind):
    path = tmp_path / ("s.yaml" if kind == "scenario" else "gpus.csv")
    path.write_text(NETHERLANDS.read_text(encoding="utf-8") if kind == "scenario" else _csv())
    path.chmod(0)
    try:
        result, out = _run_scenario(tmp_path, path) if kind == "scenario" else _run_csv(tmp_path, small, path)
        refused(result, path.name, "permission", out)
    finally:
        path.chmod(0o644)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
@pytest.mark.parametrize("kind", ["scenario", "assumptions"])
def test_a_named_pipe_is_refused_without_hanging(small, tmp_path, kind):
    fifo = tmp_path / ("s.yaml" if kind == "scenario" else "gpus.csv")
    os.mkfifo(fifo)
    result = {}

    def target():
        result["r"] = (_run_scenario(tmp_path, fifo) if kind == "scenario" else _run_csv(tmp_path, small, fifo))
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive():                  # unblock a reader stuck in open(): open the other end
        with open(fifo, "wb"):
            pass
        worker.join(5)
        pytest.fail("reading a named pipe hung")
    run, out = result["r"]
    refused(run, fifo.name, "pipe", out)


def test_an_existing_output_is_left_byte_identical_after_an_encoding_refusal(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(NETHERLANDS.read_text(encoding="utf-8").encode("utf-16"))
    out = tmp_path / "p.csv"
    out.write_bytes(b"an earlier plan\n")
    refused(invoke("run", str(path), "-o", str(out)), "s.yaml", "UTF-16", out, b"an earlier plan\n",
            folder=tmp_path)
