"""Beyond accuracy: how much of the catalogue the lists cover, and how unexpected their items are.

Both take the recommendation lists themselves, ``top_items : (n_users, k)`` int item indices (as
:func:`tinyrec.metrics.top_k` returns them); ``-1`` marks an empty slot (a user with fewer than
``k`` candidates) and is ignored.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError, DTypeError, IndexOutOfRangeError, ShapeError
from ..validation import check_bool, check_finite, check_positive_int

__all__ = ["catalog_coverage", "novelty"]


def _lists(top_items, n_items: int) -> np.ndarray:
    top_items = np.asarray(top_items)
    if top_items.dtype.kind not in "iu":
        raise DTypeError(f"top_items must hold integer item indices, got dtype {top_items.dtype}")
    if top_items.ndim != 2:
        raise ShapeError(f"top_items must be 2-D (n_users, k), got shape {top_items.shape}")
    if top_items.size and (top_items.min() < -1 or top_items.max() >= n_items):
        raise IndexOutOfRangeError(f"top_items must lie in [0, {n_items}) (or be -1 for an empty slot)")
    return top_items.astype(np.int64, copy=False)


def catalog_coverage(top_items, n_items: int) -> float:
    """Fraction of the catalogue recommended to at least one user.

    ``coverage = |∪_u T_u| / n_items`` where ``T_u`` is user ``u``'s list (empty slots excluded).
    """
    n_items = check_positive_int(n_items, "n_items")
    top_items = _lists(top_items, n_items)
    shown = top_items[top_items >= 0]
    return float(np.count_nonzero(np.bincount(shown, minlength=n_items)) / n_items)


def novelty(top_items, item_counts, n_users: int, *, per_user=False):
    """Mean self-information of the recommended items (Zhou et al., PNAS 2010).

    ``novelty(u) = (1/|T_u|) Σ_{i∈T_u} −log2(|U_i| / n_users)`` where ``T_u`` is user ``u``'s list
    and ``|U_i|`` the number of (training) users who interacted with item ``i``; the result is the
    mean of ``novelty(u)`` over users with a non-empty list (``per_user=True``: NaN for an empty
    one). In bits; higher means less popular items.

    Parameters
    ----------
    top_items : (n_users_evaluated, k) int
    item_counts : (n_items,) int
        ``|U_i|``: distinct users per item, in ``[0, n_users]``.
    n_users : int
        Number of users the counts were taken over.

    Raises
    ------
    DataError
        A recommended item has ``|U_i| = 0`` (its self-information is infinite).
    NonFiniteError
        ``item_counts`` holds NaN or inf.
    """
    n_users = check_positive_int(n_users, "n_users")
    check_bool(per_user, "per_user")
    item_counts = np.asarray(item_counts)
    if item_counts.ndim != 1:
        raise ShapeError(f"item_counts must be 1-D (n_items,), got shape {item_counts.shape}")
    if item_counts.dtype.kind not in "iuf":
        raise DTypeError(f"item_counts must hold numbers, got dtype {item_counts.dtype}")
    check_finite(item_counts, "item_counts")
    if item_counts.size and (item_counts.min() < 0 or item_counts.max() > n_users):
        raise DataError(f"item_counts must lie in [0, n_users={n_users}] (distinct users per item)")
    top_items = _lists(top_items, item_counts.shape[0])
    filled = top_items >= 0
    counts = item_counts[np.where(filled, top_items, 0)]
    if (counts[filled] == 0).any():
        raise DataError(
            "a recommended item has count 0: its self-information is infinite; "
            "drop it or smooth the counts (e.g. item_counts + 1 with n_users + 1)"
        )
    info = np.where(filled, -np.log2(np.maximum(counts, 1) / n_users), 0.0)
    n_filled = filled.sum(axis=1)
    valid = n_filled > 0
    values = np.where(valid, info.sum(axis=1) / np.maximum(n_filled, 1), np.nan)
    if per_user:
        return values
    return float(values[valid].mean()) if valid.any() else float("nan")
