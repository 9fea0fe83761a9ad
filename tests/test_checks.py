"""capacity.analysis.checks: parsing, evaluation against results, and the text/JSON/JUnit reports."""

import json
import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

import capacity
from capacity.analysis.checks import Check, CheckResult, evaluate_checks, parse_check, to_json, to_junit, to_text
from capacity.data.errors import InputError
from capacity.model.plan import RESULT_COLUMNS


@pytest.fixture(scope="module")
def results():
    return capacity.run().results


def frame(rows):
    """A results table from (scenario, region, option, variable, unit, year, value) tuples."""
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


@pytest.fixture
def small():
    """Two scenarios, one region; share, power, emissions and costs with a tie in 2031."""
    rows = []
    for scenario, scale in (("realist", 1.0), ("maximalist", 2.0)):
        rows += [
            (scenario, "NLD", "domestic-buildout", "Grid|Share of consumption", "%", 2030, 1.5 * scale),
            (scenario, "NLD", "domestic-buildout", "Power|Facility", "MW", 2030, 400.0 * scale),
            (scenario, "NLD", "domestic-buildout", "Emissions|CO2", "t CO2/yr", 2030, 2000.0 * scale),
            (scenario, "NLD", "frontier-api", "Cost|Total", "USD/yr", 2030, 10.0),
            (scenario, "NLD", "hosted-open-weight", "Cost|Total", "USD/yr", 2030, 20.0 * scale),
            (scenario, "NLD", "domestic-buildout", "Cost|Total", "USD/yr", 2030, 30.0),
            (scenario, "NLD", "frontier-api", "Cost|Total", "USD/yr", 2031, 50.0),
            (scenario, "NLD", "hosted-open-weight", "Cost|Total", "USD/yr", 2031, 40.0),
            (scenario, "NLD", "domestic-buildout", "Cost|Total", "USD/yr", 2031, 40.0),
        ]
    rows.append(("realist", "BEL", "frontier-api", "Cost|Total", "USD/yr", 2030, 99.0))
    rows.append(("realist", "BEL", "hosted-open-weight", "Cost|Total", "USD/yr", 2030, 5.0))
    return frame(rows)


def one(table, expression):
    [result] = evaluate_checks(table, [parse_check(expression, "--require")])
    return result


# --- parsing ----------------------------------------------------------------------------------

def test_parse_two_selectors_with_unit():
    check = parse_check("Grid|Share of consumption[domestic-buildout, 2030] <= 2 %", "s.yaml:3")
    assert check == Check(text="Grid|Share of consumption[domestic-buildout, 2030] <= 2 %",
                          kind="compare", option="domestic-buildout", year=2030,
                          variable="Grid|Share of consumption", op="<=", number=2.0, unit="%",
                          where="s.yaml:3")
    assert check.region is None and check.scenario is None


def test_parse_is_whitespace_tolerant_and_keeps_the_text():
    check = parse_check("  Power|Facility[ domestic-buildout ,2031 ]<=0.5GW ")
    assert (check.variable, check.option, check.year, check.op, check.number, check.unit) == \
        ("Power|Facility", "domestic-buildout", 2031, "<=", 0.5, "GW")
    assert check.text == "Power|Facility[ domestic-buildout ,2031 ]<=0.5GW"
    assert check.subject == "Power|Facility[domestic-buildout, 2031]"


def test_parse_region_and_scenario_selectors_and_bare_number():
    check = parse_check("Capacity|GPUs[domestic-buildout, 2031, NLD, realist] >= 1000")
    assert (check.region, check.scenario, check.op, check.number, check.unit) == \
        ("NLD", "realist", ">=", 1000.0, None)
    check = parse_check("Capacity|GPUs[domestic-buildout, 2031, NLD] != -1.5e3")
    assert (check.region, check.scenario, check.op, check.number) == ("NLD", None, "!=", -1500.0)


@pytest.mark.parametrize("op", ["<=", "<", ">=", ">", "==", "!="])
def test_parse_every_operator(op):
    assert parse_check(f"Cost|Total[frontier-api, 2030] {op} 1").op == op


def test_parse_cheapest_forms():
    check = parse_check("cheapest(2030) == frontier-api")
    assert (check.kind, check.year, check.option, check.region, check.scenario) == \
        ("cheapest", 2030, "frontier-api", None, None)
    check = parse_check("cheapest( 2031 , NLD , maximalist )==hosted-open-weight")
    assert (check.year, check.region, check.scenario, check.option) == \
        (2031, "NLD", "maximalist", "hosted-open-weight")
    assert check.subject == "cheapest(2031, NLD, maximalist)"


def test_check_is_frozen():
    check = parse_check("cheapest(2030) == frontier-api")
    with pytest.raises(AttributeError):
        check.year = 2031


