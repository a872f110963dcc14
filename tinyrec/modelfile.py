"""The model-file container: one ``.npz`` of arrays plus a JSON header, no pickle, written atomically.

Layout (a zip of ``.npy`` arrays, readable by ``np.load(path, allow_pickle=False)``):

* ``__header__`` — a uint8 array holding UTF-8 JSON: ``{"format": "tinyrec-model",
  "format_version": 1, "tinyrec_version": ..., "arrays": {name: {"shape": [...], "dtype": ...}},
  ...}``; what else the header holds is the business of the code that saves (a recommender's
  hyperparameters and fitted scalars: :mod:`tinyrec.models.persistence`);
* one array per entry of ``header["arrays"]``.

Nothing is unpickled: arrays of dtype object are refused at writing, and reading never allows
pickle. The file is written to a temporary file in the same folder and moved into place with
``os.replace``, so a crash never leaves a half-written file under the final name. :func:`read_npz`
refuses, with :class:`~tinyrec.errors.ModelFileError`, a missing, truncated or corrupt file, a file
of another format or format version, and a file whose arrays disagree with its header. This module
knows nothing of models: it sits below them (docs/architecture.md).
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import ModelFileError
from .version import __version__

FORMAT = "tinyrec-model"
FORMAT_VERSION = 1
HEADER_KEY = "__header__"


def new_header(**sections) -> dict:
    """A header with the format's identification first, then ``sections``."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "tinyrec_version": __version__, **sections}


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


def to_json(value, name: str):
    """A JSON-able form of a hyperparameter or fitted scalar."""
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, np.random.Generator):
        return None  # a generator's state is not a hyperparameter; the fitted arrays are saved
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, tuple):
        return [to_json(v, name) for v in value]
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    raise TypeError(f"{name}={value!r} cannot be stored in a model file's JSON header")
