"""Per-GPU serving throughput of an LLM: a calibrated roofline model of continuous batching.

Steady state of an inference engine with mixed (chunked-prefill) batching: every step advances
``B`` sequences by one output token each and also prefills ``B * I / O`` prompt tokens, so
prompts enter at the rate outputs leave. A step costs the larger of

the sum over its kernels -- dense linear layers, routed experts, attention -- of each kernel's
roofline time ``max(bytes / (eta_bw * bandwidth), FLOP / (eta_flops * peak))``: weights and the
KV cache of ``B`` sequences at their mean context ``I + O/2`` are read once per step; every token
processed (prefill and decode) costs ``2 * N_active`` FLOP plus attention (computed at BF16);
each layer adds a fixed per-step cost.

The batch ``B`` is the largest that fits the KV cache in the memory left over after the weights,
and whose step time stays within the time-per-output-token target. Throughput per GPU is
``B / t_step / k`` for a replica of ``k`` GPUs; ``k`` is chosen to maximise it when not given.
Within one interconnect (NVLink / Infinity Fabric) domain a replica is tensor-parallel; a model
too large for one domain spans the fewest whole domains that hold it, as pipeline stages, which
the model treats like tensor parallelism (inter-node communication is not costed). Mixture-of-experts models compute with their active parameters and read the
experts a step's tokens actually route to: ``1 - (1 - e/E)**tokens`` of the expert weights.

References: Williams, Waterman & Patterson, "Roofline", CACM 52(4), 2009; Kwon et al.,
"Efficient Memory Management for LLM Serving with PagedAttention", SOSP 2023; Agrawal et al.,
"Taming Throughput-Latency Tradeoff in LLM Inference with Sarathi-Serve", OSDI 2024;
Pope et al., "Efficiently Scaling Transformer Inference", MLSys 2023.
All arrays broadcast against each other; units in brackets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BYTES_PER_VALUE = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "fp4": 0.5}
"""Bytes per weight or KV element at each precision [byte]."""

REPLICA_SIZES = np.array([1, 2, 4, 8, 16, 32, 64, 72], dtype=float)
"""Tensor-parallel group sizes tried when the replica size is left to the model [GPU]."""

BOUNDS = np.array(["compute", "memory-bandwidth", "kv-cache-capacity", "latency", "infeasible",
                   "engine-batch-limit"])
"""What limits throughput, in the order of the integer codes `Throughput.bound_code` uses."""


@dataclass(frozen=True)
class Throughput:
    """Serving estimate for one or many (model, GPU, workload) rows; every field is an array."""

    output_tokens_per_s_per_gpu: np.ndarray  # [token/s/GPU]
    gpus_per_replica: np.ndarray             # [GPU]
    batch_size: np.ndarray                   # concurrent sequences per replica
    time_per_output_token_s: np.ndarray      # decode step time at that batch [s]
    bound_code: np.ndarray                   # index into BOUNDS

    @property
    def bound(self) -> np.ndarray:
        """What limits throughput: compute, memory-bandwidth, kv-cache-capacity, latency."""
        return BOUNDS[self.bound_code]


def kv_cache_bytes_per_sequence(context_tokens, layers, kv_values_per_token_per_layer, kv_bytes,
                                sliding_window=np.inf, sliding_layer_share=0.0):
    """KV cache of one sequence [byte] at a context of `context_tokens` [token].

    ``layers * values * bytes * ((1 - s) * ctx + s * min(ctx, window))``: layers with a sliding
    window keep at most `sliding_window` tokens. `kv_values_per_token_per_layer` is
    ``2 * kv_heads * head_dim`` for multi-head and grouped-query attention and
    ``kv_lora_rank + qk_rope_head_dim`` for multi-head latent attention.
    """
    window = np.minimum(context_tokens, sliding_window)
    effective_tokens = (1.0 - sliding_layer_share) * context_tokens + sliding_layer_share * window
    return layers * kv_values_per_token_per_layer * kv_bytes * effective_tokens


def fit_to_context(input_tokens, output_tokens, context_tokens):
    """Shape of one model call for a request that may exceed the context window [token].

    A request longer than the model's context (an agent's task, a long document) runs as
    several calls; each call keeps the request's prompt-to-output ratio and fills at most the
    window: both lengths are scaled by ``min(1, context / (input + output))``.
    """
    scale = np.minimum(1.0, context_tokens / (input_tokens + output_tokens))
    return input_tokens * scale, output_tokens * scale


def expert_weight_share_read(tokens_per_step, experts, experts_per_token):
    """Expected share of a layer's routed-expert weights a step reads [1].

    With uniform routing each token picks `experts_per_token` of `experts`, so an expert is
    untouched by all ``n`` tokens with probability ``(1 - e/E)**n``. Dense models (E = 0) read all.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        untouched = np.where(experts > 0, (1.0 - experts_per_token / np.maximum(experts, 1.0))
                             ** tokens_per_step, 0.0)
    return 1.0 - untouched


