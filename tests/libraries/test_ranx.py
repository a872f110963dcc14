"""ranx against tinyrec: every ranking metric to 1e-12 without ties; with ties, between tinyrec's
pessimistic and optimistic values.

The settings (docs/metrics.md): ``empty="zero"``, MAP divided by ``n_rel``, ``gain="linear"`` for
``ndcg`` and ``"exponential"`` for ``ndcg_burges``, ``unretrieved="miss"`` for a run that lacks
relevant documents. ranx orders equal scores by NumPy's (unstable) quicksort over hashed document
ids, and Python salts the hash of a string per process: its tie order is implementation-defined,
so with ties the test checks the one thing it can, that each value is one that some order gives.
"""

import numpy as np
import pytest

from tinyrec import metrics

from .helpers import CUTOFFS, cases, require

pytestmark = pytest.mark.slow  # ranx compiles its Numba kernels on first use


def _settings(k):
    """ranx's metric name -> ``f(scores, relevance, ties)``, tinyrec with ranx's settings."""
    common = {"empty": "zero", "unretrieved": "miss", "per_user": True}
    return {
        f"hit_rate@{k}": lambda s, r, t: metrics.hit_rate(s, r, k, ties=t, **common),
        f"hits@{k}": lambda s, r, t: k * metrics.precision(s, r, k, ties=t, **common),
        f"precision@{k}": lambda s, r, t: metrics.precision(s, r, k, ties=t, **common),
        f"recall@{k}": lambda s, r, t: metrics.recall(s, r, k, ties=t, **common),
        f"mrr@{k}": lambda s, r, t: metrics.mrr(s, r, k, ties=t, **common),
        f"map@{k}": lambda s, r, t: metrics.map(s, r, k, ties=t, denominator="n_rel", **common),
        f"ndcg@{k}": lambda s, r, t: metrics.ndcg(s, r, k, ties=t, **common),
        f"ndcg_burges@{k}": lambda s, r, t: metrics.ndcg(s, r, k, ties=t, gain="exponential", **common),
    }


def _ranx(run: dict, qrels: dict, names) -> dict:
    ranx = require("ranx", "ranx")
    names = list(names)
    out = ranx.evaluate(ranx.Qrels(qrels), ranx.Run(run), names, return_mean=False)
    out = out if len(names) > 1 else {names[0]: out}  # one metric: its array alone
    return {name: np.asarray(values) for name, values in out.items()}


@pytest.mark.parametrize("graded", [False, True])
@pytest.mark.parametrize("k", CUTOFFS)
def test_every_metric_without_ties(k, graded):
    worst = 0.0
    for scores, relevance in cases(300 + k, 15, ties=False, graded=graded):
        settings = _settings(k)
        # ranx sorts the queries by id: q0 .. q5 keep the rows' order
        theirs = _ranx(metrics.to_run(scores), metrics.to_qrels(relevance, keep_zero=True), settings)
        for name, ours in settings.items():
            worst = max(worst, np.abs(ours(scores, relevance, "pessimistic") - theirs[name]).max())
    assert worst <= 1e-12


@pytest.mark.parametrize("k", CUTOFFS)
def test_with_ties_each_value_lies_between_pessimistic_and_optimistic(k):
    for scores, relevance in cases(400 + k, 15, ties=True):
        settings = _settings(k)
        theirs = _ranx(metrics.to_run(scores), metrics.to_qrels(relevance, keep_zero=True), settings)
        for name, ours in settings.items():
            low, high = ours(scores, relevance, "pessimistic"), ours(scores, relevance, "optimistic")
            assert np.all(low - 1e-12 <= theirs[name]) and np.all(theirs[name] <= high + 1e-12), name


def test_a_run_that_lacks_relevant_documents():
    """ranx counts a relevant document absent from the run in n_rel and the ideal DCG, as
    ``unretrieved="miss"`` does; from_run puts such documents at -inf."""
    run = {"q1": {"a": 0.9, "b": 0.5, "c": 0.3}, "q2": {"a": 0.2, "d": 0.8}}
    qrels = {"q1": {"c": 2, "x": 1}, "q2": {"z": 1}}
    m = metrics.from_run(run, qrels)
    for name, ours in _settings(2).items():
        theirs = _ranx(run, qrels, [name])[name]
        np.testing.assert_allclose(ours(m.scores, m.relevance, "pessimistic"), theirs, rtol=0, atol=1e-12)
