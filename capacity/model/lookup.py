"""Vectorised look-ups of GPU and model properties from the assumption library.

Rows carry GPU and model ids; these helpers turn id arrays into property arrays with one
``Index.get_indexer`` and a ``take``, so a million rows cost one gather.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.catalog import Catalog
from .cells import distinct_rows
from ..data.schema import ENGINES as _ENGINES
from .stages.throughput import BYTES_PER_VALUE, Throughput, fit_to_context, serving_throughput

PRECISION_CODES = {"bf16": 0, "fp16": 0, "fp8": 1, "fp4": 2}

ENGINES = _ENGINES
"""The inference engines the efficiency factors are calibrated for, ``("tensorrt-llm", "vllm",
"sglang")`` (`engine_id` in `assumptions/calibration.csv`; defined with the catalog schema,
which checks the ids of `assumptions/efficiency.csv`); an engine's integer code is its position."""

DEFAULT_ENGINE = "tensorrt-llm"
"""The engine assumed where none is given: the one behind most published measurements."""


H100_FP8_FLOPS = 1979e12
"""Dense FP8 peak of the H100 SXM [FLOP/s] (NVIDIA H100 datasheet; assumptions/gpus.csv
h100-sxm peak_flops_fp8): the unit of H100-equivalents."""


@dataclass(frozen=True)
class Tables:
    """Wide GPU and model tables (canonical units) with efficiency factors joined to GPUs.

    ``gpus`` carries the factors of `DEFAULT_ENGINE` as columns; ``efficiency`` holds them for
    every engine, shape ``(len(ENGINES), len(gpus), len(EFFICIENCY_COLUMNS))``, each entry
    resolved along the look-up chain of `efficiency_chain`.
    """

    gpus: pd.DataFrame
    models: pd.DataFrame
    efficiency: np.ndarray | None = None

    def factor(self, gpu_ids, engine_ids, column: str) -> np.ndarray:
        """A calibrated efficiency factor of each (GPU, engine) row, gathered by integer codes."""
        gpu_ids, engine_ids = np.broadcast_arrays(np.asarray(gpu_ids), np.asarray(engine_ids))
        gpu_codes = self.gpus.index.get_indexer(gpu_ids.ravel())
        cube = self.efficiency if self.efficiency is not None else np.stack(
            [self.gpus.reindex(columns=EFFICIENCY_COLUMNS).to_numpy(dtype=float)] * len(ENGINES))
        values = cube[engine_codes(engine_ids).ravel(), np.maximum(gpu_codes, 0),
                      EFFICIENCY_COLUMNS.index(column)]
        return np.where(gpu_codes >= 0, values, np.nan).reshape(gpu_ids.shape)

    def eta_flops_for(self, gpu_ids, engine_ids, precisions) -> np.ndarray:
        """The calibrated share of peak FLOP/s of each (GPU, engine) row at its precision."""
        codes = np.vectorize(PRECISION_CODES.get, otypes=[float])(np.asarray(precisions))
        columns = [self.factor(gpu_ids, engine_ids, f"eta_flops_{p}") for p in ("bf16", "fp8", "fp4")]
        return np.choose(np.nan_to_num(codes).astype(int), np.broadcast_arrays(*columns))

    def gpu(self, ids, column: str) -> np.ndarray:
        return _gather(self.gpus, ids, column)

    def h100_equivalents(self, ids) -> np.ndarray:
        """H100-equivalents per GPU: dense FP8 peak over the H100 SXM's (`H100_FP8_FLOPS`),
        the ratio of total processing performance (TPP = 8 x dense FP8 TFLOP/s) that export
        rules count; NaN for a GPU without an FP8 figure."""
        return self.gpu(ids, "peak_flops_fp8") / H100_FP8_FLOPS

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
        """Calibrated achievable share of that peak (the default engine's factors)."""
        return _by_precision(self, gpu_ids, precisions, "eta_flops_{}")


_MEMO: dict[tuple, tuple] = {}
"""Look-ups the chain repeats with the same objects (a categorical's categories in a table's
index, a table's column as floats), keyed by the objects' ids and checked by identity."""


