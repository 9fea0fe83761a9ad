"""Rows found once by their codes (`cells.distinct_rows`): the de-duplication the throughput
stage and the grid rely on."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.model.cells import combined_codes, distinct_rows

values = st.one_of(st.integers(-3, 3).map(float), st.just(np.nan), st.just(0.5))
texts = st.sampled_from(["h100-sxm", "b200", "mi300x", "fp8"])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(
    st.lists(values, min_size=n, max_size=n), st.lists(values, min_size=n, max_size=n),
    st.lists(texts, min_size=n, max_size=n))))
def test_rows_with_one_code_are_equal_and_rows_with_two_differ(columns):
    numbers_a, numbers_b, names = np.array(columns[0], dtype=float), np.array(columns[1], dtype=float), columns[2]
    categorical = pd.Categorical(names)
    members, inverse = distinct_rows([numbers_a, categorical, numbers_b])
    frame = pd.DataFrame({"a": numbers_a, "n": names, "b": numbers_b})
    expected = frame.groupby(["a", "n", "b"], sort=False, dropna=False).ngroup().to_numpy()
    # the same partition of the rows as pandas' groupby (NaN equal to NaN), in first-seen order
    assert np.array_equal(inverse, expected)
    restored = frame.iloc[members[inverse]].reset_index(drop=True)
    pd.testing.assert_frame_equal(restored, frame)


def test_a_precomputed_key_combines_like_its_columns():
    a = np.array([1.0, 1.0, 2.0, 2.0, 1.0])
    b = pd.Categorical(["x", "y", "x", "x", "x"])
    c = np.array([0.5, 0.5, 0.5, 0.7, 0.5])
    whole = combined_codes([a, b, c])
    staged = combined_codes([combined_codes([a, b]), c])
    assert np.array_equal(whole[0], staged[0]) and whole[1] == staged[1] == 4
