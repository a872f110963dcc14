"""Ranking metrics at a cut-off ``k``: one row of ``scores`` per user, one column per candidate.

Each function's docstring starts with its exact definition; the conventions they share (the
arguments, ``-inf`` candidates, the three tie rules, users with no relevant item, averaging) are in
:mod:`tinyrec.metrics`. Notation, for one user: candidates ranked by score, ``rel(p)`` the relevance
of the item at position ``p = 1, 2, ...``, ``rel_bin(p) = [rel(p) > 0]``, ``n_rel`` the number of
candidates with relevance > 0, ``hits@k = Σ_{p≤k} rel_bin(p)``.
"""

from __future__ import annotations

import numpy as np

from ..kernels.ranking import top_k_rows
from ..validation import check_bool
from ._conventions import EMPTY, check_choice
from ._ranking_core import (
    check_arrays,
    check_k,
    check_score_array,
    check_score_values,
    check_values,
    per_user_values,
    reduce_users,
    resolve_ties,
    tie_groups,
)

__all__ = [
    "hit_rate",
    "ndcg",
    "precision",
    "recall",
    "average_precision",
    "map",
    "mrr",
    "auc",
    "ranking_metrics",
    "top_k",
]


def hit_rate(scores, relevance, k, *, ties="pessimistic", per_user=False, empty="nan", unretrieved="error"):
    """Hit rate at k (HR@k): does a relevant item appear in the first ``k`` positions?

    ``HR@k = [hits@k ≥ 1]``; with ``ties="average"`` it is the probability of that event over random
    orders of the tied items, ``1 − binom(m − m_rel, m_k) / binom(m, m_k)`` when no relevant item
    ranks strictly above the group of ``m`` tied items (``m_rel`` relevant) of which ``m_k``
    positions fall within ``k``.

    Parameters
    ----------
    scores : (n_users, n_candidates) float
        Higher ranks first; ``-inf`` marks a non-candidate.
    relevance : (n_users, n_candidates) float or int
        ``> 0`` means relevant.
    k : int or None
        Cut-off (``None``: the whole list).
    ties : {"pessimistic", "optimistic", "average"} or array
        How equal scores are ordered (:mod:`tinyrec.metrics`). An array of tie-break keys,
        ``(n_candidates,)`` for every user or ``(n_users, n_candidates)``, orders equal scores by
        key, **the smaller first** (equal keys: the lower column first); e.g. trec_eval's order,
        document names descending, from :func:`tinyrec.metrics.runs.from_run`.
    per_user : bool
        Return the ``(n_users,)`` values instead of their mean.
    empty : {"nan", "zero"}
        A user with no relevant item: ``"nan"`` (default) gives NaN and is left out of the mean;
        ``"zero"`` gives 0 and is averaged with the others (scikit-learn, trec_eval, torchmetrics).
    unretrieved : {"error", "miss"}
        A relevant item scored ``-inf``: ``"error"`` (default) raises, since ``-inf`` marks a
        non-candidate; ``"miss"`` takes it for a relevant item the ranking left out (a TREC run lists
        only its top documents): it counts in ``n_rel`` (and IDCG) and is at no position.

    Returns
    -------
    float or (n_users,) float64
        Mean over users with at least one relevant item (NaN when there is none); with
        ``empty="zero"`` over every user.

    Notes
    -----
    With one relevant item per user (leave-one-out) HR@k equals recall@k, and HR@k equals
    NDCG@k when that item is at position 1.
    """
    return _metric("hr", scores, relevance, k, ties, per_user, empty, unretrieved)


def ndcg(scores, relevance, k, *, ties="pessimistic", per_user=False, gain="linear", empty="nan",
         unretrieved="error"):  # fmt: skip
    """Normalized discounted cumulative gain at k (NDCG@k), binary or graded relevance.

    ``DCG@k = Σ_{p=1}^{min(k, n_candidates)} g(rel(p)) / log2(p + 1)``, with gain ``g(x) = x``
    (``gain="linear"``, the default) or ``g(x) = 2^x − 1`` (``gain="exponential"``); the two agree
    for 0/1 relevance.
    ``IDCG@k`` is the DCG@k of the same user's relevance values sorted in decreasing order (the best
    possible list of *this* user's candidates; it does not depend on the scores), and
    ``NDCG@k = DCG@k / IDCG@k`` lies in [0, 1]. With ``ties="average"``, DCG@k is its exact
    expectation over random orders of the tied items (each position of a tie group gets the group's
    mean gain).

    Parameters
    ----------
    scores, relevance, k, ties, per_user, empty, unretrieved
        As in :func:`hit_rate`; ``relevance`` may be graded (any value >= 0).
    gain : {"linear", "exponential"}
        ``"exponential"`` takes grades up to 1000 (``2^rel`` overflows float64 near 1024); a larger
        grade raises :class:`~tinyrec.errors.DataError`.

    Returns
    -------
    float or (n_users,) float64
        NaN for a user with no relevant item (IDCG = 0): excluded from the mean (``empty="zero"``:
        0, averaged).
    """
    values, valid = per_user_values(scores, relevance, k, ties, ("ndcg",), gain, unretrieved=unretrieved)
    return reduce_users(values["ndcg"], valid, per_user, empty)


