"""Calibration of the throughput model's efficiency factors against published measurements.

`assumptions/calibration.csv` holds one published measurement a row (conditions, measured
output tokens/s per GPU, source). The model has few free numbers: the achievable share of dense
peak FLOP/s for each (GPU architecture, precision) and of HBM bandwidth for each architecture.
They are fitted by least squares on the log of modelled/measured throughput, shared by every
model and workload on that hardware, and written to `assumptions/efficiency.csv`; the modelled
value and error of every measurement are written back into `calibration.csv`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .catalog import ASSUMPTIONS_DIR, Catalog, default_catalog
from .lookup import EFFICIENCY_COLUMNS, Tables, build_tables, with_efficiency, attention_dims, prefill_attention_dims, kv_values_per_token_per_layer, precision_bytes
from .stages.throughput import Throughput, serving_throughput

CALIBRATION_FILE = ASSUMPTIONS_DIR / "calibration.csv"
EFFICIENCY_FILE = ASSUMPTIONS_DIR / "efficiency.csv"
ETA_GRID = np.round(np.arange(0.05, 1.0001, 0.01), 2)


def read_measurements(path: Path = CALIBRATION_FILE) -> pd.DataFrame:
    """Measurements with the conditions the model needs (rows lacking one are marked unusable)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in ("gpus", "gpus_per_replica", "input_tokens", "output_tokens", "max_tpot_ms",
                   "measured_output_tokens_per_s_per_gpu"):
        frame[column] = pd.to_numeric(frame[column].replace("", np.nan))
    frame["usable"] = frame[["input_tokens", "output_tokens",
                             "measured_output_tokens_per_s_per_gpu"]].notna().all(axis=1)
    return frame


def predict(measurements: pd.DataFrame, tables: Tables, usable_hbm_fraction: float,
            max_batch_size: float = np.inf) -> Throughput:
    """The model's throughput under each measurement's conditions (one vectorised call)."""
    m = measurements
    models, gpus, precision = m["model"].to_numpy(), m["gpu"].to_numpy(), m["precision"].to_numpy()
    kv = np.where(m["kv_precision"].to_numpy() == "", np.where(precision == "bf16", "bf16", "fp8"),
                  m["kv_precision"].to_numpy())
    domain = np.minimum(tables.gpu(gpus, "scale_up_domain"), m["gpus"].to_numpy(dtype=float))
    return serving_throughput(
        input_tokens=m["input_tokens"].to_numpy(float), output_tokens=m["output_tokens"].to_numpy(float),
        total_params=tables.model(models, "total_params"),
        active_params=tables.model(models, "active_params"),
        layers=tables.model(models, "layers"), attention_heads=tables.model(models, "attention_heads"),
        attention_dims=attention_dims(tables, models),
        prefill_attention_dims=prefill_attention_dims(tables, models),
        kv_values_per_token_per_layer=kv_values_per_token_per_layer(tables, models),
        weight_bytes_per_param=precision_bytes(precision), kv_bytes=precision_bytes(kv),
        peak_flops=tables.peak_flops(gpus, precision),
        memory_bandwidth=tables.gpu(gpus, "memory_bandwidth"),
        hbm_capacity=tables.gpu(gpus, "hbm_capacity"), scale_up_domain=domain,
        eta_flops=tables.eta_flops(gpus, precision), eta_bw=tables.gpu(gpus, "eta_bandwidth"),
        usable_hbm_fraction=usable_hbm_fraction,
        max_tpot_s=np.nan_to_num(m["max_tpot_ms"].to_numpy(float) / 1e3, nan=np.inf),
        gpus_per_replica=m["gpus_per_replica"].to_numpy(float),
        sliding_window=np.nan_to_num(tables.model(models, "sliding_window"), nan=np.inf),
        sliding_layer_share=np.nan_to_num(tables.model(models, "sliding_layer_share")),
        experts=np.nan_to_num(tables.model(models, "experts")),
        experts_per_token=np.nan_to_num(tables.model(models, "experts_per_token")),
        max_batch_size=max_batch_size,
    )


@dataclass
class Fit:
    factors: pd.DataFrame      # index: group (GPU id, architecture or "all"); eta columns
    measurements: pd.DataFrame  # with modelled, error_pct, bound and the group that fitted it
    rms_log_error: float
    groups: dict[str, list[str]]  # group -> measurement ids it was fitted on


COLUMNS = EFFICIENCY_COLUMNS


def _with_factors(tables: Tables, factors: pd.DataFrame) -> Tables:
    return Tables(gpus=with_efficiency(tables.gpus, factors), models=tables.models)


def fitting_groups(measurements: pd.DataFrame, tables: Tables) -> dict[str, list[int]]:
    """Which measurements inform which factors.

    "all": every measurement (the fallback for hardware never measured); each architecture: its
    GPUs' measurements; each GPU measured on at least two different models: its own. A GPU
    measured on a single model borrows its architecture's factors, so no factor is a copy of one
    model-GPU answer.
    """
    arch = tables.gpu_text(measurements["gpu"], "architecture")
    groups: dict[str, list[int]] = {"all": list(range(len(measurements)))}
    for a in sorted(set(arch)):
        groups[a] = [i for i in range(len(measurements)) if arch[i] == a]
    for gpu, frame in measurements.groupby("gpu"):
        if frame["model"].nunique() >= 2:
            groups[str(gpu)] = list(frame.index)
    return groups


