"""Grading a student's submission: every exercise's checks, in a sandbox, with points and feedback.

A **submission** is a Python file, or a folder of them. For each exercise it is graded on, the
grader finds the file that defines what the exercise's ``SUBMIT`` names (``MyLinear``, or
``MyReLU``, ``MySigmoid`` and ``MyTanh``, ...): in a folder, ``<exercise>.py`` if there is one,
else the file whose top level defines every name (read with :mod:`ast`, never run). Then a child
process (:mod:`tinyrec.exercises.sandbox`) imports that file, runs the exercise's checks on what
it defines and sends back each check's status and message. The points come from the grader's
own copy of the checks (``@points``), never from the child.

An exercise whose code cannot run (a missing name, an import error, a time or memory limit, a
crash) gets 0, with one message saying why; the other exercises are graded as usual::

    from tinyrec.exercises.grading import Grader
    grader = Grader(["linear_layer", "ndcg"], time_limit=30)
    report = grader.grade("alice.py")
    print(report)                   # points per exercise, each failed check and its hint
    report.as_json()                # everything, as one JSON-able dict
    report.gradescope()             # Gradescope's results.json

``Grader(...)`` runs every reference solution once, in its own process, before any submission:
that imports and compiles what the checks use once (each child is forked from it), and stops an
exercise whose reference solution does not get full marks before it grades anyone.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
import textwrap
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..threads import limit_blas
from ..version import __version__
from .checking import FAILED, NOT_IMPLEMENTED, NOT_RUN, PASSED, CheckResult, points_of, run_checks
from .handout import handed_out, imports_for, merge_imports
from .registry import COURSE, LOADED_PREFIX, exercise_module, get
from .sandbox import Limits, Outcome, run_isolated

#: the longest message kept from a child, per check
MAX_MESSAGE = 2000


def submitted_names(module) -> tuple[str, ...]:
    """What a submission defines for the exercise ``module``: its ``SUBMIT``, else the stub's name."""
    names = getattr(module, "SUBMIT", None)
    return tuple(names) if names else (module.STUB.__name__,)


def build_candidate(module, objects):
    """The one candidate the checks take, from the objects named in :func:`submitted_names`."""
    return module.CANDIDATE(*objects) if hasattr(module, "CANDIDATE") else objects[0]


# -- finding the file ---------------------------------------------------------------------------
def _top_level_names(path: Path) -> set[str] | None:
    """The names a file defines at its top level (functions, classes, assignments, imports), or None
    when it does not parse."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
    except (SyntaxError, ValueError):
        return None
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def locate(submission: Path, module) -> tuple[Path | None, str]:
    """The file of ``submission`` to grade exercise ``module`` on, or None and the reason."""
    if submission.is_file():
        return submission, ""
    named = submission / f"{module.NAME}.py"
    if named.is_file():
        return named, ""
    files = sorted(p for p in submission.glob("*.py") if p.is_file())
    if not files:
        return None, f"{submission} holds no .py file: hand in {module.NAME}.py, or a file that defines it"
    wanted = set(submitted_names(module))
    unreadable = []
    for path in files:
        names = _top_level_names(path)
        if names is None:
            unreadable.append(path.name)
        elif wanted <= names:
            return path, ""
    if len(files) == 1:  # one file: let the import say what is wrong with it
        return files[0], ""
    listed = ", ".join(sorted(wanted))
    reason = f"no file of {submission} defines {listed} (nor is there a {module.NAME}.py)"
    if unreadable:
        reason += f"; these files do not parse: {', '.join(unreadable)}"
    return None, reason


# -- in the child ---------------------------------------------------------------------------------
class _MemoryLimit(BaseException):
    """A MemoryError inside a check: the whole exercise stops (run_checks would record a failure)."""


def _guarded(check):
    def run(candidate):
        try:
            check(candidate)
        except MemoryError as exc:
            raise _MemoryLimit(str(exc)) from None

    run.__name__, run.points = check.__name__, points_of(check)
    return run


def _where_in(exc: BaseException, path: str) -> str:
    """``" (line N)"``: the last line of the student's file in the exception's traceback."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f" (line {exc.lineno})"
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
    return f" (line {lines[-1]})" if lines else ""


