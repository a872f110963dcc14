"""The concrete recommenders tinyrec can save and load, by name.

``tinyrec.load`` rebuilds a model only from a class listed here: a model file names its class,
and that name is looked up in :data:`MODEL_CLASSES`, never imported. A new model joins by adding
one entry.
"""

from __future__ import annotations

from .als import ImplicitALS
from .autorec import AutoRec
from .baseline import BaselineOnly
from .bpr import BPRMF
from .knn import ItemKNN, UserKNN
from .mf import BiasedMF
from .multdae import MultDAE
from .ncf import GMF, NCFMLP, NeuMF
from .popularity import Popularity

#: class name -> class, for every model a file may hold
MODEL_CLASSES = {
    cls.__name__: cls
    for cls in (
        Popularity, UserKNN, ItemKNN, BaselineOnly, BiasedMF, BPRMF, ImplicitALS, GMF, NCFMLP, NeuMF,
        AutoRec, MultDAE,
    )
}  # fmt: skip


def model_class(name):
    """The registered class a file's ``model_class`` names, or None.

    Files name a class by its full path (``"tinyrec.models.mf.BiasedMF"``); the last part is looked
    up, and the path must be where that class lives.
    """
    if not isinstance(name, str):
        return None
    cls = MODEL_CLASSES.get(name.rpartition(".")[2])
    if cls is None or name not in (cls.__name__, f"{cls.__module__}.{cls.__qualname__}"):
        return None
    return cls
