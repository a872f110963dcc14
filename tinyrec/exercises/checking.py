"""Running an exercise's checks on a candidate, and the report they produce.

A *check* is a function of one argument, the candidate (the student's class or function). It
returns nothing when the candidate has the property it tests, and raises ``AssertionError`` with a
message saying what is wrong, and a hint, when it has not. It never prints.

:func:`run_checks` runs every check of an exercise and collects a :class:`Report`. A check that
stops on ``NotImplementedError`` (the stub's ``raise``, still in place) is recorded as *not
implemented*, not as a failure, so that a tutorial can check its stub without stopping. Any other
exception the candidate raises (a ``ShapeError`` from a layer, a ``ValueError`` from NumPy) fails
the check, with the exception's type and message.

Each check is worth some **points** (1 unless :func:`points` marks it otherwise): a passed check
scores its points, any other outcome 0. :attr:`Report.score` and :attr:`Report.max_score` add
them up; the grader (:mod:`tinyrec.exercises.grading`) reports them per check.
"""

from __future__ import annotations

import sysconfig
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PASSED = "passed"
FAILED = "failed"
NOT_IMPLEMENTED = "not implemented"
NOT_RUN = "not run"  # the grader could not run the check (the code did not import, ran out of time, ...)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: its name, a status, and the message of a failure."""

    name: str
    status: str  # PASSED, FAILED, NOT_IMPLEMENTED (or NOT_RUN, from the grader)
    message: str = ""
    points: int = 1  # what the check is worth

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def score(self) -> int:
        """The points earned: all of them when the check passed, else 0."""
        return self.points if self.passed else 0


@dataclass(frozen=True)
class Report:
    """What :func:`run_checks` found: one :class:`CheckResult` per check, in the order they ran.

    ``print(report)`` gives a summary line and one line per check (for a candidate that is still
    the stub, the summary line and the stub's message only).
    """

    exercise: str
    candidate: str
    results: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def implemented(self) -> bool:
        """False while some check still reaches a ``NotImplementedError``."""
        return not any(r.status == NOT_IMPLEMENTED for r in self.results)

    @property
    def score(self) -> int:
        """The points of the checks that passed."""
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> int:
        """The points of every check."""
        return sum(r.points for r in self.results)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """The checks that failed (not counting those that are not implemented yet)."""
        return tuple(r for r in self.results if r.status == FAILED)

    def result(self, name: str) -> CheckResult:
        """The result of the check called ``name``."""
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no check named {name!r}; the checks are {[r.name for r in self.results]}")

    def summary(self) -> str:
        n = len(self.results)
        passed = sum(r.passed for r in self.results)
        head = f"{self.exercise} ({self.candidate}):"
        if self.ok:
            return f"{head} all {n} checks passed"
        if not self.implemented:
            return f"{head} not implemented yet ({passed} of {n} checks passed)"
        return f"{head} {len(self.failures)} of {n} checks failed"

    def __str__(self) -> str:
        lines = [self.summary()]
        todo = [r for r in self.results if r.status == NOT_IMPLEMENTED]
        if len(todo) == len(self.results):  # the stub: its message once is enough
            lines.append(f"  {todo[0].message}")
            return "\n".join(lines)
        for r in self.results:
            if r.passed:
                lines.append(f"  [pass] {r.name}")
            elif r.status == NOT_IMPLEMENTED:
                lines.append(f"  [todo] {r.name}: not implemented yet ({r.message})")
            else:
                message = r.message.replace("\n", "\n         ")
                lines.append(f"  [FAIL] {r.name}: {message}")
        return "\n".join(lines)


def run_checks(exercise: str, candidate, checks: Sequence[Callable]) -> Report:
    """Run each of ``checks`` on ``candidate`` and return the :class:`Report`."""
    results = []
    for check in checks:
        name, worth = check.__name__, points_of(check)
        try:
            check(candidate)
        except NotImplementedError as exc:
            results.append(CheckResult(name, NOT_IMPLEMENTED, str(exc) or "NotImplementedError", worth))
        except AssertionError as exc:
            results.append(CheckResult(name, FAILED, str(exc), worth))
        except Exception as exc:  # the candidate's own error: a failure, named
            message = f"raised {type(exc).__name__}: {exc}{_where(exc)}"
            results.append(CheckResult(name, FAILED, message, worth))
        else:
            results.append(CheckResult(name, PASSED, "", worth))
    name = getattr(candidate, "__name__", type(candidate).__name__)
    return Report(exercise, name, tuple(results))


_PACKAGE = str(Path(__file__).resolve().parents[1])  # tinyrec/: frames there are the checks', not yours
_STDLIB = sysconfig.get_paths()["stdlib"]


def _where(exc: BaseException) -> str:
    """``" (line 12 of my_code.py)"``: the last line of the candidate's code that the error passed
    through (not tinyrec's, not an installed package's), or ``""``."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        name = frame.filename
        if name.startswith(("<", _PACKAGE, _STDLIB)) or "-packages" in name:
            continue
        return f" (line {frame.lineno} of {Path(name).name})"
    return ""


def points(n: int):
    """Mark a check as worth ``n`` points (a decorator; an unmarked check is worth 1)::

    @points(2)
    def weight_gradient_is_summed_over_rows(cls): ...
    """
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"a check is worth a whole number of points >= 1, got {n!r}")

    def mark(check):
        check.points = n
        return check

    return mark


def points_of(check) -> int:
    """What ``check`` is worth: its :func:`points` mark, else 1."""
    return getattr(check, "points", 1)


def expect(condition, message: str) -> None:
    """Raise ``AssertionError(message)`` unless ``condition`` holds (an ``assert`` that ``-O`` keeps)."""
    if not condition:
        raise AssertionError(message)


def describe_difference(yours, expected) -> str:
    """Where two arrays of one shape differ most: index, your value, the expected value (with enough
    digits to tell them apart, and how far off). Equal entries, infinities and NaNs included, never
    count as a difference; a NaN or infinity against a number counts as the largest."""
    yours = np.asarray(yours, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # inf − inf is NaN: such entries are equal, handled below
        gap = np.abs(yours - expected)
    gap = np.where(np.isnan(gap), np.inf, gap)
    same = (yours == expected) | (np.isnan(yours) & np.isnan(expected))
    gap = np.where(same, 0.0, gap)
    where = np.unravel_index(int(np.argmax(gap)), gap.shape) if gap.ndim else ()
    index = ", ".join(str(int(i)) for i in where)
    a, b = float(yours[where]), float(expected[where])
    digits = 6  # more when 6 would print two different numbers alike
    while digits < 17 and a != b and f"{a:.{digits}g}" == f"{b:.{digits}g}":
        digits += 1
    off = f" (off by {abs(a - b):.2g})" if np.isfinite(a) and np.isfinite(b) else ""
    return f"at [{index}] yours is {a:.{digits}g}, expected {b:.{digits}g}{off}"


def worst_entry(report) -> str:
    """The name of the worst array of a :class:`~tinyrec.gradcheck.GradcheckReport` (a NaN first)."""
    nans = [name for name, error in report.errors.items() if np.isnan(error)]
    return nans[0] if nans else max(report.errors, key=report.errors.get)
