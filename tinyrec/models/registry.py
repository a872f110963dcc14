"""The concrete recommenders tinyrec can save and load, by name.

``tinyrec.load`` rebuilds a model only from a class listed here: a model file names its class,
and that name is looked up in :data:`MODEL_CLASSES`, never imported. A new model joins by adding
one entry. An abstract or private class (``Recommender``, ``_NeighbourhoodModel``) is never
rebuilt from a file, even if an entry named one.
"""

from __future__ import annotations

import inspect

from .als import ImplicitALS
from .autorec import AutoRec
from .base import Recommender
from .baseline import BaselineOnly
from .bpr import BPRMF
from .feature_mlp import FeatureMLP
from .fm import FM
from .group_popularity import GroupPopularity
from .knn import ItemKNN, UserKNN
from .mf import BiasedMF
from .multdae import MultDAE
from .ncf import GMF, NCFMLP, NeuMF
from .popularity import Popularity
from .sequential import Caser, GRU4Rec, SASRec

#: class name -> class, for every model a file may hold
MODEL_CLASSES = {
    cls.__name__: cls
    for cls in (
        Popularity, UserKNN, ItemKNN, BaselineOnly, BiasedMF, BPRMF, ImplicitALS, GMF, NCFMLP, NeuMF,
        AutoRec, MultDAE, SASRec, GRU4Rec, Caser, FM, FeatureMLP, GroupPopularity,
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
    return cls if is_concrete(cls) else None


def is_concrete(cls) -> bool:
    """A public Recommender subclass that implements fitting and scoring (not an abstract base)."""
    own = ("_fit", "_score", "_score_all")
    return (
        isinstance(cls, type)
        and issubclass(cls, Recommender)
        and not cls.__name__.startswith("_")
        and not inspect.isabstract(cls)
        and all(getattr(cls, name) is not getattr(Recommender, name) for name in own)
    )
