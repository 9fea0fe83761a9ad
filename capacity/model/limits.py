"""Physical and political limits on the capacity a region can add: pure array functions.

Three limits, each per region and year and each optional (``inf``: none):

- **GPU allocation**: H100-equivalents delivered a year (an export cap such as the 2025 AI
  Diffusion Rule's Tier-2 allocation, or a share of world shipments). It counts every GPU
  bought, replacements included: an owned fleet whose retirements outrun the allocation shrinks.
- **Grid connection**: facility load (MW) that new datacenters can connect a year.
- **Build rate**: facility load (MW) of datacenter the country can commission a year.

Both power limits bound the growth of the facility load built (the running peak); the tighter
one binds. What the limits leave of the demand put on domestic capacity is the served share
``limited / needed`` of each (series, year): `served_share`.

Arrays have years on the last axis. The capped paths are recurrences ``C[y] = min(need[y],
C[y-1] + allowance[y] - retiring[y])``; without retirements (`capped_growth`) one min-plus
scan solves all years at once, ``C[y] = min_k (need[k] + A[y] - A[k])`` with ``A`` the
cumulative allowance; with retirements after a life of L years (`capped_stock`) the retiring
purchases of a block of L years are known from the block before, so the scan runs once per
block of a life (two blocks for a ten-year horizon of five-year servers), never per year.
"""

from __future__ import annotations

import numpy as np

LIMITS = ("gpu_allocation", "grid_connection", "build_rate")
"""Row columns ``limit_<name>`` carry each limit per row (inf: none)."""
LIMIT_NAMES = {"gpu_allocation": "GPU allocation", "grid_connection": "Grid connection",
               "build_rate": "Build rate"}


def capped_growth(need: np.ndarray, allowance: np.ndarray, start: np.ndarray | float = 0.0,
                  retiring: np.ndarray | None = None) -> np.ndarray:
    """The largest path ``C <= need`` that grows at most `allowance` a year, less what is
    `retiring` (replaced only within the allowance), from `start` before the first year.

    ``C[y] = min(need[y], C[y-1] + allowance[y] - retiring[y])``, solved for all years at
    once as ``min(A[y] + start, min_{k<=y} (need[k] - A[k]) + A[y])`` with ``A`` the cumulative
    net allowance. Never below zero.
    """
    retiring = np.zeros_like(need) if retiring is None else retiring
    # a year without a limit lets the path reach the need: an allowance above any need
    unlimited = 2.0 * np.max(np.abs(need), axis=-1, keepdims=True) + retiring.sum(axis=-1, keepdims=True) + 1.0
    allowance = np.broadcast_to(allowance, need.shape)
    # (an allowance above that is the same: capping it keeps the sums at the need's scale)
    net = np.minimum(allowance, unlimited) - retiring
    total = np.cumsum(net, axis=-1)
    from_need = np.minimum.accumulate(need - total, axis=-1) + total
    from_start = np.asarray(start, dtype=float)[..., None] + total
    path = np.minimum(np.minimum(from_need, from_start), need)
    return np.maximum(path, 0.0)


def capped_stock(need: np.ndarray, allowance: np.ndarray, life_years: np.ndarray) -> np.ndarray:
    """The largest standing stock ``<= need`` when purchases, replacements included, may not
    exceed `allowance` a year and each purchase retires after `life_years` (per series, the
    leading axes; rounded to whole years, at least one).

    Purchases ``P[y] = C[y] - C[y-1] + P[y - L]``; within a block of the shortest life the
    retiring purchases are those of the block before, so one `capped_growth` scan a block.
    """
    need = np.asarray(need, dtype=float)
    n_years = need.shape[-1]
    life = np.maximum(np.rint(np.asarray(life_years, dtype=float)), 1.0).astype(int)
    life = np.broadcast_to(life, need.shape[:-1])
    block = int(life.min()) if life.size else n_years
    path = np.zeros_like(need)
    bought = np.zeros_like(need)
    years = np.arange(n_years)
    for first in range(0, n_years, block):          # one pass per block of a life, not per year
        span = slice(first, min(first + block, n_years))
        lagged = years[span][None, :] - life.reshape(-1, 1)
        flat_bought = bought.reshape(-1, n_years)
        retiring = np.where(lagged >= 0, np.take_along_axis(
            flat_bought, np.maximum(lagged, 0), axis=-1), 0.0).reshape(need.shape[:-1] + (-1,))
        before = path[..., first - 1] if first > 0 else np.zeros(need.shape[:-1])
        path[..., span] = capped_growth(need[..., span], allowance[..., span], before, retiring)
        previous = np.concatenate([before[..., None], path[..., span][..., :-1]], axis=-1)
        bought[..., span] = path[..., span] - previous + retiring
    return path


def served_share(limited: np.ndarray, needed: np.ndarray) -> np.ndarray:
    """Share of the needed capacity the limits leave [1]: 1 where nothing is needed, and where
    the limited path falls short of the need only by rounding (a relative 1e-9)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(needed > 0, limited / needed, 1.0)
    share = np.clip(np.nan_to_num(share, nan=1.0), 0.0, 1.0)
    return np.where(share > 1.0 - 1e-9, 1.0, share)