def grade_in_child(module_name: str, path: str, module_file: str | None = None) -> dict:
    """Import the submission ``path`` and run the checks of the exercise module ``module_name``
    (loaded from ``module_file`` for an instructor's exercise, when the child was not forked).

    Runs in the child process (:func:`~tinyrec.exercises.sandbox.run_isolated`); returns
    ``{"candidate": ..., "results": [[check, status, message], ...]}`` or ``{"failure": ...}``.
    """
    module = exercise_module(module_name, module_file)
    sys.path.insert(0, str(Path(path).parent))  # a submission may import its own helper files
    spec = importlib.util.spec_from_file_location(f"submission_{module.NAME}", path)
    student = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = student
    try:
        spec.loader.exec_module(student)
    except MemoryError:
        raise
    except BaseException as exc:  # SyntaxError, ImportError, SystemExit, anything the file raises
        where = _where_in(exc, path)
        return {
            "failure": f"importing {Path(path).name} raised {type(exc).__name__}{where}: {exc}"[:MAX_MESSAGE]
        }
    names = submitted_names(module)
    missing = [name for name in names if not hasattr(student, name)]
    if missing:
        return {"failure": f"{Path(path).name} defines no {', '.join(missing)}; this exercise needs "
                           f"{', '.join(names)}"}  # fmt: skip
    candidate = build_candidate(module, [getattr(student, name) for name in names])
    try:
        with limit_blas(1):
            report = run_checks(module.NAME, candidate, [_guarded(c) for c in module.CHECKS])
    except _MemoryLimit as exc:
        raise MemoryError(str(exc)) from None
    results = [[r.name, r.status, r.message[:MAX_MESSAGE]] for r in report.results]
    return {"candidate": report.candidate, "results": results}


# -- the grades -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExerciseGrade:
    """One exercise of one submission: each check's result and points, or why none could run."""

    exercise: str
    file: str | None  # the file graded, None when none was found
    checks: tuple[CheckResult, ...]
    failure: str = ""  # why the exercise got 0 as a whole ("" when its checks ran)
    seconds: float = 0.0

    @property
    def score(self) -> int:
        return sum(r.score for r in self.checks)

    @property
    def max_score(self) -> int:
        return sum(r.points for r in self.checks)

    @property
    def implemented(self) -> bool:
        return not self.failure and not any(r.status == NOT_IMPLEMENTED for r in self.checks)

    def summary(self) -> str:
        if self.failure:
            return self.failure
        failed = [r for r in self.checks if not r.passed]
        if not failed:
            return f"all {len(self.checks)} checks passed"
        if all(r.status == NOT_IMPLEMENTED for r in self.checks):
            return "not implemented yet"
        if len(failed) == len(self.checks) > 1 and len({r.message for r in failed}) == 1:
            return f"every check failed: {failed[0].message}"  # one error stops them all: say it once
        return f"{len(failed)} of {len(self.checks)} checks failed"

    def as_json(self) -> dict:
        return {
            "exercise": self.exercise, "file": self.file, "score": self.score, "max_score": self.max_score,
            "failure": self.failure or None, "seconds": round(self.seconds, 3),
            "checks": [{"name": r.name, "status": r.status, "score": r.score, "max_score": r.points,
                        "message": r.message} for r in self.checks],
        }  # fmt: skip