@pytest.mark.parametrize("expression, found", [
    ("", "found an empty expression"),
    ("Grid|Share of consumption <= 2", "which has no VARIABLE"),
    ("[domestic-buildout, 2030] <= 2", "no VARIABLE before"),
    ("Grid|Share of consumption[domestic-buildout] <= 2", "found selectors \\[domestic-buildout\\]"),
    ("Grid|Share of consumption[domestic-buildout, 2030, NLD, realist, x] <= 2", "found selectors"),
    ("Grid|Share of consumption[domestic-buildout, , NLD] <= 2", "found selectors"),
    ("Grid|Share of consumption[2030, domestic-buildout] <= 2", "'domestic-buildout' as YEAR"),
    ("Grid|Share of consumption[domestic-buildout, 2030] 2", "no comparison operator"),
    ("Grid|Share of consumption[domestic-buildout, 2030] =< 2", "no comparison operator"),
    ("Grid|Share of consumption[domestic-buildout, 2030] <=", "no NUMBER after '<='"),
    ("Grid|Share of consumption[domestic-buildout, 2030] <= two", "'two' after '<='"),
    ("Grid|Share of consumption[domestic-buildout, 2030] <= 2 furlongz", "unit 'furlongz'"),
    ("cheapest(2030 == frontier-api", "not closed"),
    ("cheapest() == frontier-api", "found selectors"),
    ("cheapest(2030) <= frontier-api", "'<=' after cheapest"),
    ("cheapest(2030) == ", "no OPTION"),
    ("cheapest(2030) == frontier-api hosted-open-weight", "after '=='"),
])
def test_malformed_expressions_say_where_what_and_the_grammar(expression, found):
    with pytest.raises(InputError, match=found) as error:
        parse_check(expression, "scenario.yaml:42")
    message = str(error.value)
    assert message.startswith("scenario.yaml:42: check")
    assert "expected" in message and "cheapest(YEAR" in message and "VARIABLE[OPTION, YEAR" in message
    assert error.value.where == "scenario.yaml:42"


def test_non_text_expression_is_refused():
    with pytest.raises(InputError, match="--require: check: found int 3"):
        parse_check(3, "--require")


# --- comparisons on a hand-built table --------------------------------------------------------

def test_passing_check_reports_the_actual_value(small):
    result = one(small, "Grid|Share of consumption[domestic-buildout, 2030, NLD, realist] <= 2 %")
    assert result.ok is True
    assert result.actual == 1.5 and result.unit == "%"
    assert result.message == ("Grid|Share of consumption[domestic-buildout, 2030, NLD, realist] "
                              "= 1.5 % <= 2 %: ok")


def test_check_must_hold_for_every_scenario_and_reports_the_worst(small):
    result = one(small, "Grid|Share of consumption[domestic-buildout, 2030] <= 2 %")
    assert result.ok is False
    assert result.actual == 3.0                                    # maximalist: 1.5 * 2
    assert result.message == ("Grid|Share of consumption[domestic-buildout, 2030] = 3 % <= 2 %: "
                              "FAILED [worst of 2: region NLD, scenario maximalist]")
    assert "\n" not in result.message
    passing = one(small, "Grid|Share of consumption[domestic-buildout, 2030] <= 3")
    assert passing.ok is True and passing.actual == 3.0           # the closest to the bound
    at_least = one(small, "Grid|Share of consumption[domestic-buildout, 2030] >= 1")
    assert at_least.ok is True and at_least.actual == 1.5         # the smallest, for >=


@pytest.mark.parametrize("op, number, ok", [
    ("<", 1.5, False), ("<=", 1.5, True), (">", 1.5, False), (">=", 1.5, True),
    ("==", 1.5, True), ("==", 1.6, False), ("!=", 1.5, False), ("!=", 1.6, True),
])
def test_each_operator_on_an_exact_value(small, op, number, ok):
    expression = f"Grid|Share of consumption[domestic-buildout, 2030, NLD, realist] {op} {number}"
    assert one(small, expression).ok is ok


def test_unit_is_converted_into_the_results_unit(small):
    in_gw = one(small, "Power|Facility[domestic-buildout, 2030] <= 0.5 GW")
    in_mw = one(small, "Power|Facility[domestic-buildout, 2030] <= 500 MW")
    assert in_gw.ok is in_mw.ok is False
    assert in_gw.actual == in_mw.actual == 800.0 and in_gw.unit == in_mw.unit == "MW"
    assert in_gw.message.endswith("= 800 MW <= 0.5 GW (500 MW): FAILED "
                                  "[worst of 2: region NLD, scenario maximalist]")
    assert one(small, "Power|Facility[domestic-buildout, 2030] <= 0.8 GW").ok is True
    assert one(small, "Power|Facility[domestic-buildout, 2030] < 800000 kW").ok is False


