"""Catalogue-aware entry point to the throughput stage: `capacity.throughput(model, gpu, ...)`."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np

from ..data.catalog import Catalog, default_catalog
from ..data.errors import InputError
from .lookup import DEFAULT_ENGINE, ENGINES, model_on_gpu, tables_for


@dataclass(frozen=True)
class ThroughputEstimate:
    """Serving estimate for one model on one GPU type."""

    model: str
    gpu: str
    precision: str
    input_tokens: float
    output_tokens: float
    max_tpot_ms: float | None
    output_tokens_per_s_per_gpu: float
    gpus_per_replica: int
    batch_size: int
    time_per_output_token_ms: float
    bound: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _known(catalog: Catalog, table: str, value: str, key: str) -> None:
    ids = catalog.ids(table)
    if value not in ids:
        close = difflib.get_close_matches(value, ids, n=1)
        raise InputError(None, key, f"unknown id {value!r}", "one of " + ", ".join(ids),
                         f"did you mean {close[0]!r}?" if close else None)


def throughput(model: str, gpu: str, precision: str | None = None, input_tokens: float = 1000.0,
               output_tokens: float = 1000.0, max_tpot_ms: float | None = None,
               gpus_per_replica: int | None = None, catalog: Catalog | None = None,
               engine: str = DEFAULT_ENGINE) -> ThroughputEstimate:
    """Output tokens/s per GPU of `model` served on `gpu` by `engine` (ids from the assumption
    library; `engine` one of `lookup.ENGINES`, whose calibrated efficiency factors it takes).

    `precision` defaults to the lowest precision the GPU computes natively among fp8 and bf16
    (fp8 where supported); `gpus_per_replica=None` lets the model choose the tensor-parallel size.
    """
    catalog = catalog or default_catalog()
    _known(catalog, "models", model, "model")
    _known(catalog, "gpus", gpu, "gpu")
    if engine not in ENGINES:
        raise InputError(None, "engine", repr(engine), "one of " + ", ".join(ENGINES))
    tables = tables_for(catalog)
    if precision is None:
        precision = "fp8" if np.isfinite(tables.gpu([gpu], "peak_flops_fp8")[0]) else "bf16"
    if precision not in ("bf16", "fp8", "fp4"):
        raise InputError(None, "precision", repr(precision), "one of bf16, fp8, fp4")
    if not np.isfinite(tables.peak_flops([gpu], [precision])[0]):
        raise InputError(None, "precision", f"{precision} on {gpu}",
                         f"a precision {gpu} computes natively")
    if input_tokens < 0 or output_tokens <= 0:
        raise InputError(None, "input_tokens/output_tokens", f"{input_tokens}/{output_tokens}",
                         "input >= 0 and output > 0 tokens")
    defaults = {name: float(catalog.get("defaults", "fleet", name).value)
                for name in ("usable_hbm_fraction", "max_batch_size", "max_tokens_per_step")}
    result = model_on_gpu(
        tables, np.array([model]), np.array([gpu]), np.array([precision]),
        input_tokens=float(input_tokens), output_tokens=float(output_tokens),
        max_tpot_s=np.inf if max_tpot_ms is None else max_tpot_ms / 1e3,
        gpus_per_replica=np.nan if gpus_per_replica is None else float(gpus_per_replica),
        engine=np.array([engine]), **defaults)
    rate = float(result.output_tokens_per_s_per_gpu[0])
    if not np.isfinite(rate):
        raise InputError(None, "model/gpu", f"{model} on {gpu} at {precision}"
                         + (f" within {max_tpot_ms:g} ms per token" if max_tpot_ms else ""),
                         "a configuration whose weights and KV cache fit one interconnect domain "
                         "and that meets the latency target",
                         "try a lower precision, more GPUs per replica or a looser target")
    return ThroughputEstimate(
        model=model, gpu=gpu, precision=precision, input_tokens=float(input_tokens),
        output_tokens=float(output_tokens), max_tpot_ms=max_tpot_ms,
        output_tokens_per_s_per_gpu=rate, gpus_per_replica=int(result.gpus_per_replica[0]),
        batch_size=int(result.batch_size[0]),
        time_per_output_token_ms=float(result.time_per_output_token_s[0]) * 1e3,
        bound=str(result.bound[0]))