def step_times(batch, *, k, input_tokens, output_tokens, total_params, active_params, weight_bytes,
               layers, attention_heads, attention_dims, kv_values_per_token_per_layer, kv_bytes,
               sliding_window, sliding_layer_share, experts, experts_per_token,
               peak_flops, memory_bandwidth, eta_flops, eta_bw, prefill_attention_dims=None,
               cached_input_share=0.0, eta_moe=1.0, layer_overhead_s=0.0,
               attention_peak_flops=None):
    """Memory-bound and compute-bound time [s] of one mixed-batch step of `batch` sequences.

    A step runs three kinds of kernels one after the other, each limited by its own roofline:
    the dense linear layers (read their weights once, ``2 N`` FLOP per token), the routed
    experts (read the experts the step's tokens route to) and attention (read each sequence's
    KV cache; ``4 L H d`` FLOP per token per context token). The step takes the sum of the three
    ``max(bytes / bandwidth, FLOP / peak)``, plus a fixed cost per layer per step (kernel
    launches, synchronisation). Returns ``(t_step, t_memory_share, t_compute_share)``, where the
    last two split `t_step` by which side bound each kernel (the fixed cost counts as memory).
    """
    return _step_times(batch, _step_terms(
        k=k, input_tokens=input_tokens, output_tokens=output_tokens, total_params=total_params,
        active_params=active_params, weight_bytes=weight_bytes, layers=layers,
        attention_heads=attention_heads, attention_dims=attention_dims,
        kv_values_per_token_per_layer=kv_values_per_token_per_layer, kv_bytes=kv_bytes,
        sliding_window=sliding_window, sliding_layer_share=sliding_layer_share, experts=experts,
        experts_per_token=experts_per_token, peak_flops=peak_flops, memory_bandwidth=memory_bandwidth,
        eta_flops=eta_flops, eta_bw=eta_bw, prefill_attention_dims=prefill_attention_dims,
        cached_input_share=cached_input_share, eta_moe=eta_moe, layer_overhead_s=layer_overhead_s,
        attention_peak_flops=attention_peak_flops))


