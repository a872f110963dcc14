"""The other libraries' conventions as options: AP's denominator, users with no relevant item, a tie
order given by the caller, relevant items a ranking did not retrieve.

Each option is checked against an independent, slow reference written from the definitions (Python
``sorted``, a loop over positions, every order of the tied items enumerated with itertools), to
1e-12, on drawn problems with ties, users with no relevant item, k beyond the list and graded
relevance. The defaults are checked to give the very numbers they gave before the options existed.
"""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec import metrics
from tinyrec.errors import DataError, NonFiniteError, ShapeError

NAMES = ("hr", "ndcg", "precision", "recall", "map", "mrr")
DENOMINATORS = ("min(k,n_rel)", "n_rel", "hits")


def ref_list(ranked, all_rel, k, denominator):
    """Metrics of one ranked list of relevance values; ``all_rel`` holds every relevant item's grade
    (those the list lacks too), for n_rel and IDCG."""
    n_rel = sum(1 for r in all_rel if r > 0)
    hits, dcg, ap_sum, rr = 0, 0.0, 0.0, 0.0
    for p, r in enumerate(ranked[:k], start=1):
        dcg += r / math.log2(p + 1)
        if r > 0:
            hits += 1
            ap_sum += hits / p
            rr = rr or 1.0 / p
    idcg = sum(r / math.log2(p + 1) for p, r in enumerate(sorted(all_rel, reverse=True)[:k], start=1))
    d = {"min(k,n_rel)": min(k, n_rel), "n_rel": n_rel, "hits": hits}[denominator]
    return {"hr": float(hits > 0), "ndcg": dcg / idcg, "precision": hits / k, "recall": hits / n_rel,
            "map": ap_sum / d if d else 0.0, "mrr": rr}  # fmt: skip


def ref_user(scores, rel, k, ties, denominator="min(k,n_rel)", order=None):
    """One user's metrics: ``ties`` a rule, ``"order"`` (by ``order``, smaller first, then column),
    ``"min"``/``"max"`` over every tie order; None when the user has no relevant item. Columns scored
    -inf are not in the list; a relevant one among them still counts in n_rel and IDCG."""
    if not any(r > 0 for r in rel):
        return None
    k = len(rel) if k is None else k
    cols = [j for j in range(len(rel)) if scores[j] != -np.inf]
    if ties in ("pessimistic", "optimistic", "order"):
        sign = {"pessimistic": 1, "optimistic": -1}.get(ties, 0)
        key = (
            (lambda j: (-scores[j], sign * rel[j], j))
            if ties != "order"
            else (lambda j: (-scores[j], order[j], j))
        )
        return ref_list([rel[j] for j in sorted(cols, key=key)], list(rel), k, denominator)
    levels = sorted({scores[j] for j in cols}, reverse=True)
    groups = [[rel[j] for j in cols if scores[j] == s] for s in levels]
    values = [ref_list([r for g in perm for r in g], list(rel), k, denominator)
              for perm in itertools.product(*(itertools.permutations(g) for g in groups))]  # fmt: skip
    if ties == "average":
        return {n: sum(v[n] for v in values) / len(values) for n in NAMES}
    pick = min if ties == "min" else max
    return {n: pick(v[n] for v in values) for n in NAMES}


@st.composite
def problems(draw, max_cols=6, unretrieved=False):
    n_users, n_cols = draw(st.integers(1, 4)), draw(st.integers(1, max_cols))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    scores = rng.integers(0, draw(st.sampled_from([1, 2, 3, 10])), (n_users, n_cols)) / 3.0
    relevance = rng.integers(0, draw(st.sampled_from([1, 3])) + 1, (n_users, n_cols)).astype(np.float64)
    relevance[rng.random((n_users, n_cols)) < 0.4] = 0.0
    relevance[rng.random(n_users) < 0.2] = 0.0  # users with no relevant item
    outside = rng.random((n_users, n_cols)) < 0.2
    scores[outside & ((relevance == 0) | unretrieved)] = -np.inf
    k = draw(st.one_of(st.none(), st.integers(1, n_cols + 2)))
    return scores, relevance, k


def _compare(fast, scores, relevance, k, **ref_args):
    tag = "" if k is None else f"@{k}"
    for u in range(scores.shape[0]):
        ref = ref_user(scores[u], relevance[u], k, **ref_args)
        for name in NAMES:
            got = fast[name + tag][u]
            assert (ref is None and np.isnan(got)) or abs(got - ref[name]) <= 1e-12, (name, u, got, ref)


@settings(max_examples=120, deadline=None)
@given(problem=problems(), ties=st.sampled_from(["pessimistic", "optimistic", "average"]),
       denominator=st.sampled_from(DENOMINATORS))  # fmt: skip
