"""Saving a fitted recommender to a model file, and rebuilding it from one.

A model file (:mod:`tinyrec.modelfile`) holds, for a recommender:

* in the header: ``"model_class"`` (the class's name in :mod:`tinyrec.models.registry`),
  ``"params"`` (the hyperparameters, as JSON), ``"attributes"`` (the fitted scalars
  ``n_users_``, ``global_mean_``, ...), ``"history"`` (the per-epoch figures);
* as arrays: the learnt arrays the class lists in ``_array_names``, the id maps and counts every
  recommender has, and a neural model's ``state_dict`` under ``net.<name>``.

:func:`restore` refuses an edited file before any array is used: every array must fit the shape,
dtype and index ranges that the model declares (``Recommender._array_layout``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ModelFileError
from ..modelfile import check_save_path, new_header, to_json, write_npz

# fitted scalars and id maps every Recommender has after fit (see models/base.py)
BASE_ATTRIBUTES = ("n_users_", "n_items_", "global_mean_", "rating_range_")
BASE_ARRAYS = ("user_counts_", "item_counts_", "user_ids_", "item_ids_", "seen_indptr_", "seen_indices_")


def save_model(model, path) -> Path:
    """Write a fitted ``model`` to ``path`` (used as given; ``.npz`` is the usual suffix).

    Returns the path. Raises NotFittedError for an unfitted model.
    """
    model._check_fitted()
    path = check_save_path(path)
    arrays = {name: np.asarray(getattr(model, name)) for name in BASE_ARRAYS + model._array_names}
    net = getattr(model, "net", None)
    if net is not None:
        arrays.update({f"net.{name}": value for name, value in net.state_dict().items()})
    params = {name: to_json(value, name) for name, value in model.get_params().items()}
    header = new_header(
        model_class=f"{type(model).__module__}.{type(model).__qualname__}",
        params=params,
        attributes={name: to_json(getattr(model, name), name) for name in BASE_ATTRIBUTES},
        history={k: [to_json(v, k) for v in vs] for k, vs in getattr(model, "history_", {}).items()},
        arrays={name: {"shape": list(a.shape), "dtype": a.dtype.str} for name, a in arrays.items()},
    )
    write_npz(path, header, arrays)
    return Path(path)


def restore(cls, header: dict, arrays: dict, path):
    """The fitted ``cls`` that a model file's ``header`` and ``arrays`` describe (read from ``path``).

    Raises ModelFileError when the header's sections, the hyperparameters or the arrays do not fit
    ``cls``.
    """
    for section in ("params", "attributes", "history"):
        if not isinstance(header.get(section, {}), dict):
            raise ModelFileError(f"{path}: the header's {section!r} is not a mapping; the file is corrupt")
    params = dict(header.get("params", {}))
    try:
        model = cls(**params)
    except (TypeError, ValueError) as exc:  # unknown names, or values the constructor refuses
        raise ModelFileError(f"{path}: its hyperparameters do not fit {cls.__name__}: {exc}") from exc
    attributes = header.get("attributes", {})
    missing = [name for name in BASE_ATTRIBUTES if name not in attributes]
    if missing:
        raise ModelFileError(f"{path}: the header lacks the fitted attributes {missing}; the file is corrupt")
    for name, value in attributes.items():
        setattr(model, name, tuple(value) if isinstance(value, list) else value)
    model.history_ = dict(header.get("history", {}))
    expected = set(BASE_ARRAYS + cls._array_names)
    missing = sorted(expected - set(arrays))
    if missing:
        raise ModelFileError(f"{path}: arrays {missing} are missing for a {cls.__name__}")
    for name in expected:
        setattr(model, name, arrays[name])
    _check_consistent(model, arrays, path)
    net_state = {k[len("net.") :]: v for k, v in arrays.items() if k.startswith("net.")}
    if net_state:
        model._build_net()  # neural models: build the network with the loaded hyperparameters
        try:
            model.net.load_state_dict(net_state)
        except (KeyError, ValueError) as exc:
            raise ModelFileError(f"{path}: the network's weights do not fit {cls.__name__}: {exc}") from exc
    model._after_load()
    return model


def _check_consistent(model, arrays: dict[str, np.ndarray], path) -> None:
    """The loaded model fits its own layout (``Recommender._array_layout``), else ModelFileError.

    An edited file must fail here, not later: an index out of range would crash a Numba kernel,
    an array of the wrong shape or dtype would end in a NumPy or Numba traceback.
    """

    def corrupt(problem: str):
        return ModelFileError(f"{path}: {problem}; the file is corrupt or was edited, save the model again")

    for size_name in ("n_users_", "n_items_"):
        size = getattr(model, size_name)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise corrupt(f"{size_name} is {size!r}, not a count")
    if not _is_finite_number(model.global_mean_):
        raise corrupt(f"global_mean_ is {model.global_mean_!r}, not a finite number")
    low_high = model.rating_range_
    if not (isinstance(low_high, tuple) and len(low_high) == 2 and all(map(_is_finite_number, low_high))):
        raise corrupt(f"rating_range_ is {low_high!r}, not a pair of finite numbers")
    shapes, index_lists = model._array_layout()
    unchecked = sorted(set(arrays) - set(shapes) - {n for n in arrays if n.startswith("net.")})
    if unchecked:  # the network's weights are checked by load_state_dict
        raise corrupt(f"arrays {unchecked} are not part of a {type(model).__name__}")
    for name, shape in shapes.items():
        a = arrays[name]
        if a.ndim != len(shape) or any(w is not None and g != w for g, w in zip(a.shape, shape, strict=True)):
            wanted = str(tuple("any" if d is None else d for d in shape)).replace("'", "")  # (5,) or (any,)
            raise corrupt(f"array {name!r} has shape {a.shape}, but the model needs {wanted}")
    # dtypes: counts and index lists are integers, raw ids integers or text, the rest floats
    integers = {"user_counts_", "item_counts_"} | {name for pair in index_lists for name in pair[:2]}
    for name, a in arrays.items():
        if name in ("user_ids_", "item_ids_"):
            wanted, kinds = "integer or text", "iuU"
        else:
            wanted, kinds = ("integer", "iu") if name in integers else ("float", "f")
        if a.dtype.kind not in kinds:
            raise corrupt(f"array {name!r} has dtype {a.dtype}, not {wanted}")
    for offsets_name, indices_name, bound in index_lists:
        offsets, indices = arrays[offsets_name], arrays[indices_name]
        if offsets[0] != 0 or offsets[-1] != len(indices) or np.any(np.diff(offsets) < 0):
            raise corrupt(f"the offsets {offsets_name!r} do not run from 0 to len({indices_name}) in order")
        if indices.size and not (indices.min() >= 0 and indices.max() < bound):
            raise corrupt(f"{indices_name!r} holds indices outside [0, {bound})")
    for name, a in arrays.items():
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            raise corrupt(f"array {name!r} holds NaN or infinite values")


def _is_finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


