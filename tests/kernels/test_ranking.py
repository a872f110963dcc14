"""The top-k kernel equals its NumPy twin (a full lexsort) on drawn inputs with many ties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.kernels.ranking import _top_k_rows, top_k_rows


def numpy_top_k(scores, k, tie_key, tie_sign):
    """Sort every row completely by (score desc, tie_sign * tie_key desc, column asc); keep k."""
    cols = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    order = np.lexsort((cols, -tie_sign * tie_key, -scores), axis=1)  # last key is the primary one
    return order[:, :k]


@settings(max_examples=60, deadline=None)
@given(
    n_rows=st.integers(0, 6),
    n_cols=st.integers(1, 40),
    k_frac=st.floats(0, 1),
    n_levels=st.sampled_from([1, 2, 3, 50]),
    tie_sign=st.sampled_from([-1, 0, 1]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**31 - 1),
)
def test_top_k_rows_equals_lexsort(n_rows, n_cols, k_frac, n_levels, tie_sign, dtype, seed):
    rng = np.random.default_rng(seed)
    k = 1 + int(k_frac * (n_cols - 1))
    # few distinct levels: many ties; some -inf entries (non-candidates)
    scores = rng.integers(0, n_levels, size=(n_rows, n_cols)).astype(dtype)
    scores[rng.random((n_rows, n_cols)) < 0.1] = -np.inf
    tie_key = rng.integers(0, 3, size=(n_rows, n_cols)).astype(np.float64)
    got = top_k_rows(scores, k, tie_key, tie_sign)
    assert got.shape == (n_rows, k) and got.dtype == np.int64
    np.testing.assert_array_equal(got, numpy_top_k(scores, k, tie_key, tie_sign))


def test_top_k_rows_hand_example():
    scores = np.array([[0.5, 2.0, 2.0, -1.0, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0]])
    key = np.array([[0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0, 0.0]])
    # equal scores: lower column first
    np.testing.assert_array_equal(top_k_rows(scores, 3, scores, 0), [[1, 2, 4], [0, 1, 2]])
    # equal scores: larger key first (optimistic for relevance), then lower column
    np.testing.assert_array_equal(top_k_rows(scores, 3, key, 1), [[2, 1, 4], [1, 3, 0]])
    # equal scores: smaller key first (pessimistic)
    np.testing.assert_array_equal(top_k_rows(scores, 4, key, -1), [[1, 4, 2, 0], [0, 2, 4, 1]])


@pytest.mark.parametrize("n_cols", [1, 7, 64])
def test_top_k_rows_full_length_is_a_sort(n_cols):
    rng = np.random.default_rng(n_cols)
    scores = rng.standard_normal((5, n_cols))
    np.testing.assert_array_equal(top_k_rows(scores, n_cols, scores, 0), np.argsort(-scores, axis=1))


def test_plain_function_equals_jitted():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(4, 12)).astype(np.float64)
    np.testing.assert_array_equal(_top_k_rows(scores, 5, scores, 0), top_k_rows(scores, 5, scores, 0))


@pytest.mark.parametrize("k", [1, 2, 12, 13, 50])  # 4k < 50 uses the heap, 4k >= 50 the full sort
@pytest.mark.parametrize("tie_sign", [-1, 0, 1])
def test_both_paths_on_heavy_ties(k, tie_sign):
    rng = np.random.default_rng(k)
    scores = rng.integers(0, 3, size=(20, 50)).astype(np.float32)
    scores[:, ::7] = -np.inf
    tie_key = (rng.random((20, 50)) < 0.3).astype(np.float64)
    expected = numpy_top_k(scores, k, tie_key, tie_sign)
    np.testing.assert_array_equal(top_k_rows(scores, k, tie_key, tie_sign), expected)
    np.testing.assert_array_equal(_top_k_rows(scores, k, tie_key, tie_sign), expected)
