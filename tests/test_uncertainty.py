"""Monte Carlo over the sourced ranges: known quantiles by hand, reproducibility, probabilities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

import capacity
from capacity.analysis.uncertainty import (QUANTILES, monte_carlo, pert_shapes, probe, sample,
                                           uncertain_inputs)
from capacity.cli import main


@pytest.fixture
def one_use_case(tmp_path, scenario_file) -> Path:
    """The default scenario's options with one use case and one worldview (10 rows a draw)."""
    return scenario_file(tmp_path)


def _value(plan, option, variable, year):
    r = plan.results
    return float(r[(r["option"] == option) & (r["variable"] == variable) & (r["year"] == year)]["value"].iloc[0])


def test_pert_draws_have_the_distributions_quantiles():
    inputs, _ = uncertain_inputs(capacity.load_scenario())
    spec = next(s for s in inputs if s.key == "defaults:facility:pue_hyperscale")
    draws = sample([spec], 20000, seed=7)[:, 0]
    alpha, beta = pert_shapes(spec.low, spec.value, spec.high)
    expected = spec.low + (spec.high - spec.low) * stats.beta.ppf(QUANTILES, alpha, beta)
    # sampling error of a quantile at n = 20,000 is well under 1 % of the range
    np.testing.assert_allclose(np.quantile(draws, QUANTILES), expected, atol=0.01 * (spec.high - spec.low))
    assert draws.min() >= spec.low and draws.max() <= spec.high


def test_ten_thousand_draws_recover_the_quantiles_of_a_linear_stage(tmp_path, one_use_case):
    """One uncertain input, the national electricity price, through a stage linear in it: the
    owned fleet's operating cost after arrival (O&M + energy x price). Its quantiles are the
    line through two deterministic runs taken at the price's PERT quantiles."""
    path = one_use_case
    scenario = capacity.load_scenario(path)
    key = "countries:NLD:electricity_price"
    result = monte_carlo(scenario, 10_000, seed=11, vary=[key])
    spec = result.inputs[0]
    low, high = (capacity.run(path, overrides={"regions.NLD.electricity_price": f"{x} USD/J"})
                 for x in (spec.low, spec.high))
    at = lambda plan: _value(plan, "domestic-buildout", "Cost|Operating", 2035)
    alpha, beta = pert_shapes(spec.low, spec.value, spec.high)
    fraction = stats.beta.ppf(QUANTILES, alpha, beta)
    expected = at(low) + (at(high) - at(low)) * fraction
    q = result.quantiles
    got = q[(q["option"] == "domestic-buildout") & (q["variable"] == "Cost|Operating") & (q["year"] == 2035)]
    got = got.set_index("quantile")["value"][[f"p{round(x * 100)}" for x in QUANTILES]].to_numpy()
    np.testing.assert_allclose(got, expected, atol=0.01 * (at(high) - at(low)))


def test_the_same_seed_gives_the_same_results_and_another_seed_others(tmp_path, one_use_case):
    scenario = capacity.load_scenario(one_use_case)
    a, b, c = (monte_carlo(scenario, 50, seed=s) for s in (5, 5, 6))
    pd.testing.assert_frame_equal(a.quantiles, b.quantiles)
    pd.testing.assert_frame_equal(a.cheapest, b.cheapest)
    assert not np.allclose(a.quantiles["value"], c.quantiles["value"], equal_nan=True)


@pytest.fixture(scope="module")
def default_draws():
    return monte_carlo(capacity.load_scenario(), 300, seed=2)


def test_quantiles_are_ordered_and_the_deterministic_run_lies_between_p5_and_p95(default_draws, default_plan):
    q = default_draws.quantiles.pivot_table(index=["scenario", "region", "option", "variable", "year"],
                                            columns="quantile", values="value")
    ordered = q[["p5", "p25", "p50", "p75", "p95"]].dropna()
    assert (np.diff(ordered.to_numpy(), axis=1) >= -1e-9 * np.abs(ordered.to_numpy()[:, 1:])).all()
    det = default_plan.results.set_index(["scenario", "region", "option", "variable", "year"])["value"]
    for variable in ("Cost|Total", "Capacity|GPUs", "Power|Facility", "Demand|Tokens"):
        rows = q.xs(variable, level="variable")
        d = det.xs(variable, level="variable").reindex(rows.index)
        inside = (d >= rows["p5"] * (1 - 1e-9)) & (d <= rows["p95"] * (1 + 1e-9)) | (rows["p95"] == 0)
        assert inside.mean() >= 0.9, (variable, inside.mean())


