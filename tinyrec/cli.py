"""The ``tinyrec`` command (also ``python -m tinyrec``).

Subcommands: ``datasets``, ``train``, ``evaluate``, ``recommend`` and ``quickstart``; run
``tinyrec SUBCOMMAND --help`` for each one's options and examples. Progress goes to stderr and
results to stdout, so ``tinyrec train ... --json > result.json`` captures one JSON object.

Two registries make the command extensible: :data:`MODELS` (name -> :class:`ModelSpec`) and
:data:`DATASETS` (name -> :class:`DataSpec`). A new model becomes trainable from the command line,
and part of the quick start, by adding one entry (and its name to :data:`QUICKSTART_MODELS`).
This module holds the registries, the parser and :func:`main`; what each subcommand does is in
:mod:`tinyrec.cli_commands`.

Errors a user can fix (unknown model or data set, a bad ``--set``, a missing file) print one line
naming the problem and the fix, and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import TinyrecError


class CLIError(Exception):
    """A usage error: ``main`` prints its message on one line and returns 2."""


# ---------------------------------------------------------------------- registries
@dataclass
class ModelSpec:
    """How the command builds a model: its class, default hyperparameters and epochs parameter."""

    cls: Callable
    summary: str
    defaults: dict = field(default_factory=dict)
    epochs_param: str | None = None  # the constructor argument that --epochs sets


def _model_specs() -> dict[str, ModelSpec]:
    from .models import BPRMF, BaselineOnly, BiasedMF, ItemKNN, Popularity, UserKNN
    from .models.autorec import AutoRec
    from .models.multdae import MultDAE
    from .models.ncf import GMF, NCFMLP, NeuMF

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
    from .data.download import cache_dir

    roots = [Path(os.environ["TINYREC_DATA"])] if os.environ.get("TINYREC_DATA") else []
    roots.append(cache_dir())
    for root in roots:
        if (root / folder / required).is_file() or (root / f"{folder}.zip").is_file():
            return True, str(root / folder)
        if (root / folder).is_dir():
            return False, f"{root / folder} exists but lacks {required}"
    return False, "not found locally (downloaded on first use)" if folder.startswith("ml-") else "not found"


def _dataset_specs() -> dict[str, DataSpec]:
    from .data import movielens
    from .data.embedded import ARCHIVE, load_embedded

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
    from .data.synthetic import synthetic

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
SPLITS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub", "loo", "holdout")


# ---------------------------------------------------------------------- parser
class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2) instead of usage + message."""

    def error(self, message):
        self.exit(2, f"tinyrec: error: {message} (see `{self.prog} --help`)\n")


_FORMATTER = argparse.RawDescriptionHelpFormatter


def build_parser() -> argparse.ArgumentParser:
    from .cli_commands import cmd_datasets, cmd_evaluate, cmd_quickstart, cmd_recommend, cmd_train

    models = "\n".join(f"  {name:<18} {spec.summary}" for name, spec in MODELS.items())
    parser = _Parser(
        prog="tinyrec",
        description="tinyrec: learn, train and check recommender systems from the command line.",
        formatter_class=_FORMATTER,
        epilog="examples:\n  tinyrec quickstart\n  tinyrec datasets\n"
        "  tinyrec train biasedmf --data ml-100k --split u1\n"
        "  tinyrec recommend --model mf.npz --user 42 --why",
    )
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser(
        "datasets",
        help="the data sets tinyrec knows and where they are found",
        formatter_class=_FORMATTER,
        epilog="example:\n  tinyrec datasets",
    )
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser(
        "train",
        help="train a model, evaluate it, optionally save it",
        formatter_class=_FORMATTER,
        description="Train MODEL on a data set, evaluate it with the protocol that suits it (RMSE/MAE for "
        "rating models; sampled and full ranking for ranking models) and print the results.",
        epilog=f"models:\n{models}\n\nsplits: u1..u5, ua, ub (ML-100K's folds), loo (leave-one-out by latest "
        "timestamp), holdout (random 20%)\n\nexamples:\n"
        "  tinyrec train biasedmf --data ml-100k --split u1 --epochs 20\n"
        "  tinyrec train itemknn --data movietweetings --set k=20 --set similarity=pearson\n"
        "  tinyrec train bprmf --data ml-100k --split loo --seed 1 --save bpr.npz --json",
    )
    p.add_argument("model", metavar="MODEL", help="one of: " + ", ".join(MODELS))
    p.add_argument("--data", required=True, metavar="NAME", help="data set (see `tinyrec datasets`)")
    _add_split(p)
    p.add_argument("--epochs", type=int, metavar="N", help="training epochs (models trained in epochs)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="a hyperparameter; repeatable")
    p.add_argument("--save", metavar="PATH", help="write the fitted model to PATH (.npz)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "evaluate",
        help="evaluate a saved model",
        formatter_class=_FORMATTER,
        description="Evaluate a saved model on the test part of a split. Pass the --split and --seed "
        "that `tinyrec train` used, so that the test interactions are the ones the model never saw.",
        epilog="examples:\n  tinyrec evaluate --model mf.npz --data ml-100k --split u1\n"
        "  tinyrec evaluate --model bpr.npz --data ml-100k --split loo --json",
    )
    p.add_argument(
        "--model", required=True, metavar="PATH", help="a model file written by --save / model.save"
    )
    p.add_argument("--data", required=True, metavar="NAME", help="the data set it was trained on")
    _add_split(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "recommend",
        help="a user's top-k items from a saved model",
        formatter_class=_FORMATTER,
        epilog="examples:\n  tinyrec recommend --model knn.npz --user 42\n"
        "  tinyrec recommend --model knn.npz --user 42 -k 5 --why --data movietweetings",
    )
    p.add_argument("--model", required=True, metavar="PATH", help="a model file")
    p.add_argument("--user", required=True, metavar="RAW_ID", help="the user's id in the data set")
    p.add_argument("-k", type=int, default=10, help="how many items (default 10)")
    p.add_argument("--why", action="store_true", help="explain each item (KNN neighbours, MF factors)")
    p.add_argument("--data", metavar="NAME", help="data set for titles (default: found by matching item ids)")
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser(
        "quickstart",
        help="train and compare a few models on the embedded data (under a minute)",
        formatter_class=_FORMATTER,
        description="Train " + ", ".join(QUICKSTART_MODELS) + " on the embedded MovieTweetings data (no "
        "network needed), compare them by leave-one-out ranking, and show one user's top-10.",
        epilog="examples:\n  tinyrec quickstart\n  tinyrec quickstart --data ml-100k",
    )
    p.add_argument(
        "--data", default="movietweetings", metavar="NAME", help="default: movietweetings (embedded)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the models and the sampled negatives")
    p.set_defaults(func=cmd_quickstart)
    return parser


def _add_split(p) -> None:
    p.add_argument(
        "--split",
        choices=SPLITS,
        metavar="SPLIT",
        help="u1..u5, ua, ub, loo or holdout (default: u1 on ml-100k for rating models, "
        "holdout for other rating runs, loo for ranking models)",
    )
    p.add_argument("--seed", type=int, metavar="S", help="seed of the model and the split")


def main(argv=None) -> int:
    """Run the command with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "seed", None) is not None and args.seed < 0:
            raise CLIError(f"--seed must be a non-negative integer, got {args.seed}")
        return args.func(args)
    except (CLIError, TinyrecError) as exc:
        print(f"tinyrec: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tinyrec: interrupted", file=sys.stderr)
        return 130
