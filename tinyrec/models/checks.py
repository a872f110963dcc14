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
    return check_index(user, "user", model.n_users_), check_index(item, "item", model.n_items_)


def check_index(index, name: str, bound: int) -> int:
    """One index (an int or a 0-d array) in ``[0, bound)``, as a Python int."""
    return int(check_index_array(index, name, bound, ndim=0))


def check_k(k, upper: int, what: str) -> int:
    """``k`` as an int in ``[1, upper]``; ``what`` names the upper bound in the message."""
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or not 1 <= k <= upper:
        raise ValueError(f"k must be an int in [1, {what} = {upper}], got {k!r}")
    return int(k)


def check_one_value_per_pair(train, model_name: str) -> None:
    """Raise DataError when ``train`` repeats a (user, item) pair (``model_name`` needs one value each)."""
    if train.has_duplicates():
        raise DataError(
            f"train repeats some (user, item) pairs; {model_name} needs one value per pair: keep one row "
            f"per pair first with tinyrec.data.preprocess.drop_duplicates (keep='last', 'mean', ...)"
        )


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
