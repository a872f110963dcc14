"""trec_eval (through pytrec_eval) against tinyrec: every measure to 1e-12, ties and empty queries included.

The settings (docs/metrics.md): ``ties`` = trec_eval's order (equal scores by document id,
descending: ``from_run(...).trec_ties``, or the reversed columns for :func:`to_run`'s ids),
``empty="zero"`` (a judged query with no relevant document scores 0 and is averaged), MAP divided
by ``n_rel``, linear gain, and ``unretrieved="miss"`` for a run that lists only its top documents.
"""

import numpy as np
import pytest

from tinyrec import metrics

from .helpers import CUTOFFS, cases, require

#: the settings of tinyrec that are trec_eval's, for every measure (the tie order is passed per call)
TREC = {"empty": "zero", "unretrieved": "miss", "per_user": True}


def _measures(k):
    """trec_eval's measure name -> ``f(scores, relevance, tie_order)``, tinyrec with trec_eval's settings."""
    return {
        f"P_{k}": lambda s, r, t: metrics.precision(s, r, k, ties=t, **TREC),
        f"recall_{k}": lambda s, r, t: metrics.recall(s, r, k, ties=t, **TREC),
        f"success_{k}": lambda s, r, t: metrics.hit_rate(s, r, k, ties=t, **TREC),
        f"map_cut_{k}": lambda s, r, t: metrics.map(s, r, k, ties=t, denominator="n_rel", **TREC),
        f"ndcg_cut_{k}": lambda s, r, t: metrics.ndcg(s, r, k, ties=t, **TREC),
        "map": lambda s, r, t: metrics.map(s, r, None, ties=t, denominator="n_rel", **TREC),
        "ndcg": lambda s, r, t: metrics.ndcg(s, r, None, ties=t, **TREC),
        "recip_rank": lambda s, r, t: metrics.mrr(s, r, None, ties=t, **TREC),
    }


def _trec_eval(run, qrels, names):
    pytrec_eval = require("pytrec_eval", "pytrec-eval-terrier")
    return pytrec_eval.RelevanceEvaluator(qrels, set(names)).evaluate(run)


@pytest.mark.parametrize("graded", [False, True])
@pytest.mark.parametrize("k", CUTOFFS)
def test_every_measure_with_ties_and_empty_queries(k, graded):
    worst = 0.0
    for scores, relevance in cases(100 + k, 20, ties=True, graded=graded):
        run, qrels = metrics.to_run(scores), metrics.to_qrels(relevance, keep_zero=True)
        measures = _measures(k)
        theirs = _trec_eval(run, qrels, measures)
        assert set(theirs) == set(run)  # every judged query, the one without a relevant document too
        reversed_columns = -np.arange(scores.shape[1])  # to_run's ids: their text order is the columns'
        m = metrics.from_run(run, qrels)
        for name, ours in measures.items():
            got = np.array([theirs[q][name] for q in run])
            worst = max(worst, np.abs(ours(scores, relevance, reversed_columns) - got).max())
            # the same through from_run: the query's documents in the run's order, trec_ties
            worst = max(worst, np.abs(ours(m.scores, m.relevance, m.trec_ties) - got).max())
    assert worst <= 1e-12


@pytest.mark.parametrize("k", CUTOFFS)
def test_a_run_of_top_documents_and_trec_files(k, tmp_path):
    """The run lists each query's best 4 documents only (relevant ones beyond are not retrieved),
    written as TREC files with ids whose text order is not their number's; read back by from_run."""
    rng = np.random.default_rng(k)
    for scores, relevance in cases(200 + k, 10, ties=True):
        ids = [f"doc{int(x)}" for x in rng.permutation(1000)[: scores.shape[1]]]
        lines, qlines = [], []
        for q, (row, rel) in enumerate(zip(scores, relevance, strict=True)):
            kept = np.argsort(-row, kind="stable")[:4]
            lines += [f"{q} Q0 {ids[j]} {p} {float(row[j])!r} tinyrec" for p, j in enumerate(kept, start=1)]
            qlines += [f"{q} 0 {ids[j]} {int(g)}" for j, g in enumerate(rel)]
        (tmp_path / "run").write_text("\n".join(lines) + "\n")
        (tmp_path / "qrels").write_text("\n".join(qlines) + "\n")
        run, qrels = metrics.read_trec_run(tmp_path / "run"), metrics.read_trec_qrels(tmp_path / "qrels")
        qrels = {q: {d: int(g) for d, g in docs.items()} for q, docs in qrels.items()}
        theirs = _trec_eval(run, qrels, _measures(k))
        m = metrics.from_run(tmp_path / "run", tmp_path / "qrels")
        assert m.query_ids == list(run)
        for name, ours in _measures(k).items():
            got = np.array([theirs[q][name] for q in m.query_ids])
            np.testing.assert_allclose(ours(m.scores, m.relevance, m.trec_ties), got, rtol=0, atol=1e-12)


def test_a_query_without_judgments_is_not_evaluated():
    run = {"q1": {"a": 0.5, "b": 0.2}, "q2": {"a": 0.9}}
    qrels = {"q1": {"b": 1}}
    theirs = _trec_eval(run, qrels, {"P_1"})
    assert set(theirs) == {"q1"}
    m = metrics.from_run(run, qrels)
    assert m.query_ids == ["q1"]
