"""diff_results, read_results_json and the Markdown / text reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import capacity
from capacity.analysis.diff import DIFF_COLUMNS, diff_results, read_results_json, to_markdown, to_text
from capacity.data.errors import InputError
from capacity.io.export.tabular import to_json


@pytest.fixture(scope="module")
def results():
    return capacity.run().results


def doubled(results, variable="Capacity|GPUs", option="domestic-buildout"):
    """A copy of the results with one variable of one option multiplied by 2, and its mask."""
    mask = (results["variable"] == variable) & (results["option"] == option)
    after = results.copy()
    after.loc[mask, "value"] *= 2
    return after, mask


def test_identical_results_have_no_diff(results):
    diff = diff_results(results, results.copy())
    assert diff.empty
    assert list(diff.columns) == DIFF_COLUMNS


def test_doubling_one_variable_reports_exactly_those_rows(results):
    after, mask = doubled(results)
    # a tiny change elsewhere, within the tolerance, is not reported
    after.loc[results["variable"] == "Cost|Total", "value"] *= 1 + 1e-9
    nonzero = mask & (results["value"] != 0)
    diff = diff_results(results, after)

    assert len(diff) == int(nonzero.sum()) > 0
    assert set(diff["variable"]) == {"Capacity|GPUs"}
    assert set(diff["option"]) == {"domestic-buildout"}
    np.testing.assert_allclose(diff["relative_change"], 1.0)
    np.testing.assert_allclose(diff["after"], 2 * diff["before"])
    np.testing.assert_allclose(diff["change"], diff["before"])
    expected = results[nonzero].sort_values(["scenario", "region", "year"])
    assert sorted(diff["before"]) == sorted(expected["value"])


def test_largest_relative_change_first(results):
    after, _ = doubled(results)
    tripled = (results["variable"] == "Cost|Total") & (results["option"] == "frontier-api") \
        & (results["year"] == 2030)
    after.loc[tripled, "value"] *= 3
    diff = diff_results(results, after)
    size = diff["relative_change"].abs().to_numpy()
    assert (np.diff(size) <= 0).all()
    first = diff.iloc[: int(tripled.sum())]
    assert len(first) == 2 and set(first["variable"]) == {"Cost|Total"}
    np.testing.assert_allclose(first["relative_change"], 2.0)


def test_row_on_one_side_only_is_reported(results):
    dropped = results.index[(results["variable"] == "Cost|NPV") & (results["year"] == 2026)]
    after = results.drop(index=dropped[:1])
    extra = results.iloc[[0]].assign(region="BEL", value=5.0)
    after = pd.concat([after, extra], ignore_index=True)

    diff = diff_results(results, after)
    assert len(diff) == 2
    removed = diff[diff["after"].isna()].iloc[0]
    assert removed["variable"] == "Cost|NPV" and removed["year"] == 2026
    assert removed["before"] == results.loc[dropped[0], "value"]
    added = diff[diff["before"].isna()].iloc[0]
    assert added["region"] == "BEL" and added["after"] == 5.0
    assert diff["relative_change"].isna().all()


def test_nan_against_number_is_a_change_and_comes_first(results):
    after, _ = doubled(results)
    after.loc[5, "value"] = np.nan
    diff = diff_results(results, after)
    assert np.isnan(diff.loc[0, "after"]) and diff.loc[0, "before"] == results.loc[5, "value"]
    assert diff_results(after, after).empty          # NaN against NaN is not a change


def test_json_round_trip_reproduces_the_frame(results, tmp_path):
    path = tmp_path / "results.json"
    path.write_text(to_json(results), encoding="utf-8")
    pd.testing.assert_frame_equal(read_results_json(path), results)


def test_json_null_reads_as_nan(results, tmp_path):
    with_nan = results.head(3).copy()
    with_nan.loc[1, "value"] = np.nan
    path = tmp_path / "nan.json"
    path.write_text(to_json(with_nan), encoding="utf-8")
    back = read_results_json(path)
    assert np.isnan(back.loc[1, "value"]) and back["value"].dtype == np.float64
    pd.testing.assert_frame_equal(back, with_nan)


@pytest.mark.parametrize("content, found", [
    ("not json", "invalid JSON"),
    ("[1, 2]", "a JSON array"),
    ('{"schema_version": 2, "results": []}', "schema_version: found 2"),
    ('{"schema_version": 1, "results": [{"scenario": "x"}]}', "results[0]: found keys"),
    ('{"schema_version": 1, "results": [{"scenario": "x", "region": "NLD", "option": "o", '
     '"variable": "v", "unit": "u", "year": "2030", "value": 1}]}', 'results[0].year: found "2030"'),
])
def test_bad_json_file_names_the_file(tmp_path, content, found):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match="bad.json") as error:
        read_results_json(path)
    assert found in str(error.value)
    assert "expected" in str(error.value)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="missing.json: found no such file"):
        read_results_json(tmp_path / "missing.json")


def test_markdown_table(results):
    after, mask = doubled(results)
    diff = diff_results(results, after)
    text = to_markdown(diff, "main", "branch", max_rows=5)
    lines = text.splitlines()
    assert lines[0] == "### Results: main → branch"
    assert f"{len(diff)} values changed beyond the tolerance." in lines
    header = lines.index("| Scenario | Region | Option | Variable | Unit | Year | Before | After "
                         "| Change | Relative change |")
    assert lines[header + 1].startswith("|---|")
    rows = [line for line in lines[header + 2:] if line.startswith("| ")]
    assert len(rows) == 5
    assert all("Capacity\\|GPUs" in row and row.endswith("| +100% |") for row in rows)
    assert f"... and {len(diff) - 5} more" in lines


def test_markdown_numbers_are_readable():
    diff = diff_results(
        pd.DataFrame({"scenario": ["s"], "region": ["r"], "option": ["o"], "variable": ["v"],
                      "unit": ["USD"], "year": [2030], "value": [1234567.0]}),
        pd.DataFrame({"scenario": ["s"], "region": ["r"], "option": ["o"], "variable": ["v"],
                      "unit": ["USD"], "year": [2030], "value": [1250000.0]}))
    text = to_markdown(diff, "a", "b")
    assert "1 value changed beyond the tolerance." in text
    assert "| 1,234,567 | 1,250,000 | +15,433 | +1.25% |" in text


def test_empty_reports():
    empty = diff_results(pd.DataFrame(columns=["scenario", "region", "option", "variable", "unit",
                                               "year", "value"]).astype({"year": int, "value": float}),
                         pd.DataFrame(columns=["scenario", "region", "option", "variable", "unit",
                                               "year", "value"]).astype({"year": int, "value": float}))
    assert "No value changed beyond the tolerance." in to_markdown(empty, "a", "b")
    assert to_text(empty) == "No value changed beyond the tolerance.\n"


def test_text_is_aligned(results):
    after, _ = doubled(results)
    diff = diff_results(results, after)
    lines = to_text(diff).splitlines()
    assert lines[0] == f"{len(diff)} values changed beyond the tolerance."
    table = lines[2:]
    assert len(table) == len(diff) + 2                 # header, rule, one line a row
    assert table[0].startswith("Scenario")
    assert set(table[1]) == {"-", " "}
    # every numeric column is right-aligned: all rows end at the same column
    assert len({len(line) for line in table}) == 1
    assert all(line.endswith("+100%") for line in table[2:])