def test_every_denominator_under_every_tie_rule_equals_the_reference(problem, ties, denominator):
    scores, relevance, k = problem
    fast = metrics.ranking_metrics(scores, relevance, k, ties=ties, denominator=denominator, per_user=True)
    _compare(fast, scores, relevance, k, ties=ties, denominator=denominator)
    ap = metrics.average_precision(scores, relevance, k, ties=ties, denominator=denominator, per_user=True)
    np.testing.assert_array_equal(ap, fast["map" + ("" if k is None else f"@{k}")])


@settings(max_examples=80, deadline=None)
@given(problem=problems(), denominator=st.sampled_from(DENOMINATORS), seed=st.integers(0, 100),
       per_row=st.booleans())  # fmt: skip
def test_a_tie_order_given_by_the_caller_equals_the_reference(problem, denominator, seed, per_row):
    scores, relevance, k = problem
    rng = np.random.default_rng(seed)
    shape = scores.shape if per_row else scores.shape[1:]
    order = rng.integers(0, 3, shape) + rng.random(shape).round(1)  # repeated keys: then the column decides
    fast = metrics.ranking_metrics(scores, relevance, k, ties=order, denominator=denominator, per_user=True)
    rows = np.broadcast_to(order, scores.shape)
    tag = "" if k is None else f"@{k}"
    for u in range(scores.shape[0]):
        ref = ref_user(scores[u], relevance[u], k, "order", denominator, rows[u])
        for name in NAMES:
            got = fast[name + tag][u]
            assert (ref is None and np.isnan(got)) or abs(got - ref[name]) <= 1e-12, (name, u)


@settings(max_examples=60, deadline=None)
@given(problem=problems(), seed=st.integers(0, 100))
def test_a_tie_order_lies_between_pessimistic_and_optimistic(problem, seed):
    scores, relevance, k = problem
    order = np.random.default_rng(seed).permutation(scores.shape[1])
    got = metrics.ranking_metrics(scores, relevance, k, ties=order, per_user=True)
    low = metrics.ranking_metrics(scores, relevance, k, ties="pessimistic", per_user=True)
    high = metrics.ranking_metrics(scores, relevance, k, ties="optimistic", per_user=True)
    for name in got:
        kept = ~np.isnan(got[name])
        assert np.all(low[name][kept] <= got[name][kept] + 1e-15) and np.all(
            got[name][kept] <= high[name][kept] + 1e-15
        )


@settings(max_examples=60, deadline=None)
@given(problem=problems(max_cols=8), seed=st.integers(0, 100))
def test_auc_with_a_tie_order_counts_the_pairs_in_that_order(problem, seed):
    scores, relevance, _ = problem
    order = np.random.default_rng(seed).integers(0, 4, scores.shape[1])
    got = metrics.auc(scores, relevance, ties=order, per_user=True)
    for u in range(scores.shape[0]):
        pos = [j for j in range(scores.shape[1]) if relevance[u, j] > 0]
        neg = [j for j in range(scores.shape[1]) if relevance[u, j] == 0 and scores[u, j] != -np.inf]
        if not pos or not neg:
            assert np.isnan(got[u])
            continue
        rank = sorted(range(scores.shape[1]), key=lambda j: (-scores[u, j], order[j], j))  # the total order
        ahead = [rank.index(i) < rank.index(j) for i in pos for j in neg]
        assert abs(got[u] - sum(ahead) / len(ahead)) <= 1e-12


@settings(max_examples=80, deadline=None)
@given(problem=problems(unretrieved=True), ties=st.sampled_from(["pessimistic", "optimistic", "average"]),
       denominator=st.sampled_from(DENOMINATORS))  # fmt: skip
def test_unretrieved_relevant_items_count_as_misses(problem, ties, denominator):
    scores, relevance, k = problem
    fast = metrics.ranking_metrics(scores, relevance, k, ties=ties, denominator=denominator,
                                   unretrieved="miss", per_user=True)  # fmt: skip
    _compare(fast, scores, relevance, k, ties=ties, denominator=denominator)


def test_unretrieved_defaults_to_an_error_that_names_the_option():
    scores, relevance = np.array([[0.5, -np.inf]]), np.array([[0.0, 1.0]])
    with pytest.raises(DataError, match="unretrieved='miss'"):
        metrics.recall(scores, relevance, 2)
    assert metrics.recall(scores, relevance, 2, unretrieved="miss") == 0.0
    assert metrics.ndcg(scores, relevance, 2, unretrieved="miss") == 0.0
    with pytest.raises(ValueError, match="unretrieved='skip' is not one of"):
        metrics.recall(scores, relevance, 2, unretrieved="skip")