def precision(scores, relevance, k, *, ties="pessimistic", per_user=False, empty="nan", unretrieved="error"):
    """Precision at k: ``P@k = hits@k / k``.

    The denominator is ``k`` even when a user has fewer than ``k`` candidates (the list has ``k``
    slots; empty ones count as misses). With ``k=None``, ``k`` is the number of columns.
    Parameters and returns as in :func:`hit_rate`.
    """
    return _metric("precision", scores, relevance, k, ties, per_user, empty, unretrieved)


def recall(scores, relevance, k, *, ties="pessimistic", per_user=False, empty="nan", unretrieved="error"):
    """Recall at k: ``R@k = hits@k / n_rel``.

    The denominator is all of the user's relevant candidates (not ``min(k, n_rel)``), so a user with
    more than ``k`` relevant items cannot reach 1. Parameters and returns as in :func:`hit_rate`.
    """
    return _metric("recall", scores, relevance, k, ties, per_user, empty, unretrieved)


def average_precision(scores, relevance, k, *, ties="pessimistic", per_user=False, denominator="min(k,n_rel)",
                      empty="nan", unretrieved="error"):  # fmt: skip
    """Average precision at k: ``AP@k = (1 / D) Σ_{p=1}^{k} P@p · rel_bin(p)``, ``D`` by ``denominator``.

    ``P@p = hits@p / p``. The denominator ``D``:

    * ``"min(k,n_rel)"`` (default; RecBole, implicit): ``D = min(k, n_rel)``, so a perfect list
      scores 1 even when the user has more than ``k`` relevant items;
    * ``"n_rel"`` (trec_eval's ``map_cut_k``, ranx's ``map@k``, scikit-learn's
      ``average_precision_score`` without ties): ``D = n_rel``, every relevant item of the user,
      ranked or not, so a list of ``k < n_rel`` cannot reach 1;
    * ``"hits"`` (torchmetrics' ``RetrievalMAP(top_k=k)``): ``D = hits@k``, the relevant items in
      the list, and ``AP@k = 0`` when there is none: the mean precision at the hits.

    MAP@k is the mean of AP@k over users (this function with ``per_user=False``; :func:`map` is the
    same function). With ``ties="average"`` the value is the exact expectation over random orders
    of the tied items (see :mod:`tinyrec.metrics._ranking_core`; for ``"hits"``, the expectation of
    the ratio, :func:`tinyrec.metrics._conventions.expected_ap_over_hits`). With ``"hits"`` AP is
    not monotone in the order of a tie group straddling position ``k`` (a relevant item just
    inside the list can lower it), so ``"pessimistic"`` and ``"optimistic"`` are the orders they
    name (relevant items last / first), not its minimum and maximum. Other parameters and returns
    as in :func:`hit_rate`.
    """
    values, valid = per_user_values(scores, relevance, k, ties, ("map",), denominator=denominator,
                                    unretrieved=unretrieved)  # fmt: skip
    return reduce_users(values["map"], valid, per_user, empty)


map = average_precision  # MAP@k = the mean of AP@k: the name users look for


def mrr(scores, relevance, k=None, *, ties="pessimistic", per_user=False, empty="nan", unretrieved="error"):
    """Reciprocal rank at k, averaged over users (MRR@k).

    ``RR@k = 1 / p*`` where ``p*`` is the position of the first relevant item, or 0 when
    ``p* > k``; with ``k=None`` (the default) there is no cut-off. With ``ties="average"`` it is the
    exact expectation of ``RR@k`` over random orders of the tied items. Parameters and returns as in
    :func:`hit_rate`.
    """
    return _metric("mrr", scores, relevance, k, ties, per_user, empty, unretrieved)


def ranking_metrics(scores, relevance, k, *, ties="pessimistic", per_user=False, denominator="min(k,n_rel)",
                    empty="nan", unretrieved="error"):  # fmt: skip
    """HR@k, NDCG@k, precision@k, recall@k, MAP@k and MRR@k from one ranking (computed once).

    Returns a dict with keys ``"hr@k"``, ``"ndcg@k"``, ``"precision@k"``, ``"recall@k"``, ``"map@k"``,
    ``"mrr@k"`` (``k`` written out, e.g. ``"ndcg@10"``; no suffix when ``k`` is None), each as the
    corresponding function returns it (linear gain for NDCG; ``denominator`` is MAP's). The ranking
    is computed once, so this is cheaper than six calls; :func:`tinyrec.evaluation.evaluate` uses it.
    """
    tag = "" if k is None else f"@{k}"
    values, valid = per_user_values(scores, relevance, k, ties, denominator=denominator,
                                    unretrieved=unretrieved)  # fmt: skip
    return {name + tag: reduce_users(v, valid, per_user, empty) for name, v in values.items()}