def _step_terms(*, k, input_tokens, output_tokens, total_params, active_params, weight_bytes,
                layers, attention_heads, attention_dims, kv_values_per_token_per_layer, kv_bytes,
                sliding_window, sliding_layer_share, experts, experts_per_token,
                peak_flops, memory_bandwidth, eta_flops, eta_bw, prefill_attention_dims=None,
                cached_input_share=0.0, eta_moe=1.0, layer_overhead_s=0.0,
                attention_peak_flops=None) -> dict:
    """What a step's time is made of that does not depend on the batch: computed once for the
    bisection over batch sizes (`_step_times` adds the batch)."""
    # prompt tokens found in the prefix cache are not computed again
    prompt_per_output = (1.0 - cached_input_share) * input_tokens / output_tokens
    prefill_attention_dims = attention_dims if prefill_attention_dims is None else prefill_attention_dims
    mean_context = input_tokens + 0.5 * output_tokens
    bandwidth = k * memory_bandwidth * eta_bw
    flops_rate = k * peak_flops * eta_flops

    routed_share = np.where(experts > 0, experts_per_token / np.maximum(experts, 1.0), 1.0)
    expert_params = np.where(experts > 0, (total_params - active_params)
                             / np.maximum(1.0 - routed_share, 1e-9), 0.0)
    dense_params = total_params - expert_params
    active_expert_params = expert_params * routed_share
    bytes_per_param = weight_bytes / total_params
    attention_span = (1.0 - sliding_layer_share) * mean_context \
        + sliding_layer_share * np.minimum(mean_context, sliding_window)
    prefill_span = (1.0 - sliding_layer_share) * 0.5 * input_tokens \
        + sliding_layer_share * np.minimum(0.5 * input_tokens, sliding_window)
    attention_rate = flops_rate if attention_peak_flops is None else \
        k * attention_peak_flops * eta_flops
    return {
        "prompt_per_output": prompt_per_output, "flops_rate": flops_rate, "bandwidth": bandwidth,
        "dense_memory": dense_params * bytes_per_param / bandwidth, "dense_params": dense_params,
        "expert_params": expert_params, "bytes_per_param": bytes_per_param,
        "active_expert_params": active_expert_params, "experts": experts,
        "experts_per_token": experts_per_token, "eta_moe": eta_moe,
        "kv_per_sequence": kv_cache_bytes_per_sequence(mean_context, layers, kv_values_per_token_per_layer,
                                                       kv_bytes, sliding_window, sliding_layer_share),
        "decode_attention_flops": 2.0 * layers * attention_heads * attention_dims,
        "prefill_attention_flops": 2.0 * layers * attention_heads * prefill_attention_dims,
        "attention_span": attention_span, "prefill_span": prefill_span,
        "attention_rate": attention_rate, "fixed": layers * layer_overhead_s,
    }


def _step_times(batch, terms: dict):
    """`step_times` from its batch-free `terms`."""
    tokens_per_step = batch * (1.0 + terms["prompt_per_output"])
    dense_memory = terms["dense_memory"]
    dense_compute = tokens_per_step * 2.0 * terms["dense_params"] / terms["flops_rate"]
    share_read = expert_weight_share_read(tokens_per_step, terms["experts"], terms["experts_per_token"])
    # routed experts run as grouped GEMMs behind a token dispatch: `eta_moe` of dense efficiency
    expert_memory = terms["expert_params"] * share_read * terms["bytes_per_param"] / terms["bandwidth"]
    expert_compute = tokens_per_step * 2.0 * terms["active_expert_params"] / (terms["flops_rate"] * terms["eta_moe"])
    kv_read = batch * terms["kv_per_sequence"]
    attention_compute = (batch * terms["decode_attention_flops"] * terms["attention_span"]
                         + batch * terms["prompt_per_output"] * terms["prefill_attention_flops"]
                         * terms["prefill_span"]) / terms["attention_rate"]
    attention_memory = kv_read / terms["bandwidth"]

    memory_side = (np.where(dense_memory >= dense_compute, dense_memory, 0.0)
                   + np.where(expert_memory >= expert_compute, expert_memory, 0.0)
                   + np.where(attention_memory >= attention_compute, attention_memory, 0.0))
    fixed = terms["fixed"]
    t_step = (fixed + np.maximum(dense_memory, dense_compute)
              + np.maximum(expert_memory, expert_compute)
              + np.maximum(attention_memory, attention_compute))
    return t_step, memory_side + fixed, t_step - memory_side - fixed


