"""BPR's epoch kernel equals its NumPy twin, the library's ``bpr_epoch_numpy``, which a reader can follow."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.kernels.bpr import bpr_epoch, bpr_epoch_numpy, shuffle_triples


@settings(max_examples=40)
@given(
    n=st.integers(0, 40),
    n_users=st.integers(1, 5),
    n_items=st.integers(2, 6),
    d=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
)
def test_bpr_epoch_equals_row_by_row_numpy(n, n_users, n_items, d, seed):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, n).astype(np.int64)
    positives = rng.integers(0, n_items, n).astype(np.int64)
    negatives = (positives + rng.integers(1, n_items, n)) % n_items  # j != i
    P, Q = rng.normal(0, 1.0, (n_users, d)), rng.normal(0, 1.0, (n_items, d))
    bi = rng.normal(0, 1.0, n_items)
    lr, reg = rng.uniform(0.01, 0.1, 3), rng.uniform(0.0, 0.1, 3)
    ref = [a.copy() for a in (P, Q, bi)]
    loss_ref = bpr_epoch_numpy(users, positives, negatives, *ref, lr, reg)
    loss = bpr_epoch(users, positives, negatives, P, Q, bi, lr, reg)
    assert np.isclose(loss, loss_ref, rtol=1e-12, atol=1e-12)
    for got, want in zip((P, Q, bi), ref, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_bpr_epoch_loss_is_finite_for_huge_margins():
    P = np.array([[100.0]])
    Q = np.array([[100.0], [-100.0]])
    bi = np.zeros(2)
    for pos, neg in ((0, 1), (1, 0)):  # x = +2e4 then x = -2e4
        loss = bpr_epoch(
            np.array([0]),
            np.array([pos]),
            np.array([neg]),
            P.copy(),
            Q.copy(),
            bi.copy(),
            np.zeros(3),
            np.zeros(3),
        )
        assert np.isfinite(loss)
    assert np.isclose(loss, 2e4)


def test_bpr_epoch_loss_sums_every_term_across_many_small_sigmas():
    """The loss is -log of running products of σ(x): check it where those products get small."""
    rng = np.random.default_rng(4)
    n = 3000
    users = np.zeros(n, dtype=np.int64)
    positives, negatives = rng.integers(0, 50, n), rng.integers(50, 100, n)
    P = np.ones((1, 1))
    Q = np.concatenate([rng.uniform(-300, 5, 50), np.zeros(50)])[:, None]  # x = q_i from -300 to 5
    x = Q[positives, 0]
    loss = bpr_epoch(users, positives, negatives, P, Q, np.zeros(100), np.zeros(3), np.zeros(3))
    np.testing.assert_allclose(loss, np.logaddexp(0.0, -x).sum(), rtol=1e-12)


def test_bpr_epoch_raises_the_positive_above_the_negative():
    rng = np.random.default_rng(3)
    P, Q, bi = rng.normal(0, 0.1, (1, 4)), rng.normal(0, 0.1, (2, 4)), np.zeros(2)
    users, pos, neg = (
        np.zeros(200, dtype=np.int64),
        np.zeros(200, dtype=np.int64),
        np.ones(200, dtype=np.int64),
    )
    lr, reg = np.full(3, 0.1), np.zeros(3)
    first = bpr_epoch(users, pos, neg, P, Q, bi, lr, reg)
    second = bpr_epoch(users, pos, neg, P, Q, bi, lr, reg)
    assert second < first
    assert P[0] @ Q[0] + bi[0] > P[0] @ Q[1] + bi[1]


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 30), d=st.integers(1, 4), seed=st.integers(0, 2**31 - 1))
def test_bpr_epoch_numpy_float32_stays_float32_and_follows_the_kernel(n, d, seed):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, 3, n)
    positives = rng.integers(0, 5, n)
    negatives = (positives + rng.integers(1, 5, n)) % 5
    tables = [rng.normal(0, 0.5, shape).astype(np.float32) for shape in ((3, d), (5, d), (5,))]
    twin = [t.copy() for t in tables]
    lr, reg = np.full(3, 0.05), np.full(3, 0.01)
    loss = bpr_epoch(users, positives, negatives, *tables, lr, reg)
    loss_twin = bpr_epoch_numpy(users, positives, negatives, *twin, lr, reg)
    assert np.isclose(loss, loss_twin, rtol=1e-5)
    for got, want in zip(tables, twin, strict=True):
        assert want.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 40), seed=st.integers(0, 2**31 - 1))
def test_shuffle_triples_permutes_the_three_arrays_together(n, seed):
    rng = np.random.default_rng(seed)
    users = np.arange(n, dtype=np.int64)  # position ids: the triple (k, 2k, 3k) must stay together
    positives, negatives = 2 * users, 3 * users
    shuffle_triples(rng.random(n), users, positives, negatives)
    np.testing.assert_array_equal(np.sort(users), np.arange(n))
    np.testing.assert_array_equal(positives, 2 * users)
    np.testing.assert_array_equal(negatives, 3 * users)


def test_shuffle_triples_draws_every_order_equally_often():
    rng = np.random.default_rng(0)
    counts = {}
    for _ in range(6000):
        users = np.arange(3, dtype=np.int64)
        shuffle_triples(rng.random(3), users, users.copy(), users.copy())
        counts[tuple(users)] = counts.get(tuple(users), 0) + 1
    assert len(counts) == 6 and all(abs(c - 1000) < 150 for c in counts.values())  # about 5 sd
