"""implicit (0.7) through tinyrec.adapters, and implicit's ranking metrics against tinyrec's.

``from_implicit`` scores every item with ``user_factors @ item_factors.T``: its top items (seen
ones removed) are implicit's ``recommend``. implicit's ``ranking_metrics_at_k`` evaluates the users
with a test item on their top K unseen items; the settings (docs/metrics.md): ``map`` is
``map(k=K)`` and ``ndcg`` is ``ndcg(k=K)`` at tinyrec's defaults (AP divided by ``min(K, n_rel)``,
binary gain, users without a test item left out), which ``evaluate(protocol="full")`` computes;
``precision`` is no setting: a ratio of sums, ``Σ_u hits_u@K / Σ_u min(K, n_rel,u)``, computed from
tinyrec's per-user precision; ``auc`` ("AUC@K") is ``auc(ties="average")`` on scores where every
item below the top K is tied (their order unknown, each pair counted ½) and the user's seen items
are candidates (implicit counts them among the negatives). implicit orders equal scores by its
top-k routine: the factors are random floats, so those cases have no ties; with ties (items given
equal factors) its values lie between tinyrec's pessimistic and optimistic ones.
"""

import numpy as np
import pytest

from tinyrec import adapters, evaluate, metrics
from tinyrec.data import Interactions
from tinyrec.threads import limit_blas

from .helpers import require

K = 5


def _split():
    """Implicit feedback on 40 users and 60 items: train and a disjoint test, one index space."""
    rng = np.random.default_rng(41)
    pairs = np.unique(np.stack([rng.integers(0, 40, 900), rng.integers(0, 60, 900)], axis=1), axis=0)
    data = Interactions.from_raw(pairs[:, 0] * 3 + 1, pairs[:, 1] * 5 + 2)  # raw ids are not indices
    test_rows = rng.random(len(data)) < 0.2
    return data.subset(~test_rows), data.subset(test_rows)


def _csr(interactions):
    """The users x items matrix implicit takes (scipy), from tinyrec's CSR arrays."""
    sparse = require("scipy.sparse", "scipy")
    indptr, indices, data = interactions.to_csr()
    shape = (interactions.n_users, interactions.n_items)
    return sparse.csr_matrix((np.array(data), np.array(indices), np.array(indptr)), shape=shape)


def _fitted(kind: str, train):
    require("implicit", "implicit")
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    with limit_blas():  # implicit warns when BLAS runs several threads
        if kind == "als":
            model = AlternatingLeastSquares(factors=8, iterations=3, random_state=0, num_threads=1)
        else:
            model = BayesianPersonalizedRanking(factors=8, iterations=5, random_state=0, num_threads=1)
        model.fit(_csr(train), show_progress=False)
    return model


def _matrices(model, train, test):
    """tinyrec's view of implicit's evaluation: scores (seen items -inf) and the test items."""
    seen = _csr(train).toarray() > 0
    scores = adapters.from_implicit(model, train).score_all(np.arange(train.n_users))
    scores[seen] = -np.inf
    relevance = (_csr(test).toarray() > 0).astype(np.float64)
    return scores, relevance, seen


@pytest.mark.parametrize("kind", ["als", "bpr"])
def test_the_adapter_ranks_as_implicit_recommends(kind):
    train, _ = _split()
    model = _fitted(kind, train)
    scores, _, _ = _matrices(model, train, train)
    users = np.arange(train.n_users)
    ids, their_scores = model.recommend(users, _csr(train)[users], N=K)
    ours, our_scores = metrics.top_k(scores, K)
    np.testing.assert_array_equal(ours, ids)
    np.testing.assert_allclose(our_scores, their_scores, rtol=1e-5)  # implicit's float32 products


@pytest.mark.parametrize("kind", ["als", "bpr"])
def test_ranking_metrics_at_k(kind):
    implicit_evaluation = require("implicit.evaluation", "implicit")
    train, test = _split()
    model = _fitted(kind, train)
    theirs = implicit_evaluation.ranking_metrics_at_k(
        model, _csr(train), _csr(test), K=K, show_progress=False, num_threads=1
    )
    scores, relevance, seen = _matrices(model, train, test)
    assert len(np.unique(scores[np.isfinite(scores)])) == np.isfinite(scores).sum()  # no ties
    assert abs(theirs["map"] - metrics.map(scores, relevance, K)) <= 1e-12
    assert abs(theirs["ndcg"] - metrics.ndcg(scores, relevance, K)) <= 1e-12
    # tinyrec's full protocol through the adapter: the same two numbers
    result = evaluate(adapters.from_implicit(model, train), test, train=train, k=K)
    assert abs(theirs["map"] - result[f"map@{K}"]) <= 1e-12
    assert abs(theirs["ndcg"] - result[f"ndcg@{K}"]) <= 1e-12
    # precision: hits over min(K, n_rel), summed over users before the division
    rows = relevance.sum(axis=1) > 0
    hits = K * metrics.precision(scores, relevance, K, per_user=True)[rows]
    assert abs(theirs["precision"] - hits.sum() / np.minimum(K, relevance[rows].sum(axis=1)).sum()) <= 1e-12
    # AUC@K: the top K in order, every other item (seen ones included) tied below them
    top, _ = metrics.top_k(scores, K)
    truncated = np.zeros_like(scores)
    np.put_along_axis(truncated, top, np.arange(K, 0, -1, dtype=np.float64)[None, :], axis=1)
    assert abs(theirs["auc"] - metrics.auc(truncated, relevance, ties="average")) <= 1e-12
    assert seen.any()  # the seen items were among AUC@K's negatives


@pytest.mark.parametrize("kind", ["als", "bpr"])
def test_with_ties_implicits_values_lie_between_pessimistic_and_optimistic(kind):
    """Items made identical in threes (equal factors): implicit's top-k routine orders equal scores
    its own way, so its MAP and NDCG are each one that some order of the tied items gives."""
    implicit_evaluation = require("implicit.evaluation", "implicit")
    train, test = _split()
    model = _fitted(kind, train)
    model.item_factors = np.repeat(model.item_factors[::3], 3, axis=0)[: train.n_items].copy()
    theirs = implicit_evaluation.ranking_metrics_at_k(
        model, _csr(train), _csr(test), K=K, show_progress=False, num_threads=1
    )
    scores, relevance, _ = _matrices(model, train, test)
    for name, fn in (("map", metrics.map), ("ndcg", metrics.ndcg)):
        low = fn(scores, relevance, K, ties="pessimistic")
        high = fn(scores, relevance, K, ties="optimistic")
        assert low < high, "the case has no tie that matters"
        assert low - 1e-12 <= theirs[name] <= high + 1e-12, name


def test_bad_input_is_named():
    train, _ = _split()
    model = _fitted("als", train)
    with pytest.raises(Exception, match="users are not rows of the implicit model"):
        adapters.from_implicit(model, train, user_order=train.user_ids[1:])

    class NoFactors:
        user_factors, item_factors = np.zeros(3), np.zeros(3)

    with pytest.raises(TypeError, match="no user_factors / item_factors matrices"):
        adapters.from_implicit(NoFactors(), train)
