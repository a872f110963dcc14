"""BiasedMF: a planted low-rank matrix is recovered, the epoch is Surprise's SVD loop, unknown ids,
explain, history, blocked SGD, divergence. (Each hyperparameter's effect and the refusals of bad
input are stated in the recommender contract: tests/models/contract_cases_classic.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.data.interactions import Interactions
from tinyrec.errors import DTypeError, IndexOutOfRangeError, NonFiniteError, ShapeError
from tinyrec.kernels.mf import funk_svd_epoch
from tinyrec.models import BiasedMF

from .contract import planted_ratings


def _planted_continuous(seed=0, n_users=40, n_items=30, rank=2, density=0.6):
    """Ratings exactly ``μ + b_u + b_i + U Vᵀ`` (no rounding, no noise); returns train, test, truth."""
    rng = np.random.default_rng(seed)
    truth = (
        3.0
        + rng.normal(0, 0.3, (n_users, 1))
        + rng.normal(0, 0.3, (1, n_items))
        + rng.normal(0, 0.7, (n_users, rank)) @ rng.normal(0, 0.7, (n_items, rank)).T
    )
    observed = rng.random((n_users, n_items)) < density
    observed[:, 0] = observed[0, :] = True
    users, items = np.nonzero(observed)
    data = Interactions(users, items, truth[users, items])
    held = rng.random(len(users)) < 0.15
    held[(users == 0) | (items == 0)] = False
    return data.subset(~held), data.subset(held), truth


def _rmse(model, data):
    err = model.predict(data.users, data.items).astype(np.float64) - data.ratings
    return float(np.sqrt(np.mean(err**2)))


def test_planted_low_rank_matrix_is_recovered():
    train, test, truth = _planted_continuous()
    model = BiasedMF(2, 400, lr_all=0.02, reg_all=0.0, init_std=0.1, dtype=np.float64, seed=0).fit(train)
    assert model.history_["train_rmse"][-1] < 0.01
    assert _rmse(model, test) < 0.1  # held-out entries of the planted matrix
    spread = float(np.std(test.ratings))
    assert spread > 0.5  # so the bound above is a real recovery, not a constant guess


def test_epochs_lower_the_training_error():
    train, test, _ = planted_ratings()
    model = BiasedMF(4, 30, lr_all=0.01, seed=0).fit(train, valid=test)
    rmse = model.history_["train_rmse"]
    assert len(rmse) == 30 and rmse[-1] < rmse[0]
    assert len(model.history_["valid_rmse"]) == 30 and len(model.history_["epoch_seconds"]) == 30


def test_epoch_is_surprises_svd_loop():
    """Surprise's SVD, started from the same factors, predicts what the fused epoch predicts."""
    surprise = pytest.importorskip("surprise")
    pd = pytest.importorskip("pandas")
    train, test, _ = planted_ratings(unknown=False)
    frame = pd.DataFrame({"u": train.users, "i": train.items, "r": train.ratings.astype(np.float64)})
    trainset = surprise.Dataset.load_from_df(
        frame, surprise.Reader(rating_scale=(1, 5))
    ).build_full_trainset()
    algo = surprise.SVD(n_factors=5, n_epochs=7, random_state=3).fit(trainset)
    # Surprise draws pu then qi with RandomState(3), rows in its inner-id order (order of appearance)
    rs = np.random.RandomState(3)
    pu = rs.normal(0, 0.1, (trainset.n_users, 5))
    qi = rs.normal(0, 0.1, (trainset.n_items, 5))
    P = pu[[trainset.to_inner_uid(u) for u in range(train.n_users)]]
    Q = qi[[trainset.to_inner_iid(i) for i in range(train.n_items)]]
    bu, bi = np.zeros(train.n_users), np.zeros(train.n_items)
    mu = trainset.global_mean
    ratings, order = train.ratings.astype(np.float64), np.arange(len(train))  # train is sorted by user
    lr, reg = np.full(4, 0.005), np.full(4, 0.02)
    for _ in range(7):
        funk_svd_epoch(train.users, train.items, ratings, order, mu, bu, bi, P, Q, lr, reg)
    ours = np.clip(mu + bu[test.users] + bi[test.items] + np.sum(P[test.users] * Q[test.items], axis=1), 1, 5)
    theirs = [algo.predict(u, i).est for u, i in zip(test.users.tolist(), test.items.tolist(), strict=True)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_unknown_ids_follow_surprises_rule():
    train, _, _ = planted_ratings()
    model = BiasedMF(4, 5, seed=0).fit(train)
    u_new, i_new = train.n_users - 1, train.n_items - 1
    assert not model.P_[u_new].any() and not model.Q_[i_new].any()
    mu = model.global_mean_
    np.testing.assert_allclose(model.predict(np.array([u_new]), np.array([i_new])), [mu], rtol=1e-6)
    np.testing.assert_allclose(
        model.predict(np.array([u_new]), np.array([2])), [mu + model.bi_[2]], rtol=1e-6
    )  # known item: its bias only
    np.testing.assert_allclose(
        model.predict(np.array([3]), np.array([i_new])), [mu + model.bu_[3]], rtol=1e-6
    )


def test_float32_and_float64_agree():
    train, test, _ = planted_ratings()
    a = BiasedMF(4, 10, seed=0).fit(train)
    b = BiasedMF(4, 10, dtype=np.float64, seed=0).fit(train)
    assert a.P_.dtype == np.float32 and b.P_.dtype == np.float64
    np.testing.assert_allclose(
        a.predict(test.users, test.items), b.predict(test.users, test.items), atol=1e-4
    )


def test_explain_adds_up_to_the_prediction():
    train, _, _ = planted_ratings()
    model = BiasedMF(6, 10, seed=0).fit(train)
    why = model.explain(2, 5, top=3)
    contributions = [row[3] for row in why.rows]
    assert len(why.rows) == 3
    assert np.all(np.diff(np.abs(contributions)) <= 0)  # largest first
    total = why.mu + why.user_bias + why.item_bias + sum(contributions) + why.rest
    assert np.isclose(total, why.prediction, atol=1e-5)
    np.testing.assert_allclose(model.score_all(np.array([2]))[0, 5], why.prediction, rtol=1e-6)
    text = str(why)
    assert "factor" in text and "user bias" in text and f"{why.prediction:.3f}" in text
    with pytest.raises(IndexOutOfRangeError):
        model.explain(train.n_users, 0)


def test_explain_refuses_bad_user_item_and_top():
    train, _, _ = planted_ratings()
    model = BiasedMF(4, 2, seed=0).fit(train)
    with pytest.raises(ShapeError, match="user must have 0 dimension"):
        model.explain(np.array([0, 1]), 0)
    with pytest.raises(DTypeError, match="item must hold integers"):
        model.explain(0, 1.5)
    for bad in (None, -1, 1.5, "3"):
        with pytest.raises(ValueError, match="top must be a positive integer"):
            model.explain(0, 0, top=bad)
    assert model.explain(np.int64(0), np.int32(1), top=0).rows == []


@pytest.mark.parametrize("shuffle", [True, False])
def test_blocked_sgd_is_as_accurate_as_plain_sgd_and_deterministic(shuffle):
    train, test, _ = _planted_continuous(n_users=60, n_items=50)
    params = dict(n_factors=2, n_epochs=150, lr_all=0.02, reg_all=0.0, dtype=np.float64, shuffle=shuffle)
    plain = BiasedMF(**params, seed=0).fit(train)
    blocked = BiasedMF(**params, n_blocks=3, seed=0).fit(train)
    again = BiasedMF(**params, n_blocks=3, seed=0).fit(train)
    np.testing.assert_array_equal(blocked.P_, again.P_)
    assert _rmse(blocked, test) < 0.1  # the planted matrix is recovered
    assert abs(_rmse(blocked, test) - _rmse(plain, test)) < 0.05
    assert len(blocked.history_["train_rmse"]) == 150
    assert blocked.history_["train_rmse"][-1] < 0.05


def test_more_blocks_than_users_or_items_leaves_empty_blocks_and_still_trains():
    train, test, _ = planted_ratings()
    model = BiasedMF(4, 10, n_blocks=train.n_users + 3, seed=0).fit(train, valid=test)
    assert np.all(np.isfinite(model.P_)) and len(model.history_["valid_rmse"]) == 10
    base = BiasedMF(4, 10, seed=0).fit(train)
    assert abs(_rmse(model, test) - _rmse(base, test)) < 0.1


@pytest.mark.parametrize("n_blocks", [1, 2])
def test_diverging_sgd_raises_naming_the_epoch_and_the_fix(n_blocks):
    train, _, _ = planted_ratings()
    with pytest.raises(NonFiniteError, match=r"training RMSE became (nan|inf) at epoch \d+ .*lower lr_all"):
        BiasedMF(4, 20, lr_all=5.0, n_blocks=n_blocks, seed=0).fit(train)


def test_the_three_visiting_orders_are_equally_accurate_and_deterministic():
    """User blocks (the default), every rating shuffled, and train's order: the same recovery."""
    train, test, _ = _planted_continuous(n_users=60, n_items=50)
    params = dict(n_factors=2, n_epochs=150, lr_all=0.02, reg_all=0.0, dtype=np.float64, seed=0)
    fits = {shuffle: BiasedMF(**params, shuffle=shuffle).fit(train) for shuffle in (True, "ratings", False)}
    for model in fits.values():
        assert _rmse(model, test) < 0.1
    assert not np.array_equal(fits[True].P_, fits["ratings"].P_)  # different orders of the updates
    np.testing.assert_array_equal(BiasedMF(**params).fit(train).P_, fits[True].P_)


@pytest.mark.parametrize("bad", ["users", "no", 1, None])
def test_shuffle_refuses_other_values(bad):
    with pytest.raises(TypeError, match='shuffle must be True or False, got .*; or "ratings"'):
        BiasedMF(shuffle=bad)
