"""Exercise of tutorial 08: average precision divided by the hits, with a convention of your choosing
checked by ``check_metric``.

Task
----
Write ``my_ap_over_hits(scores, relevance, k)``: each user's AP@k under the convention of a library
such as torchmetrics, one value per user:

* rank each user's candidates by decreasing score, **equal scores in column order** (the lower
  column first: what a stable sort gives);
* take the first ``k`` positions (all of them when the user has fewer candidates);
* ``AP@k = (1 / hits@k) Σ_{p≤k} P@p · rel(p)``: the mean of the precisions at the positions of the
  relevant items in the list, ``P@p = hits@p / p``;
* a user with no relevant item in the list (none at all, or none within ``k``) scores **0**.

Then ``tinyrec.testing.check_metric`` must recognise the convention:
``ties="column order", empty="zero", denominator="hits"`` of ``tinyrec.metrics.map``.

Shapes
------
``scores, relevance : (n_users, n_candidates)`` float64; ``relevance > 0`` marks the relevant
candidates; ``k`` a positive int. The result is ``(n_users,)`` float64.

Math
----
With ``order`` the columns sorted by decreasing score (stable) and ``r_p = [relevance of the item
at position p > 0]`` for ``p = 1 .. min(k, n_candidates)``::

    hits@p = r_1 + ... + r_p
    AP@k   = Σ_p (hits@p / p) · r_p / hits@k     (0 when hits@k = 0)

Checks
------
* ``returns_one_value_per_user``: an ``(n_users,)`` array of floats;
* ``one_user_by_hand``: a list worked out by hand;
* ``divides_by_the_hits_in_the_list``: not by ``n_rel`` nor by ``min(k, n_rel)``;
* ``a_user_without_a_hit_scores_zero``: no relevant item, or none within ``k``;
* ``equal_scores_in_column_order``: ties broken by the lower column first;
* ``k_beyond_the_list``: ``k`` larger than the number of candidates;
* ``check_metric_names_the_convention``: ``check_metric(fn, "map", k)`` finds the setting above;
* ``inputs_are_not_modified``.

``check(my_ap_over_hits)`` runs them all; ``tinyrec.exercises.show_solution("ap_over_hits")``
prints the reference solution.
"""

from __future__ import annotations

import numpy as np

from ..testing.metric_check import check_metric
from .checking import expect, run_checks

NAME = "ap_over_hits"
TUTORIAL = "08_testing_another_library"
CONVENTION = {"ties": "column order", "empty": "zero", "denominator": "hits"}


# -- the stub: what the tutorial gives the student --------------------------------------------
def my_ap_over_hits(scores, relevance, k):
    """AP@k of each user: the mean precision at the hits of the top k (ties in column order; 0 without
    a hit)."""
    raise NotImplementedError("your turn: one AP@k per user, divided by the hits in the top k")


# -- the reference solution ---------------------------------------------------------------------
def solution_ap_over_hits(scores, relevance, k):
    """Rank every user at once (a stable sort keeps equal scores in column order), keep the top k,
    and average the precisions at the hits; ``np.maximum(hits, 1)`` avoids 0/0 for a user without
    a hit, whose sum of precisions is 0 anyway."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), axis=1, kind="stable")[:, :k]
    hit = np.take_along_axis(np.asarray(relevance) > 0, order, axis=1)  # (n_users, min(k, n)) bool
    positions = np.arange(1, hit.shape[1] + 1)
    precision_at_hits = np.where(hit, np.cumsum(hit, axis=1) / positions, 0.0)
    hits = hit.sum(axis=1)
    return precision_at_hits.sum(axis=1) / np.maximum(hits, 1)


STUB = my_ap_over_hits
SOLUTION = solution_ap_over_hits
TUTORIAL_CODE = (my_ap_over_hits,)


# -- the checks -----------------------------------------------------------------------------------
def _values(fn, scores, relevance, k) -> np.ndarray:
    """The candidate's per-user values; anything but one float per user stops here."""
    scores = np.asarray(scores, dtype=np.float64)
    relevance = np.asarray(relevance, dtype=np.float64)
    out = np.asarray(fn(scores.copy(), relevance.copy(), k))
    if out.shape != (scores.shape[0],) or out.dtype.kind not in "iuf":
        raise AssertionError(
            f"my_ap_over_hits returned {out.dtype} of shape {out.shape} for {scores.shape[0]} users. "
            f"Hint: one AP per user, as an array of floats (not their mean)"
        )
    return out.astype(np.float64)


