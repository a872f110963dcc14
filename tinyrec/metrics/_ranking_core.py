"""The machinery shared by the ranking metrics: input checks, the first relevant item, and the
tie-aware ranked prefix.

**First relevant item (HR and MRR).** Both depend only on where the first relevant item lands.
Let ``s*`` be the highest score among the user's relevant items; ``a`` the number of candidates
scored above ``s*``; ``m`` the number scored exactly ``s*`` (its tie group) and ``m_rel`` the
relevant ones among them. Then the first relevant position is ``a + m − m_rel + 1``
(pessimistic), ``a + 1`` (optimistic), or, over a uniformly random order of the group (average),
``a + J`` with

    Pr(J = j) = Π_{l=1}^{j-1} (m − m_rel − l + 1) / (m − l + 1) · m_rel / (m − j + 1),
                j = 1 .. m − m_rel + 1

(the group's first ``j − 1`` positions irrelevant, then a relevant one). ``HR@k = Pr(a + J ≤ k)``
and ``RR@k = E[1 / (a + J) · [a + J ≤ k]]``. This needs a few passes over the row, no sorting.

**Ranked prefix (DCG, precision, recall, AP).** These sum over the first ``k`` positions. For each
position ``p`` (1-based) of that prefix this module computes the *expected* quantities the metrics
sum, under the chosen tie rule (see :mod:`tinyrec.metrics` for the rules):

* ``hit[p]    = E[rel_bin(p)]``                       a relevant item at position p
* ``gain[p]   = E[g(rel(p))]``                        its gain (for DCG)
* ``ap[p]     = E[rel_bin(p) · hits@p]``              hits@p = relevant items at positions ≤ p (for AP)

With ``ties="pessimistic"`` / ``"optimistic"`` the order is deterministic (equal scores ordered by
relevance, ascending / descending) and the expectations are plain values. With ``"average"`` they
are exact expectations over a uniformly random order of each group of equal scores: a group of
``m`` items holding ``m_rel`` relevant ones (and a total gain ``G``), with ``a_rel`` relevant items
in the groups ranked above it; at its ``o``-th position

    hit = m_rel / m        gain = G / m
    ap = (m_rel / m)(a_rel + 1) + (o − 1) · m_rel (m_rel − 1) / (m (m − 1))

(for ``ap``: ``E[rel(p) rel(p')] = m_rel (m_rel − 1) / (m (m − 1))`` for two positions ``p``, ``p'``
of one group). A deterministic order is the special case of singleton groups (``m = 1``), so one
formula serves all three rules. Groups above the group straddling position ``k`` lie entirely
inside the prefix; the straddling group's ``m``, ``m_rel`` and ``G`` are counted over the whole
row.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from ..errors import DataError, DTypeError, NonFiniteError, ShapeError
from ..kernels.ranking import top_k_rows
from ..validation import check_bool
from ._conventions import (
    DENOMINATORS,
    EMPTY,
    UNRETRIEVED,
    check_choice,
    check_unretrieved_values,
    expected_ap_over_hits,
    tie_order_ranks,
)

TIES = ("pessimistic", "optimistic", "average")
GAINS = ("linear", "exponential")
_TIE_SIGN = {"pessimistic": -1, "optimistic": 1, "average": 0}


def check_ties(ties: str) -> str:
    """``ties`` must name one of the three rules of :mod:`tinyrec.metrics`."""
    if ties not in TIES:
        raise ValueError(f"ties={ties!r} is not a tie rule; use one of {TIES}")
    return ties


def resolve_ties(ties, shape: tuple):
    """``(rule, tie_key)``: one of the three named rules and ``None``, or ``"order"`` and the caller's
    tie order as ranks (:func:`tinyrec.metrics._conventions.tie_order_ranks`)."""
    if isinstance(ties, str):
        return check_ties(ties), None
    return "order", tie_order_ranks(ties, shape)


def check_k(k, n_cols: int) -> int:
    """``None`` means the whole list (``n_cols``); otherwise a positive int (it may exceed n_cols)."""
    if k is None:
        return n_cols
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive int (or None for the whole list), got {k!r}")
    return int(k)


def _numeric(x, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == np.bool_:
        return x.astype(np.float64)
    if x.dtype.kind not in "iuf":
        raise DTypeError(f"{name} must be numeric, got dtype {x.dtype}; convert it with .astype(float)")
    if x.dtype.kind != "f" or x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    return x


def check_score_array(scores) -> np.ndarray:
    """``scores : (n_users, n_candidates)``, numeric, at least one column; returned as floats."""
    scores = _numeric(scores, "scores")
    if scores.ndim != 2:
        raise ShapeError(
            f"scores must be 2-D (n_users, n_candidates), got shape {scores.shape}; "
            "for a single user pass scores[None, :]"
        )
    if scores.shape[1] == 0:
        raise ShapeError("scores has no candidate column; each user needs at least one candidate")
    return scores


def check_arrays(scores, relevance):
    """Dtypes and shapes of ``scores`` and ``relevance`` (both ``(n_users, n_candidates)``).

    Returns both as float arrays (float32 and float64 kept, other numbers cast to float64). The
    values are checked separately by :func:`check_values`, block by block.
    """
    scores = check_score_array(scores)
    relevance = _numeric(relevance, "relevance")
    if relevance.shape != scores.shape:
        raise ShapeError(
            f"relevance has shape {relevance.shape} but scores has shape {scores.shape}; "
            "they must match (one relevance per scored candidate)"
        )
    return scores, relevance


def check_score_values(scores: np.ndarray) -> None:
    """No NaN and no +inf (-inf is allowed: it marks a non-candidate)."""
    if np.isnan(scores).any():
        raise NonFiniteError("scores contains NaN; a model that outputs NaN cannot be ranked")
    if np.isposinf(scores).any():
        raise NonFiniteError(
            "scores contains +inf; use finite scores (-inf alone is allowed: it marks a non-candidate)"
        )


def check_values(scores: np.ndarray, relevance: np.ndarray, unretrieved: str = "error") -> None:
    """:func:`check_score_values`, and relevance finite, >= 0, and (unless ``unretrieved="miss"``) 0
    wherever the score is -inf."""
    check_score_values(scores)
    if not np.isfinite(relevance).all():
        raise NonFiniteError("relevance contains NaN or inf; use 0/1 (or finite grades >= 0)")
    if (relevance < 0).any():
        raise DataError("relevance contains negative values; use 0/1 (or grades >= 0)")
    check_unretrieved_values(scores, relevance, unretrieved)


MAX_EXPONENTIAL_GRADE = 1000  # 2**1000 ≈ 1e301: sums of such gains stay finite in float64


def gain_of(relevance: np.ndarray, gain: str) -> np.ndarray:
    """``g(rel) = rel`` (``"linear"``) or ``2**rel - 1`` (``"exponential"``, in float64).

    The exponential gain overflows float64 beyond ``rel ≈ 1024`` (and NDCG becomes inf/inf = NaN),
    so grades above :data:`MAX_EXPONENTIAL_GRADE` raise :class:`DataError`.
    """
    if gain == "linear":
        return relevance
    if gain == "exponential":
        if relevance.size and relevance.max() > MAX_EXPONENTIAL_GRADE:
            raise DataError(
                f"relevance grade {relevance.max()} is too large for gain='exponential' (2**rel - 1 "
                f"overflows; the limit is {MAX_EXPONENTIAL_GRADE}): use gain='linear' or smaller grades"
            )
        return np.expm1(relevance.astype(np.float64) * np.log(2.0))
    raise ValueError(f"gain={gain!r} is not a gain; use one of {GAINS}")


def discounts(n: int) -> np.ndarray:
    """``1 / log2(p + 1)`` for positions ``p = 1..n``."""
    return 1.0 / np.log2(np.arange(2, n + 2, dtype=np.float64))


def tie_groups(sorted_values: np.ndarray):
    """For rows sorted (either way), the first and last index of each entry's run of equal values.

    ``sorted_values : (n_rows, n_cols)``; returns ``start, end : (n_rows, n_cols)`` int64.
    """
    n_cols = sorted_values.shape[1]
    pos = np.arange(n_cols)
    new = np.ones(sorted_values.shape, dtype=bool)
    new[:, 1:] = sorted_values[:, 1:] != sorted_values[:, :-1]
    start = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
    last = np.ones(sorted_values.shape, dtype=bool)
    last[:, :-1] = new[:, 1:]
    # (n_rows, n_cols): run the minimum from the right, so each entry sees the end of its run
    end = np.minimum.accumulate(np.where(last, pos, n_cols - 1)[:, ::-1], axis=1)[:, ::-1]
    return start, end


def group_sum(cumsum: np.ndarray, values: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over each entry's run ``[start, end]``, from the row-wise ``cumsum``."""
    take = np.take_along_axis
    return take(cumsum, end, axis=1) - take(cumsum, start, axis=1) + take(values, start, axis=1)


