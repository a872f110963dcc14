"""Reference cases of the metrics, with ties, non-candidates and a user with no relevant item.

Ranking metrics get ``scores : (n_users, n_candidates)`` (equal scores within a row are ties;
``-inf`` marks a column that is not a candidate for that user) and ``relevance`` (graded, ``> 0``
means relevant); the case's ``args`` are the call's keyword arguments (``k``, ``ties``, ...).
Expected: ``per_user`` (``per_user=True``: NaN for a user where the metric is undefined, such as a
user with no relevant item) and ``mean`` (the mean over the users where it is defined), as the
definitions in :mod:`tinyrec.metrics` say. Other metrics get their arguments by name and give
``value``.
"""

from __future__ import annotations

import numpy as np

from ... import metrics
from .case import ARITHMETIC, TRANSCENDENTAL, Case

_MEANING = {
    "scores": "(n_users, n_candidates) scores; equal scores in a row are ties; -inf: not a candidate",
    "relevance": "(n_users, n_candidates) relevance grades; > 0 is relevant; row 4 has no relevant item, "
                 "row 5 no irrelevant candidate",
    "per_user": "the metric of each user (per_user=True); NaN where it is undefined",
    "mean": "the mean over the users where the metric is defined (per_user=False), 0-d",
    "value": "the metric's value",
    "y_true": "the true values or labels",
    "y_pred": "the predicted values or labels",
    "y_prob": "(n, n_classes) predicted probabilities",
    "y_score": "scores, ties included",
    "top_items": "(n_users, k) recommended item indices; -1 marks an empty slot",
    "item_counts": "(n_items,) number of training users of each item",
    "items": "(n_users, k) the top-k columns of each row; equal scores by lower column first; -1 for -inf",
    "item_scores": "(n_users, k) their scores",
}  # fmt: skip


def _ranking_data(rng_unused) -> dict:
    """The same scores and relevance for every ranking case, so that they can be compared."""
    rng = np.random.default_rng(17)
    scores = rng.integers(0, 4, (6, 8)) / 2.0  # four values in eight columns: ties in every row
    relevance = rng.integers(0, 3, (6, 8)).astype(np.float64) * (rng.random((6, 8)) < 0.3)
    relevance[0, :2] = [2.0, 1.0]
    scores[1, 5:] = -np.inf  # non-candidates of user 1 (their relevance must be 0)
    relevance[1, 5:] = 0.0
    relevance[4] = 0.0  # a user with no relevant item
    relevance[5] = 1.0  # a user with no irrelevant candidate (AUC is undefined there)
    return {"scores": scores, "relevance": relevance}


def _ranking_case(function: str, kwargs: dict, tolerance=ARITHMETIC) -> Case:
    fn = getattr(metrics, function)
    k = kwargs.get("k")
    label = "-".join([function, *([f"k{'all' if k is None else k}"] if "k" in kwargs else []),
                      *(str(v) for name, v in kwargs.items() if name != "k")])  # fmt: skip

    def compute(arrays):
        per_user = fn(arrays["scores"], arrays["relevance"], **kwargs, per_user=True)
        mean = fn(arrays["scores"], arrays["relevance"], **kwargs)
        return {"per_user": per_user, "mean": np.array(mean)}

    ties = kwargs.get("ties")
    notes = {"pessimistic": "ties: relevant items last among equal scores (the metric's minimum)",
             "optimistic": "ties: relevant items first among equal scores (the metric's maximum)",
             "average": "ties: the exact expectation over every order of the tied items"}[ties]  # fmt: skip
    notes += "; users with no relevant item: NaN per user, left out of the mean"
    return Case("metric", label, f"tinyrec.metrics.{function}", kwargs, _ranking_data, compute, _MEANING.get,
                tolerance, None, notes)  # fmt: skip


