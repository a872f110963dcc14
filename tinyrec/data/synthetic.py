"""A synthetic data set with a planted low-rank model, popularity skew and timestamps.

Real data never tells you how good a model *could* be. Here the truth is known: each user ``u`` and
item ``i`` have factors ``p_u, q_i ∈ R^rank`` (``rank`` plays the part of ``d``) and biases; which
items a user rates is driven by item popularity and by affinity, and the rating is a noisy version
of a planted score. A model's accuracy can then be compared with the best achievable one
(``data.info["planted"]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ..validation import as_generator, check_int_at_least, check_nonnegative
from .checks import check_dense_size
from .interactions import Interactions

__all__ = ["synthetic", "PlantedModel"]

INT64_MAX = int(np.iinfo(np.int64).max)


@dataclass(frozen=True)
class PlantedModel:
    """The truth behind :func:`synthetic`.

    Attributes
    ----------
    user_factors : (n_users, rank) float64, ``p_u``
    item_factors : (n_items, rank) float64, ``q_i``
    user_bias : (n_users,) float64, ``b_u``
    item_bias : (n_items,) float64, ``b_i``
    global_mean : float, ``μ``
    log_popularity : (n_items,) float64, ``log π_i``
    noise : float, the standard deviation of the rating noise

    Notes
    -----
    * Expected rating: ``r̄_ui = μ + b_u + b_i + p_u · q_i``; observed ``r_ui = r̄_ui + noise · z``,
      ``z ~ N(0, 1)``, not rounded or clipped. No predictor beats ``r̄_ui`` in expected squared
      error, so the best test RMSE is ``noise`` (up to sampling noise; :meth:`best_rmse` measures
      it).
    * Choice: user ``u`` picks its ``n_u`` items without replacement with probabilities
      proportional to ``exp(a_ui)``, ``a_ui = log π_i + p_u · q_i`` (Gumbel top-``n_u``). Ranking
      items by ``a_ui`` is the oracle ranker for "which item will the user pick next".
    """

    user_factors: np.ndarray
    item_factors: np.ndarray
    user_bias: np.ndarray
    item_bias: np.ndarray
    global_mean: float
    log_popularity: np.ndarray
    noise: float

    def rating(self, users, items) -> np.ndarray:
        """``r̄_ui``, the noise-free expected rating (broadcasts like NumPy indexing)."""
        users, items = np.asarray(users), np.asarray(items)
        dot = np.einsum("...k,...k->...", self.user_factors[users], self.item_factors[items])
        return self.global_mean + self.user_bias[users] + self.item_bias[items] + dot

    def affinity(self, users, items) -> np.ndarray:
        """``a_ui``, the log-odds of choosing item ``i`` (the oracle ranking score)."""
        users, items = np.asarray(users), np.asarray(items)
        dot = np.einsum("...k,...k->...", self.user_factors[users], self.item_factors[items])
        return self.log_popularity[items] + dot

    def best_rmse(self, test: Interactions) -> float:
        """RMSE of the planted ``r̄_ui`` on ``test``: the accuracy no model can beat on average."""
        err = self.rating(test.users, test.items) - test.ratings
        return float(np.sqrt(np.mean(err**2)))


def _user_counts(n_users, n_items, n_interactions, skew, rng):
    """Interactions per user: 1 each, the rest multinomial with weights ``rank^-skew``, capped at
    ``max(1, n_items // 2)`` (so every user keeps items to sample negatives from)."""
    weights = (np.arange(1, n_users + 1, dtype=np.float64) ** -skew)[rng.permutation(n_users)]
    counts = np.ones(n_users, dtype=np.int64)
    cap = max(1, n_items // 2)
    left = n_interactions - n_users
    while left > 0:
        room = cap - counts
        w = np.where(room > 0, weights, 0.0)
        extra = np.minimum(rng.multinomial(left, w / w.sum()), room)
        counts += extra
        left -= int(extra.sum())
    return counts


def synthetic(
    n_users: int = 500,
    n_items: int = 300,
    n_interactions: int = 10_000,
    *,
    rank: int = 8,
    popularity_skew: float = 1.0,
    activity_skew: float = 0.5,
    noise: float = 0.5,
    start_time: int = 1_500_000_000,
    duration: int = 365 * 86_400,
    seed=0,
) -> Interactions:
    """Draw an explicit-feedback data set from a planted low-rank model.

    Parameters
    ----------
    n_users, n_items : int
    n_interactions : int
        Exactly this many distinct ``(user, item)`` pairs, from ``n_users`` to
        ``n_users * max(1, n_items // 2)``.
    rank : int
        Dimension of the planted factors (entries ``N(0, 1/sqrt(rank))``, so ``p_u · q_i`` has
        variance 1).
    popularity_skew : float >= 0
        Item popularity ``π_i ∝ (popularity rank of i)^(-popularity_skew)`` (Zipf): 0 is flat,
        1 a long tail like MovieLens.
    activity_skew : float >= 0
        The same for how many interactions each user has (every user has at least one and at most
        ``n_items // 2``).
    noise : float >= 0
        The standard deviation of the rating noise.
    start_time, duration : int
        Timestamps are uniform in ``[start_time, start_time + duration)`` (Unix seconds);
        ``start_time >= 0``, ``duration >= 1``, ``start_time + duration <= 2**63 - 1`` (int64).
    seed : int or np.random.Generator

    Returns
    -------
    Interactions
        ``info["planted"]`` is the :class:`PlantedModel` (see its Notes for the exact model and
        the best achievable accuracy); ``info["name"] == "synthetic"``.
    """
    n_users = check_int_at_least(n_users, "n_users", 1)
    n_items = check_int_at_least(n_items, "n_items", 1)
    n_interactions = check_int_at_least(n_interactions, "n_interactions", 1)
    rank = check_int_at_least(rank, "rank", 1)
    most = n_users * max(1, n_items // 2)
    if not n_users <= n_interactions <= most:
        raise DataError(
            f"n_interactions={n_interactions} must be in [n_users, n_users * max(1, n_items // 2)] = "
            f"[{n_users}, {most}]"
        )
    check_dense_size(n_users, n_items, "synthetic", fix="use fewer users or items")
    popularity_skew = check_nonnegative(popularity_skew, "popularity_skew")
    activity_skew = check_nonnegative(activity_skew, "activity_skew")
    noise = check_nonnegative(noise, "noise")
    start_time = check_int_at_least(start_time, "start_time", 0)
    duration = check_int_at_least(duration, "duration", 1)
    if start_time + duration > INT64_MAX:  # timestamps are int64; numpy would overflow or refuse
        raise ValueError(
            f"start_time + duration must be at most 2**63 - 1 (timestamps are int64), got "
            f"start_time={start_time} and duration={duration}; use a smaller start_time or duration"
        )
    rng = as_generator(seed)
    scale = rank**-0.25  # entries with variance 1/sqrt(rank): p_u . q_i has variance 1
    planted = PlantedModel(
        user_factors=rng.normal(0.0, scale, (n_users, rank)),
        item_factors=rng.normal(0.0, scale, (n_items, rank)),
        user_bias=rng.normal(0.0, 0.3, n_users),
        item_bias=rng.normal(0.0, 0.3, n_items),
        global_mean=3.5,
        log_popularity=-popularity_skew
        * np.log(np.arange(1, n_items + 1, dtype=np.float64))[rng.permutation(n_items)],
        noise=float(noise),
    )
    counts = _user_counts(n_users, n_items, n_interactions, activity_skew, rng)
    users_out, items_out = [], []
    chunk = max(1, 2_000_000 // n_items)
    for lo in range(0, n_users, chunk):  # loop over blocks of users, vectorized inside
        users = np.arange(lo, min(lo + chunk, n_users))
        # (block, n_items): affinity + Gumbel noise; the top n_u keys are a draw without replacement
        keys = planted.affinity(users[:, None], np.arange(n_items)[None, :]) + rng.gumbel(
            size=(len(users), n_items)
        )
        order = np.argsort(-keys, axis=1)
        take = np.arange(n_items)[None, :] < counts[users][:, None]  # (block, n_items) first n_u columns
        users_out.append(np.broadcast_to(users[:, None], order.shape)[take])
        items_out.append(order[take])
    users = np.concatenate(users_out)
    items = np.concatenate(items_out)
    ratings = planted.rating(users, items) + noise * rng.standard_normal(users.shape[0])
    stamps = start_time + rng.integers(0, duration, users.shape[0])
    return Interactions(
        users,
        items,
        ratings,
        stamps,
        n_users=n_users,
        n_items=n_items,
        info={"name": "synthetic", "planted": planted},
    )
