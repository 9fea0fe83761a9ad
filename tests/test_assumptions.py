"""The assumption library: every row checked on loading; malformed rows refused with a location."""

import math
import re
import subprocess
import sys

import pytest

import capacity
from capacity.data.catalog import COLUMNS, Catalog, default_catalog, read_table
from capacity.data.errors import InputError
from capacity.data.paths import assumptions_dir
from capacity.data.schema import TABLES

HEADER = ",".join(COLUMNS)
GOOD = "h100-sxm,board_power,700,W,,,NVIDIA,https://example.org/h100,2023,primary,"


def test_every_table_loads_and_every_row_has_a_unit_source_and_date():
    catalog = Catalog.load()
    assert set(catalog.rows) == set(TABLES)
    for table, rows in catalog.rows.items():
        for row in rows.values():
            assert row.source and row.url and row.source_date, row.key
            if isinstance(row.value, float):
                assert math.isfinite(row.value), row.key
                assert math.isnan(row.low) or row.low <= row.value * (1 + 1e-12), row.key
                assert math.isnan(row.high) or row.high >= row.value * (1 - 1e-12), row.key


def test_the_library_covers_what_the_issue_lists():
    catalog = default_catalog()
    gpus = set(catalog.ids("gpus"))
    assert {"h100-sxm", "h200-sxm", "h800-sxm", "b200", "gb200", "mi300x", "mi325x", "b300",
            "gb300", "mi355x"} <= gpus
    for gpu in gpus:
        for parameter in ("peak_flops_bf16", "peak_flops_fp8", "hbm_capacity", "memory_bandwidth",
                          "board_power", "scale_up_domain", "purchase_price", "server_cost"):
            assert catalog.get("gpus", gpu, parameter) is not None, (gpu, parameter)
    for model in ("llama-2-70b", "llama-3.1-8b", "llama-3.3-70b", "llama-3.1-405b", "deepseek-v3",
                  "qwen3-235b-a22b", "gpt-oss-120b"):
        for parameter in ("total_params", "active_params", "layers", "kv_heads", "head_dim",
                          "license", "release_date", "frontier_lag_months"):
            assert catalog.get("models", model, parameter) is not None, (model, parameter)
    for country in ("NLD", "GBR", "DEU", "FRA", "IRL", "JPN", "SGP", "AUS", "ARE", "SAU", "KOR", "IND"):
        for parameter in ("population", "workforce", "electricity_consumption", "peak_demand",
                          "electricity_price", "grid_co2_intensity"):
            assert catalog.get("countries", country, parameter) is not None, (country, parameter)
    for archetype in ("drafting", "software-development", "agentic-coding", "customer-service",
                      "document-processing", "public-services", "cyber-defence", "research-analysis"):
        for worldview in ("realist", "maximalist"):
            assert catalog.get("use_cases", archetype, f"frontier_share_{worldview}") is not None
    for parameter in ("pue_hyperscale", "pue_colocation", "pue_legacy", "capex_per_mw_it", "lifetime",
                      "build_lead_time"):
        assert catalog.get("defaults", "facility", parameter) is not None


@pytest.mark.parametrize("row, column, expected", [
    ("h100-sxm,board_power,700,GB,,,NVIDIA,u,2023,primary,", "column 'unit'", "a unit of W"),
    ("h100-sxm,board_power,700,W,800,900,NVIDIA,u,2023,primary,", "column 'low'", "low <= value <= high"),
    ("h100-sxm,board_power,700,W,,,,u,2023,primary,", "column 'source'", "publisher and title"),
    ("h100-sxm,board_power,seven hundred,W,,,NVIDIA,u,2023,primary,", "column 'value'", "a number"),
    ("h100-sxm,board_powr,700,W,,,NVIDIA,u,2023,primary,", "column 'parameter'", "did you mean 'board_power'"),
    ("h100-sxm,board_power,700,W,,,NVIDIA,u,,primary,", "column 'source_date'", "a value"),
])
def test_malformed_row_is_refused_naming_file_row_and_column(tmp_path, row, column, expected):
    path = tmp_path / "gpus.csv"
    path.write_text(f"{HEADER}\n{GOOD.replace('board_power', 'hbm_capacity').replace('700,W', '80,GB')}\n{row}\n")
    with pytest.raises(InputError) as error:
        read_table(path, "gpus")
    message = str(error.value)
    assert message.startswith(f"{path}:3: {column}"), message
    assert expected in message


