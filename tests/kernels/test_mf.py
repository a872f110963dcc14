"""The Funk SVD kernels equal their NumPy twins.

Two twins per kernel: a loop over ratings that writes each update as one NumPy row operation (for
inputs with repeated users and items, where the order of updates matters), and a fully vectorized
step for inputs whose users and items are all distinct (then the updates are independent).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.kernels.mf import funk_svd_blocked_epoch, funk_svd_epoch, shuffle_within_blocks, user_block_order


def numpy_funk_svd_epoch(users, items, ratings, order, mu, bu, bi, P, Q, lr, reg):
    sse = 0.0
    for t in order:
        u, i = users[t], items[t]
        err = ratings[t] - (mu + bu[u] + bi[i] + P[u] @ Q[i])
        sse += err**2
        bu[u] += lr[0] * (err - reg[0] * bu[u])
        bi[i] += lr[1] * (err - reg[1] * bi[i])
        p_old, q_old = P[u].copy(), Q[i].copy()
        P[u] += lr[2] * (err * q_old - reg[2] * p_old)
        Q[i] += lr[3] * (err * p_old - reg[3] * q_old)
    return sse


def _mf_problem(rng, n, n_users, n_items, d):
    users = rng.integers(0, n_users, n).astype(np.int32)
    items = rng.integers(0, n_items, n).astype(np.int32)
    ratings = rng.integers(1, 6, n).astype(np.float64)
    bu, bi = rng.normal(0, 0.1, n_users), rng.normal(0, 0.1, n_items)
    P, Q = rng.normal(0, 0.1, (n_users, d)), rng.normal(0, 0.1, (n_items, d))
    lr = rng.uniform(0.001, 0.05, 4)
    reg = rng.uniform(0.0, 0.1, 4)
    return users, items, ratings, bu, bi, P, Q, lr, reg


@settings(max_examples=40)
@given(
    n=st.integers(0, 40),
    n_users=st.integers(1, 5),
    n_items=st.integers(1, 5),
    d=st.integers(0, 4),
    seed=st.integers(0, 2**31 - 1),
)
def test_funk_svd_epoch_equals_row_by_row_numpy(n, n_users, n_items, d, seed):
    rng = np.random.default_rng(seed)
    users, items, ratings, bu, bi, P, Q, lr, reg = _mf_problem(rng, n, n_users, n_items, d)
    order = rng.permutation(n).astype(np.int64)
    ref = [a.copy() for a in (bu, bi, P, Q)]
    sse_ref = numpy_funk_svd_epoch(users, items, ratings, order, 3.5, *ref, lr, reg)
    sse = funk_svd_epoch(users, items, ratings, order, 3.5, bu, bi, P, Q, lr, reg)
    assert np.isclose(sse, sse_ref, rtol=1e-12, atol=1e-12)
    for got, want in zip((bu, bi, P, Q), ref, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@settings(max_examples=20)
@given(n=st.integers(1, 6), d=st.integers(1, 4), seed=st.integers(0, 2**31 - 1))
def test_funk_svd_epoch_distinct_pairs_is_one_vectorized_step(n, d, seed):
    rng = np.random.default_rng(seed)
    users = rng.permutation(n).astype(np.int64)  # every user and item once: independent updates
    items = rng.permutation(n).astype(np.int64)
    _, _, ratings, bu, bi, P, Q, lr, reg = _mf_problem(rng, n, n, n, d)
    err = ratings - (3.0 + bu[users] + bi[items] + np.sum(P[users] * Q[items], axis=1))
    want_bu, want_bi, want_P, want_Q = bu.copy(), bi.copy(), P.copy(), Q.copy()
    want_bu[users] += lr[0] * (err - reg[0] * bu[users])
    want_bi[items] += lr[1] * (err - reg[1] * bi[items])
    want_P[users] += lr[2] * (err[:, None] * Q[items] - reg[2] * P[users])
    want_Q[items] += lr[3] * (err[:, None] * P[users] - reg[3] * Q[items])
    sse = funk_svd_epoch(users, items, ratings, np.arange(n, dtype=np.int64), 3.0, bu, bi, P, Q, lr, reg)
    assert np.isclose(sse, np.sum(err**2), rtol=1e-12)
    for got, want in zip((bu, bi, P, Q), (want_bu, want_bi, want_P, want_Q), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_funk_svd_epoch_float32_stays_float32_and_close_to_float64():
    rng = np.random.default_rng(0)
    users, items, ratings, bu, bi, P, Q, lr, reg = _mf_problem(rng, 200, 7, 9, 3)
    order = np.arange(200, dtype=np.int64)
    arrays32 = [a.astype(np.float32) for a in (bu, bi, P, Q)]
    funk_svd_epoch(users, items, ratings.astype(np.float32), order, 3.5, *arrays32, lr, reg)
    funk_svd_epoch(users, items, ratings, order, 3.5, bu, bi, P, Q, lr, reg)
    for a32, a64 in zip(arrays32, (bu, bi, P, Q), strict=True):
        assert a32.dtype == np.float32
        np.testing.assert_allclose(a32, a64, rtol=1e-4, atol=1e-5)


def test_funk_svd_epoch_empty_order_changes_nothing():
    rng = np.random.default_rng(1)
    users, items, ratings, bu, bi, P, Q, lr, reg = _mf_problem(rng, 5, 3, 3, 2)
    before = [a.copy() for a in (bu, bi, P, Q)]
    sse = funk_svd_epoch(users, items, ratings, np.zeros(0, dtype=np.int64), 3.0, bu, bi, P, Q, lr, reg)
    assert sse == 0.0
    for a, b in zip((bu, bi, P, Q), before, strict=True):
        np.testing.assert_array_equal(a, b)


def _blocked_problem(rng, n, n_users, n_items, d, n_blocks):
    """An MF problem with its ratings sorted into ``n_blocks × n_blocks`` blocks (random groups)."""
    users, items, ratings, bu, bi, P, Q, lr, reg = _mf_problem(rng, n, n_users, n_items, d)
    user_group = rng.integers(0, n_blocks, n_users)
    item_group = rng.integers(0, n_blocks, n_items)
    block = user_group[users] * n_blocks + item_group[items]
    by_block = np.argsort(block, kind="stable")
    users, items, ratings = users[by_block], items[by_block], ratings[by_block]
    starts = np.searchsorted(block[by_block], np.arange(n_blocks * n_blocks + 1)).astype(np.int64)
    return users, items, ratings, starts, bu, bi, P, Q, lr, reg


@settings(max_examples=30)
@given(
    n=st.integers(0, 60),
    n_users=st.integers(1, 7),
    n_items=st.integers(1, 7),
    d=st.integers(0, 4),
    n_blocks=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
)
def test_blocked_epoch_is_the_plain_epoch_over_blocks_in_stratum_order(
    n, n_users, n_items, d, n_blocks, seed
):
    """Running the blocks of each stratum one after another gives the same numbers, bit for bit:
    the blocks of a stratum share no row, so their order (and their threads) cannot matter."""
    rng = np.random.default_rng(seed)
    users, items, ratings, starts, bu, bi, P, Q, lr, reg = _blocked_problem(
        rng, n, n_users, n_items, d, n_blocks
    )
    strata = rng.permutation(n_blocks).astype(np.int64)
    ref = [a.copy() for a in (bu, bi, P, Q)]
    sse_ref = 0.0
    for s in strata:
        for g in range(n_blocks):
            b = g * n_blocks + (g + s) % n_blocks
            block = slice(starts[b], starts[b + 1])
            order = np.arange(starts[b + 1] - starts[b], dtype=np.int64)
            sse_ref += funk_svd_epoch(users[block], items[block], ratings[block], order, 3.5, *ref, lr, reg)
    sse = funk_svd_blocked_epoch(users, items, ratings, starts, strata, 3.5, bu, bi, P, Q, lr, reg)
    assert np.isclose(sse, sse_ref, rtol=1e-12, atol=1e-12)
    for got, want in zip((bu, bi, P, Q), ref, strict=True):
        np.testing.assert_array_equal(got, want)


def test_blocked_epoch_does_not_depend_on_the_number_of_threads():
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one Numba thread only: nothing to compare the single-threaded run with")
    rng = np.random.default_rng(3)
    users, items, ratings, starts, bu, bi, P, Q, lr, reg = _blocked_problem(rng, 3000, 60, 50, 8, 4)
    strata = np.array([2, 0, 3, 1], dtype=np.int64)
    results = []
    before = numba.get_num_threads()
    try:
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            arrays = [a.copy() for a in (bu, bi, P, Q)]
            sse = funk_svd_blocked_epoch(users, items, ratings, starts, strata, 3.5, *arrays, lr, reg)
            results.append((sse, arrays))
    finally:
        numba.set_num_threads(before)
    for sse, arrays in results[1:]:
        assert sse == results[0][0]
        for got, want in zip(arrays, results[0][1], strict=True):
            np.testing.assert_array_equal(got, want)


@settings(max_examples=30)
@given(sizes=st.lists(st.integers(0, 12), min_size=1, max_size=5), seed=st.integers(0, 2**31 - 1))
def test_shuffle_within_blocks_permutes_each_block_and_keeps_triples_together(sizes, seed):
    rng = np.random.default_rng(seed)
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = int(starts[-1])
    users = np.arange(n, dtype=np.int32)  # position ids: the triple (k, 2k, k/2) must stay together
    items = 2 * users
    ratings = users / 2.0
    shuffle_within_blocks(starts, rng.random(n), users, items, ratings)
    np.testing.assert_array_equal(items, 2 * users)
    np.testing.assert_array_equal(ratings, users / 2.0)
    for b in range(len(sizes)):
        np.testing.assert_array_equal(
            np.sort(users[starts[b] : starts[b + 1]]), np.arange(starts[b], starts[b + 1])
        )


def test_shuffle_within_blocks_draws_every_order_equally_often():
    rng = np.random.default_rng(0)
    starts = np.array([0, 3], dtype=np.int64)
    counts = {}
    for _ in range(6000):
        users = np.arange(3, dtype=np.int32)
        shuffle_within_blocks(starts, rng.random(3), users, users.copy(), users.astype(np.float64))
        counts[tuple(users)] = counts.get(tuple(users), 0) + 1
    assert len(counts) == 6
    assert all(abs(c - 1000) < 150 for c in counts.values())  # about 5 standard deviations


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(0, 6), min_size=1, max_size=12),
    block=st.integers(1, 5),
    seed=st.integers(0, 2**31 - 1),
)
def test_user_block_order_visits_each_block_of_users_once_in_a_shuffled_order(counts, block, seed):
    """Block b holds exactly the ratings of users user_order[b·B : (b+1)·B], each rating once."""
    rng = np.random.default_rng(seed)
    user_starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    user_order = rng.permutation(len(counts)).astype(np.int64)
    order = user_block_order(user_starts, user_order, block, rng.random(int(user_starts[-1])))
    np.testing.assert_array_equal(np.sort(order), np.arange(user_starts[-1]))  # a permutation
    k = 0
    for first in range(0, len(counts), block):
        # the NumPy twin of one block: its users' ranges, concatenated
        want = np.concatenate(
            [np.arange(user_starts[u], user_starts[u + 1]) for u in user_order[first : first + block]]
        )
        np.testing.assert_array_equal(np.sort(order[k : k + len(want)]), np.sort(want))
        k += len(want)


def test_user_block_order_without_swaps_is_the_user_order_and_shuffles_uniformly():
    user_starts = np.array([0, 2, 3, 5], dtype=np.int64)  # user 0: ratings 0-1, user 1: 2, user 2: 3-4
    user_order = np.array([2, 0, 1], dtype=np.int64)
    # uniforms near 1 swap every position with itself: the users' ratings in user order
    order = user_block_order(user_starts, user_order, 2, np.full(5, 0.999999))
    np.testing.assert_array_equal(order, [3, 4, 0, 1, 2])
    rng = np.random.default_rng(0)
    counts = {}
    for _ in range(6000):  # one block of 3 ratings: the 6 orders equally often
        key = tuple(user_block_order(np.array([0, 3], np.int64), np.array([0], np.int64), 1, rng.random(3)))
        counts[key] = counts.get(key, 0) + 1
    assert len(counts) == 6 and all(abs(c - 1000) < 150 for c in counts.values())
