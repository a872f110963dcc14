"""Running an exercise's checks on a candidate, and the report they produce.

A *check* is a function of one argument, the candidate (the student's class or function). It
returns nothing when the candidate has the property it tests, and raises ``AssertionError`` with a
message saying what is wrong, and a hint, when it has not. It never prints.

:func:`run_checks` runs every check of an exercise and collects a :class:`Report`. A check that
stops on ``NotImplementedError`` (the stub's ``raise``, still in place) is recorded as *not
implemented*, not as a failure, so that a tutorial can check its stub without stopping. Any other
exception the candidate raises (a ``ShapeError`` from a layer, a ``ValueError`` from NumPy) fails
the check, with the exception's type and message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

PASSED = "passed"
FAILED = "failed"
NOT_IMPLEMENTED = "not implemented"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: its name, a status, and the message of a failure."""

    name: str
    status: str  # PASSED, FAILED or NOT_IMPLEMENTED
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASSED


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
        try:
            check(candidate)
        except NotImplementedError as exc:
            results.append(CheckResult(check.__name__, NOT_IMPLEMENTED, str(exc) or "NotImplementedError"))
        except AssertionError as exc:
            results.append(CheckResult(check.__name__, FAILED, str(exc)))
        except Exception as exc:  # the candidate's own error: a failure, named
            results.append(CheckResult(check.__name__, FAILED, f"raised {type(exc).__name__}: {exc}"))
        else:
            results.append(CheckResult(check.__name__, PASSED))
    name = getattr(candidate, "__name__", type(candidate).__name__)
    return Report(exercise, name, tuple(results))


def expect(condition, message: str) -> None:
    """Raise ``AssertionError(message)`` unless ``condition`` holds (an ``assert`` that ``-O`` keeps)."""
    if not condition:
        raise AssertionError(message)


def describe_difference(yours, expected) -> str:
    """Where two arrays of one shape differ most: index, your value, the expected value."""
    yours = np.asarray(yours, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    gap = np.abs(yours - expected)
    gap = np.where(np.isnan(gap), np.inf, gap)
    where = np.unravel_index(int(np.argmax(gap)), gap.shape) if gap.ndim else ()
    index = ", ".join(str(int(i)) for i in where)
    return f"at [{index}] yours is {yours[where]:.6g}, expected {expected[where]:.6g}"


def worst_entry(report) -> str:
    """The name of the worst array of a :class:`~tinyrec.gradcheck.GradcheckReport` (a NaN first)."""
    nans = [name for name, error in report.errors.items() if np.isnan(error)]
    return nans[0] if nans else max(report.errors, key=report.errors.get)
