"""SASRec, GRU4Rec and Caser in the recommender contract (tiny networks, a few epochs)."""

import numpy as np

from tinyrec.data import Interactions
from tinyrec.errors import DataError, DTypeError
from tinyrec.models.sequential import Caser, GRU4Rec, SASRec

from .contract import VALIDATION, VERBOSE, RecommenderCase, implicit_toy


def _without_timestamps():
    train, _ = implicit_toy()
    return Interactions(train.users, train.items, None, None, n_users=train.n_users, n_items=train.n_items)


#: every sequence model is trained in time order: data without timestamps is refused by fit
NO_TIME = (_without_timestamps(), DataError, "no timestamps")

#: what every sequence model shares: the training loop, the initialisation, the dtype
TRAINING = dict(
    n_epochs=3, batch_size=4, lr=0.01, weight_decay=0.5, lazy_embeddings=False, seed=1, dtype=np.float64
)

CASES = [
    RecommenderCase(
        "SASRec",
        SASRec,
        dict(max_len=8, dim=8, n_epochs=2, batch_size=8),
        feedback="implicit",
        changes=dict(max_len=3, dim=6, n_blocks=1, num_heads=2, dropout=0.5, n_negatives=3, **TRAINING),
        unchanged=dict(**VALIDATION, verbose=VERBOSE),
        refusals=[
            (dict(max_len=0), ValueError, "max_len"),
            (dict(dim=50, num_heads=3), ValueError, "num_heads=3 does not divide dim=50"),
            (dict(dropout=1.0), ValueError, "dropout"),
            (dict(n_blocks=0), ValueError, "n_blocks"),
            (dict(n_negatives=0), ValueError, "n_negatives"),
            (dict(lr=-1.0), ValueError, "lr"),
            (dict(protocol="rating"), ValueError, "protocol"),
            (dict(monitor="auc"), ValueError, r"monitor must be one of \('hr@10', 'ndcg@10', 'mrr'\)"),
            (dict(dtype=np.int32), DTypeError, "float32"),
            (dict(seed="zero"), TypeError, "seed"),
        ],
        fit_refusals=[NO_TIME],
    ),
    RecommenderCase(
        "GRU4Rec",
        GRU4Rec,
        dict(dim=6, hidden=5, n_epochs=2, batch_size=8),
        feedback="implicit",
        changes=dict(dim=4, hidden=3, loss="bpr", dropout=0.5, max_len=3, **TRAINING),
        unchanged=dict(**VALIDATION, verbose=VERBOSE),
        refusals=[
            (dict(loss="top1"), ValueError, "loss"),
            (dict(hidden=0), ValueError, "hidden"),
            (dict(dropout=-0.1), ValueError, "dropout"),
            (dict(max_len=2.5), ValueError, "max_len"),
        ],
        fit_refusals=[NO_TIME],
    ),
    RecommenderCase(
        "GRU4Rec-bce",
        GRU4Rec,
        dict(dim=6, hidden=5, loss="bce", n_epochs=2, batch_size=8),
        feedback="implicit",
        changes=dict(n_negatives=4, loss="ce"),
    ),
    RecommenderCase(
        "Caser",
        Caser,
        dict(window=3, n_targets=2, dim=6, n_vertical=2, n_horizontal=2, n_epochs=2, batch_size=32),
        feedback="implicit",
        changes=dict(
            window=2, n_targets=1, dim=4, n_vertical=1, n_horizontal=3, dropout=0.1, n_negatives=1, **TRAINING
        ),  # fmt: skip
        unchanged=dict(**VALIDATION, verbose=VERBOSE),
        refusals=[
            (dict(window=0), ValueError, "window"),
            (dict(n_targets=0), ValueError, "n_targets"),
            (dict(n_vertical=True), ValueError, "n_vertical"),
            (dict(weight_decay=float("nan")), ValueError, "weight_decay"),
        ],
        fit_refusals=[NO_TIME],
    ),
]
