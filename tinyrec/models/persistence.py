"""Saving a fitted recommender to a model file, and rebuilding it from one: the checks of a file.

A model file (:mod:`tinyrec.modelfile`) holds, for a recommender:

* in the header, the sections of :data:`SECTIONS`: ``"model_class"`` (the class's name in
  :mod:`tinyrec.models.registry`), ``"params"`` (the hyperparameters, as JSON), ``"attributes"``
  (the fitted scalars ``n_users_``, ``n_items_``, ``global_mean_``, ``rating_range_``) and
  ``"history"`` (the per-epoch figures); and, optionally, ``"provenance"``: what the model was
  trained on (:data:`PROVENANCE`, below), and ``"features"``: a feature model's fitted encoders
  (:data:`FEATURES`: vocabularies, statistics, bucket edges, hash settings; never pickled);
* as arrays: the learnt arrays the class lists in ``_array_names``, the id maps and counts every
  recommender has, and a neural model's ``state_dict`` under ``net.<name>``.

A file is untrusted input. :func:`restore` rebuilds a model in this order, and refuses
(:class:`~tinyrec.errors.ModelFileError`, naming the field, the hyperparameter or the array) at the
first step a file fails, so that nothing is built or allocated from a value not yet checked:

1. the header's sections against :data:`SECTIONS` (done by ``read_npz`` before any array is read);
2. each hyperparameter against the class's ``hyperparameters`` rules (unknown names refused, and
   in a version-2 file missing ones too, except those the class added later, which take the value
   its ``added_hyperparameters`` gives; a version-1 file's missing ones take their defaults, as
   they always did), then the constructor;
3. every array against the model's declared layout (``Recommender._array_layout``): shape, kind
   (integer, float, text), then its dtype: integers are cast to the width the model uses
   (int64 counts and offsets, int32 indices), floats to the model's ``dtype``, when every value
   survives the cast exactly, else refused; floats must be finite; index lists in range with
   offsets running from 0 in order;
4. the invariants the code relies on: the base ones below (each user's seen items sorted and
   distinct, counts consistent with them, raw ids distinct, at least one interaction) and the
   model's own (``Recommender._invariants``, e.g. KNN's sorted context rows);
5. for a neural model, the weights' shapes against those its hyperparameters imply
   (``Recommender._network_shapes``), computed without building anything, then the network is built
   and the weights loaded.

After loading, every array a kernel sees is native-order, C-contiguous and of the dtype the model's
fit gives it.

**Provenance.** ``Recommender.fit`` records what the model learnt from in ``model.provenance_``
(:func:`training_provenance`): the data set's name, the split and the seed when they are known, and
the training interactions' fingerprint (:meth:`tinyrec.data.Interactions.fingerprint`). ``save``
writes it as the header's ``"provenance"`` section; ``tinyrec evaluate`` and ``tinyrec recommend``
compare it with the data they are given. A file without it (saved by tinyrec before the section
existed, format version 1 or 2) loads with a warning that its provenance is unknown, and
``provenance_`` is None.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..errors import ModelFileError
from ..limits import check_bytes
from ..modelfile import (
    Integer,
    Json,
    ListOf,
    MapOf,
    Node,
    Number,
    Record,
    Text,
    check_save_path,
    new_header,
    to_json,
    write_npz,
)

# fitted scalars and id maps every Recommender has after fit (see models/base.py)
BASE_ATTRIBUTES = ("n_users_", "n_items_", "global_mean_", "rating_range_")
BASE_ARRAYS = ("user_counts_", "item_counts_", "user_ids_", "item_ids_", "seen_indptr_", "seen_indices_")

_COUNT = Integer("a count (an integer >= 0)", minimum=0)


class _OrNull(Node):
    """``inner``'s type, or JSON null (a provenance field that was not known at training)."""

    def __init__(self, inner: Node):
        super().__init__(f"{inner.expected}, or null")
        self.inner = inner

    def check(self, value, where: str):
        return None if value is None else self.inner.check(value, where)


