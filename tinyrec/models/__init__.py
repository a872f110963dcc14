"""Recommenders: every model follows :class:`~tinyrec.models.base.Recommender`'s API."""

from .als import ImplicitALS
from .base import Recommender
from .baseline import BaselineOnly
from .bpr import BPRMF
from .knn import ItemKNN, NeighbourExplanation, UserKNN
from .mf import BiasedMF, Explanation
from .popularity import Popularity

__all__ = [
    "BPRMF",
    "BaselineOnly",
    "BiasedMF",
    "Explanation",
    "ImplicitALS",
    "ItemKNN",
    "NeighbourExplanation",
    "Popularity",
    "Recommender",
    "UserKNN",
]