def _metric(name, scores, relevance, k, ties, per_user, empty, unretrieved):
    values, valid = per_user_values(scores, relevance, k, ties, (name,), unretrieved=unretrieved)
    return reduce_users(values[name], valid, per_user, empty)


def auc(scores, relevance, *, ties="pessimistic", per_user=False, average="user", empty="nan"):
    """Area under the ROC curve of each user's ranking, or of all scores pooled.

    For one user ``u`` with relevant candidates ``pos`` and irrelevant candidates ``neg`` (``-inf``
    columns excluded), scores ``ŷ_ui``:
    ``AUC = (1 / (|pos| |neg|)) Σ_{i∈pos} Σ_{j∈neg} ([ŷ_ui > ŷ_uj] + w_ij · [ŷ_ui = ŷ_uj])`` with
    ``w_ij = 0`` (pessimistic), ``1`` (optimistic) or ``1/2`` (average: the expectation over random
    tie orders); with a tie order (an array of keys), ``w_ij = 1`` when ``i`` comes first in it.

    Parameters
    ----------
    scores, relevance, ties
        As in :func:`hit_rate`. AUC has no cut-off ``k``: it looks at the whole list.
    per_user : bool
        Return the per-user AUCs (NaN for a user with no relevant or no irrelevant candidate);
        only with ``average="user"``.
    average : {"user", "global"}
        ``"user"``: mean of the per-user AUCs over users that have both kinds of candidates.
        ``"global"``: one AUC over all (relevant, irrelevant) pairs of finite entries of the whole
        matrix, users pooled (what a CTR model is usually scored with; a tie order is then not
        accepted, since the pooled entries have no common order).
    empty : {"nan", "zero"}
        A user with no relevant or no irrelevant candidate: NaN, left out of the mean (default), or
        0, averaged (torchmetrics' ``RetrievalAUROC``); with ``average="global"``, the value when
        the matrix lacks one kind.

    Returns
    -------
    float or (n_users,) float64
        NaN where AUC is undefined, as for every ranking metric (:mod:`tinyrec.metrics`): the mean
        over no user with both kinds of candidates, or a global AUC without both kinds of entries.
    """
    check_bool(per_user, "per_user")
    check_choice(empty, "empty", EMPTY)
    scores, relevance = check_arrays(scores, relevance)
    ties, tie_key = resolve_ties(ties, scores.shape)
    check_values(scores, relevance)
    if average not in ("user", "global"):
        raise ValueError(f"average={average!r} is not an AUC average; use 'user' or 'global'")
    if average == "global":
        if per_user:
            raise ValueError("per_user=True needs average='user' (a global AUC has no per-user values)")
        if tie_key is not None:
            raise ValueError("a tie order (an array) needs average='user': pooled entries have no order")
        finite = np.isfinite(scores)
        scores, relevance = scores[finite][None, :], relevance[finite][None, :]
    if tie_key is None:
        w = {"pessimistic": 0.0, "optimistic": 1.0, "average": 0.5}[ties]
        order = np.argsort(scores, axis=1, kind="stable")  # ascending
    else:  # ascending scores, equal scores by descending tie key: what comes first in the order ranks higher
        w = 0.0  # the order is total: no two entries are tied
        order = np.lexsort((-tie_key, scores), axis=1)
    s = np.take_along_axis(scores, order, axis=1)
    pos = np.take_along_axis(relevance, order, axis=1) > 0
    neg = ~pos & np.isfinite(s)
    cum_neg = np.cumsum(neg, axis=1)
    take = np.take_along_axis
    if tie_key is None:
        start, end = tie_groups(s)
        below = take(cum_neg, start, axis=1) - take(neg, start, axis=1)  # negatives scored strictly lower
        tied = take(cum_neg, end, axis=1) - below  # negatives with the same score
    else:
        below, tied = cum_neg - neg, 0.0  # negatives ranked below, in the total order
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    valid = (n_pos > 0) & (n_neg > 0)
    wins = np.where(pos, below + w * tied, 0.0).sum(axis=1)
    values = wins / np.maximum(n_pos * n_neg, 1)
    if average == "global":
        if not valid[0]:
            return float("nan") if empty == "nan" else 0.0
        return float(values[0])
    return reduce_users(values, valid, per_user, empty)


def top_k(scores, k):
    """The ``k`` best candidates of each user: ``(items, item_scores)``, both ``(n_users, min(k, n_cols))``.

    Ordered by score, equal scores by column index (lower first) — the deterministic order of the
    recommendation lists whose :func:`tinyrec.metrics.catalog_coverage` is measured. A slot whose
    score is ``-inf`` (a user with fewer than ``k`` candidates) holds item ``-1``.
    """
    scores = check_score_array(scores)
    check_score_values(scores)
    width = min(check_k(k, scores.shape[1]), scores.shape[1])
    items = top_k_rows(scores, width, scores, 0)
    item_scores = np.take_along_axis(scores, items, axis=1)
    items[np.isneginf(item_scores)] = -1
    return items, item_scores
