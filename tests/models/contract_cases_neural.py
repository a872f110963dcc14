"""GMF, NCFMLP and NeuMF in the recommender contract (tiny networks, a few epochs)."""

import numpy as np

from tinyrec.errors import DTypeError
from tinyrec.models.ncf import GMF, NCFMLP, NeuMF

from .contract import VALIDATION, VERBOSE, RecommenderCase

#: what every NCF model shares: the training loop, the negatives, the initialisation, the dtype
TRAINING = dict(
    n_epochs=2, batch_size=16, lr=0.01, n_negatives=1, weight_decay=0.5, init_std=0.1, linear_init="ncf",
    seed=1, dtype=np.float64,
)  # fmt: skip

CASES = [
    RecommenderCase(
        "GMF",
        GMF,
        dict(n_factors=4, n_epochs=3, batch_size=32),
        feedback="implicit",
        changes=dict(n_factors=3, lazy_embeddings=True, **TRAINING),
        unchanged=dict(**VALIDATION, verbose=VERBOSE),
        refusals=[
            (dict(n_factors=0), ValueError, "n_factors"),
            (dict(n_factors=True), ValueError, "n_factors"),
            (dict(n_factors=4, n_epochs=0), ValueError, "n_epochs"),
            (dict(n_factors=4, batch_size=0), ValueError, "batch_size"),
            (dict(n_factors=4, n_negatives=0), ValueError, "n_negatives"),
            (dict(n_factors=4, lr=-1.0), ValueError, "lr"),
            (dict(n_factors=4, lr=float("nan")), ValueError, "lr"),
            (dict(n_factors=4, weight_decay=-0.1), ValueError, "weight_decay"),
            (dict(n_factors=4, patience=0), ValueError, "patience"),
            (dict(protocol="rating"), ValueError, "protocol"),
            (dict(dtype=np.int32), DTypeError, "float32"),
            (dict(seed="zero"), TypeError, "seed"),
            # a monitor the protocol lacks is refused at construction (it used to pass until fit got valid=)
            (
                dict(n_factors=2, n_epochs=1, protocol="full", monitor="auc"),
                ValueError,
                r"monitor must be one of .*'coverage@10'\), got 'auc'",
            ),
        ],
    ),
    RecommenderCase(
        "NCFMLP",
        NCFMLP,
        dict(layers=(8, 4), n_epochs=3, batch_size=32),
        feedback="implicit",
        changes=dict(layers=(6, 4), lazy_embeddings=False, **TRAINING),  # (6, 4): embeddings of 3, not 4
        unchanged=dict(**VALIDATION, verbose=VERBOSE),
        refusals=[
            (dict(layers=(63, 8)), ValueError, "even"),
            (dict(layers=(64,)), ValueError, "at least two"),
            (dict(layers="64,32"), ValueError, "sequence"),
            (dict(layers=(64, 0)), ValueError, "positive"),
        ],
    ),
    RecommenderCase(
        "NeuMF",
        NeuMF,
        dict(n_factors=4, layers=(8, 4), n_epochs=3, batch_size=32),
        feedback="implicit",
        changes=dict(n_factors=3, layers=(8, 2), pretrain=True, lazy_embeddings=False, **TRAINING),
        unchanged=dict(
            alpha="mixes the pretrained towers: read only with pretrain=True", **VALIDATION, verbose=VERBOSE
        ),
        refusals=[
            (dict(alpha=1.5), ValueError, "alpha"),
            (dict(linear_init="xavier"), ValueError, "linear_init"),
            (
                dict(monitor="foo"),
                ValueError,
                r"monitor must be one of \('hr@10', 'ndcg@10', 'mrr'\), got 'foo'",
            ),
        ],
    ),
    RecommenderCase(
        "NeuMF-pretrain-f64",
        NeuMF,
        dict(n_factors=2, layers=(4, 2), n_epochs=2, pretrain=True, batch_size=64, dtype=np.float64),
        feedback="implicit",
        changes=dict(alpha=0.7),
    ),
]
