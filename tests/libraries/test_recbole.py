"""RecBole's metrics against tinyrec, through the functions its evaluator calls (``metric_info``).

RecBole ranks every candidate with ``torch.topk`` (equal scores: implementation-defined order) and
hands its metrics a matrix of hits at each position of the top K (``pos_index``) and each user's
number of relevant items (``pos_len``); only users with a test item are evaluated. The settings
(docs/metrics.md): ``hit_rate``, ``precision``, ``recall``, ``ndcg`` and ``map`` at their defaults
(MAP divided by ``min(k, n_rel)``), ``mrr`` with the cut-off ``k``; users with no relevant item never
reach the metrics (``empty`` does not arise). Compared on rows without ties (RecBole's tie order is
``torch.topk``'s) and before RecBole rounds its means to ``metric_decimal_place`` (4 by default).
RecBole 1.2.1 writes ``np.float``, which NumPy 1.24 removed: its MRR, MAP and NDCG raise
``AttributeError`` under NumPy 2, so the test puts ``np.float = float`` back while it runs them.
"""

import numpy as np
import pytest

from tinyrec import metrics

from .helpers import CUTOFFS, cases, require


@pytest.fixture
def recbole(monkeypatch):
    module = require("recbole.evaluator.metrics", "recbole")
    monkeypatch.setattr(np, "float", float, raising=False)  # RecBole 1.2.1 under NumPy >= 1.24
    return module


def _hits_at_positions(scores, relevance, width):
    """RecBole's ``pos_index``: whether the item at each of the first ``width`` positions is relevant."""
    top = np.argsort(-scores, axis=1, kind="stable")[:, :width]
    return np.take_along_axis(relevance > 0, top, axis=1)


@pytest.mark.parametrize("k", CUTOFFS)
def test_topk_metrics_without_ties(recbole, k):
    settings = {
        "Hit": lambda s, r: metrics.hit_rate(s, r, k, per_user=True),
        "Precision": lambda s, r: metrics.precision(s, r, k, per_user=True),
        "Recall": lambda s, r: metrics.recall(s, r, k, per_user=True),
        "NDCG": lambda s, r: metrics.ndcg(s, r, k, per_user=True),
        "MAP": lambda s, r: metrics.map(s, r, k, per_user=True),
        "MRR": lambda s, r: metrics.mrr(s, r, k, per_user=True),
    }
    for scores, relevance in cases(1500 + k, 20, ties=False, n_cols=14):
        rows = (relevance > 0).any(axis=1)  # RecBole evaluates the users with a test item only
        scores, relevance = scores[rows], relevance[rows]
        pos_index = _hits_at_positions(scores, relevance, k)
        pos_len = (relevance > 0).sum(axis=1)
        for name, ours in settings.items():
            metric = getattr(recbole, name)
            args = (pos_index, pos_len) if name in ("MAP", "Recall", "NDCG") else (pos_index,)
            theirs = metric.metric_info(None, *args)[:, k - 1]  # column k - 1: the metric at k
            np.testing.assert_allclose(theirs, ours(scores, relevance), rtol=0, atol=1e-12, err_msg=name)


def test_gauc_is_the_auc_of_each_user_weighted_by_its_relevant_items(recbole):
    """GAUC: ``Σ_u n_pos,u · AUC_u / Σ_u n_pos,u`` (ties averaged through mean ranks): no single
    setting (tinyrec's mean weighs users equally); computed from ``auc(per_user=True)``."""
    for scores, relevance in cases(1600, 10, ties=True):
        rows = (relevance > 0).any(axis=1) & (relevance == 0).any(axis=1)
        scores, relevance = scores[rows], relevance[rows]
        # descending ranks, tied items sharing their mean rank (what RecBole's collector passes)
        above = (scores[:, :, None] < scores[:, None, :]).sum(axis=2)
        tied = (scores[:, :, None] == scores[:, None, :]).sum(axis=2)
        rank = above + (tied + 1) / 2.0
        pos_rank_sum = (rank * (relevance > 0)).sum(axis=1, keepdims=True)
        user_len = np.full(len(scores), float(scores.shape[1]))
        pos_len = (relevance > 0).sum(axis=1).astype(np.float64)
        theirs = recbole.GAUC.metric_info(None, pos_rank_sum, user_len, pos_len)
        per_user = metrics.auc(scores, relevance, ties="average", per_user=True)
        assert abs(theirs - (per_user * pos_len).sum() / pos_len.sum()) <= 1e-12