def _memo(objects: tuple, key: tuple, make):
    found = _MEMO.get(tuple(map(id, objects)) + key)
    if found is not None and all(a is b for a, b in zip(found[0], objects)):
        return found[1]
    if len(_MEMO) > 256:
        _MEMO.clear()
    value = make()
    _MEMO[tuple(map(id, objects)) + key] = (objects, value)
    return value


def _positions(index: pd.Index, ids) -> np.ndarray:
    """Positions of `ids` in `index` (-1 where absent): for a categorical, one look-up per
    distinct id (made once per categories object) and a gather by its codes."""
    if isinstance(ids, pd.Categorical):
        found = _memo((index, ids.categories), (), lambda: np.append(index.get_indexer(ids.categories), -1))
        return found[ids.codes]                        # code -1 (missing) -> the -1 appended
    return index.get_indexer(np.asarray(ids).ravel())


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A table's column as floats (text that is not a number: NaN), made once per table."""
    def make():
        values = frame[column].to_numpy()
        if values.dtype == object:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        return values.astype(float)
    return _memo((frame,), (column,), make)


class CodedIds:
    """An array of ids as a categorical and its shape: look-ups gather by its codes."""

    def __init__(self, ids: np.ndarray):
        self.shape = ids.shape
        self.categorical = pd.Categorical(ids.ravel())

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.categorical, dtype=dtype).reshape(self.shape)


def _coded(ids: np.ndarray):
    return CodedIds(ids) if ids.dtype == object else ids


_RECORDERS: list[set] = []
"""Open `recording_reads` blocks: each collects ``(id(frame), column)`` of the look-ups made."""


@contextmanager
def recording_reads():
    """Collect which numeric properties the chain reads in this block (a set of ``(id of the
    table frame, column)``): what the Monte Carlo may draw through the look-ups."""
    found: set = set()
    _RECORDERS.append(found)
    try:
        yield found
    finally:
        _RECORDERS.remove(found)


def recording() -> bool:
    """Whether a `recording_reads` block is open."""
    return bool(_RECORDERS)


def _gather(frame: pd.DataFrame, ids, column: str) -> np.ndarray:
    """`column` of `frame` for each id (NaN where unknown), in the shape of `ids`."""
    for found in _RECORDERS:
        found.add((id(frame), column))
    if isinstance(ids, CodedIds):
        return _gather(frame, ids.categorical, column).reshape(ids.shape)
    shape = (len(ids),) if isinstance(ids, pd.Categorical) else np.shape(ids)
    codes = _positions(frame.index, ids)
    values = _numbers(frame, column)
    out = np.where(codes >= 0, values[np.maximum(codes, 0)], np.nan)
    return out.reshape(shape)


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


def engine_codes(engine_ids) -> np.ndarray:
    """Integer code (position in `ENGINES`) of each engine id; an unknown id is an input error."""
    engine_ids = np.asarray(engine_ids)
    codes = pd.Index(ENGINES).get_indexer(engine_ids.ravel())
    if (codes < 0).any():
        unknown = sorted({str(e) for e in engine_ids.ravel()[codes < 0]})
        from ..data.errors import InputError
        raise InputError(None, "engine", ", ".join(unknown), "one of " + ", ".join(ENGINES))
    return codes.reshape(engine_ids.shape)


def efficiency_id(scope: str, engine: str | None = None) -> str:
    """The id of a row of `assumptions/efficiency.csv`: ``all``, an architecture (lower case,
    e.g. ``cdna 3``) or a GPU id, fitted on every engine's measurements; or the same prefixed
    with an engine, ``vllm/all``, ``vllm/cdna 3``, ``vllm/mi300x``, fitted on that engine's."""
    return scope if engine is None else f"{engine}/{scope}"


def efficiency_chain(engine: str, gpu: str, architecture: str) -> list[str]:
    """Where the factors of `engine` on `gpu` come from, most specific first: the (engine, GPU)
    row if fitted, then (engine, architecture), (engine, all), (all engines, architecture),
    and ``all``. Each factor takes the first row in the chain that has it."""
    architecture = architecture.lower()
    return [efficiency_id(gpu, engine), efficiency_id(architecture, engine),
            efficiency_id("all", engine), architecture, "all"]


