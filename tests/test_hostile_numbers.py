"""Hostile and broken inputs (issue 14): each is refused with one located message, exit code 2,
no traceback, nothing written, and an existing output left byte-identical.

This family: numbers as people write them (through --set, a YAML scenario and an assumption
CSV). The cases run in-process through click's runner, so the module stays fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import capacity
from capacity.cli import main

PRICE = "regions.NLD.electricity_price"
NUMBERS = {  # what an analyst may type -> a word the refusal must contain
    "0,15 USD/kWh": "decimal comma",
    "0,15": "decimal comma",
    "2,5": "decimal comma",
    "18 000 000": "thousands separators",
    "18\u202f000\u202f000": "thousands separators",
    "18,000,000": "thousands separators",
    "18,000": "thousands separator",
    "2=3": "not one number and a unit",
    "1 ((": "not a unit",
    "1e400": "finite",
    "-1e400 USD/kWh": "finite",
    "nan": "does not start with a number",
    "inf": "does not start with a number",
    "five": "does not start with a number",
    "0.15 USD/kWh/": "not a unit",
    "0.15 USD/kWh 2": "not a unit",
    "0.15;0.2": "not one number and a unit",
    "15 %": "expected a quantity",
}


def _refused(result, where: str, word: str, out: Path | None = None, before: bytes | None = None):
    assert result.exit_code == 2, (result.exit_code, result.output)
    message = result.output.strip().splitlines()[-1]
    assert message.startswith("capacity: error:"), result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert where in message, message
    assert word in message, message
    if out is not None:
        assert (out.read_bytes() == before) if before is not None else not out.exists()


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.mark.parametrize("text", list(NUMBERS))
def test_a_number_as_people_write_it_is_refused_in_set(runner, tmp_path, text):
    out = tmp_path / "plan.csv"
    result = runner.invoke(main, ["run", "--set", f"{PRICE}={text}", "-o", str(out)])
    _refused(result, f"--set {PRICE}", NUMBERS[text], out)


@pytest.mark.parametrize("text", ["0,15 USD/kWh", "18 000 000", "2=3", "1 (("])
def test_an_existing_output_is_left_byte_identical(runner, tmp_path, text):
    out = tmp_path / "plan.csv"
    out.write_bytes(b"an earlier plan\n")
    result = runner.invoke(main, ["run", "--set", f"{PRICE}={text}", "-o", str(out)])
    _refused(result, f"--set {PRICE}", NUMBERS[text], out, b"an earlier plan\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.csv"]      # no temporary left


@pytest.mark.parametrize("text", ["0,15 USD/kWh", "18 000 000 people", "2=3", "1e400"])
def test_a_number_as_people_write_it_is_refused_in_a_scenario_file(runner, tmp_path, text):
    source = Path(capacity.load_scenario().source).read_text(encoding="utf-8")
    field, value = ("population", text) if "people" in text else ("electricity_price", text)
    edited = source.replace("regions:\n  NLD: {}", f"regions:\n  NLD:\n    {field}: \"{value}\"", 1)
    assert edited != source
    path = tmp_path / "s.yaml"
    path.write_text(edited, encoding="utf-8")
    line = next(i for i, l in enumerate(edited.splitlines(), start=1) if l.strip().startswith(f"{field}:"))
    result = runner.invoke(main, ["run", str(path), "-o", str(tmp_path / "p.csv")])
    _refused(result, f"s.yaml:{line}", NUMBERS.get(text.replace(" people", ""), "finite"), tmp_path / "p.csv")


@pytest.mark.parametrize("value", ["0,15", "1e400", "nan", "18 000", "2=3"])
def test_a_number_in_an_assumption_csv_names_the_file_line_and_value_column(runner, tmp_path, value):
    path = tmp_path / "gpus.csv"
    path.write_text("id,parameter,value,unit,low,high,source,url,source_date,quality,notes\n"
                    f"h100-sxm,board_power,\"{value}\",W,,,test,https://example.org,2026-01-01,estimate,\"estimate: a test value\"\n", encoding="utf-8")
    result = runner.invoke(main, ["run", "--assumptions", str(path), "-o", str(tmp_path / "p.csv")])
    _refused(result, "gpus.csv:2", "column 'value'", tmp_path / "p.csv")


@pytest.mark.parametrize("parameter, value, unit", [("hbm_capacity", "0", "GB"), ("memory_bandwidth", "-3", "TB/s"),
                                                    ("board_power", "0", "W"), ("gpus_per_server", "-8", "GPU")])
def test_an_impossible_gpu_property_is_blamed_on_its_row(runner, tmp_path, parameter, value, unit):
    path = tmp_path / "gpus.csv"
    path.write_text("id,parameter,value,unit,low,high,source,url,source_date,quality,notes\n"
                    f"h100-sxm,{parameter},{value},{unit},,,test,https://example.org,2026-01-01,estimate,"
                    "\"estimate: a test value\"\n", encoding="utf-8")
    result = runner.invoke(main, ["run", "--assumptions", str(path), "-o", str(tmp_path / "p.csv")])
    _refused(result, "gpus.csv:2", "above 0", tmp_path / "p.csv")


@pytest.mark.parametrize("text, word", [("-40", "a yearly change is a fraction"), ("-1", "> -1"),
                                        ("-300 %", "expected a quantity in 1/yr")])
def test_a_yearly_change_of_minus_100_percent_or_more_is_refused_with_a_hint(runner, tmp_path, text, word):
    key = "options.frontier-api.frontier_tier.price_change"
    result = runner.invoke(main, ["run", "--set", f"{key}={text}", "-o", str(tmp_path / "p.csv")])
    _refused(result, f"--set {key}", word, tmp_path / "p.csv")


def test_a_yearly_change_in_percent_per_year_is_read():
    plan = capacity.run(overrides={"options.frontier-api.frontier_tier.price_change": "-30 %/yr"})
    same = capacity.run(overrides={"options.frontier-api.frontier_tier.price_change": -0.3})
    assert plan.results["value"].equals(same.results["value"])


@pytest.mark.parametrize("setting, row", [
    ("options.domestic-buildout.pue=5", "defaults:facility:pue_hyperscale"),
    ("regions.NLD.electricity_price=15 USD/kWh", "countries:NLD:electricity_price"),
    ("regions.NLD.electricity_price=0.001 USD/kWh", "countries:NLD:electricity_price"),
])
def test_a_value_far_outside_its_sourced_range_warns_naming_the_row(runner, tmp_path, setting, row):
    out = tmp_path / "p.csv"
    result = runner.invoke(main, ["run", "--set", setting, "-o", str(out)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "far outside the sourced range" in line]
    assert len(warnings) == 1 and row in warnings[0] and f"--set {setting}" in warnings[0], warnings
    assert out.exists()


@pytest.mark.parametrize("setting", ["options.domestic-buildout.pue=1.4", "regions.NLD.electricity_price=0.3 USD/kWh"])
def test_a_value_near_its_sourced_range_gives_no_warning(runner, tmp_path, setting):
    result = runner.invoke(main, ["run", "--set", setting, "-o", str(tmp_path / "p.csv")])
    assert result.exit_code == 0 and "far outside" not in result.output


@pytest.mark.parametrize("argv", [
    ["run", "--draws", "1000000000000"], ["run", "--draws", "0"], ["report", "--draws", "-5"],
    ["check", "--draws", "100001", "--require", "cheapest(2030) == frontier-api"],
    ["sensitivity", "--output", "Cost|Total[domestic-buildout, 2030]", "--sobol", "--samples", "10000000"],
])
def test_a_count_beyond_what_fits_in_memory_is_refused_before_anything_runs(runner, tmp_path, argv):
    out = tmp_path / "plan.csv"
    result = runner.invoke(main, argv + (["-o", str(out)] if argv[0] == "run" else []))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "range" in result.output, result.output
    assert not out.exists()


def test_the_draw_limit_of_the_library_is_the_command_line_limit():
    from capacity.analysis.uncertainty import MAX_DRAWS
    from capacity.cli import MAX_DRAWS as CLI_MAX_DRAWS
    assert CLI_MAX_DRAWS == MAX_DRAWS
    scenario = capacity.load_scenario()
    with pytest.raises(capacity.InputError, match="from 1 to 100,000"):
        capacity.analysis.uncertainty.monte_carlo(scenario, MAX_DRAWS + 1)


def test_a_bad_required_check_is_refused_before_the_model_runs(runner, monkeypatch):
    import capacity.cli as cli

    def must_not_run(*args, **kwargs):
        raise AssertionError("the model ran before --require was parsed")
    monkeypatch.setattr(cli, "_load_and_run", must_not_run)
    result = runner.invoke(main, ["check", "--require", "Cost|Total[frontier-api, 2030] <<< 5"])
    assert result.exit_code == 2, result.output
    assert "--require" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("setting, where", [
    ("use_cases.drafting.archetype=0:", "use_cases.drafting.archetype"),      # found by the property test
    ("use_cases.drafting.archetype=[1, 2]", "use_cases.drafting.archetype"),
    ("options.domestic-buildout.gpu=0:", "options.domestic-buildout.gpu"),
    ("options.hosted-open-weight.gpu=[a]", "options.hosted-open-weight.gpu"),
])
def test_a_mapping_or_list_where_an_id_belongs_is_refused_at_the_set(runner, tmp_path, setting, where):
    out = tmp_path / "plan.csv"
    result = runner.invoke(main, ["run", "--set", setting, "-o", str(out)])
    _refused(result, where, "expected a valid string", out)
