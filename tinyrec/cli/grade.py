"""``tinyrec grade SUBMISSION``: grade a student's file or folder on the course exercises.

Each exercise of the submission runs in a sandboxed child process (a time limit, and on Linux and
macOS a memory limit: :mod:`tinyrec.exercises.sandbox`), through the checks of
:mod:`tinyrec.exercises`, with points per check. The command prints the points per exercise and
each failed check with its hint (``--json``: one JSON object), and ``--results-json PATH`` writes
Gradescope's autograder ``results.json``. It exits with status 0 whatever the score (a grade is
not an error); a missing submission or an unknown exercise is an error (status 2).

``--class`` grades a folder of submissions, one per student (a ``.py`` file or a subfolder each), on
every core, and prints one line per student and the class's summary (the score distribution, the
checks most students fail). ``--exercises-from PATH`` loads an instructor's own exercises
(:func:`tinyrec.exercises.load`) and grades those by default.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import tempfile
from pathlib import Path

from ..exercises import COURSE, EXERCISES, load
from ..exercises.classroom import default_workers, grade_class
from ..exercises.grading import Grader
from .registry import CLIError

_FORMATTER = argparse.RawDescriptionHelpFormatter
_SIZES = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def add_grade_parser(subparsers, parents=()) -> argparse.ArgumentParser:
    """Add ``grade`` to the command's ``subparsers`` (``parents``: the command's common options)."""
    listed = "\n".join(
        f"  {name:<22} {(module.__doc__ or '').splitlines()[0].removeprefix('Course exercise: ')}"
        for name, module in EXERCISES.items()
    )
    p = subparsers.add_parser(
        "grade",
        parents=list(parents),
        help="grade a student's submission (a .py file or a folder) on the course exercises",
        formatter_class=_FORMATTER,
        description="Grade SUBMISSION, a .py file or a folder of them, on the course exercises (or those "
        "given with --exercise): several named checks per exercise, points per check, and feedback with a "
        "hint for each failed check. Each exercise runs in a child process with a time limit and (Linux, "
        "macOS) a memory limit; code that fails to import, raises, loops, crashes or asks for too much "
        "memory gets 0 for that exercise, and the others are graded. Exit status 0 whatever the score.",
        epilog=f"exercises (default: the course's: {', '.join(COURSE)}):\n{listed}\n\n"
        "examples:\n  tinyrec grade alice.py\n  tinyrec grade alice/ --exercise ndcg --exercise adam_step\n"
        "  tinyrec grade /autograder/submission --results-json /autograder/results/results.json\n"
        "  tinyrec grade alice.py --json --time-limit 20 --memory-limit 1G\n"
        "  tinyrec grade submissions/ --class --json > class.json\n"
        "  tinyrec grade alice.py --exercises-from my_course/",
    )
    p.add_argument("submission", metavar="SUBMISSION", help="a .py file, or a folder of them")
    p.add_argument(
        "--exercise", action="append", metavar="NAME",
        help="grade this exercise (repeatable, or comma-separated); default: the course's exercises",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    p.add_argument("--results-json", metavar="PATH", help="also write Gradescope's autograder results.json")
    p.add_argument(
        "--time-limit", type=float, default=60.0, metavar="SECONDS", help="per exercise (default 60)"
    )
    p.add_argument(
        "--memory-limit", default="2G", metavar="SIZE",
        help="address space per exercise on top of the grader's, e.g. 512M or 2G (default 2G; Linux and "
        "macOS; 'none' for no limit)",
    )  # fmt: skip
    p.add_argument(
        "--workers", type=int, metavar="N",
        help="children graded at once (default 1; with --class, one per core)",
    )  # fmt: skip
    p.add_argument(
        "--class", dest="whole_class", action="store_true",
        help="SUBMISSION is a folder of submissions, one per student (a .py file or a subfolder each): grade "
        "them all and print the class's summary (score distribution, the checks most students fail)",
    )  # fmt: skip
    p.add_argument(
        "--exercises-from", action="append", metavar="PATH",
        help="load your own exercises from a .py file or a folder of them (repeatable; see "
        "docs/teaching.md); graded by default instead of the course's",
    )  # fmt: skip
    p.set_defaults(func=cmd_grade)
    return p


def _exercise_names(given) -> list[str] | None:
    if not given:
        return None
    names = [name.strip() for item in given for name in item.split(",") if name.strip()]
    if not names:
        raise CLIError(
            f"--exercise {given[0]!r} names no exercise; the exercises are: {', '.join(EXERCISES)}"
        )
    unknown = [name for name in names if name not in EXERCISES]
    if unknown:
        raise CLIError(f"unknown exercise {unknown[0]!r}; the exercises are: {', '.join(EXERCISES)}")
    return names


def parse_size(text: str) -> int | None:
    """``"512M"`` -> bytes; ``"none"`` -> None."""
    cleaned = text.strip().upper().removesuffix("B").removesuffix("I")
    if cleaned in ("NONE", "OFF"):
        return None
    number, suffix = (cleaned[:-1], cleaned[-1]) if cleaned[-1:] in ("K", "M", "G", "T") else (cleaned, "")
    try:
        value = float(number) * _SIZES[suffix]
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 1):
        raise CLIError(f"--memory-limit {text!r} is not a size; write e.g. 512M, 2G or none")
    return int(value)


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def load_exercises(paths) -> list[str]:
    """Load the instructor's exercises of ``--exercises-from``; their names, in order."""
    names = []
    for path in paths or ():
        try:
            names += load(path)
        except (OSError, ValueError) as exc:
            raise CLIError(f"--exercises-from {path}: {exc}") from None
        except Exception as exc:  # the instructor's own code: a SyntaxError, an ImportError, ...
            raise CLIError(
                f"--exercises-from {path}: importing it raised {type(exc).__name__}: {exc}"
            ) from None
    return names


