"""AutoRec (item- and user-based) and Mult-DAE in the recommender contract (small networks, few epochs)."""

import numpy as np

from tinyrec.models.autorec import AutoRec
from tinyrec.models.multdae import MultDAE

from .contract import VALIDATION, VERBOSE, RecommenderCase

EITHER = (ValueError, TypeError)

CASES = [
    RecommenderCase(
        "AutoRec",
        AutoRec,
        dict(hidden=8, n_epochs=3, batch_size=8),
        changes=dict(
            hidden=4,
            n_epochs=5,
            item_based=False,
            batch_size=4,
            lr=3e-3,
            weight_decay=0.1,
            seed=1,
            dtype=np.float64,
        ),
        unchanged=dict(**VALIDATION, verbose=VERBOSE),
        refusals=[
            (dict(hidden=0), EITHER, "hidden"),
            (dict(n_epochs=1.5), EITHER, "n_epochs"),
            (dict(batch_size=True), EITHER, "batch_size"),
            (dict(lr=-1.0), EITHER, "lr"),
            (dict(weight_decay=float("nan")), EITHER, "weight_decay"),
            (dict(patience=0), EITHER, "patience"),
            (dict(protocol="full"), EITHER, "rating"),
            (dict(monitor="hr@10"), EITHER, "rmse"),
            (dict(seed="x"), EITHER, "seed"),
            (dict(dtype=np.int32), EITHER, "dtype"),
        ],
        fit_refusals=[(np.zeros((3, 3)), ValueError, "Interactions")],
    ),
    RecommenderCase(
        "AutoRec-user-f64", AutoRec, dict(hidden=6, n_epochs=2, item_based=False, dtype=np.float64)
    ),
    RecommenderCase(
        "MultDAE",
        MultDAE,
        dict(hidden=8, n_epochs=3, batch_size=8),
        feedback="implicit",
        changes=dict(
            hidden=4,
            n_epochs=5,
            dropout=0.0,
            batch_size=4,
            lr=3e-3,
            weight_decay=0.5,
            seed=1,
            dtype=np.float64,
        ),
        unchanged=dict(**VALIDATION, verbose=VERBOSE),
        refusals=[
            (dict(hidden=0), EITHER, "hidden"),
            (dict(n_epochs=0), EITHER, "n_epochs"),
            (dict(batch_size=2.0), EITHER, "batch_size"),
            (dict(dropout=1.0), EITHER, "dropout"),
            (dict(lr=-1e-3), EITHER, "lr"),
            (dict(weight_decay=float("inf")), EITHER, "weight_decay"),
            (dict(patience=-1), EITHER, "patience"),
            (dict(protocol="rating"), EITHER, "protocol"),
            (dict(monitor="ndcg"), EITHER, "cut-off"),
            (dict(monitor="ndcg@0"), EITHER, "cut-off"),
            (dict(seed=1.5), EITHER, "seed"),
            # a monitor the protocol lacks: refused at construction, before fit(train, valid=...) is reached
            (
                dict(
                    hidden=8, n_epochs=1, batch_size=8, lr=1e-2, weight_decay=1e-4, seed=0, monitor="rmse@10"
                ),
                ValueError,
                "monitor",
            ),
        ],
    ),
    RecommenderCase(
        "MultDAE-f64",
        MultDAE,
        dict(hidden=4, n_epochs=2, dropout=0.2, dtype=np.float64),
        feedback="implicit",
    ),
]
