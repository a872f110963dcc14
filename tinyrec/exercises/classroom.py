"""Grading a class: a folder of submissions, one per student, and the class's summary.

A **class folder** holds one submission per student: a ``.py`` file or a subfolder each (names
starting with ``.`` or ``_`` are skipped). :func:`grade_class` grades them all with a
:class:`~tinyrec.exercises.grading.Grader` (``workers`` sandboxed children at once, by default one
per core) and returns a :class:`ClassReport`: every student's :class:`GradeReport`, the score
distribution, and per check how many students failed it::

    from tinyrec.exercises.classroom import grade_class
    report = grade_class("submissions/", ["ndcg", "adam_step"])
    print(report)            # one line per student, the distribution, the checks most often failed
    report.as_json()         # the same, as one JSON-able dict
"""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .checking import FAILED, PASSED
from .grading import Grader, GradeReport


def submissions_in(folder) -> list[Path]:
    """The submissions of a class folder: its ``.py`` files and subfolders, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder of submissions (one .py file or subfolder each)")
    entries = [
        p for p in sorted(folder.iterdir())
        if not p.name.startswith((".", "_")) and (p.is_dir() or p.suffix == ".py")
    ]  # fmt: skip
    if not entries:
        raise ValueError(f"{folder} holds no submission (a .py file or a subfolder per student)")
    return entries


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class CheckTally:
    """How a class did on one check: the students who ``failed`` it (their code ran and was wrong)
    and those with ``nothing`` to show (not implemented, or the code could not run)."""

    exercise: str
    check: str
    points: int
    failed: int
    nothing: int


@dataclass(frozen=True)
class ClassReport:
    """The grades of a class, one :class:`GradeReport` per student, and their summary."""

    reports: tuple[GradeReport, ...]
    seconds: float = 0.0

    @property
    def max_score(self) -> int:
        return self.reports[0].max_score

    @property
    def scores(self) -> list[int]:
        return [r.score for r in self.reports]

    @property
    def distribution(self) -> dict[int, int]:
        """score -> number of students, by increasing score."""
        return dict(sorted(Counter(self.scores).items()))

    def tallies(self) -> list[CheckTally]:
        """Every check, the most often failed first (then those with most students without code)."""
        found = {}
        for report in self.reports:
            for grade in report.grades:
                for r in grade.checks:
                    key = (grade.exercise, r.name)
                    failed, nothing, _ = found.get(key, (0, 0, r.points))
                    found[key] = (
                        failed + (r.status == FAILED),
                        nothing + (r.status not in (FAILED, PASSED)),
                        r.points,
                    )
        order = list(found)  # the grader's order breaks ties
        tallies = [CheckTally(e, c, p, f, n) for (e, c), (f, n, p) in found.items()]
        return sorted(tallies, key=lambda t: (-t.failed, -t.nothing, order.index((t.exercise, t.check))))

    def exercise_means(self) -> dict[str, float]:
        names = [g.exercise for g in self.reports[0].grades]
        return {n: statistics.fmean(r.grade(n).score for r in self.reports) for n in names}

    def as_json(self) -> dict:
        scores = self.scores
        return {
            "students": len(self.reports),
            "max_score": self.max_score,
            "mean": round(statistics.fmean(scores), 4),
            "median": statistics.median(scores),
            "min": min(scores),
            "max": max(scores),
            "distribution": [{"score": s, "students": n} for s, n in self.distribution.items()],
            "exercise_means": {k: round(v, 4) for k, v in self.exercise_means().items()},
            "checks": [t.__dict__ for t in self.tallies()],
            "seconds": round(self.seconds, 3),
            "submissions": [r.as_json() for r in self.reports],
        }

    def __str__(self) -> str:
        n, top = len(self.reports), self.max_score
        width = max(len(Path(r.submission).name) for r in self.reports)
        lines = [f"{n} submissions, {top} points each"]
        for r in self.reports:
            lines.append(f"  {Path(r.submission).name:<{width}}  {r.score:>{len(str(top))}}/{top}")
        scores = self.scores
        lines += [
            "",
            f"scores: mean {statistics.fmean(scores):.1f}, median {statistics.median(scores):g}, "
            f"min {min(scores)}, max {max(scores)}",
        ]
        bar = max(self.distribution.values())
        for score, count in sorted(self.distribution.items(), reverse=True):
            lines.append(
                f"  {score:>{len(str(top))}}/{top}  {count:>{len(str(n))}}  {'#' * round(30 * count / bar)}"
            )
        lines += ["", "per exercise (mean points): " + ", ".join(
            f"{name} {mean:.1f}" for name, mean in self.exercise_means().items()
        )]  # fmt: skip
        failing = [t for t in self.tallies() if t.failed]
        lines += [
            "",
            "checks most often failed (students whose code ran and failed it / without working code):",
        ]
        if not failing:
            lines.append("  none: every student whose code ran passed every check")
        for t in failing[:15]:
            lines.append(f"  {t.failed:>4} / {t.nothing:>4}  {t.exercise}: {t.check} ({t.points} pt)")
        return "\n".join(lines)


def grade_class(folder, exercises=None, *, workers: int | None = None, **limits) -> ClassReport:
    """Grade every submission of the class ``folder`` (:func:`submissions_in`) on ``exercises``.

    ``workers`` defaults to the machine's cores (:func:`default_workers`); ``limits``
    (``time_limit``, ``memory_limit``, ``start_method``) go to the :class:`Grader`.
    """
    submissions = submissions_in(folder)
    grader = Grader(exercises, workers=workers or default_workers(), **limits)
    started = time.perf_counter()
    reports = grader.grade_many(submissions)
    return ClassReport(tuple(reports), time.perf_counter() - started)
