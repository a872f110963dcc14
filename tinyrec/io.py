"""Model files: one ``.npz`` of arrays plus a JSON header, no pickle, written atomically.

Layout of a model file (a zip of ``.npy`` arrays, readable by ``np.load(path, allow_pickle=False)``):

* ``__header__`` — a uint8 array holding UTF-8 JSON::

    {"format": "tinyrec-model", "format_version": 1, "tinyrec_version": "0.1.0",
     "model_class": "tinyrec.models.mf.BiasedMF", "params": {...hyperparameters...},
     "attributes": {...fitted scalars: n_users_, global_mean_, ...}, "history": {...},
     "arrays": {"P_": {"shape": [943, 100], "dtype": "float32"}, ...}}

* one array per entry of ``header["arrays"]``: the model's learnt arrays, the id maps
  (``user_ids_``, ``item_ids_``), and a neural model's ``state_dict`` under ``net.<name>``.

Nothing is unpickled: raw ids are stored as int64 or unicode arrays, everything else as JSON.
The file is written to a temporary file in the same folder and moved into place with
``os.replace``, so a crash never leaves a half-written model under the final name.
:func:`load` refuses, with :class:`~tinyrec.errors.ModelFileError`, a file of another format
version, a truncated or corrupt file, a file whose arrays disagree with its header, and a file
whose arrays disagree with each other (sizes that do not match ``n_users_``/``n_items_``, index
lists out of range, NaN or infinite weights), so an edited file fails at load, not later.
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import ModelFileError

FORMAT = "tinyrec-model"
FORMAT_VERSION = 1
HEADER_KEY = "__header__"

# fitted scalars and id maps every Recommender has after fit (see models/base.py)
_BASE_ATTRIBUTES = ("n_users_", "n_items_", "global_mean_", "rating_range_")
_BASE_ARRAYS = ("user_counts_", "item_counts_", "user_ids_", "item_ids_", "seen_indptr_", "seen_indices_")


def save(model, path) -> Path:
    """Write a fitted ``model`` to ``path`` (used as given; ``.npz`` is the usual suffix).

    Returns the path. Raises NotFittedError for an unfitted model.
    """
    from . import __version__

    model._check_fitted()
    path = check_save_path(path)
    arrays = {name: np.asarray(getattr(model, name)) for name in _BASE_ARRAYS + model._array_names}
    net = getattr(model, "net", None)
    if net is not None:
        arrays.update({f"net.{name}": value for name, value in net.state_dict().items()})
    params = {name: _to_json(value, name) for name, value in model.get_params().items()}
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tinyrec_version": __version__,
        "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
        "params": params,
        "attributes": {name: _to_json(getattr(model, name), name) for name in _BASE_ATTRIBUTES},
        "history": {k: [_to_json(v, k) for v in vs] for k, vs in getattr(model, "history_", {}).items()},
        "arrays": {name: {"shape": list(a.shape), "dtype": a.dtype.str} for name, a in arrays.items()},
    }
    write_npz(path, header, arrays)
    return Path(path)


def check_save_path(path) -> Path:
    """``path`` as a Path whose folder exists and which is not itself a folder (else ModelFileError)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a pathlib.Path, got {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder; give a file name, e.g. {path / 'model.npz'}")
    if not path.parent.is_dir():
        raise ModelFileError(
            f"cannot save to {path}: the folder {path.parent} does not exist; create it first "
            f"(mkdir -p {path.parent}) or choose another path"
        )
    return path


def load(path):
    """Read a model written by :func:`save` (``tinyrec.load``); returns the fitted model.

    Raises
    ------
    ModelFileError
        The file is missing, truncated or corrupt, of another format version, names a class that
        is not a tinyrec Recommender, or holds arrays that disagree with its header.
    """
    from .models.base import Recommender

    header, arrays = read_npz(path)
    cls = _resolve_class(header.get("model_class"), path)
    if not (isinstance(cls, type) and issubclass(cls, Recommender)):
        raise ModelFileError(f"{path}: model_class {header['model_class']!r} is not a tinyrec Recommender")
    for section in ("params", "attributes", "history"):
        if not isinstance(header.get(section, {}), dict):
            raise ModelFileError(f"{path}: the header's {section!r} is not a mapping; the file is corrupt")
    params = dict(header.get("params", {}))
    try:
        model = cls(**params)
    except (TypeError, ValueError) as exc:  # unknown names, or values the constructor refuses
        raise ModelFileError(f"{path}: its hyperparameters do not fit {cls.__name__}: {exc}") from exc
    attributes = header.get("attributes", {})
    missing = [name for name in _BASE_ATTRIBUTES if name not in attributes]
    if missing:
        raise ModelFileError(f"{path}: the header lacks the fitted attributes {missing}; the file is corrupt")
    for name, value in attributes.items():
        setattr(model, name, tuple(value) if isinstance(value, list) else value)
    model.history_ = dict(header.get("history", {}))
    expected = set(_BASE_ARRAYS + cls._array_names)
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


def write_npz(path, header: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` and ``header`` (JSON, as a uint8 array) to ``path`` atomically."""
    path = Path(path)
    for name, a in arrays.items():
        if a.dtype.hasobject:
            raise TypeError(f"array {name!r} has dtype object, which needs pickle; store ints/floats/str")
    blob = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    # the temporary file lives in the target's folder, so os.replace is an atomic rename
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{HEADER_KEY: blob}, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_npz(path) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and check a model file: returns ``(header, arrays)``; see :func:`load` for the errors."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a pathlib.Path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(
            f"no model file at {path}; check the path (models are saved with model.save(path))"
        )
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # a plain .npy array
            raise ValueError("it holds a single array, not an .npz archive")
        with loaded as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise ModelFileError(
            f"{path} is truncated or not a tinyrec model file ({type(exc).__name__}: {exc}); "
            f"save the model again"
        ) from exc
    blob = arrays.pop(HEADER_KEY, None)
    if blob is None or blob.dtype != np.uint8 or blob.ndim != 1:
        raise ModelFileError(f"{path} has no tinyrec header: it is an .npz but not a tinyrec model file")
    try:
        header = json.loads(blob.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: its header is not valid JSON ({exc}); the file is corrupt") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a tinyrec model file (format {header.get('format')!r})")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has model-file format version {version!r}, but this tinyrec "
            f"({header.get('tinyrec_version')!r} wrote it) reads version {FORMAT_VERSION}; load it with a "
            f"matching tinyrec version, or retrain and save"
        )
    listed = header.get("arrays", {})
    if set(listed) != set(arrays):
        raise ModelFileError(
            f"{path}: the header lists arrays {sorted(set(listed) - set(arrays))} that are absent and "
            f"the file holds {sorted(set(arrays) - set(listed))} that the header does not list; "
            f"the file is corrupt"
        )
    for name, spec in listed.items():
        a = arrays[name]
        if list(a.shape) != list(spec["shape"]) or a.dtype.str != spec["dtype"]:
            raise ModelFileError(
                f"{path}: array {name!r} has shape {a.shape} and dtype {a.dtype.str}, but the header says "
                f"{tuple(spec['shape'])} and {spec['dtype']}; the file is corrupt"
            )
    return header, arrays


def _to_json(value, name: str):
    """A JSON-able form of a hyperparameter or fitted scalar."""
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, np.random.Generator):
        return None  # a generator's state is not a hyperparameter; the fitted arrays are saved
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, tuple):
        return [_to_json(v, name) for v in value]
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    raise TypeError(f"{name}={value!r} cannot be stored in a model file's JSON header")


def _resolve_class(qualname, path):
    if not isinstance(qualname, str) or not qualname.startswith("tinyrec.") or "." not in qualname:
        raise ModelFileError(f"{path}: model_class {qualname!r} is not a tinyrec class")
    module_name, _, class_name = qualname.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ModelFileError(
            f"{path}: model class {qualname!r} does not exist in this tinyrec; load it with the tinyrec "
            f"version that saved it ({exc})"
        ) from exc
