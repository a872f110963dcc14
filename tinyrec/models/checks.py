"""The checks at the door of every recommender: fitted, ids in range, ``k`` in range, data types.

:class:`~tinyrec.models.base.Recommender`'s public methods call these first; the scoring code
behind them (each model's ``_score``, ``_score_all``, ``_fit``) then trusts its arguments. They
are shared by every model, so each rule and its message is written once.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..data.interactions import Interactions
from ..errors import DataError, NotFittedError, ShapeError
from ..limits import check_bytes
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


def check_fit_memory(model, arrays: dict, *, set_by: tuple[str, ...]) -> None:
    """Raise AllocationError before ``fit`` allocates ``arrays`` when, together, they exceed the bound.

    ``arrays`` maps a description of each array (or group of arrays) to ``(shape, dtype)``: sizes
    that hyperparameters set (with the data's ``n_users``, ``n_items``). ``set_by`` names those
    hyperparameters; the message shows their values, the arrays and the total
    (:func:`tinyrec.limits.check_bytes`: the bound is half the physical memory, or ``TINYREC_MAX_BYTES``).
    """
    sizes = {name: (tuple(int(n) for n in shape), np.dtype(dtype)) for name, (shape, dtype) in arrays.items()}
    total = sum(math.prod(shape) * dtype.itemsize for shape, dtype in sizes.values())
    listed = "; ".join(f"{name}: {shape} {dtype.name}" for name, (shape, dtype) in sizes.items())
    settings = ", ".join(f"{name}={getattr(model, name)!r}" for name in set_by)
    check_bytes(total, f"{type(model).__name__}({settings}) on {model.n_users_:,} users x "
                f"{model.n_items_:,} items asks for arrays ({listed}) that")  # fmt: skip


def check_network_fit_memory(model, batches: dict, *, set_by: tuple[str, ...]) -> None:
    """:func:`check_fit_memory` for a network: its weights (``model._network_shapes()``) four times
    over (weights, gradients, Adam's two moments), and ``batches``, what its batches allocate."""
    n_weights = sum(math.prod(shape) for shape in model._network_shapes().values())
    weights = {"weights, gradients and Adam's 2 moments": ((4, n_weights), model.dtype)}
    check_fit_memory(model, weights | batches, set_by=set_by)
