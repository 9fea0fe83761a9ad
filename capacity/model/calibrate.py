"""Calibration of the throughput model's efficiency factors against published measurements.

`assumptions/calibration.csv` holds one published measurement a row (conditions, measured
output tokens/s per GPU, the inference engine that served it, source). The model has few free
numbers: the achievable share of dense peak FLOP/s at each precision and of HBM bandwidth, the
efficiency of expert kernels and a fixed cost per layer and step, for each (engine, hardware
family). They are fitted by least squares on the log of modelled/measured throughput, shared by
every model and workload of that engine on that hardware, and written to
`assumptions/efficiency.csv`; the modelled value and error of every measurement are written
back into `calibration.csv`.

The groups, from the most general to the most specific (`fitting_groups`): ``all`` (every
measurement), an architecture (every engine on it), an engine (``vllm/all``), an engine on an
architecture (``vllm/cdna 3``) and an engine on one GPU (``vllm/mi300x``). The model looks the
factors up the other way round (`lookup.efficiency_chain`).
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
from .lookup import (ENGINES, EFFICIENCY_COLUMNS, FACTOR_ARGUMENTS, PRECISION_CODES, Tables,
                     build_tables, efficiency_id, tables_for, model_on_gpu, resolve_efficiency,
                     serving_arguments, tables_with)
from .stages.throughput import Throughput, serving_throughput


def calibration_file() -> Path:
    """The published measurements the model is fitted to (`assumptions/calibration.csv`)."""
    return assumptions_dir() / "calibration.csv"


def efficiency_file() -> Path:
    """The fitted efficiency factors (`assumptions/efficiency.csv`)."""
    return assumptions_dir() / "efficiency.csv"
ETA_GRID = np.round(np.arange(0.05, 1.0001, 0.01), 2)
BANDWIDTH_GRID = ETA_GRID[ETA_GRID <= 0.90]  # no engine streams HBM at more than ~90 % of peak
OVERHEAD_GRID = np.round(np.arange(0.0, 400e-6 + 1e-12, 5e-6), 9)  # seconds per layer per step


def read_measurements(path: Path | None = None) -> pd.DataFrame:
    """Measurements with the conditions the model needs (rows lacking one are marked unusable)."""
    frame = pd.read_csv(path or calibration_file(), dtype=str, keep_default_na=False)
    for column in ("gpus", "gpus_per_replica", "input_tokens", "output_tokens", "max_tpot_ms",
                   "max_batch_size", "max_tokens_per_step", "measured_output_tokens_per_s_per_gpu"):
        frame[column] = pd.to_numeric(frame[column].replace("", np.nan))
    if "engine_id" not in frame:
        frame["engine_id"] = ENGINES[0]
    complete = frame[["input_tokens", "output_tokens",
                      "measured_output_tokens_per_s_per_gpu"]].notna().all(axis=1)
    # "calibration" or "calibration (metric inferred as output, see caveats)": fitted
    frame["usable"] = (complete & frame["scope"].str.startswith("calibration")
                       & frame["engine_id"].isin(ENGINES))
    return frame


def _conditions(measurements: pd.DataFrame, tables: Tables, usable_hbm_fraction: float) -> dict:
    """The model's inputs under each measurement's conditions. An engine limit left blank
    (not published) is no limit: the batch is then set by the KV cache and the latency target."""
    m = measurements
    gpus, precision = m["gpu"].to_numpy(), m["precision"].to_numpy()
    kv = np.where(m["kv_precision"].to_numpy() == "", np.where(precision == "bf16", "bf16", "fp8"),
                  m["kv_precision"].to_numpy())
    return dict(
        models=m["model"].to_numpy(), gpus=gpus, precision=precision, kv_precision=kv,
        scale_up_domain=np.fmin(tables.gpu(gpus, "scale_up_domain"), m["gpus"].to_numpy(float)),
        input_tokens=m["input_tokens"].to_numpy(float), output_tokens=m["output_tokens"].to_numpy(float),
        engine=m["engine_id"].to_numpy(),
        usable_hbm_fraction=usable_hbm_fraction,
        max_tpot_s=np.nan_to_num(m["max_tpot_ms"].to_numpy(float) / 1e3, nan=np.inf),
        gpus_per_replica=m["gpus_per_replica"].to_numpy(float),
        max_batch_size=np.nan_to_num(m["max_batch_size"].to_numpy(float), nan=np.inf),
        max_tokens_per_step=np.nan_to_num(m["max_tokens_per_step"].to_numpy(float), nan=np.inf),
    )


def predict(measurements: pd.DataFrame, tables: Tables, usable_hbm_fraction: float) -> Throughput:
    """The model's throughput under each measurement's conditions and on its engine
    (`engine_id`), in one vectorised call."""
    c = _conditions(measurements, tables, usable_hbm_fraction)
    return model_on_gpu(tables, c.pop("models"), c.pop("gpus"), c.pop("precision"), **c)


@dataclass
class Fit:
    factors: pd.DataFrame      # index: efficiency id (see fitting_groups); eta columns
    measurements: pd.DataFrame  # with modelled, error_pct, bound
    rms_log_error: float
    groups: dict[str, list[str]]  # group -> measurement ids it was fitted on
    informed: dict[str, dict[str, list[str]]] | None = None  # group -> factor -> ids that fitted it

    def rms_by_engine(self) -> dict[str, float]:
        """RMS log error over the calibration measurements of each engine."""
        used = self.measurements[self.measurements["usable"]]
        errors = np.log(used["modelled_output_tokens_per_s_per_gpu"]
                        / used["measured_output_tokens_per_s_per_gpu"])
        return {e: float(np.sqrt(np.mean(errors[used["engine_id"] == e] ** 2)))
                for e in ENGINES if (used["engine_id"] == e).any()}


COLUMNS = EFFICIENCY_COLUMNS


def _with_factors(tables: Tables, factors: pd.DataFrame) -> Tables:
    return tables_with(tables.gpus, tables.models, factors)


TOLERANCE = math.log(1.15)   # errors beyond +-15 % ...
PENALTY = 100.0              # ... cost a hundred times their square


def _loss(log_errors: np.ndarray) -> np.ndarray:
    """Mean squared log error plus a steep penalty on errors beyond the tolerance, so the fit
    keeps every measurement near the model rather than most very near and a few far
    (over the last axis: one loss per candidate factor set)."""
    excess = np.maximum(np.abs(log_errors) - TOLERANCE, 0.0)
    return np.mean(log_errors ** 2, axis=-1) + PENALTY * np.mean(excess ** 2, axis=-1)


MIN_PAIRS = 2
"""A factor is fitted only on measurements spanning at least this many (model, GPU) pairs."""


def _pairs(frame: pd.DataFrame) -> int:
    return len(frame[["model", "gpu"]].drop_duplicates())


def fitting_groups(measurements: pd.DataFrame, tables: Tables) -> dict[str, list[int]]:
    """Which measurements inform which factors, in the order they are fitted.

    ``all``: every measurement (the fallback for an engine and hardware never measured); an
    architecture (all engines) and an engine (``vllm/all``) when their measurements span at
    least two (model, GPU) pairs; an engine on an architecture (``vllm/cdna 3``) likewise; an
    engine on one GPU (``vllm/mi300x``) when its measurements span at least two models. A group
    whose measurements are exactly its parent's is not repeated. So no factor is fitted to the
    answers of one model on one GPU.
    """
    m = measurements
    arch = pd.Series(tables.gpu_text(m["gpu"], "architecture"), index=m.index)
    groups: dict[str, list[int]] = {"all": list(m.index)}
    for a, frame in m.groupby(arch, sort=True):
        if _pairs(frame) >= MIN_PAIRS and len(frame) < len(m):
            groups[str(a)] = list(frame.index)
    for engine in ENGINES:
        mine = m[m["engine_id"] == engine]
        if _pairs(mine) < MIN_PAIRS:
            continue
        groups[efficiency_id("all", engine)] = list(mine.index)
        for a, frame in mine.groupby(arch[mine.index], sort=True):
            if _pairs(frame) >= MIN_PAIRS and len(frame) < len(mine):
                groups[efficiency_id(str(a), engine)] = list(frame.index)
        for gpu, frame in mine.groupby("gpu", sort=True):
            parent = groups.get(efficiency_id(str(arch[frame.index[0]]), engine), list(mine.index))
            if frame["model"].nunique() >= MIN_PAIRS and len(frame) < len(parent):
                groups[efficiency_id(str(gpu), engine)] = list(frame.index)
    return groups


def informed_columns(rows: pd.DataFrame, tables: Tables) -> dict[str, list[int]]:
    """The factors a group's measurements can inform, each with the rows that exercise it:
    bandwidth and per-layer cost by every row, a precision's FLOP share by the rows at that
    precision, the expert-kernel factor by the MoE rows; only those spanning two (model, GPU)
    pairs."""
    moe = tables.model(rows["model"], "experts") > 0
    by = {"eta_bandwidth": rows.index, "layer_overhead": rows.index, "eta_moe": rows.index[moe]}
    for precision in ("bf16", "fp8", "fp4"):
        by[f"eta_flops_{precision}"] = rows.index[rows["precision"] == precision]
    return {c: list(by[c]) for c in COLUMNS if _pairs(rows.loc[by[c]]) >= MIN_PAIRS}


def _parent(group: str, groups: dict, tables: Tables) -> str:
    """The group a more specific one starts from: its next fitted link in the look-up chain."""
    if "/" not in group:
        return "all"
    engine, scope = group.split("/", 1)
    if scope == "all":
        return "all"
    if scope in tables.gpus.index:
        architecture = efficiency_id(str(tables.gpu_text([scope], "architecture")[0]), engine)
        if architecture in groups:
            return architecture
    return efficiency_id("all", engine)


def describe(group: str, tables: Tables) -> str:
    """Whom a row of efficiency.csv applies to, in words."""
    engine, scope = group.split("/", 1) if "/" in group else (None, group)
    who = f"{engine} deployments" if engine else "every engine"
    if scope == "all":
        return (f"{who} on hardware without a factor of their own" if engine else
                "every engine and GPU without a factor of its own (the last fallback)")
    if scope in tables.gpus.index:
        return f"{who} on the {scope}"
    return f"{who} on GPUs of architecture {scope} without a factor of their own"


def fit(catalog: Catalog | None = None, path: Path | None = None, sweeps: int = 6,
        stored: bool = False) -> Fit:
    """Fit efficiency factors by coordinate descent on a 0.01 grid, from the most general
    group to the most specific, each minimising the loss on its measurements. Every value of
    a factor's grid is tried in one vectorised evaluation of the throughput stage.

    With ``stored=True`` nothing is fitted: the factors in `assumptions/efficiency.csv` are
    evaluated (what the package ships).
    """
    catalog = catalog or default_catalog()
    tables = build_tables(catalog)
    usable_hbm = float(catalog.get("defaults", "fleet", "usable_hbm_fraction").value)
    measured = read_measurements(path)
    fit_rows = measured[measured["usable"]].reset_index(drop=True)
    groups = fitting_groups(fit_rows, tables)
    informed_by = {g: informed_columns(fit_rows.loc[members], tables) for g, members in groups.items()}

    if stored:
        efficiency = catalog.wide("efficiency")
        factors = efficiency.reindex(columns=COLUMNS).astype(float)
    else:
        factors = _fit_factors(fit_rows, tables, usable_hbm, groups, informed_by, sweeps)
    out, rms = _scored(measured, _with_factors(tables, factors), usable_hbm)
    ids = fit_rows["id"]
    return Fit(factors=factors, measurements=out, rms_log_error=rms,
               groups={g: ids[m].tolist() for g, m in groups.items()},
               informed={g: {c: ids[r].tolist() for c, r in by.items()} for g, by in informed_by.items()})


def stored_fit(catalog: Catalog | None = None) -> Fit:
    """The shipped efficiency factors against every measurement (what `fit(stored=True)`
    gives, without the fitting groups): the workbook's calibration table."""
    catalog = catalog or default_catalog()
    usable_hbm = float(catalog.get("defaults", "fleet", "usable_hbm_fraction").value)
    factors = catalog.wide("efficiency").reindex(columns=COLUMNS).astype(float)
    # the catalog's own tables carry these factors already (built once per catalog)
    out, rms = _scored(read_measurements(), tables_for(catalog), usable_hbm)
    return Fit(factors=factors, measurements=out, rms_log_error=rms, groups={})