def _value_case(name: str, function: str, kwargs: dict, make, notes: str = "", tolerance=ARITHMETIC) -> Case:
    fn = getattr(metrics, function)

    def compute(arrays):
        return {"value": np.asarray(fn(**arrays, **kwargs), dtype=np.float64)}

    return Case("metric", name, f"tinyrec.metrics.{function}", kwargs, make, compute, _MEANING.get, tolerance,
                None, notes)  # fmt: skip


def _ratings(rng):
    return {"y_true": rng.integers(1, 6, 12).astype(np.float64), "y_pred": rng.uniform(0.5, 5.5, 12)}


def _labels(rng):
    return {"y_true": rng.integers(0, 3, 12), "y_pred": rng.integers(0, 3, 12)}


def _probabilities(rng):
    y_prob = rng.dirichlet(np.ones(3), 8)
    y_prob[0] = [1.0, 0.0, 0.0]  # a probability of 0 for the true class 2: clipped at eps
    y_true = rng.integers(0, 3, 8)
    y_true[0] = 2
    return {"y_true": y_true, "y_prob": y_prob}


def _binary_scores(rng):
    return {"y_true": np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0]), "y_score": rng.integers(0, 4, 10) / 4.0}


def _lists(rng):
    top = rng.integers(0, 9, (5, 3))
    top[2, 2] = -1  # an empty slot
    return {"top_items": top, "item_counts": rng.integers(1, 6, 9)}


def metric_cases() -> list[Case]:
    cases = []
    for ties in ("pessimistic", "optimistic", "average"):
        cases += [
            _ranking_case("hit_rate", {"k": 3, "ties": ties}),
            _ranking_case("precision", {"k": 3, "ties": ties}),
            _ranking_case("recall", {"k": 3, "ties": ties}),
            _ranking_case("ndcg", {"k": 3, "ties": ties, "gain": "linear"}, TRANSCENDENTAL),
            _ranking_case("ndcg", {"k": 3, "ties": ties, "gain": "exponential"}, TRANSCENDENTAL),
            _ranking_case("average_precision", {"k": 3, "ties": ties}),
            _ranking_case("mrr", {"k": None, "ties": ties}),
            _ranking_case("auc", {"ties": ties}),
        ]
    cases.append(_ranking_case("mrr", {"k": 2, "ties": "average"}))
    cases += [
        _value_case("mse", "mse", {}, _ratings),
        _value_case("rmse", "rmse", {}, _ratings, tolerance=TRANSCENDENTAL),
        _value_case("mae", "mae", {}, _ratings),
        _value_case("accuracy", "accuracy", {}, _labels),
        _value_case("precision_recall_f1-macro", "precision_recall_f1", {"average": "macro"}, _labels,
                    "value = (precision, recall, f1), each the unweighted mean over the classes"),
        _value_case("log_loss", "log_loss", {"eps": 1e-15}, _probabilities,
                    "p clipped to [eps, 1 − eps] before the log", TRANSCENDENTAL),
        _value_case("roc_auc", "roc_auc", {}, _binary_scores, "ties count one half"),
        _value_case("catalog_coverage", "catalog_coverage", {"n_items": 9},
                    lambda rng: {"top_items": _lists(rng)["top_items"]}, "empty slots (-1) are not items"),
        _value_case("novelty", "novelty", {"n_users": 10}, _lists,
                    "mean over the users of the mean of −log2(item_counts / n_users) over their list",
                    TRANSCENDENTAL),
    ]  # fmt: skip

    def top_k(arrays):
        items, item_scores = metrics.top_k(arrays["scores"], 4)
        return {"items": items, "item_scores": item_scores}

    def scores(rng):
        return {"scores": _ranking_data(rng)["scores"]}

    cases.append(Case("metric", "top_k", "tinyrec.metrics.top_k", {"k": 4}, scores, top_k, _MEANING.get,
                      ARITHMETIC, None, "equal scores: the lower column first"))  # fmt: skip
    return cases
