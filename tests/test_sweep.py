"""Sweeps of one validated scenario, and draws and sweep points on a Dask LocalCluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import capacity
from capacity.analysis import uncertainty
from capacity.analysis.sweep import partitions


def test_a_sweep_point_is_what_a_full_run_with_its_values_gives():
    values = {"regions.NLD.electricity_price": "0.2 USD/kWh", "options.hosted-open-weight.supply": "rent",
              "options.domestic-buildout.pue": 1.3}
    swept = capacity.sweep([{}, values])
    assert sorted(swept["point"].unique()) == [0, 1]
    for point, overrides in ((0, {}), (1, values)):
        full = capacity.run(overrides=overrides).results
        mine = swept[swept["point"] == point].drop(columns="point").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine[["scenario", "option", "variable", "year"]],
                                      full[["scenario", "option", "variable", "year"]])
        np.testing.assert_allclose(mine["value"], full["value"], rtol=1e-12, atol=0)


def test_a_sweep_refuses_bad_values_naming_the_point_and_path():
    with pytest.raises(capacity.InputError, match=r"point 1: options\.domestic-buildout\.pue: found 0\.5; expected a value >= 1"):
        capacity.sweep([{"options.domestic-buildout.pue": 1.2}, {"options.domestic-buildout.pue": 0.5}])
    with pytest.raises(capacity.InputError, match="did you mean|one of"):
        capacity.sweep([{"options.domestic-buildout.puee": 1.2}])
    with pytest.raises(capacity.InputError, match="other defaults are derived from"):
        capacity.sweep([{"options.domestic-buildout.gpu": "h200-sxm"}])


def test_partitions_cover_every_point_once():
    for n, parts in ((100, 4), (3, 8), (1, 1), (17, 5)):
        ranges = partitions(n, parts)
        assert [i for r in ranges for i in r] == list(range(n)) and len(ranges) <= parts


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local, distributed.Client(local) as client:
        yield client


def test_draws_on_a_dask_cluster_give_byte_identical_quantiles(cluster, monkeypatch):
    monkeypatch.setattr(uncertainty, "CHUNK_ROWS", 4000)       # several chunks for the workers
    scenario = capacity.load_scenario()
    here = uncertainty.monte_carlo(scenario, 60, seed=8)
    there = uncertainty.monte_carlo(scenario, 60, seed=8, scheduler=cluster)
    assert here.quantiles.to_csv().encode() == there.quantiles.to_csv().encode()
    assert here.cheapest.to_csv().encode() == there.cheapest.to_csv().encode()


def test_a_sweep_on_a_dask_cluster_gives_the_local_results(cluster):
    points = [{"options.domestic-buildout.pue": float(x)} for x in np.linspace(1.05, 1.6, 9)]
    here = capacity.sweep(points)
    there = capacity.sweep(points, scheduler=cluster)
    pd.testing.assert_frame_equal(here, there)


def test_a_demand_sweep_gives_exactly_what_sweep_gives_with_demand_scale():
    from capacity.analysis.sweep import demand_sweep, sweep
    scenario = capacity.load_scenario()
    scales = [0.5, 1.0, 2.5, 4.0, 0.2]
    variables = ["Cost|Total", "Power|Facility", "Capacity|GPUs", "Demand|Unserved"]
    # 2 points a chunk: one layout reused by two chunks, and a chunk of one
    out = demand_sweep(scenario, scales, variables=variables, chunk_rows=400)
    long = sweep(scenario, [{"demand.scale": s} for s in scales])
    assert set(out["values"]) == {(o, v) for o in long["option"].unique() for v in variables}
    for (option, variable), values in out["values"].items():
        assert values.shape == (len(scales), len(out["series"]), len(out["years"]))
        mine = long[(long["option"] == option) & (long["variable"] == variable)]
        for s, (case, region) in enumerate(out["series"]):
            for p in range(len(scales)):
                expected = mine[(mine["point"] == p) & (mine["scenario"] == case) & (mine["region"] == region)]
                expected = expected.set_index("year")["value"].reindex(out["years"]).to_numpy()
                np.testing.assert_array_equal(values[p, s], expected)


def test_a_demand_sweep_scales_demand_in_proportion_and_refuses_bad_scales():
    from capacity.analysis.sweep import demand_sweep
    scenario = capacity.load_scenario()
    out = demand_sweep(scenario, [1.0, 3.0], variables=["Demand|Tokens"])["values"]
    tokens = out[("frontier-api", "Demand|Tokens")]
    np.testing.assert_allclose(tokens[1], 3.0 * tokens[0], rtol=1e-12)
    for bad in ([], [0.0], [float("nan")], [-1.0]):
        with pytest.raises(capacity.InputError, match="scales"):
            demand_sweep(scenario, bad)
    with pytest.raises(capacity.InputError, match="variables"):
        demand_sweep(scenario, [1.0], variables=["Cost|Totl"])


def test_a_demand_sweep_on_a_dask_cluster_gives_the_local_arrays(cluster):
    from capacity.analysis.sweep import demand_sweep
    scenario = capacity.load_scenario()
    scales = np.linspace(0.5, 3.0, 12)
    here = demand_sweep(scenario, scales, variables=["Cost|Total"], chunk_rows=900)
    there = demand_sweep(scenario, scales, variables=["Cost|Total"], chunk_rows=900, scheduler=cluster)
    for key in here["values"]:
        assert here["values"][key].tobytes() == there["values"][key].tobytes()