def test_bare_number_is_in_the_results_unit_and_a_fraction_needs_its_unit(small):
    assert one(small, "Grid|Share of consumption[domestic-buildout, 2030] <= 3").ok is True
    assert one(small, "Grid|Share of consumption[domestic-buildout, 2030] <= 0.031").ok is False
    assert one(small, "Grid|Share of consumption[domestic-buildout, 2030] <= 0.031 dimensionless").ok
    assert one(small, "Grid|Share of consumption[domestic-buildout, 2030] <= 31 permille").ok


def test_tonnes_of_co2_are_read_as_tonnes(small):
    result = one(small, "Emissions|CO2[domestic-buildout, 2030] <= 4 kt CO2/yr")
    assert result.ok is True and result.actual == 4000.0 and result.unit == "t CO2/yr"
    assert one(small, "Emissions|CO2[domestic-buildout, 2030] < 4000 t/yr").ok is False
    assert one(small, "Emissions|CO2[domestic-buildout, 2030] <= 0.004 Mt CO2/yr").ok is True
    assert one(small, "Emissions|CO2[domestic-buildout, 2030] <= 4e6 kg CO2/yr").ok is True


def test_unit_of_another_dimension_is_refused(small):
    with pytest.raises(InputError, match=r"--require: check .*found unit 'MW' .*expected a unit of "
                                         r"the same dimension as the results' '%'"):
        one(small, "Grid|Share of consumption[domestic-buildout, 2030] <= 2 MW")


# --- cheapest ---------------------------------------------------------------------------------

def test_cheapest_holds_in_every_scenario(small):
    result = one(small, "cheapest(2030, NLD) == frontier-api")
    assert result.ok is True and result.actual == "frontier-api" and result.unit == ""
    assert result.message.startswith("cheapest(2030, NLD) = frontier-api (frontier-api 10 USD/yr, "
                                     "hosted-open-weight 20 USD/yr, domestic-buildout 30 USD/yr) "
                                     "== frontier-api: ok")


def test_cheapest_fails_when_another_region_is_cheaper_elsewhere(small):
    result = one(small, "cheapest(2030) == frontier-api")             # BEL: hosted is cheaper
    assert result.ok is False and result.actual == "hosted-open-weight"
    assert "FAILED [first failing of 3: region BEL, scenario realist]" in result.message
    assert one(small, "cheapest(2030, BEL) == hosted-open-weight").ok is True


def test_cheapest_ties_count_for_every_tied_option(small):
    for option in ("hosted-open-weight", "domestic-buildout"):
        result = one(small, f"cheapest(2031) == {option}")
        assert result.ok is True
        assert result.actual == "hosted-open-weight / domestic-buildout"
    assert one(small, "cheapest(2031, NLD, maximalist) == frontier-api").ok is False


# --- unknown names and years ------------------------------------------------------------------

@pytest.mark.parametrize("expression, found, expected, hint", [
    ("Grid|Share of consumptio[domestic-buildout, 2030] <= 2", "variable 'Grid|Share of consumptio'",
     "Grid|Share of consumption, Power|Facility", "did you mean 'Grid|Share of consumption'?"),
    ("Grid|Share of consumption[domestic-biuldout, 2030] <= 2", "option 'domestic-biuldout'",
     "domestic-buildout, frontier-api, hosted-open-weight", "did you mean 'domestic-buildout'?"),
    ("Grid|Share of consumption[domestic-buildout, 2040] <= 2", "year 2040",
     "a year from 2030 to 2031", None),
    ("Grid|Share of consumption[domestic-buildout, 2030, NL] <= 2", "region 'NL'",
     "one of: BEL, NLD", "did you mean 'NLD'?"),
    ("Grid|Share of consumption[domestic-buildout, 2030, NLD, realst] <= 2", "scenario 'realst'",
     "one of: maximalist, realist", "did you mean 'realist'?"),
    ("cheapest(2030) == frontier", "option 'frontier'", "frontier-api", "did you mean 'frontier-api'?"),
    ("cheapest(1999) == frontier-api", "year 1999", "a year from 2030 to 2031", None),
    ("cheapest(2030, DEU) == frontier-api", "region 'DEU'", "one of: BEL, NLD", None),
])
def test_unknown_names_list_the_valid_choices(small, expression, found, expected, hint):
    with pytest.raises(InputError) as error:
        one(small, expression)
    assert error.value.where == "--require"
    assert error.value.found == found
    assert expected in error.value.expected
    assert error.value.hint == hint


def test_combination_without_rows_is_refused(small):
    with pytest.raises(InputError, match="found no results for it"):
        one(small, "Power|Facility[frontier-api, 2030] <= 1 MW")


