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
        column = lambda name: (rows[name].array if isinstance(rows[name].dtype, pd.CategoricalDtype)
                               else rows[name].to_numpy())      # a categorical by its codes
        _, series = distinct_rows([column("scenario"), column("region")])
        years = rows["year"].to_numpy(dtype=int)
        first = int(years.min())
        return cls(series.astype(np.int64), years - first, int(series.max()) + 1,
                   int(years.max()) - first + 1, first)

    def once(self, key: tuple, make):
        """`make()` computed once for this grid (one evaluation of the chain) per `key`, which
        names everything it depends on; the arrays it returns are made read-only."""
        found = self._once.get(key)
        if found is None:
            found = make()
            for value in (found.values() if isinstance(found, dict) else [found]):
                if isinstance(value, np.ndarray):
                    value.flags.writeable = False
            self._once[key] = found
        return found

    def tier_setting(self, rows: pd.DataFrame, name: str) -> np.ndarray:
        """`tier_value` of the rows' column `name` (one value for both tiers), once per grid."""
        return self.once(("tier", id(rows), name), lambda: self.tier_value(_f(rows, name)[:, None]))

    def series_setting(self, rows: pd.DataFrame, name: str) -> np.ndarray:
        """`series_value` of the rows' column `name`, once per grid."""
        return self.once(("series", id(rows), name), lambda: self.series_value(_f(rows, name)))

    @cached_property
    def _once(self) -> dict:
        return {}

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
        if values.ndim == 2:     # tiers added column by column: sum(axis=1) over a short inner
            total = values[:, 0].copy()     # axis is ~10x slower, and two tiers add the same either way
            for tier in range(1, values.shape[1]):
                total += values[:, tier]
            values = total
        total = fleet.group_sum(values, self.series_cell(), self.n_series * self.n_years)
        return total.reshape(self.n_series, self.n_years)

    def tier_value(self, values: np.ndarray) -> np.ndarray:
        """A per-(row, tier) setting on the (S, T, Y) grid: the largest of a cell's rows
        (rows of one cell share it, except replica sizes, where the largest is the one sized).
        Each tier's column is reduced over the rows' (series, year) segments."""
        out = np.full(self.n_series * len(TIERS) * self.n_years, np.nan)
        if np.ndim(values) == 2 and np.shape(values)[1] == 1:   # one value for both tiers
            largest = self._cell_max(values[:, 0])
            for tier_cells in self._tier_cells:
                out[tier_cells] = largest
        else:
            values = np.broadcast_to(values, (len(self.series), len(TIERS)))
            for tier, tier_cells in enumerate(self._tier_cells):
                out[tier_cells] = self._cell_max(values[:, tier])
        return out.reshape(self.n_series, len(TIERS), self.n_years)

    @cached_property
    def _tier_cells(self) -> list[np.ndarray]:
        """For each tier, the flat (S, T, Y) index of each (series, year) cell that has rows."""
        _, _, cell = self._series_segments
        series, year = np.divmod(cell, self.n_years)
        return [(series * len(TIERS) + tier) * self.n_years + year for tier in range(len(TIERS))]

    def _cell_max(self, column: np.ndarray) -> np.ndarray:
        """The largest value (NaN ignored) of each (series, year) cell's rows, cell by cell."""
        order, starts, cell = self._series_segments
        if len(column) and (column == column[0]).all():         # one value everywhere (most settings)
            return np.full(len(cell), column[0])
        return np.fmax.reduceat(column if order is None else column[order], starts)

    @cached_property
    def _series_segments(self) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """The rows in (series, year) cell order (None: already so), where each cell's run
        starts, and its cell."""
        return _segments(self._series_cell)

    def series_value(self, values: np.ndarray) -> np.ndarray:
        """A per-row setting constant within a (series, year) cell, on the (S, Y) grid (read
        from one row of each cell: the last, as a scatter of every row would leave it)."""
        out = np.full(self.n_series * self.n_years, np.nan)
        if np.ndim(values) == 1 and len(values) == len(self.series):
            cell, row = self._one_row_per_cell
            out[cell] = values[row]
        else:
            out[self.series_cell()] = values
        return out.reshape(self.n_series, self.n_years)

    @cached_property
    def _one_row_per_cell(self) -> tuple[np.ndarray, np.ndarray]:
        """Each (series, year) cell that has rows, and its last row."""
        last = np.full(self.n_series * self.n_years, -1, dtype=np.int64)
        last[self._series_cell] = np.arange(len(self.series))
        cell = np.flatnonzero(last >= 0)
        return cell, last[cell]

    def present(self) -> np.ndarray:
        """(S, Y) True where the series has rows in that year."""
        out = np.zeros(self.n_series * self.n_years, dtype=bool)
        out[self.series_cell()] = True
        return out.reshape(self.n_series, self.n_years)


def _segments(cell: np.ndarray) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Entries sorted by `cell` (None when they already are), where each cell's run starts, and
    that cell (for reduceat)."""
    if len(cell) and (cell[1:] >= cell[:-1]).all():
        order, ordered = None, cell
    else:
        order = np.argsort(cell, kind="stable")
        ordered = cell[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return order, starts, ordered[starts]


def _col(rows: pd.DataFrame, name: str) -> np.ndarray:
    return rows[name].to_numpy()


def ids(rows: pd.DataFrame, name: str) -> pd.Categorical:
    """A text column of ids as a categorical (integer codes into its distinct ids): the rows'
    own codes when the column is categorical (`rows.with_id_codes`), else factorised here."""
    column = rows[name]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.array
    return pd.Categorical(column.to_numpy(dtype=object))


def codes_of(values) -> tuple[np.ndarray, int]:
    """Integer codes of any column and how many codes there are, codes from 0: a
    categorical's own, a ``(codes, count)`` pair as given (see `combined_codes`), else the
    column factorised (NaN as one value)."""
    if isinstance(values, tuple):
        return values
    if isinstance(values, pd.Categorical):
        return values.codes.astype(np.int64) + 1, len(values.categories) + 1
    array = np.asarray(values).ravel()
    if array.dtype.kind in "fiub" and len(array) and (array == array[0]).all():
        return np.ones(len(array), dtype=np.int64), 2    # one value (most settings): as factorised
    codes, uniques = pd.factorize(array, use_na_sentinel=True)
    return codes.astype(np.int64) + 1, len(uniques) + 1


def combined_codes(columns: list) -> tuple[np.ndarray, int]:
    """One code per row for its combination of values in `columns` (anything `codes_of`
    reads), codes ``0..count-1`` in order of first appearance, and ``count``. The columns'
    codes combine as digits of one integer key."""
    key, size = None, 1
    for column in columns:
        codes, count = codes_of(column)
        if key is None:
            key = np.zeros(len(codes), dtype=np.int64)
        if size * count >= 2**62:                      # keep the key in int64
            key, uniques = pd.factorize(key)
            size = len(uniques)
        key, size = key * count + codes, size * count
    codes, uniques = pd.factorize(key)
    return codes.astype(np.int64), len(uniques)


def distinct_rows(columns: list) -> tuple[np.ndarray, np.ndarray]:
    """Rows equal in every column, found once: ``(members, inverse)`` with `members` one row
    of each distinct combination and ``inverse`` each row's position among them (so
    ``values[members][inverse]`` restores a per-row array)."""
    inverse, count = combined_codes(columns)
    members = np.empty(count, dtype=np.int64)
    members[inverse] = np.arange(len(inverse))         # any member: they are identical
    return members, inverse


def _f(rows: pd.DataFrame, name: str) -> np.ndarray:
    return rows[name].to_numpy(dtype=float)