def fit(catalog: Catalog | None = None, path: Path = CALIBRATION_FILE, sweeps: int = 3,
        stored: bool = False) -> Fit:
    """Fit efficiency factors by coordinate descent on a 0.01 grid, from the most general
    group to the most specific, each minimising the mean squared log error on its measurements.

    With ``stored=True`` nothing is fitted: the factors in `assumptions/efficiency.csv` are
    evaluated (what the package ships).
    """
    catalog = catalog or default_catalog()
    tables = build_tables(catalog)
    usable_hbm = float(catalog.get("defaults", "fleet", "usable_hbm_fraction").value)
    import os
    max_batch = float(os.environ.get("MAXB", "inf"))
    measured = read_measurements(path)
    fit_rows = measured[measured["usable"]].reset_index(drop=True)
    groups = fitting_groups(fit_rows, tables)
    target = np.log(fit_rows["measured_output_tokens_per_s_per_gpu"].to_numpy(float))

    if stored:
        factors = tables.gpus[COLUMNS].iloc[:0].copy()
        efficiency = catalog.wide("efficiency")
        factors = efficiency.reindex(columns=COLUMNS).astype(float)
    else:
        factors = pd.DataFrame(np.nan, index=list(groups), columns=COLUMNS)
        for group, members in groups.items():
            rows = fit_rows.loc[members].reset_index(drop=True)
            precisions = set(rows["precision"])
            informed = [c for c in COLUMNS if c == "eta_bandwidth" or c.removeprefix("eta_flops_") in precisions]
            start = factors.loc["all"] if group != "all" else pd.Series(0.5, index=COLUMNS)
            factors.loc[group, informed] = start[informed].fillna(0.5)

            def loss(candidate: pd.DataFrame) -> float:
                modelled = predict(rows, _with_factors(tables, candidate), usable_hbm, max_batch).output_tokens_per_s_per_gpu
                return float(np.mean((np.log(np.maximum(np.nan_to_num(modelled), 1e-9))
                                      - target[members]) ** 2))

            best = loss(factors)
            for _ in range(sweeps):
                for column in informed:
                    trials = []
                    for value in ETA_GRID:
                        candidate = factors.copy()
                        candidate.loc[group, column] = value
                        trials.append(loss(candidate))
                    i = int(np.argmin(trials))
                    if trials[i] <= best:
                        best, factors.loc[group, column] = trials[i], ETA_GRID[i]
    result = _with_factors(tables, factors)
    prediction = predict(measured.assign(input_tokens=measured["input_tokens"].fillna(1.0)),
                         result, usable_hbm, max_batch)
    modelled = np.where(measured["usable"], prediction.output_tokens_per_s_per_gpu, np.nan)
    out = measured.copy()
    out["modelled_output_tokens_per_s_per_gpu"] = np.round(modelled, 1)
    out["error_pct"] = np.round(100 * (modelled / out["measured_output_tokens_per_s_per_gpu"] - 1), 1)
    out["bound"] = np.where(measured["usable"], prediction.bound, "")
    errors = np.log(modelled[measured["usable"]] / measured.loc[measured["usable"],
                    "measured_output_tokens_per_s_per_gpu"].to_numpy(float))
    return Fit(factors=factors, measurements=out, rms_log_error=float(np.sqrt(np.mean(errors ** 2))),
               groups={g: fit_rows.loc[m, "id"].tolist() for g, m in groups.items()})


def write(result: Fit, calibration_path: Path = CALIBRATION_FILE,
          efficiency_path: Path = EFFICIENCY_FILE, date: str = "2026-11-30") -> None:
    """Write the fitted factors to efficiency.csv and the model's errors into calibration.csv."""
    measurements = result.measurements
    n = int(measurements["error_pct"].notna().sum())
    rows = []
    for arch, factors in result.factors.iterrows():
        for column, value in factors.items():
            if np.isnan(value):
                continue
            rows.append({
                "id": arch, "parameter": column, "value": f"{value:.2f}", "unit": "",
                "low": "", "high": "",
                "source": "capacity calibrate: least-squares fit to the published measurements "
                          "in assumptions/calibration.csv",
                "url": "assumptions/calibration.csv", "source_date": date,
                "notes": f"fitted on {n} measurements (MLPerf Inference v4.1-v5.1, TensorRT-LLM "
                         f"performance tables); shared by every GPU of architecture {arch} and "
                         f"every model; RMS log error of the fit {result.rms_log_error:.3f}",
            })
    with efficiency_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "parameter", "value", "unit", "low", "high",
                                                    "source", "url", "source_date", "notes"])
        writer.writeheader()
        writer.writerows(rows)
    original = pd.read_csv(calibration_path, dtype=str, keep_default_na=False)
    original["modelled_output_tokens_per_s_per_gpu"] = measurements[
        "modelled_output_tokens_per_s_per_gpu"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    original["error_pct"] = measurements["error_pct"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    original.to_csv(calibration_path, index=False, lineterminator="\n")
