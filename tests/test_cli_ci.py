"""The command line for planners and CI: --set, check (exit codes, JSON, JUnit), diff."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from capacity.cli import main


def cli(*args):
    return subprocess.run([sys.executable, "-m", "capacity.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def results(runner, *args):
    out = runner.invoke(main, ["run", "--format", "json", "-o", "-", *args])
    assert out.exit_code == 0, out.output
    frame = pd.DataFrame(json.loads(out.stdout)["results"])
    return frame.set_index(["scenario", "region", "option", "variable", "year"])["value"].sort_index()


def test_twice_the_demand_never_gives_fewer_gpus_or_less_cost(runner):
    base, double = results(runner), results(runner, "--set", "demand.scale=2")
    for variable in ("Capacity|GPUs", "Capacity|GPUs|Offshore", "Cost|Total", "Power|Facility"):
        a, b = base.xs(variable, level="variable"), double.xs(variable, level="variable")
        assert (b >= a * (1 - 1e-12)).all(), variable
    np.testing.assert_allclose(double.xs("Demand|Tokens", level="variable"),
                               2 * base.xs("Demand|Tokens", level="variable"), rtol=1e-12)


def test_pue_override_sets_facility_over_it_power(runner):
    changed = results(runner, "--set", "options.domestic-buildout.pue=1.25")
    facility = changed.xs(("domestic-buildout", "Power|Facility"), level=("option", "variable"))
    it = changed.xs(("domestic-buildout", "Power|IT"), level=("option", "variable"))
    arrived = facility.index.get_level_values("year") >= 2031       # after the 5-year grid lead time
    np.testing.assert_allclose(facility[arrived] / it[arrived], 1.25, rtol=1e-12)


@pytest.mark.parametrize("override, named", [
    ("options.domestic-buildout.peu=1.25", "options.domestic-buildout.peu"),
    ("options.domestic-buildout.pue=3 kg", "options.domestic-buildout.pue"),
    ("demand.scale=-2", "demand.scale"),
    ("nothing", "nothing"),
])
def test_bad_override_exits_2_naming_the_path(override, named):
    process = cli("run", "--format", "json", "-o", "-", "--set", override)
    assert process.returncode == 2 and process.stdout == ""
    assert "Traceback" not in process.stderr and named in process.stderr


def test_check_exit_codes_and_outputs(tmp_path):
    passing = "Grid|Share of consumption[frontier-api, 2030] <= 2 %"
    failing = "Capacity|GPUs[hosted-open-weight, 2030, NLD, realist] < 10"
    ok = cli("check", "--require", passing)
    assert ok.returncode == 0 and "ok" in ok.stdout
    junit = tmp_path / "checks.xml"
    failed = cli("check", "--require", passing, "--require", failing, "--junit", str(junit),
                 "--format", "json")
    assert failed.returncode == 1
    document = json.loads(failed.stdout)
    assert document["schema_version"] == 1
    assert [c["ok"] for c in document["checks"]] == [True, False]
    assert set(document["checks"][1]) == {"expr", "ok", "actual", "unit", "message"}
    assert document["checks"][1]["actual"] > 10 and document["checks"][1]["unit"] == "GPU"
    suite = ElementTree.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert int(suite.get("tests")) == 2 and int(suite.get("failures")) == 1
    for bad in ("Grid|Share[domestic-buildout, 2030] <= 2 %", "Cost|Total[domestic-buildout, 2050] < 1",
                "Cost|Total[domestic-bildout, 2030] < 1", "Cost|Total domestic-buildout 2030 < 1"):
        process = cli("check", "--require", bad)
        assert process.returncode == 2 and "Traceback" not in process.stderr, bad


def test_checks_in_a_scenario_file_are_run_and_located(tmp_path):
    from capacity.data.paths import scenarios_dir
    scenario = tmp_path / "nl.yaml"
    scenario.write_text((scenarios_dir() / "netherlands.yaml").read_text()
                        + "\nchecks:\n  - 'Sovereignty|Domestic share[domestic-buildout, 2035] >= 99 %'\n"
                          "  - 'Cost|Total[frontier-api, 2030] < 1 USD/yr'\n")
    process = cli("check", str(scenario))
    assert process.returncode == 1
    assert process.stdout.count("ok") >= 1 and "FAILED" in process.stdout


def test_diff_reports_what_a_set_changed_and_nothing_else(runner):
    out = runner.invoke(main, ["diff", "netherlands", "netherlands", "--set",
                               "options.domestic-buildout.pue=1.25"])
    assert out.exit_code == 0
    import capacity
    from capacity.analysis.diff import diff_results
    before = capacity.run().results
    after = capacity.run(capacity.load_scenario(None, overrides=["options.domestic-buildout.pue=1.25"])).results
    changed = diff_results(before, after)
    assert set(changed["option"]) == {"domestic-buildout", "hedged"}   # hedged owns capacity too
    assert set(changed["variable"]) <= {"Power|Facility", "Energy|Electricity", "Grid|Share of consumption",
                                        "Grid|Share of peak demand", "Emissions|CO2", "Cost|Total",
                                        "Cost|Capital", "Cost|Operating", "Cost|Per million tokens",
                                        "Cost|Per request", "Cost|NPV"}
    assert {"Power|Facility", "Energy|Electricity"} <= set(changed["variable"])
    assert (changed["year"] >= 2031).all()
    unchanged = runner.invoke(main, ["diff", "netherlands", "netherlands"])
    assert "No value changed" in unchanged.output or "0 values changed" in unchanged.output


def test_every_command_has_examples_in_its_help(runner):
    for command in ([], ["run"], ["check"], ["diff"], ["throughput"], ["calibrate"], ["assumptions"],
                    ["assumptions", "list"], ["assumptions", "show"]):
        help_text = runner.invoke(main, command + ["--help"]).output
        assert "Examples:" in help_text, command


def test_the_command_line_starts_without_loading_the_model_libraries():
    probe = ("import sys; from click.testing import CliRunner; from capacity.cli import main; "
             "CliRunner().invoke(main, ['--help']); "
             "print(sorted(m for m in ('numpy', 'pandas', 'pint', 'pydantic', 'openpyxl') if m in sys.modules))")
    process = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert process.stdout.strip() == "[]"


def test_results_go_to_stdout_and_nothing_else(tmp_path):
    process = cli("run", "--format", "csv", "-o", "-")
    # not a terminal: no progress; only the calibration guard's warnings go to stderr
    assert process.returncode == 0
    assert all(line.startswith("capacity: warning: ") for line in process.stderr.splitlines())
    assert process.stdout.startswith("scenario,region,option,variable,unit,year,value")
