"""Every example in issue 14's "Why", one test each, named after it: a clean, located refusal
(exit 2, one message, no traceback, nothing written), or, where the input is legitimate (a
Windows-1252 CSV, a merge key, a UTF-8 BOM), a run that reads it right."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hostile_support import invoke, refused

import capacity
from capacity.data.paths import assumptions_dir

HEADER = "id,parameter,value,unit,low,high,source,url,source_date,quality,notes\n"
ROW = 'h100-sxm,board_power,{value},W,,,NVIDIA,https://example.org,2023,primary,"{notes}"\n'
NETHERLANDS = assumptions_dir() / "scenarios" / "netherlands.yaml"


@pytest.fixture
def small(tmp_path, scenario_file):
    return scenario_file(tmp_path, first=2026, last=2027, name="small")


def _yaml(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(text: str, start: str, nth: int = 1) -> int:
    return [i for i, line in enumerate(text.splitlines(), start=1) if line.startswith(start)][nth - 1]


# --- tracebacks ---------------------------------------------------------------------------------

def test_a_windows_1252_csv_as_excel_writes_it_is_read(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_bytes((HEADER + ROW.format(value=650, notes="mesure \u00e9t\u00e9 2023, 650 W")).encode("cp1252"))
    scenario = capacity.load_scenario(small, assumptions=table)
    row = scenario.catalog.get("gpus", "h100-sxm", "board_power")
    assert row.value == 650 and "\u00e9t\u00e9" in row.notes


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_utf16_csv_is_refused_naming_the_encoding(small, tmp_path, encoding):
    table = tmp_path / "gpus.csv"
    table.write_bytes((HEADER + ROW.format(value=700, notes="x")).encode(encoding))
    refused(invoke("run", str(small), "--assumptions", str(table), "-o", str(tmp_path / "p.csv")),
            "gpus.csv", "UTF-" if "16" not in encoding else "UTF-16", tmp_path / "p.csv")


def test_a_binary_scenario_file_is_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(bytes(range(256)) * 10)
    refused(invoke("run", str(path), "-o", str(tmp_path / "p.csv")), "s.yaml", "binary data", tmp_path / "p.csv")


def test_dev_zero_as_a_scenario_is_refused_at_once(tmp_path):
    started = time.perf_counter()
    refused(invoke("run", "/dev/zero", "-o", str(tmp_path / "p.csv")), "/dev/zero", "not a regular file")
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("make", ["missing", "folder"])
def test_a_missing_or_folder_assumptions_path_is_refused(small, tmp_path, make):
    path = tmp_path / "gpus.csv"
    if make == "folder":
        path.mkdir()
    refused(invoke("run", str(small), "--assumptions", str(path), "-o", str(tmp_path / "p.csv")),
            "gpus.csv", "no such file" if make == "missing" else "a folder", tmp_path / "p.csv")


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['ls']", "!!python/name:os.system", "!custom 3",
                                 "!!binary aGVsbG8=", "!!set {a, b}"])
def test_a_yaml_tag_is_refused_with_its_line(tmp_path, tag):
    text = NETHERLANDS.read_text(encoding="utf-8").replace("horizon:", f"evil: {tag}\nhorizon:", 1)
    path = _yaml(tmp_path, text)
    refused(invoke("run", str(path), "-o", str(tmp_path / "p.csv")), f"s.yaml:{_line_of(text, 'evil:')}",
            "YAML tag", tmp_path / "p.csv")


def test_a_valid_merge_key_is_read(tmp_path):
    text = NETHERLANDS.read_text(encoding="utf-8")
    anchored = ("  drafting: &shared {requests_per_user_per_day: 3, output_tokens: 900}\n"
                "  software-development: {<<: *shared, output_tokens: 1200}")
    expanded = ("  drafting: {requests_per_user_per_day: 3, output_tokens: 900}\n"
                "  software-development: {requests_per_user_per_day: 3, output_tokens: 1200}")
    assert "  drafting: {}\n  software-development: {}" in text
    merged = text.replace("  drafting: {}\n  software-development: {}", anchored, 1)
    plain = text.replace("  drafting: {}\n  software-development: {}", expanded, 1)
    a = capacity.load_scenario(_yaml(tmp_path, merged, "merged.yaml"))
    b = capacity.load_scenario(_yaml(tmp_path, plain, "plain.yaml"))
    assert {k: c.use_cases for k, c in a.cases.items()} == {k: c.use_cases for k, c in b.cases.items()}
    assert a.cases["realist"].use_cases["software-development"].output_tokens == 1200   # explicit wins


def test_a_complex_key_is_refused(tmp_path):
    path = _yaml(tmp_path, "? [a, b]\n: 1\n" + NETHERLANDS.read_text(encoding="utf-8"))
    refused(invoke("run", str(path), "-o", str(tmp_path / "p.csv")), "s.yaml:1", "a list or mapping")


@pytest.mark.parametrize("style", ["flow", "block"])
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path, style):
    depth = 3000 if style == "flow" else 200
    body = ("[" * depth + "]" * depth) if style == "flow" else "".join(
        f"{'  ' * i}k{i}:\n" for i in range(depth)) + "  " * depth + "x"
    path = _yaml(tmp_path, "horizon: " + body + "\n" if style == "flow" else body + "\n")
    refused(invoke("run", str(path), "-o", str(tmp_path / "p.csv")), "s.yaml:", "nested more than")


@pytest.mark.parametrize("value", ["1 ((", "1 ))", "0.2 USD/(kWh"])
def test_unbalanced_brackets_in_a_unit_are_refused(tmp_path, value):
    refused(invoke("run", "--set", f"regions.NLD.electricity_price={value}", "-o", str(tmp_path / "p.csv")),
            "--set regions.NLD.electricity_price", "not a unit")


def test_a_400_digit_integer_is_refused(tmp_path):
    refused(invoke("run", "--set", "demand.scale=" + "9" * 400, "-o", str(tmp_path / "p.csv")),
            "--set demand.scale", "")


@pytest.mark.parametrize("name", ["a\x00b", "a\x01b", "bell\x07", "esc\x1b[31m"])
def test_a_control_character_or_nul_in_a_name_is_refused(tmp_path, name):
    refused(invoke("run", "--set", f"name={name}", "-o", str(tmp_path / "p.xlsx")), "--set", "control character",
            tmp_path / "p.xlsx")


def test_a_200000_character_csv_field_is_refused_with_its_line(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_text(HEADER + ROW.format(value=700, notes="ok") + ROW.format(value=700, notes="x" * 200_000)
                     .replace("board_power", "hbm_capacity").replace(",W,", ",GB,"))
    refused(invoke("run", str(small), "--assumptions", str(table), "-o", str(tmp_path / "p.csv")),
            "gpus.csv:3", "")


@pytest.mark.parametrize("setting", ["options.domestic-buildout.pue=1e308", "demand.scale=1e300",
                                     "regions.NLD.population=1e300"])
def test_an_extreme_value_is_refused_not_a_workbook_keyerror(tmp_path, setting):
    refused(invoke("run", "--set", setting, "-o", str(tmp_path / "p.xlsx")), f"--set {setting}", "at most 1e+18",
            tmp_path / "p.xlsx")


def test_json_never_holds_nulls_from_an_overflow(tmp_path):
    out = tmp_path / "p.json"
    result = invoke("run", "--set", "options.domestic-buildout.pue=1e11", "-o", str(out))
    assert result.exit_code in (0, 2)
    if result.exit_code == 0:
        assert "null" not in out.read_text() and "Infinity" not in out.read_text()


# --- templates openpyxl cannot parse --------------------------------------------------------------

@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("why-template") / "input.xlsx"
    assert invoke("template", str(path)).exit_code == 0
    return path


def _patched(template, tmp_path, change):
    """A copy of the template with each sheet's XML passed through `change(name, xml)`."""
    out = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info.filename, change(info.filename, data))
    return out


