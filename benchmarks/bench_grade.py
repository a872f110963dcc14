"""How long ``tinyrec grade`` takes for a class: 100 copies of a full submission, each in sandboxes.

The submission is the reference solution of every course exercise
(:func:`tinyrec.exercises.grading.reference_submission`: the exercises of
:data:`~tinyrec.exercises.COURSE` at run time, which the result file lists under ``exercises``), so
every check runs to the end, gradient checks included; a wrong submission stops earlier. Each copy
is its own file, graded as a student's would be: one child process per (copy, exercise), with the
default limits (60 s, 2 GiB).

Figures (each one run: these are minutes of grading, not microseconds):

* ``fork, 2 workers``: the 100 copies with two children at a time (the platform's start method:
  ``fork`` on Linux). Target: under 5 minutes on 2 cores. Beside it, the reference measured in
  the same run: the same 600 (copy, exercise) check runs **in this process, without a sandbox**
  (what a grader that trusted its students would pay); the ratio is the sandbox's cost.
* ``fork, 1 worker``: the same on one core.
* ``spawn, 2 workers``, on ``--spawn-copies`` copies (default 5): what a platform without
  ``fork`` (Windows) pays, every child importing tinyrec; the reference beside it is ``fork`` on
  the same copies.

Run: ``nice -n 19 python benchmarks/bench_grade.py`` (a few minutes); prints a table and writes
``benchmarks/results/bench_grade.json`` (``--quick``: 10 copies, written to
``bench_grade_quick.json``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.record import Run  # noqa: E402
from tinyrec.exercises import COURSE, get  # noqa: E402
from tinyrec.exercises.grading import Grader, reference_submission  # noqa: E402
from tinyrec.exercises.sandbox import start_method  # noqa: E402


def _copies(folder: Path, n: int) -> list[Path]:
    text = reference_submission()
    paths = []
    for i in range(n):
        path = folder / f"student_{i:03d}.py"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _grade(paths, workers: int, method: str | None = None) -> tuple[float, list]:
    grader = Grader(workers=workers, start_method=method)  # the references run once, here, untimed
    start = time.perf_counter()
    reports = grader.grade_many(paths)
    return time.perf_counter() - start, reports


def _in_process(n: int) -> float:
    """The same checks on the references, ``n`` times each, in this process: no sandbox at all."""
    modules = [get(name) for name in COURSE]
    for module in modules:  # warm-up, as Grader does
        module.check(module.SOLUTION)
    start = time.perf_counter()
    for _ in range(n):
        for module in modules:
            module.check(module.SOLUTION)
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 copies instead of 100")
    parser.add_argument("--copies", type=int, default=100, help="copies of the submission (default 100)")
    parser.add_argument("--spawn-copies", type=int, default=5, help="copies graded with spawn (default 5)")
    args = parser.parse_args(argv)
    copies = 10 if args.quick else args.copies
    run = Run("bench_grade", argv, quick=args.quick)
    caption = (
        f"grading {copies} copies of a full submission (the references of the {len(COURSE)} course "
        f"exercises, {copies * len(COURSE)} sandboxed children), start method {start_method()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        paths = _copies(Path(tmp), copies)
        two, reports = _grade(paths, workers=2)
        full = sum(r.score == r.max_score for r in reports)
        if full != copies:
            raise SystemExit(f"only {full} of {copies} copies got full marks: the benchmark measures nothing")
        one, _ = _grade(paths, workers=1)
        inline = _in_process(copies)
        spawn_paths = paths[: args.spawn_copies]
        spawn, spawn_reports = _grade(spawn_paths, workers=2, method="spawn")
        fork_few, _ = _grade(spawn_paths, workers=2)
        assert all(r.score == r.max_score for r in spawn_reports)

    rows = [
        ("fork, 2 workers", copies, two, "the same checks in-process, no sandbox", inline),
        ("fork, 1 worker", copies, one, "the same checks in-process, no sandbox", inline),
        ("spawn, 2 workers", len(spawn_paths), spawn, "fork, 2 workers, same copies", fork_few),
    ]
    print(caption)
    print(f"{'how':<18} {'copies':>6} {'seconds':>8} {'per copy':>9}   reference (seconds)")
    for how, n, seconds, reference, reference_seconds in rows:
        print(f"{how:<18} {n:>6} {seconds:>8.1f} {seconds / n:>9.3f}   {reference}: {reference_seconds:.1f}")
        run.speed(
            f"grade {n} copies, {how}", seconds, "s", reference=reference, reference_value=reference_seconds,
            table=caption,
            note="target: under 300 s for 100 copies on 2 cores" if how == "fork, 2 workers" else None,
        )  # fmt: skip
    run.write(
        {
            "copies": copies,
            "exercises": list(COURSE),
            "checks_per_copy": sum(len(get(name).CHECKS) for name in COURSE),
            "start_method": start_method(),
            "seconds": {
                "fork_2_workers": two,
                "fork_1_worker": one,
                "in_process": inline,
                "spawn_2_workers": spawn,
                "fork_2_workers_spawn_copies": fork_few,
            },
            "spawn_copies": len(spawn_paths),
        }  # fmt: skip
    )


if __name__ == "__main__":
    main()
