"""Recommenders: every model follows :class:`~tinyrec.models.base.Recommender`'s API."""

from .base import Recommender
from .baseline import BaselineOnly
from .bpr import BPRMF
from .mf import BiasedMF, Explanation
from .popularity import Popularity

__all__ = ["BPRMF", "BaselineOnly", "BiasedMF", "Explanation", "Popularity", "Recommender"]