def serving_throughput(*, input_tokens, output_tokens, total_params, active_params, layers,
                       attention_heads, attention_dims, kv_values_per_token_per_layer, weight_bytes_per_param,
                       kv_bytes, peak_flops, memory_bandwidth, hbm_capacity, scale_up_domain,
                       eta_flops, eta_bw, usable_hbm_fraction, max_tpot_s=np.inf,
                       gpus_per_replica=np.nan, sliding_window=np.inf, sliding_layer_share=0.0,
                       experts=0.0, experts_per_token=0.0, max_batch_size=np.inf,
                       max_tokens_per_step=np.inf, prefill_attention_dims=None,
                       cached_input_share=0.0, eta_moe=1.0, layer_overhead_s=0.0,
                       attention_peak_flops=None) -> Throughput:
    """Output tokens per second per GPU for each row of a workload on a model and a GPU.

    Parameters (arrays, broadcast together)
    ----------
    input_tokens, output_tokens : mean prompt and generated tokens per request [token]
    total_params, active_params : model parameters; active = routed share of an MoE [1]
    layers, attention_heads : transformer shape [1]
    attention_dims : query-key plus value dimension of one head in decode, ``2 * head_dim`` for
        MHA/GQA, ``2 * kv_lora_rank + qk_rope_head_dim`` for absorbed MLA [1]
    prefill_attention_dims : the same in prefill (MLA prefills un-absorbed); default as decode
    cached_input_share : share of prompt tokens served from the prefix cache, not recomputed [1]
    kv_values_per_token_per_layer : KV values cached per token per layer [1]
    weight_bytes_per_param, kv_bytes : storage per weight and per KV value [byte]
    peak_flops : dense peak at the precision [FLOP/s/GPU]
    memory_bandwidth : HBM bandwidth [byte/s/GPU];  hbm_capacity : HBM size [byte/GPU]
    scale_up_domain : largest tensor-parallel group the interconnect allows [GPU]
    eta_flops, eta_bw : achievable fraction of peak FLOP/s and of bandwidth [1] (calibrated)
    eta_moe : efficiency of routed-expert kernels relative to dense ones [1] (calibrated)
    layer_overhead_s : fixed time per layer per step [s] (calibrated)
    attention_peak_flops : dense peak for attention kernels [FLOP/s/GPU]; attention runs at
        BF16 in the engines measured, whatever the weights' precision; default `peak_flops`
    usable_hbm_fraction : share of HBM the engine may fill with weights and KV cache [1]
    max_tpot_s : time-per-output-token target [s]; ``inf`` for none
    gpus_per_replica : tensor-parallel size [GPU]; NaN lets the model choose the best
    max_batch_size : most sequences an engine schedules at once per replica (its setting)
    max_tokens_per_step : most tokens (decode and prefill) an engine processes per step

    Returns
    -------
    Throughput, whose arrays have the broadcast shape of the inputs.
    """
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (
        input_tokens, output_tokens, total_params, active_params, layers, attention_heads,
        attention_dims, kv_values_per_token_per_layer, weight_bytes_per_param, kv_bytes, peak_flops,
        memory_bandwidth, hbm_capacity, scale_up_domain, eta_flops, eta_bw, usable_hbm_fraction,
        max_tpot_s, gpus_per_replica, sliding_window, sliding_layer_share, experts,
        experts_per_token, max_batch_size, max_tokens_per_step,
        attention_dims if prefill_attention_dims is None else prefill_attention_dims,
        cached_input_share, eta_moe, layer_overhead_s,
        peak_flops if attention_peak_flops is None else attention_peak_flops)))
    shape = arrays[0].shape
    # a trailing axis over candidate replica sizes
    (inp, out, n_tot, n_act, lay, heads, attn_dims, kvv, wbyte, kvb, flops, bw, hbm, domain, e_f, e_bw,
     usable, tpot, chosen_k, window, s_share, n_exp, e_tok, batch_cap, token_cap, prefill_dims,
     cached, e_moe, overhead, attn_flops) = (a[..., None] for a in arrays)
    k = np.where(np.isnan(chosen_k), REPLICA_SIZES, chosen_k)
    # within one interconnect domain: tensor parallel; a model that fits no single domain spans
    # the fewest whole domains that hold it, as pipeline stages
    weights_fit = k * hbm * usable > n_tot * wbyte
    in_domain = REPLICA_SIZES <= domain
    spans = (REPLICA_SIZES > domain) & (np.mod(REPLICA_SIZES, domain) == 0) & weights_fit
    fewest_span = spans & (np.cumsum(spans, axis=-1) == 1)
    needs_span = ~np.any(in_domain & weights_fit, axis=-1, keepdims=True)
    allowed = np.where(np.isnan(chosen_k), in_domain | (needs_span & fewest_span),
                       REPLICA_SIZES == REPLICA_SIZES[0])

    weight_bytes = n_tot * wbyte
    kv_memory = k * hbm * usable - weight_bytes
    kv_per_sequence = kv_cache_bytes_per_sequence(inp + 0.5 * out, lay, kvv, kvb, window, s_share)
    # the engine's limits: sequences per step, and tokens (decode + prefill) per step
    tokens_per_sequence_step = 1.0 + (1.0 - cached) * inp / out
    batch_engine = np.minimum(batch_cap, np.floor(token_cap / tokens_per_sequence_step))
    batch_kv = np.floor(np.maximum(kv_memory, 0.0) / kv_per_sequence)
    batch_memory = np.minimum(batch_kv, np.maximum(batch_engine, 1.0))

    common = dict(k=k, input_tokens=inp, output_tokens=out, total_params=n_tot, active_params=n_act,
                  weight_bytes=weight_bytes, layers=lay, attention_heads=heads, attention_dims=attn_dims,
                  kv_values_per_token_per_layer=kvv, kv_bytes=kvb, sliding_window=window,
                  sliding_layer_share=s_share, experts=n_exp, experts_per_token=e_tok,
                  peak_flops=flops, memory_bandwidth=bw, eta_flops=e_f, eta_bw=e_bw,
                  prefill_attention_dims=prefill_dims, cached_input_share=cached, eta_moe=e_moe,
                  layer_overhead_s=overhead, attention_peak_flops=attn_flops)

    terms = _step_terms(**common)
    # only (row, replica size) pairs that may serve are searched: allowed, and room for one
    # sequence; the others serve nothing (their step times are never read)
    grid = np.broadcast_shapes(allowed.shape, batch_memory.shape)
    candidate = np.flatnonzero((allowed & (batch_memory >= 1.0)).ravel())
    flat = lambda a: np.broadcast_to(a, grid).reshape(-1)[candidate] if np.ndim(a) else a
    terms = {name: flat(value) for name, value in terms.items()}
    room, target = flat(batch_memory), flat(tpot)

    def step(batch):
        return _step_times(batch, terms)[0]

    # largest batch within the latency target: step time grows with the batch, so bisect
    lo = np.ones_like(room)
    hi = np.maximum(room, 1.0)
    meets_at_one = step(lo) <= target
    for _ in range(int(np.ceil(np.log2(max(float(hi.max(initial=1.0)), 2.0)))) + 1):
        mid = np.floor(0.5 * (lo + hi + 1.0))
        ok = step(mid) <= target
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid - 1.0)
    searched = np.minimum(lo, room)
    times = _step_times(searched, terms)

    def spread(values, fill):
        out = np.full(grid, fill, dtype=np.asarray(values).dtype).reshape(-1)
        out[candidate] = values
        return out.reshape(grid)

    batch = spread(searched, np.nan)
    feasible = spread(meets_at_one, False)
    t_step, t_mem, t_comp = (spread(values, np.nan) for values in times)
    with np.errstate(invalid="ignore"):
        per_gpu = np.where(feasible, batch / t_step / k, 0.0)

    best = np.argmax(per_gpu, axis=-1)[..., None]
    pick = lambda a: np.take_along_axis(np.broadcast_to(a, per_gpu.shape), best, axis=-1)[..., 0]
    rate, k_best, b_best, t_best = pick(per_gpu), pick(k), pick(batch), pick(t_step)
    compute_bound = pick(t_comp >= t_mem)
    kv_limited = pick(batch >= batch_kv)
    engine_limited = pick(batch >= np.maximum(batch_engine, 1.0))
    any_feasible = feasible.any(axis=-1)
    code = np.select([~any_feasible, compute_bound, kv_limited, engine_limited,
                      np.isfinite(pick(tpot))], [4, 0, 2, 5, 3], default=1)
    nan = np.full(shape, np.nan)
    return Throughput(
        output_tokens_per_s_per_gpu=np.where(any_feasible, rate, nan),
        gpus_per_replica=np.where(any_feasible, k_best, nan),
        batch_size=np.where(any_feasible, b_best, nan),
        time_per_output_token_s=np.where(any_feasible, t_best, nan),
        bound_code=code.astype(np.int8),
    )