class RankedPrefix(NamedTuple):
    """Per-position expectations over the first ``min(k, n_candidates)`` positions (module docstring)."""

    k: int
    n_relevant: np.ndarray  # (n_users,) number of candidates with relevance > 0
    hit: np.ndarray  # (n_users, min(k, n_candidates))
    gain: np.ndarray  # (n_users, min(k, n_candidates))
    ap: np.ndarray  # (n_users, min(k, n_candidates))
    # the tie group at the prefix's last position (for AP over hits@k): the prefix positions it holds,
    # its size and relevant items over the whole row, the relevant items ranked above it
    tail: np.ndarray  # (n_users, min(k, n_candidates)) bool
    tail_m: np.ndarray  # (n_users,)
    tail_rel: np.ndarray  # (n_users,)
    above_tail: np.ndarray  # (n_users,)


def check_inputs(scores, relevance, k, ties):
    """Validate the arguments every ranking metric takes (all but the values); returns them cleaned,
    with ``ties`` as ``(rule, tie_key)`` (:func:`resolve_ties`)."""
    scores, relevance = check_arrays(scores, relevance)
    return scores, relevance, check_k(k, scores.shape[1]), resolve_ties(ties, scores.shape)


def _first_in_order(scores, rel, tie_key):
    """Position of the first relevant item when equal scores are ordered by ``tie_key`` (ascending,
    then column): the entries ranked before it, plus one. Rows without a relevant item give n + 1."""
    best = np.where(rel, scores, -np.inf).max(axis=1, keepdims=True)  # (n_users, 1): s*
    tied = scores == best
    key = np.where(rel & tied, tie_key, np.inf).min(axis=1, keepdims=True)  # the first relevant's key
    # tie keys are distinct ranks within a row, so (score, key) identifies the first relevant item
    before = (scores > best) | (tied & (tie_key < key))
    return before.sum(axis=1).astype(np.float64) + 1.0


