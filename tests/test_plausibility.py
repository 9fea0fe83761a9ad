"""Plausibility flags: an option beyond the national peak or beyond the largest data-centre share
of consumption anywhere is reported (library, CLI warning, workbook), never silently passed."""

import subprocess
import sys

import pytest

import capacity
from capacity.data.catalog import default_catalog


def test_the_presets_flag_nothing_and_their_peaks_stay_below_the_national_peak():
    for preset in ("netherlands", "india", "united-kingdom"):
        plan = capacity.run(preset)
        assert plan.implausible.empty, plan.implausible
        shares = plan.results.query("variable == 'Grid|Share of peak demand'")["value"]
        assert shares.max() < 100.0


def test_a_run_beyond_the_national_peak_is_flagged_from_the_first_year_it_is():
    plan = capacity.run(overrides={"demand.scale": 8})
    found = plan.implausible
    results = plan.results
    for check, variable, threshold in (
            ("national peak", "Grid|Share of peak demand", 100.0),
            ("national consumption", "Grid|Share of consumption",
             100 * float(default_catalog().get("countries", "IRL", "datacenter_electricity_share").value))):
        over = results[(results["variable"] == variable) & (results["value"] > threshold)]
        expected = over.groupby(["scenario", "option"])["year"].min()
        rows = found[found["check"].str.contains(check)].set_index(["scenario", "option"])
        assert not expected.empty
        assert rows["first_year"].sort_index().to_dict() == expected.sort_index().to_dict()
        assert (rows["largest"] > threshold).all()
        assert rows["threshold"].tolist() == pytest.approx([threshold] * len(rows))


def test_thresholds_are_the_scenarios_to_set():
    plan = capacity.run(overrides={"plausibility.peak_share": 0.05, "plausibility.consumption_share": 0.5})
    results = plan.results
    peak = results.query("variable == 'Grid|Share of peak demand' and value > 5")
    flagged = plan.implausible
    assert not peak.empty
    on_peak = flagged[flagged["check"].str.contains("peak")]
    assert set(zip(on_peak["scenario"], on_peak["option"])) == set(zip(peak["scenario"], peak["option"]))
    consumption = results.query("variable == 'Grid|Share of consumption' and value > 50")
    assert flagged["check"].str.contains("consumption").sum() == len(
        consumption.groupby(["scenario", "option"]))


def test_the_cli_warns_and_the_workbook_records_the_flags(tmp_path):
    out = tmp_path / "plan.xlsx"
    done = subprocess.run([sys.executable, "-m", "capacity.cli", "run", "--set", "demand.scale=8", "-o", str(out)],
                          capture_output=True, text=True, check=True)
    assert "capacity: warning: implausible: domestic-buildout (maximalist, NLD)" in done.stderr
    import openpyxl
    method = openpyxl.load_workbook(out)["Method"]
    texts = [str(c.value) for row in method.iter_rows() for c in row if c.value is not None]
    assert "Plausibility" in texts
    assert any("national peak" in t for t in texts)
