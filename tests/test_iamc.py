"""The IAMC wide table (to_iamc, write_iamc) and, when pyam is installed, reading it with pyam."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import capacity
from capacity.data.errors import InputError
from capacity.io.export.tabular import to_iamc, write_iamc
from capacity.model.plan import VARIABLES

MODEL = f"capacity {capacity.__version__}"
INDEX = ["model", "scenario", "region", "variable", "unit"]


@pytest.fixture(scope="module")
def results():
    return capacity.run().results


@pytest.fixture(scope="module")
def wide(results):
    return to_iamc(results, MODEL)


def back_to_long(wide: pd.DataFrame) -> pd.DataFrame:
    """The wide table as (scenario, option, region, variable, unit, year) -> value."""
    long = wide.melt(id_vars=INDEX, var_name="year", value_name="value").dropna(subset=["value"])
    long[["scenario", "option"]] = long["scenario"].str.split("|", n=1, expand=True)
    long["year"] = long["year"].astype(int)
    return long.set_index(["scenario", "option", "region", "variable", "unit", "year"])["value"]


def test_one_row_per_series(results, wide):
    years = sorted(results["year"].unique())
    assert list(wide.columns) == INDEX + years
    assert all(type(year) is int for year in wide.columns[len(INDEX):])
    series = results[["scenario", "option", "region", "variable"]].drop_duplicates()
    assert len(wide) == len(series) == 2 * 4 * len(VARIABLES) == 2 * 4 * 32   # 4 options
    assert not wide.duplicated(INDEX).any()
    assert (wide["model"] == MODEL).all()
    assert set(wide["scenario"]) == {f"{s}|{o}" for s in ("realist", "maximalist")
                                     for o in ("frontier-api", "hosted-open-weight",
                                               "domestic-buildout", "hedged")}


def test_values_equal_the_long_results(results, wide):
    expected = results.set_index(["scenario", "option", "region", "variable", "unit", "year"])["value"]
    got = back_to_long(wide).reindex(expected.index)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    one = results[(results["option"] == "domestic-buildout") & (results["variable"] == "Cost|Total")
                  & (results["scenario"] == "realist") & (results["year"] == 2030)]
    row = wide[(wide["scenario"] == "realist|domestic-buildout") & (wide["variable"] == "Cost|Total")]
    assert row[2030].item() == one["value"].item()


def test_csv_round_trip(results, wide, tmp_path):
    path = write_iamc(results, tmp_path / "plan.csv", MODEL)
    # numbers parsed by Python's float (correctly rounded): the default parser of pandas < 3.1
    # can be a few ulp off for 16-17 digits, and its float_precision argument is deprecated
    read = pd.read_csv(path, dtype=str)
    read.columns = [int(c) if c.isdigit() else c for c in read.columns]
    read = read.astype({c: float for c in read.columns if isinstance(c, int)})
    pd.testing.assert_frame_equal(read, wide, check_dtype=False)
    np.testing.assert_array_equal(read[2035].to_numpy(), wide[2035].to_numpy())


def test_xlsx_has_a_data_sheet(results, wide, tmp_path):
    path = write_iamc(results, tmp_path / "plan.xlsx", MODEL)
    read = pd.read_excel(path, sheet_name="data")
    assert list(read.columns) == list(wide.columns)
    # Excel keeps about 15 significant digits
    np.testing.assert_allclose(read[2030].to_numpy(), wide[2030].to_numpy(), rtol=1e-14)


def test_other_extension_is_refused(results, tmp_path):
    with pytest.raises(InputError, match=r"plan\.parquet: found the file extension '\.parquet'"):
        write_iamc(results, tmp_path / "plan.parquet", MODEL)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_pyam_reads_the_file(results, tmp_path, suffix):
    pyam = pytest.importorskip("pyam")
    path = write_iamc(results, tmp_path / f"plan{suffix}", MODEL)
    frame = pyam.IamDataFrame(path)
    assert frame.model == [MODEL]
    timeseries = frame.timeseries()
    assert len(timeseries) == 2 * 3 * 22
    long = timeseries.rename_axis(columns="year").stack().rename("value").reset_index()
    long[["scenario", "option"]] = long["scenario"].str.split("|", n=1, expand=True)
    got = long.set_index(["scenario", "option", "region", "variable", "unit", "year"])["value"]
    expected = results.set_index(["scenario", "option", "region", "variable", "unit", "year"])["value"]
    got = got.reindex(expected.index)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-14)