def first_relevant(scores, relevance, k: int, ties: str, tie_key=None):
    """``(HR@k, RR@k)`` per row, as ``(n_users,)`` float64 arrays (module docstring).

    Inputs already checked (:func:`check_inputs`); rows with no relevant item give 0. ``ties`` is a
    rule's name or ``"order"`` (then ``tie_key`` holds the caller's tie order as ranks).
    """
    rel = relevance > 0
    has = rel.any(axis=1)
    if ties == "order":
        position = _first_in_order(scores, rel, tie_key)
        inside = has & (position <= k)
        return inside.astype(np.float64), np.where(inside, 1.0 / position, 0.0)
    best = np.where(rel, scores, -np.inf).max(axis=1, keepdims=True)  # (n_users, 1): s*
    a = (scores > best).sum(axis=1).astype(np.float64)
    tied = scores == best
    m = tied.sum(axis=1).astype(np.float64)
    m_rel = (tied & rel).sum(axis=1).astype(np.float64)
    if ties != "average":
        position = a + 1 if ties == "optimistic" else a + m - m_rel + 1
        inside = has & (position <= k)
        return inside.astype(np.float64), np.where(inside, 1.0 / position, 0.0)
    hit, rr = np.zeros(len(a)), np.zeros(len(a))
    none_yet = np.ones(len(a))  # Pr(the group's first j-1 positions are irrelevant)
    last_j = np.where(has, np.minimum(m - m_rel + 1, k - a), 0)  # the j worth summing, per row
    for j in range(1, int(last_j.max(initial=0)) + 1):  # at most the largest tie group (or k)
        live = j <= last_j
        left = np.where(live, m - j + 1, 1.0)  # items of the group not yet placed
        p_j = np.where(live, none_yet * m_rel / left, 0.0)  # Pr(J = j)
        hit += p_j
        rr += p_j / (a + j)
        none_yet *= np.where(live, (left - m_rel) / left, 1.0)
    return hit, rr


