"""Hostile and broken inputs (issue 14), family: the right place blamed. An error names where the
bad value was written: ``--set PATH=VALUE`` (never a line of the preset it overrides), the row
of a user's assumption CSV (never the scenario), the column that is wrong, the line of a variant
that sets it, or the ``file:Sheet!Cell`` of a template. Each is one message, exit 2, nothing
written."""

from __future__ import annotations

import openpyxl
import pytest
from hostile_support import invoke, refused

import capacity
from capacity.data.paths import assumptions_dir

HEADER = "id,parameter,value,unit,low,high,source,url,source_date,quality,notes\n"
ROW = "{id},{parameter},{value},{unit},{low},{high},NVIDIA,https://example.org,2023,primary,\"a quote\"\n"
PRESETS = assumptions_dir() / "scenarios"
NETHERLANDS = PRESETS / "netherlands.yaml"


def _row(parameter="board_power", value="700", unit="W", low="", high="", id="h100-sxm"):
    return ROW.format(id=id, parameter=parameter, value=value, unit=unit, low=low, high=high)


@pytest.fixture
def small(tmp_path, scenario_file):
    return scenario_file(tmp_path, first=2026, last=2027, name="small")


def _line_of(text: str, start: str, nth: int = 1) -> int:
    return [i for i, line in enumerate(text.splitlines(), start=1) if line.lstrip().startswith(start)][nth - 1]


# --- --set is blamed, not the preset ---------------------------------------------------------------

SETS = {   # setting -> a word of the refusal
    "options.domestic-buildout.pue=0.5": ">= 1",
    "regions.NLD.electricity_price=-0.2 USD/kWh": "",
    "demand.scale=-2": "",
    "use_cases.drafting.output_tokens=lots": "does not start with a number",
    "use_cases.drafting.user_share=7": "",
    "horizon.last_year=1999": "",
    "worldview=optimist": "",
    "options.hosted-open-weight.gpu=nonexistent-gpu": "nonexistent-gpu",
    "options.hosted-open-weight.gpu_roadmap.2028=nope-gpu": "nope-gpu",
    "options.domestic-buildout.frontier_tier.model=gpt-99": "gpt-99",
    "options.domestic-buildout.pue=1.2 kWh": "",
}


@pytest.mark.parametrize("preset", ["netherlands", "germany"])
@pytest.mark.parametrize("setting", list(SETS))
def test_a_bad_set_value_is_blamed_on_the_set_not_a_line_of_the_preset(tmp_path, preset, setting):
    out = tmp_path / "p.csv"
    message = refused(invoke("run", preset, "--set", setting, "-o", str(out)), f"--set {setting}", SETS[setting], out)
    assert f"{preset}.yaml" not in message


def test_a_bad_set_value_on_a_users_scenario_file_is_blamed_on_the_set(small, tmp_path):
    out = tmp_path / "p.csv"
    message = refused(invoke("run", str(small), "--set", "options.domestic-buildout.pue=0.5", "-o", str(out)),
                      "--set options.domestic-buildout.pue=0.5", ">= 1", out)
    assert "small.yaml" not in message


def test_a_set_path_that_names_no_key_is_blamed_on_the_set(tmp_path):
    out = tmp_path / "p.csv"
    refused(invoke("run", "--set", "options.domestic-buildout.peu=1.2", "-o", str(out)), "--set",
            "did you mean 'pue'", out)


def test_the_second_of_two_sets_is_blamed_when_it_is_the_bad_one(tmp_path):
    out = tmp_path / "p.csv"
    message = refused(invoke("run", "--set", "demand.scale=2", "--set", "options.domestic-buildout.pue=0.5",
                             "-o", str(out)), "--set options.domestic-buildout.pue=0.5", ">= 1", out)
    assert "demand.scale" not in message


def test_a_bad_set_on_a_template_is_blamed_on_the_set_not_a_cell(tmp_path):
    template = tmp_path / "input.xlsx"
    assert invoke("template", str(template)).exit_code == 0
    out = tmp_path / "p.csv"
    message = refused(invoke("run", str(template), "--set", "options.domestic-buildout.pue=0.5", "-o", str(out)),
                      "--set options.domestic-buildout.pue=0.5", ">= 1", out)
    assert "!" not in message.split("--set")[0]