#: The optional ``"provenance"`` section: what the model was trained on (see the module docstring).
PROVENANCE = Record(
    {
        "data": _OrNull(Text("a data set's name or path")),
        "split": _OrNull(Text("a split's name")),
        "seed": _OrNull(Integer("a seed (an integer >= 0)", minimum=0)),
        "fingerprint": Text("a fingerprint 'sha256:' + 64 hex digits", pattern=r"sha256:[0-9a-f]{64}"),
        "n_interactions": _COUNT,
    },
    # how the command line read a user's file (--sep, --columns, --header), to read it again alike
    optional={"read": MapOf(Text(), expected="a mapping of option names to strings")},
    what="provenance fields",
)
#: One fitted encoder (:mod:`tinyrec.data.encoders`): its column, its kind, and what it learnt;
#: which entries each kind needs is checked by ``FeatureEncoder.from_state``.
ENCODER = Record(
    {
        "column": Text("a column name"),
        "encoder": Text(
            "an encoder: onehot, multihot, standard, minmax, bucket or hash",
            pattern="onehot|multihot|standard|minmax|bucket|hash",
        ),  # fmt: skip
    },
    optional={
        "vocabulary": ListOf(Text(), expected="a list of category names"),
        "sep": Text("a separator", pattern=".{1,8}"),
        "mean": Number(),
        "std": Number(),
        "low": Number(),
        "high": Number(),
        "edges": ListOf(Number(), max_length=1 << 16, expected="a list of finite bucket edges"),
        "buckets": Integer("a number of hash buckets in [1, 2**24]", minimum=1, maximum=1 << 24),
        "seed": Integer("a hash seed in [0, 2**63)", minimum=0),
    },
    what="encoder fields",
)
#: The optional ``"features"`` section: a feature model's encoders of the user and item columns.
FEATURES = Record(
    {
        "user": ListOf(ENCODER, expected="a list of encoders"),
        "item": ListOf(ENCODER, expected="a list of encoders"),
    },
    what="feature encoders",
)
#: A recommender's sections of the header (the container's own fields are tinyrec.modelfile's).
#: A later section (time-ordered histories, feature encoders, a backend) joins ``optional`` here,
#: with its type, and is checked with the rest, as ``"provenance"`` did.
SECTIONS = Record(
    {
        "model_class": Text("a tinyrec model in this version (see tinyrec.models.registry.MODEL_CLASSES)"),
        "params": MapOf(Json(), expected="a mapping of hyperparameter names to JSON values"),
        "attributes": Record(
            {
                "n_users_": _COUNT,
                "n_items_": _COUNT,
                "global_mean_": Number(),
                "rating_range_": ListOf(Number(), length=2, expected="a pair of finite numbers [low, high]"),
            },
            what="fitted attributes",
        ),
        # a validation figure is NaN when no user could be scored: numbers, not only finite ones
        "history": MapOf(ListOf(Number(finite=False)), expected="a mapping of names to lists of numbers"),
    },
    optional={"provenance": PROVENANCE, "features": FEATURES},
    what="sections",
)

#: the exceptions a hyperparameter rule or a constructor raises for a value it refuses
_REFUSED = (TypeError, ValueError, OverflowError, RecursionError)