def test_the_probability_of_being_cheapest_adds_up_to_one(default_draws):
    total = default_draws.cheapest.groupby(["scenario", "year"])["probability"].sum()
    np.testing.assert_allclose(total, 1.0)
    risks = default_draws.risks
    assert set(risks["event"]) == {"demand unserved", "GPU allocation binds", "grid connection binds",
                                   "build rate binds"}
    assert ((risks["probability"] >= 0) & (risks["probability"] <= 1)).all()


def test_every_input_names_its_source_and_the_probes_classify_its_effect():
    scenario = capacity.load_scenario()
    inputs, held = uncertain_inputs(scenario)
    assert len(inputs) > 100 and all(spec.source for spec in inputs)
    assert "limits:policy:unserved_value" in held    # the robustness matrix's, not the chain's
    assert "limits:policy:reserve_share" in {spec.key for spec in inputs}   # drawn into the supply
    effects = probe(scenario, [spec for spec in inputs if spec.key in (
        "countries:NLD:population", "defaults:facility:pue_hyperscale", "defaults:grid:connection_lead_time")])
    from capacity.analysis.uncertainty import CURVE, LINEAR, NONE, SCALE
    _, realist = effects["realist"]
    kinds = lambda key, column: dict(zip(realist[key].columns, realist[key].kinds))[column]
    # users of population-based use cases are a product with the population; the workforce's not
    users = kinds("countries:NLD:population", "potential_users")
    assert set(users) == {SCALE, NONE}
    assert (kinds("defaults:facility:pue_hyperscale", "do_pue") == SCALE).all()     # a copy
    # a ceiling: linear through the three points here; a drawn year between two whole years
    # still acts as the next (capacity serves from the first calendar year >= it)
    assert np.isin(kinds("defaults:grid:connection_lead_time", "do_arrival_year"), (LINEAR, CURVE)).all()


def test_correlated_inputs_move_together():
    inputs, _ = uncertain_inputs(capacity.load_scenario())
    pair = [s for s in inputs if s.key in ("defaults:trend:frontier_api_price_change",
                                           "defaults:trend:host_price_change")]
    draws = sample(pair, 4000, seed=1, correlated=[([s.key for s in pair], 0.9)])
    rho = stats.spearmanr(draws[:, 0], draws[:, 1]).statistic
    assert rho == pytest.approx(0.9, abs=0.03)
    independent = sample(pair, 4000, seed=1)
    assert abs(stats.spearmanr(independent[:, 0], independent[:, 1]).statistic) < 0.05


def test_cli_run_with_draws_writes_quantiles_and_the_same_seed_the_same_bytes(tmp_path, one_use_case):
    path = one_use_case
    runner = CliRunner()
    outputs = []
    for name in ("a.json", "b.json"):
        out = runner.invoke(main, ["run", str(path), "--draws", "40", "--seed", "9", "-o", str(tmp_path / name)])
        assert out.exit_code == 0, out.output
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    data = json.loads(outputs[0])
    assert data["draws"] == 40 and data["seed"] == 9
    assert {row["quantile"] for row in data["quantiles"]} == {"p5", "p25", "p50", "p75", "p95"}
    out = runner.invoke(main, ["run", str(path), "--draws", "40", "--format", "csv", "-o", "-"])
    frame = pd.read_csv(__import__("io").StringIO(out.stdout))
    assert "quantile" in frame.columns and (frame["quantile"] == "p95").any()
    out = runner.invoke(main, ["run", str(path), "--draws", "0", "--format", "csv", "-o", "-"])
    assert out.exit_code == 2


