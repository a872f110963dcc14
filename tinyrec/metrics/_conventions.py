"""The conventions other libraries use, as options of the ranking metrics.

Libraries agree on what a metric measures and differ on a few choices; each choice is an argument
of tinyrec's ranking metrics, defaulting to tinyrec's own (see :mod:`tinyrec.metrics` for every
definition, and docs/metrics.md for which setting reproduces which library):

* ``empty``: a user with no relevant item is left out of the mean (``"nan"``) or scores 0 and is
  averaged (``"zero"``).
* ``denominator`` of average precision: ``"min(k,n_rel)"``, ``"n_rel"`` or ``"hits"`` (hits@k).
* ``ties``: besides the three rules, an **order** the caller gives: an array of keys, the smaller key
  first among equal scores (:func:`tie_order_ranks`).
* ``unretrieved``: a relevant item scored ``-inf`` is an error, or a relevant item that the ranking
  left out (``"miss"``).

This module checks those arguments and holds the one computation they add: the exact expectation
of average precision over hits@k when ties are averaged (:func:`expected_ap_over_hits`).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DataError, NonFiniteError, ShapeError

EMPTY = ("nan", "zero")
DENOMINATORS = ("min(k,n_rel)", "n_rel", "hits")
UNRETRIEVED = ("error", "miss")


def check_choice(value, name: str, choices: tuple) -> str:
    """``value`` must be one of ``choices`` (strings)."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {choices}")
    return value


def tie_order_ranks(order, shape: tuple) -> np.ndarray:
    """The caller's tie order as ``(n_users, n_candidates)`` float64 ranks ``0 .. n_candidates − 1``.

    ``order`` is ``(n_candidates,)`` (one order for every user) or ``(n_users, n_candidates)``:
    finite numbers, the **smaller first** among equal scores; equal keys fall back to the lower
    column. The ranks are what the ranking kernel compares (exact in float64 whatever the keys).
    """
    order = np.asarray(order)
    if order.dtype == np.bool_ or order.dtype.kind not in "iuf":
        raise ValueError(
            f"ties must be 'pessimistic', 'optimistic', 'average' or an array of tie-break keys "
            f"(numbers, the smaller first); got dtype {order.dtype}"
        )
    if order.shape == shape[1:]:
        order = np.broadcast_to(order, shape)
    if order.shape != shape:
        raise ShapeError(
            f"the tie order has shape {order.shape}; it must be (n_candidates,) = ({shape[1]},) for every "
            f"user, or the scores' shape {shape}"
        )
    if order.dtype.kind == "f" and not np.isfinite(order).all():
        raise NonFiniteError("the tie order contains NaN or inf; give finite keys (the smaller first)")
    # rank within each row: a stable sort keeps the lower column first among equal keys
    by_key = np.argsort(order, axis=1, kind="stable")
    ranks = np.empty(shape, dtype=np.float64)
    np.put_along_axis(ranks, by_key, np.arange(shape[1], dtype=np.float64)[None, :], axis=1)
    return ranks


def check_unretrieved_values(scores: np.ndarray, relevance: np.ndarray, unretrieved: str) -> None:
    """With ``unretrieved="error"``, a relevant item may not be scored -inf (named in the message)."""
    if unretrieved == "error" and (relevance[np.isneginf(scores)] > 0).any():
        raise DataError(
            "a relevant item has score -inf (-inf marks a non-candidate); score it, or drop its relevance, "
            "or pass unretrieved='miss' if it is a relevant item the ranking did not retrieve (a TREC run)"
        )


_lgamma = np.vectorize(math.lgamma, otypes=[np.float64])


def _log_binomial(n: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``log C(n, r)`` for ``0 <= r <= n`` (elementwise)."""
    return _lgamma(n + 1.0) - _lgamma(r + 1.0) - _lgamma(n - r + 1.0)


def expected_ap_over_hits(terms, positions, tail, m, m_rel, r_above) -> np.ndarray:
    """``E[Σ_{p≤k} P@p · rel_bin(p) / hits@k]`` over random orders of the tied items (0 when no hit).

    Only the tie group at position ``k`` (the *tail* of the prefix: its last ``q`` positions, after
    ``a = width − q`` positions) can straddle the cut-off, so ``hits@k = R + J`` with ``R`` the
    relevant items above it and ``J`` those of the group that land inside the prefix:
    hypergeometric, ``q`` draws from the ``m`` items of the group, ``m_rel`` of them relevant.
    Given ``J = j`` the ``j`` relevant items are spread uniformly over the ``q`` positions, so at the
    group's ``o``-th position ``E[rel] = j/q`` and ``E[rel · hits@p] = (j/q)(R + 1) + (o − 1) j(j − 1)
    / (q(q − 1))``; the positions above contribute their expected terms ``S`` whatever ``j``. Hence

        E[AP] = Σ_j Pr(J = j) · (S + (j/q)(R + 1) D1 + j(j − 1)/(q(q − 1)) D2) / (R + j)

    with ``D1 = Σ_o 1/(a + o)`` and ``D2 = Σ_o (o − 1)/(a + o)`` over the tail's positions.

    Parameters
    ----------
    terms : (n, width) float64
        ``E[P@p · rel_bin(p)]`` at each position of the prefix.
    positions : (width,) float64
        ``1 .. width``.
    tail : (n, width) bool
        The prefix's positions that hold the tie group at its last position (a suffix of the row).
    m, m_rel : (n,) float64
        That group's size and relevant items, counted over the whole row.
    r_above : (n,) float64
        Relevant items ranked above that group.
    """
    q = tail.sum(axis=1).astype(np.float64)
    a = tail.shape[1] - q
    s_above = np.where(tail, 0.0, terms).sum(axis=1)
    d1 = np.where(tail, 1.0 / positions, 0.0).sum(axis=1)
    d2 = np.where(tail, (positions - a[:, None] - 1.0) / positions, 0.0).sum(axis=1)
    pair = np.where(q > 1, 1.0 / np.maximum(q * (q - 1.0), 1.0), 0.0)
    n_irrelevant = m - m_rel
    result = np.zeros(len(q))
    for j in range(int(np.minimum(q, m_rel).max(initial=0.0)) + 1):
        # J = j is possible, and gives a list with a hit (otherwise AP is 0)
        live = (j <= m_rel) & (q - j >= 0) & (q - j <= n_irrelevant) & (r_above + j > 0)
        # Pr(J = j) = C(m_rel, j) C(m − m_rel, q − j) / C(m, q), evaluated where live (else log 1)
        draws, rel, irr = np.where(live, q, j), np.where(live, m_rel, j), np.where(live, n_irrelevant, 0.0)
        log_p = _log_binomial(rel, j) + _log_binomial(irr, draws - j) - _log_binomial(rel + irr, draws)
        group = j / np.maximum(q, 1.0) * (r_above + 1.0) * d1 + j * (j - 1.0) * pair * d2
        value = (s_above + group) / np.maximum(r_above + j, 1.0)
        result += np.where(live, np.exp(log_p) * value, 0.0)
    return result
