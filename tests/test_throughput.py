"""The throughput stage: hand-computed roofline cases, properties, and the calibration points."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity import throughput as capacity_throughput
from capacity.model import calibrate
from capacity.model.stages.throughput import expert_weight_share_read, kv_cache_bytes_per_sequence, serving_throughput

# a synthetic dense 10 B model on a 1 PFLOP/s, 2 TB/s, 80 GB GPU, worked by hand below
TOY = dict(total_params=10e9, active_params=10e9, layers=40, attention_heads=32, attention_dims=256,
           kv_values_per_token_per_layer=2 * 8 * 128, weight_bytes_per_param=1.0, kv_bytes=1.0,
           peak_flops=1e15, memory_bandwidth=2e12, hbm_capacity=80e9, scale_up_domain=8,
           eta_flops=0.5, eta_bw=0.8, usable_hbm_fraction=0.9, gpus_per_replica=1.0)


def test_offline_case_by_hand_sums_the_kernel_rooflines_at_the_kv_cache_batch():
    result = serving_throughput(input_tokens=1000.0, output_tokens=500.0, **TOY)
    kv_per_sequence = 40 * 2048 * 1.0 * 1250          # mean context I + O/2 = 1250 tokens
    batch = math.floor((0.9 * 80e9 - 10e9) / kv_per_sequence)
    assert batch == 605 and result.batch_size[()] == batch
    tokens = batch * 3                                 # one output + two prompt tokens each
    bandwidth, flops = 2e12 * 0.8, 1e15 * 0.5
    linear = max(10e9 / bandwidth, tokens * 2 * 10e9 / flops)          # compute-bound: 72.6 ms
    attention_flops = 2 * 40 * 32 * 256 * (batch * 1250 + batch * 2 * 500)
    attention = max(batch * kv_per_sequence / bandwidth, attention_flops / flops)  # memory: 38.7 ms
    assert linear == pytest.approx(0.0726) and attention == pytest.approx(0.03872, rel=1e-3)
    assert result.output_tokens_per_s_per_gpu[()] == pytest.approx(batch / (linear + attention), rel=1e-12)
    assert str(result.bound) == "compute"               # the larger share of the step


def test_latency_target_caps_the_batch_when_memory_bound():
    result = serving_throughput(input_tokens=1000.0, output_tokens=500.0, max_tpot_s=0.008, **TOY)
    # step = (10 GB + B x 102.4 MB) / 1.6 TB/s <= 8 ms  ->  B <= 27.3
    assert result.batch_size[()] == 27
    t_memory = (10e9 + 27 * 102.4e6) / 1.6e12
    assert result.output_tokens_per_s_per_gpu[()] == pytest.approx(27 / t_memory, rel=1e-12)
    assert result.time_per_output_token_s[()] <= 0.008
    assert str(result.bound) == "latency"


def test_model_that_does_not_fit_is_infeasible_and_replicas_fix_it():
    big = {**TOY, "total_params": 300e9, "active_params": 300e9}
    alone = serving_throughput(input_tokens=100.0, output_tokens=100.0, **big)
    assert np.isnan(alone.output_tokens_per_s_per_gpu[()]) and str(alone.bound) == "infeasible"
    chosen = serving_throughput(input_tokens=100.0, output_tokens=100.0,
                                **{**big, "gpus_per_replica": np.nan})
    assert chosen.gpus_per_replica[()] >= 8 or chosen.gpus_per_replica[()] == 8
    assert chosen.output_tokens_per_s_per_gpu[()] > 0


def test_expert_share_read_and_kv_with_sliding_window():
    assert expert_weight_share_read(1.0, 8.0, 2.0) == pytest.approx(0.25)
    assert expert_weight_share_read(1000.0, 8.0, 2.0) == pytest.approx(1.0)
    assert expert_weight_share_read(5.0, 0.0, 0.0) == 1.0
    # half the layers keep at most 128 tokens: 10 layers x 4 values x 2 bytes x (0.5 x 1000 + 0.5 x 128)
    assert kv_cache_bytes_per_sequence(1000.0, 10, 4, 2.0, 128.0, 0.5) == 10 * 4 * 2 * 564


@settings(max_examples=60, deadline=None)
@given(hbm=st.floats(40e9, 300e9), tpot_ms=st.floats(5, 500), extra=st.floats(1.0, 3.0),
       inp=st.floats(10, 20000), out=st.floats(10, 5000))
def test_more_memory_or_a_looser_target_never_lowers_throughput(hbm, tpot_ms, extra, inp, out):
    base = dict(TOY, hbm_capacity=hbm, gpus_per_replica=np.nan)
    tight = serving_throughput(input_tokens=inp, output_tokens=out, max_tpot_s=tpot_ms / 1e3, **base)
    loose = serving_throughput(input_tokens=inp, output_tokens=out, max_tpot_s=extra * tpot_ms / 1e3, **base)
    roomy = serving_throughput(input_tokens=inp, output_tokens=out, max_tpot_s=tpot_ms / 1e3,
                               **dict(base, hbm_capacity=hbm * extra))
    a = np.nan_to_num(tight.output_tokens_per_s_per_gpu)
    assert np.nan_to_num(loose.output_tokens_per_s_per_gpu) >= a * (1 - 1e-12)
    assert np.nan_to_num(roomy.output_tokens_per_s_per_gpu) >= a * (1 - 1e-12)


def test_library_entry_point_reports_what_the_issue_asks():
    result = capacity_throughput("llama-3.3-70b", "h100-sxm", precision="fp8", input_tokens=1000,
                                 output_tokens=1000, max_tpot_ms=50)
    assert result.output_tokens_per_s_per_gpu > 0
    assert result.gpus_per_replica in (1, 2, 4, 8)
    assert result.batch_size >= 1
    assert result.time_per_output_token_ms <= 50
    assert result.bound in ("compute", "memory-bandwidth", "kv-cache-capacity", "latency")


# --- calibration against published measurements ---------------------------------------------

MEASUREMENTS = calibrate.read_measurements()
FIT = calibrate.fit(stored=True)  # the stored factors, no refit: what the package ships


@pytest.mark.parametrize("measurement_id", MEASUREMENTS.loc[MEASUREMENTS["usable"], "id"].tolist())
def test_model_is_within_25_percent_of_each_published_measurement(measurement_id):
    row = FIT.measurements.set_index("id").loc[measurement_id]
    source = f"{row['source']} <{row['url']}>"
    modelled, measured = row["modelled_output_tokens_per_s_per_gpu"], row["measured_output_tokens_per_s_per_gpu"]
    assert abs(modelled / measured - 1) <= 0.25, f"{measurement_id}: {modelled:.0f} vs {measured:.0f} ({source})"


def test_calibration_spans_gpus_models_and_architectures():
    usable = MEASUREMENTS[MEASUREMENTS["usable"]]
    assert len(usable) >= 8
    assert usable["gpu"].nunique() >= 3 and usable["model"].nunique() >= 3
    from capacity.data.catalog import default_catalog
    catalog = default_catalog()
    kinds = {catalog.get("models", m, "architecture").value for m in usable["model"]}
    assert kinds == {"dense", "moe"}


def test_efficiency_factors_are_shared_across_models_not_fitted_per_pair():
    stored = pd.read_csv(calibrate.efficiency_file())
    from capacity.data.catalog import default_catalog
    from capacity.model.lookup import build_tables
    tables = build_tables(default_catalog())
    usable = MEASUREMENTS[MEASUREMENTS["usable"]].reset_index(drop=True)
    groups = calibrate.fitting_groups(usable, tables)
    assert set(stored["id"]) == set(groups)
    architecture = tables.gpu_text(usable["gpu"], "architecture")
    for group, members in groups.items():
        engine, _, scope = group.rpartition("/")
        rows = usable.loc[members]
        pairs = rows[["model", "gpu"]].drop_duplicates()
        assert len(pairs) >= 2, group           # never one model on one GPU
        assert not engine or set(rows["engine_id"]) == {engine}, group
        if scope in set(usable["gpu"]):
            assert pairs["model"].nunique() >= 2 and set(rows["gpu"]) == {scope}, group
        elif scope != "all":
            assert set(architecture[members]) == {scope}, group
        # each stored factor was fitted on measurements spanning two (model, GPU) pairs
        informed = calibrate.informed_columns(rows, tables)
        assert set(stored.loc[stored["id"] == group, "parameter"]) == set(informed), group
    # the factor of a GPU applies to every model on it: one value per (group, parameter)
    assert not stored.duplicated(["id", "parameter"]).any()


def test_validation_measurements_are_reported_with_their_errors():
    """Rows outside the model's scope are not fitted, but their errors are shown, not hidden."""
    validation = FIT.measurements[~FIT.measurements["scope"].str.startswith("calibration")]
    assert len(validation) >= 1
    assert validation["scope"].str.startswith("validation: ").all()
    shown = validation.dropna(subset=["error_pct"])
    assert len(shown) >= 2 and shown["modelled_output_tokens_per_s_per_gpu"].gt(0).all()


def test_stored_errors_in_calibration_csv_match_the_model():
    stored = pd.read_csv(calibrate.calibration_file()).set_index("id")
    now = FIT.measurements.set_index("id")
    usable = now["usable"]
    np.testing.assert_allclose(stored.loc[usable, "modelled_output_tokens_per_s_per_gpu"],
                               now.loc[usable, "modelled_output_tokens_per_s_per_gpu"], rtol=1e-3)
