"""AutoRec (item- and user-based) and Mult-DAE in the recommender contract (small networks, few epochs)."""

import numpy as np

from tinyrec.models.autorec import AutoRec
from tinyrec.models.multdae import MultDAE

from .contract import RecommenderCase

CASES = [
    RecommenderCase("AutoRec", lambda seed: AutoRec(8, 3, batch_size=8, seed=seed)),
    RecommenderCase(
        "AutoRec-user-f64", lambda seed: AutoRec(6, 2, item_based=False, dtype=np.float64, seed=seed)
    ),
    RecommenderCase("MultDAE", lambda seed: MultDAE(8, 3, batch_size=8, seed=seed), feedback="implicit"),
    RecommenderCase(
        "MultDAE-f64",
        lambda seed: MultDAE(4, 2, dropout=0.2, dtype=np.float64, seed=seed),
        feedback="implicit",
    ),
]