def cmd_grade(args) -> int:
    own = load_exercises(args.exercises_from)
    names = _exercise_names(args.exercise) or own or None
    if not (math.isfinite(args.time_limit) and args.time_limit > 0):
        raise CLIError(f"--time-limit must be a number of seconds > 0, got {args.time_limit}")
    if args.workers is not None and args.workers < 1:
        raise CLIError(f"--workers must be a positive integer, got {args.workers}")
    submission = Path(args.submission)
    if not submission.exists():
        raise CLIError(f"no submission at {submission}: give a .py file or a folder of them")
    if args.whole_class:
        return _grade_class(args, submission, names)
    results_path = Path(args.results_json) if args.results_json else None
    if results_path is not None and not results_path.parent.is_dir():
        raise CLIError(f"--results-json {results_path}: the folder {results_path.parent} does not exist")
    memory = parse_size(args.memory_limit)
    try:
        grader = Grader(names, time_limit=args.time_limit, memory_limit=memory, workers=args.workers or 1)
    except RuntimeError as exc:  # an exercise whose reference solution does not get full marks
        raise CLIError(str(exc)) from None
    report = grader.grade(submission)
    if results_path is not None:
        _write_atomically(results_path, json.dumps(report.gradescope(), indent=1) + "\n")
    print(json.dumps(report.as_json()) if args.json else str(report))
    return 0


def _grade_class(args, folder: Path, names) -> int:
    if not folder.is_dir():
        raise CLIError(f"--class: {folder} is not a folder of submissions (one .py file or subfolder each)")
    if args.results_json:
        raise CLIError("--results-json writes one student's results; with --class use --json")
    try:
        report = grade_class(
            folder, names, workers=args.workers or default_workers(),
            time_limit=args.time_limit, memory_limit=parse_size(args.memory_limit),
        )  # fmt: skip
    except (ValueError, RuntimeError) as exc:  # an empty folder; a reference short of full marks
        raise CLIError(str(exc)) from None
    print(json.dumps(report.as_json()) if args.json else str(report))
    return 0
