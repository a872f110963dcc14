"""evaluate(): the three protocols on hand-built cases, invariances, bad input, and ML-100K."""

import contextlib
import math

import numpy as np
import pytest

from tests.helpers import dataset_dir
from tinyrec import metrics
from tinyrec.data import Interactions, leave_one_out, movielens, synthetic
from tinyrec.data.sampling import sampled_candidates
from tinyrec.errors import DataError, DTypeError, NonFiniteError, ShapeError
from tinyrec.evaluation import evaluate
from tinyrec.models import Popularity

L3 = math.log2(3)


class MatrixModel:
    """Scores from a fixed (n_users, n_items) matrix, through score_all."""

    def __init__(self, matrix):
        self.matrix = np.asarray(matrix, dtype=np.float64)

    def score_all(self, users):
        return self.matrix[users]


class PairModel:
    """The same scores, through predict only."""

    def __init__(self, matrix):
        self.matrix = np.asarray(matrix, dtype=np.float64)

    def predict(self, users, items):
        return self.matrix[users, items]


def tables(train_pairs, test_pairs, n_users, n_items, test_ratings=None):
    def make(pairs, ratings=None):
        users, items = np.array(pairs).T
        return Interactions(users, items, ratings, n_users=n_users, n_items=n_items)

    return make(train_pairs), make(test_pairs, test_ratings)


# 3 users x 6 items
TRAIN_PAIRS = [(0, 0), (0, 1), (1, 2), (1, 3), (2, 0), (2, 5)]
TEST_PAIRS = [(0, 4), (1, 0), (1, 5), (2, 5)]  # user 2's test item is also in its train
SCORES = np.array(
    [
        [9.0, 8.0, 1.0, 5.0, 4.0, 0.0],  # candidates 2,3,4,5 -> 3 (5), 4 (4): relevant at position 2
        [0.0, 7.0, 6.0, 9.0, 3.0, 5.0],  # candidates 0,1,4,5 -> 1, 5, 4, 0: relevant at 2 and 4
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],  # no relevant candidate: excluded
    ]
)


