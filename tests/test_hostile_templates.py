"""Hostile and broken inputs (issue 14), family: damaged Excel input templates for
``capacity run X.xlsx``. A good template is written once for the module; each case corrupts a
copy (cells through openpyxl, or the XML inside the zip where openpyxl would refuse to write
it) and must be refused with one message naming the file, and the Sheet!Cell when one is to
blame (exit 2, no traceback, nothing written), or be read fast when it is only odd."""

from __future__ import annotations

import datetime as dt
import re
import time
import zipfile

import openpyxl
import pytest
from hostile_support import invoke, refused

import capacity

SHEETS = {"Scenario": "xl/worksheets/sheet2.xml", "Region": "xl/worksheets/sheet3.xml",
          "Use cases": "xl/worksheets/sheet4.xml", "Options": "xl/worksheets/sheet5.xml"}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "input.xlsx"
    assert invoke("template", str(path)).exit_code == 0
    book = openpyxl.load_workbook(path)
    assert [book[name].title for name in SHEETS] == list(SHEETS)
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    assert workbook.index('name="Scenario"') < workbook.index('name="Region"') < workbook.index('name="Options"')
    return path


def _run(path, tmp_path, before: bytes | None = None):
    out = tmp_path / "p.csv"
    if before is not None:
        out.write_bytes(before)
    return invoke("run", str(path), "-o", str(out)), out


def _zip_patched(template, tmp_path, change, name="broken.xlsx"):
    """A copy with every zip entry passed through `change(entry name, bytes)` (None drops it)."""
    out = tmp_path / name
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = change(info.filename, source.read(info.filename))
            if data is not None:
                target.writestr(info.filename, data)
    return out


def _cells_set(template, tmp_path, cells: dict, name="edited.xlsx"):
    """A copy with cells set through openpyxl: {(sheet, "D2"): value}."""
    book = openpyxl.load_workbook(template)
    for (sheet, ref), value in cells.items():
        book[sheet][ref] = value
    out = tmp_path / name
    book.save(out)
    return out


