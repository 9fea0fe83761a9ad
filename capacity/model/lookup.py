"""Vectorised look-ups of GPU and model properties from the assumption library.

Rows carry GPU and model ids; these helpers turn id arrays into property arrays with one
``Index.get_indexer`` and a ``take``, so a million rows cost one gather.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.catalog import Catalog
from .stages.throughput import BYTES_PER_VALUE, Throughput, fit_to_context, serving_throughput

PRECISION_CODES = {"bf16": 0, "fp16": 0, "fp8": 1, "fp4": 2}


@dataclass(frozen=True)
class Tables:
    """Wide GPU and model tables (canonical units) with efficiency factors joined to GPUs."""

    gpus: pd.DataFrame
    models: pd.DataFrame

    def gpu(self, ids, column: str) -> np.ndarray:
        return _gather(self.gpus, ids, column)

    def model(self, ids, column: str) -> np.ndarray:
        return _gather(self.models, ids, column)

    def gpu_text(self, ids, column: str) -> np.ndarray:
        """A text property (e.g. architecture) of each GPU, lower-cased; '' when unknown."""
        values = self.gpus[column].fillna("").astype(str).str.lower()
        return values.reindex(np.asarray(ids)).fillna("").to_numpy()

    def peak_flops(self, gpu_ids, precisions) -> np.ndarray:
        """Dense peak FLOP/s of each GPU at each row's precision."""
        return _by_precision(self, gpu_ids, precisions, "peak_flops_{}")

    def eta_flops(self, gpu_ids, precisions) -> np.ndarray:
        """Calibrated achievable share of that peak."""
        return _by_precision(self, gpu_ids, precisions, "eta_flops_{}")


def _gather(frame: pd.DataFrame, ids, column: str) -> np.ndarray:
    ids = np.asarray(ids)
    codes = frame.index.get_indexer(ids.ravel())
    values = frame[column].to_numpy()
    if values.dtype == object:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    out = np.where(codes >= 0, values[np.maximum(codes, 0)], np.nan)
    return out.reshape(ids.shape).astype(float)


def _by_precision(tables: Tables, gpu_ids, precisions, pattern: str) -> np.ndarray:
    codes = np.vectorize(PRECISION_CODES.get, otypes=[float])(np.asarray(precisions))
    columns = [tables.gpu(gpu_ids, pattern.format(p)) for p in ("bf16", "fp8", "fp4")]
    return np.choose(np.nan_to_num(codes).astype(int), columns)


def precision_bytes(precisions) -> np.ndarray:
    """Bytes per weight at each precision."""
    return np.vectorize(BYTES_PER_VALUE.get, otypes=[float])(np.asarray(precisions))


NATIVE_BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "mxfp4": 0.5, "fp4": 0.5, "nvfp4": 0.5}


def weight_bytes(tables: Tables, model_ids, precisions) -> np.ndarray:
    """Bytes per weight served: the serving precision, but never more than the released weights
    (a model published in MXFP4 is not up-cast to serve at FP8)."""
    native = pd.Series(tables.models["native_precision"].fillna("").astype(str).str.lower()
                       .map(NATIVE_BYTES))
    released = native.reindex(np.asarray(model_ids).ravel()).to_numpy(dtype=float).reshape(
        np.shape(model_ids))
    return np.fmin(precision_bytes(precisions), released)


def kv_values_per_token_per_layer(tables: Tables, model_ids) -> np.ndarray:
    """KV values cached per token per layer: MLA latent + RoPE key, else 2 x kv heads x head dim."""
    lora = tables.model(model_ids, "kv_lora_rank")
    rope = tables.model(model_ids, "qk_rope_head_dim")
    gqa = 2.0 * tables.model(model_ids, "kv_heads") * tables.model(model_ids, "head_dim")
    return np.where(np.isnan(lora), gqa, lora + np.nan_to_num(rope))


def attention_dims(tables: Tables, model_ids) -> np.ndarray:
    """Query-key plus value dimension per head: ``2 * head_dim``, or for MLA with absorbed
    projections ``(kv_lora_rank + qk_rope_head_dim) + kv_lora_rank``."""
    lora = tables.model(model_ids, "kv_lora_rank")
    rope = tables.model(model_ids, "qk_rope_head_dim")
    return np.where(np.isnan(lora), 2.0 * tables.model(model_ids, "head_dim"),
                    2.0 * lora + np.nan_to_num(rope))


EFFICIENCY_COLUMNS = ["eta_flops_bf16", "eta_flops_fp8", "eta_flops_fp4", "eta_bandwidth", "eta_moe",
                      "layer_overhead"]


