"""The ``tinyrec`` command (also ``python -m tinyrec``).

Subcommands: ``datasets``, ``train``, ``evaluate``, ``recommend`` and ``quickstart``; run
``tinyrec SUBCOMMAND --help`` for each one's options and examples. Progress goes to stderr and
results to stdout, so ``tinyrec train ... --json > result.json`` captures one JSON object.

The package has four modules, read in this order: :mod:`~tinyrec.cli.registry` (the models and
data sets the command knows, extensible by adding an entry), :mod:`~tinyrec.cli.parser` (the
subcommands and their options), :mod:`~tinyrec.cli.commands` (what each subcommand does) and this
module's :func:`main`.

Errors a user can fix (unknown model or data set, a bad ``--set``, a missing file) print one line
naming the problem and the fix, and exit with status 2, without a traceback.
"""

from __future__ import annotations

import sys

from ..errors import TinyrecError
from .commands import build_model
from .parser import build_parser
from .registry import DATASETS, MODELS, QUICKSTART_MODELS, CLIError, DataSpec, ModelSpec

__all__ = ["DATASETS", "MODELS", "QUICKSTART_MODELS", "CLIError", "DataSpec", "ModelSpec", "build_model",
           "build_parser", "main"]


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
