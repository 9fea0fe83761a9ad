"""The Excel input template: round trip, edits, refused input, determinism."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import openpyxl
import pytest

import capacity
import capacity.data.catalog
from capacity.data.errors import InputError
from capacity.data.scenario.template_layout import is_template
from capacity.data.scenario.template_reader import read_template
from capacity.io.template_writer import write_template

SHIPPED = Path(__file__).resolve().parent.parent / "templates" / "demand-input.xlsx"
KEYS = ["scenario", "region", "option", "variable", "unit", "year"]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return write_template(tmp_path_factory.mktemp("template") / "plan.xlsx")


def _copy(template: Path, tmp_path: Path, edit) -> Path:
    """A copy of the template with `edit(book)` applied."""
    book = openpyxl.load_workbook(template)
    edit(book)
    path = tmp_path / "plan.xlsx"
    book.save(path)
    return path


def _row_of(sheet, key: str) -> int:
    return next(row[0].row for row in sheet.iter_rows() if row[0].value == key)


def _assert_same_results(a, b) -> None:
    merged = a.merge(b, on=KEYS, how="outer", suffixes=("_a", "_b"), indicator=True)
    assert (merged["_merge"] == "both").all()
    np.testing.assert_allclose(merged["value_a"], merged["value_b"], rtol=1e-12, atol=0)


def _value(results, option, variable, year, scenario="realist"):
    row = results[(results.option == option) & (results.variable == variable)
                  & (results.year == year) & (results.scenario == scenario)]
    assert len(row) == 1
    return float(row.value.iloc[0])


def test_the_written_template_reads_back_to_the_default_results(template, default_plan):
    scenario = read_template(template)
    assert list(scenario.cases) == ["realist", "maximalist"]
    _assert_same_results(capacity.run(scenario).results, default_plan.results)


def test_the_shipped_template_reads_back_to_the_default_results(default_plan):
    assert SHIPPED.exists()
    _assert_same_results(capacity.run(read_template(SHIPPED)).results, default_plan.results)


def test_the_template_has_the_sheets_styles_units_and_drop_downs(template):
    book = openpyxl.load_workbook(template)
    assert book.sheetnames[:5] == ["Instructions", "Scenario", "Region", "Use cases", "Options"]
    uses = book["Use cases"]
    header = [cell.value for cell in uses[1]]
    units = dict(zip(header, [cell.value for cell in uses[2]]))
    assert units["input_tokens"] == "tokens" and units["requests_per_user_per_day"] == "per day"
    assert units["cached_input_share"] == "share, 0–1" and units["users"] == "people"
    assert uses["A3"].value == "drafting" and uses["A3"].fill.fgColor.rgb.endswith("FFF2CC")
    region = book["Region"]
    assert [c.value for c in region[1]][7:9] == ["electricity_consumption", "unit"]
    assert region["I2"].value == "TWh a year"
    # the library's default is shown, styled as a default while unchanged, its source in the comment
    cell = _region_cell(book, "population")
    assert region.cell(2, region[cell].column + 1).value == "people"
    population = capacity.data.catalog.default_catalog().get("countries", "NLD", "population")
    assert region[cell].value == pytest.approx(float(population.value))
    assert region[cell].comment.text.startswith("default from the library: countries:NLD:population")
    rules = [rule for ranges in region.conditional_formatting for rule in ranges.rules
             if cell in str(ranges.sqref)]
    assert rules and rules[0].formula[0].startswith(f"{cell}=") and rules[0].dxf.font.i
    defaults = {(r[0], r[1]): r[2] for r in book["Defaults"].iter_rows(min_row=2, values_only=True)}
    assert defaults[("Region", cell)] == region[cell].value and book["Defaults"].sheet_state == "hidden"
    options = book["Options"]
    gpu_row = _row_of(options, "options.hosted-open-weight.gpu")
    assert options.cell(gpu_row, 2).value == "h100-sxm"
    rules = {str(dv.sqref): dv for dv in options.data_validations.dataValidation}
    gpu_rule = next(dv for ref, dv in rules.items() if f"B{gpu_row}" in ref.split())
    assert gpu_rule.type == "list" and gpu_rule.formula1.startswith("Lists!")
    from openpyxl.utils import get_column_letter
    share_column = get_column_letter(header.index("cached_input_share") + 1)
    share = next(dv for dv in uses.data_validations.dataValidation if f"{share_column}3" in str(dv.sqref))
    assert (share.type, share.operator, share.formula1, share.formula2) == \
        ("decimal", "between", "0", "1")
    lists = book["Lists"]
    assert lists["B1"].value == "gpus" and "h200-sxm" in [c.value for c in lists["B"]]
    assert gpu_rule.formula1 == f"Lists!$B$2:$B${len(capacity.data.catalog.default_catalog().ids('gpus')) + 1}"


def test_an_edited_template_changes_the_results(template, tmp_path, default_plan):
    def edit(book):
        uses = book["Use cases"]
        uses["A11"], uses["B11"] = "more-drafting", "drafting"      # a ninth use case
        options = book["Options"]
        options.cell(_row_of(options, "options.hosted-open-weight.gpu"), 2).value = "h200-sxm"

    scenario = read_template(_copy(template, tmp_path, edit))
    assert "more-drafting" in scenario.cases["realist"].use_cases
    assert scenario.cases["realist"].options.hosted_open_weight.gpu == "h200-sxm"
    results, base = capacity.run(scenario).results, default_plan.results
    tokens = _value(results, "frontier-api", "Demand|Tokens", 2030)
    base_tokens = _value(base, "frontier-api", "Demand|Tokens", 2030)
    assert tokens > base_tokens * 1.001
    # before the roadmap's 2028 switch the hosted fleet is H200s: fewer of them than H100s
    hosted = _value(results, "hosted-open-weight", "Capacity|GPUs", 2026)
    base_hosted = _value(base, "hosted-open-weight", "Capacity|GPUs", 2026)
    assert hosted != base_hosted
    assert _value(results, "hosted-open-weight", "Capacity|GPUs", 2030) > \
        _value(base, "hosted-open-weight", "Capacity|GPUs", 2030)   # same GPU, more tokens


def _refused(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        read_template(path)
    return str(caught.value)


@pytest.mark.parametrize("cell, value, prefix, fragment", [
    # text in a number cell
    ("J3", "many", "Use cases!J3: use_cases.drafting.input_tokens: found text 'many'",
     "expected a number in token"),
    # a formula in an input cell
    ("J4", "=1000*2", "Use cases!J4: ", "found a formula '=1000*2'"),
])
def test_a_bad_input_cell_is_refused_naming_the_cell(template, tmp_path, cell, value, prefix, fragment):
    def edit(book):
        book["Use cases"][cell] = value
    path = _copy(template, tmp_path, edit)
    message = _refused(path)
    assert message.startswith(f"{path}:{prefix}")
    assert fragment in message


def test_a_missing_sheet_is_refused(template, tmp_path):
    path = _copy(template, tmp_path, lambda book: book.remove(book["Options"]))
    assert _refused(path).startswith(f"{path}:Options: found no sheet 'Options'")


def test_an_unknown_gpu_is_refused_naming_its_cell(template, tmp_path):
    row = _row_of(openpyxl.load_workbook(template)["Options"], "options.hosted-open-weight.gpu")

    def edit(book):
        book["Options"].cell(row, 2).value = "h100-sxn"
    path = _copy(template, tmp_path, edit)
    message = _refused(path)
    assert message.startswith(f"{path}:Options!B{row}: options.hosted-open-weight.gpu: found "
                              "unknown id 'h100-sxn'")
    assert "did you mean 'h100-sxm'?" in message


def test_an_out_of_range_share_is_refused_naming_its_cell(template, tmp_path):
    from openpyxl.utils import get_column_letter
    header = [c.value for c in openpyxl.load_workbook(template)["Use cases"][1]]
    column = get_column_letter(header.index("frontier_share") + 1)

    def edit(book):
        book["Use cases"][f"{column}5"] = 1.5     # frontier_share of agentic-coding
    path = _copy(template, tmp_path, edit)
    assert _refused(path).startswith(f"{path}:Use cases!{column}5: use_cases.agentic-coding.frontier_share")


def test_an_over_compressed_archive_is_refused(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 2_000_000)
    message = _refused(path)
    assert message.startswith(f"{path}: found entry 'xl/worksheets/sheet1.xml' compressed")
    assert "expected a compression ratio of at most 100" in message


def test_an_oversized_archive_is_refused(tmp_path):
    path = tmp_path / "large.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/big.bin", b"\0" * (51 * 1024 * 1024))
    assert "bytes once uncompressed; expected at most 52428800 bytes" in _refused(path)


def test_an_archive_with_too_many_entries_is_refused(tmp_path):
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(1001):
            archive.writestr(f"x{i}.xml", b"<a/>")
    assert _refused(path) == f"{path}: found an archive of 1001 entries; expected at most 1000 " \
                             "entries in an .xlsx workbook"


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "plan.xlsx"
    path.write_text("name: not a workbook\n")
    assert _refused(path).startswith(f"{path}: found a file that is not an .xlsx workbook")


def test_reading_refuses_to_run_without_defusedxml(template, monkeypatch):
    import openpyxl.xml
    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    assert "safe XML parsing" in _refused(template)


def test_two_writes_give_the_same_bytes(tmp_path):
    first, second = write_template(tmp_path / "a.xlsx"), write_template(tmp_path / "b.xlsx")
    assert first.read_bytes() == second.read_bytes()


def test_is_template_goes_by_the_suffix():
    assert is_template("filled.xlsx") and is_template(Path("PLAN.XLSX"))
    assert not is_template("netherlands.yaml") and not is_template("netherlands")


def test_cli_writes_a_template_and_runs_it_to_the_default_results(tmp_path):
    from click.testing import CliRunner

    from capacity.cli import main
    runner = CliRunner()
    book = tmp_path / "input.xlsx"
    assert runner.invoke(main, ["template", str(book)]).exit_code == 0
    from_template = runner.invoke(main, ["run", str(book), "--format", "csv", "-o", "-"])
    default = runner.invoke(main, ["run", "--format", "csv", "-o", "-"])
    assert from_template.exit_code == 0 and from_template.stdout == default.stdout


def test_cli_refuses_a_broken_template_with_the_cell_and_exit_code_2(tmp_path):
    import subprocess
    import sys

    from openpyxl import load_workbook

    from capacity.io.template_writer import write_template
    book = tmp_path / "input.xlsx"
    write_template(book)
    workbook = load_workbook(book)
    sheet = workbook["Options"]
    cell = next(c for row in sheet.iter_rows() for c in row
                if c.value == "options.hosted-open-weight.gpu")
    sheet.cell(row=cell.row, column=cell.column + 1).value = "h100-sxn"
    workbook.save(book)
    out = tmp_path / "plan.xlsx"
    process = subprocess.run([sys.executable, "-m", "capacity.cli", "run", str(book), "-o", str(out)],
                             capture_output=True, text=True)
    assert process.returncode == 2 and "Traceback" not in process.stderr
    assert f"{book}:Options!" in process.stderr and "h100-sxn" in process.stderr
    assert not out.exists()


def test_shipped_template_is_what_write_template_writes_today(tmp_path):
    from pathlib import Path

    from capacity.io.template_writer import write_template
    fresh = write_template(tmp_path / "fresh.xlsx")
    shipped = Path(__file__).resolve().parent.parent / "templates" / "demand-input.xlsx"
    assert fresh.read_bytes() == shipped.read_bytes(), "run capacity template templates/demand-input.xlsx"


def _region_cell(book, key: str) -> str:
    header = [cell.value for cell in book["Region"][1]]
    from openpyxl.utils import get_column_letter
    return f"{get_column_letter(header.index(key) + 1)}2"


def test_a_cleared_default_returns_to_the_library_and_an_edited_one_changes_the_results(
        template, tmp_path, default_plan):
    cell = _region_cell(openpyxl.load_workbook(template), "population")

    def clear(book):
        book["Region"][cell].value = None
    cleared = read_template(_copy(template, tmp_path, clear))
    _assert_same_results(capacity.run(cleared).results, default_plan.results)
    assert "countries:NLD:population" in capacity.run(cleared).assumptions["id"].tolist()

    def double(book):
        book["Region"][cell].value = book["Region"][cell].value * 2
    doubled = capacity.run(read_template(_copy(template, tmp_path, double)))
    tokens = lambda plan: plan.results.query("variable == 'Demand|Tokens'")["value"].sum()
    assert tokens(doubled) > tokens(default_plan) * 1.001      # the population-based use cases grow
    # an edited value is the analyst's: the library row no longer supplies it
    assert "countries:NLD:population" not in doubled.assumptions["id"].tolist()


def test_set_works_on_a_filled_template(template, tmp_path):
    from click.testing import CliRunner

    from capacity.cli import main
    out = tmp_path / "set.csv"
    done = CliRunner().invoke(main, ["run", str(template), "--set", "demand.scale=2", "-o", str(out)])
    assert done.exit_code == 0, done.output
    read = pd.read_csv(out)
    expected = capacity.run(overrides={"demand.scale": 2}).results
    got = read.set_index(["scenario", "region", "option", "variable", "year"])["value"]
    want = expected.set_index(["scenario", "region", "option", "variable", "year"])["value"]
    assert np.allclose(got.loc[want.index].to_numpy(), want.to_numpy(), rtol=1e-12, equal_nan=True)
    done = CliRunner().invoke(main, ["run", str(template), "--set", "demand.scale=-1", "-o", str(out)])
    assert done.exit_code == 2 and "--set demand.scale" in done.output
