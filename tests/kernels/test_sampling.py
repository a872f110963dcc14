"""Negative-sampling kernels: never a positive, the intended distribution, jit == plain Python."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.kernels.sampling import (
    _distinct_negatives,
    _uniform_negatives,
    _weighted_negatives,
    contains,
    distinct_negatives,
    uniform_negatives,
    weighted_negatives,
)


def random_positives(rng, n_users, n_items):
    """Sorted repeat-free positives per user, each user missing at least one item."""
    rows = []
    for _ in range(n_users):
        k = int(rng.integers(0, n_items))  # at most n_items - 1 positives
        rows.append(np.sort(rng.choice(n_items, size=k, replace=False)))
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    indices = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, np.int32)
    return indptr, indices


@settings(max_examples=30)
@given(
    n_users=st.integers(1, 6), n_items=st.integers(1, 12), n=st.integers(0, 20), seed=st.integers(0, 10**6)
)
def test_contains_equals_isin(n_users, n_items, n, seed):
    rng = np.random.default_rng(seed)
    indptr, indices = random_positives(rng, n_users, n_items)
    for u in range(n_users):
        for x in range(n_items):
            expected = x in indices[indptr[u] : indptr[u + 1]]
            assert contains(indices, indptr[u], indptr[u + 1], x) == expected


@settings(max_examples=30)
@given(
    n_users=st.integers(1, 6),
    n_items=st.integers(1, 12),
    n=st.integers(0, 25),
    n_neg=st.integers(1, 4),
    seed=st.integers(0, 10**6),
)
def test_samplers_never_return_a_positive(n_users, n_items, n, n_neg, seed):
    rng = np.random.default_rng(seed)
    indptr, indices = random_positives(rng, n_users, n_items)
    users = rng.integers(0, n_users, n)  # repeated users
    weights = rng.random(n_items) + 0.1
    outs = [
        uniform_negatives(indptr, indices, users, n_items, n_neg, np.random.default_rng(seed)),
        weighted_negatives(indptr, indices, users, np.cumsum(weights), n_neg, np.random.default_rng(seed)),
    ]
    allowed_distinct = min(n_items - (indptr[users + 1] - indptr[users])) if n else n_neg
    if allowed_distinct >= n_neg:
        outs.append(distinct_negatives(indptr, indices, users, n_items, n_neg, np.random.default_rng(seed)))
    for out in outs:
        assert out.shape == (n, n_neg) and out.dtype == np.int32
        for k, u in enumerate(users):
            assert not np.isin(out[k], indices[indptr[u] : indptr[u + 1]]).any()
            assert ((0 <= out[k]) & (out[k] < n_items)).all()
    if len(outs) == 3:
        for row in outs[2]:
            assert len(set(row.tolist())) == n_neg  # distinct within a row


def test_jitted_and_plain_kernels_draw_the_same_numbers():
    rng = np.random.default_rng(0)
    indptr, indices = random_positives(rng, 5, 30)
    users = np.array([0, 1, 2, 3, 4, 0, 0], dtype=np.int64)
    cum = np.cumsum(np.arange(1, 31, dtype=np.float64))
    pairs = [
        (uniform_negatives, _uniform_negatives, (indptr, indices, users, 30, 3)),
        (weighted_negatives, _weighted_negatives, (indptr, indices, users, cum, 3)),
        (distinct_negatives, _distinct_negatives, (indptr, indices, users, 30, 3)),
    ]
    for jitted, plain, args in pairs:
        a = jitted(*args, np.random.default_rng(7))
        b = plain(*args, np.random.default_rng(7))
        np.testing.assert_array_equal(a, b)


def test_uniform_distribution_over_non_positives():
    # one user with positives {0, 2}: negatives uniform on {1, 3, 4}
    indptr = np.array([0, 2], dtype=np.int64)
    indices = np.array([0, 2], dtype=np.int32)
    out = uniform_negatives(indptr, indices, np.zeros(30_000, np.int64), 5, 1, np.random.default_rng(1))
    freq = np.bincount(out.ravel(), minlength=5) / out.size
    np.testing.assert_allclose(freq, [0, 1 / 3, 0, 1 / 3, 1 / 3], atol=0.015)


def test_weighted_distribution_renormalizes_over_non_positives():
    # weights 1,2,3,4 ; positive {3}: p = (1,2,3,0)/6
    indptr = np.array([0, 1], dtype=np.int64)
    indices = np.array([3], dtype=np.int32)
    cum = np.cumsum([1.0, 2.0, 3.0, 4.0])
    out = weighted_negatives(indptr, indices, np.zeros(30_000, np.int64), cum, 1, np.random.default_rng(2))
    freq = np.bincount(out.ravel(), minlength=4) / out.size
    np.testing.assert_allclose(freq, [1 / 6, 2 / 6, 3 / 6, 0], atol=0.015)


def test_zero_weight_items_are_never_drawn():
    indptr = np.array([0, 0], dtype=np.int64)
    indices = np.zeros(0, dtype=np.int32)
    cum = np.cumsum([0.0, 1.0, 0.0, 1.0])
    out = weighted_negatives(indptr, indices, np.zeros(2000, np.int64), cum, 1, np.random.default_rng(3))
    assert set(np.unique(out).tolist()) == {1, 3}


def test_empty_batch():
    indptr = np.array([0, 0], dtype=np.int64)
    out = uniform_negatives(
        indptr, np.zeros(0, np.int32), np.zeros(0, np.int64), 3, 2, np.random.default_rng(0)
    )
    assert out.shape == (0, 2)
