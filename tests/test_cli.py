"""The command line: exit codes, stdout/stderr discipline, and what it writes."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from capacity.cli import main
from capacity.data.paths import scenarios_dir
from capacity.model.plan import REQUIRED_VARIABLES


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def test_run_json_on_stdout_has_every_required_variable_finite(runner):
    result = runner.invoke(main, ["run", "--format", "json", "-o", "-"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["schema_version"] == 1
    records = document["results"]
    assert set(records[0]) == {"scenario", "region", "option", "variable", "unit", "year", "value"}
    seen = {(r["option"], r["variable"]) for r in records}
    for option in ("frontier-api", "hosted-open-weight", "domestic-buildout"):
        for variable in REQUIRED_VARIABLES:
            assert (option, variable) in seen
    assert all(r["value"] is not None for r in records if r["variable"] in REQUIRED_VARIABLES)


def test_run_writes_a_workbook_and_prints_a_summary(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["run"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "netherlands-plan.xlsx").stat().st_size > 5000
    assert "domestic-buildout" in result.stdout
    from openpyxl import load_workbook
    book = load_workbook(tmp_path / "netherlands-plan.xlsx")
    assert {"Summary", "frontier-api", "hosted-open-weight", "domestic-buildout",
            "Assumptions"} <= set(book.sheetnames)


def test_csv_output_parses(runner, tmp_path):
    out = tmp_path / "results.csv"
    result = runner.invoke(main, ["run", "-o", str(out)])
    assert result.exit_code == 0
    import pandas as pd
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["scenario", "region", "option", "variable", "unit", "year", "value"]


@pytest.mark.parametrize("old, new", [
    ("    max_tpot_ms: 50\n    location", "    max_tpot_ms: 50 kg\n    location"),
    ("  drafting: {}", "  drafting: {requests_per_user_per_day: -3}"),
    ("    gpu: h100-sxm", "    gpu: h100-sxn"),
    ("  last_year: 2035", "  lastyear: 2035"),
])
def test_bad_scenario_exits_2_with_one_message_and_writes_nothing(tmp_path, old, new):
    text = (scenarios_dir() / "netherlands.yaml").read_text().replace(old, new, 1)
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(text)
    out = tmp_path / "plan.xlsx"
    out.write_bytes(b"previous results")
    process = subprocess.run([sys.executable, "-m", "capacity.cli", "run", str(scenario), "-o", str(out)],
                             capture_output=True, text=True)
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert process.stderr.startswith(f"capacity: error: {scenario}:")
    assert len(process.stderr.strip().splitlines()) == 1
    assert process.stdout == ""
    assert out.read_bytes() == b"previous results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "plan.xlsx"]


def test_unwritable_destination_exits_2(runner, tmp_path):
    result = runner.invoke(main, ["run", "-o", str(tmp_path / "no-such-folder" / "plan.xlsx")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_throughput_command_text_and_json(runner):
    result = runner.invoke(main, ["throughput", "--model", "llama-3.3-70b", "--gpu", "h100-sxm",
                                  "--input-tokens", "2000", "--output-tokens", "500",
                                  "--max-tpot-ms", "50", "--format", "json"])
    assert result.exit_code == 0, result.output
    estimate = json.loads(result.stdout)
    assert estimate["output_tokens_per_s_per_gpu"] > 0
    assert estimate["time_per_output_token_ms"] <= 50
    bad = runner.invoke(main, ["throughput", "--model", "llama-3.3-70", "--gpu", "h100-sxm"])
    assert bad.exit_code == 2 and "did you mean 'llama-3.3-70b'" in bad.stderr


def test_version_and_help(runner):
    assert runner.invoke(main, ["--version"]).output.startswith("capacity, version ")
    for command in ([], ["run"], ["throughput"], ["calibrate"]):
        result = runner.invoke(main, command + ["--help"])
        assert result.exit_code == 0 and "Examples" in result.output


def test_the_same_inputs_give_a_byte_identical_workbook(runner, tmp_path):
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    assert runner.invoke(main, ["run", "-o", str(first)]).exit_code == 0
    assert runner.invoke(main, ["run", "-o", str(second)]).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    from openpyxl import load_workbook
    assert "what each way of getting the country" in load_workbook(first)["Summary"]["A1"].value


def test_user_text_is_written_as_text_never_as_a_formula(tmp_path):
    from capacity.data.paths import scenarios_dir
    text = (scenarios_dir() / "netherlands.yaml").read_text().replace(   # a worldview's name is free text
        "  realist:", "  '=HYPERLINK(\"http://x\")':")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(text)
    out = tmp_path / "plan.xlsx"
    result = CliRunner().invoke(main, ["run", str(scenario), "-o", str(out)])
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook
    book = load_workbook(out)
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row
             if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" for c in cells)


def test_the_fast_top_level_help_is_clicks_own():
    """`capacity --help` is answered without importing click (capacity.entry); its text must be
    what the click group prints. If this fails: python -m capacity.entry --regenerate."""
    from capacity.entry import HELP, rendered_help
    assert HELP == rendered_help()


def test_the_entry_point_hands_everything_else_to_the_command_line(tmp_path):
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "capacity.entry", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and "capacity, version" in done.stdout
    done = subprocess.run([sys.executable, "-m", "capacity.entry", "run", "nowhere"], capture_output=True,
                          text=True, cwd=tmp_path)
    assert done.returncode == 2 and "capacity: error:" in done.stderr
    done = subprocess.run([sys.executable, "-m", "capacity.entry", "--help"], capture_output=True, text=True)
    assert done.stdout.startswith("Usage: capacity [OPTIONS] COMMAND")


def test_csv_for_a_decimal_comma_excel_holds_the_same_numbers(tmp_path):
    import io

    import pandas as pd
    runner = CliRunner()
    plain = runner.invoke(main, ["run", "--format", "csv", "-o", "-"])
    dutch = runner.invoke(main, ["run", "--format", "csv", "-o", "-", "--csv-sep", ";", "--decimal", ","])
    assert plain.exit_code == 0 and dutch.exit_code == 0
    assert dutch.stdout.splitlines()[0] == plain.stdout.splitlines()[0].replace(",", ";")
    a = pd.read_csv(io.StringIO(plain.stdout))
    b = pd.read_csv(io.StringIO(dutch.stdout), sep=";", decimal=",")
    pd.testing.assert_frame_equal(a, b)
    assert any("," in line.rsplit(";", 1)[1] for line in dutch.stdout.splitlines()[1:])   # decimal commas
    tab = runner.invoke(main, ["run", "--format", "csv", "-o", str(tmp_path / "t.csv"), "--csv-sep", "tab"])
    assert tab.exit_code == 0
    pd.testing.assert_frame_equal(a, pd.read_csv(tmp_path / "t.csv", sep="\t"))


@pytest.mark.parametrize("argv, message", [
    (["--format", "csv", "-o", "-", "--decimal", ","], "--csv-sep ';' (or tab) with --decimal ','"),
    (["-o", "plan.xlsx", "--csv-sep", ";"], "--csv-sep and --decimal shape CSV output"),
])
def test_csv_conventions_that_cannot_work_are_refused_before_the_run(tmp_path, argv, message):
    result = CliRunner().invoke(main, ["run", *argv])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "plan.xlsx").exists()
