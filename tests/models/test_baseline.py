"""BaselineOnly: ALS reaches the regularized least-squares solution, SGD follows Surprise's loop,
parity with Surprise, divergence is named. (Each hyperparameter's effect and the refusals of bad
input are stated in the recommender contract: tests/models/contract_cases_classic.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.errors import NonFiniteError
from tinyrec.models import BaselineOnly

from .contract import planted_ratings


def _least_squares_biases(train, reg_u, reg_i):
    """Solve min Σ (r − μ − b_u − b_i)² + λ_u Σ b_u² + λ_i Σ b_i² by its normal equations."""
    m, n = train.n_users, train.n_items
    X = np.zeros((len(train), m + n))  # one-hot design: column u, then column m + i
    X[np.arange(len(train)), train.users] = 1
    X[np.arange(len(train)), m + train.items] = 1
    y = train.ratings.astype(np.float64) - train.ratings.mean(dtype=np.float64)
    penalty = np.diag(np.r_[np.full(m, reg_u), np.full(n, reg_i)])
    x = np.linalg.solve(X.T @ X + penalty + 1e-12 * np.eye(m + n), X.T @ y)
    return x[:m], x[m:]


def test_als_converges_to_the_least_squares_solution():
    train, _, _ = planted_ratings()
    model = BaselineOnly("als", n_epochs=300, reg_u=3.0, reg_i=2.0, dtype=np.float64).fit(train)
    bu, bi = _least_squares_biases(train, 3.0, 2.0)
    known_u, known_i = train.user_counts() > 0, train.item_counts() > 0
    np.testing.assert_allclose(model.bu_[known_u], bu[known_u], atol=1e-8)
    np.testing.assert_allclose(model.bi_[known_i], bi[known_i], atol=1e-8)
    assert np.all(model.bu_[~known_u] == 0) and np.all(model.bi_[~known_i] == 0)


def test_sgd_unshuffled_is_surprises_loop():
    train, test, _ = planted_ratings()
    model = BaselineOnly("sgd", n_epochs=3, reg=0.05, lr=0.01, shuffle=False, dtype=np.float64).fit(train)
    mu = float(np.mean(train.ratings, dtype=np.float64))
    bu, bi = np.zeros(train.n_users), np.zeros(train.n_items)
    for _ in range(3):  # Surprise's baseline_sgd, written out
        for u, i, r in zip(train.users, train.items, train.ratings.astype(np.float64), strict=True):
            err = r - (mu + bu[u] + bi[i])
            bu[u] += 0.01 * (err - 0.05 * bu[u])
            bi[i] += 0.01 * (err - 0.05 * bi[i])
    np.testing.assert_allclose(model.bu_, bu, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(model.bi_, bi, rtol=1e-12, atol=1e-15)
    expected = np.clip(mu + bu[test.users] + bi[test.items], 1, 5)
    np.testing.assert_allclose(model.predict(test.users, test.items), expected, rtol=1e-12)


def test_unknown_user_and_item_predict_the_global_mean():
    train, _, _ = planted_ratings()
    model = BaselineOnly().fit(train)
    last_u, last_i = train.n_users - 1, train.n_items - 1
    got = model.predict(np.array([last_u]), np.array([last_i]))
    np.testing.assert_allclose(got, [np.mean(train.ratings, dtype=np.float64)], rtol=1e-6)


def test_matches_surprise_baseline_only():
    surprise = pytest.importorskip("surprise")
    pd = pytest.importorskip("pandas")
    train, test, _ = planted_ratings(unknown=False)
    frame = pd.DataFrame({"u": train.users, "i": train.items, "r": train.ratings.astype(np.float64)})
    data = surprise.Dataset.load_from_df(frame, surprise.Reader(rating_scale=(1, 5)))
    trainset = data.build_full_trainset()
    for options, ours in (
        ({"method": "als"}, BaselineOnly("als", dtype=np.float64)),
        ({"method": "sgd"}, BaselineOnly("sgd", shuffle=False, dtype=np.float64)),
    ):
        algo = surprise.BaselineOnly(bsl_options=options, verbose=False).fit(trainset)
        theirs = [
            algo.predict(u, i).est for u, i in zip(test.users.tolist(), test.items.tolist(), strict=True)
        ]
        mine = ours.fit(train).predict(test.users, test.items)
        np.testing.assert_allclose(mine, theirs, rtol=1e-10)


def test_diverging_sgd_raises_naming_the_epoch_and_the_fix():
    train, _, _ = planted_ratings()
    with pytest.raises(NonFiniteError, match=r"training RMSE became (nan|inf) at epoch \d+ .*lower lr"):
        BaselineOnly("sgd", n_epochs=50, lr=5.0, seed=0).fit(train)