def _scored(measured: pd.DataFrame, result: Tables, usable_hbm: float) -> tuple[pd.DataFrame, float]:
    """The measurements with the model's throughput under their conditions, its error and
    bound, and the RMS log error over the fitted ones."""
    complete = (measured[["input_tokens", "output_tokens"]].notna().all(axis=1)
                & measured["engine_id"].isin(ENGINES))
    prediction = predict(measured.assign(input_tokens=measured["input_tokens"].fillna(1.0),
                                         output_tokens=measured["output_tokens"].fillna(1.0),
                                         engine_id=measured["engine_id"].where(complete, ENGINES[0])),
                         result, usable_hbm)
    modelled = np.where(complete, prediction.output_tokens_per_s_per_gpu, np.nan)
    out = measured.copy()
    out["modelled_output_tokens_per_s_per_gpu"] = np.round(modelled, 1)
    out["error_pct"] = np.round(100 * (modelled / out["measured_output_tokens_per_s_per_gpu"] - 1), 1)
    out["bound"] = np.where(complete, prediction.bound, "")
    errors = np.log(modelled[measured["usable"]] / measured.loc[measured["usable"],
                    "measured_output_tokens_per_s_per_gpu"].to_numpy(float))
    return out, float(np.sqrt(np.mean(errors ** 2)))