def _chain_codes(gpus: pd.DataFrame, group_ids) -> np.ndarray:
    """For every (engine, GPU), the positions in `group_ids` of its chain; -1 where absent."""
    architecture = gpus["architecture"].fillna("").astype(str).str.lower().to_numpy()
    index = pd.Index(list(group_ids))
    chains = [[efficiency_chain(engine, gpu, arch) for gpu, arch in zip(gpus.index, architecture)]
              for engine in ENGINES]
    flat = index.get_indexer(np.asarray(chains, dtype=object).ravel())
    return flat.reshape(len(ENGINES), len(gpus), -1)


def resolve_efficiency(gpus: pd.DataFrame, factors: np.ndarray, group_ids) -> np.ndarray:
    """Factors of every (engine, GPU) along the look-up chain, from the fitted rows.

    `factors` has shape ``(..., len(group_ids), len(EFFICIENCY_COLUMNS))`` (NaN where a row does
    not give a factor); the result ``(..., len(ENGINES), len(gpus), len(EFFICIENCY_COLUMNS))``.
    Leading axes let the fit resolve a whole grid of candidate factor sets in one call.
    """
    factors = np.asarray(factors, dtype=float)
    padded = np.concatenate([factors, np.full(factors.shape[:-2] + (1, factors.shape[-1]), np.nan)],
                            axis=-2)
    codes = _chain_codes(gpus, group_ids)                     # (E, G, chain); -1 -> the NaN pad
    along = np.take(padded, codes, axis=-2)                   # (..., E, G, chain, C)
    found = ~np.isnan(along)
    first = np.argmax(found, axis=-2)[..., None, :]
    resolved = np.take_along_axis(along, first, axis=-2)[..., 0, :]
    bf16, fp8, moe, overhead = (EFFICIENCY_COLUMNS.index(c) for c in
                                ("eta_flops_bf16", "eta_flops_fp8", "eta_moe", "layer_overhead"))
    # BF16 serving never measured on a chain: it takes the FP8 factor
    resolved[..., bf16] = np.where(np.isnan(resolved[..., bf16]), resolved[..., fp8], resolved[..., bf16])
    # no calibrated penalty on expert kernels, or fixed cost per layer, means none
    resolved[..., moe] = np.nan_to_num(resolved[..., moe], nan=1.0)
    resolved[..., overhead] = np.nan_to_num(resolved[..., overhead], nan=0.0)
    return resolved


def efficiency_cube(gpus: pd.DataFrame, factors: pd.DataFrame) -> np.ndarray:
    """`resolve_efficiency` of a factor table (index: efficiency ids; columns: factors)."""
    values = factors.reindex(columns=EFFICIENCY_COLUMNS).apply(pd.to_numeric, errors="coerce")
    return resolve_efficiency(gpus, values.to_numpy(dtype=float), values.index)


def with_efficiency(gpus: pd.DataFrame, factors: pd.DataFrame,
                    engine: str = DEFAULT_ENGINE) -> pd.DataFrame:
    """Join the calibrated efficiency factors of one engine to GPUs (see `efficiency_chain`)."""
    gpus = gpus.copy()
    cube = efficiency_cube(gpus, factors)[ENGINES.index(engine)]
    for i, column in enumerate(EFFICIENCY_COLUMNS):
        gpus[column] = cube[:, i]
    return gpus


def tables_with(gpus: pd.DataFrame, models: pd.DataFrame, factors: pd.DataFrame) -> Tables:
    """Tables with the factors of every engine (and the default engine's joined to ``gpus``)."""
    gpus = gpus.drop(columns=[c for c in EFFICIENCY_COLUMNS if c in gpus])
    return Tables(gpus=with_efficiency(gpus, factors), models=models,
                  efficiency=efficiency_cube(gpus, factors))


def prefill_attention_dims(tables: Tables, model_ids) -> np.ndarray:
    """Query-key plus value dimension per head in prefill: MLA computes un-absorbed heads of
    ``head_dim + qk_rope_head_dim`` (query-key) and ``head_dim`` (value)."""
    rope = tables.model(model_ids, "qk_rope_head_dim")
    return 2.0 * tables.model(model_ids, "head_dim") + np.nan_to_num(rope)


def build_tables(catalog: Catalog) -> Tables:
    return tables_with(catalog.wide("gpus"), catalog.wide("models"), catalog.wide("efficiency"))