# --- a user's assumption CSV is blamed, on its row and column ----------------------------------------

CSV_ROWS = {   # name -> (rows after the header, line, column or word)
    "hbm_capacity 0": (_row("hbm_capacity", "0", "GB"), 2, "above 0"),
    "hbm_capacity 0 on the third row": (_row() + _row("memory_bandwidth", "3.35", "TB/s")
                                        + _row("hbm_capacity", "0", "GB"), 4, "above 0"),
    "a negative board power": (_row(value="-700"), 2, "above 0"),
    "nan": (_row(value="nan"), 2, "column 'value'"),
    "NaN with a good unit": (_row(value="NaN", unit="kW"), 2, "column 'value'"),
    "inf": (_row(value="inf"), 2, "column 'value'"),
    "1e400": (_row(value="1e400"), 2, "column 'value'"),
    "an empty value": (_row(value=""), 2, "column 'value'"),
    "a decimal comma": (_row(value='"0,7"', unit="kW"), 2, "column 'value'"),
    "a unit of the wrong dimension": (_row(unit="GB"), 2, "column 'unit'"),
    "a unit that is no unit": (_row(unit="wats"), 2, "column 'unit'"),
    "low above the value": (_row(low="800", high="900"), 2, "column 'low'"),
    "high below the value": (_row(low="600", high="650"), 2, "column 'high'"),
    "a low of nan": (_row(low="nan"), 2, "column 'low'"),
    "an unknown parameter": (_row(parameter="board_powr"), 2, "did you mean 'board_power'"),
    "an id pair twice": (_row() + _row(value="710"), 3, "first defined on line 2"),
}


@pytest.mark.parametrize("case", list(CSV_ROWS))
def test_a_bad_row_of_a_users_csv_is_blamed_on_its_line_and_column(small, tmp_path, case):
    rows, line, word = CSV_ROWS[case]
    table = tmp_path / "gpus.csv"
    table.write_text(HEADER + rows, encoding="utf-8")
    out = tmp_path / "p.csv"
    message = refused(invoke("run", str(small), "--assumptions", str(table), "-o", str(out)), f"gpus.csv:{line}:",
                      word, out)
    assert "small.yaml" not in message