def test_pointwise_metrics(recbole):
    rng = np.random.default_rng(1700)
    for _ in range(10):
        labels = rng.integers(0, 2, 60).astype(np.float64)
        probs = np.clip(rng.random(60).round(2), 0.01, 0.99)  # ties
        theirs = recbole.AUC.metric_info(None, probs, labels)
        assert abs(theirs - metrics.roc_auc(labels.astype(int), probs)) <= 1e-12
        theirs = recbole.LogLoss.metric_info(None, probs, labels)
        assert abs(theirs - metrics.log_loss(labels.astype(int), probs)) <= 1e-12
        ratings, predicted = rng.integers(1, 6, 60).astype(np.float64), rng.uniform(1, 5, 60)
        theirs = (
            recbole.RMSE.metric_info(None, predicted, ratings),
            recbole.MAE.metric_info(None, predicted, ratings),
        )
        assert abs(theirs[0] - metrics.rmse(ratings, predicted)) <= 1e-12
        assert abs(theirs[1] - metrics.mae(ratings, predicted)) <= 1e-12
    items = rng.integers(0, 30, (8, 5))
    assert recbole.ItemCoverage.get_coverage(None, items, 30) == metrics.catalog_coverage(items, 30)


def test_log_loss_clips_p_then_takes_one_minus_it(recbole):
    """Both clip at 1e-15, but RecBole clips p and then computes log(1 − p): p = 1 with label 0 costs
    −log(1 − (1 − 1e-15)) = −log(9.992e-16) in float64, tinyrec's −log(1e-15) (it clips 1 − p)."""
    theirs = recbole.LogLoss.metric_info(None, np.array([1.0]), np.array([0.0]))
    assert theirs == -np.log(1.0 - (1.0 - 1e-15)) and metrics.log_loss([0], [1.0]) == -np.log(1e-15)


@pytest.mark.parametrize("k", CUTOFFS)
def test_with_ties_torch_topk_gives_a_value_between_pessimistic_and_optimistic(recbole, k):
    """RecBole's collector takes the top K with ``torch.topk``, whose order of equal scores is
    implementation-defined: each value is one that some order gives."""
    torch = require("torch", "torch")
    for scores, relevance in cases(1800 + k, 20, ties=True, n_cols=14):
        rows = (relevance > 0).any(axis=1)
        scores, relevance = scores[rows], relevance[rows]
        _, top = torch.topk(torch.tensor(scores), k, dim=-1)
        pos_index = np.take_along_axis(relevance > 0, top.numpy(), axis=1)
        pos_len = (relevance > 0).sum(axis=1)
        functions = {"Hit": metrics.hit_rate, "Precision": metrics.precision, "Recall": metrics.recall,
                     "NDCG": metrics.ndcg, "MAP": metrics.map, "MRR": metrics.mrr}  # fmt: skip
        for name, fn in functions.items():
            args = (pos_index, pos_len) if name in ("MAP", "Recall", "NDCG") else (pos_index,)
            theirs = getattr(recbole, name).metric_info(None, *args)[:, k - 1]
            low = fn(scores, relevance, k, ties="pessimistic", per_user=True)
            high = fn(scores, relevance, k, ties="optimistic", per_user=True)
            assert np.all(low - 1e-12 <= theirs) and np.all(theirs <= high + 1e-12), name