def save_model(model, path) -> Path:
    """Write a fitted ``model`` to ``path`` (used as given; ``.npz`` is the usual suffix).

    Returns the path. Raises NotFittedError for an unfitted model, ModelFileWriteError (a
    ModelFileError and an OSError) when the disk refuses the file.
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
    if getattr(model, "provenance_", None) is not None:
        header["provenance"] = dict(model.provenance_)
    if hasattr(model, "_encoder_section"):  # a feature model: its fitted encoders
        header["features"] = model._encoder_section()
    write_npz(path, header, arrays)
    return Path(path)


def restore(cls, header: dict, arrays: dict, path):
    """The fitted ``cls`` that a model file's ``header`` and ``arrays`` describe (read from ``path``).

    ``header`` has been checked against :data:`SECTIONS` (``read_npz(path, SECTIONS)``). Raises
    ModelFileError when the hyperparameters or the arrays do not fit ``cls`` (see the module's
    docstring for the order of the checks).
    """

    def corrupt(problem: str):
        return ModelFileError(f"{path}: {problem}; the file is corrupt or was edited, save the model again")

    model = _model_from_params(cls, header["params"], path, complete=header["format_version"] >= 2)
    attributes = header["attributes"]
    model.n_users_, model.n_items_ = attributes["n_users_"], attributes["n_items_"]
    model.global_mean_ = float(attributes["global_mean_"])
    model.rating_range_ = tuple(float(v) for v in attributes["rating_range_"])
    if model.rating_range_[0] > model.rating_range_[1]:
        raise corrupt(f"rating_range_ {list(model.rating_range_)} runs from high to low")
    model.history_ = {name: list(values) for name, values in header["history"].items()}
    model.provenance_ = header.get("provenance")
    if hasattr(model, "_restore_encoders"):  # before the layout: the encoders size the arrays
        model._restore_encoders(header.get("features"), path)
    elif "features" in header:
        raise corrupt(f"it has a 'features' section, but a {cls.__name__} reads no features")
    expected = BASE_ARRAYS + cls._array_names
    missing = sorted(set(expected) - set(arrays))
    if missing:
        raise ModelFileError(f"{path}: arrays {missing} are missing for a {cls.__name__}")
    for name in expected:
        setattr(model, name, arrays[name])
    arrays = _check_arrays(model, arrays, corrupt)
    for name in expected:  # the arrays as the checks cast them
        setattr(model, name, arrays[name])
    broken = [what for what, holds in {**_base_invariants(model), **model._invariants()}.items() if not holds]
    if broken:
        raise corrupt(f"the arrays break what {cls.__name__} relies on: {'; '.join(broken)}")
    net_state = {k.removeprefix("net."): v for k, v in arrays.items() if k.startswith("net.")}
    if net_state or model._network_shapes():
        _check_network(model, net_state, corrupt)
        model._build_net()  # neural models: build the network with the loaded hyperparameters
        try:
            model.net.load_state_dict(net_state)
        except (KeyError, ValueError) as exc:
            raise ModelFileError(f"{path}: the network's weights do not fit {cls.__name__}: {exc}") from exc
    model._after_load()
    if model.provenance_ is None:
        warnings.warn(
            f"{path} was saved without its provenance (by an older tinyrec): the data "
            f"set, split and seed it was trained on are unknown, so evaluate and recommend cannot check "
            f"that they are given the same; refit and save it again to record them",
            UserWarning,
            stacklevel=3,
        )
    return model


def training_provenance(model, train) -> dict:
    """What ``model`` learns from when fitted on ``train``: the ``provenance_`` that ``fit`` records.

    ``data``: ``train.info["name"]`` (set by the loaders); ``split``: the method of the split that
    made ``train`` (its ``info["split"]`` report), e.g. ``"leave_one_out(by='time')"``; ``seed``:
    the model's ``seed`` when it is an integer (None: unseeded, or a Generator); ``fingerprint``
    and ``n_interactions``: of ``train``. The command line overwrites ``data``, ``split`` and
    ``seed`` with its own options' values.
    """
    name, report, seed = train.info.get("name"), train.info.get("split"), getattr(model, "seed", None)
    an_int = isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0
    return {
        "data": name if isinstance(name, str) else None,
        "split": getattr(report, "method", None),
        "seed": int(seed) if an_int else None,
        "fingerprint": train.fingerprint(),
        "n_interactions": len(train),
    }


def describe_provenance(provenance: dict | None) -> str:
    """``"ml-100k, split u1, seed 0 (80,000 interactions)"``: a provenance in words, for messages."""
    if provenance is None:
        return "unknown data (the file does not record it)"
    parts = [provenance.get("data") or "unnamed data"]
    if provenance.get("split"):
        parts.append(f"split {provenance['split']}")
    if provenance.get("seed") is not None:
        parts.append(f"seed {provenance['seed']}")
    return ", ".join(parts) + f" ({provenance['n_interactions']:,} interactions)"


def _model_from_params(cls, params: dict, path, *, complete: bool):
    """``cls(**params)``, each param checked first against the class's rules table (naming it).

    With ``complete`` (format version 2), every hyperparameter the class takes must be in the file,
    except those it added later (``cls.added_hyperparameters``: a file written before one existed
    lacks it, and gets the value that reproduces its model); a version-1 file may lack any, which
    take their defaults.
    """
    rules = cls.hyperparameters
    params = {**{k: v for k, v in cls.added_hyperparameters.items() if k not in params}, **params}
    unknown = sorted(set(params) - set(rules))
    if unknown:
        raise ModelFileError(
            f"{path}: its hyperparameters {unknown} are not {cls.__name__}'s (it takes {sorted(rules)}); the "
            f"file was edited or written for another class"
        )
    missing = sorted(set(rules) - set(params)) if complete else []
    if missing:
        raise ModelFileError(
            f"{path}: its hyperparameters lack {missing}, which {cls.__name__} takes; the file is corrupt or "
            f"was edited, save the model again"
        )
    for name, value in params.items():
        try:
            rules[name](value, name)
        except _REFUSED as exc:
            raise ModelFileError(f"{path}: hyperparameter {name}={value!r:.80} is refused: {exc}") from exc
    try:
        return cls(**params)
    except _REFUSED as exc:  # the constructor's checks across hyperparameters
        raise ModelFileError(f"{path}: its hyperparameters do not fit {cls.__name__}: {exc}") from exc


def _check_arrays(model, arrays: dict[str, np.ndarray], corrupt) -> dict[str, np.ndarray]:
    """The arrays checked against the model's layout, cast to the dtypes its code uses.

    An edited file must fail here, not later: an index out of range would crash a Numba kernel,
    an array of the wrong shape or dtype would end in a NumPy or Numba traceback.
    """
    shapes, index_lists = model._array_layout()
    unchecked = sorted(set(arrays) - set(shapes) - {n for n in arrays if n.startswith("net.")})
    if unchecked:  # the network's weights are checked against _network_shapes
        raise corrupt(f"arrays {unchecked} are not part of a {type(model).__name__}")
    for name, shape in shapes.items():
        a = arrays[name]
        if a.ndim != len(shape) or any(w is not None and g != w for g, w in zip(a.shape, shape, strict=True)):
            wanted = str(tuple("any" if d is None else d for d in shape)).replace("'", "")  # (5,) or (any,)
            raise corrupt(f"array {name!r} has shape {a.shape}, but the model needs {wanted}")
    # dtypes: counts and offsets int64, indices int32, raw ids integers or text, the rest the model's floats
    offsets = {pair[0] for pair in index_lists} | {"user_counts_", "item_counts_"}
    indices = {pair[1] for pair in index_lists}
    model_floats = np.dtype(model.dtype) if hasattr(model, "dtype") else None
    out = {}
    for name, a in arrays.items():
        if name in ("user_ids_", "item_ids_"):
            wanted, kinds, target = "integer or text", "iuU", a.dtype
        elif name in offsets or name in indices:
            wanted, kinds, target = "integer", "iu", np.dtype(np.int64 if name in offsets else np.int32)
        else:
            wanted, kinds, target = "float", "f", a.dtype if model_floats is None else model_floats
        if a.dtype.kind not in kinds:
            raise corrupt(f"array {name!r} has dtype {a.dtype}, not {wanted}")
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            raise corrupt(f"array {name!r} holds NaN or infinite values")
        out[name] = _exact_cast(a, target, name, corrupt)
    for offsets_name, indices_name, bound in index_lists:
        starts, idx = out[offsets_name], out[indices_name]
        if starts[0] != 0 or starts[-1] != len(idx) or np.any(np.diff(starts) < 0):
            raise corrupt(f"the offsets {offsets_name!r} do not run from 0 to len({indices_name}) in order")
        if idx.size and not (idx.min() >= 0 and idx.max() < bound):
            raise corrupt(f"{indices_name!r} holds indices outside [0, {bound})")
    return out


def _exact_cast(a: np.ndarray, target: np.dtype, name: str, corrupt) -> np.ndarray:
    """``a`` as ``target`` when every value survives the cast (an int64 index that fits int32, a
    float32 array for a float64 model, float64 holding float32 values); else ModelFileError."""
    if a.dtype == target:
        return a
    if a.dtype.kind in "iu":
        limits = np.iinfo(target)
        fits = a.size == 0 or (limits.min <= int(a.min()) and int(a.max()) <= limits.max)
        cast = a.astype(target) if fits else None
    else:
        cast = a.astype(target)
        fits = np.array_equal(cast.astype(a.dtype), a)
    if not fits:
        raise corrupt(
            f"array {name!r} is {a.dtype} but the model uses {target}, and some of its values do not fit "
            f"{target}"
        )
    return cast


def _check_network(model, state: dict[str, np.ndarray], corrupt) -> None:
    """The stored weights have exactly the shapes the hyperparameters imply, and fit the bound,
    before the network is built (a ``hidden=10**8`` beside small weights is refused here)."""
    wanted = model._network_shapes()
    if set(wanted) != set(state):
        raise corrupt(
            f"the network's weights {sorted(state)} are not those of a {type(model).__name__} with these "
            f"hyperparameters ({sorted(wanted)})"
        )
    for name, shape in wanted.items():
        if state[name].shape != tuple(shape):
            raise corrupt(
                f"the network weight 'net.{name}' has shape {state[name].shape}, but the hyperparameters "
                f"and n_users_/n_items_ make it {tuple(shape)}"
            )
    # building the network takes as much again as its weights
    check_bytes(sum(a.nbytes for a in state.values()), f"{type(model).__name__}'s network")


def _base_invariants(model) -> dict[str, bool]:
    """What every fitted Recommender's arrays satisfy (``fit`` makes them so; the code relies on it)."""
    seen_per_user = np.diff(model.seen_indptr_)
    seen_per_item = np.bincount(model.seen_indices_, minlength=model.n_items_)
    return {
        "it was fitted on at least one interaction": model.seen_indices_.size > 0,
        "each user's seen items (seen_indices_) are sorted and distinct": increasing_within(
            model.seen_indptr_, model.seen_indices_
        ),
        "user_counts_ counts at least each user's seen items, and 0 only for users with none": _counts_cover(
            model.user_counts_, seen_per_user
        ),
        "item_counts_ counts at least each item's seen users, and 0 only for items with none": _counts_cover(
            model.item_counts_, seen_per_item
        ),
        "the raw ids (user_ids_, item_ids_) are distinct": all(
            np.unique(ids).size == ids.size for ids in (model.user_ids_, model.item_ids_)
        ),
    }


