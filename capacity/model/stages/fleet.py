"""Fleet: from GPU-seconds of load to whole GPUs, replicas and servers, and vintages over time.

Arrays broadcast elementwise; functions over a year axis take it as the last axis.
"""

from __future__ import annotations

import numpy as np


def gpu_seconds_per_second(token_rate, tokens_per_s_per_gpu):
    """GPUs kept fully busy by a token rate [GPU] = rate [token/s] / per-GPU rate [token/s/GPU]."""
    return np.divide(token_rate, tokens_per_s_per_gpu, out=np.zeros(np.broadcast(
        token_rate, tokens_per_s_per_gpu).shape), where=token_rate > 0)


def provisioned_gpus(peak_load_gpus, target_utilisation, gpus_per_replica, gpus_per_server,
                     redundancy):
    """GPUs to provision for a peak load [GPU].

    ``replicas = ceil(load / utilisation / k)``, then ``ceil(replicas * (1 + redundancy))``
    replicas of ``k`` GPUs, rounded up to whole servers. No load, no GPUs.
    """
    replicas = np.ceil(peak_load_gpus / target_utilisation / gpus_per_replica - 1e-9)
    replicas = np.ceil(replicas * (1.0 + redundancy) - 1e-9)
    return np.ceil(replicas * gpus_per_replica / gpus_per_server - 1e-9) * gpus_per_server


def group_sum(values, group_index, n_groups):
    """Sum `values` by integer `group_index` into `n_groups` totals (one bincount, no loop)."""
    return np.bincount(group_index, weights=values, minlength=n_groups)


def alive_matrix(n_years, life_years):
    """``A[..., y, v] = 1`` when an asset installed in year index v still stands in year y.

    `life_years` is rounded to whole years (at least one) and broadcasts over leading axes.
    """
    life = np.maximum(np.rint(np.asarray(life_years, dtype=float)), 1.0)[..., None, None]
    age = np.arange(n_years)[:, None] - np.arange(n_years)[None, :]
    return ((age >= 0) & (age < life)).astype(float)


def replacement_purchases(required, life_years, keep_peak: bool = True):
    """Capacity bought each year so that standing capacity meets `required` [same unit].

    Capacity is kept at the running peak of the requirement (``np.maximum.accumulate``; with
    ``keep_peak=False``, `required` is the standing path itself, which may fall when retiring
    assets are not all replaced) and every asset is replaced when it retires after
    `life_years`, so purchases are the yearly increments plus the increments of one, two, ...
    lives earlier: ``P[y] = sum_j dC[y - j * life]``. `required` has years on its last axis.
    """
    need = np.maximum(required, 0.0)
    if keep_peak:
        need = np.maximum.accumulate(need, axis=-1)
    increments = np.diff(need, axis=-1, prepend=0.0)
    n_years = need.shape[-1]
    life = np.maximum(np.rint(np.asarray(life_years, dtype=float)), 1.0)[..., None, None]
    age = np.arange(n_years)[:, None] - np.arange(n_years)[None, :]
    comb = ((age >= 0) & (np.mod(age, life) == 0)).astype(float)
    return np.einsum("...yv,...v->...y", comb, increments)


def standing(additions, life_years):
    """What stands each year from yearly `additions` that each last `life_years` [same unit]."""
    return np.einsum("...yv,...v->...y", alive_matrix(additions.shape[-1], life_years), additions)


def utilisation(busy_gpus, provisioned_gpus):
    """Average busy share of a provisioned fleet [1] = mean GPUs kept busy over the year /
    GPUs provisioned; NaN where there is no fleet."""
    return np.divide(busy_gpus, provisioned_gpus, out=np.full(np.broadcast(
        busy_gpus, provisioned_gpus).shape, np.nan), where=provisioned_gpus > 0)
