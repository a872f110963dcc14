"""The checks at the door of every recommender: fitted, ids in range, ``k`` in range, data types.

:class:`~tinyrec.models.base.Recommender`'s public methods call these first; the scoring code
behind them (each model's ``_score``, ``_score_all``, ``_fit``) then trusts its arguments. They
are shared by every model, so each rule and its message is written once.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..data.interactions import Interactions
from ..errors import DataError, NotFittedError, ShapeError
from ..validation import check_index_array


def check_fitted(model) -> None:
    """Raise NotFittedError unless ``model`` has been fitted (or loaded)."""
    if not hasattr(model, "n_items_"):
        raise NotFittedError(
            f"this {type(model).__name__} is not fitted yet; call .fit(train) or tinyrec.load(path) first"
        )


def check_users(model, users) -> np.ndarray:
    """``users`` as a 1-D int64 array of dense user indices of the fitted ``model``."""
    check_fitted(model)
    return check_index_array(users, "users", model.n_users_, ndim=1)


def check_items(model, items) -> np.ndarray:
    """``items`` as a 1-D int64 array of dense item indices of the fitted ``model``."""
    check_fitted(model)
    return check_index_array(items, "items", model.n_items_, ndim=1)


def check_pairs(model, users, items) -> tuple[np.ndarray, np.ndarray]:
    """``(users, items)`` as equal-length 1-D int64 arrays of valid indices."""
    users, items = check_users(model, users), check_items(model, items)
    if users.shape != items.shape:
        raise ShapeError(f"users has shape {users.shape} but items has shape {items.shape}; they must match")
    return users, items


def check_user_item(model, user, item) -> tuple[int, int]:
    """One user index and one item index (ints or 0-d arrays), as Python ints."""
    check_fitted(model)
    u = int(check_index_array(user, "user", model.n_users_, ndim=0))
    return u, int(check_index_array(item, "item", model.n_items_, ndim=0))


def check_k(k, upper: int, what: str) -> int:
    """``k`` as an int in ``[1, upper]``; ``what`` names the upper bound in the message."""
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or not 1 <= k <= upper:
        raise ValueError(f"k must be an int in [1, {what} = {upper}], got {k!r}")
    return int(k)


def check_training_data(train, valid) -> None:
    """``train`` an Interactions, and ``valid`` (if given) in the same index space."""
    if not isinstance(train, Interactions):
        raise DataError(
            f"fit expects a tinyrec.data.Interactions, got {type(train).__name__}; build one with "
            f"Interactions(users, items, ratings) or Interactions.from_raw(...)"
        )
    if valid is not None and not train.same_index_space(valid):
        raise DataError(
            "valid is not in train's index space (different users, items or id maps); build both "
            "with one split of the same Interactions"
        )