def ranked_prefix(scores, relevance, k: int, ties: str, gain: str = "linear", tie_key=None) -> RankedPrefix:
    """The :class:`RankedPrefix` of every row (inputs already checked by :func:`check_inputs`).

    ``ties="order"``: equal scores ordered by ``tie_key`` ascending (ranks), a deterministic order.
    """
    n_users, n_cols = scores.shape
    width = min(k, n_cols)  # the prefix's length
    take = np.take_along_axis

    if ties == "order":  # the kernel puts the larger tie_sign * key first: -1 puts the smaller first
        top = top_k_rows(scores, width, tie_key, -1)
    else:
        top = top_k_rows(scores, width, relevance, _TIE_SIGN[ties])  # (n_users, width) column indices
    top_s = take(scores, top, axis=1)
    top_rel = take(relevance, top, axis=1).astype(np.float64)
    top_bin = (top_rel > 0).astype(np.float64)
    top_gain = gain_of(top_rel, gain)
    cs_bin = np.cumsum(top_bin, axis=1)

    if ties != "average":  # singleton groups: m = 1, o = 1
        m = np.ones_like(top_bin)
        o = np.ones_like(top_bin)
        m_rel, G = top_bin, top_gain
        a_rel = cs_bin - top_bin
        tail = np.zeros(top_bin.shape, dtype=bool)
        tail[:, -1] = True
    else:
        start, end = tie_groups(top_s)
        m = (end - start + 1).astype(np.float64)
        o = (np.arange(width) - start + 1).astype(np.float64)
        m_rel = group_sum(cs_bin, top_bin, start, end)
        G = group_sum(np.cumsum(top_gain, axis=1), top_gain, start, end)
        a_rel = take(cs_bin, start, axis=1) - take(top_bin, start, axis=1)
        # the group at the prefix's last position may go on past it: count it over the whole row
        tau = top_s[:, -1:]  # (n_users, 1)
        in_row = scores == tau  # (n_users, n_cols)
        in_prefix = top_s == tau  # (n_users, width)
        m = np.where(in_prefix, in_row.sum(axis=1, keepdims=True), m)
        m_rel = np.where(in_prefix, (in_row & (relevance > 0)).sum(axis=1, keepdims=True), m_rel)
        G_row = np.where(in_row, gain_of(relevance, gain), 0.0).sum(axis=1, keepdims=True, dtype=np.float64)
        G = np.where(in_prefix, G_row, G)
        tail = in_prefix

    hit = m_rel / m
    pair = np.where(m > 1, (o - 1) * m_rel * (m_rel - 1) / (m * np.maximum(m - 1, 1)), 0.0)
    ap = hit * (a_rel + 1) + pair
    n_relevant = (relevance > 0).sum(axis=1).astype(np.float64)
    return RankedPrefix(k, n_relevant, hit, G / m, ap, tail, m[:, -1], m_rel[:, -1], a_rel[:, -1])


def ideal_dcg(relevance: np.ndarray, k: int, gain: str) -> np.ndarray:
    """``IDCG@k``: the DCG of the row's relevance sorted descending, over ``min(k, n_cols)`` positions."""
    width = min(k, relevance.shape[1])
    disc = discounts(width)
    binary = not np.any((relevance != 0) & (relevance != 1))
    if binary:  # g(1) = 1 for both gains: IDCG = sum of the first min(k, n_cols, n_rel) discounts
        n_rel = np.minimum((relevance > 0).sum(axis=1), width)
        return np.concatenate([[0.0], np.cumsum(disc)])[n_rel]
    g = gain_of(relevance.astype(np.float64), gain)
    best = np.take_along_axis(g, top_k_rows(g, width, g, 0), axis=1)
    return best @ disc


METRICS = ("hr", "ndcg", "precision", "recall", "map", "mrr")
_BLOCK = 1 << 18  # entries of scores per block of rows: temporaries stay small and cache-resident


