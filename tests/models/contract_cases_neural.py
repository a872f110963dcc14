"""GMF, NCFMLP and NeuMF in the recommender contract (tiny networks, a few epochs)."""

import numpy as np

from tinyrec.models.ncf import GMF, NCFMLP, NeuMF

from .contract import RecommenderCase

CASES = [
    RecommenderCase("GMF", lambda seed: GMF(4, 3, batch_size=32, seed=seed), feedback="implicit"),
    RecommenderCase("NCFMLP", lambda seed: NCFMLP((8, 4), 3, batch_size=32, seed=seed), feedback="implicit"),
    RecommenderCase("NeuMF", lambda seed: NeuMF(4, (8, 4), 3, batch_size=32, seed=seed), feedback="implicit"),
    RecommenderCase(
        "NeuMF-pretrain-f64",
        lambda seed: NeuMF(2, (4, 2), 2, pretrain=True, batch_size=64, dtype=np.float64, seed=seed),
        feedback="implicit",
    ),
]
