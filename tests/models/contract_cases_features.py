"""The feature models in the recommender contract: FM (a rating and a ranking case), FeatureMLP.

The contract's toy sets have no feature columns, so here the models read ids (and, with
``implicit``, the items each user rated); what the feature columns change is stated in
tests/models/test_fm.py, on a toy set with features.
"""

import numpy as np

from tinyrec.errors import DTypeError
from tinyrec.models.feature_mlp import FeatureMLP
from tinyrec.models.fm import FM
from tinyrec.models.group_popularity import GroupPopularity

from .contract import VALIDATION, VERBOSE, RecommenderCase

NO_COLUMNS = "the contract's toy set has no feature columns (tests/models/test_fm.py changes them)"

CASES = [
    RecommenderCase(
        "FM",
        FM,
        dict(n_factors=4, n_epochs=3, batch_size=32, lr=0.05, init_std=0.1, weight_decay=0.01),
        changes=dict(
            optimizer="adamw",
            n_factors=3,
            n_epochs=2,
            batch_size=16,
            lr=0.02,
            weight_decay=0.1,
            init_std=0.3,
            implicit=True,
            lazy_embeddings=False,
            user_balance=1.0,
            dtype=np.float64,
            seed=3,
        ),  # fmt: skip
        unchanged=dict(
            user_features=NO_COLUMNS,
            item_features=NO_COLUMNS,
            verbose=VERBOSE,
            **VALIDATION,
            n_negatives="read only with loss='bce' (the FM-bce case changes it)",
            use_ids="False or 'user'/'item' on the toy set: tests/models/test_fm.py (False alone is refused)",
        ),  # fmt: skip
        refusals=[
            (dict(n_factors=0), ValueError, "n_factors"),
            (dict(loss="hinge"), ValueError, "loss"),
            (dict(lr=-1.0), ValueError, "lr"),
            (dict(user_balance=2.0), ValueError, "user_balance"),
            (dict(user_features="some"), ValueError, "user_features must be 'all', 'none'"),
            (dict(item_features=("genres", 3)), ValueError, "item_features must hold column names"),
            (dict(protocol="sampled", monitor="rmse"), ValueError, "monitor must be one of"),
            (dict(dtype=np.int32), DTypeError, "float32"),
            (dict(monitor="auc"), ValueError, "monitor must be a metric FM can monitor"),
        ],
    ),
    RecommenderCase(
        "FM-bce",
        FM,
        dict(n_factors=4, n_epochs=3, batch_size=32, lr=0.05, init_std=0.1, loss="bce"),
        feedback="implicit",
        changes=dict(n_negatives=2, loss="bpr"),
    ),
    RecommenderCase(
        "FM-softmax",
        FM,
        dict(n_factors=4, n_epochs=3, batch_size=32, lr=0.05, init_std=0.1, loss="softmax"),
        feedback="implicit",
        changes=dict(n_factors=3, loss="bce"),
    ),
    RecommenderCase(
        "FeatureMLP",
        FeatureMLP,
        dict(embedding_dim=4, layers=(8,), n_epochs=3, batch_size=32, lr=0.01, init_std=0.1),
        feedback="implicit",
        changes=dict(
            embedding_dim=3,
            layers=(6, 4),
            n_epochs=2,
            n_negatives=2,
            batch_size=16,
            lr=0.02,
            weight_decay=0.1,
            init_std=0.3,
            lazy_embeddings=False,
            user_balance=0.5,
            dtype=np.float64,
            seed=3,
            loss="sampled_softmax",
        ),  # fmt: skip
        unchanged=dict(
            user_features=NO_COLUMNS,
            item_features=NO_COLUMNS,
            verbose=VERBOSE,
            **VALIDATION,
            use_ids="False leaves the toy set nothing to read, which fit refuses (test_feature_mlp.py)",
        ),  # fmt: skip
        refusals=[
            (dict(layers=()), ValueError, "layers must be one or more positive ints"),
            (dict(embedding_dim=0), ValueError, "embedding_dim"),
            (dict(protocol="rating"), ValueError, "protocol"),
            (dict(monitor="rmse"), ValueError, "monitor must be one of"),
        ],
    ),
    RecommenderCase(
        "GroupPopularity",
        GroupPopularity,
        dict(columns=()),
        feedback="implicit",
        unchanged=dict(
            columns=NO_COLUMNS,
            shrinkage="one group (no column): its rate c_i / n is shrunk toward itself",
        ),
        refusals=[
            (dict(shrinkage=-1.0), ValueError, "shrinkage"),
            (dict(columns="age"), ValueError, "columns must be 'all', 'none'"),
        ],
    ),
]