def test_a_check_can_read_a_quantile_of_the_draws(tmp_path, one_use_case):
    from capacity.analysis.checks import evaluate_checks, parse_check
    plan = capacity.run(one_use_case, draws=60, seed=4)
    check = parse_check("Cost|Total[hosted-open-weight, 2030, p95] <= 1e15 USD/yr")
    assert check.quantile == "p95" and check.subject == "Cost|Total[hosted-open-weight, 2030, p95]"
    q = plan.quantiles
    p95 = q[(q["option"] == "hosted-open-weight") & (q["variable"] == "Cost|Total") & (q["year"] == 2030)
            & (q["quantile"] == "p95")]["value"].iloc[0]
    [result] = evaluate_checks(plan.results, [check], plan.quantiles)
    assert result.ok and result.actual == pytest.approx(p95)
    with pytest.raises(capacity.InputError, match="without draws"):
        evaluate_checks(plan.results, [check])
    with pytest.raises(capacity.InputError, match="p5, p25, p50, p75, p95"):
        parse_check("Cost|Total[hosted-open-weight, 2030, p90] <= 1 USD/yr")


def test_the_workbook_of_a_run_with_draws_has_fan_charts(tmp_path, one_use_case):
    from openpyxl import load_workbook
    plan = capacity.run(one_use_case, draws=30, seed=1)
    book = load_workbook(plan.to_excel(tmp_path / "plan.xlsx"))
    sheet = book["Uncertainty"]
    assert book.sheetnames.index("Uncertainty") == 2
    assert len(sheet._charts) == 2 * len(plan.options)
    assert sheet["A1"].value.startswith("Uncertainty: 30 draws (seed 1)")


# --- scenario values given as ranges ---------------------------------------------------------

def _with_ranges(path: Path, regions: str, options_extra: str = "") -> Path:
    """A copy of the scenario at `path` with the region's values and the domestic option's
    extra lines replaced."""
    text = path.read_text().replace("regions: {NLD: {}}", f"regions: {{NLD: {regions}}}")
    if options_extra:
        text = text.replace("  domestic-buildout:\n", "  domestic-buildout:\n" + options_extra, 1)
    ranged = path.with_name("ranged.yaml")
    ranged.write_text(text)
    return ranged


def test_a_scenario_value_given_as_a_range_is_an_uncertain_input_with_its_source(one_use_case):
    path = _with_ranges(one_use_case, "{electricity_price: {value: 0.12 USD/kWh, low: 0.08, high: 0.2 USD/kWh, "
                        "source: 'a ministry range', quality: estimate}}", "    pue: {value: 1.2, low: 1.1, high: 1.4}\n")
    scenario = capacity.load_scenario(path)
    inputs, _ = uncertain_inputs(scenario)
    by_key = {spec.key: spec for spec in inputs}
    price = by_key["scenario:file:regions.NLD.electricity_price"]
    # canonical USD/J: 0.12 USD/kWh = 0.12 / 3.6e6 USD/J; a bare low is read in USD/kWh
    assert price.value == pytest.approx(0.12 / 3.6e6) and price.low == pytest.approx(0.08 / 3.6e6)
    assert price.high == pytest.approx(0.2 / 3.6e6)
    assert (price.source, price.quality) == ("a ministry range", "estimate")
    pue = by_key["scenario:file:options.domestic-buildout.pue"]
    assert (pue.value, pue.low, pue.high) == (1.2, 1.1, 1.4)
    # the case uses the stated value, as if it were written plainly
    plain = capacity.run(one_use_case, overrides={
        "regions.NLD.electricity_price": "0.12 USD/kWh", "options.domestic-buildout.pue": 1.2})
    ranged = capacity.run(scenario)
    pd.testing.assert_frame_equal(ranged.results, plain.results)
    # the Assumptions table shows it in the unit it is written in
    row = ranged.assumptions.set_index("id").loc["scenario:file:regions.NLD.electricity_price"]
    assert (row["unit"], row["value"]) == ("USD/kWh", "0.12")
    assert row["low"] == pytest.approx(0.08) and row["high"] == pytest.approx(0.2)


