"""``tinyrec.data``: interactions, loaders, preprocessing, splits and negative sampling.

* :class:`Interactions`: the immutable table every model takes (``interactions.py``);
* loaders: :func:`movielens`, :func:`movietweetings`, :func:`from_csv`, :func:`synthetic`;
* :mod:`~tinyrec.data.preprocess`: duplicates, invalid rows, k-core, implicit, centering; raw
  event rows of mixed types cleaned with one report (:func:`~tinyrec.data.preprocess.clean_events`);
* :mod:`~tinyrec.data.messy`: a faulty event feed made from clean data, for practice;
* :mod:`~tinyrec.data.features`, :mod:`~tinyrec.data.encoders`: typed feature tables of users and
  items (``user_meta``, ``item_meta``) and their encoders, fitted on train only;
* :mod:`~tinyrec.data.split`: holdout, leave-one-out, temporal, k-fold, cold users and cold items
  (one index space, no overlap);
* :mod:`~tinyrec.data.sampling`: negatives that are never positives, BPR triples, sampled
  evaluation candidates, minibatches.
"""

from . import encoders, features, preprocess, sampling, split
from .datasets import ML100K_FOLDS, MOVIELENS, movielens, movietweetings
from .features import Column, FeatureTable
from .interactions import Interactions
from .parsing import from_csv
from .sampling import NegativeSampler, minibatches, sampled_candidates
from .split import SplitReport, cold_items, cold_users, kfold, leave_one_out, random_holdout, temporal_split
from .synthetic import PlantedModel, synthetic

__all__ = [
    "Interactions",
    "FeatureTable",
    "Column",
    "features",
    "encoders",
    "movielens",
    "movietweetings",
    "from_csv",
    "synthetic",
    "PlantedModel",
    "preprocess",
    "sampling",
    "NegativeSampler",
    "sampled_candidates",
    "minibatches",
    "split",
    "leave_one_out",
    "random_holdout",
    "temporal_split",
    "kfold",
    "cold_users",
    "cold_items",
    "SplitReport",
    "MOVIELENS",
    "ML100K_FOLDS",
]
