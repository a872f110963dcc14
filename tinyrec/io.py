"""Saving and loading: the front door (``tinyrec.save``/``model.save``, ``tinyrec.load``).

A model file is one ``.npz`` of arrays plus a JSON header, no pickle, written atomically
(:mod:`tinyrec.modelfile`, the container). What a recommender stores in it, and how it is rebuilt,
is :mod:`tinyrec.models.persistence`; :func:`load` finds the class a file names among the
concrete models of :mod:`tinyrec.models.registry`, never by importing a name the file gives.

A model file is untrusted input (downloaded, shared, handed in): :func:`load` checks it against
the declared schema of format version 2 before it reads an array or builds anything, and refuses,
with :class:`~tinyrec.errors.ModelFileError` naming what is wrong, a file of another format
version, a truncated or corrupt file, a header field of the wrong type, a member whose ``.npy``
header disagrees with the file's header, a class that is not a registered concrete tinyrec model,
hyperparameters the class refuses, and arrays that disagree with each other or break what the
model relies on (sizes that do not match ``n_users_``/``n_items_``, index lists out of range or out
of order, NaN or infinite weights), so an edited file fails at load, not later. A file whose arrays
would take more memory than :mod:`tinyrec.limits` allows raises
:class:`~tinyrec.errors.AllocationError` instead (a ValueError and a MemoryError, naming the size
and ``TINYREC_MAX_BYTES``), before anything is allocated. Files of format version 1 (written by
tinyrec before the schema) load as before. See docs/security.md.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ModelFileError
from .modelfile import FORMAT_VERSION, HEADER_KEY, check_save_path, read_npz
from .models.persistence import SECTIONS, restore, save_model
from .models.registry import model_class

__all__ = ["FORMAT_VERSION", "HEADER_KEY", "check_save_path", "load", "save"]


def save(model, path) -> Path:
    """Write a fitted ``model`` to ``path`` (``model.save(path)`` does the same). Returns the path.

    Raises ModelFileWriteError (a ModelFileError and an OSError) naming the path and the cause when
    the disk refuses (full, read-only); the file at ``path``, if any, is then unchanged.
    """
    return save_model(model, path)


def load(path):
    """Read a model written by :func:`save` (``tinyrec.load``); returns the fitted model.

    Raises
    ------
    ModelFileError
        The file is missing, truncated or corrupt, of another format version, names a class that
        is not a concrete tinyrec model, or holds a header, hyperparameters or arrays that do not
        fit the schema, the class or each other.
    AllocationError
        The file's arrays would take more memory than tinyrec's bound (``TINYREC_MAX_BYTES``).
    """
    header, arrays = read_npz(path, SECTIONS)
    cls = model_class(header["model_class"])
    if cls is None:
        raise ModelFileError(
            f"{path}: model_class {header['model_class']!r} is not a tinyrec model in this version "
            f"(known: tinyrec.models.registry.MODEL_CLASSES); load it with the tinyrec version that saved it"
        )
    return restore(cls, header, arrays, path)
