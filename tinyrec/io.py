"""Saving and loading: the front door (``tinyrec.save``/``model.save``, ``tinyrec.load``).

A model file is one ``.npz`` of arrays plus a JSON header, no pickle, written atomically
(:mod:`tinyrec.modelfile`, the container). What a recommender stores in it, and how it is rebuilt,
is :mod:`tinyrec.models.persistence`; :func:`load` finds the class a file names among the
concrete models of :mod:`tinyrec.models.registry`, never by importing a name the file gives.

:func:`load` refuses, with :class:`~tinyrec.errors.ModelFileError`, a file of another format
version, a truncated or corrupt file, a file whose arrays disagree with its header, a file naming
a class that is not a registered tinyrec model, and a file whose arrays disagree with each other
(sizes that do not match ``n_users_``/``n_items_``, index lists out of range, NaN or infinite
weights), so an edited file fails at load, not later.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ModelFileError
from .modelfile import FORMAT_VERSION, HEADER_KEY, check_save_path, read_npz
from .models.persistence import restore, save_model
from .models.registry import model_class

__all__ = ["FORMAT_VERSION", "HEADER_KEY", "check_save_path", "load", "save"]


def save(model, path) -> Path:
    """Write a fitted ``model`` to ``path`` (``model.save(path)`` does the same). Returns the path."""
    return save_model(model, path)


def load(path):
    """Read a model written by :func:`save` (``tinyrec.load``); returns the fitted model.

    Raises
    ------
    ModelFileError
        The file is missing, truncated or corrupt, of another format version, names a class that
        is not a tinyrec model, or holds arrays that disagree with its header or with each other.
    """
    header, arrays = read_npz(path)
    cls = model_class(header.get("model_class"))
    if cls is None:
        raise ModelFileError(
            f"{path}: model_class {header.get('model_class')!r} is not a tinyrec model in this version "
            f"(known: tinyrec.models.registry.MODEL_CLASSES); load it with the tinyrec version that saved it"
        )
    return restore(cls, header, arrays, path)
