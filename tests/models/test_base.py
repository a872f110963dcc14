"""The Recommender base class: input checks, recommend's padding and ties, similar_items, helpers."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.data.interactions import Interactions
from tinyrec.errors import DataError, DTypeError, NonFiniteError, NotFittedError, ShapeError
from tinyrec.models import BPRMF, BiasedMF, Popularity
from tinyrec.models.base import _top_k

from .contract import planted_ratings


def test_fit_refuses_what_is_not_interactions():
    with pytest.raises(DataError, match="Interactions"):
        Popularity().fit(np.zeros((3, 3)))


def test_fit_refuses_valid_from_another_index_space():
    train, _, _ = planted_ratings()
    other = Interactions([0, 1], [0, 1], [3.0, 4.0])
    with pytest.raises(DataError, match="index space"):
        BiasedMF(2, 1).fit(train, valid=other)


def test_a_failed_fit_leaves_the_model_unfitted():
    model = BPRMF(2, 1)
    with pytest.raises(DataError, match="every item"):
        model.fit(Interactions([0, 0, 1], [0, 1, 0], n_items=2))  # user 0 has no negative
    with pytest.raises(NotFittedError):
        model.recommend(np.array([0]))


def test_predict_checks_its_inputs():
    train, _, _ = planted_ratings()
    model = Popularity().fit(train)
    with pytest.raises(ShapeError, match="must match"):
        model.predict(np.array([0, 1]), np.array([0]))
    with pytest.raises(DTypeError, match="integers"):
        model.predict(np.array([0.0]), np.array([0]))
    with pytest.raises(ShapeError, match="dimension"):
        model.predict(np.zeros((2, 2), dtype=np.int64), np.zeros((2, 2), dtype=np.int64))


def test_recommend_pads_with_minus_one_when_too_few_items_remain():
    # user 0 saw 3 of 4 items: one unseen item, then padding
    data = Interactions([0, 0, 0, 1], [0, 1, 2, 3], [5.0, 4.0, 3.0, 1.0])
    model = Popularity().fit(data)
    items, scores = model.recommend(np.array([0]), k=3)
    np.testing.assert_array_equal(items, [[3, -1, -1]])
    assert scores[0, 0] == 1 and np.all(np.isneginf(scores[0, 1:]))
    with pytest.raises(ValueError, match="k must be"):
        model.recommend(np.array([0]), k=5)
    with pytest.raises(ValueError, match="k must be"):
        model.recommend(np.array([0]), k=2.0)


def test_recommend_breaks_ties_by_smaller_item_index():
    # items 1 and 3 both have two interactions, item 0 one
    data = Interactions([0, 1, 2, 0, 2], [1, 1, 3, 3, 0], n_users=4, n_items=5)
    items, _ = Popularity().fit(data).recommend(np.array([3]), k=3)
    np.testing.assert_array_equal(items, [[1, 3, 0]])


def test_similar_items_is_cosine_of_item_factors():
    train, _, _ = planted_ratings()
    model = BiasedMF(3, 5, seed=0).fit(train)
    neighbours, sims = model.similar_items(np.array([0, 4]), k=3)
    Q = model.Q_.astype(np.float64)
    cos = Q @ Q.T / np.outer(np.linalg.norm(Q, axis=1), np.linalg.norm(Q, axis=1)).clip(1e-300)
    for row, item in enumerate([0, 4]):
        ranked = [j for j in np.argsort(-cos[item], kind="stable") if j != item][:3]
        np.testing.assert_array_equal(neighbours[row], ranked)
        np.testing.assert_allclose(sims[row], cos[item, ranked], rtol=1e-6)
    with pytest.raises(ValueError, match="k must be"):
        model.similar_items(np.array([0]), k=train.n_items)
    with pytest.raises(ValueError, match="k must be"):
        model.similar_items(np.array([0]), k=True)  # a bool is not a count, as in recommend


def test_similar_items_needs_item_vectors():
    train, _, _ = planted_ratings()
    with pytest.raises(TypeError, match="no item vectors"):
        Popularity().fit(train).similar_items(np.array([0]))


def test_top_k_matches_lexsort():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, (6, 9)).astype(np.float64)  # many ties
    scores[0, :5] = -np.inf
    items, top = _top_k(scores, 6)
    order = np.lexsort((np.broadcast_to(np.arange(9), scores.shape), -scores), axis=1)[:, :6]
    expected = np.where(np.isneginf(np.take_along_axis(scores, order, axis=1)), -1, order)
    np.testing.assert_array_equal(items, expected)
    np.testing.assert_array_equal(top, np.take_along_axis(scores, order, axis=1))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_recommend_and_score_all_refuse_non_finite_scores():
    # a model whose arrays hold NaN (a diverged fit, a damaged file) ranked NaN-scored items silently
    train, _, _ = planted_ratings()
    model = BiasedMF(3, 2, seed=0).fit(train)
    model.Q_[4] = np.nan
    users = np.array([0, 1])
    expected = r"BiasedMF\.recommend: 2 of .* scores are NaN or inf \(first: user 0, item 4: nan\).*refit"
    with pytest.raises(NonFiniteError, match=expected):
        model.recommend(users, k=2)
    with pytest.raises(NonFiniteError, match=r"BiasedMF\.score_all: .*\(first: user 0, item 4"):
        model.score_all(users)
    model.Q_[4] = 0.0
    model.bu_[1] = np.inf
    with pytest.raises(NonFiniteError, match=r"first: user 1, item 0: inf"):
        model.recommend(users)
    # large finite scores whose sum overflows are not refused
    model.bu_[1] = 0.0
    model.bi_[:] = np.finfo(model.bi_.dtype).max / 2
    assert np.isfinite(model.score_all(users)).all()
    assert model.recommend(users, k=2)[0].shape == (2, 2)


def test_recommend_of_an_unknown_user_ignores_the_models_row():
    # an unknown user gets the popularity fallback: a NaN the model gives that row is never ranked
    data = Interactions([0, 0, 1], [0, 1, 1], [5.0, 4.0, 3.0], n_users=3, n_items=3)
    model = Popularity().fit(data)
    real = model._score_all
    model._score_all = lambda users: np.where(users[:, None] == 2, np.nan, real(users))
    items, scores = model.recommend(np.array([2]), k=2)
    assert np.isfinite(scores).all() and items.tolist() == [[1, 0]]
    with pytest.raises(NonFiniteError, match="user 2"):
        model.score_all(np.array([2]))


class _RecordsBlas(Popularity):
    """Popularity that records BLAS's thread count while it fits."""

    def _fit(self, train, valid):
        from threadpoolctl import threadpool_info

        self.blas_seen = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        super()._fit(train, valid)


def test_fit_runs_blas_on_one_thread_unless_the_user_says_otherwise(monkeypatch):
    from threadpoolctl import threadpool_info

    from tinyrec import threads

    train, _, _ = planted_ratings()
    for name in threads.USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    model = _RecordsBlas().fit(train)
    assert model.blas_seen == [1] * len(before)
    assert [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"] == before
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert _RecordsBlas().fit(train).blas_seen == before  # the environment decides


def test_fit_records_the_provenance_of_its_training_data():
    from tinyrec.data import leave_one_out
    from tinyrec.data.synthetic import synthetic

    data = synthetic(60, 40, 800, seed=0).with_info(name="mine")
    train, _ = leave_one_out(data, by="random", seed=3)
    model = BPRMF(4, 1, seed=7).fit(train)
    assert model.provenance_ == {
        "data": "mine", "split": "leave_one_out(by='random')", "seed": 7,
        "fingerprint": train.fingerprint(), "n_interactions": len(train),
    }  # fmt: skip
    assert Popularity().fit(Interactions([0, 1], [1, 0])).provenance_["data"] is None
    assert BPRMF(2, 1, seed=np.random.default_rng(0)).fit(train).provenance_["seed"] is None
