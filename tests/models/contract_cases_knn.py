"""ItemKNN and UserKNN in the recommender contract: both rating modes, the ranking mode, float64."""

import numpy as np

from tinyrec.models import ItemKNN, UserKNN

from .contract import RecommenderCase

CASES = [
    RecommenderCase("ItemKNN-baseline", lambda seed: ItemKNN(5, seed=seed)),
    RecommenderCase("ItemKNN-means-pearson", lambda seed: ItemKNN(5, mode="means", similarity="pearson")),
    RecommenderCase(
        "ItemKNN-ranking", lambda seed: ItemKNN(5, mode="ranking", similarity="cosine"), feedback="implicit"
    ),
    RecommenderCase(
        "UserKNN-means-msd-f64", lambda seed: UserKNN(4, mode="means", similarity="msd", dtype=np.float64)
    ),
    RecommenderCase(
        "UserKNN-ranking", lambda seed: UserKNN(4, mode="ranking", similarity="cosine"), feedback="implicit"
    ),
]
