"""Popularity, BaselineOnly, BiasedMF, BPRMF and ImplicitALS in the recommender contract (small, fast)."""

import numpy as np

from tinyrec.models import BPRMF, BaselineOnly, BiasedMF, ImplicitALS, Popularity

from .contract import RecommenderCase

CASES = [
    RecommenderCase("Popularity", lambda seed: Popularity()),
    RecommenderCase("Popularity-implicit", lambda seed: Popularity(), feedback="implicit"),
    RecommenderCase("BaselineOnly-als", lambda seed: BaselineOnly("als")),
    RecommenderCase("BaselineOnly-sgd", lambda seed: BaselineOnly("sgd", seed=seed)),
    RecommenderCase("BiasedMF", lambda seed: BiasedMF(4, 10, lr_all=0.02, seed=seed)),
    RecommenderCase("BiasedMF-blocked", lambda seed: BiasedMF(4, 10, lr_all=0.02, n_blocks=3, seed=seed)),
    RecommenderCase(
        "BiasedMF-unbiased-f64", lambda seed: BiasedMF(3, 5, biased=False, dtype=np.float64, seed=seed)
    ),
    RecommenderCase("BPRMF", lambda seed: BPRMF(4, 5, seed=seed), feedback="implicit"),
    RecommenderCase("ImplicitALS", lambda seed: ImplicitALS(4, 3, seed=seed), feedback="implicit"),
]
