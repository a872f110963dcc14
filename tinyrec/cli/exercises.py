"""``tinyrec exercises``: list the exercises, and hand them out to a class.

``tinyrec exercises list`` prints every exercise with its points and task; ``tinyrec exercises new
DIR`` writes one stub file per exercise into DIR (the course's by default; never a solution:
:mod:`tinyrec.exercises.handout`) and a README listing them. ``--exercises-from PATH`` loads an
instructor's own exercises first (and hands those out by default).
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

from ..exercises import COURSE, EXERCISES
from ..exercises.checking import points_of
from ..exercises.handout import write_handout
from .grade import _exercise_names, load_exercises
from .registry import CLIError

_FORMATTER = argparse.RawDescriptionHelpFormatter


def add_exercises_parser(subparsers, parents=()) -> argparse.ArgumentParser:
    """Add ``exercises`` (with ``list`` and ``new``) to the command's ``subparsers``."""
    p = subparsers.add_parser(
        "exercises",
        parents=list(parents),
        help="list the graded exercises, or write a class's stubs into a folder",
        formatter_class=_FORMATTER,
        description="The graded exercises: `list` shows them; `new DIR` writes the stubs a class receives "
        "(one DIR/<exercise>.py each, its task, shapes and math in its docstring, and a README), never the "
        "solutions. Students hand the folder back; `tinyrec grade` grades it.",
        epilog="examples:\n  tinyrec exercises list\n  tinyrec exercises new week1/\n"
        "  tinyrec exercises new week2/ --exercise ndcg --exercise mrr\n"
        "  tinyrec exercises new week3/ --exercises-from my_course/",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    actions.required = True
    listing = actions.add_parser("list", help="every exercise, its points and task")
    new = actions.add_parser("new", help="write the stubs of a class into DIR")
    new.add_argument("folder", metavar="DIR", help="where to write the stubs (made if need be)")
    new.add_argument(
        "--exercise", action="append", metavar="NAME",
        help="hand out this exercise (repeatable, or comma-separated); default: the course's",
    )  # fmt: skip
    new.add_argument("--force", action="store_true", help="overwrite files that exist in DIR")
    for sub in (listing, new):
        sub.add_argument(
            "--exercises-from", action="append", metavar="PATH",
            help="load your own exercises from a .py file or a folder of them first (repeatable)",
        )  # fmt: skip
    p.set_defaults(func=cmd_exercises)
    return p


def cmd_exercises(args) -> int:
    own = load_exercises(args.exercises_from)
    if args.action == "list":
        width = max(len(name) for name in EXERCISES)
        for name, module in EXERCISES.items():
            total = sum(points_of(c) for c in module.CHECKS)
            where = "course" if name in COURSE else f"tutorial {getattr(module, 'TUTORIAL', '')}"
            task = (inspect.getdoc(module) or "").splitlines()[0] if inspect.getdoc(module) else ""
            print(f"{name:<{width}}  {total:>3} pts  {where:<32}  {task}")
        return 0
    names = _exercise_names(args.exercise) or own or list(COURSE)
    try:
        written = write_handout(Path(args.folder), names, overwrite=args.force)
    except FileExistsError as exc:
        raise CLIError(f"{exc} (--force overwrites them)") from None
    except OSError as exc:
        raise CLIError(f"cannot write the stubs into {args.folder}: {exc}") from None
    for path in written:
        print(path)
    return 0