def _fit_factors(rows: pd.DataFrame, tables: Tables, usable_hbm: float, groups: dict,
                 informed_by: dict, sweeps: int) -> pd.DataFrame:
    group_ids = list(groups)
    factors = np.full((len(group_ids), len(COLUMNS)), np.nan)
    conditions = _conditions(rows, tables, usable_hbm)
    arguments = serving_arguments(tables, conditions.pop("models"), conditions.pop("gpus"),
                                  conditions.pop("precision"), **conditions)
    target = np.log(rows["measured_output_tokens_per_s_per_gpu"].to_numpy(float))
    gpu_codes = tables.gpus.index.get_indexer(rows["gpu"])
    engine_codes = pd.Index(ENGINES).get_indexer(rows["engine_id"])
    precision = np.vectorize(PRECISION_CODES.get)(rows["precision"].to_numpy())
    col = {c: i for i, c in enumerate(COLUMNS)}

    def losses(candidates: np.ndarray, members: list[int]) -> np.ndarray:
        """Loss of each candidate factor table (K, groups, columns) on the member rows."""
        cube = resolve_efficiency(tables.gpus, candidates, group_ids)     # (K, E, G, C)
        per_row = cube[:, engine_codes[members], gpu_codes[members], :]    # (K, rows, C)
        take = lambda c: per_row[..., col[c]]
        eta_flops = np.choose(precision[members], [take("eta_flops_bf16"), take("eta_flops_fp8"),
                                                   take("eta_flops_fp4")])
        replaced = dict(zip(FACTOR_ARGUMENTS, (eta_flops, take("eta_bandwidth"), take("eta_moe"),
                                               take("layer_overhead"))))
        chosen = {name: (value if name in FACTOR_ARGUMENTS or np.ndim(value) == 0
                         else np.asarray(value)[members])
                  for name, value in {**arguments, **replaced}.items()}
        modelled = serving_throughput(**chosen).output_tokens_per_s_per_gpu
        return _loss(np.log(np.maximum(np.nan_to_num(modelled), 1e-9)) - target[members])

    for g, group in enumerate(group_ids):
        members = groups[group]
        informed = list(informed_by[group])
        parent = factors[group_ids.index(_parent(group, groups, tables))] if group != "all" else \
            np.full(len(COLUMNS), 0.5)
        for c in informed:
            factors[g, col[c]] = parent[col[c]] if np.isfinite(parent[col[c]]) else 0.5
        if group == "all":
            factors[g, [col["eta_moe"], col["layer_overhead"]]] = [1.0, 0.0]
        best = float(losses(factors[None], members)[0])
        for _ in range(sweeps):
            for c in informed:
                grid = {"layer_overhead": OVERHEAD_GRID, "eta_bandwidth": BANDWIDTH_GRID}.get(c, ETA_GRID)
                candidates = np.repeat(factors[None], len(grid), axis=0)
                candidates[:, g, col[c]] = grid
                trials = losses(candidates, members)
                i = int(np.argmin(trials))
                if trials[i] <= best:
                    best, factors[g, col[c]] = float(trials[i]), grid[i]
    return pd.DataFrame(factors, index=pd.Index(group_ids, name="id"), columns=COLUMNS)


