"""The results workbook: sheet layout, values equal to Plan.results, native charts."""

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from capacity.model.options import DEFAULT_OPTIONS as OPTIONS
from capacity.model.plan import REQUIRED_VARIABLES


def test_sheets_in_order(workbook):
    assert load_workbook(workbook).sheetnames == [
        "Summary", "Comparison", *OPTIONS, "Demand", "What-if", "Assumptions", "Sources", "Method", "Chart data"]


@pytest.mark.parametrize("option", OPTIONS)
def test_option_sheet_reads_back_as_the_results(workbook, default_plan, option):
    sheet = pd.read_excel(workbook, sheet_name=option)
    long = sheet.melt(id_vars=["scenario", "region", "variable", "unit"], var_name="year")
    long["year"] = long["year"].astype(int)
    expected = default_plan.results[default_plan.results["option"] == option]
    merged = expected.merge(long, on=["scenario", "region", "variable", "unit", "year"],
                            suffixes=("", "_sheet"))
    assert len(merged) == len(expected)
    np.testing.assert_allclose(merged["value_sheet"], merged["value"], rtol=1e-15)
    table = load_workbook(workbook)[option].tables
    assert len(table) == 1


def test_comparison_holds_every_required_variable_in_a_fixed_layout(workbook, default_plan):
    sheet = pd.read_excel(workbook, sheet_name="Comparison", header=None, skiprows=2)
    headers = sheet.index[sheet[0] == "scenario"]
    first = sheet.iloc[headers[0] + 1: headers[0] + 1 + len(REQUIRED_VARIABLES) * len(OPTIONS)]
    assert first[2].tolist() == [v for v in REQUIRED_VARIABLES for _ in OPTIONS]
    assert first[3].tolist() == list(OPTIONS) * len(REQUIRED_VARIABLES)
    years = [int(y) for y in sheet.iloc[headers[0], 5:15]]
    results = default_plan.results.set_index(["scenario", "region", "variable", "option", "year"])["value"]
    for _, row in first.iterrows():
        for offset, year in enumerate(years):
            factor = 1e-6 if row[4].startswith("MUSD") else 1.0      # money in MUSD
            assert row[5 + offset] == pytest.approx(results[(row[0], row[1], row[2], row[3], year)] * factor,
                                                    rel=1e-15, abs=1e-300)


def test_summary_has_three_titled_native_charts(workbook):
    charts = load_workbook(workbook)["Summary"]._charts
    assert len(charts) == 3


def test_assumptions_reference_sources(workbook, default_plan):
    assumptions = pd.read_excel(workbook, sheet_name="Assumptions")
    sources = pd.read_excel(workbook, sheet_name="Sources")
    assert len(assumptions) == len(default_plan.assumptions)
    assert set(assumptions["ref"]) <= set(sources["ref"])
    assert {"identifier", "value", "unit", "low", "high", "source", "source date"} <= set(assumptions.columns)


@pytest.mark.skipif(__import__("shutil").which("soffice") is None,
                    reason="LibreOffice is not installed on this machine")
def test_workbook_opens_in_libreoffice_and_renders_to_pdf(workbook, tmp_path):
    import subprocess
    process = subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir",
                              str(tmp_path), str(workbook)], capture_output=True, text=True,
                             timeout=300)
    pdf = tmp_path / "plan.pdf"
    assert process.returncode == 0 and pdf.exists() and pdf.stat().st_size > 50_000
    # every sheet fitted to the page width in landscape: the default workbook prints in <= 25
    # pages (it printed 190 before it had a page setup); pages counted from the PDF's page tree
    import re
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert 0 < pages <= 25, pages


def test_every_sheet_prints_landscape_fitted_to_width_with_titles(workbook):
    from openpyxl import load_workbook
    for sheet in load_workbook(workbook).worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert "&P" in sheet.oddFooter.right.text and sheet.oddHeader.right.text == "&A"


def test_numbers_are_formatted_for_reading(workbook):
    """Year headers are numbers; no What-if value shows six decimals; large assumption values
    have thousands separators and small ones their decimals."""
    from openpyxl import load_workbook
    book = load_workbook(workbook)
    summary_years = [row[2] for row in book["Summary"].iter_rows(values_only=True) if row[0] == "Cost per year"]
    assert summary_years and all(year == 2026 for year in summary_years)
    headers = [[c.value for c in row] for row in book["Comparison"].iter_rows(max_row=6)]
    assert any(2026 in row and all(isinstance(v, int) for v in row[5:15]) for row in headers), headers
    whatif = book["What-if"]
    formats = {c.number_format for row in whatif.iter_rows() for c in row if isinstance(c.value, (int, float))
               or (isinstance(c.value, str) and c.value.startswith("="))}
    assert not any("000000" in f for f in formats), formats
    assumptions = book["Assumptions"]
    for row in assumptions.iter_rows(min_row=2, max_col=2):
        cell = row[1]
        if isinstance(cell.value, float) and abs(cell.value) >= 1e4:
            assert cell.number_format.startswith("#,##0"), (row[0].value, cell.number_format)
        elif isinstance(cell.value, float) and 0 < abs(cell.value) < 1:
            assert "0.0" in cell.number_format or "E" in cell.number_format, (row[0].value, cell.number_format)


def test_the_method_sheet_stands_alone(workbook, default_scenario):
    """The equations and the calibration table are in the file; nothing points to a file the
    analyst does not have."""
    from capacity.io.export.workbook import EQUATIONS
    from capacity.model.calibrate import fit
    sheet = load_workbook(workbook)["Method"]
    rows = list(sheet.iter_rows(values_only=True))
    texts = [v for row in rows for v in row if isinstance(v, str)]
    ours = ("docs/methodology", "docs/scenario", "calibration-notes.md", "see README")
    assert not any(name in t for t in texts for name in ours)      # (sources may cite their own docs)
    for _, quantity, equation, _ in EQUATIONS:
        assert equation in texts and quantity in texts
    assert any("CRF = r (1 + r)^n" in t for t in texts)
    header = next(i for i, row in enumerate(rows) if row[0] == "measurement")
    table = [row for row in rows[header + 1:] if row[0]]
    measured = fit(default_scenario.catalog, stored=True).measurements
    assert [row[0] for row in table] == measured["id"].tolist()
    for row, record in zip(table, measured.itertuples(index=False)):
        assert row[6] == record.measured_output_tokens_per_s_per_gpu
        if record.usable:
            assert row[7] == record.modelled_output_tokens_per_s_per_gpu and row[10] == "yes"
            assert abs(row[8]) <= 25.0                  # every fitted measurement within 25 %