def per_user_values(scores, relevance, k, ties, names=METRICS, gain: str = "linear", *,
                    denominator: str = "min(k,n_rel)", unretrieved: str = "error"):  # fmt: skip
    """Check the inputs, then compute the per-user values of the metrics ``names`` on blocks of rows.

    Returns ``(values, valid)``: a dict name -> ``(n_users,)`` float64 (meaningless where not
    ``valid``) and ``valid : (n_users,)`` bool, the users with at least one relevant item. Every
    row is independent, so blocking changes nothing but memory traffic. ``denominator`` is AP's,
    ``unretrieved`` what a relevant item scored -inf means (:mod:`._conventions`).
    """
    scores, relevance, k, (ties, tie_key) = check_inputs(scores, relevance, k, ties)
    check_choice(denominator, "denominator", DENOMINATORS)
    check_choice(unretrieved, "unretrieved", UNRETRIEVED)
    n_users, n_cols = scores.shape
    values = {name: np.empty(n_users) for name in names}
    step = max(1, _BLOCK // n_cols)
    for start in range(0, n_users, step):
        rows = slice(start, start + step)
        check_values(scores[rows], relevance[rows], unretrieved)
        key = None if tie_key is None else tie_key[rows]
        block = block_values(scores[rows], relevance[rows], k, ties, names, gain, key, denominator,
                             unretrieved)  # fmt: skip
        for name, v in block.items():
            values[name][rows] = v
    return values, (relevance > 0).any(axis=1)


def block_values(scores, relevance, k: int, ties: str, names, gain: str, tie_key=None,
                 denominator: str = "min(k,n_rel)", unretrieved: str = "error") -> dict:  # fmt: skip
    """The formulas of :mod:`tinyrec.metrics.ranking`, per row, for one block of checked rows.

    With ``unretrieved="miss"`` the ranking sees a relevant item scored -inf as irrelevant (it is
    in no position), while ``n_rel`` and IDCG count it.
    """
    ranked = relevance
    if unretrieved == "miss":
        ranked = np.where(np.isneginf(scores), 0.0, relevance)
    out = {}
    if "hr" in names or "mrr" in names:
        out["hr"], out["mrr"] = first_relevant(scores, ranked, k, ties, tie_key)
    if {"ndcg", "precision", "recall", "map"} & set(names):
        prefix = ranked_prefix(scores, ranked, k, ties, gain, tie_key)
        positions = np.arange(1, prefix.hit.shape[1] + 1)
        n_relevant = prefix.n_relevant  # over the ranked items; with "miss", over every relevant one
        if ranked is not relevance:
            n_relevant = (relevance > 0).sum(axis=1).astype(np.float64)
        n_rel = np.maximum(n_relevant, 1)  # (rows without a relevant item are dropped later)
        hits = prefix.hit.sum(axis=1)
        idcg = ideal_dcg(relevance, k, gain)  # 0 only for rows without a relevant item
        out["ndcg"] = (prefix.gain @ discounts(len(positions))) / np.where(idcg > 0, idcg, 1.0)
        out["precision"] = hits / k
        out["recall"] = hits / n_rel
        if "map" in names:
            out["map"] = _average_precision(prefix, positions, k, n_rel, ties, denominator)
    return {name: out[name] for name in names}


def _average_precision(prefix: RankedPrefix, positions, k: int, n_rel, ties: str, denominator: str):
    """``Σ_{p≤k} P@p · rel_bin(p)`` over AP's denominator (its expectation with averaged ties)."""
    terms = prefix.ap / positions  # E[P@p · rel_bin(p)] at each position
    if denominator == "min(k,n_rel)":
        return terms.sum(axis=1) / np.minimum(k, n_rel)
    if denominator == "n_rel":
        return terms.sum(axis=1) / n_rel
    if ties != "average":  # hits@k is fixed by the order: 0 when no relevant item is in the list
        hits = prefix.hit.sum(axis=1)
        return np.where(hits > 0, terms.sum(axis=1) / np.maximum(hits, 1.0), 0.0)
    return expected_ap_over_hits(terms, positions.astype(np.float64), prefix.tail, prefix.tail_m,
                                 prefix.tail_rel, prefix.above_tail)  # fmt: skip


def reduce_users(values: np.ndarray, valid: np.ndarray, per_user: bool, empty: str = "nan"):
    """Per-user array, or its mean. ``empty="nan"``: NaN for invalid users, the mean over valid users
    (NaN if none); ``"zero"``: 0 for invalid users, the mean over all users."""
    check_choice(empty, "empty", EMPTY)
    if empty == "zero":
        values, valid = np.where(valid, values, 0.0), np.ones_like(valid)
    values = np.where(valid, values, np.nan)
    if check_bool(per_user, "per_user"):
        return values
    if not valid.any():
        return float("nan")
    return float(values[valid].mean())
