"""Negative-sampling kernels: never a positive, the intended distribution, jit == plain Python,
the same draws as a slot-by-slot NumPy twin, and resuming when a block of uniforms runs out."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.kernels.sampling import (
    _distinct_negatives,
    _fill_negatives,
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


def fill(kernel, indptr, indices, users, n_items_or_cum, n_neg, uniforms):
    """Run a block kernel on one block of uniforms from scratch; returns ``(out, filled, used)``."""
    out = np.full((len(users), n_neg), -1, dtype=np.int32)
    filled, used = kernel(indptr, indices, users, n_items_or_cum, uniforms, out, 0)
    return out, filled, used


def numpy_twin(indptr, indices, users, n_neg, uniforms, n_items=None, cum_weights=None):
    """Slot-by-slot rejection in NumPy: ``(out, filled, used)`` as the block kernels return them."""
    out = np.full((len(users), n_neg), -1, dtype=np.int32)
    t = 0
    for slot in range(len(users) * n_neg):
        k, j = divmod(slot, n_neg)
        pos = indices[indptr[users[k]] : indptr[users[k] + 1]]
        while True:
            if t == len(uniforms):
                return out, slot, t
            if cum_weights is None:
                item = min(int(uniforms[t] * n_items), n_items - 1)
            else:
                x = uniforms[t] * cum_weights[-1]
                item = min(int(np.searchsorted(cum_weights, x, side="right")), len(cum_weights) - 1)
            t += 1
            if not np.isin(item, pos):
                break
        out[k, j] = item
    return out, len(users) * n_neg, t


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
    grouped=st.booleans(),
    seed=st.integers(0, 10**6),
)
def test_samplers_never_return_a_positive(n_users, n_items, n, n_neg, grouped, seed):
    rng = np.random.default_rng(seed)
    indptr, indices = random_positives(rng, n_users, n_items)
    users = rng.integers(0, n_users, n)  # repeated users
    if grouped:
        users = np.sort(users)  # runs of one user: the dense-mask lookups
    weights = rng.random(n_items) + 0.1
    # each candidate is accepted with probability >= 1 / 12 * 0.1 / 1.1: this is plenty
    uniforms = rng.random(n * n_neg * 400 + 50)
    outs = []
    for kernel, arg in ((uniform_negatives, n_items), (weighted_negatives, np.cumsum(weights))):
        out, filled, _ = fill(kernel, indptr, indices, users, arg, n_neg, uniforms)
        assert filled == n * n_neg
        outs.append(out)
    allowed = min(n_items - (indptr[users + 1] - indptr[users])) if n else n_neg
    if allowed >= n_neg:
        outs.append(distinct_negatives(indptr, indices, users, n_items, n_neg, np.random.default_rng(seed)))
        for row in outs[-1]:
            assert len(set(row.tolist())) == n_neg  # distinct within a row
    for out in outs:
        assert out.shape == (n, n_neg) and out.dtype == np.int32
        for k, u in enumerate(users):
            assert not np.isin(out[k], indices[indptr[u] : indptr[u + 1]]).any()
            assert ((0 <= out[k]) & (out[k] < n_items)).all()


@settings(max_examples=30)
@given(
    n_users=st.integers(1, 5),
    n_items=st.integers(1, 40),
    n=st.integers(0, 60),
    n_neg=st.integers(1, 3),
    grouped=st.booleans(),
    n_uniforms=st.integers(0, 400),
    seed=st.integers(0, 10**6),
)
def test_block_kernels_match_the_numpy_twin(n_users, n_items, n, n_neg, grouped, n_uniforms, seed):
    # same items, same number of uniforms used, same stopping slot when the block runs out;
    # grouped users go through the dense-mask lookups, shuffled ones through binary search
    rng = np.random.default_rng(seed)
    indptr, indices = random_positives(rng, n_users, n_items)
    users = rng.integers(0, n_users, n)
    if grouped:
        users = np.sort(users)
    uniforms = rng.random(n_uniforms)
    uniforms[rng.random(n_uniforms) < 0.05] = np.nextafter(1.0, 0.0)  # largest uniform: round-up guard
    cum = np.cumsum(rng.random(n_items) * (rng.random(n_items) < 0.8))  # some zero weights
    got = fill(uniform_negatives, indptr, indices, users, n_items, n_neg, uniforms)
    want = numpy_twin(indptr, indices, users, n_neg, uniforms, n_items=n_items)
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1:] == want[1:]
    if cum[-1] > 0:
        got = fill(weighted_negatives, indptr, indices, users, cum, n_neg, uniforms)
        want = numpy_twin(indptr, indices, users, n_neg, uniforms, cum_weights=cum)
        np.testing.assert_array_equal(got[0], want[0])
        assert got[1:] == want[1:]


@pytest.mark.parametrize("kernel", ["uniform", "weighted"])
def test_resuming_with_fresh_blocks_equals_one_long_block(kernel):
    # user 0 owns every item of 40 but item 7 (about 40 candidates per negative), user 1 nothing
    n_items = 40
    indptr = np.array([0, n_items - 1, n_items - 1], dtype=np.int64)
    indices = np.delete(np.arange(n_items), 7).astype(np.int32)
    users = np.array([0, 0, 1, 0, 1, 1, 0, 0] * 5, dtype=np.int64)
    n_neg = 2
    arg = n_items if kernel == "uniform" else np.cumsum(np.ones(n_items))
    func = uniform_negatives if kernel == "uniform" else weighted_negatives
    rng = np.random.default_rng(11)
    blocks = [rng.random(37) for _ in range(400)]
    one, filled_one, used_one = fill(func, indptr, indices, users, arg, n_neg, np.concatenate(blocks))
    assert filled_one == users.size * n_neg  # the long block is enough
    out = np.full((len(users), n_neg), -1, dtype=np.int32)
    filled, n_calls, total_used = 0, 0, 0
    while filled < out.size:
        before = filled
        filled, used = func(indptr, indices, users, arg, blocks[n_calls], out, filled)
        assert filled >= before and (filled == out.size or used == len(blocks[n_calls]))
        total_used += used
        n_calls += 1
    assert n_calls > 5  # the path under test: blocks ran out many times
    np.testing.assert_array_equal(out, one)
    assert total_used == used_one
    assert (out[users == 0] == 7).all() and (out[users == 1] != -1).all()


def test_jitted_and_plain_kernels_draw_the_same_numbers():
    rng = np.random.default_rng(0)
    indptr, indices = random_positives(rng, 5, 30)
    users = np.array([0, 1, 2, 3, 4, 0, 0] + [2] * 20, dtype=np.int64)  # a run: the mask path
    cum = np.cumsum(np.arange(1, 31, dtype=np.float64))
    uniforms = np.random.default_rng(7).random(2000)
    for jitted, plain, arg in (
        (uniform_negatives, _uniform_negatives, 30),
        (weighted_negatives, _weighted_negatives, cum),
    ):
        a = fill(jitted, indptr, indices, users, arg, 3, uniforms)
        b = fill(plain, indptr, indices, users, arg, 3, uniforms)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:] == b[1:] and a[1] == users.size * 3
    # the shared core without weights is the uniform kernel
    out = np.empty((len(users), 3), np.int32)
    used = _fill_negatives(indptr, indices, users, 30, np.empty(0), uniforms, out, 0)
    expected = fill(uniform_negatives, indptr, indices, users, 30, 3, uniforms)
    np.testing.assert_array_equal(out, expected[0])
    assert used == expected[1:]
    a = distinct_negatives(indptr, indices, users, 30, 3, np.random.default_rng(7))
    b = _distinct_negatives(indptr, indices, users, 30, 3, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_uniform_distribution_over_non_positives():
    # one user with positives {0, 2}: negatives uniform on {1, 3, 4}
    indptr = np.array([0, 2], dtype=np.int64)
    indices = np.array([0, 2], dtype=np.int32)
    uniforms = np.random.default_rng(1).random(60_000)
    out, filled, _ = fill(uniform_negatives, indptr, indices, np.zeros(30_000, np.int64), 5, 1, uniforms)
    assert filled == 30_000
    freq = np.bincount(out.ravel(), minlength=5) / out.size
    np.testing.assert_allclose(freq, [0, 1 / 3, 0, 1 / 3, 1 / 3], atol=0.015)


def test_weighted_distribution_renormalizes_over_non_positives():
    # weights 1,2,3,4 ; positive {3}: p = (1,2,3,0)/6
    indptr = np.array([0, 1], dtype=np.int64)
    indices = np.array([3], dtype=np.int32)
    cum = np.cumsum([1.0, 2.0, 3.0, 4.0])
    uniforms = np.random.default_rng(2).random(60_000)
    out, filled, _ = fill(weighted_negatives, indptr, indices, np.zeros(30_000, np.int64), cum, 1, uniforms)
    assert filled == 30_000
    freq = np.bincount(out.ravel(), minlength=4) / out.size
    np.testing.assert_allclose(freq, [1 / 6, 2 / 6, 3 / 6, 0], atol=0.015)


def test_zero_weight_items_are_never_drawn():
    indptr = np.array([0, 0], dtype=np.int64)
    indices = np.zeros(0, dtype=np.int32)
    cum = np.cumsum([0.0, 1.0, 0.0, 1.0])
    uniforms = np.random.default_rng(3).random(2000)
    out, filled, _ = fill(weighted_negatives, indptr, indices, np.zeros(2000, np.int64), cum, 1, uniforms)
    assert filled == 2000
    assert set(np.unique(out).tolist()) == {1, 3}


def test_empty_batch():
    indptr = np.array([0, 0], dtype=np.int64)
    no_users, no_pos = np.zeros(0, np.int64), np.zeros(0, np.int32)
    out, filled, used = fill(uniform_negatives, indptr, no_pos, no_users, 3, 2, np.zeros(0))
    assert out.shape == (0, 2) and filled == used == 0