def test_draws_of_a_ranged_value_stay_in_its_range_and_move_what_it_drives(one_use_case):
    path = _with_ranges(one_use_case, "{}", "    pue: {value: 1.2, low: 1.1, high: 1.4}\n")
    scenario = capacity.load_scenario(path)
    key = "scenario:file:options.domestic-buildout.pue"
    result = monte_carlo(scenario, 2000, seed=3, vary=[key])
    assert result.samples.min() >= 1.1 and result.samples.max() <= 1.4
    q = result.quantiles
    power = q[(q["option"] == "domestic-buildout") & (q["variable"] == "Power|Facility") & (q["year"] == 2035)]
    power = power.set_index("quantile")["value"]
    it = _value(capacity.run(scenario), "domestic-buildout", "Power|Facility", 2035) / 1.2   # IT power
    # facility power = IT power x PUE: its quantiles are the PUE's PERT quantiles times IT power
    alpha, beta = pert_shapes(1.1, 1.2, 1.4)
    expected = it * (1.1 + 0.3 * stats.beta.ppf(QUANTILES, alpha, beta))
    np.testing.assert_allclose(power[[f"p{round(x * 100)}" for x in QUANTILES]].to_numpy(), expected,
                               rtol=0.01)


@pytest.mark.parametrize("pue, message", [
    ("{value: 1.2, low: 1.3, high: 1.4}", "low <= value <= high"),
    ("{value: 1.2, low: 0.9}", "pue.low: found 0.9; expected a value >= 1"),
    ("{value: 1.2, low: 3 kg}", "pue.low: found '3 kg'"),
    ("{value: 1.2, lo: 1.1}", "pue: found {"),
])
def test_a_bad_range_is_refused_where_it_is_written(one_use_case, pue, message):
    path = _with_ranges(one_use_case, "{}", f"    pue: {pue}\n")
    with pytest.raises(capacity.InputError) as error:
        capacity.load_scenario(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.strip().startswith("pue:"))
    assert f"{path}:{line}: options.domestic-buildout.pue" in str(error.value)
    assert message in str(error.value)


def test_draws_do_not_depend_on_what_ran_before_in_the_process():
    """A run before the draws leaves memos behind (look-ups, remembered throughput); the draws'
    quantiles are the same as in a fresh process, so no memo hides an input."""
    import subprocess
    import sys
    code = ("import capacity, sys; from capacity.analysis.uncertainty import monte_carlo\n"
            "if sys.argv[1] == 'after': capacity.run(); capacity.run('germany')\n"
            "u = monte_carlo(capacity.load_scenario(), 30, 5)\n"
            "sys.stdout.write(str(len(u.inputs)) + ' ' + u.quantiles['value'].to_numpy().tobytes().hex())")
    fresh, after = (subprocess.run([sys.executable, "-c", code, when], capture_output=True, text=True,
                                   check=True).stdout for when in ("fresh", "after"))
    assert fresh.split()[0] == after.split()[0] and int(fresh.split()[0]) > 180
    assert fresh == after


@pytest.mark.parametrize("preset", ["netherlands-grid-limited", "india-allocation-cap",
                                    "netherlands-frontier-cutoff-2028", "ministry-plan"])
def test_draws_run_on_presets_with_limits_shocks_and_their_own_portfolios(preset):
    """Region limits from the library (year tables), allocation caps, shocks and a ministry's own
    portfolios all take draws (a library limit once broke the probes)."""
    plan = capacity.run(preset, draws=12, seed=4)
    u = plan.uncertainty
    assert len(u.inputs) > 100
    q = u.quantiles
    cost = q[q["variable"] == "Cost|Total"].pivot_table(index=["scenario", "region", "option", "year"],
                                                        columns="quantile", values="value")
    assert (cost["p5"] <= cost["p50"] + 1e-6).all() and (cost["p50"] <= cost["p95"] + 1e-6).all()
    assert u.cheapest.groupby(["scenario", "year"])["probability"].sum().between(0.999, 1.001).all()