def _counts_cover(counts: np.ndarray, distinct: np.ndarray) -> bool:
    return bool(np.all(counts >= distinct) and np.array_equal(counts == 0, distinct == 0))


# -- helpers for the models' own invariants (Recommender._invariants) ---------------------------
def segment_of(indptr: np.ndarray) -> np.ndarray:
    """``(nnz,)``: the segment (row) each position of a CSR's ``indices`` belongs to."""
    return np.repeat(np.arange(indptr.shape[0] - 1), np.diff(indptr))


def increasing_within(indptr: np.ndarray, indices: np.ndarray, *, strict: bool = True) -> bool:
    """Whether ``indices`` increase within each segment of the CSR ``(indptr, indices)`` (strictly:
    sorted without repeats; else sorted)."""
    if indices.size < 2:
        return True
    step = np.diff(indices.astype(np.int64))
    increasing = step > 0 if strict else step >= 0
    cuts = indptr[(indptr > 0) & (indptr < indices.size)] - 1  # a segment ends after position cut
    increasing[cuts] = True
    return bool(np.all(increasing))


def distinct_within(indptr: np.ndarray, indices: np.ndarray, bound: int) -> bool:
    """Whether no value repeats within a segment of the CSR ``(indptr, indices)`` (values in [0, bound))."""
    keys = np.sort(segment_of(indptr) * int(bound) + indices)
    return bool(np.all(keys[1:] != keys[:-1]))
