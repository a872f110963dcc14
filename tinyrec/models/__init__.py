"""Recommenders: every model follows :class:`~tinyrec.models.base.Recommender`'s API."""

from .als import ImplicitALS
from .autorec import AutoRec, AutoRecNet
from .base import Recommender
from .baseline import BaselineOnly
from .bpr import BPRMF
from .feature_mlp import FeatureMLP
from .fm import FM, FMExplanation
from .group_popularity import GroupPopularity
from .knn import ItemKNN, NeighbourExplanation, UserKNN
from .mf import BiasedMF, Explanation
from .multdae import MultDAE, MultDAENet
from .ncf import GMF, NCFMLP, NeuMF, fuse_pretrained
from .popularity import Popularity

__all__ = [
    "AutoRec",
    "AutoRecNet",
    "GMF",
    "MultDAE",
    "MultDAENet",
    "NCFMLP",
    "NeuMF",
    "fuse_pretrained",
    "BPRMF",
    "BaselineOnly",
    "BiasedMF",
    "Explanation",
    "FM",
    "FMExplanation",
    "FeatureMLP",
    "GroupPopularity",
    "ImplicitALS",
    "ItemKNN",
    "NeighbourExplanation",
    "Popularity",
    "Recommender",
    "UserKNN",
]
