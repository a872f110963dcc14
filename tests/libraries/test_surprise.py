"""Surprise through tinyrec.adapters: the vectorized path is Surprise's own predict, and evaluating
SVD on ML-100K's u1 gives the RMSE of Surprise's ``accuracy.rmse``.

Surprise's loaders read ids as strings; tinyrec reads MovieLens' ids as ints: ``from_surprise``
converts them (``str``), once per id. Its vectorized path computes Surprise's estimate from the
fitted arrays for a whole batch; the per-pair path calls ``algo.predict`` once per pair.
"""

import numpy as np
import pytest

from tinyrec import adapters, evaluate, metrics
from tinyrec.data import Interactions, movielens

from ..helpers import dataset_dir
from .helpers import require


def _small(surprise):
    """A small rating set (string ids, as Surprise's loaders give), and tinyrec's view of it."""
    rng = np.random.default_rng(19)
    users, items = rng.integers(0, 30, 400), rng.integers(0, 40, 400)
    ratings = rng.integers(1, 6, 400).astype(np.float64)
    pd = require("pandas", "pandas")
    frame = pd.DataFrame({"u": users.astype(str), "i": items.astype(str), "r": ratings})
    data = surprise.Dataset.load_from_df(
        frame.drop_duplicates(["u", "i"]), surprise.Reader(rating_scale=(1, 5))
    )
    trainset = data.build_full_trainset()
    # tinyrec's index space: every user and item, some unknown to Surprise (ids 30..34, 40..44)
    extra_u, extra_i = np.arange(30, 35), np.arange(40, 45)
    train = Interactions.from_raw(np.r_[users, extra_u], np.r_[items, extra_i[: len(extra_u)]],
                                  np.r_[ratings, np.full(len(extra_u), 3.0)])  # fmt: skip
    return trainset, train


@pytest.mark.parametrize("make", ["SVD", "SVD-unbiased", "SVDpp", "NMF", "NMF-biased", "BaselineOnly"])
def test_the_vectorized_path_is_surprises_predict(make, monkeypatch):
    surprise = require("surprise", "scikit-surprise")
    monkeypatch.setattr(adapters, "_PAIRS_PER_CHUNK", 7)  # many chunks of pairs, one of them partial
    trainset, train = _small(surprise)
    name, _, variant = make.partition("-")
    kwargs = {"random_state": 0, "n_epochs": 5} if name != "BaselineOnly" else {"verbose": False}
    if variant:
        kwargs["biased"] = variant == "biased"
    algo = getattr(surprise, name)(**kwargs).fit(trainset)
    model = adapters.from_surprise(algo, train)
    assert isinstance(model, adapters.SurpriseAdapter)
    users, items = np.meshgrid(np.arange(train.n_users), np.arange(train.n_items), indexing="ij")
    fast = model.predict(users.ravel(), items.ravel())
    theirs = np.array([algo.predict(str(train.user_ids[u]), str(train.item_ids[i])).est
                       for u, i in zip(users.ravel(), items.ravel(), strict=True)])  # fmt: skip
    np.testing.assert_allclose(fast, theirs, rtol=0, atol=1e-12)
    slow = adapters.from_surprise(algo, train, vectorized=False).predict(
        users.ravel()[:200], items.ravel()[:200]
    )
    np.testing.assert_array_equal(slow, theirs[:200])


def test_ids_both_ways():
    surprise = require("surprise", "scikit-surprise")
    trainset, train = _small(surprise)
    model = adapters.from_surprise(surprise.BaselineOnly(verbose=False).fit(trainset), train)
    assert model.ids.users[3] == str(train.user_ids[3])
    np.testing.assert_array_equal(
        model.ids.user_index(["7", "31", "nobody"]), [*train.user_index([7, 31]), -1]
    )
    np.testing.assert_array_equal(
        model.ids.item_index([str(i) for i in train.item_ids]), np.arange(train.n_items)
    )


def test_accuracy_metrics():
    surprise = require("surprise", "scikit-surprise")
    rng = np.random.default_rng(20)
    truth, estimate = rng.integers(1, 6, 100).astype(np.float64), rng.uniform(1, 5, 100)
    pairs = enumerate(zip(truth, estimate, strict=True))
    predictions = [surprise.Prediction(str(j), "i", t, e, {}) for j, (t, e) in pairs]
    for name in ("rmse", "mse", "mae"):
        theirs = getattr(surprise.accuracy, name)(predictions, verbose=False)
        assert abs(theirs - getattr(metrics, name)(truth, estimate)) <= 1e-12


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize("vectorized", [True, False])
def test_svd_on_u1_has_surprises_rmse(vectorized):
    surprise = require("surprise", "scikit-surprise")
    folder = dataset_dir("ml-100k", "u1.base")
    reader = surprise.Reader("ml-100k")
    folds = surprise.Dataset.load_from_folds([(str(folder / "u1.base"), str(folder / "u1.test"))], reader)
    trainset, testset = next(surprise.model_selection.PredefinedKFold().split(folds))
    algo = surprise.SVD(random_state=0).fit(trainset)
    predictions = algo.test(testset)
    train, test = movielens("100k", fold="u1", path=folder)
    result = evaluate(adapters.from_surprise(algo, train, vectorized=vectorized), test, train=train)
    assert result["n_ratings"] == len(testset) == 20_000
    assert abs(result["rmse"] - surprise.accuracy.rmse(predictions, verbose=False)) <= 1e-12
    assert abs(result["mae"] - surprise.accuracy.mae(predictions, verbose=False)) <= 1e-12


def test_fcp_is_no_setting_of_tinyrec():
    """``accuracy.fcp``: ``mean_u nc_u / (mean_u nc_u + mean_u nd_u)`` over each user's pairs of test
    ratings (``nc``: ordered as the ratings, ``nd``: in the wrong order or tied), each mean over the
    users with at least one such pair: a ratio of two means over different users, which no tinyrec
    metric computes (docs/metrics.md). Written out here to pin that definition down."""
    surprise = require("surprise", "scikit-surprise")
    rng = np.random.default_rng(21)
    users = rng.integers(0, 8, 120)
    truth, estimate = rng.integers(1, 6, 120).astype(np.float64), rng.integers(2, 9, 120) / 2.0
    predictions = [surprise.Prediction(str(u), str(j), t, e, {})
                   for j, (u, t, e) in enumerate(zip(users, truth, estimate, strict=True))]  # fmt: skip
    nc, nd = [], []
    for u in np.unique(users):
        t, e = truth[users == u], estimate[users == u]
        concordant = ((e[:, None] > e[None, :]) & (t[:, None] > t[None, :])).sum()
        discordant = ((e[:, None] >= e[None, :]) & (t[:, None] < t[None, :])).sum()
        nc += [concordant] if concordant else []
        nd += [discordant] if discordant else []
    expected = np.mean(nc) / (np.mean(nc) + np.mean(nd))
    assert abs(surprise.accuracy.fcp(predictions, verbose=False) - expected) <= 1e-12