def with_efficiency(gpus: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """Join calibrated efficiency factors to GPUs: a row for the GPU id wins, then its
    architecture's, then the row fitted on all measurements (``all``); see `calibrate`."""
    gpus = gpus.copy()
    architecture = gpus["architecture"].fillna("").astype(str).str.lower()
    for column in EFFICIENCY_COLUMNS:
        values = factors[column] if column in factors else pd.Series(dtype=float)
        values = pd.to_numeric(values, errors="coerce")
        own = values.reindex(gpus.index).to_numpy(dtype=float)
        by_architecture = values.reindex(architecture).to_numpy(dtype=float)
        overall = float(values.get("all", np.nan))
        gpus[column] = np.where(np.isnan(own), np.where(np.isnan(by_architecture), overall,
                                                        by_architecture), own)
    # BF16 serving is not in any published measurement used here: it takes the FP8 factor
    gpus["eta_flops_bf16"] = gpus["eta_flops_bf16"].fillna(gpus["eta_flops_fp8"])
    # no calibrated penalty on expert kernels means none
    gpus["eta_moe"] = gpus["eta_moe"].fillna(1.0)
    gpus["layer_overhead"] = gpus["layer_overhead"].fillna(0.0)
    return gpus


def prefill_attention_dims(tables: Tables, model_ids) -> np.ndarray:
    """Query-key plus value dimension per head in prefill: MLA computes un-absorbed heads of
    ``head_dim + qk_rope_head_dim`` (query-key) and ``head_dim`` (value)."""
    rope = tables.model(model_ids, "qk_rope_head_dim")
    return 2.0 * tables.model(model_ids, "head_dim") + np.nan_to_num(rope)


def build_tables(catalog: Catalog) -> Tables:
    gpus = catalog.wide("gpus")
    efficiency = catalog.wide("efficiency")
    gpus = with_efficiency(gpus, catalog.wide("efficiency"))
    models = catalog.wide("models")
    return Tables(gpus=gpus, models=models)


def tables_for(catalog: Catalog) -> Tables:
    """Tables for a catalog, built once per catalog object."""
    cached = getattr(catalog, "_tables", None)
    if cached is None:
        cached = build_tables(catalog)
        object.__setattr__(catalog, "_tables", cached)
    return cached


def model_on_gpu(tables: Tables, models, gpus, precision, *, input_tokens, output_tokens,
                 kv_precision=None, scale_up_domain=None, **engine) -> Throughput:
    """Throughput of `models` served on `gpus` at `precision` (arrays of ids, broadcast).

    Gathers every model and GPU property the throughput stage needs, fits each request to the
    model's context window, and passes `engine` settings through (usable_hbm_fraction,
    max_tpot_s, gpus_per_replica, max_batch_size, max_tokens_per_step, cached_input_share).
    `kv_precision` defaults to BF16 for BF16 serving, else FP8; `scale_up_domain` to the GPU's.
    Rows with identical inputs (a sweep over demand repeats the same request shapes) are
    computed once: the inputs are factorised, the stage runs on the distinct rows, and the
    results are gathered back.
    """
    precision = np.asarray(precision)
    if kv_precision is None:
        kv_precision = np.where(precision == "bf16", "bf16", "fp8")
    if scale_up_domain is None:
        scale_up_domain = tables.gpu(gpus, "scale_up_domain")
    inputs = {"models": models, "gpus": gpus, "precision": precision, "kv": kv_precision,
              "domain": scale_up_domain, "input": input_tokens, "output": output_tokens, **engine}
    names = list(inputs)
    arrays = np.broadcast_arrays(*(np.asarray(inputs[name]) for name in names))
    shape = arrays[0].shape
    flat = pd.DataFrame({name: array.ravel() for name, array in zip(names, arrays)})
    codes = flat.groupby(names, sort=False, dropna=False).ngroup().to_numpy()
    _, first = np.unique(codes, return_index=True)
    distinct = {name: flat[name].to_numpy()[first] for name in names}
    result = _serve(tables, distinct.pop("models"), distinct.pop("gpus"), distinct.pop("precision"),
                    distinct.pop("kv"), distinct.pop("domain"), distinct.pop("input"),
                    distinct.pop("output"), distinct)
    expand = lambda values: values[codes].reshape(shape)
    return Throughput(**{name: expand(getattr(result, name)) for name in Throughput.__dataclass_fields__})


def _serve(tables, models, gpus, precision, kv_precision, scale_up_domain, input_tokens,
           output_tokens, engine) -> Throughput:
    input_tokens, output_tokens = fit_to_context(
        input_tokens.astype(float), output_tokens.astype(float),
        np.nan_to_num(tables.model(models, "context_length"), nan=np.inf))
    engine = {name: value.astype(float) for name, value in engine.items()}
    return serving_throughput(
        input_tokens=input_tokens, output_tokens=output_tokens,
        total_params=tables.model(models, "total_params"),
        active_params=tables.model(models, "active_params"),
        layers=tables.model(models, "layers"),
        attention_heads=tables.model(models, "attention_heads"),
        attention_dims=attention_dims(tables, models),
        prefill_attention_dims=prefill_attention_dims(tables, models),
        kv_values_per_token_per_layer=kv_values_per_token_per_layer(tables, models),
        weight_bytes_per_param=weight_bytes(tables, models, precision),
        kv_bytes=precision_bytes(kv_precision),
        peak_flops=tables.peak_flops(gpus, precision),
        memory_bandwidth=tables.gpu(gpus, "memory_bandwidth"),
        hbm_capacity=tables.gpu(gpus, "hbm_capacity"),
        scale_up_domain=scale_up_domain.astype(float),
        eta_flops=tables.eta_flops(gpus, precision),
        eta_bw=tables.gpu(gpus, "eta_bandwidth"),
        eta_moe=tables.gpu(gpus, "eta_moe"),
        layer_overhead_s=tables.gpu(gpus, "layer_overhead"),
        attention_peak_flops=tables.gpu(gpus, "peak_flops_bf16"),
        sliding_window=np.nan_to_num(tables.model(models, "sliding_window"), nan=np.inf),
        sliding_layer_share=np.nan_to_num(tables.model(models, "sliding_layer_share")),
        experts=np.nan_to_num(tables.model(models, "experts")),
        experts_per_token=np.nan_to_num(tables.model(models, "experts_per_token")),
        **engine,
    )
