"""Tornado swings against full re-runs, Sobol indices of an additive case against their
analytic values, and the `capacity sensitivity` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import capacity
from capacity.analysis.sensitivity import sobol, tornado
from capacity.cli import main


def _value(plan, option, variable, year):
    r = plan.results
    return float(r[(r["option"] == option) & (r["variable"] == variable) & (r["year"] == year)
                   & (r["scenario"] == "realist")]["value"].sum())


@pytest.fixture(scope="module")
def swings():
    return tornado(capacity.load_scenario(), "Cost|Total[domestic-buildout, 2030]")


def test_the_tornado_lists_the_largest_swings_with_their_sources(swings, default_plan):
    assert len(swings) == 15
    assert (np.diff(swings["swing"]) <= 0).all()
    assert swings["source"].str.len().min() > 10 and set(swings["quality"]) <= {"primary", "secondary", "estimate"}
    assert swings["base"].iloc[0] == pytest.approx(_value(default_plan, "domestic-buildout", "Cost|Total", 2030),
                                                   rel=1e-12)


def test_a_swing_is_what_a_full_run_with_that_value_gives(swings):
    """The top inputs at their low and high, rerun from the scenario file with --set."""
    paths = {"use_cases:agentic-coding:turns_per_session": "use_cases.agentic-coding.turns_per_session",
             "use_cases:agentic-coding:requests_per_user_per_day": "use_cases.agentic-coding.requests_per_user_per_day",
             "defaults:trend:host_price_change": "options.hosted-open-weight.host_price_change"}
    checked = 0
    for row in swings.itertuples(index=False):
        if row.input not in paths:
            continue
        for value, expected in ((row.low, row.output_at_low), (row.high, row.output_at_high)):
            plan = capacity.run(overrides={paths[row.input]: value})
            assert _value(plan, "domestic-buildout", "Cost|Total", 2030) == pytest.approx(expected, rel=1e-9)
        checked += 1
    assert checked >= 2





def test_sobol_indices_of_an_additive_case_match_their_analytic_values(tmp_path, scenario_file):
    """National tokens in the first year are c1 r1 + c2 r2 in the two use cases' request rates
    (each use case's tokens are proportional to its own rate): with the rates uniform on their
    ranges, S1_i = ST_i = (c_i w_i)^2 / sum_j (c_j w_j)^2 (w: the range's width)."""
    scenario = capacity.load_scenario(scenario_file(tmp_path, ("drafting", "customer-service"), last=2030, name="two"))
    keys = ["use_cases:drafting:requests_per_user_per_day", "use_cases:customer-service:requests_per_user_per_day"]
    output = "Demand|Tokens[frontier-api, 2026]"
    swings = tornado(scenario, output, top=50).set_index("input").loc[keys]
    weight = (swings["output_at_high"] - swings["output_at_low"]) ** 2     # (c_i w_i)^2
    analytic = (weight / weight.sum()).to_numpy()
    indices = sobol(scenario, output, keys, samples=1024, seed=3).set_index("input").loc[keys]
    np.testing.assert_allclose(indices["S1"], analytic, atol=0.05)
    np.testing.assert_allclose(indices["ST"], analytic, atol=0.05)
    np.testing.assert_allclose(indices["ST"] - indices["S1"], 0.0, atol=0.05)    # no interaction


def test_cli_sensitivity_prints_json_and_refuses_a_bad_selector():
    runner = CliRunner()
    out = runner.invoke(main, ["sensitivity", "--output", "Cost|Total[hosted-open-weight, 2030]",
                               "--top", "5", "--format", "json"])
    assert out.exit_code == 0, out.output
    document = json.loads(out.stdout)
    assert len(document["tornado"]) == 5 and document["tornado"][0]["source"]
    bad = runner.invoke(main, ["sensitivity", "--output", "Cost|Total[nowhere, 2030]"])
    assert bad.exit_code == 2 and "OPTION" in bad.output and "Traceback" not in bad.output
    bad = runner.invoke(main, ["sensitivity", "--output", "Cost|Total"])
    assert bad.exit_code == 2 and "VARIABLE[OPTION, YEAR" in bad.output


def test_cli_sensitivity_writes_a_tornado_chart(tmp_path):
    from openpyxl import load_workbook
    out = CliRunner().invoke(main, ["sensitivity", "--output", "Cost|Total[domestic-buildout, 2035]",
                                    "--top", "6", "-o", str(tmp_path / "t.xlsx")])
    assert out.exit_code == 0, out.output
    sheet = load_workbook(tmp_path / "t.xlsx")["Sensitivity"]
    assert len(sheet._charts) == 1 and sheet["A5"].value and sheet["H5"].value   # first input and its source
    refused = CliRunner().invoke(main, ["sensitivity", "--output", "Cost|Total[domestic-buildout, 2035]",
                                        "-o", str(tmp_path / "t.csv")])
    assert refused.exit_code == 2


def _catalogue_file(folder, key: str, canonical: float):
    """An assumption file replacing one library row (table:id:parameter) with `canonical`,
    written in the row's own unit."""
    import csv
    from capacity.data.catalog import default_catalog
    table, row_id, parameter = key.split(":", 2)
    row = default_catalog().get(table, row_id, parameter)
    folder.mkdir()
    path = folder / f"{table}.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "parameter", "value", "unit", "low", "high", "source", "url", "source_date",
                         "quality", "notes"])
        writer.writerow([row_id, parameter, repr(row.given(canonical)), row.unit_given, "", "", row.source, row.url,
                         row.source_date, row.quality, row.notes])
    return path


