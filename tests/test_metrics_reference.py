"""An independent, slow implementation of the ranking metrics, straight from their definitions.

No helper of tinyrec is used here: for each user, the non-candidate columns (score -inf) are dropped,
the candidates are ordered with Python's ``sorted``, and each metric is a loop over positions.
``ties="average"`` is the mean over *every* order of the tied items (enumerated with itertools);
the fast implementation must agree to 1e-12. The same enumeration checks that the pessimistic and
optimistic values are the minimum and maximum over all tie orders.
"""

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec import metrics

NAMES = ("hr", "ndcg", "precision", "recall", "map", "mrr")


def ref_list_metrics(ranked_rel, all_rel, k):
    """Metrics of one ranked list of relevance values (candidates only), cut-off k."""
    n_rel = sum(1 for r in all_rel if r > 0)
    hits, dcg, ap_sum, rr = 0, 0.0, 0.0, 0.0
    for p, r in enumerate(ranked_rel[:k], start=1):
        dcg += r / math.log2(p + 1)
        if r > 0:
            hits += 1
            ap_sum += hits / p
            if rr == 0.0:
                rr = 1.0 / p
    ideal = sorted(all_rel, reverse=True)[:k]
    idcg = sum(r / math.log2(p + 1) for p, r in enumerate(ideal, start=1))
    return {
        "hr": 1.0 if hits > 0 else 0.0,
        "ndcg": dcg / idcg,
        "precision": hits / k,
        "recall": hits / n_rel,
        "map": ap_sum / min(k, n_rel),
        "mrr": rr,
    }


def tie_orders(scores, rel):
    """Every ranking of the candidates consistent with the scores (each tie group permuted)."""
    levels = sorted(set(scores), reverse=True)
    groups = [[r for s, r in zip(scores, rel, strict=True) if s == level] for level in levels]
    for perms in itertools.product(*(itertools.permutations(g) for g in groups)):
        yield [r for perm in perms for r in perm]


def ref_user(scores_row, rel_row, k, ties):
    """Per-metric value for one user under a tie rule (None when it has no relevant item)."""
    cand = [(float(s), float(r)) for s, r in zip(scores_row, rel_row, strict=True) if s != -np.inf]
    scores = [s for s, _ in cand]
    rel = [r for _, r in cand]
    if not any(r > 0 for r in rel):
        return None
    k = len(rel_row) if k is None else k
    if ties == "pessimistic":
        ranked = [r for s, r in sorted(cand, key=lambda c: (-c[0], c[1]))]
        return ref_list_metrics(ranked, rel, k)
    if ties == "optimistic":
        ranked = [r for s, r in sorted(cand, key=lambda c: (-c[0], -c[1]))]
        return ref_list_metrics(ranked, rel, k)
    all_values = [ref_list_metrics(order, rel, k) for order in tie_orders(scores, rel)]
    if ties == "average":
        return {name: sum(v[name] for v in all_values) / len(all_values) for name in NAMES}
    agg = min if ties == "min" else max
    return {name: agg(v[name] for v in all_values) for name in NAMES}


def ref_auc_user(scores_row, rel_row, w):
    pos = [s for s, r in zip(scores_row, rel_row, strict=True) if r > 0]
    neg = [s for s, r in zip(scores_row, rel_row, strict=True) if r == 0 and s != -np.inf]
    if not pos or not neg:
        return None
    total = 0.0
    for si in pos:
        for sj in neg:
            total += 1.0 if si > sj else (w if si == sj else 0.0)
    return total / (len(pos) * len(neg))


@st.composite
def ranking_problem(draw, max_cols=6, graded=True):
    n_users = draw(st.integers(1, 4))
    n_cols = draw(st.integers(1, max_cols))
    seed = draw(st.integers(0, 2**31 - 1))
    n_levels = draw(st.sampled_from([1, 2, 3, 10]))
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, n_levels, size=(n_users, n_cols)).astype(np.float64) / 3.0
    top_grade = draw(st.sampled_from([1, 3])) if graded else 1
    relevance = rng.integers(0, top_grade + 1, size=(n_users, n_cols)).astype(np.float64)
    relevance[rng.random((n_users, n_cols)) < 0.4] = 0.0
    non_candidate = (rng.random((n_users, n_cols)) < 0.15) & (relevance == 0)
    scores[non_candidate] = -np.inf
    k = draw(st.one_of(st.none(), st.integers(1, n_cols + 2)))
    return scores, relevance, k


