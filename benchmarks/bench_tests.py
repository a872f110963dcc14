"""How long README's test command takes: the whole suite, and the suite without the slow tests.

README tells a newcomer to run ``python -m pytest`` (after ``pip install ".[test]"``) and says
``python -m pytest -m "not slow"`` leaves out the tests over about 2 s each. This script times both,
end to end, each in a fresh process, with the environment it is given (``TINYREC_DATA`` decides
whether the tests that read MovieLens run; torch and the reference libraries, whether theirs run),
and records how many tests passed and skipped. The Numba cache is the one the checkout already has
(a warm run: a first run on a fresh machine also compiles every kernel).

Nothing here asserts a time: the figures go to ``benchmarks/results/bench_tests.json`` and from there
to RESULTS.md and README.

Run: ``python benchmarks/bench_tests.py`` from the repository's root (a few minutes; ``--quick``
times only the suite without the slow tests).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from record import Run  # noqa: E402  (benchmarks/record.py)

#: pytest's last line: "3 failed, 3415 passed, 38 skipped, 4 warnings in 112.85s (0:01:52)"
_COUNTS = re.compile(r"(\d+) (passed|failed|skipped|errors?|deselected)")


def time_suite(extra: list[str]) -> dict:
    """Run ``python -m pytest -q -p no:cacheprovider`` + ``extra`` in a fresh process."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    counts = {kind.rstrip("s"): int(n) for n, kind in _COUNTS.findall(last)}
    return {"command": " ".join(["python -m pytest", *extra]), "seconds": seconds,
            "returncode": done.returncode, "summary": last, "counts": counts}  # fmt: skip


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help='only `python -m pytest -m "not slow"`')
    args = parser.parse_args(argv)
    run = Run("bench_tests", argv, quick=args.quick)
    cases = [("the suite without the slow tests", ["-m", "not slow"])]
    if not args.quick:
        cases.insert(0, ("README's test command, the whole suite", []))
    caption = "pytest end to end in a fresh process, Numba cache warm; the tests that ran are in the note"
    results = {}
    for what, extra in cases:
        r = time_suite(extra)
        results[what] = r
        print(f"{r['command']:<32} {r['seconds']:7.1f} s   {r['summary']}")
        if r["returncode"] != 0:  # a failing suite's time is not the suite's time
            print(f"  exit code {r['returncode']}: not recorded", file=sys.stderr)
            continue
        c = r["counts"]
        note = f"{c.get('passed', 0):,} passed, {c.get('skipped', 0):,} skipped"
        run.speed(what, r["seconds"], "s", better="lower", table=caption, note=note)
    run.write(results)
    return results


if __name__ == "__main__":
    main()
