"""The Summary a minister reads: key messages written from the results, and the headline table."""

from __future__ import annotations

import math

import numpy as np
import pytest
from openpyxl import load_workbook

import capacity
from capacity.analysis.messages import key_messages, money, percent, picked_years

CHEAP_API = {f"options.frontier-api.{tier}.{kind}": "0.01 USD/Mtok"
             for tier in ("frontier_tier", "open_tier") for kind in ("input_price", "output_price")}


def _costs(plan, scenario, region, year):
    r = plan.results
    mine = r[(r["scenario"] == scenario) & (r["region"] == region) & (r["year"] == year)
             & (r["variable"] == "Cost|Total")]
    return mine.set_index("option")["value"]


def test_the_cheapest_option_each_picked_year_is_the_results_lowest_cost(default_plan):
    messages = [m for m in key_messages(default_plan) if m.topic == "cheapest"]
    series = set(zip(default_plan.results["scenario"], default_plan.results["region"]))
    assert len(messages) == 3 * len(series)
    for message in messages:
        costs = _costs(default_plan, message.scenario, message.region, message.figures["year"])
        lowest = costs.min()
        assert message.figures["cost"] == lowest
        assert set(message.figures["tied"]) == set(costs[np.isclose(costs, lowest, rtol=1e-9, atol=0)].index)
        assert message.figures["cheapest"] in message.text and money(lowest) in message.text
        if "next" in message.figures:            # the next is the cheapest of the others
            rest = costs.drop(message.figures["tied"])
            assert message.figures["next_cost"] == rest.min()
            more = (rest.min() / lowest - 1) * 100
            assert f"({more:,.0f} %) more" in message.text
    assert [m.figures["year"] for m in messages[:3]] == picked_years(default_plan.years)


def test_changing_an_input_that_flips_the_cheapest_option_changes_the_message(default_plan):
    before = next(m for m in key_messages(default_plan) if m.topic == "cheapest")
    assert before.figures["cheapest"] != "frontier-api"
    after_plan = capacity.run(overrides=CHEAP_API)
    after = next(m for m in key_messages(after_plan) if m.topic == "cheapest")
    assert after.figures["cheapest"] == "frontier-api"
    assert after.text != before.text and "frontier-api is the cheapest option" in after.text
    assert after.figures["cost"] == _costs(after_plan, after.scenario, after.region, after.figures["year"]).min()


def test_power_arrival_and_limits_messages_state_the_results(default_plan):
    r = default_plan.results
    messages = key_messages(default_plan)
    power = next(m for m in messages if m.topic == "power")
    last = default_plan.years[-1]
    mw = r[(r["scenario"] == power.scenario) & (r["variable"] == "Power|Facility") & (r["year"] == last)]
    for option, value in mw.set_index("option")["value"].items():
        assert power.figures["power"][option] == value
        if value >= 0.5:
            assert f"{option} {value:,.0f} MW" in power.text
    arrival = next(m for m in messages if m.topic == "arrival")
    share = r[(r["scenario"] == arrival.scenario) & (r["variable"] == "Sovereignty|Domestic share")
              & (r["option"] == "domestic-buildout") & (r["value"] > 0)]
    assert arrival.figures["arrival"]["domestic-buildout"] == share["year"].min()
    assert not any(m.warning for m in messages)                 # the default: nothing binds or is flagged
    limited = key_messages(capacity.run("netherlands-grid-limited"))
    binding = [m for m in limited if m.topic == "limits" and m.warning]
    assert binding and "grid connection limit binds for domestic-buildout" in binding[0].text


def test_implausible_results_become_flagged_messages_and_cells(tmp_path):
    plan = capacity.run(overrides={"demand.scale": 8})
    flagged = [m for m in key_messages(plan) if m.topic == "implausible"]
    assert len(flagged) == len(plan.implausible) > 0
    assert all(m.warning for m in flagged)
    path = plan.to_excel(tmp_path / "plan.xlsx")
    sheet = load_workbook(path)["Summary"]
    red = [c for row in sheet.iter_rows() for c in row if c.fill.fgColor.rgb == "00FCE4D6"]
    texts = [c.value for c in red if isinstance(c.value, str)]
    assert any("Implausible" in t for t in texts)
    numbers = [c for c in red if isinstance(c.value, float)]
    assert numbers and all(c.number_format == "0.00%" for c in numbers)
    worst = plan.implausible["largest"].max()
    assert max(c.value for c in numbers) == pytest.approx(worst / 100, rel=1e-12)


def test_the_summary_sheet_shows_the_messages_and_the_results(workbook, default_plan):
    sheet = load_workbook(workbook)["Summary"]
    texts = [c.value for row in sheet.iter_rows(max_col=1) for c in row if isinstance(c.value, str)]
    for message in key_messages(default_plan, prefixed=False):
        assert message.text in texts
    r = default_plan.results.set_index(["scenario", "region", "variable", "option", "year"])["value"]
    header = next(i for i, row in enumerate(sheet.iter_rows(values_only=True), start=1) if row[0] == "figure")
    options = [v for v in next(sheet.iter_rows(min_row=header, max_row=header, values_only=True))[3:]
               if v and v != "flag"]
    assert options == list(default_plan.options)
    label, unit = None, None
    checked = 0
    scenario, region = default_plan.results.iloc[0][["scenario", "region"]]
    for row in sheet.iter_rows(min_row=header + 1, values_only=True):
        if row[0] == "Domestic capacity serves from":
            break
        label, unit = (row[0], row[1]) if row[0] else (label, unit)
        variable = {"Cost per year": "Cost|Total", "Share of national electricity": "Grid|Share of consumption",
                    "Facility power on national soil": "Power|Facility", "GPUs on national soil": "Capacity|GPUs"}.get(label)
        if variable is None:
            continue
        assert isinstance(row[2], int)
        factor = {"MUSD/yr": 1e-6, "BUSD/yr": 1e-9, "%": 0.01}.get(unit, 1.0)
        for option, shown in zip(options, row[3:]):
            assert shown == pytest.approx(r[(scenario, region, variable, option, row[2])] * factor, rel=1e-12)
            checked += 1
    assert checked == 4 * 3 * len(options)


@pytest.mark.parametrize("value, text", [(0.05, "< 0.1 %"), (0.19, "0.19 %"), (1.34, "1.3 %"), (97.7, "98 %"),
                                         (math.nan, "n/a")])
def test_percent_reads_as_a_minister_would_say_it(value, text):
    assert percent(value) == text


@pytest.mark.parametrize("usd, text", [(159e6, "159 MUSD"), (1.2449e12, "1,245 BUSD"), (22.12e9, "22.1 BUSD"),
                                       (4.4e6, "4.4 MUSD"), (0.3e6, "0.30 MUSD")])
def test_money_in_musd_or_busd(usd, text):
    assert money(usd) == text
