"""ItemKNN and UserKNN in the recommender contract: both rating modes, the ranking mode, float64."""

import numpy as np

from tinyrec.data import Interactions
from tinyrec.models import ItemKNN, UserKNN

from .contract import BACKEND, DETERMINISTIC, RecommenderCase

EITHER = (ValueError, TypeError)
BASELINES = "sets the baselines b_u, b_i, which mode='means' with similarity='msd' never reads"

CASES = [
    RecommenderCase(
        "ItemKNN-baseline",
        ItemKNN,
        dict(k=5),
        changes=dict(
            k=1,
            min_k=4,
            shrinkage=50.0,
            similarity="msd",
            mode="means",
            reg_u=0.0,
            reg_i=0.0,
            min_support=3,
            baseline_epochs=1,
            dtype=np.float64,
        ),
        unchanged=dict(backend=BACKEND, seed=DETERMINISTIC),
        refusals=[
            (dict(k=0), EITHER, "k must be"),
            (dict(k=2.5), EITHER, "k must be"),
            (dict(min_k=0), EITHER, "min_k"),
            (dict(mode="basic"), EITHER, "mode must be"),
            (dict(similarity="jaccard"), EITHER, "similarity must be"),
            (dict(mode="ranking", similarity="pearson"), EITHER, "similarity='cosine'"),
            (dict(shrinkage=-1.0), EITHER, "shrinkage"),
            (dict(dtype=np.int32), EITHER, "dtype"),
            (dict(backend="numpy"), ValueError, "backend must be one of"),  # no NumPy twin of its kernels
        ],
        fit_refusals=[(Interactions([0, 0], [1, 1], [3.0, 4.0]), ValueError, "repeats")],
    ),
    RecommenderCase("ItemKNN-means-pearson", ItemKNN, dict(k=5, mode="means", similarity="pearson")),
    RecommenderCase(
        "ItemKNN-ranking",
        ItemKNN,
        dict(k=5, mode="ranking", similarity="cosine"),
        feedback="implicit",
        changes=dict(k=1),
    ),
    RecommenderCase(
        "UserKNN-means-msd-f64",
        UserKNN,
        dict(k=4, mode="means", similarity="msd", dtype=np.float64),
        changes=dict(
            k=1,
            min_k=5,
            shrinkage=50.0,
            similarity="pearson",
            mode="baseline",
            min_support=3,
            dtype=np.float32,
        ),
        unchanged=dict(
            reg_u=BASELINES, reg_i=BASELINES, baseline_epochs=BASELINES, backend=BACKEND, seed=DETERMINISTIC
        ),
    ),
    RecommenderCase(
        "UserKNN-ranking", UserKNN, dict(k=4, mode="ranking", similarity="cosine"), feedback="implicit"
    ),
]