@pytest.mark.parametrize("model_class", [MatrixModel, PairModel])
def test_full_protocol_hand_example(model_class):
    train, test = tables(TRAIN_PAIRS, TEST_PAIRS, 3, 6)
    res = evaluate(model_class(SCORES), test, train=train, protocol="full", k=2, return_per_user=True)
    assert res["n_users"] == 2
    assert res["hr@2"] == 1.0
    assert res["precision@2"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert res["recall@2"] == pytest.approx((1 + 1 / 2) / 2)
    ndcg0 = (1 / L3) / 1.0
    ndcg1 = (1 / L3) / (1 + 1 / L3)
    assert res["ndcg@2"] == pytest.approx((ndcg0 + ndcg1) / 2, abs=1e-15)
    assert res["map@2"] == pytest.approx(((1 / 2) / 1 + (1 / 2) / 2) / 2, abs=1e-15)
    assert res["mrr@2"] == pytest.approx(0.5)
    # top-2 lists: user 0 -> {3, 4}; user 1 -> {1, 5}; user 2 -> {1, 2} (ties: lower index)
    assert res["coverage@2"] == pytest.approx(5 / 6)
    per = res["per_user"]
    np.testing.assert_array_equal(per["users"], [0, 1, 2])
    assert np.isnan(per["ndcg@2"][2]) and per["recall@2"][1] == 0.5


def test_full_protocol_equals_metrics_on_the_masked_matrix():
    data = synthetic(60, 40, 700, seed=1)
    train, test = leave_one_out(data, by="random", seed=3)
    scores = np.random.default_rng(0).integers(0, 4, size=(60, 40)).astype(np.float64)  # many ties
    masked, relevance = scores.copy(), np.zeros_like(scores)
    relevance[test.users, test.items] = 1
    masked[train.users, train.items] = -np.inf
    relevance[train.users, train.items] = 0
    has_test = np.bincount(test.users, minlength=60) > 0
    for ties in ("pessimistic", "optimistic", "average"):
        ref = metrics.ranking_metrics(masked[has_test], relevance[has_test], 5, ties=ties)
        for batch_size in (None, 1, 7):
            res = evaluate(
                MatrixModel(scores), test, train=train, protocol="full", k=5, ties=ties, batch_size=batch_size
            )
            for name, value in ref.items():
                assert res[name] == pytest.approx(value, abs=1e-12), (ties, batch_size, name)
    lists, _ = metrics.top_k(masked[has_test], 5)
    assert res["coverage@5"] == pytest.approx(metrics.catalog_coverage(lists, 40))


def test_sampled_with_all_negatives_equals_full():
    # every user: 3 train items, 1 test item -> each has n_items - 4 possible negatives
    rng = np.random.default_rng(5)
    n_users, n_items = 30, 25
    rows = [rng.choice(n_items, size=4, replace=False) for _ in range(n_users)]
    train, test = tables(
        [(u, i) for u, r in enumerate(rows) for i in r[:3]],
        [(u, r[3]) for u, r in enumerate(rows)],
        n_users,
        n_items,
    )
    scores = rng.integers(0, 5, size=(n_users, n_items)).astype(np.float64)
    for ties in ("pessimistic", "average"):
        full = evaluate(MatrixModel(scores), test, train=train, protocol="full", k=5, ties=ties)
        sampled = evaluate(
            MatrixModel(scores),
            test,
            train=train,
            protocol="sampled",
            k=5,
            n_negatives=n_items - 4,
            ties=ties,
        )
        for name in ("hr@5", "ndcg@5"):
            assert sampled[name] == pytest.approx(full[name], abs=1e-12)
        assert sampled["n_users"] == full["n_users"] == n_users


def test_sampled_protocol_per_list_then_per_user():
    data = synthetic(40, 200, 800, seed=2)
    train, test = leave_one_out(data, by="random", seed=0)
    # a second held-out item for some users: a random 'test' with several rows per user
    extra = train.subset(np.flatnonzero(train.users < 10)[::5])
    train_rest = train.subset(np.setdiff1d(np.arange(len(train)), np.flatnonzero(train.users < 10)[::5]))
    test2 = Interactions(
        np.concatenate([test.users, extra.users]),
        np.concatenate([test.items, extra.items]),
        n_users=train.n_users,
        n_items=train.n_items,
    )
    scores = np.random.default_rng(1).standard_normal((train.n_users, train.n_items))
    res = evaluate(
        MatrixModel(scores),
        test2,
        train=train_rest,
        protocol="sampled",
        k=10,
        n_negatives=20,
        seed=7,
        return_per_user=True,
    )
    users, cands = sampled_candidates(train_rest, test2, 20, seed=7)
    s = scores[users[:, None], cands]
    rel = np.zeros_like(s)
    rel[:, 0] = 1
    hr = metrics.hit_rate(s, rel, 10, per_user=True)
    mrr = metrics.mrr(s, rel, per_user=True)
    by_user_hr = [hr[users == u].mean() for u in np.unique(users)]
    by_user_mrr = [mrr[users == u].mean() for u in np.unique(users)]
    assert res["hr@10"] == pytest.approx(np.mean(by_user_hr), abs=1e-12)
    assert res["mrr"] == pytest.approx(np.mean(by_user_mrr), abs=1e-12)
    np.testing.assert_array_equal(res["per_user"]["users"], np.unique(users))
    # predict-only model and small batches: the same numbers
    other = evaluate(
        PairModel(scores),
        test2,
        train=train_rest,
        protocol="sampled",
        k=10,
        n_negatives=20,
        seed=7,
        batch_size=3,
    )
    assert other["hr@10"] == res["hr@10"] and other["ndcg@10"] == pytest.approx(res["ndcg@10"], abs=1e-12)


def test_sampled_candidates_are_fixed_by_the_seed():
    data = synthetic(80, 300, 1500, seed=4)
    train, test = leave_one_out(data)
    model = MatrixModel(np.random.default_rng(2).standard_normal((80, 300)))
    a = evaluate(model, test, train=train, protocol="sampled", seed=11)
    b = evaluate(model, test, train=train, protocol="sampled", seed=11)
    c = evaluate(model, test, train=train, protocol="sampled", seed=12)
    assert a == b and a != c


def test_constant_model_pessimistic_floor():
    data = synthetic(50, 200, 1000, seed=0)
    train, test = leave_one_out(data)
    const = MatrixModel(np.zeros((50, 200)))
    assert evaluate(const, test, train=train, protocol="sampled")["hr@10"] == 0.0
    avg = evaluate(const, test, train=train, protocol="sampled", ties="average")
    assert avg["hr@10"] == pytest.approx(10 / 100, abs=1e-12)  # chance level, exactly
    assert avg["mrr"] == pytest.approx(sum(1 / p for p in range(1, 101)) / 100, abs=1e-12)


def test_rating_protocol():
    train, test = tables(TRAIN_PAIRS, TEST_PAIRS, 3, 6, test_ratings=[4.0, 2.0, 5.0, 3.0])
    preds = np.full((3, 6), 3.0)
    res = evaluate(PairModel(preds), test, train=train, protocol="rating", return_per_user=True)
    err = np.array([-1.0, 1.0, -2.0, 0.0])
    assert res["rmse"] == pytest.approx(math.sqrt(np.mean(err**2)))
    assert res["mae"] == pytest.approx(np.mean(np.abs(err)))
    assert res["n_ratings"] == 4
    np.testing.assert_allclose(res["per_user"]["rmse"], [1.0, math.sqrt(2.5), 0.0])
    np.testing.assert_allclose(res["per_user"]["mae"], [1.0, 1.5, 0.0])
    via_score_all = evaluate(MatrixModel(preds), test, train=train, protocol="rating", batch_size=1)
    assert via_score_all["rmse"] == res["rmse"]


def test_bad_input():
    train, test = tables(TRAIN_PAIRS, TEST_PAIRS, 3, 6)
    model = MatrixModel(SCORES)
    with pytest.raises(ValueError, match="protocol"):
        evaluate(model, test, train=train, protocol="loo")
    with pytest.raises(TypeError, match="neither score_all"):
        evaluate(object(), test, train=train, protocol="full")
    with pytest.raises(TypeError, match="Interactions"):
        evaluate(model, (test.users, test.items), train=train, protocol="full")
    other_train, _ = tables(TRAIN_PAIRS, TEST_PAIRS, 3, 7)
    with pytest.raises(DataError, match="index space"):
        evaluate(model, test, train=other_train, protocol="full")
    with pytest.raises(ValueError, match="k must be"):
        evaluate(model, test, train=train, protocol="full", k=0)
    with pytest.raises(ValueError, match="n_negatives"):
        evaluate(model, test, train=train, protocol="sampled", n_negatives=0)
    with pytest.raises(ValueError, match="tie rule"):
        evaluate(model, test, train=train, protocol="full", ties="random")
    with pytest.raises(NonFiniteError, match="MatrixModel.score_all returned NaN"):
        evaluate(MatrixModel(np.full((3, 6), np.nan)), test, train=train, protocol="full")
    with pytest.raises(NonFiniteError, match="PairModel.predict returned NaN"):
        evaluate(PairModel(np.full((3, 6), np.nan)), test, train=train, protocol="full")
    with pytest.raises(ShapeError, match="expected"):
        evaluate(MatrixModel(SCORES[:, :4]), test, train=train, protocol="full")

    class TextModel:
        def predict(self, users, items):
            return np.array(["high"] * len(users))

    with pytest.raises(DTypeError, match="TextModel.predict returned dtype"):
        evaluate(TextModel(), test, train=train, protocol="rating")
    # 6 items cannot give 99 negatives; the message names evaluate's argument
    with pytest.raises(DataError, match="distinct negatives: lower n_negatives"):
        evaluate(model, test, train=train, protocol="sampled")


def test_nothing_to_evaluate_is_an_error_not_nan():
    train = Interactions([0, 0, 1, 1], [0, 1, 1, 2], n_users=2, n_items=4)
    model = Popularity().fit(train.subset(np.arange(2, 4)))  # not fitted on the test pairs
    # every test pair is also a train pair: no user has a relevant candidate under "full"
    with pytest.raises(DataError, match="no test user has a relevant candidate"):
        evaluate(model, train.subset(np.arange(2)), train=train, protocol="full")


def test_a_model_fitted_on_other_data_is_refused():
    train = Interactions.from_raw([10, 10, 11], [5, 6, 6])
    twin = Interactions.from_raw([20, 20, 21], [7, 8, 8])  # the same shape, other raw ids
    model = Popularity().fit(twin)
    with pytest.raises(DataError, match="fitted on other data: its 2 user ids differ"):
        evaluate(model, train, train=train, protocol="full")


def test_sampled_protocol_names_its_fix_for_a_user_who_saw_every_item():
    # user 0 interacted with all 4 items (3 in train, 1 in test): no negative exists for it
    train = Interactions([0, 0, 0, 1], [0, 1, 2, 0], n_users=2, n_items=4)
    test = Interactions([0, 1], [3, 1], n_users=2, n_items=4)
    with pytest.raises(DataError, match=r"user 0 has only 0 items .*lower n_negatives .* protocol='full'"):
        evaluate(Popularity().fit(train), test, train=train, protocol="sampled", n_negatives=2)


@pytest.mark.realdata
def test_ml100k_popularity_matches_the_published_figure():
    """Popularity on ML-100K, leave-one-out by time, 99 negatives, pessimistic ties.

    A reference measurement is HR@10 0.308 / NDCG@10 0.163, with other negatives; ours are
    drawn differently, so agreement is within sampling noise (0.02).
    """
    path = dataset_dir("ml-100k", "u.data")
    train, test = leave_one_out(movielens("100k", path=path, download=False))
    counts = np.bincount(train.items, minlength=train.n_items).astype(np.float64)

    class Popularity:
        def score_all(self, users):
            return np.tile(counts, (len(users), 1))

    res = evaluate(Popularity(), test, train=train, protocol="sampled", k=10, seed=0)
    assert abs(res["hr@10"] - 0.308) < 0.02 and abs(res["ndcg@10"] - 0.163) < 0.02
    full = evaluate(Popularity(), test, train=train, protocol="full", k=10)
    assert full["hr@10"] < res["hr@10"]  # 1,600+ candidates are harder than 100


def test_memory_is_bounded_by_the_user_batch():
    import tracemalloc

    n_users, n_items = 3000, 400
    data = synthetic(n_users, n_items, 30_000, seed=6)
    train, test = leave_one_out(data)
    model = MatrixModel(np.random.default_rng(0).standard_normal((n_users, n_items)))
    evaluate(model, test, train=train, protocol="full", batch_size=100)  # warm caches (CSR, JIT)
    tracemalloc.start()
    evaluate(model, test, train=train, protocol="full", batch_size=100)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    dense = n_users * n_items * 8  # one float64 score matrix for all users: 9.6 MB
    assert peak < dense / 3, f"peak {peak / 2**20:.1f} MB: evaluate must not hold all users' scores"


def test_the_protocol_defaults_to_what_the_model_does():
    from tests.models.contract import implicit_toy, planted_ratings
    from tinyrec.models import BiasedMF, Popularity

    train, test, _ = planted_ratings()
    rating = BiasedMF(2, 2, seed=0).fit(train)
    assert evaluate(rating, test, train=train) == evaluate(rating, test, train=train, protocol="rating")
    train, test = implicit_toy()
    ranking = Popularity().fit(train)
    assert evaluate(ranking, test, train=train) == evaluate(ranking, test, train=train, protocol="full")
    train, test = tables(TRAIN_PAIRS, TEST_PAIRS, 3, 6)
    with pytest.raises(ValueError, match="pass protocol="):  # another library's model: no task
        evaluate(MatrixModel(SCORES), test, train=train)


def test_evaluation_runs_blas_on_one_thread_unless_the_user_set_it(monkeypatch):
    from threadpoolctl import threadpool_info

    from tinyrec import threads

    seen = []

    class Recording(MatrixModel):
        def score_all(self, users):
            seen.append([p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"])
            return super().score_all(users)

    train, test = tables(TRAIN_PAIRS, TEST_PAIRS, 3, 6)
    for name in threads.USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    evaluate(Recording(SCORES), test, train=train, protocol="full")
    assert seen and all(n == [1] * len(n) for n in seen)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")  # the user's setting wins: tinyrec leaves BLAS alone
    assert isinstance(threads.limit_blas(), contextlib.nullcontext)


def test_test_interactions_the_model_was_fitted_on_are_refused():
    from tinyrec.data import random_holdout
    from tinyrec.data.synthetic import synthetic

    data = synthetic(80, 50, 1500, seed=1)
    train_a, test_a = random_holdout(data, 0.2, seed=0)
    train_b, test_b = random_holdout(data, 0.2, seed=1)  # another split of the same data
    model = Popularity().fit(train_a)
    evaluate(model, test_a, train=train_a)  # its own split: fine
    leaked = int(np.isin(test_b.users * 50 + test_b.items, train_a.users * 50 + train_a.items).sum())
    assert leaked > 0
    with pytest.raises(DataError, match=f"{leaked:,} of the {len(test_b):,} test interactions are among"):
        evaluate(model, test_b, train=train_b)
    with pytest.warns(UserWarning, match="evaluating anyway"):
        result = evaluate(model, test_b, train=train_b, allow_seen=True)
    assert result["n_users"] > 0
    # a train that is a superset of the model's training data is fine (validation items not candidates)
    train_bigger = data.subset(~np.isin(data.users * 50 + data.items, test_a.users * 50 + test_a.items))
    evaluate(model, test_a, train=train_bigger)
    with pytest.raises(TypeError, match="allow_seen"):
        evaluate(model, test_a, train=train_a, allow_seen="yes")