def _cell_xml(data: bytes, ref: str) -> bytes:
    return re.search(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', data).group(0)


def _replace_cell(sheet: str, ref: str, new: bytes):
    def change(name, data):
        if name == SHEETS[sheet]:
            old = _cell_xml(data, ref)
            return data.replace(old, new, 1)
        return data
    return change


# --- XML inside the zip that openpyxl cannot or will not read ------------------------------------

@pytest.mark.parametrize("literal", [b"INF", b"-INF", b"NaN", b"1e400", b"12abc", b"0x10"])
def test_a_number_cell_holding_a_non_number_in_its_xml_is_refused(template, tmp_path, literal):
    path = _zip_patched(template, tmp_path, _replace_cell("Region", "D2", b'<c r="D2" t="n"><v>' + literal + b"</v></c>"))
    result, out = _run(path, tmp_path)
    refused(result, "broken.xlsx", "", out)


def test_a_shared_string_index_out_of_range_is_refused(template, tmp_path):
    path = _zip_patched(template, tmp_path, _replace_cell("Region", "A2", b'<c r="A2" t="s"><v>99999</v></c>'))
    result, out = _run(path, tmp_path)
    refused(result, "broken.xlsx", "", out)


def test_a_negative_shared_string_index_is_refused(template, tmp_path):
    path = _zip_patched(template, tmp_path, _replace_cell("Region", "A2", b'<c r="A2" t="s"><v>-1</v></c>'))
    result, out = _run(path, tmp_path)
    refused(result, "broken.xlsx", "", out)


@pytest.mark.parametrize("sheet", ["Scenario", "Region", "Options"])
def test_a_truncated_sheet_is_refused(template, tmp_path, sheet):
    path = _zip_patched(template, tmp_path, lambda n, d: d[: len(d) // 2] if n == SHEETS[sheet] else d)
    result, out = _run(path, tmp_path, before=b"an earlier plan\n")
    refused(result, "broken.xlsx", "", out, b"an earlier plan\n", folder=tmp_path)


def test_a_shared_string_cell_in_a_workbook_without_shared_strings_is_refused(template, tmp_path):
    path = _zip_patched(template, tmp_path, _replace_cell("Use cases", "A3", b'<c r="A3" t="s"><v>0</v></c>'))
    result, out = _run(path, tmp_path)
    refused(result, "broken.xlsx", "", out)


def test_an_xml_entity_bomb_in_a_sheet_is_refused(template, tmp_path):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')

    def change(name, data):
        if name == SHEETS["Region"]:
            data = bomb + re.sub(rb"^<\?xml[^>]*\?>", b"", data)
            return data.replace(_cell_xml(data, "B2"), b'<c r="B2" t="inlineStr"><is><t>&lol3;</t></is></c>', 1)
        return data
    started = time.perf_counter()
    result, out = _run(_zip_patched(template, tmp_path, change), tmp_path)
    refused(result, "broken.xlsx", "", out)
    assert time.perf_counter() - started < 10


def test_an_external_entity_in_a_sheet_is_refused(template, tmp_path):
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'

    def change(name, data):
        if name == SHEETS["Region"]:
            data = xxe + re.sub(rb"^<\?xml[^>]*\?>", b"", data)
            return data.replace(_cell_xml(data, "B2"), b'<c r="B2" t="inlineStr"><is><t>&xxe;</t></is></c>', 1)
        return data
    result, out = _run(_zip_patched(template, tmp_path, change), tmp_path)
    message = refused(result, "broken.xlsx", "", out)
    assert "root:" not in result.output and "root:" not in message


@pytest.mark.parametrize("sheet", ["Scenario", "Region", "Use cases", "Options"])
def test_a_sheet_claiming_the_whole_grid_is_read_fast(template, tmp_path, sheet):
    def change(name, data):
        if name == SHEETS[sheet]:
            return re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', data)
        return data
    path = _zip_patched(template, tmp_path, change)
    started = time.perf_counter()
    read = capacity.load_scenario(path)
    assert time.perf_counter() - started < 15
    assert read.cases.keys() == capacity.load_scenario(template).cases.keys()


def _text_patched(template, tmp_path, sheet, ref, text: bytes):
    """A copy whose inline text cell `ref` holds `text` in its XML (openpyxl would refuse it)."""
    path = _cells_set(template, tmp_path, {(sheet, ref): "PLACEHOLDER-TEXT"})
    return _zip_patched(path, tmp_path, lambda n, d: d.replace(b"PLACEHOLDER-TEXT", text, 1)
                        if n == SHEETS[sheet] else d)


def _with_shared_string(template, tmp_path, sheet, ref, strings: bytes):
    """A copy whose cell `ref` refers to string 0 of a shared-strings part holding `strings`
    (the <sst> element's content), as Excel saves text."""
    def change(name, data):
        if name == SHEETS[sheet]:
            return data.replace(_cell_xml(data, ref), f'<c r="{ref}" t="s"><v>0</v></c>'.encode(), 1)
        if name == "[Content_Types].xml":
            return data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(b"</Relationships>", b'<Relationship Id="rIdStrings" Type="http://schemas.'
                                b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
                                b'Target="sharedStrings.xml"/></Relationships>')
        return data
    path = _zip_patched(template, tmp_path, change)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                         b'2006/main" count="1" uniqueCount="1">' + strings + b"</sst>")
    return path


def test_a_shared_string_part_is_read_as_excel_writes_it(template, tmp_path):
    path = _with_shared_string(template, tmp_path, "Region", "B2", b"<si><t>Holland</t></si>")
    assert capacity.load_scenario(path).cases["realist"].regions["NLD"].name == "Holland"


@pytest.mark.parametrize("sheet, ref", [("Region", "B2"), ("Use cases", "A3"), ("Scenario", "B3")])
def test_a_control_character_escaped_as_excel_writes_it_is_refused_with_its_cell(template, tmp_path, sheet, ref):
    path = _with_shared_string(template, tmp_path, sheet, ref, b"<si><t>Nether_x001B_lands</t></si>")
    result, out = _run(path, tmp_path)
    refused(result, f"broken.xlsx:{sheet}!{ref}", "U+001B", out)


def test_a_truncated_shared_strings_part_is_refused(template, tmp_path):
    path = _with_shared_string(template, tmp_path, "Region", "B2", b"<si><t>Holl")
    result, out = _run(path, tmp_path)
    refused(result, "broken.xlsx", "", out)


@pytest.mark.parametrize("char", [b"&#1;", b"&#x1b;", b"\x01", b"\x00"])
def test_a_control_character_raw_in_the_xml_is_refused(template, tmp_path, char):
    result, out = _run(_text_patched(template, tmp_path, "Use cases", "A3", b"draft" + char + b"ing"), tmp_path)
    refused(result, "broken.xlsx", "", out)


# --- files that are not a workbook ---------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"", b"name: netherlands\n", b"PK\x03\x04" + b"\x00" * 100,
                                     bytes(range(256)) * 4], ids=["empty", "yaml text", "a zip header only", "binary"])
def test_a_file_named_xlsx_that_is_not_a_zip_is_refused(tmp_path, content):
    path = tmp_path / "input.xlsx"
    path.write_bytes(content)
    result, out = _run(path, tmp_path)
    refused(result, "input.xlsx", "", out)


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "input.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    result, out = _run(path, tmp_path)
    refused(result, "input.xlsx", "cannot be opened", out)