def test_a_csv_nan_is_blamed_on_the_value_column_not_the_unit(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_text(HEADER + _row(value="nan"), encoding="utf-8")
    message = refused(invoke("run", str(small), "--assumptions", str(table), "-o", str(tmp_path / "p.csv")),
                      "gpus.csv:2", "column 'value'")
    assert "column 'unit'" not in message


def test_a_bad_row_of_a_csv_a_scenario_lists_is_blamed_on_the_csv(small, tmp_path):
    (tmp_path / "gpus.csv").write_text(HEADER + _row() + _row("hbm_capacity", "0", "GB"), encoding="utf-8")
    small.write_text(small.read_text() + "assumptions: [gpus.csv]\n")
    message = refused(invoke("run", str(small), "-o", str(tmp_path / "p.csv")), "gpus.csv:3", "above 0")
    assert "small.yaml" not in message


def test_a_missing_csv_a_scenario_lists_is_blamed_on_the_scenario_line(small, tmp_path):
    text = small.read_text() + "assumptions:\n  - gpus.csv\n  - nowhere/models.csv\n"
    small.write_text(text)
    (tmp_path / "gpus.csv").write_text(HEADER + _row(), encoding="utf-8")
    refused(invoke("run", str(small), "-o", str(tmp_path / "p.csv")), f"small.yaml:{_line_of(text, '- nowhere')}",
            "does not exist")


@pytest.mark.parametrize("name", ["gpu.csv", "gpus.csv.bak", "my-quotes.csv"])
def test_a_csv_not_named_after_a_table_is_blamed_on_its_name(small, tmp_path, name):
    table = tmp_path / name
    table.write_text(HEADER + _row(), encoding="utf-8")
    refused(invoke("run", str(small), "--assumptions", str(table), "-o", str(tmp_path / "p.csv")), name,
            "one of")


def test_a_utf8_bom_csv_is_read_with_its_first_column(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_bytes(b"\xef\xbb\xbf" + (HEADER + _row(value="655")).encode("utf-8"))
    scenario = capacity.load_scenario(small, assumptions=table)
    row = scenario.catalog.get("gpus", "h100-sxm", "board_power")
    assert row.value == 655 and row.line == 2 and row.file == str(table)


# --- a variant's line is blamed for what the variant sets -----------------------------------------------

def _variants(tmp_path, realist: str, maximalist: str, base_edit=None):
    text = NETHERLANDS.read_text(encoding="utf-8")
    variants = text[text.index("variants:"):]
    text = text.replace(variants, f"variants:\n  realist:\n    worldview: realist\n{realist}"
                        f"  maximalist:\n    worldview: maximalist\n{maximalist}")
    if base_edit:
        text = text.replace(*base_edit, 1)
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


@pytest.mark.parametrize("setting, line_start, word", [
    ("    demand: {scale: -2}\n", "demand:", "demand.scale"),
    ("    options:\n      domestic-buildout:\n        pue: 0.5\n", "pue:", ">= 1"),
    ("    regions:\n      NLD:\n        electricity_price: five\n", "electricity_price:", "does not start with a number"),
    ("    use_cases:\n      drafting:\n        user_share: 7\n", "user_share:", "user_share"),
    ("    horizon: {last_year: 1999}\n", "horizon:", "last_year"),
])
def test_a_bad_value_in_a_variant_is_blamed_on_the_variants_line(tmp_path, setting, line_start, word):
    path, text = _variants(tmp_path, "", setting)
    out = tmp_path / "p.csv"
    line = _line_of(text, line_start, 2 if line_start == "horizon:" else 1)
    refused(invoke("run", str(path), "-o", str(out)), f"s.yaml:{line}", word, out)


def test_a_bad_value_in_the_first_variant_is_blamed_on_its_line_not_the_seconds(tmp_path):
    path, text = _variants(tmp_path, "    demand: {scale: -2}\n", "    demand: {scale: 2}\n")
    refused(invoke("run", str(path), "-o", str(tmp_path / "p.csv")), f"s.yaml:{_line_of(text, 'demand:')}",
            "demand.scale")


def test_a_variant_overriding_a_good_base_value_is_blamed_not_the_base(tmp_path):
    path, text = _variants(tmp_path, "", "    regions:\n      NLD:\n        population: -5\n",
                           base_edit=("  NLD: {}", "  NLD: {population: 18000000}"))
    base, variant = _line_of(text, "NLD: {population"), _line_of(text, "population: -5")
    message = refused(invoke("run", str(path), "-o", str(tmp_path / "p.csv")), f"s.yaml:{variant}", "population")
    assert f"s.yaml:{base}:" not in message


def test_a_bad_base_value_is_blamed_on_the_base_line_when_there_are_variants(tmp_path):
    path, text = _variants(tmp_path, "", "", base_edit=("  NLD: {}", "  NLD: {population: -5}"))
    refused(invoke("run", str(path), "-o", str(tmp_path / "p.csv")), f"s.yaml:{_line_of(text, 'NLD: {population')}",
            "population")


def test_a_variant_that_is_not_a_mapping_is_blamed_on_its_line(tmp_path):
    path, text = _variants(tmp_path, "", "")
    text = text.replace("  maximalist:\n    worldview: maximalist\n", "  maximalist: 5\n")
    path.write_text(text, encoding="utf-8")
    refused(invoke("run", str(path), "-o", str(tmp_path / "p.csv")), f"s.yaml:{_line_of(text, 'maximalist: 5')}",
            "a mapping of overrides")


# --- a template's cell is blamed --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("places") / "input.xlsx"
    assert invoke("template", str(path)).exit_code == 0
    return path


@pytest.mark.parametrize("sheet, ref, value, word", [
    ("Scenario", "B6", 1999, "horizon.first_year"),
    ("Region", "D2", -5, "population"),
    ("Region", "D2", "many", "in a number cell"),
    ("Use cases", "E3", 7, "user_share"),
    ("Options", "B3", -8, "input_price"),
])
def test_a_bad_cell_of_a_template_is_blamed_on_its_sheet_and_cell(template, tmp_path, sheet, ref, value, word):
    book = openpyxl.load_workbook(template)
    book[sheet][ref] = value
    path = tmp_path / "filled.xlsx"
    book.save(path)
    out = tmp_path / "p.csv"
    refused(invoke("run", str(path), "-o", str(out)), f"filled.xlsx:{sheet}!{ref}", word, out)
