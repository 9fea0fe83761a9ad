"""GPU generations past the catalogue and the price of a generation by purchase year:
hand-computed values from the library's trends, and the invariant that a generation's server
price never rises with the year it is bought (hypothesis)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import capacity
from capacity.data import generations
from capacity.data.catalog import default_catalog
from capacity.model.rows import generation_price

CATALOG = default_catalog()


def value(gpu, parameter):
    return float(CATALOG.get("gpus", gpu, parameter).value)


def test_each_product_line_is_continued_from_its_newest_catalogued_generation():
    assert generations.line_heads(CATALOG) == {("nvidia", 8.0): "b300", ("nvidia", 72.0): "gb300",
                                               ("amd", 8.0): "mi355x"}
    assert generations.line_of(CATALOG, "h100-sxm") == "b300"
    assert generations.line_of(CATALOG, "gb200") == "gb300"
    assert generations.line_of(CATALOG, "mi300x") == "mi355x"
    assert generations.line_of(CATALOG, "b300-x2031") == "b300"
    assert generations.base_of("b300-x2031") == ("b300", 2031) and generations.base_of("b300") is None


def test_an_extrapolated_generation_by_hand():
    # B300 shipped in 2025; its line's 2029 generation is 4 years on: performance x 1.26^4 at the
    # same board power, server price and launch rent x (1.26 / 1.30)^4
    w = float(CATALOG.get("defaults", "trend", "gpu_perf_per_watt_gain").value)
    d = float(CATALOG.get("defaults", "trend", "gpu_perf_per_dollar_gain").value)
    assert (w, d) == (0.26, 0.30)
    gain, price = 1.26 ** 4, (1.26 / 1.30) ** 4
    assert value("b300-x2029", "release_year") == 2029
    for parameter in ("peak_flops_fp8", "peak_flops_fp4", "memory_bandwidth", "hbm_capacity"):
        assert value("b300-x2029", parameter) == pytest.approx(value("b300", parameter) * gain, rel=1e-12)
    assert value("b300-x2029", "board_power") == value("b300", "board_power")
    assert value("b300-x2029", "server_cost") == pytest.approx(52_750 * price, rel=1e-12)
    assert value("b300-x2029", "rental_price") == pytest.approx(value("b300", "rental_price") * price, rel=1e-12)
    row = CATALOG.get("gpus", "b300-x2029", "server_cost")
    assert row.notes.startswith("estimate: extrapolated") and "defaults:trend:gpu_perf_per_dollar_gain" in row.notes
    assert CATALOG.get("gpus", "b300-x2029", "extrapolated_from").value == "b300"
    assert CATALOG.get("gpus", "b300-x2029", "architecture").value == CATALOG.get("gpus", "b300", "architecture").value


def test_fleets_move_to_the_newest_generation_after_their_roadmap():
    plan = capacity.run("netherlands")
    rows = plan.rows[plan.rows["scenario"] == "realist"].drop_duplicates("year").set_index("year")
    # the preset's roadmap: rent B200 from 2028, B300 from 2030, then the newest of the line
    assert list(rows.loc[[2026, 2028, 2030, 2031, 2035], "ho_gpu"]) == [
        "h100-sxm", "b200", "b300", "b300-x2031", "b300-x2035"]
    assert rows.loc[2026, "fa_gpu"] == "gb200" and rows.loc[2027, "fa_gpu"] == "gb300-x2027"
    stay = capacity.run("netherlands", overrides={"options.hosted-open-weight.after_roadmap": "last"})
    assert set(stay.rows.loc[stay.rows["year"] >= 2030, "ho_gpu"]) == {"b300"}


def test_the_price_of_a_generation_by_purchase_year_by_hand():
    years = np.array([2024, 2025, 2026, 2030])
    gpus = np.full(4, "h100-sxm", dtype=object)
    # quoted for 2024 (SemiAnalysis via Epoch), then -14 %/yr
    np.testing.assert_allclose(generation_price(CATALOG, gpus, years, -0.14),
                               33_750 * 0.86 ** np.array([0, 1, 2, 6]), rtol=1e-12)
    # the scenario's own price is the first year's
    np.testing.assert_allclose(generation_price(CATALOG, gpus, years, -0.14, "h100-sxm", 30_000.0, 2026),
                               30_000 * 0.86 ** np.array([0, 0, 0, 4]), rtol=1e-12)
    # an extrapolated generation is priced at launch, then falls
    new = np.full(4, "b300-x2028", dtype=object)
    np.testing.assert_allclose(generation_price(CATALOG, new, years, -0.14),
                               value("b300-x2028", "server_cost") * 0.86 ** np.array([0, 0, 0, 2]), rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(gpu=st.sampled_from(sorted(CATALOG.wide("gpus").index)), change=st.floats(-0.9, 0.0),
       first=st.integers(2020, 2045), years=st.integers(1, 15))
def test_a_generations_capex_never_rises_with_the_purchase_year(gpu, change, first, years):
    purchase = np.arange(first, first + years)
    price = generation_price(CATALOG, np.full(years, gpu, dtype=object), purchase, change)
    assert np.all(np.diff(price) <= 1e-9 * price[:-1])
    assert np.all(price <= value(gpu, "server_cost") * (1 + 1e-12))


def test_a_rising_generation_price_is_refused(tmp_path):
    with pytest.raises(capacity.InputError, match="fleet.generation_price_change"):
        capacity.load_scenario("netherlands", overrides={"fleet.generation_price_change": 0.05})
