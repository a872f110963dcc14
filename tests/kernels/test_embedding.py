"""The embedding kernels equal their vectorized NumPy twins (repeated rows, empty, one row)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinyrec.kernels.embedding import coalesce_rows, gather_rows, index_span, sum_repeats


def numpy_coalesce(indices, values):
    rows, inverse = np.unique(indices, return_inverse=True)
    summed = np.zeros((len(rows), values.shape[1]), dtype=values.dtype)
    np.add.at(summed, inverse, values)
    return rows, summed


@given(
    n=st.integers(0, 60),
    n_rows=st.integers(1, 8),
    dim=st.integers(1, 5),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**31 - 1),
)
def test_coalesce_rows_equals_unique_add_at(n, n_rows, dim, dtype, seed):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, n_rows, size=n).astype(np.int64)  # few rows: many repeats
    values = rng.standard_normal((n, dim)).astype(dtype)
    rows, summed = coalesce_rows(indices, values)
    ref_rows, ref_summed = numpy_coalesce(indices, values)
    np.testing.assert_array_equal(rows, ref_rows)
    assert summed.dtype == dtype
    np.testing.assert_allclose(summed, ref_summed, rtol=1e-6 if dtype == np.float32 else 1e-12)


def test_coalesce_rows_hand_example():
    indices = np.array([3, 1, 3, 3], dtype=np.int64)
    values = np.array([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0], [1000.0, 2000.0]])
    rows, summed = coalesce_rows(indices, values)
    np.testing.assert_array_equal(rows, [1, 3])
    np.testing.assert_array_equal(summed, [[10.0, 20.0], [1101.0, 2202.0]])


def test_coalesce_rows_empty_and_single():
    rows, summed = coalesce_rows(np.zeros(0, dtype=np.int64), np.zeros((0, 4)))
    assert rows.shape == (0,) and summed.shape == (0, 4)
    rows, summed = coalesce_rows(np.array([7], dtype=np.int64), np.ones((1, 2)))
    np.testing.assert_array_equal(rows, [7])
    np.testing.assert_array_equal(summed, [[1.0, 1.0]])


@given(n=st.integers(0, 30), n_rows=st.integers(1, 10), dim=st.integers(1, 4), seed=st.integers(0, 10**6))
def test_gather_rows_equals_fancy_indexing(n, n_rows, dim, seed):
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((n_rows, dim)).astype(np.float32)
    indices = rng.integers(0, n_rows, size=n).astype(np.int64)
    np.testing.assert_array_equal(gather_rows(table, indices), table[indices])


@given(
    n=st.integers(0, 60),
    n_rows=st.integers(1, 8),
    dim=st.integers(1, 5),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**31 - 1),
)
def test_sum_repeats_gives_coalesce_rows_sums_in_first_occurrence_order(n, n_rows, dim, dtype, seed):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, n_rows, size=n).astype(np.int64)
    values = rng.standard_normal((n, dim)).astype(dtype)
    rows, summed = sum_repeats(indices, values)
    _, first = np.unique(indices, return_index=True)
    np.testing.assert_array_equal(rows, indices[np.sort(first)])  # distinct, in order of appearance
    sorted_rows, sorted_summed = coalesce_rows(indices, values)
    order = np.argsort(rows)
    np.testing.assert_array_equal(rows[order], sorted_rows)
    assert summed.dtype == dtype
    np.testing.assert_array_equal(summed[order], sorted_summed)  # the same sums, bit for bit


def test_sum_repeats_hand_example_and_colliding_ids():
    indices = np.array([3, 1, 3, 3], dtype=np.int64)
    values = np.array([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0], [1000.0, 2000.0]])
    rows, summed = sum_repeats(indices, values)
    np.testing.assert_array_equal(rows, [3, 1])
    np.testing.assert_array_equal(summed, [[1101.0, 2202.0], [10.0, 20.0]])
    # ids that share their low bits land in the same hash slot: probing keeps them apart
    indices = np.array([0, 1 << 20, 2 << 20, 0, 3 << 20, 1 << 20], dtype=np.int64)
    rows, summed = sum_repeats(indices, np.ones((6, 1)))
    np.testing.assert_array_equal(rows, [0, 1 << 20, 2 << 20, 3 << 20])
    np.testing.assert_array_equal(summed[:, 0], [2, 2, 1, 1])


def test_both_sums_start_from_their_first_vector_so_they_agree_on_the_sign_of_zero():
    # 0.0 + (-0.0) is 0.0: a sum started from zeros would turn a group of -0.0s into 0.0
    indices = np.array([4, 2, 4, 2], dtype=np.int64)
    values = np.array([[-0.0, 1.0], [-0.0, -0.0], [-0.0, -1.0], [-0.0, 0.0]], dtype=np.float32)
    rows, summed = coalesce_rows(indices, values)
    np.testing.assert_array_equal(rows, [2, 4])
    np.testing.assert_array_equal(np.signbit(summed), [[True, False], [True, False]])
    rows, summed = sum_repeats(indices, values)
    np.testing.assert_array_equal(rows, [4, 2])
    np.testing.assert_array_equal(np.signbit(summed), [[True, False], [True, False]])


@given(indices=st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=30))
def test_index_span_equals_min_and_max(indices):
    indices = np.array(indices, dtype=np.int64)
    assert index_span(indices) == (indices.min(), indices.max())
