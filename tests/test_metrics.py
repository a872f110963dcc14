"""Ranking metrics: hand-computed examples (ties, empty relevance), properties, bad input."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec import metrics
from tinyrec.errors import DataError, DTypeError, NonFiniteError, ShapeError

L3 = math.log2(3)  # the discount of position 2 is 1 / log2(3)
TIES = ["pessimistic", "optimistic", "average"]
RANKING = [metrics.hit_rate, metrics.ndcg, metrics.precision, metrics.recall, metrics.map, metrics.mrr]


# ---------------------------------------------------------------- hand-computed examples
def test_no_ties_hand_example():
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.5]])
    relevance = np.array([[0, 1, 0, 1, 0]])  # ranked: miss, hit, miss, hit, miss
    assert metrics.hit_rate(scores, relevance, 3) == 1.0
    assert metrics.precision(scores, relevance, 3) == pytest.approx(1 / 3, abs=1e-15)
    assert metrics.recall(scores, relevance, 3) == 0.5
    assert metrics.ndcg(scores, relevance, 3) == pytest.approx((1 / L3) / (1 + 1 / L3), abs=1e-15)
    assert metrics.map(scores, relevance, 3) == pytest.approx(0.5 * (1 / 2), abs=1e-15)  # min(k, n_rel) = 2
    assert metrics.map(scores, relevance, 5) == pytest.approx(0.5 * (1 / 2 + 2 / 4), abs=1e-15)
    assert metrics.mrr(scores, relevance) == 0.5
    assert metrics.mrr(scores, relevance, 1) == 0.0
    assert metrics.hit_rate(scores, relevance, 1) == 0.0


def test_ties_hand_example():
    # three items tie at the top; the relevant one is among them
    scores = np.array([[1.0, 1.0, 1.0, 0.0]])
    relevance = np.array([[0, 0, 1, 0]])
    pess = metrics.ranking_metrics(scores, relevance, 2, ties="pessimistic")
    assert pess["hr@2"] == 0.0 and pess["ndcg@2"] == 0.0 and pess["mrr@2"] == 0.0
    assert metrics.mrr(scores, relevance, ties="pessimistic") == pytest.approx(1 / 3, abs=1e-15)
    opt = metrics.ranking_metrics(scores, relevance, 2, ties="optimistic")
    assert opt["hr@2"] == 1.0 and opt["ndcg@2"] == 1.0 and opt["mrr@2"] == 1.0
    avg = metrics.ranking_metrics(scores, relevance, 2, ties="average")
    assert avg["hr@2"] == pytest.approx(1 - 1 / 3, abs=1e-15)  # 1 - C(2,2)/C(3,2)
    assert avg["ndcg@2"] == pytest.approx((1 + 1 / L3) / 3, abs=1e-15)
    assert avg["precision@2"] == pytest.approx((2 / 3) / 2, abs=1e-15)
    assert metrics.mrr(scores, relevance, ties="average") == pytest.approx((1 + 1 / 2 + 1 / 3) / 3, abs=1e-15)


def test_constant_model_pessimistic_is_the_floor_and_average_is_chance():
    scores = np.zeros((3, 100))
    relevance = np.zeros((3, 100))
    relevance[[0, 1, 2], [5, 50, 99]] = 1
    assert metrics.hit_rate(scores, relevance, 10) == 0.0
    assert metrics.hit_rate(scores, relevance, 10, ties="optimistic") == 1.0
    assert metrics.hit_rate(scores, relevance, 10, ties="average") == pytest.approx(0.1, abs=1e-14)
    assert metrics.mrr(scores, relevance, ties="pessimistic") == pytest.approx(1 / 100, abs=1e-15)


def test_two_relevant_items_in_a_tie_average():
    # four tied items, two relevant: AP@4 over the 6 equally likely placements of the two hits
    scores = np.zeros((1, 4))
    relevance = np.array([[1, 0, 1, 0]])
    placements = [(1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]
    ap = np.mean([(1 / a + 2 / b) / 2 for a, b in placements])
    assert metrics.map(scores, relevance, 4, ties="average") == pytest.approx(ap, abs=1e-15)
    hr2 = np.mean([a <= 2 for a, b in placements])
    assert metrics.hit_rate(scores, relevance, 2, ties="average") == pytest.approx(hr2, abs=1e-15)


def test_graded_ndcg_hand_example():
    scores = np.array([[3.0, 2.0, 1.0]])
    relevance = np.array([[1.0, 3.0, 0.0]])
    linear = (1 + 3 / L3) / (3 + 1 / L3)
    exponential = (1 + 7 / L3) / (7 + 1 / L3)
    assert metrics.ndcg(scores, relevance, 3) == pytest.approx(linear, abs=1e-15)
    assert metrics.ndcg(scores, relevance, 3, gain="exponential") == pytest.approx(exponential, abs=1e-15)
    # ties among graded items: pessimistic puts the lower grade first
    tied = np.array([[1.0, 1.0, 0.0]])
    pess = (1 + 3 / L3) / (3 + 1 / L3)
    opt = 1.0
    assert metrics.ndcg(tied, relevance, 3, ties="pessimistic") == pytest.approx(pess, abs=1e-15)
    assert metrics.ndcg(tied, relevance, 3, ties="optimistic") == pytest.approx(opt, abs=1e-15)
    assert metrics.ndcg(tied, relevance, 3, ties="average") == pytest.approx((pess + opt) / 2, abs=1e-15)


def test_user_without_relevant_item_is_nan_and_excluded():
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.4]])
    relevance = np.array([[1, 0], [1, 0], [0, 0]])
    for fn in RANKING:
        per_user = fn(scores, relevance, 1, per_user=True)
        assert per_user.shape == (3,) and np.isnan(per_user[2]) and not np.isnan(per_user[:2]).any()
        assert fn(scores, relevance, 1) == pytest.approx(np.mean(per_user[:2]), abs=1e-15)
    assert metrics.hit_rate(scores, relevance, 1) == 0.5
    assert np.isnan(metrics.ndcg(scores[2:], relevance[2:], 1))  # nobody to average
    assert np.isnan(metrics.auc(scores, relevance, per_user=True)[2])


def test_non_candidates_are_excluded():
    # -inf marks an item seen in training: it is not ranked, not a negative for AUC
    scores = np.array([[0.5, -np.inf, 0.9, 0.1]])
    relevance = np.array([[1, 0, 0, 0]])
    assert metrics.mrr(scores, relevance) == 0.5
    assert metrics.auc(scores, relevance) == 0.5  # beats 0.1, loses to 0.9
    assert metrics.precision(scores, relevance, 10) == pytest.approx(0.1, abs=1e-15)  # k slots
    items, item_scores = metrics.top_k(scores, 4)
    np.testing.assert_array_equal(items, [[2, 0, 3, -1]])
    assert np.isneginf(item_scores[0, 3])


def test_auc_hand_example():
    scores = np.array([[0.9, 0.5, 0.5, 0.1]])
    relevance = np.array([[0, 1, 0, 0]])
    assert metrics.auc(scores, relevance) == pytest.approx(1 / 3, abs=1e-15)
    assert metrics.auc(scores, relevance, ties="optimistic") == pytest.approx(2 / 3, abs=1e-15)
    assert metrics.auc(scores, relevance, ties="average") == pytest.approx(1 / 2, abs=1e-15)


def test_top_k_breaks_ties_by_column():
    items, _ = metrics.top_k(np.array([[1.0, 2.0, 2.0, 0.0]]), 2)
    np.testing.assert_array_equal(items, [[1, 2]])


# ---------------------------------------------------------------- properties
@st.composite
def binary_problem(draw):
    n_users, n_cols = draw(st.integers(1, 8)), draw(st.integers(1, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    n_levels = draw(st.sampled_from([2, 5, 1000]))
    scores = rng.integers(0, n_levels, size=(n_users, n_cols)).astype(np.float64)
    relevance = (rng.random((n_users, n_cols)) < draw(st.floats(0.05, 0.6))).astype(np.float64)
    return scores, relevance, draw(st.integers(1, n_cols + 3)), rng


@settings(max_examples=40, deadline=None)
@given(problem=binary_problem(), ties=st.sampled_from(TIES))
def test_values_lie_in_unit_interval(problem, ties):
    scores, relevance, k, _ = problem
    for fn in RANKING:
        v = fn(scores, relevance, k, ties=ties, per_user=True)
        v = v[~np.isnan(v)]
        assert np.all((v >= -1e-15) & (v <= 1 + 1e-12)), fn.__name__
    a = metrics.auc(scores, relevance, ties=ties, per_user=True)
    assert np.all((a[~np.isnan(a)] >= 0) & (a[~np.isnan(a)] <= 1))


@settings(max_examples=40, deadline=None)
@given(problem=binary_problem())
def test_perfect_ranking_scores_one_and_reversed_scores_the_minimum(problem):
    scores, relevance, k, _ = problem
    perfect = metrics.ranking_metrics(relevance, relevance, k, per_user=True)
    for name in ("hr", "ndcg", "map", "mrr"):
        v = perfect[f"{name}@{k}"]
        np.testing.assert_allclose(v[~np.isnan(v)], 1.0, rtol=0, atol=1e-12)
    n_rel = relevance.sum(axis=1)
    has = n_rel > 0
    expected_recall = np.minimum(k, n_rel[has]) / n_rel[has]
    np.testing.assert_allclose(perfect[f"recall@{k}"][has], expected_recall, atol=1e-12)
    # reversed = the worst order of all: the pessimistic value of a constant model
    reversed_ = metrics.ranking_metrics(-relevance, relevance, k, per_user=True)
    given_order = metrics.ranking_metrics(scores, relevance, k, per_user=True)
    worst = metrics.ranking_metrics(np.zeros_like(scores), relevance, k, ties="pessimistic", per_user=True)
    for name, v in reversed_.items():
        np.testing.assert_allclose(v, worst[name], rtol=0, atol=1e-12)
        # and no ranking of these candidates does worse
        assert np.all(given_order[name][has] >= v[has] - 1e-12)
    n_irr = (relevance == 0).sum(axis=1)
    np.testing.assert_allclose(reversed_[f"mrr@{k}"][has], np.where(n_irr[has] < k, 1 / (n_irr[has] + 1), 0))
    both = has & (n_irr > 0)
    np.testing.assert_array_equal(metrics.auc(-relevance, relevance, per_user=True)[both], 0.0)


@settings(max_examples=40, deadline=None)
@given(problem=binary_problem())
def test_pessimistic_le_average_le_optimistic(problem):
    scores, relevance, k, _ = problem
    p, o, a = (metrics.ranking_metrics(scores, relevance, k, ties=t, per_user=True) for t in TIES)
    for name in p:
        ok = ~np.isnan(p[name])
        assert np.all(p[name][ok] <= a[name][ok] + 1e-12) and np.all(a[name][ok] <= o[name][ok] + 1e-12)


@settings(max_examples=40, deadline=None)
@given(problem=binary_problem(), ties=st.sampled_from(TIES))
def test_invariant_to_the_order_of_users_and_of_candidates(problem, ties):
    scores, relevance, k, rng = problem
    base = metrics.ranking_metrics(scores, relevance, k, ties=ties)
    rows = rng.permutation(scores.shape[0])
    cols = rng.permutation(scores.shape[1])
    by_users = metrics.ranking_metrics(scores[rows], relevance[rows], k, ties=ties)
    by_cols = metrics.ranking_metrics(scores[:, cols], relevance[:, cols], k, ties=ties)
    for name, v in base.items():
        assert (np.isnan(v) and np.isnan(by_users[name])) or abs(v - by_users[name]) <= 1e-12
        assert (np.isnan(v) and np.isnan(by_cols[name])) or abs(v - by_cols[name]) <= 1e-12


@settings(max_examples=30, deadline=None)
@given(n_cols=st.integers(2, 40), rank=st.integers(1, 40), k=st.integers(1, 40), seed=st.integers(0, 1000))
def test_one_relevant_item(n_cols, rank, k, seed):
    rank = min(rank, n_cols)
    rng = np.random.default_rng(seed)
    scores = rng.permutation(n_cols).astype(np.float64)[None, :]  # distinct scores
    target = int(np.argsort(-scores[0])[rank - 1])  # the item at position `rank`
    relevance = np.zeros_like(scores)
    relevance[0, target] = 1
    hr = metrics.hit_rate(scores, relevance, k)
    assert metrics.recall(scores, relevance, k) == hr
    assert metrics.ndcg(scores, relevance, k) == pytest.approx(hr / math.log2(rank + 1), abs=1e-15)
    if rank == 1:
        assert metrics.ndcg(scores, relevance, k) == hr == 1.0


def test_float32_and_int_scores_give_the_float64_values():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, size=(6, 9))
    relevance = rng.random((6, 9)) < 0.3
    ref = metrics.ranking_metrics(scores.astype(np.float64), relevance, 4, ties="average")
    for s in (scores, scores.astype(np.float32)):
        got = metrics.ranking_metrics(s, relevance, 4, ties="average")
        assert got == pytest.approx(ref, abs=1e-15, nan_ok=True)


# ---------------------------------------------------------------- bad input
GOOD_S = np.array([[0.3, 0.2]])
GOOD_R = np.array([[1, 0]])


@pytest.mark.parametrize("fn", RANKING)
def test_bad_input_raises_clear_errors(fn):
    with pytest.raises(NonFiniteError, match="NaN"):
        fn(np.array([[np.nan, 1.0]]), GOOD_R, 1)
    with pytest.raises(NonFiniteError, match=r"\+inf"):
        fn(np.array([[np.inf, 1.0]]), GOOD_R, 1)
    with pytest.raises(ShapeError, match="must match"):
        fn(GOOD_S, np.array([[1, 0, 0]]), 1)
    with pytest.raises(ShapeError, match=r"scores\[None, :\]"):
        fn(np.array([0.3, 0.2]), np.array([1, 0]), 1)
    with pytest.raises(ShapeError, match="at least one candidate"):
        fn(np.zeros((2, 0)), np.zeros((2, 0)), 1)
    with pytest.raises(DataError, match="negative"):
        fn(GOOD_S, np.array([[-1, 0]]), 1)
    with pytest.raises(NonFiniteError, match="relevance"):
        fn(GOOD_S, np.array([[np.nan, 0]]), 1)
    with pytest.raises(DataError, match="-inf"):
        fn(np.array([[-np.inf, 0.2]]), GOOD_R, 1)
    with pytest.raises(DTypeError, match="numeric"):
        fn(np.array([["a", "b"]]), GOOD_R, 1)
    with pytest.raises(ValueError, match="tie rule"):
        fn(GOOD_S, GOOD_R, 1, ties="random")
    for bad_k in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="positive int"):
            fn(GOOD_S, GOOD_R, bad_k)
    with pytest.raises(TypeError, match="per_user must be True or False"):
        fn(GOOD_S, GOOD_R, 1, per_user="no")  # a truthy string used to count as True


def test_auc_per_user_must_be_a_bool():
    with pytest.raises(TypeError, match="per_user must be True or False"):
        metrics.auc(GOOD_S, GOOD_R, per_user="no")


@pytest.mark.parametrize("ties", TIES)
def test_exponential_gain_refuses_grades_that_overflow(ties):
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((4, 6)), 1)  # some ties
    relevance = rng.integers(0, 3, (4, 6)).astype(np.float64)  # grades 0, 1, 2
    relevance[:, 0] = 2  # every user has a relevant item
    # 2**1000 - 1 is finite: grades up to 1000 work
    value = metrics.ndcg(scores, relevance * 500, 2, gain="exponential", ties=ties)
    assert 0.0 <= value <= 1.0
    # 2**2000 overflows float64 and NDCG was inf / inf = NaN: now a DataError names the fix
    with pytest.raises(DataError, match=r"too large for gain='exponential'.*use gain='linear'"):
        metrics.ndcg(scores, relevance * 1000, 2, gain="exponential", ties=ties)
    # float32 grades are computed in float64 (2**200 overflows float32, not float64)
    exact = metrics.ndcg(scores, relevance * 100, 2, gain="exponential", ties=ties)
    single = metrics.ndcg(scores, (relevance * 100).astype(np.float32), 2, gain="exponential", ties=ties)
    assert np.isfinite(exact) and single == pytest.approx(exact, rel=1e-12)


def test_bad_options():
    with pytest.raises(ValueError, match="gain"):
        metrics.ndcg(GOOD_S, GOOD_R, 1, gain="log")
    with pytest.raises(ValueError, match="average"):
        metrics.auc(GOOD_S, GOOD_R, average="micro")
    with pytest.raises(ValueError, match="per_user"):
        metrics.auc(GOOD_S, GOOD_R, average="global", per_user=True)
    with pytest.raises(ValueError, match="tie rule"):
        metrics.auc(GOOD_S, GOOD_R, ties="random")
