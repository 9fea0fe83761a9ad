"""The grid the chain pools rows on: (series, tier, year) cells, and row-column readers.

A series is one scenario (variant) x region; rows (scenario x region x year x use case) map to
cells by integer index, and sums over rows are one `bincount` each (no loop over rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from .stages import fleet

TIERS = ("frontier", "open")

@dataclass
class Cells:
    """Index arithmetic for the (series, tier, year) grid the fleet is pooled on."""

    series: np.ndarray          # per row: series index
    year_index: np.ndarray      # per row: year - first grid year
    n_series: int
    n_years: int
    first_grid_year: int

    @classmethod
    def from_rows(cls, rows: pd.DataFrame) -> "Cells":
        key = rows["scenario"].astype(str) + "\x1f" + rows["region"].astype(str)
        series, _ = pd.factorize(key, sort=False)
        years = rows["year"].to_numpy(dtype=int)
        first = int(years.min())
        return cls(series.astype(np.int64), years - first, int(series.max()) + 1,
                   int(years.max()) - first + 1, first)

    def tier_cell(self) -> np.ndarray:
        """(rows, tiers) flat index into an (S, T, Y) grid (computed once; read-only)."""
        return self._tier_cell

    def series_cell(self) -> np.ndarray:
        """Per row flat index into an (S, Y) grid (computed once; read-only)."""
        return self._series_cell

    @cached_property
    def _tier_cell(self) -> np.ndarray:
        tiers = np.arange(len(TIERS))[None, :]
        cell = (self.series[:, None] * len(TIERS) + tiers) * self.n_years + self.year_index[:, None]
        cell.flags.writeable = False
        return cell

    @cached_property
    def _flat_tier_cell(self) -> np.ndarray:
        return self._tier_cell.ravel()

    @cached_property
    def _series_cell(self) -> np.ndarray:
        cell = self.series * self.n_years + self.year_index
        cell.flags.writeable = False
        return cell

    def sum_tiers(self, values: np.ndarray) -> np.ndarray:
        """Sum (rows, tiers) values into the (S, T, Y) grid."""
        total = fleet.group_sum(values.ravel(), self._flat_tier_cell,
                                self.n_series * len(TIERS) * self.n_years)
        return total.reshape(self.n_series, len(TIERS), self.n_years)

    def sum_series(self, values: np.ndarray) -> np.ndarray:
        """Sum per-row values (or (rows, tiers) values) into the (S, Y) grid."""
        values = values.sum(axis=1) if values.ndim == 2 else values
        total = fleet.group_sum(values, self.series_cell(), self.n_series * self.n_years)
        return total.reshape(self.n_series, self.n_years)

    def tier_value(self, values: np.ndarray) -> np.ndarray:
        """A per-(row, tier) setting on the (S, T, Y) grid: the largest of a cell's rows
        (rows of one cell share it, except replica sizes, where the largest is the one sized)."""
        out = np.full(self.n_series * len(TIERS) * self.n_years, np.nan)
        values = np.broadcast_to(values, self.tier_cell().shape)
        np.fmax.at(out, self._flat_tier_cell, values.ravel())
        return out.reshape(self.n_series, len(TIERS), self.n_years)

    def series_value(self, values: np.ndarray) -> np.ndarray:
        """A per-row setting constant within a (series, year) cell, on the (S, Y) grid."""
        out = np.full(self.n_series * self.n_years, np.nan)
        out[self.series_cell()] = values
        return out.reshape(self.n_series, self.n_years)

    def present(self) -> np.ndarray:
        """(S, Y) True where the series has rows in that year."""
        out = np.zeros(self.n_series * self.n_years, dtype=bool)
        out[self.series_cell()] = True
        return out.reshape(self.n_series, self.n_years)


def _col(rows: pd.DataFrame, name: str) -> np.ndarray:
    return rows[name].to_numpy()


def _f(rows: pd.DataFrame, name: str) -> np.ndarray:
    return rows[name].to_numpy(dtype=float)