# --- the default scenario ---------------------------------------------------------------------

def test_default_plan_checks_match_the_results_table(results):
    share = results[(results["variable"] == "Grid|Share of consumption")
                    & (results["option"] == "domestic-buildout") & (results["year"] == 2030)]
    worst = share["value"].max()
    checks = [parse_check(f"Grid|Share of consumption[domestic-buildout, 2030] <= {worst * 1.01} %"),
              parse_check(f"Grid|Share of consumption[domestic-buildout, 2030] <= {worst * 0.99} %")]
    passing, failing = evaluate_checks(results, checks)
    assert passing.ok is True and failing.ok is False
    assert passing.actual == failing.actual == pytest.approx(worst)
    assert f"= {worst:.6g} %" in failing.message


def test_default_plan_power_in_gw_equals_in_mw(results):
    power = results[(results["variable"] == "Power|Facility")
                    & (results["option"] == "domestic-buildout") & (results["year"] == 2031)
                    & (results["scenario"] == "realist")]["value"].iloc[0]
    gw, mw = evaluate_checks(results, [
        parse_check(f"Power|Facility[domestic-buildout, 2031, NLD, realist] <= {power / 1000} GW"),
        parse_check(f"Power|Facility[domestic-buildout, 2031, NLD, realist] <= {power} MW")])
    assert gw.ok is mw.ok is True
    assert gw.actual == mw.actual == pytest.approx(power)


def test_default_plan_cheapest_agrees_with_total_cost(results):
    costs = results[(results["variable"] == "Cost|Total") & (results["year"] == 2030)
                    & (results["scenario"] == "realist")]
    cheapest = costs.loc[costs["value"].idxmin(), "option"]
    assert one(results, f"cheapest(2030, NLD, realist) == {cheapest}").ok is True
    others = set(costs["option"]) - set(costs.loc[costs["value"] == costs["value"].min(), "option"])
    for option in others:
        assert one(results, f"cheapest(2030, NLD, realist) == {option}").ok is False


def test_default_plan_emissions_unit_mapping(results):
    result = one(results, "Emissions|CO2[domestic-buildout, 2031] <= 1e12 t CO2/yr")
    assert result.ok is True and result.unit == "t CO2/yr"


# --- reports ----------------------------------------------------------------------------------

def mixed_results(small):
    return evaluate_checks(small, [
        parse_check("Grid|Share of consumption[domestic-buildout, 2030] <= 2 %"),      # fails
        parse_check("Grid|Share of consumption[domestic-buildout, 2030] <= 5 %"),      # passes
        parse_check("cheapest(2030, NLD) == frontier-api"),                           # passes
        parse_check("cheapest(2030, NLD) == domestic-buildout"),                      # fails
    ])


def test_text_report_has_one_line_per_check(small):
    checked = mixed_results(small)
    lines = to_text(checked).splitlines()
    assert lines == [result.message for result in checked]
    assert [re.search(r": (ok|FAILED)", line)[1] for line in lines] == ["FAILED", "ok", "ok", "FAILED"]


def test_json_report_follows_the_schema(small):
    checked = mixed_results(small)
    document = json.loads(to_json(checked))
    assert document["schema_version"] == 1
    assert [set(entry) for entry in document["checks"]] == [
        {"expr", "ok", "actual", "unit", "message"}] * 4
    assert [entry["ok"] for entry in document["checks"]] == [False, True, True, False]
    assert document["checks"][0]["actual"] == 3.0 and document["checks"][0]["unit"] == "%"
    assert document["checks"][3]["actual"] == "frontier-api"
    assert document["checks"][1]["expr"] == "Grid|Share of consumption[domestic-buildout, 2030] <= 5 %"


def test_json_report_writes_nan_as_null():
    nan = CheckResult("x", False, float("nan"), "%", "x = nan %: FAILED")
    assert json.loads(to_json([nan]))["checks"][0]["actual"] is None


def test_junit_report_parses_and_counts_failures(small):
    checked = mixed_results(small)
    root = ET.fromstring(to_junit(checked, suite_name="ci"))
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    assert suite.get("name") == "ci"
    assert int(suite.get("tests")) == int(root.get("tests")) == 4
    assert int(suite.get("failures")) == int(root.get("failures")) == 2
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == [result.expr for result in checked]
    failures = [case.find("failure") for case in cases]
    assert [failure is not None for failure in failures] == [False if r.ok else True for r in checked]
    assert "= 3 % <= 2 %" in failures[0].get("message")
    assert "actual: 3.0 %" in failures[0].text
    assert "= frontier-api" in failures[3].get("message")


def test_junit_report_with_no_checks():
    root = ET.fromstring(to_junit([]))
    assert root.get("tests") == "0" and root.get("failures") == "0"