def write(result: Fit, calibration_path: Path | None = None,
          efficiency_path: Path | None = None, date: str = "2026-12-01") -> None:
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
    tables = build_tables(default_catalog())
    by_engine = ", ".join(f"{e} {v:.3f}" for e, v in result.rms_by_engine().items())
    rows = []
    for group, factors in result.factors.iterrows():
        members = result.groups.get(group, [])
        informed = (result.informed or {}).get(group, {})
        for column, value in factors.items():
            if np.isnan(value):
                continue
            overhead = column == "layer_overhead"
            fitted_on = informed.get(column, members)
            rows.append({
                "id": group, "parameter": column,
                "value": f"{value * 1e6:g}" if overhead else f"{value:.2f}",
                "unit": "us" if overhead else "", "low": "", "high": "",
                "source": "capacity calibrate: fit to published throughput measurements "
                          "(MLPerf Inference v4.1-v6.1 datacenter results; TensorRT-LLM, vLLM "
                          "and SGLang documentation and blogs; third-party benchmarks), "
                          "assumptions/calibration.csv",
                "url": "assumptions/calibration.csv", "source_date": date,
                "notes": f"fitted on {len(fitted_on)} measurements ({', '.join(fitted_on)}); "
                         f"applies to {describe(group, tables)}, for every model; RMS log error "
                         f"over all calibration measurements {result.rms_log_error:.3f} "
                         f"(by engine: {by_engine})",
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
