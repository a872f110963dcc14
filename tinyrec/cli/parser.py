"""The argument parser of the ``tinyrec`` command: its subcommands, options and examples."""

from __future__ import annotations

import argparse
import functools
import sys
import textwrap
from importlib import metadata

from ..version import __version__
from .commands import cmd_datasets, cmd_evaluate, cmd_quickstart, cmd_recommend, cmd_train
from .exercises import add_exercises_parser
from .grade import add_grade_parser
from .reference import add_reference_parser
from .registry import MODELS, QUICKSTART_MODELS, SPLITS


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2) instead of usage + message."""

    def error(self, message):
        self.exit(2, f"tinyrec: error: {message} (see `{self.prog} --help`)\n")


_FORMATTER = argparse.RawDescriptionHelpFormatter
_TRACEBACK_HELP = "on an error, print the full traceback instead of one line (also: TINYREC_TRACEBACK=1)"
_THREADS_HELP = (
    "threads for NumPy's BLAS and Numba's parallel kernels alike (default: BLAS on 1 thread while tinyrec "
    "trains and evaluates, unless OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, ... are set; Numba on all cores)"
)
_DATA_HELP = (
    "a data set (see `tinyrec datasets`) or your own data: a CSV/TSV file of user, item[, rating[, "
    "timestamp]] per line, or a folder holding one"
)
_MISMATCH_HELP = (
    "go on, with a warning, when the data, split or seed differ from those the model was trained on "
    "(the model file records them); refused otherwise"
)
_OWN_DATA = (
    "your own data (--data PATH):\n"
    "  A file: one interaction per line, e.g. `alice,tt0114709,8,1700000000` (user, item, rating,\n"
    "  timestamp). The separator is guessed from the first line (tab, ::, comma, ; or |) unless --sep\n"
    "  is given; --columns picks the fields (default 0,1,2,3 as far as the line has fields); a header\n"
    "  line is recognised (or --header yes/no); ids are integers when all are, else text. A folder:\n"
    "  MovieLens files (u.data, ratings.dat, ratings.csv with their movie files, titles included), or\n"
    "  one ratings file. Repeated (user, item) pairs keep their latest row."
)
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
        "  tinyrec train biasedmf --data ml-100k --split u1 --save mf.npz\n"
        "  tinyrec train bprmf --data my_ratings.csv --save bpr.npz\n"
        "  tinyrec recommend --model mf.npz --user 42 --why\n"
        "  tinyrec --threads 2 train neumf --data ml-100k\n\n"
        "Runs are seeded (--seed, 0 by default): the same command gives the same numbers.\n\n" + _ERRORS,
    )
    parser.add_argument("--version", action="version", version=_version_line())
    parser.add_argument("--traceback", action="store_true", help=_TRACEBACK_HELP)
    parser.add_argument("--threads", type=int, metavar="N", help=_THREADS_HELP)
    # accepted after the subcommand too; SUPPRESS: a subcommand without them keeps the global value
    common = _Parser(add_help=False)
    common.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS, help=_TRACEBACK_HELP)
    common.add_argument("--threads", type=int, metavar="N", default=argparse.SUPPRESS, help=_THREADS_HELP)
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
        description=_fill(
            "Train MODEL on a data set, evaluate it with the protocol that suits it (RMSE/MAE for rating "
            "models; sampled and full ranking for ranking models) and print the results. --save writes a "
            "model file that records the data, split and seed, which `tinyrec evaluate` and `tinyrec "
            "recommend` then check and reuse."
        ),
        epilog=f"models:\n{models}\n\n"
        + _fill(
            "splits: u1..u5, ua, ub (ML-100K's folds), loo (leave-one-out by latest timestamp; a random "
            "interaction, seeded, without timestamps), holdout (random 20%, seeded), cold-users / cold-items "
            "(20% of the users / items held out with all their interactions, seeded: fm and featuremlp score "
            "them from their features)"
        )
        + f"\n\n{_OWN_DATA}\n\nexamples:\n"
        "  tinyrec train biasedmf --data ml-100k --split u1 --epochs 20\n"
        "  tinyrec train itemknn --data movietweetings --set k=20 --set similarity=pearson\n"
        "  tinyrec train bprmf --data ml-100k --split loo --seed 1 --save bpr.npz --json\n"
        "  tinyrec train biasedmf --data my_ratings.csv --save mine.npz\n"
        "  tinyrec train bprmf --data clicks.tsv --columns 1,0,-,3",
    )
    p.add_argument("model", metavar="MODEL", help="one of: " + ", ".join(MODELS))
    p.add_argument("--data", required=True, metavar="NAME|PATH", help=_DATA_HELP)
    _add_read_options(p)
    _add_split(p, seed_default=0)
    p.add_argument("--epochs", type=int, metavar="N", help="training epochs (models trained in epochs)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="a hyperparameter; repeatable")
    p.add_argument("--save", metavar="PATH", help="write the fitted model to PATH (.npz)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.set_defaults(func=cmd_train)

    p = add(
        "evaluate",
        help="evaluate a saved model",
        formatter_class=_FORMATTER,
        description=_fill(
            "Evaluate a saved model on the test part of the split it was trained on. --data, --split and "
            "--seed default to those the model file records; data whose training part is not the model's "
            "training data (another split, seed or file) is refused, since its test interactions could be "
            "ones the model learnt from."
        ),
        epilog="examples:\n  tinyrec evaluate --model mf.npz\n"
        "  tinyrec evaluate --model mf.npz --data ml-100k --split u1\n"
        "  tinyrec evaluate --model bpr.npz --data ml-100k --split loo --json",
    )
    p.add_argument(
        "--model", required=True, metavar="PATH", help="a model file written by --save / model.save"
    )
    p.add_argument(
        "--data", metavar="NAME|PATH", help="the data it was trained on (default: the model file's record)"
    )
    _add_read_options(p)
    _add_split(p, seed_default=None)
    p.add_argument("--allow-mismatch", action="store_true", help=_MISMATCH_HELP)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.set_defaults(func=cmd_evaluate)

    p = add(
        "recommend",
        help="a user's top-k items from a saved model",
        formatter_class=_FORMATTER,
        epilog="examples:\n  tinyrec recommend --model knn.npz --user 42\n"
        "  tinyrec recommend --model knn.npz --user 42 -k 5 --why --data movietweetings\n"
        "  tinyrec recommend --model sasrec.npz --history 50,172,133   # a session: no user needed\n"
        "  tinyrec recommend --model fm.npz --features age=25,gender=F,occupation=student   # a new user",
    )
    p.add_argument("--model", required=True, metavar="PATH", help="a model file")
    p.add_argument("--user", metavar="RAW_ID", help="the user's id in the data set (unless --history)")
    p.add_argument(
        "--history",
        metavar="ITEM,...",
        help="sequence models (sasrec, gru4rec, caser): recommend the next items after these raw item ids, "
        "oldest first, instead of the user's stored history; without --user, for an anonymous session; "
        "an empty list gets the most popular items",
    )
    p.add_argument(
        "--features",
        metavar="COLUMN=VALUE,...",
        help="feature models (fm, featuremlp, grouppopularity): the user's features, encoded as in training "
        "(an unknown category goes to the 'unknown' slot); without --user, for a new user",
    )
    p.add_argument("-k", type=int, default=10, help="how many items (default 10)")
    p.add_argument("--why", action="store_true", help="explain each item (KNN neighbours, MF factors)")
    p.add_argument(
        "--data",
        metavar="NAME|PATH",
        help="the data it was trained on, for titles (default: what the model file records); other data "
        "is refused",
    )
    _add_read_options(p)
    p.add_argument("--allow-mismatch", action="store_true", help=_MISMATCH_HELP)
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
    p.add_argument("--seed", type=int, default=0, help="seed of the models and the scored users (default 0)")
    p.set_defaults(func=cmd_quickstart)
    add_reference_parser(sub, parents=[common])
    add_grade_parser(sub, parents=[common])
    add_exercises_parser(sub, parents=[common])
    return parser


def _add_split(p, *, seed_default) -> None:
    p.add_argument(
        "--split",
        choices=SPLITS,
        metavar="SPLIT",
        help="u1..u5, ua, ub, loo, holdout, cold-users or cold-items (default: "
        + ("the recorded split, else " if seed_default is None else "")
        + "u1 on ml-100k for rating models, holdout for other rating runs, loo for ranking models)",
    )
    shown = "the recorded seed, else 0" if seed_default is None else str(seed_default)
    p.add_argument(
        "--seed", type=int, default=seed_default, metavar="S",
        help=f"seed of the model and the split (default {shown})",
    )  # fmt: skip


def _add_read_options(p) -> None:
    """--sep, --columns, --header: how to read your own ratings file (--data PATH)."""
    p.add_argument("--sep", metavar="SEP", help="your file's separator, e.g. ',' or '\\t' (default: guessed)")
    p.add_argument(
        "--columns",
        metavar="U,I[,R[,T]]",
        help="your file's user, item, rating and timestamp columns: 0-based indices or header names, - for "
        "none (default 0,1,2,3, as far as the file has fields)",
    )
    p.add_argument("--header", choices=("yes", "no"), help="whether your file's first line names the columns "
                   "(default: recognised)")  # fmt: skip


def _fill(text: str) -> str:
    """``text`` wrapped to 100 columns (the help's descriptions are printed as written)."""
    return textwrap.fill(text, width=100)


def _version_line() -> str:
    """``tinyrec 0.1.0 (numpy 2.2.0, numba 0.61.0, Python 3.11.9)``: what a bug report needs."""
    parts = []
    for name in ("numpy", "numba"):
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} not found")
    python = ".".join(str(v) for v in sys.version_info[:3])
    return f"tinyrec {__version__} ({', '.join(parts)}, Python {python})"