@pytest.mark.parametrize("quality, notes, expected", [
    ("good", "", "column 'quality': found 'good'; expected one of primary, secondary, estimate"),
    ("", "", "column 'quality': found an empty cell"),
    ("estimate", "seems about right", "column 'notes': found 'seems about right'; expected an "
                                      "estimate's derivation, starting 'estimate:'"),
])
def test_a_rows_quality_mark_is_checked(tmp_path, quality, notes, expected):
    path = tmp_path / "gpus.csv"
    path.write_text(f"{HEADER}\nh100-sxm,board_power,700,W,,,NVIDIA,u,2023,{quality},{notes}\n")
    with pytest.raises(InputError, match=re.escape(f"{path}:2: {expected}")):
        read_table(path, "gpus")


def test_a_users_file_may_leave_the_quality_column_out(tmp_path):
    path = tmp_path / "gpus.csv"
    path.write_text(",".join(c for c in COLUMNS if c != "quality")
                    + "\nh100-sxm,board_power,700,W,,,NVIDIA,u,2023,\n")
    assert [row.quality for row in read_table(path, "gpus")] == [""]


def test_duplicate_identifier_is_refused(tmp_path):
    path = tmp_path / "gpus.csv"
    path.write_text(f"{HEADER}\n{GOOD}\n{GOOD}\n")
    with pytest.raises(InputError, match=r"gpus.csv:3: columns 'id','parameter': .*first defined on line 2"):
        read_table(path, "gpus")


def test_cli_refuses_a_malformed_file_with_exit_code_2(tmp_path):
    path = tmp_path / "gpus.csv"
    path.write_text(f"{HEADER}\nh100-sxm,board_power,700,GB,,,NVIDIA,u,2023,primary,\n")
    process = subprocess.run([sys.executable, "-m", "capacity.cli", "assumptions", "list", "--file",
                              str(path)], capture_output=True, text=True)
    assert process.returncode == 2 and "Traceback" not in process.stderr
    assert f"{path}:2: column 'unit'" in process.stderr


def test_cli_lists_and_shows_values_units_ranges_and_sources():
    listed = subprocess.run([sys.executable, "-m", "capacity.cli", "assumptions", "list", "--table",
                             "defaults"], capture_output=True, text=True, check=True).stdout
    assert "defaults:facility:pue_hyperscale" in listed and "[1.08 .. 1.3]" in listed
    shown = subprocess.run([sys.executable, "-m", "capacity.cli", "assumptions", "show",
                            "countries:NLD:population"], capture_output=True, text=True, check=True).stdout
    assert "source:" in shown and "url:" in shown and "date:" in shown and "quality:" in shown


def test_cli_lists_each_rows_quality_and_filters_by_it():
    run = lambda *extra: subprocess.run([sys.executable, "-m", "capacity.cli", "assumptions", "list",
                                         "--table", "countries", *extra],
                                        capture_output=True, text=True, check=True).stdout.splitlines()
    every, estimates = run(), run("--quality", "estimate")
    catalog = default_catalog()
    assert len(estimates) == sum(row.quality == "estimate" for row in catalog.all_rows("countries"))
    assert 0 < len(estimates) < len(every)
    assert all(" estimate " in line for line in estimates)
    assert any(" primary " in line for line in every)


def test_a_users_file_overrides_a_library_row_without_editing_the_package(tmp_path):
    quote = tmp_path / "gpus.csv"
    quote.write_text(f"{HEADER}\nh100-sxm,rental_price,2.40,USD/GPU/h,,,Ministry tender,"
                     "tender 2026/17,2026-10,primary,\"national quote: three quarters of the library median, above the rent floor\"\n")
    scenario = tmp_path / "nl.yaml"
    scenario.write_text((assumptions_dir() / "scenarios" / "netherlands.yaml").read_text()
                        + "\nassumptions: [gpus.csv]\n")
    rent = {"options.hosted-open-weight.supply": "rent"}   # renting, not buying per token
    base = capacity.run(capacity.load_scenario(overrides=rent))
    quoted = capacity.run(capacity.load_scenario(scenario, overrides=rent))
    pick = lambda plan: plan.results.query(
        "option == 'hosted-open-weight' and variable == 'Cost|Total' and year == 2026"
        " and scenario == 'realist'")["value"].iloc[0]
    assert pick(quoted) == pytest.approx(pick(base) * 0.75, rel=1e-9)   # 2026 rents H100s only
    assert "Ministry tender" in set(quoted.assumptions["source"])


@pytest.mark.parametrize("name", ["calibration.csv", "batch-sizes.csv", "crosschecks.csv"])
def test_evidence_files_name_a_source_and_a_date_on_every_row(name):
    import pandas as pd

    from capacity.data.units import unit
    frame = pd.read_csv(assumptions_dir() / name, dtype=str, keep_default_na=False)
    for column in ("source", "url", "source_date", "quality"):
        empty = frame.loc[frame[column].str.strip() == "", "id"].tolist()
        assert not empty, (name, column, empty)
    if "unit" in frame:
        for text in frame["unit"]:
            unit(text.replace("CO2", "").strip())   # parses with the package registry
