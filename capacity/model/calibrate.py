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

from ..data.catalog import Catalog, default_catalog
from ..data.errors import InputError
from ..data.paths import assumptions_dir, inside_package
from .lookup import EFFICIENCY_COLUMNS, Tables, build_tables, model_on_gpu, with_efficiency
from .stages.throughput import Throughput


def calibration_file() -> Path:
    """The published measurements the model is fitted to (`assumptions/calibration.csv`)."""
    return assumptions_dir() / "calibration.csv"


def efficiency_file() -> Path:
    """The fitted efficiency factors (`assumptions/efficiency.csv`)."""
    return assumptions_dir() / "efficiency.csv"
ETA_GRID = np.round(np.arange(0.05, 1.0001, 0.01), 2)
OVERHEAD_GRID = np.round(np.arange(0.0, 400e-6 + 1e-12, 5e-6), 9)  # seconds per layer per step


def read_measurements(path: Path | None = None) -> pd.DataFrame:
    """Measurements with the conditions the model needs (rows lacking one are marked unusable)."""
    frame = pd.read_csv(path or calibration_file(), dtype=str, keep_default_na=False)
    for column in ("gpus", "gpus_per_replica", "input_tokens", "output_tokens", "max_tpot_ms",
                   "max_batch_size", "max_tokens_per_step", "measured_output_tokens_per_s_per_gpu"):
        frame[column] = pd.to_numeric(frame[column].replace("", np.nan))
    complete = frame[["input_tokens", "output_tokens",
                      "measured_output_tokens_per_s_per_gpu"]].notna().all(axis=1)
    frame["usable"] = complete & (frame["scope"] == "calibration")
    return frame