def _expect_values(fn, scores, relevance, k, expected, what):
    got = _values(fn, scores, relevance, k)
    if not np.allclose(got, expected, rtol=0, atol=1e-12):
        raise AssertionError(
            f"for scores {np.asarray(scores).tolist()}, relevance {np.asarray(relevance).tolist()} and "
            f"k = {k} you return {got.tolist()}, expected {list(expected)}: {what}"
        )


def returns_one_value_per_user(fn):
    got = _values(fn, [[0.9, 0.1], [0.2, 0.8], [0.5, 0.4]], [[1, 0], [1, 1], [0, 1]], 2)
    expect(np.isfinite(got).all(), f"my_ap_over_hits returned {got.tolist()}: every user has a hit here")


def one_user_by_hand(fn):
    _expect_values(
        fn, [[0.9, 0.8, 0.7, 0.6]], [[1, 0, 1, 0]], 3, [(1 / 1 + 2 / 3) / 2],
        "hits at positions 1 and 3, precisions 1/1 and 2/3, their mean. Hint: P@p = hits@p / p at each hit",
    )  # fmt: skip


def divides_by_the_hits_in_the_list(fn):
    _expect_values(
        fn, [[0.9, 0.8, 0.7, 0.6, 0.5]], [[0, 1, 1, 1, 0]], 2, [1 / 2],
        "one hit in the top 2, at position 2 (precision 1/2): divided by the 1 hit, not by the 3 relevant "
        "items nor by min(k, n_rel) = 2",
    )  # fmt: skip


def a_user_without_a_hit_scores_zero(fn):
    _expect_values(
        fn, [[0.9, 0.8, 0.7], [0.9, 0.8, 0.7]], [[0, 0, 0], [0, 0, 1]], 2, [0.0, 0.0],
        "the first user has no relevant item, the second none within k: both score 0 (not NaN). Hint: "
        "divide by max(hits, 1)",
    )  # fmt: skip


def equal_scores_in_column_order(fn):
    _expect_values(
        fn, [[0.5, 0.5, 0.5, 0.1]], [[0, 0, 1, 0]], 2, [0.0],
        "three equal scores in column order put columns 0 and 1 in the top 2, so the relevant column 2 is "
        "out. Hint: np.argsort(-scores, kind='stable')",
    )  # fmt: skip
    _expect_values(
        fn, [[0.5, 0.5, 0.5, 0.1]], [[0, 1, 0, 0]], 2, [1 / 2],
        "column 1 is second among the equal scores: a hit at position 2",
    )  # fmt: skip


def k_beyond_the_list(fn):
    try:
        _expect_values(
            fn, [[0.3, 0.9, 0.1]], [[1, 0, 1]], 10, [(1 / 2 + 2 / 3) / 2],
            "k = 10 with 3 candidates: the whole list, hits at positions 2 and 3",
        )  # fmt: skip
    except (IndexError, ValueError) as exc:  # raised by the candidate's code, not by a check
        raise AssertionError(
            f"k = 10 with 3 candidates raised {type(exc).__name__}: {exc}. Hint: k may be larger than "
            "the list; the top k is then the whole list (cut k to the number of candidates)"
        ) from None


def check_metric_names_the_convention(fn):
    _values(fn, [[0.9, 0.1]], [[1, 0]], 1)  # the stub's NotImplementedError stops here, not in check_metric
    for k in (1, 3, 5):
        report = check_metric(fn, "map", k)
        expect(
            CONVENTION in report.matches,
            f"check_metric does not find ties='column order', empty='zero', denominator='hits' at k = {k}:\n"
            f"{report}",
        )


def inputs_are_not_modified(fn):
    rng = np.random.default_rng(8)
    scores = rng.integers(0, 4, size=(6, 7)).astype(np.float64)
    relevance = (rng.random((6, 7)) < 0.4).astype(np.float64)
    kept = scores.copy(), relevance.copy()
    fn(scores, relevance, 3)
    expect(
        np.array_equal(scores, kept[0]) and np.array_equal(relevance, kept[1]),
        "my_ap_over_hits changed scores or relevance in place; the caller still needs them",
    )


CHECKS = (
    returns_one_value_per_user,
    one_user_by_hand,
    divides_by_the_hits_in_the_list,
    a_user_without_a_hit_scores_zero,
    equal_scores_in_column_order,
    k_beyond_the_list,
    check_metric_names_the_convention,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_ap_over_hits``)."""
    return run_checks(NAME, candidate, CHECKS)