def test_a_catalogue_row_swings_as_a_full_run_with_that_row_replaced(tmp_path):
    """GPU server prices enter the rows when the fleet buys a later generation; board power and
    bandwidth are read by the chain's look-ups (an entry per draw): each is an input whose swing
    equals a run with the library row replaced by an assumption file."""
    output = "Cost|Total[domestic-buildout, 2034]"
    swings = tornado(capacity.load_scenario(), output, top=1000)
    catalogue = swings[swings["input"].str.startswith("gpus:")]
    assert {"gpus:b300:server_cost", "gpus:h100-sxm:rental_price", "gpus:b300:board_power",
            "gpus:b300:memory_bandwidth"} <= set(catalogue["input"])
    moving = catalogue[catalogue["swing"] > 0]
    # a price the rows are built from, and properties the chain reads by look-up (generations
    # derived from b300 follow it)
    chosen = moving[moving["input"].isin(["gpus:b300:server_cost", "gpus:b300:board_power",
                                          "gpus:b300:memory_bandwidth"])]
    assert len(chosen) == 3, moving
    for row in chosen.itertuples(index=False):
        for end, value, expected in (("low", row.low, row.output_at_low), ("high", row.high, row.output_at_high)):
            path = _catalogue_file(tmp_path / f"{row.input.replace(':', '-')}-{end}", row.input, value)
            plan = capacity.run(assumptions=[path])
            assert _value(plan, "domestic-buildout", "Cost|Total", 2034) == pytest.approx(expected, rel=1e-9)


def test_catalogue_rows_the_chain_does_not_read_are_listed_as_held():
    from capacity.analysis.uncertainty import looked_up_columns, uncertain_inputs
    scenario = capacity.load_scenario()
    inputs, held = uncertain_inputs(scenario)
    keys = {spec.key for spec in inputs}
    assert "gpus:b300:purchase_price" in held           # the chain prices servers (server_cost)
    assert "purchase_price" not in looked_up_columns(scenario)["gpus"]
    assert {"board_power", "memory_bandwidth", "hbm_capacity"} <= set(looked_up_columns(scenario)["gpus"])
    assert {"gpus:b300:board_power", "gpus:gb200:hbm_capacity"} <= keys
    assert not keys & set(held)
    spec = next(spec for spec in inputs if spec.key == "gpus:b300:server_cost")
    assert spec.low < spec.value < spec.high and len(spec.source) > 10
    assert set(spec.paths) == {"realist", "maximalist"}


def test_a_portfolio_setting_swings_as_a_full_run_with_it_set():
    """The hedged portfolio's reserve share, switch time and fallback ramp (library rows that
    set supply arrays, not rows) are inputs: each swing equals a run with it set by --set."""
    from capacity.data.catalog import default_catalog
    output = "Cost|Total[hedged, 2034]"
    swings = tornado(capacity.load_scenario(), output, top=1000).set_index("input")
    paths = {"limits:policy:reserve_share": "portfolios.hedged.reserve.share",
             "limits:policy:open_switch_time": "portfolios.hedged.reserve.switch_time"}
    assert {"limits:policy:reserve_share", "limits:policy:open_switch_time",
            "limits:policy:rented_ramp_time"} <= set(swings.index)
    assert swings.loc["limits:policy:reserve_share", "swing"] > 0
    for key, path in paths.items():
        row = default_catalog().get(*key.split(":"))
        for end in ("low", "high"):
            value = swings.loc[key, end]
            text = f"{float(row.given(value))!r} {row.unit_given}".strip()
            plan = capacity.run(overrides={path: text})
            assert _value(plan, "hedged", "Cost|Total", 2034) == pytest.approx(
                swings.loc[key, f"output_at_{end}"], rel=1e-9), (key, end)


def test_the_fallback_ramp_under_a_cutoff_swings_as_a_run_with_that_library_row(tmp_path):
    """Under a frontier cutoff the hedged portfolio's fallback ramp decides what goes unserved
    in the cutoff year: its swing equals runs with the library row replaced."""
    scenario = capacity.load_scenario("netherlands-frontier-cutoff-2028")
    swings = tornado(scenario, "Demand|Unserved[hedged, 2028]", top=1000).set_index("input")
    row = swings.loc["limits:policy:rented_ramp_time"]
    assert row["swing"] > 0.5 * row["base"]
    for end in ("low", "high"):
        path = _catalogue_file(tmp_path / end, "limits:policy:rented_ramp_time", row[end])
        plan = capacity.run("netherlands-frontier-cutoff-2028", assumptions=[path])
        assert _value(plan, "hedged", "Demand|Unserved", 2028) == pytest.approx(row[f"output_at_{end}"], rel=1e-9)


@pytest.mark.parametrize("key", ["limits:NLD:grid_connection_queue", "limits:NLD:grid_connection_per_year"])
def test_a_region_limit_from_the_library_swings_as_a_run_with_that_row(tmp_path, key):
    """A limit the scenario takes from the library (a year table {0: value}) is drawn and swung
    as one value for every year (once refused with a TypeError): each end equals a run with the
    library row replaced."""
    preset = "netherlands-grid-limited"
    swings = tornado(capacity.load_scenario(preset), "Power|Facility[domestic-buildout, 2034]",
                     top=1000).set_index("input")
    row = swings.loc[key]
    assert row["swing"] > 1.0                                               # MW
    for end in ("low", "high"):
        path = _catalogue_file(tmp_path / end, key, row[end])
        plan = capacity.run(preset, assumptions=[path])
        assert _value(plan, "domestic-buildout", "Power|Facility", 2034) == pytest.approx(
            row[f"output_at_{end}"], rel=1e-9, abs=1e-9)