@dataclass(frozen=True)
class GradeReport:
    """The grades of one submission, one :class:`ExerciseGrade` per exercise, in the grader's order."""

    submission: str
    grades: tuple[ExerciseGrade, ...]
    seconds: float = 0.0

    @property
    def score(self) -> int:
        return sum(g.score for g in self.grades)

    @property
    def max_score(self) -> int:
        return sum(g.max_score for g in self.grades)

    def grade(self, exercise: str) -> ExerciseGrade:
        for g in self.grades:
            if g.exercise == exercise:
                return g
        raise KeyError(f"no exercise {exercise!r} in this report; it has {[g.exercise for g in self.grades]}")

    def __str__(self) -> str:
        width = max(len(g.exercise) for g in self.grades)
        points = max(len(f"{g.score}/{g.max_score}") for g in self.grades)
        lines = [f"{self.submission}: {self.score} of {self.max_score} points"]
        for g in self.grades:
            lines.append(f"  {g.exercise:<{width}}  {f'{g.score}/{g.max_score}':>{points}}  {g.summary()}")
            if g.failure or g.summary().startswith(("not implemented", "every check")):
                continue  # the summary line said it all
            for r in g.checks:
                if not r.passed:
                    tag = "todo" if r.status == NOT_IMPLEMENTED else "FAIL"
                    message = r.message.replace("\n", "\n" + " " * 10)
                    lines.append(
                        f"      [{tag}] {r.name} ({r.points} point{'s' * (r.points > 1)}): {message}"
                    )
        return "\n".join(lines)

    def as_json(self) -> dict:
        return {
            "submission": self.submission, "score": self.score, "max_score": self.max_score,
            "seconds": round(self.seconds, 3), "tinyrec_version": __version__,
            "exercises": [g.as_json() for g in self.grades],
        }  # fmt: skip

    def gradescope(self) -> dict:
        """Gradescope's autograder ``results.json``: the total ``score``, and one test per check with
        its ``name``, ``number``, ``score``, ``max_score``, ``status`` and ``output`` (the feedback).

        The assignment's total is the sum of the tests' ``max_score`` (also in ``extra_data``).
        """
        tests = []
        for i, g in enumerate(self.grades, start=1):
            for j, r in enumerate(g.checks, start=1):
                output = r.message if r.message else "passed"
                if r.status == NOT_RUN:
                    output = f"not run: {r.message}"
                elif r.status == NOT_IMPLEMENTED:
                    output = f"not implemented yet: {r.message}"
                status = "passed" if r.passed else "failed"
                tests.append({
                    "name": f"{g.exercise}: {r.name}", "number": f"{i}.{j}", "score": float(r.score),
                    "max_score": float(r.points), "status": status, "output": output,
                })  # fmt: skip
        return {
            "score": float(self.score),
            "execution_time": round(self.seconds, 3),
            "output": "\n".join(f"{g.exercise}: {g.score}/{g.max_score}, {g.summary()}" for g in self.grades),
            "tests": tests,
            "extra_data": {"max_score": float(self.max_score), "tinyrec_version": __version__},
        }


def _grade_from(module, file: Path | None, outcome: Outcome | None, reason: str = "") -> ExerciseGrade:
    """An :class:`ExerciseGrade` from a child's outcome, the points taken from ``module``'s checks."""
    if outcome is not None:
        result = outcome.result or {}
        reason = outcome.failure or (result.get("failure") if isinstance(result.get("failure"), str) else "")
        if not reason and not isinstance(result.get("results"), list):
            reason = "the grading process sent back no check results"
    seconds = outcome.seconds if outcome is not None else 0.0
    name_of = None if file is None else str(file)
    if reason:
        checks = tuple(
            CheckResult(c.__name__, NOT_RUN, reason[:MAX_MESSAGE], points_of(c)) for c in module.CHECKS
        )
        return ExerciseGrade(module.NAME, name_of, checks, reason[:MAX_MESSAGE], seconds)
    sent = {}
    for entry in outcome.result["results"]:
        if isinstance(entry, list) and len(entry) == 3 and all(isinstance(x, str) for x in entry):
            sent[entry[0]] = entry
    checks = []
    for check in module.CHECKS:
        _, status, message = sent.get(check.__name__, (None, FAILED, "no result came back for this check"))
        if status not in (PASSED, FAILED, NOT_IMPLEMENTED):
            status, message = FAILED, f"an unknown status came back for this check: {status[:50]!r}"
        checks.append(CheckResult(check.__name__, status, message[:MAX_MESSAGE], points_of(check)))
    return ExerciseGrade(module.NAME, name_of, tuple(checks), "", seconds)


