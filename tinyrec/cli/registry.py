"""What the ``tinyrec`` command knows: its models, its data sets, its splits.

Two registries make the command extensible: :data:`MODELS` (name -> :class:`ModelSpec`) and
:data:`DATASETS` (name -> :class:`DataSpec`). A new model becomes trainable from the command line,
and part of the quick start, by adding one entry (and its name to :data:`QUICKSTART_MODELS`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..data import movielens
from ..data.download import cache_dir
from ..data.embedded import ARCHIVE, load_embedded
from ..data.synthetic import synthetic
from ..models import BPRMF, BaselineOnly, BiasedMF, ItemKNN, Popularity, UserKNN
from ..models.autorec import AutoRec
from ..models.feature_mlp import FeatureMLP
from ..models.fm import FM
from ..models.group_popularity import GroupPopularity
from ..models.multdae import MultDAE
from ..models.ncf import GMF, NCFMLP, NeuMF
from ..models.sequential import Caser, GRU4Rec, SASRec


class CLIError(Exception):
    """A usage error: ``main`` prints its message on one line and returns 2."""


@dataclass
class ModelSpec:
    """How the command builds a model: its class, default hyperparameters and epochs parameter."""

    cls: Callable
    summary: str
    defaults: dict = field(default_factory=dict)
    epochs_param: str | None = None  # the constructor argument that --epochs sets
    needs_timestamps: bool = False  # reads each user's items in time order (the sequence models)


def _model_specs() -> dict[str, ModelSpec]:
    return {
        "popularity": ModelSpec(Popularity, "the most-interacted items for everyone (ranking)"),
        "itemknn": ModelSpec(ItemKNN, "item KNN, baseline-adjusted, pearson_baseline, k=40 (rating)"),
        "itemknn-implicit": ModelSpec(
            ItemKNN,
            "item KNN on interactions: cosine top-50, sums of similarities (ranking)",
            {"mode": "ranking", "similarity": "cosine", "k": 50},
        ),
        "userknn": ModelSpec(UserKNN, "user KNN, baseline-adjusted, pearson_baseline, k=40 (rating)"),
        "baseline": ModelSpec(
            BaselineOnly, "global mean + user and item biases, ALS (rating)", {}, "n_epochs"
        ),
        "biasedmf": ModelSpec(
            BiasedMF, "Funk SVD with biases, Surprise's SVD defaults (rating)", {}, "n_epochs"
        ),
        "bprmf": ModelSpec(
            BPRMF, "matrix factorization with the BPR pairwise loss (ranking)", {}, "n_epochs"
        ),
        "gmf": ModelSpec(
            GMF, "NCF's generalized MF, 8 factors, BCE + 4 negatives, Adam (ranking)", {}, "n_epochs"
        ),
        "ncfmlp": ModelSpec(
            NCFMLP, "NCF's MLP, 32+32 -> 32, 16, 8, BCE + 4 negatives (ranking)", {}, "n_epochs"
        ),
        "neumf": ModelSpec(NeuMF, "NeuMF: GMF and MLP towers fused, 20 epochs (ranking)", {}, "n_epochs"),
        "autorec": ModelSpec(
            AutoRec, "I-AutoRec: item rows, 500 sigmoid units, masked MSE, Adam (rating)", {}, "n_epochs"
        ),
        "multdae": ModelSpec(
            MultDAE, "Mult-DAE: dropout, 200 tanh units, softmax over items (ranking)", {}, "n_epochs"
        ),
        "sasrec": ModelSpec(
            SASRec,
            "SASRec: causal self-attention over the latest 200 items, next item (sequence)",
            {},
            "n_epochs",
            needs_timestamps=True,
        ),
        "gru4rec": ModelSpec(
            GRU4Rec,
            "GRU4Rec: a GRU over the user's items, softmax over the next item (sequence)",
            {},
            "n_epochs",
            needs_timestamps=True,
        ),
        "caser": ModelSpec(
            Caser,
            "Caser: convolutions over the latest 5 items, the next 3 (sequence)",
            {},
            "n_epochs",
            needs_timestamps=True,
        ),
        "fm": ModelSpec(
            FM, "factorization machine over ids and user/item features, MSE, Adam (rating)", {}, "n_epochs"
        ),
        "fm-bpr": ModelSpec(
            FM, "factorization machine over ids and features, BPR (ranking)", {"loss": "bpr"}, "n_epochs"
        ),
        "featuremlp": ModelSpec(
            FeatureMLP, "embeddings of ids and features, an MLP, BCE + 4 negatives (ranking)", {}, "n_epochs"
        ),
        "grouppopularity": ModelSpec(
            GroupPopularity, "the most popular items within the user's age and gender group (ranking)"
        ),
        "neumf-quick": ModelSpec(
            NeuMF,
            "NeuMF for the quick start: 4 epochs, batch 1024, lr 3e-3 (ranking)",
            {"n_epochs": 4, "batch_size": 1024, "lr": 3e-3},
            "n_epochs",
        ),
    }


#: name -> ModelSpec. Extend it to make a model trainable from the command line, e.g.
#: ``MODELS["neumf"] = ModelSpec(NeuMF, "neural matrix factorization (ranking)", {}, "n_epochs")``.
MODELS: dict[str, ModelSpec] = _model_specs()
#: the models ``tinyrec quickstart`` trains and compares, in table order.
QUICKSTART_MODELS = ["popularity", "itemknn-implicit", "biasedmf", "neumf-quick"]
#: the quick start scores this many test users (drawn with the seed): scoring every item for every
#: user is what takes longest for the neural models, and the comparison must stay under a minute.
QUICKSTART_TEST_USERS = 1000


@dataclass
class DataSpec:
    """A data set the command knows: how to load it and where it may be found locally."""

    load: Callable  # load(seed) -> Interactions
    summary: str
    locate: Callable  # locate() -> (found: bool, where: str)


def _local_folder(folder: str, required: str):
    """Look for ``folder/required`` (or ``folder.zip``) in $TINYREC_DATA and the user cache."""
    roots = [Path(os.environ["TINYREC_DATA"])] if os.environ.get("TINYREC_DATA") else []
    roots.append(cache_dir())
    for root in roots:
        if (root / folder / required).is_file() or (root / f"{folder}.zip").is_file():
            return True, str(root / folder)
        if (root / folder).is_dir():
            return False, f"{root / folder} exists but lacks {required}"
    return False, "not found locally (downloaded on first use)" if folder.startswith("ml-") else "not found"


def _dataset_specs() -> dict[str, DataSpec]:
    specs = {
        "movietweetings": DataSpec(
            lambda seed: load_embedded(),
            "MovieTweetings 100K, 5-core (68,055 ratings 0-10; MIT; embedded in tinyrec)",
            lambda: (
                ARCHIVE.is_file(),
                f"embedded: {ARCHIVE}" if ARCHIVE.is_file() else "missing from the package",
            ),
        ),
        "synthetic": DataSpec(
            _synthetic,
            "synthetic ratings from a planted rank-8 model (generated, seeded)",
            lambda: (True, "generated on demand"),
        ),
    }
    movielens_sets = [
        ("100k", "ml-100k", "u.data", "100,000 ratings 1-5, 943 users x 1,682 movies"),
        ("1m", "ml-1m", "ratings.dat", "1,000,209 ratings, 6,040 users x 3,706 movies"),
        ("10m", "ml-10m", "ratings.dat", "10M ratings (half stars)"),
        ("20m", "ml-20m", "ratings.csv", "20M ratings"),
        ("25m", "ml-25m", "ratings.csv", "25M ratings"),
        ("latest-small", "ml-latest-small", "ratings.csv", "100,836 ratings, 610 users"),
    ]
    for key, folder, required, what in movielens_sets:
        specs[folder] = DataSpec(
            lambda seed, key=key: movielens(key),
            f"MovieLens {key.upper() if key[0].isdigit() else key}: {what} (GroupLens terms; downloaded)",
            lambda folder=folder, required=required: _local_folder(folder, required),
        )
    return specs


def _synthetic(seed):
    return synthetic(seed=0 if seed is None else seed).with_info(name="synthetic")


#: name -> DataSpec.
DATASETS: dict[str, DataSpec] = _dataset_specs()
_ALIASES = {
    "movietweetings-100k": "movietweetings",
    "embedded": "movietweetings",
    "ml100k": "ml-100k",
    "100k": "ml-100k",
    "1m": "ml-1m",
    "ml1m": "ml-1m",
}
SPLITS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub", "loo", "holdout", "cold-users", "cold-items")