def predict(measurements: pd.DataFrame, tables: Tables, usable_hbm_fraction: float) -> Throughput:
    """The model's throughput under each measurement's conditions (one vectorised call)."""
    m = measurements
    gpus, precision = m["gpu"].to_numpy(), m["precision"].to_numpy()
    kv = np.where(m["kv_precision"].to_numpy() == "", np.where(precision == "bf16", "bf16", "fp8"),
                  m["kv_precision"].to_numpy())
    return model_on_gpu(
        tables, m["model"].to_numpy(), gpus, precision, kv_precision=kv,
        scale_up_domain=np.minimum(tables.gpu(gpus, "scale_up_domain"), m["gpus"].to_numpy(float)),
        input_tokens=m["input_tokens"].to_numpy(float), output_tokens=m["output_tokens"].to_numpy(float),
        usable_hbm_fraction=usable_hbm_fraction,
        max_tpot_s=np.nan_to_num(m["max_tpot_ms"].to_numpy(float) / 1e3, nan=np.inf),
        gpus_per_replica=m["gpus_per_replica"].to_numpy(float),
        max_batch_size=m["max_batch_size"].to_numpy(float),
        max_tokens_per_step=m["max_tokens_per_step"].to_numpy(float),
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


TOLERANCE = math.log(1.15)   # errors beyond +-15 % ...
PENALTY = 100.0              # ... cost a hundred times their square


def _loss(log_errors: np.ndarray) -> float:
    """Mean squared log error plus a steep penalty on errors beyond the tolerance, so the fit
    keeps every measurement near the model rather than most very near and a few far."""
    excess = np.maximum(np.abs(log_errors) - TOLERANCE, 0.0)
    return float(np.mean(log_errors ** 2) + PENALTY * np.mean(excess ** 2))


def fitting_groups(measurements: pd.DataFrame, tables: Tables) -> dict[str, list[int]]:
    """Which measurements inform which factors.

    "all": every measurement (the fallback for hardware never measured); an architecture gets
    factors of its own when its measurements span at least two (model, GPU) pairs, and a GPU
    when its own span at least two models; so no factor is fitted to the answers of one
    model on one GPU.
    """
    arch = pd.Series(tables.gpu_text(measurements["gpu"], "architecture"), index=measurements.index)
    groups: dict[str, list[int]] = {"all": list(measurements.index)}
    for a, frame in measurements.groupby(arch):
        if len(frame[["model", "gpu"]].drop_duplicates()) >= 2:
            groups[str(a)] = list(frame.index)
    for gpu, frame in measurements.groupby("gpu"):
        if frame["model"].nunique() >= 2 and len(frame) < len(groups.get(arch[frame.index[0]], [])):
            groups[str(gpu)] = list(frame.index)
    return groups


def fit(catalog: Catalog | None = None, path: Path | None = None, sweeps: int = 3,
        stored: bool = False) -> Fit:
    """Fit efficiency factors by coordinate descent on a 0.01 grid, from the most general
    group to the most specific, each minimising the mean squared log error on its measurements.

    With ``stored=True`` nothing is fitted: the factors in `assumptions/efficiency.csv` are
    evaluated (what the package ships).
    """
    catalog = catalog or default_catalog()
    tables = build_tables(catalog)
    usable_hbm = float(catalog.get("defaults", "fleet", "usable_hbm_fraction").value)
    measured = read_measurements(path)
    fit_rows = measured[measured["usable"]].reset_index(drop=True)
    groups = fitting_groups(fit_rows, tables)
    target = np.log(fit_rows["measured_output_tokens_per_s_per_gpu"].to_numpy(float))

    if stored:
        efficiency = catalog.wide("efficiency")
        factors = efficiency.reindex(columns=COLUMNS).astype(float)
    else:
        factors = pd.DataFrame(np.nan, index=list(groups), columns=COLUMNS)
        for group, members in groups.items():
            rows = fit_rows.loc[members].reset_index(drop=True)
            precisions = set(rows["precision"])
            moe = bool((tables.model(rows["model"], "experts") > 0).any())
            informed = [c for c in COLUMNS if c in ("eta_bandwidth", "layer_overhead")
                        or (c == "eta_moe" and moe) or c.removeprefix("eta_flops_") in precisions]
            start = factors.loc["all"] if group != "all" else pd.Series(0.5, index=COLUMNS)
            factors.loc[group, informed] = start[informed].fillna(0.5)
            if group == "all":
                factors.loc[group, ["eta_moe", "layer_overhead"]] = [1.0, 0.0]

            def loss(candidate: pd.DataFrame) -> float:
                modelled = predict(rows, _with_factors(tables, candidate), usable_hbm).output_tokens_per_s_per_gpu
                errors = np.log(np.maximum(np.nan_to_num(modelled), 1e-9)) - target[members]
                return _loss(errors)

            best = loss(factors)
            for _ in range(sweeps):
                for column in informed:
                    trials = []
                    grid = OVERHEAD_GRID if column == "layer_overhead" else ETA_GRID
                    for value in grid:
                        candidate = factors.copy()
                        candidate.loc[group, column] = value
                        trials.append(loss(candidate))
                    i = int(np.argmin(trials))
                    if trials[i] <= best:
                        best, factors.loc[group, column] = trials[i], grid[i]
    result = _with_factors(tables, factors)
    complete = measured["input_tokens"].notna()
    prediction = predict(measured.assign(input_tokens=measured["input_tokens"].fillna(1.0)),
                         result, usable_hbm)
    modelled = np.where(complete, prediction.output_tokens_per_s_per_gpu, np.nan)
    out = measured.copy()
    out["modelled_output_tokens_per_s_per_gpu"] = np.round(modelled, 1)
    out["error_pct"] = np.round(100 * (modelled / out["measured_output_tokens_per_s_per_gpu"] - 1), 1)
    out["bound"] = np.where(complete, prediction.bound, "")
    errors = np.log(modelled[measured["usable"]] / measured.loc[measured["usable"],
                    "measured_output_tokens_per_s_per_gpu"].to_numpy(float))
    return Fit(factors=factors, measurements=out, rms_log_error=float(np.sqrt(np.mean(errors ** 2))),
               groups={g: fit_rows.loc[m, "id"].tolist() for g, m in groups.items()})


def write(result: Fit, calibration_path: Path | None = None,
          efficiency_path: Path | None = None, date: str = "2026-11-30") -> None:
    """Write the fitted factors to efficiency.csv and the model's errors into calibration.csv."""
    if calibration_path is None or efficiency_path is None:
        library = assumptions_dir()
        if inside_package(library):
            raise InputError(str(library), None, "the assumption library of an installed package",
                             "a source checkout of capacity to write the fitted factors into "
                             "(an installation's data is not edited in place)")
    calibration_path = calibration_path or calibration_file()
    efficiency_path = efficiency_path or efficiency_file()
    measurements = result.measurements
    rows = []
    for group, factors in result.factors.iterrows():
        members = result.groups.get(group, [])
        scope = ("every GPU with no factor of its own" if group == "all" else
                 f"GPUs of architecture {group} without a factor of their own"
                 if group not in set(measurements["gpu"]) else f"the {group}")
        for column, value in factors.items():
            if np.isnan(value):
                continue
            overhead = column == "layer_overhead"
            rows.append({
                "id": group, "parameter": column,
                "value": f"{value * 1e6:g}" if overhead else f"{value:.2f}",
                "unit": "us" if overhead else "", "low": "", "high": "",
                "source": "capacity calibrate: fit to published throughput measurements "
                          "(MLPerf Inference v4.1-v5.1 datacenter results; NVIDIA TensorRT-LLM "
                          "performance overview), assumptions/calibration.csv",
                "url": "assumptions/calibration.csv", "source_date": date,
                "notes": f"fitted on {len(members)} measurements ({', '.join(members)}); applies to "
                         f"{scope}, for every model; RMS log error over all calibration "
                         f"measurements {result.rms_log_error:.3f}",
            })
    with efficiency_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "parameter", "value", "unit", "low", "high",
                                                    "source", "url", "source_date", "notes"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    original = pd.read_csv(calibration_path, dtype=str, keep_default_na=False)
    original["modelled_output_tokens_per_s_per_gpu"] = measurements[
        "modelled_output_tokens_per_s_per_gpu"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    original["error_pct"] = measurements["error_pct"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    original.to_csv(calibration_path, index=False, lineterminator="\n")
