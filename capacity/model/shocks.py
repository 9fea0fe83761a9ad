"""Access shocks as arrays over rows: what each route can still serve, at what price.

A scenario's `shocks` (`capacity.data.scenario.models.Shock`) are compiled once into arrays
over the rows (scenario x region x year x use case), by route (`ROUTES`) and tier: one mask
per shock definition, no loop over rows or years. A route is hit by a shock that names it, or
by one that names ``exposed`` when the route is exposed to access shocks (`exposed`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.scenario.models import ROUTES, Case
from .cells import TIERS, _f


@dataclass
class Events:
    """Shocks compiled over rows. Routes index the first axis (`ROUTES`)."""

    cut: np.ndarray          # (routes, rows, tiers): share of the route's demand withdrawn
    price: np.ndarray        # (routes, rows): price multiplier
    quota: np.ndarray        # (routes, rows): tokens a year the route may serve in the cell (inf: none)
    open_share: np.ndarray   # (rows,): share of frontier-tier work open-weight models can serve
    start: np.ndarray        # (rows,): first year of the earliest shock in force (NaN: none)

    @classmethod
    def none(cls, n_rows: int) -> "Events":
        return cls(np.zeros((len(ROUTES), n_rows, len(TIERS))), np.ones((len(ROUTES), n_rows)),
                   np.full((len(ROUTES), n_rows), np.inf), np.ones(n_rows), np.full(n_rows, np.nan))

    @property
    def any(self) -> bool:
        return bool(np.isfinite(self.start).any())


def exposed(rows: pd.DataFrame, pooled_exposed: np.ndarray | None = None) -> np.ndarray:
    """(routes, rows) True where the route is exposed to access shocks: the API abroad always;
    rented or hosted capacity unless it stands in a domestic region under an access agreement;
    owned capacity never; a pooled machine where `pooled_exposed` says (abroad without an
    access agreement)."""
    hosted_safe = (_f(rows, "ho_domestic") > 0.5) & (_f(rows, "ho_access_agreement") > 0.5)
    pooled = np.zeros(len(rows), bool) if pooled_exposed is None else pooled_exposed
    return np.stack([np.ones(len(rows), bool), ~hosted_safe, np.zeros(len(rows), bool), pooled])


def compile_shocks(cases: dict[str, Case], rows: pd.DataFrame,
                   shocks_of: dict[str, list] | None = None,
                   pooled_exposed: np.ndarray | None = None) -> Events:
    """The shocks of every case (or `shocks_of[case]`, for the robustness matrix) over `rows`."""
    events = Events.none(len(rows))
    scenario = rows["scenario"].to_numpy()
    year = rows["year"].to_numpy()
    use_case = rows["use_case"].to_numpy()
    exposure = exposed(rows, pooled_exposed)
    for name, case in cases.items():
        for shock in (shocks_of or {}).get(name, case.shocks):
            end = np.inf if shock.end is None else shock.end
            active = (scenario == name) & (year >= shock.start) & (year <= end)
            if shock.use_cases is not None and shock.kind == "cutoff":
                active &= np.isin(use_case, shock.use_cases)
            if not active.any():
                continue
            hit = np.zeros((len(ROUTES), len(rows)), bool)
            for route in shock.routes:
                hit |= exposure if route == "exposed" else (np.arange(len(ROUTES)) == ROUTES.index(route))[:, None]
            hit &= active[None, :]
            if shock.kind == "cutoff":
                tiers = np.isin(np.array(TIERS), shock.tiers)
                events.cut = np.maximum(events.cut, (hit[:, :, None] & tiers[None, None, :]).astype(float))
            elif shock.kind == "price":
                events.price = np.where(hit, events.price * shock.multiplier, events.price)
            elif shock.kind == "quota":
                events.quota = np.where(hit, np.minimum(events.quota, shock.quota), events.quota)
            else:  # open-lag: a property of open-weight models, whatever route serves them
                events.open_share = np.where(active, np.minimum(events.open_share, shock.open_share),
                                             events.open_share)
            events.start = np.where(active, np.fmin(events.start, shock.start), events.start)
    return events


def ramp(year: np.ndarray, start: np.ndarray, ramp_time: np.ndarray | float) -> np.ndarray:
    """Share of a year a fallback route serves, when it takes `ramp_time` years from the start
    of the shock (at the start of year `start`) to take over: ``clip(year + 1 - start -
    ramp_time, 0, 1)``; 1 where no shock is in force (a planned hand-over has no ramp)."""
    share = np.clip(year + 1.0 - start - ramp_time, 0.0, 1.0)
    return np.where(np.isnan(start), 1.0, share)