def tables_for(catalog: Catalog) -> Tables:
    """Tables for a catalog, built once per catalog object."""
    cached = getattr(catalog, "_tables", None)
    if cached is None:
        cached = build_tables(catalog)
        object.__setattr__(catalog, "_tables", cached)
    return cached


def model_on_gpu(tables: Tables, models, gpus, precision, *, input_tokens, output_tokens,
                 kv_precision=None, scale_up_domain=None, engine=DEFAULT_ENGINE,
                 **settings) -> Throughput:
    """Throughput of `models` served on `gpus` at `precision` by `engine` (arrays of ids, broadcast).

    Gathers every model and GPU property the throughput stage needs and the efficiency factors
    of each row's (engine, GPU) (`engine`: ids from `ENGINES`, default ``tensorrt-llm``), fits
    each request to the model's context window, and passes the engine `settings` through
    (usable_hbm_fraction, max_tpot_s, gpus_per_replica, max_batch_size, max_tokens_per_step,
    cached_input_share). `kv_precision` defaults to BF16 for BF16 serving, else FP8;
    `scale_up_domain` to the GPU's.
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
              "domain": scale_up_domain, "input": input_tokens, "output": output_tokens,
              "engine": engine_codes(engine), **settings}
    names = list(inputs)
    arrays = np.broadcast_arrays(*(np.asarray(inputs[name]) for name in names))
    shape = arrays[0].shape
    flat = {name: array.ravel() for name, array in zip(names, arrays)}
    first, codes = distinct_rows(list(flat.values()))
    distinct = {name: values[first] for name, values in flat.items()}
    arguments = serving_arguments(
        tables, distinct.pop("models"), distinct.pop("gpus"), distinct.pop("precision"),
        kv_precision=distinct.pop("kv"), scale_up_domain=distinct.pop("domain"),
        input_tokens=distinct.pop("input"), output_tokens=distinct.pop("output"),
        engine=np.asarray(ENGINES, dtype=object)[distinct.pop("engine").astype(int)], **distinct)
    result = serving_throughput(**arguments)
    expand = lambda values: values[codes].reshape(shape)
    return Throughput(**{name: expand(getattr(result, name)) for name in Throughput.__dataclass_fields__})


FACTOR_ARGUMENTS = ("eta_flops", "eta_bw", "eta_moe", "layer_overhead_s")
"""The arguments of `serving_throughput` that carry calibrated efficiency factors."""


def serving_arguments(tables: Tables, models, gpus, precision, *, kv_precision, scale_up_domain,
                      input_tokens, output_tokens, engine=DEFAULT_ENGINE, **settings) -> dict:
    """The keyword arguments of `serving_throughput` for each row (no de-duplication): model
    and GPU properties, the (engine, GPU) efficiency factors (`FACTOR_ARGUMENTS`) and the
    engine settings. The calibration replaces the factor arguments to try many at once."""
    models, gpus, precision = np.asarray(models), np.asarray(gpus), np.asarray(precision)
    models, gpus = _coded(models), _coded(gpus)        # each id looked up once, not per property
    input_tokens, output_tokens = fit_to_context(
        np.asarray(input_tokens).astype(float), np.asarray(output_tokens).astype(float),
        np.nan_to_num(tables.model(models, "context_length"), nan=np.inf))
    settings = {name: np.asarray(value).astype(float) for name, value in settings.items()}
    return dict(
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
        scale_up_domain=np.asarray(scale_up_domain).astype(float),
        eta_flops=tables.eta_flops_for(gpus, engine, precision),
        eta_bw=tables.factor(gpus, engine, "eta_bandwidth"),
        eta_moe=tables.factor(gpus, engine, "eta_moe"),
        layer_overhead_s=tables.factor(gpus, engine, "layer_overhead"),
        attention_peak_flops=tables.gpu(gpus, "peak_flops_bf16"),
        sliding_window=np.nan_to_num(tables.model(models, "sliding_window"), nan=np.inf),
        sliding_layer_share=np.nan_to_num(tables.model(models, "sliding_layer_share")),
        experts=np.nan_to_num(tables.model(models, "experts")),
        experts_per_token=np.nan_to_num(tables.model(models, "experts_per_token")),
        **settings,
    )