@settings(max_examples=60, deadline=None)
@given(problem=problems(), ties=st.sampled_from(["pessimistic", "optimistic", "average"]))
def test_empty_zero_scores_the_users_without_a_relevant_item_zero(problem, ties):
    scores, relevance, k = problem
    nan = metrics.ranking_metrics(scores, relevance, k, ties=ties, per_user=True)
    zero = metrics.ranking_metrics(scores, relevance, k, ties=ties, per_user=True, empty="zero")
    empty = ~(relevance > 0).any(axis=1)
    for name in nan:
        np.testing.assert_array_equal(zero[name][~empty], nan[name][~empty])
        assert np.all(zero[name][empty] == 0.0) and np.all(np.isnan(nan[name][empty]))
        mean = metrics.ranking_metrics(scores, relevance, k, ties=ties, empty="zero")[name]
        assert mean == pytest.approx(zero[name].mean(), abs=1e-15)
    functions = (metrics.hit_rate, metrics.ndcg, metrics.precision, metrics.recall, metrics.map, metrics.mrr)
    for fn, name in zip(functions, nan, strict=True):
        assert fn(scores, relevance, k, ties=ties, empty="zero") == pytest.approx(
            zero[name].mean(), abs=1e-15
        )


def test_auc_empty_zero_and_global():
    scores = np.array([[0.3, 0.1, 0.2], [0.5, 0.4, 0.1], [0.1, 0.2, 0.3]])
    relevance = np.array([[1, 0, 0], [0, 0, 0], [1, 1, 1]])
    assert np.array_equal(metrics.auc(scores, relevance, per_user=True, empty="zero"), [1.0, 0.0, 0.0])
    assert metrics.auc(scores, relevance, empty="zero") == pytest.approx(1 / 3)
    assert metrics.auc(scores, relevance) == 1.0
    assert metrics.auc(scores[1:2], relevance[1:2], average="global", empty="zero") == 0.0
    assert np.isnan(metrics.auc(scores[1:2], relevance[1:2], average="global"))
    with pytest.raises(ValueError, match="needs average='user'"):
        metrics.auc(scores, relevance, ties=np.arange(3), average="global")


def test_the_hits_denominator_is_not_monotone_in_the_tie_order():
    # one relevant item above, then a tie group of three (one relevant) straddling k = 3
    scores = np.array([[1.0, 0.5, 0.5, 0.5]])
    relevance = np.array([[1.0, 0.0, 1.0, 0.0]])
    # keys of columns 1, 2, 3 (column 2 is the relevant one): it lands at position 2, 3 or 4
    at = {2: [0, 1, 0, 2], 3: [0, 0, 1, 2], 4: [0, 0, 2, 1]}
    got = {
        p: metrics.map(scores, relevance, 3, denominator="hits", ties=np.array(keys))
        for p, keys in at.items()
    }
    assert got[2] == 1.0 and got[4] == 1.0 and got[3] == pytest.approx((1 + 2 / 3) / 2, abs=1e-15)
    assert metrics.map(scores, relevance, 3, denominator="hits", ties="pessimistic") == 1.0  # at 4: outside
    assert metrics.map(scores, relevance, 3, denominator="hits", ties="optimistic") == 1.0  # at 2


def test_bad_options_are_named():
    scores, relevance = np.array([[0.2, 0.1]]), np.array([[1.0, 0.0]])
    with pytest.raises(ValueError, match="denominator='k' is not one of"):
        metrics.map(scores, relevance, 2, denominator="k")
    with pytest.raises(ValueError, match="empty='skip' is not one of"):
        metrics.ndcg(scores, relevance, 2, empty="skip")
    with pytest.raises(ValueError, match="empty="):
        metrics.auc(scores, relevance, empty=0)
    with pytest.raises(ShapeError, match=r"\(n_candidates,\) = \(2,\)"):
        metrics.ndcg(scores, relevance, 2, ties=np.arange(3))
    with pytest.raises(NonFiniteError, match="tie order"):
        metrics.ndcg(scores, relevance, 2, ties=np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="array of tie-break keys"):
        metrics.ndcg(scores, relevance, 2, ties=np.array(["a", "b"]))
    with pytest.raises(ValueError, match="is not a tie rule"):
        metrics.ndcg(scores, relevance, 2, ties="random")


def test_the_defaults_spelled_out_give_the_same_numbers():
    """Omitting the options and passing their defaults give identical arrays (the defaults' numbers
    are unchanged from before the options: the golden vectors re-check with zero difference)."""
    rng = np.random.default_rng(18)
    scores = rng.integers(0, 4, (30, 12)) / 2.0
    relevance = rng.integers(0, 3, (30, 12)) * (rng.random((30, 12)) < 0.3)
    scores[3, 8:] = -np.inf
    relevance[3, 8:] = 0
    for ties in ("pessimistic", "optimistic", "average"):
        base = metrics.ranking_metrics(scores, relevance, 5, ties=ties, per_user=True)
        explicit = metrics.ranking_metrics(scores, relevance, 5, ties=ties, per_user=True, empty="nan",
                                           denominator="min(k,n_rel)", unretrieved="error")  # fmt: skip
        for name in base:
            np.testing.assert_array_equal(base[name], explicit[name])