def _first_number_cell(xml: bytes) -> bytes:
    return re.search(rb'<c r="[A-Z]+\d+"(?: s="\d+")?(?: t="n")?><v>[0-9.]+</v></c>', xml).group(0)


def test_an_inf_value_in_a_template_cell_is_refused(template, tmp_path):
    def change(name, data):
        if name.startswith("xl/worksheets/sheet") and re.search(rb"<v>[0-9.]+</v>", data):
            return re.sub(rb"<v>[0-9.]+</v>", b"<v>INF</v>", data, count=1)
        return data
    refused(invoke("run", str(_patched(template, tmp_path, change)), "-o", str(tmp_path / "p.csv")),
            "broken.xlsx", "", tmp_path / "p.csv")


def test_a_shared_string_out_of_range_is_refused(template, tmp_path):
    def change(name, data):
        if name.startswith("xl/worksheets/sheet"):
            return re.sub(rb'<c r="A1"([^>]*)>.*?</c>', rb'<c r="A1" t="s"><v>99999</v></c>', data, count=1)
        return data
    refused(invoke("run", str(_patched(template, tmp_path, change)), "-o", str(tmp_path / "p.csv")),
            "broken.xlsx", "", tmp_path / "p.csv")


def test_a_truncated_sheet_is_refused(template, tmp_path):
    def change(name, data):
        return data[: len(data) // 2] if name.startswith("xl/worksheets/sheet") else data
    refused(invoke("run", str(_patched(template, tmp_path, change)), "-o", str(tmp_path / "p.csv")),
            "broken.xlsx", "", tmp_path / "p.csv")


def test_a_template_claiming_a_million_rows_is_read_fast(template, tmp_path):
    def change(name, data):
        if name.startswith("xl/worksheets/sheet"):
            data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', data)
        return data
    started = time.perf_counter()
    result = invoke("run", str(_patched(template, tmp_path, change)), "--format", "csv", "-o", str(tmp_path / "p.csv"))
    assert time.perf_counter() - started < 60
    assert result.exit_code == 0, result.output


def test_a_full_disk_prints_one_message_and_no_traceback(small, tmp_path, monkeypatch):
    import errno

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(Path, "write_text", full)
    refused(invoke("run", str(small), "-o", str(tmp_path / "p.csv")), "p.csv", "No space left", tmp_path / "p.csv",
            folder=tmp_path)


# --- hangs ------------------------------------------------------------------------------------------

def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = _yaml(tmp_path, "\n".join(lines) + "\n")
    assert len(path.read_bytes()) < 3000
    started = time.perf_counter()
    refused(invoke("run", str(path), "-o", str(tmp_path / "p.csv")), "s.yaml:", "aliases")
    assert time.perf_counter() - started < 10


def test_a_150000_row_csv_is_refused_at_once(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_text(HEADER + "".join(f"g{i},board_power,700,W,,,x,u,2023,primary,\n" for i in range(150_000)))
    started = time.perf_counter()
    refused(invoke("run", str(small), "--assumptions", str(table), "-o", str(tmp_path / "p.csv")), "gpus.csv",
            "at most 20,000 rows")
    assert time.perf_counter() - started < 10


# --- accepted silently: numbers misread ---------------------------------------------------------

@pytest.mark.parametrize("text, word", [("0,15 USD/kWh", "decimal comma"), ("18 000 000", "thousands separators"),
                                        ("2,5", "decimal comma"), ("2=3", "not one number and a unit")])
def test_a_number_misread_before_is_refused_with_the_reading(tmp_path, text, word):
    refused(invoke("run", "--set", f"regions.NLD.electricity_price={text}", "-o", str(tmp_path / "p.csv")),
            "--set regions.NLD.electricity_price", word)


def test_a_yearly_price_change_of_minus_300_percent_is_refused(tmp_path):
    refused(invoke("run", "--set", "options.frontier-api.frontier_tier.price_change=-3", "-o", str(tmp_path / "p.csv")),
            "--set options.frontier-api.frontier_tier.price_change", "> -1")


def test_zero_population_is_refused(tmp_path):
    refused(invoke("run", "--set", "regions.NLD.population=0", "-o", str(tmp_path / "p.csv")),
            "--set regions.NLD.population", "> 0")


def test_negative_memory_bandwidth_in_an_assumption_csv_is_refused(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_text(HEADER + "h100-sxm,memory_bandwidth,-3.35,TB/s,,,x,u,2023,primary,\n")
    refused(invoke("run", str(small), "--assumptions", str(table), "-o", str(tmp_path / "p.csv")), "gpus.csv:2",
            "above 0")


def test_a_second_horizon_key_is_refused_naming_both_lines(tmp_path):
    text = NETHERLANDS.read_text(encoding="utf-8")
    doubled = text + "\nhorizon: {first_year: 2026, last_year: 2040}\n"
    first = _line_of(doubled, "horizon:")
    second = _line_of(doubled, "horizon:", 2)
    refused(invoke("run", str(_yaml(tmp_path, doubled)), "-o", str(tmp_path / "p.csv")), f"s.yaml:{second}",
            f"first on line {first}")


def test_a_junit_file_stays_valid_xml_with_a_control_character(small, tmp_path):
    import xml.etree.ElementTree as ET
    text = small.read_text() + 'checks:\n  - "Cost|Total[frontier-api, 2027] < 1e15 USD/yr"\n'
    small.write_text(text)
    junit = tmp_path / "report.xml"
    result = invoke("check", str(small), "--junit", str(junit))
    assert result.exit_code in (0, 1), result.output
    ET.parse(junit)
    from capacity.analysis.checks import CheckResult, to_junit
    fields = CheckResult.__dataclass_fields__
    values = {name: None for name in fields}
    values.update(expr="Cost\x01[x]", message="bad \x1b text", ok=False, actual=1.0, unit="USD/yr")
    ET.fromstring(to_junit([CheckResult(**values)]))


# --- injection ------------------------------------------------------------------------------------

def test_a_variant_name_like_a_hyperlink_formula_is_neutralised_in_csv(tmp_path):
    text = NETHERLANDS.read_text(encoding="utf-8").replace("  realist:", "  '=HYPERLINK(\"x\")':", 1)
    assert "HYPERLINK" in text
    path = _yaml(tmp_path, text)
    out = tmp_path / "p.csv"
    assert invoke("run", str(path), "-o", str(out)).exit_code == 0
    scenarios = {row["scenario"] for row in csv.DictReader(io.StringIO(out.read_text(), newline=""))}
    assert all(not name.startswith(("=", "+", "-", "@")) for name in scenarios), scenarios


def test_a_region_code_like_a_formula_is_refused(tmp_path):
    text = NETHERLANDS.read_text(encoding="utf-8").replace("regions:\n  NLD: {}", 'regions:\n  "=NLD": {}', 1)
    refused(invoke("run", str(_yaml(tmp_path, text)), "-o", str(tmp_path / "p.csv")), "s.yaml:", "a code of letters")


def test_the_iamc_workbook_writes_no_live_formula(tmp_path):
    text = NETHERLANDS.read_text(encoding="utf-8").replace("  realist:", '  "=1+1":', 1)
    out = tmp_path / "iamc.xlsx"
    assert invoke("run", str(_yaml(tmp_path, text)), "--format", "iamc", "-o", str(out)).exit_code == 0
    book = openpyxl.load_workbook(out)
    assert not [c for s in book.worksheets for r in s.iter_rows() for c in r if c.data_type == "f"]


def test_a_template_from_a_scenario_writes_user_text_as_text(tmp_path):
    text = NETHERLANDS.read_text(encoding="utf-8").replace("name: netherlands", "name: '=HYPERLINK(\"x\")'", 1)
    out = tmp_path / "input.xlsx"
    assert invoke("template", str(out), "--scenario", str(_yaml(tmp_path, text))).exit_code == 0
    book = openpyxl.load_workbook(out)
    assert not [c for s in book.worksheets for r in s.iter_rows() for c in r if c.data_type == "f"]


# --- where output goes ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["../x", "/tmp/capacity-absolute-x"])
def test_a_scenario_name_with_a_path_writes_in_the_working_folder(small, tmp_path, monkeypatch, name):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    small.write_text(small.read_text().replace("name: small", f"name: {json.dumps(name)}", 1))
    assert invoke("run", str(small)).exit_code == 0
    assert [p.parent for p in work.iterdir()] == [work]
    assert not Path(name + "-plan.xlsx").is_absolute() or not Path(name + "-plan.xlsx").exists()


def test_o_writes_through_a_symlink_and_refuses_a_device_node(small, tmp_path):
    target = tmp_path / "target.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert invoke("run", str(small), "-o", str(link)).exit_code == 0 and link.is_symlink()
    refused(invoke("run", str(small), "--format", "csv", "-o", "/dev/null"), "/dev/null", "device")
    assert Path("/dev/null").is_char_device()


@pytest.mark.parametrize("kind", ["scenario", "template"])
def test_o_refuses_to_overwrite_the_runs_own_input(small, tmp_path, kind):
    source = small
    if kind == "template":
        source = tmp_path / "input.xlsx"
        assert invoke("template", str(source)).exit_code == 0
    before = source.read_bytes()
    refused(invoke("run", str(source), "--format", "csv" if kind == "scenario" else "xlsx", "-o", str(source)),
            source.name, "an input of this run", source, before)


def test_format_csv_with_an_xlsx_path_is_refused(small, tmp_path):
    refused(invoke("run", str(small), "--format", "csv", "-o", str(tmp_path / "out.xlsx")), "out.xlsx",
            "--format csv with a .xlsx file", tmp_path / "out.xlsx")


# --- wrong places named -----------------------------------------------------------------------------

def test_a_bad_set_value_is_blamed_on_the_set_not_a_preset_line(tmp_path):
    message = refused(invoke("run", "netherlands", "--set", "options.domestic-buildout.pue=0.5",
                             "-o", str(tmp_path / "p.csv")), "--set options.domestic-buildout.pue=0.5", ">= 1")
    assert "netherlands.yaml" not in message


def test_hbm_capacity_0_in_a_users_gpus_csv_is_blamed_on_its_row(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_text(HEADER + "h100-sxm,hbm_capacity,0,GB,,,x,u,2023,primary,\n")
    message = refused(invoke("run", str(small), "--assumptions", str(table), "-o", str(tmp_path / "p.csv")),
                      "gpus.csv:2", "above 0")
    assert "small.yaml" not in message


def test_a_csv_nan_is_blamed_on_the_value_column(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_text(HEADER + "h100-sxm,board_power,nan,W,,,x,u,2023,primary,\n")
    refused(invoke("run", str(small), "--assumptions", str(table), "-o", str(tmp_path / "p.csv")), "gpus.csv:2",
            "column 'value'")


def test_a_utf8_bom_csv_as_excel_csv_utf8_writes_it_is_read(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_bytes(b"\xef\xbb\xbf" + (HEADER + ROW.format(value=650, notes="x")).encode())
    assert capacity.load_scenario(small, assumptions=table).catalog.get("gpus", "h100-sxm", "board_power").value == 650


# --- crash safety -----------------------------------------------------------------------------------

def test_a_kill_during_export_leaves_no_orphaned_temporary_file(small, tmp_path):
    out = tmp_path / "p.xlsx"
    process = subprocess.Popen([sys.executable, "-m", "capacity.entry", "run", str(small), "-o", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "TMPDIR": str(tmp_path)})
    time.sleep(1.5)
    process.terminate()
    process.wait(timeout=120)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_the_iamc_workbook_is_byte_reproducible(small, tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    assert invoke("run", str(small), "--format", "iamc", "-o", str(a)).exit_code == 0
    assert invoke("run", str(small), "--format", "iamc", "-o", str(b)).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