class Grader:
    """Grades submissions on a list of exercises, each in a sandboxed child process.

    Parameters
    ----------
    exercises : sequence of str, optional
        Exercise names (:data:`tinyrec.exercises.EXERCISES`); default: the course exercises,
        :data:`tinyrec.exercises.COURSE`, in order.
    time_limit : float
        Seconds of wall-clock time per exercise of a submission (default 60).
    memory_limit : int or None
        Bytes of address space per exercise on top of the grader's own (default 2 GiB; ``None``:
        none). Linux and macOS only (see :mod:`tinyrec.exercises.sandbox`).
    workers : int
        How many children run at once (default 1).
    start_method : str, optional
        ``"fork"``, ``"forkserver"`` or ``"spawn"``; default: the platform's
        (:func:`~tinyrec.exercises.sandbox.start_method`).
    """

    def __init__(self, exercises=None, *, time_limit: float = 60.0, memory_limit: int | None = 2 * 1024**3,
                 workers: int = 1, start_method: str | None = None):  # fmt: skip
        names = list(COURSE) if exercises is None else list(dict.fromkeys(exercises))
        if not names:
            raise ValueError("a grader needs at least one exercise")
        self.modules = [get(name) for name in names]
        self.limits = Limits(time_limit, memory_limit)
        if not (isinstance(workers, int) and workers >= 1):
            raise ValueError(f"workers must be a positive int, got {workers!r}")
        self.workers = workers
        self.start_method = start_method
        for module in self.modules:  # the references, in this process: loads and compiles once
            report = run_checks(module.NAME, module.SOLUTION, module.CHECKS)
            if report.score != report.max_score:
                raise RuntimeError(
                    f"the reference solution of {module.NAME} does not get full marks; fix the exercise "
                    f"before grading with it:\n{report}"
                )

    @property
    def exercises(self) -> list[str]:
        return [m.NAME for m in self.modules]

    def grade(self, submission) -> GradeReport:
        """Grade one submission (a ``.py`` file or a folder of them)."""
        return self.grade_many([submission])[0]

    def grade_many(self, submissions) -> list[GradeReport]:
        """Grade several submissions, ``workers`` children at a time; one report each, in order."""
        paths = [_check_submission(s) for s in submissions]
        started = time.perf_counter()
        located = [[locate(path, module) for module in self.modules] for path in paths]
        tasks, slots = [], []
        for i, row in enumerate(located):
            for j, (file, _) in enumerate(row):
                if file is not None:
                    module = self.modules[j]
                    own = module.__name__.startswith(LOADED_PREFIX)  # an instructor's, from a file
                    args = (module.__name__, str(file.resolve()), module.__file__ if own else None)
                    tasks.append((grade_in_child, args))
                    slots.append((i, j))
        outcomes = dict(
            zip(slots, run_isolated(tasks, self.limits, self.workers, self.start_method), strict=True)
        )
        elapsed = time.perf_counter() - started
        reports = []
        for i, (path, row) in enumerate(zip(paths, located, strict=True)):
            grades = tuple(
                _grade_from(module, file, outcomes.get((i, j)), reason)
                for j, (module, (file, reason)) in enumerate(zip(self.modules, row, strict=True))
            )
            seconds = sum(g.seconds for g in grades) if len(paths) > 1 else elapsed
            reports.append(GradeReport(str(path), grades, seconds))
        return reports


def reference_submission(exercises=None) -> str:
    """The text of a submission made of the reference solutions of ``exercises`` (default: the
    course's), under the names a student's file defines: one that must get full marks, to check a
    grading setup end to end (and what the tests and the benchmark grade). Keep it from students.
    """
    imports, parts = [], []
    for module in (get(name) for name in (list(COURSE) if exercises is None else exercises)):
        names = submitted_names(module)
        given = [inspect.getsource(obj) for obj in handed_out(module)]  # the stubs, or the tutorial's code
        solutions = module.SOLUTION if len(names) > 1 else (module.SOLUTION,)
        imports += imports_for(module, given + [inspect.getsource(s) for s in solutions])
        parts += given
        for name, solution in zip(names, solutions, strict=True):
            parts += [inspect.getsource(solution), f"{name} = {solution.__name__}\n"]
    return "\n".join(merge_imports(imports)) + "\n\n\n" + "\n\n".join(textwrap.dedent(p) for p in parts)


def _check_submission(submission) -> Path:
    path = Path(submission)
    if not path.exists():
        raise FileNotFoundError(f"no submission at {path}: give a .py file or a folder of them")
    if path.is_file() and path.suffix != ".py":
        raise ValueError(f"a submission is a .py file or a folder of them; {path} is neither")
    return path
