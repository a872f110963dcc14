"""The argument parser of the ``tinyrec`` command: its subcommands, options and examples."""

from __future__ import annotations

import argparse
import functools

from .commands import cmd_datasets, cmd_evaluate, cmd_quickstart, cmd_recommend, cmd_train
from .registry import MODELS, QUICKSTART_MODELS, SPLITS


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2) instead of usage + message."""

    def error(self, message):
        self.exit(2, f"tinyrec: error: {message} (see `{self.prog} --help`)\n")


_FORMATTER = argparse.RawDescriptionHelpFormatter
_TRACEBACK_HELP = "on an error, print the full traceback instead of one line (also: TINYREC_TRACEBACK=1)"
_ERRORS = (
    "errors:\n"
    "  An error prints one line, `tinyrec: error: ...`, and exits with status 2 (Ctrl-C: 130).\n"
    "  A problem with the input (an option, a data or model file, a path, a full disk, a request\n"
    "  for more memory than TINYREC_MAX_BYTES allows) is named with its fix; any other error is\n"
    "  reported as probably a bug in tinyrec. --traceback (or TINYREC_TRACEBACK=1) prints the\n"
    "  full traceback instead."
)


def build_parser() -> argparse.ArgumentParser:
    models = "\n".join(f"  {name:<18} {spec.summary}" for name, spec in MODELS.items())
    parser = _Parser(
        prog="tinyrec",
        description="tinyrec: learn, train and check recommender systems from the command line.",
        formatter_class=_FORMATTER,
        epilog="examples:\n  tinyrec quickstart\n  tinyrec datasets\n"
        "  tinyrec train biasedmf --data ml-100k --split u1\n"
        "  tinyrec recommend --model mf.npz --user 42 --why\n\n" + _ERRORS,
    )
    parser.add_argument("--traceback", action="store_true", help=_TRACEBACK_HELP)
    # accepted after the subcommand too; SUPPRESS: a subcommand without it keeps the global value
    common = _Parser(add_help=False)
    common.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS, help=_TRACEBACK_HELP)
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", parser_class=_Parser)
    sub.required = True
    add = functools.partial(sub.add_parser, parents=[common])  # each subcommand takes --traceback

    p = add(
        "datasets",
        help="the data sets tinyrec knows and where they are found",
        formatter_class=_FORMATTER,
        epilog="example:\n  tinyrec datasets",
    )
    p.set_defaults(func=cmd_datasets)

    p = add(
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

    p = add(
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

    p = add(
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

    p = add(
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