@settings(max_examples=150, deadline=None)
@given(problem=ranking_problem(), ties=st.sampled_from(["pessimistic", "optimistic", "average"]))
def test_fast_metrics_equal_the_slow_reference(problem, ties):
    scores, relevance, k = problem
    fast = metrics.ranking_metrics(scores, relevance, k, ties=ties, per_user=True)
    tag = "" if k is None else f"@{k}"
    for u in range(scores.shape[0]):
        ref = ref_user(scores[u], relevance[u], k, ties)
        for name in NAMES:
            got = fast[name + tag][u]
            if ref is None:
                assert np.isnan(got), (name, u)
            else:
                assert abs(got - ref[name]) <= 1e-12, (name, u, got, ref[name])


@settings(max_examples=60, deadline=None)
@given(problem=ranking_problem(), ties=st.sampled_from(["pessimistic", "optimistic"]))
def test_pessimistic_is_the_minimum_and_optimistic_the_maximum_over_tie_orders(problem, ties):
    scores, relevance, k = problem
    fast = metrics.ranking_metrics(scores, relevance, k, ties=ties, per_user=True)
    tag = "" if k is None else f"@{k}"
    for u in range(scores.shape[0]):
        ref = ref_user(scores[u], relevance[u], k, "min" if ties == "pessimistic" else "max")
        if ref is not None:
            for name in NAMES:
                assert abs(fast[name + tag][u] - ref[name]) <= 1e-12, (name, u)


@settings(max_examples=60, deadline=None)
@given(problem=ranking_problem(graded=False), ties=st.sampled_from(["pessimistic", "optimistic", "average"]))
def test_each_metric_function_equals_the_reference_mean(problem, ties):
    scores, relevance, k = problem
    refs = [ref_user(scores[u], relevance[u], k, ties) for u in range(scores.shape[0])]
    kept = [r for r in refs if r is not None]
    functions = {
        "hr": metrics.hit_rate,
        "ndcg": metrics.ndcg,
        "precision": metrics.precision,
        "recall": metrics.recall,
        "map": metrics.map,
        "mrr": metrics.mrr,
    }
    for name, fn in functions.items():
        got = fn(scores, relevance, k, ties=ties)
        if not kept:
            assert np.isnan(got)
        else:
            assert abs(got - sum(r[name] for r in kept) / len(kept)) <= 1e-12, name


@settings(max_examples=60, deadline=None)
@given(problem=ranking_problem(max_cols=8), ties=st.sampled_from(["pessimistic", "optimistic", "average"]))
def test_auc_equals_the_pair_count(problem, ties):
    scores, relevance, _ = problem
    w = {"pessimistic": 0.0, "optimistic": 1.0, "average": 0.5}[ties]
    per_user = metrics.auc(scores, relevance, ties=ties, per_user=True)
    for u in range(scores.shape[0]):
        ref = ref_auc_user(scores[u], relevance[u], w)
        if ref is None:
            assert np.isnan(per_user[u])
        else:
            assert abs(per_user[u] - ref) <= 1e-12
    # global: all finite entries pooled
    flat_s, flat_r = scores.ravel(), relevance.ravel()
    ref = ref_auc_user(flat_s, flat_r, w)
    got = metrics.auc(scores, relevance, ties=ties, average="global")
    assert (np.isnan(got) and ref is None) or abs(got - ref) <= 1e-12


@settings(max_examples=40, deadline=None)
@given(problem=ranking_problem())
def test_exponential_gain_ndcg_equals_the_reference(problem):
    scores, relevance, k = problem
    got = metrics.ndcg(scores, relevance, k, ties="average", gain="exponential", per_user=True)
    exp_rel = 2.0**relevance - 1.0  # exponential gain = linear gain of 2^rel - 1 (same order of grades)
    for u in range(scores.shape[0]):
        ref = ref_user(scores[u], exp_rel[u], k, "average")
        assert (ref is None and np.isnan(got[u])) or abs(got[u] - ref["ndcg"]) <= 1e-12
