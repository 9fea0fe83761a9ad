"""The library API as a planner uses it: load_scenario and run with overrides and assumption
files, filled templates through the library, Plan.to_* writers (the same bytes as the CLI),
Plan.table refusing unknown names, and a short repr."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import capacity
from capacity.analysis.diff import read_results_json
from capacity.cli import FORMATS as CLI_FORMATS
from capacity.cli import main
from capacity.data.catalog import COLUMNS
from capacity.io.export.writers import FORMATS
from capacity.model.plan import RESULT_COLUMNS, VARIABLES

KEYS = ["scenario", "region", "option", "variable", "unit", "year"]
SAME_RUN = 1e-13
"""Tolerance between two runs of the same inputs in one process: pint < 0.25 (Python 3.10)
caches unit factors in the order it first meets them, so a conversion can differ by a few ulp
with what ran before (~6e-15 seen); pint >= 0.25 gives identical results."""
OVERRIDES = {"demand.scale": 2, "options.domestic-buildout.pue": "1.25"}
SET = ["--set", "demand.scale=2", "--set", "options.domestic-buildout.pue=1.25"]


def _cli_results(*arguments: str) -> pd.DataFrame:
    result = CliRunner().invoke(main, ["run", *arguments, "--format", "csv", "-o", "-"])
    assert result.exit_code == 0, result.output
    return _read_csv(io.StringIO(result.stdout))


def _read_csv(source) -> pd.DataFrame:
    """The results CSV with values parsed by Python's float (exact; pandas < 3.1's own parser
    can be a few ulp off for 17-digit numbers)."""
    frame = pd.read_csv(source, dtype={"value": str})
    return frame.astype({"value": float})


def _assert_same(a: pd.DataFrame, b: pd.DataFrame, rtol: float = 1e-12) -> None:
    merged = a.merge(b, on=KEYS, how="outer", suffixes=("_a", "_b"), indicator=True)
    assert len(merged) == len(a) == len(b)
    assert (merged["_merge"] == "both").all()
    np.testing.assert_allclose(merged["value_a"], merged["value_b"], rtol=rtol, atol=0)


def _value(results, option, variable, year, scenario="realist") -> float:
    row = results[(results.option == option) & (results.variable == variable)
                  & (results.year == year) & (results.scenario == scenario)]
    assert len(row) == 1
    return float(row.value.iloc[0])


@pytest.fixture(scope="module")
def overridden():
    return capacity.run(overrides=OVERRIDES)


def test_an_override_mapping_gives_what_the_same_set_gives_on_the_cli(overridden, default_plan):
    _assert_same(overridden.results, _cli_results(*SET), rtol=SAME_RUN)
    # and it did what it says: twice the tokens, PUE 1.25 on the domestic fleet once it stands
    results, base = overridden.results, default_plan.results
    assert _value(results, "frontier-api", "Demand|Tokens", 2030) == \
        pytest.approx(2 * _value(base, "frontier-api", "Demand|Tokens", 2030), rel=1e-12)
    facility = _value(results, "domestic-buildout", "Power|Facility", 2035)
    it = _value(results, "domestic-buildout", "Power|IT", 2035)
    assert facility / it == pytest.approx(1.25, rel=1e-12)


def test_the_mapping_and_the_list_forms_are_the_same(overridden):
    listed = capacity.run(None, ["demand.scale=2", "options.domestic-buildout.pue=1.25"])
    _assert_same(listed.results, overridden.results, rtol=SAME_RUN)
    typed = capacity.run(overrides={"demand.scale": 2.0, "options.domestic-buildout.pue": 1.25})
    _assert_same(typed.results, overridden.results, rtol=SAME_RUN)


def test_an_override_value_may_carry_units(default_plan):
    a = capacity.load_scenario(overrides={"regions.NLD.electricity_price": "200 USD/MWh"})
    b = capacity.load_scenario(overrides=["regions.NLD.electricity_price=0.2 USD/kWh"])
    assert a.cases["realist"].regions["NLD"].electricity_price == pytest.approx(0.2 / 3.6e6, rel=1e-12)
    assert a.cases["realist"].regions["NLD"].electricity_price == pytest.approx(
        b.cases["realist"].regions["NLD"].electricity_price, rel=1e-15)


@pytest.mark.parametrize("overrides, message", [
    ("demand.scale=2", "overrides: found a plain string 'demand.scale=2'; expected a mapping such "
                       "as {'demand.scale': 2, 'options.domestic-buildout.pue': '1.25'} or a list "
                       "of 'PATH=VALUE' strings such as ['demand.scale=2']"),
    (["demand.scale=2", 3], "overrides: found the item 3; expected 'PATH=VALUE' strings, e.g. "
                            "'demand.scale=2'"),
    ({"demand.scal": 2}, "overrides: demand.scal: found no key 'scal' under 'demand'; expected one "
                         "of country_adoption, reference_ai_user_share, scale (did you mean 'scale'?)"),
    ({"options.domestic-buildout.pue": "fast"}, "overrides['options.domestic-buildout.pue']: "
                                                "options.domestic-buildout.pue: found 'fast'"),
    (["demand.scale"], "--set: found 'demand.scale'; expected PATH=VALUE"),
    (42, "overrides: found a int; expected a mapping"),
])
def test_bad_overrides_are_refused_with_one_located_message(overrides, message):
    with pytest.raises(capacity.InputError) as error:
        capacity.load_scenario(overrides=overrides)
    assert str(error.value).startswith(message), str(error.value)


def test_a_template_through_the_library_gives_the_cli_run_of_it(tmp_path, default_plan):
    path = tmp_path / "filled.xlsx"
    assert CliRunner().invoke(main, ["template", str(path)]).exit_code == 0
    library = capacity.run(str(path))
    assert library.scenario.source == str(path)
    _assert_same(library.results, _cli_results(str(path)), rtol=SAME_RUN)
    _assert_same(library.results, default_plan.results)
    # overrides apply to a template as to a YAML scenario, on the library and on the CLI
    swept = capacity.run(path, overrides=OVERRIDES)
    _assert_same(swept.results, _cli_results(str(path), *SET), rtol=SAME_RUN)
    _assert_same(swept.results, capacity.run(overrides=OVERRIDES).results, rtol=SAME_RUN)


def test_assumption_files_through_the_library_and_the_cli(tmp_path, default_plan):
    quote = tmp_path / "gpus.csv"
    quote.write_text(",".join(c for c in COLUMNS if c != "quality") + "\nh100-sxm,rental_price,2.40,USD/GPU/h,,,Ministry "
                     "tender,tender 2026/17,2026-10,\"national quote: three quarters of the library median, above the rent floor\"\n")
    quoted = capacity.run("netherlands", assumptions=quote)
    _assert_same(quoted.results, _cli_results("netherlands", "--assumptions", str(quote)),
                 rtol=SAME_RUN)
    # renting (not buying per token), the 2026 cost is proportional to the H100's rent
    rent = {"options.hosted-open-weight.supply": "rent"}
    assert _value(capacity.run("netherlands", rent, assumptions=quote).results, "hosted-open-weight",
                  "Cost|Total", 2026) == pytest.approx(
        _value(capacity.run("netherlands", rent).results, "hosted-open-weight", "Cost|Total", 2026) * 0.75,
        rel=1e-9)
    with pytest.raises(capacity.InputError, match="absent/gpus.csv: found no such file"):
        capacity.load_scenario(assumptions=[tmp_path / "absent" / "gpus.csv"])


def test_overrides_with_a_loaded_scenario_are_refused(default_scenario):
    with pytest.raises(capacity.InputError, match="overrides or assumptions given with a loaded Scenario"):
        capacity.run(default_scenario, overrides={"demand.scale": 2})


def test_plan_writers_give_the_same_bytes_as_the_cli(default_plan, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for suffix in ("xlsx", "csv", "json"):
        result = CliRunner().invoke(main, ["run", "-o", f"cli.{suffix}"])
        assert result.exit_code == 0, result.output
    assert CliRunner().invoke(main, ["run", "--format", "iamc", "-o", "cli-iamc.csv"]).exit_code == 0
    written = [default_plan.to_excel("api.xlsx"), default_plan.to_csv("api.csv"),
               default_plan.to_json("api.json"), default_plan.to_iamc("api-iamc.csv")]
    assert [p.name for p in written] == ["api.xlsx", "api.csv", "api.json", "api-iamc.csv"]
    for api, cli in (("api.xlsx", "cli.xlsx"), ("api.csv", "cli.csv"), ("api.json", "cli.json"),
                     ("api-iamc.csv", "cli-iamc.csv")):
        assert (tmp_path / api).read_bytes() == (tmp_path / cli).read_bytes(), api
    # text when no path is given, the same as the file
    assert default_plan.to_csv() == (tmp_path / "api.csv").read_text()
    assert default_plan.to_json() == (tmp_path / "api.json").read_text()
    assert default_plan.to_iamc() == (tmp_path / "api-iamc.csv").read_text()
    # and what is written reads back to the results
    _assert_same(_read_csv(tmp_path / "api.csv"), default_plan.results, rtol=0)
    _assert_same(read_results_json(tmp_path / "api.json"), default_plan.results, rtol=0)
    iamc = pd.read_csv(tmp_path / "api-iamc.csv", dtype={"2035": str})
    series = iamc[(iamc.scenario == "realist|domestic-buildout") & (iamc.variable == "Capacity|GPUs")]
    assert float(series["2035"].iloc[0]) == _value(default_plan.results, "domestic-buildout",
                                                   "Capacity|GPUs", 2035)


def test_a_failed_write_leaves_the_existing_file_untouched(default_plan, tmp_path):
    target = tmp_path / "plan.iamc"
    target.write_text("keep me")
    with pytest.raises(capacity.InputError, match="an IAMC output path ending in .csv or .xlsx"):
        default_plan.to_iamc(target)
    assert target.read_text() == "keep me"
    with pytest.raises(OSError, match="does not exist"):
        default_plan.to_excel(tmp_path / "no-such-folder" / "plan.xlsx")


def test_table_gives_one_variable_by_year_and_refuses_unknown_names(default_plan):
    table = default_plan.table("Capacity|GPUs")
    assert table.shape == (10, 8)   # 2 worldviews x 4 options (3 pure, hedged)
    assert table.loc[2035, ("realist", "NLD", "domestic-buildout")] == _value(
        default_plan.results, "domestic-buildout", "Capacity|GPUs", 2035)
    assert default_plan.table("Power|IT", option="frontier-api").shape == (10, 2)
    with pytest.raises(capacity.InputError) as error:
        default_plan.table("Capacity|GPU")
    assert str(error.value).startswith("variable: found 'Capacity|GPU'; expected one of Demand|Tokens, ")
    assert str(error.value).endswith("(did you mean 'Capacity|GPUs'?)")
    assert all(name in str(error.value) for name in VARIABLES)
    with pytest.raises(capacity.InputError, match="did you mean 'domestic-buildout'"):
        default_plan.table("Capacity|GPUs", option="domestic-build")


def test_headline_figures_are_the_results_of_the_year_in_reading_units(default_plan):
    headline = default_plan.headline()
    assert list(headline.columns) == ["GPUs", "MW", "% of electricity", "MUSD/yr", "USD/Mtok",
                                      "% domestic"]
    row = headline.loc[("realist", "NLD", "domestic-buildout")]
    results = default_plan.results
    assert row["GPUs"] == _value(results, "domestic-buildout", "Capacity|GPUs", 2035)
    assert row["MUSD/yr"] == pytest.approx(
        _value(results, "domestic-buildout", "Cost|Total", 2035) / 1e6, rel=1e-15)
    assert default_plan.headline(2026).loc[("realist", "NLD", "hosted-open-weight"), "MW"] == \
        _value(results, "hosted-open-weight", "Power|Facility", 2026)
    with pytest.raises(capacity.InputError, match="year: found 2040; expected one of 2026, 2027"):
        default_plan.headline(2040)


def test_repr_is_a_few_lines_and_the_notebook_view_shows_the_headline(default_plan):
    text = repr(default_plan)
    assert len(text.splitlines()) <= 4 and len(text) < 400
    assert "'netherlands'" in text and "realist, maximalist" in text and "2026-2035" in text
    assert "frontier-api, hosted-open-weight, domestic-buildout" in text
    html = default_plan._repr_html_()
    assert "<table" in html and len(html) < 20_000
    gpus = _value(default_plan.results, "domestic-buildout", "Capacity|GPUs", 2035)
    assert f"{gpus:,.0f}" in html


def test_help_shows_the_api_documentation():
    for function, words in ((capacity.load_scenario, ("overrides", "assumptions", "preset", ".xlsx")),
                            (capacity.run, ("source_or_scenario", "overrides")),
                            (capacity.Plan.to_excel, ("atomically",)),
                            (capacity.Plan.table, ("InputError",))):
        assert all(word in function.__doc__ for word in words), function


def test_output_suffix_that_names_no_format_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "-o", "out.txt"])
    assert result.exit_code == 2
    assert result.stderr.startswith("capacity: error: out.txt: found the file extension '.txt'; "
                                    "expected a path ending in .xlsx, .json, .csv (formats xlsx, "
                                    "json, csv, iamc")
    assert list(tmp_path.iterdir()) == []
    assert CLI_FORMATS == FORMATS


def test_a_preset_copied_to_yaml_runs_unchanged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["template", "mine.yaml", "--scenario", "ministry-plan"])
    assert result.exit_code == 0, result.output
    shipped = capacity.load_scenario("ministry-plan")
    assert (tmp_path / "mine.yaml").read_bytes() == open(shipped.source, "rb").read()
    _assert_same(capacity.run("mine.yaml").results, capacity.run(shipped).results, rtol=SAME_RUN)
    refused = CliRunner().invoke(main, ["template", "x.yaml", "--scenario", "mine.xlsx"])
    assert refused.exit_code == 2 and "an Excel template" in refused.stderr


def test_results_json_document_shape(default_plan):
    document = json.loads(default_plan.to_json())
    assert document["schema_version"] == 1
    assert list(document["results"][0]) == RESULT_COLUMNS