def test_an_empty_zip_is_refused(tmp_path):
    path = tmp_path / "input.xlsx"
    with zipfile.ZipFile(path, "w"):
        pass
    result, out = _run(path, tmp_path)
    refused(result, "input.xlsx", "", out)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(template, tmp_path):
    zeros = b"\x00" * (60 * 1024 * 1024)
    path = _zip_patched(template, tmp_path, lambda n, d: zeros if n == SHEETS["Region"] else d)
    assert path.stat().st_size < 1024 * 1024
    started = time.perf_counter()
    result, out = _run(path, tmp_path)
    refused(result, "broken.xlsx", "", out)
    assert time.perf_counter() - started < 10


def test_a_highly_compressible_entry_under_the_size_limit_is_refused_by_its_ratio(template, tmp_path):
    path = _zip_patched(template, tmp_path, lambda n, d: d + b" " * 5_000_000 if n == SHEETS["Region"] else d)
    result, out = _run(path, tmp_path)
    refused(result, "broken.xlsx", "compressed", out)


def test_a_zip_of_2000_entries_is_refused(template, tmp_path):
    path = _zip_patched(template, tmp_path, lambda n, d: d)
    with zipfile.ZipFile(path, "a") as archive:
        for i in range(2000):
            archive.writestr(f"xl/media/x{i}.bin", b"x")
    result, out = _run(path, tmp_path)
    refused(result, "broken.xlsx", "entries", out)


def test_a_missing_sheet_is_refused_naming_it(template, tmp_path):
    book = openpyxl.load_workbook(template)
    del book["Region"]
    path = tmp_path / "edited.xlsx"
    book.save(path)
    result, out = _run(path, tmp_path)
    refused(result, "edited.xlsx:Region", "no sheet 'Region'", out)


def test_a_sheet_dropped_from_the_zip_is_refused(template, tmp_path):
    path = _zip_patched(template, tmp_path, lambda n, d: None if n == SHEETS["Options"] else d)
    result, out = _run(path, tmp_path)
    refused(result, "broken.xlsx", "", out)


# --- cells that hold the wrong kind of value ------------------------------------------------------------

CELLS = {   # name -> (sheet, cell, value, word)
    "a formula in a number cell": ("Region", "D2", "=1+1", "a formula"),
    "a formula in a text cell": ("Region", "B2", '=HYPERLINK("http://x","y")', "a formula"),
    "a formula in a year cell": ("Scenario", "B6", "=2020+6", "a formula"),
    "a date in a text cell": ("Region", "B2", dt.datetime(2026, 1, 1), "a date"),
    "a date in an id cell": ("Use cases", "A3", dt.date(2026, 3, 1), "a date"),
    "text in a number cell": ("Region", "D2", "many", "in a number cell"),
    "a number with a unit in a number cell": ("Region", "D2", "18 million", "in a number cell"),
    "a boolean in a number cell": ("Region", "D2", True, "in a number cell"),
    "text in a year cell": ("Scenario", "B6", "next year", "in a number cell"),
    "a fraction in a year cell": ("Scenario", "B6", 2026.5, "integer"),
    "a negative population": ("Region", "D2", -5, "population"),
    "a share above 1": ("Use cases", "E3", 7, "user_share"),
    "a text of 20,000 characters": ("Region", "B2", "x" * 20_000, "at most 10,000 characters"),
    "a tab in an id": ("Use cases", "A3", "draft\ting", "a code of letters"),
    "an unknown key label": ("Scenario", "A6", "horizon.first_yeer", "an unknown key"),
    "an unknown column header": ("Region", "D1", "populace", "an unknown column"),
    "an id like a formula": ("Use cases", "A3", "@SUM(1)", "use_cases"),
}


@pytest.mark.parametrize("case", list(CELLS))
def test_a_cell_of_the_wrong_kind_is_refused_naming_its_cell(template, tmp_path, case):
    sheet, ref, value, word = CELLS[case]
    path = _cells_set(template, tmp_path, {(sheet, ref): value})
    result, out = _run(path, tmp_path, before=b"an earlier plan\n")
    refused(result, f"edited.xlsx:{sheet}!{ref}", word, out, b"an earlier plan\n", folder=tmp_path)


def test_a_second_row_for_the_same_region_is_refused_naming_its_cell(template, tmp_path):
    path = _cells_set(template, tmp_path, {("Region", "A3"): "NLD", ("Region", "D3"): 1000})
    result, out = _run(path, tmp_path)
    refused(result, "edited.xlsx:Region!A3", "a second row", out)


def test_a_value_without_an_id_is_refused_naming_the_empty_cell(template, tmp_path):
    path = _cells_set(template, tmp_path, {("Region", "D4"): 1000})
    result, out = _run(path, tmp_path)
    refused(result, "edited.xlsx:Region!A4", "an empty code", out)
