"""How long ``tinyrec grade FOLDER --class`` takes for a class of 200, and whether its summary is right.

The class folder is generated as the tests generate theirs (``tests/exercises/class_folder.py``):
200 submissions on two course exercises (``ndcg``, ``adam_step``), each student's code the reference
or a typical wrong variant of it (optimistic ties, a discount off by one, no bias correction, eps
inside the root), a tenth handing in the stubs as given, one in twenty a file that does not parse,
some a folder with one file per exercise. The grades expected are those of the same code run in
this process; the run stops if the class report's scores or distribution differ from them.

Figures (one run each):

* ``class of 200, 2 workers``: :func:`tinyrec.exercises.classroom.grade_class` on the folder,
  one sandboxed child per (student, exercise); beside it, the reference measured in the same run:
  the same checks on the same code **in this process, without a sandbox**.
* ``class of 200, 1 worker``: the same on one core.

Run: ``nice -n 19 python benchmarks/bench_grade_class.py`` (about a minute); prints a table and
writes ``benchmarks/results/bench_grade_class.json`` (``--quick``: 40 students, written to
``bench_grade_class_quick.json``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.record import Run  # noqa: E402
from tests.exercises.class_folder import EXERCISES, MODULES, NAMES, write_class  # noqa: E402
from tinyrec.exercises import run_checks  # noqa: E402
from tinyrec.exercises.classroom import grade_class, submissions_in  # noqa: E402
from tinyrec.exercises.sandbox import start_method  # noqa: E402


def _in_process(folder: Path) -> float:
    """Every student's code checked in this process (the files read, compiled and run; no sandbox)."""
    start = time.perf_counter()
    for submission in submissions_in(folder):
        files = [submission] if submission.is_file() else sorted(submission.glob("*.py"))
        namespace = {}
        try:
            for file in files:
                exec(compile(file.read_text(encoding="utf-8"), str(file), "exec"), namespace)  # noqa: S102
        except SyntaxError:
            continue
        for e in EXERCISES:
            if NAMES[e] in namespace:
                run_checks(e, namespace[NAMES[e]], MODULES[e].CHECKS)
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 students instead of 200")
    parser.add_argument("--students", type=int, default=200, help="the size of the class (default 200)")
    args = parser.parse_args(argv)
    n = 40 if args.quick else args.students
    run = Run("bench_grade_class", argv, quick=args.quick)
    caption = (
        f"grading a class of {n} (exercises {', '.join(EXERCISES)}: {n * len(EXERCISES)} sandboxed "
        f"children), start method {start_method()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        expected, _ = write_class(folder, n, seed=0)
        _in_process(folder)  # warm-up: kernels compiled, modules imported
        inline = _in_process(folder)
        timings = {}
        for workers in (2, 1):
            report = grade_class(folder, list(EXERCISES), workers=workers)
            if report.scores != expected or report.distribution != dict(sorted(Counter(expected).items())):
                raise SystemExit(f"the class report ({workers} workers) differs from the expected grades")
            timings[workers] = report.seconds
    print(caption)
    print(f"score distribution: {report.distribution}")
    print(f"{'how':<26} {'seconds':>8} {'per student':>12}   reference: in-process, no sandbox (seconds)")
    for workers, seconds in timings.items():
        how = f"class of {n}, {workers} worker{'s' * (workers > 1)}"
        print(f"{how:<26} {seconds:>8.1f} {seconds / n:>12.3f}   {inline:.2f}")
        run.speed(
            how, seconds, "s", reference="the same checks in-process, no sandbox", reference_value=inline,
            table=caption,
        )  # fmt: skip
    run.write(
        {
            "students": n,
            "exercises": list(EXERCISES),
            "start_method": start_method(),
            "distribution": {str(k): v for k, v in report.distribution.items()},
            "seconds": {"2_workers": timings[2], "1_worker": timings[1], "in_process": inline},
        }
    )


if __name__ == "__main__":
    main()
