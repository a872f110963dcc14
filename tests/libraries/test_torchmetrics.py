"""torchmetrics' retrieval metrics against tinyrec.

The settings (docs/metrics.md): ``empty="zero"`` (``empty_target_action="neg"``, the default;
``"skip"`` is ``empty="nan"``), MAP divided by the hits in the list (``denominator="hits"``), NDCG
with ``ties="average"`` (torchmetrics averages the gains of tied items, as scikit-learn does),
AUROC with ``ties="average"``. Not to 1e-12: torchmetrics 1.9 returns AP, NDCG, precision and
recall in float32 whatever the input's dtype (it counts positions and gains in float32), so those
are compared to a few float32 units in the last place; hit rate and reciprocal rank are exact. Its
other metrics order equal scores with ``torch.topk``/``argsort``, whose order of ties is
implementation-defined: with ties each value is checked to be one that some order of the tied
items gives (between the minimum and maximum over every order, enumerated). torchmetrics also
treats an item scored 0 or less as not relevant in AP, precision, recall and MRR: the cases' scores
are positive.
"""

import numpy as np
import pytest

from tests.test_metrics_conventions import ref_user
from tinyrec import metrics

from ..helpers import require_torch
from .helpers import CUTOFFS, cases, require

FLOAT32 = 4 * float(np.finfo(np.float32).eps)  # a few units in the last place of a float32 near 1


#: torchmetrics' function -> (tinyrec's function, its settings, the tolerance, the reference's name)
FUNCTIONS = {
    "retrieval_average_precision": (metrics.map, {"denominator": "hits"}, FLOAT32, "map"),
    "retrieval_normalized_dcg": (metrics.ndcg, {}, FLOAT32, "ndcg"),
    "retrieval_precision": (metrics.precision, {}, FLOAT32, "precision"),
    "retrieval_recall": (metrics.recall, {}, FLOAT32, "recall"),
    "retrieval_hit_rate": (metrics.hit_rate, {}, 1e-12, "hr"),
    "retrieval_reciprocal_rank": (metrics.mrr, {}, 1e-12, "mrr"),
}


def _ours(function, scores, relevance, k, ties):
    fn, settings, _, _ = FUNCTIONS[function]
    return fn(scores, relevance, k, ties=ties, empty="zero", per_user=True, **settings)


def _theirs(function_name, scores, relevance, k):
    torch = require_torch()
    functional = require("torchmetrics.functional.retrieval", "torchmetrics")
    fn = getattr(functional, function_name)
    graded = function_name == "retrieval_normalized_dcg"
    values = []
    for s, r in zip(scores, relevance, strict=True):
        target = torch.tensor(r) if graded else torch.tensor(r).long()
        values.append(float(fn(torch.tensor(s), target, top_k=k)))
    return np.array(values)


@pytest.mark.parametrize("k", CUTOFFS)
def test_every_metric_without_ties(k):
    for function, (_, _, tolerance, _) in FUNCTIONS.items():
        for scores, relevance in cases(
            500 + k, 10, ties=False, graded=function == "retrieval_normalized_dcg"
        ):
            theirs = _theirs(function, scores, relevance, k)
            ours = _ours(function, scores, relevance, k, "pessimistic")
            np.testing.assert_allclose(theirs, ours, rtol=0, atol=tolerance, err_msg=function)


@pytest.mark.parametrize("k", CUTOFFS)
def test_ndcg_averages_ties(k):
    for scores, relevance in cases(600 + k, 10, ties=True, graded=True):
        theirs = _theirs("retrieval_normalized_dcg", scores, relevance, k)
        ours = _ours("retrieval_normalized_dcg", scores, relevance, k, "average")
        np.testing.assert_allclose(theirs, ours, rtol=0, atol=FLOAT32)


@pytest.mark.parametrize("k", CUTOFFS)
def test_with_ties_each_value_is_that_of_some_order(k):
    for function, (_, settings, tolerance, ref_name) in FUNCTIONS.items():
        if function == "retrieval_normalized_dcg":
            continue
        denominator = settings.get("denominator", "min(k,n_rel)")
        for scores, relevance in cases(700 + k, 6, ties=True, n_cols=6):
            theirs = _theirs(function, scores, relevance, k)
            for u in range(len(scores)):
                low = ref_user(scores[u], relevance[u], k, "min", denominator)
                high = ref_user(scores[u], relevance[u], k, "max", denominator)
                if low is None:
                    assert theirs[u] == 0.0  # empty="zero"
                else:
                    assert low[ref_name] - tolerance <= theirs[u] <= high[ref_name] + tolerance, (function, u)


@pytest.mark.parametrize("action, empty", [("neg", "zero"), ("skip", "nan")])
def test_the_mean_over_queries_and_empty_target_action(action, empty):
    torch = require_torch()
    torchmetrics = require("torchmetrics", "torchmetrics")
    scores, relevance = cases(800, 1, ties=False)[0]
    indexes = torch.arange(scores.shape[0]).repeat_interleave(scores.shape[1])
    for cls, ours in ((torchmetrics.retrieval.RetrievalMAP, lambda: metrics.map(
            scores, relevance, 3, denominator="hits", empty=empty)),
            (torchmetrics.retrieval.RetrievalMRR, lambda: metrics.mrr(scores, relevance, 3, empty=empty)),
            (torchmetrics.retrieval.RetrievalNormalizedDCG, lambda: metrics.ndcg(
                scores, relevance, 3, ties="average", empty=empty))):  # fmt: skip
        metric = cls(top_k=3, empty_target_action=action)
        theirs = float(
            metric(torch.tensor(scores.ravel()), torch.tensor(relevance.ravel()).long(), indexes=indexes)
        )
        assert theirs == pytest.approx(ours(), abs=FLOAT32), cls.__name__


def test_auroc_averages_ties_and_scores_an_empty_query_zero():
    scores, relevance = cases(900, 1, ties=True)[0]
    theirs = _theirs("retrieval_auroc", scores, relevance, None)
    ours = metrics.auc(scores, relevance, ties="average", empty="zero", per_user=True)
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=FLOAT32)
