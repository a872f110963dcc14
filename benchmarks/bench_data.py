"""Benchmark of tinyrec.data: loading ratings files, negative sampling, building the CSR.

What is measured (best of ``--repeat`` runs, wall clock, after one warm-up call so that Numba's
compile/cache load is not counted):

* load an ML-1M-format ``ratings.dat`` (``::``-separated, 1,000,209 lines). The real file is not
  redistributable, so unless ``--ml1m`` points at one, a file of the same shape is generated in a
  temporary folder (6,040 users, 3,706 items, ratings 1-5, 9-digit timestamps). Compared with
  ``pandas.read_csv`` in the same run: with ``sep="::"`` (pandas needs its Python engine for a
  two-character separator) and, for a fair C-engine baseline, on a tab-separated copy;
* load ML-100K ``u.data`` (``$TINYREC_DATA/ml-100k`` when present; else a generated file);
* draw 4 uniform negatives for each of the 1,000,209 positives (4,000,836 draws, excluding each
  user's positives);
* build the users x items CSR of the 1M table (counting-sort kernel) vs ``np.lexsort``.

Targets: load within 1.5x of pandas; 4M negatives in under 1 s on a 2-core machine.
Run: ``python benchmarks/bench_data.py`` (under a minute; prints a table, writes
``benchmarks/results/bench_data.json``; ``--quick``: one timed run per task, written to
``bench_data_quick.json``).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from record import Run  # benchmarks/record.py

from tinyrec.data import Interactions, from_csv
from tinyrec.data.sampling import NegativeSampler


def best_of(fn, repeat: int) -> float:
    fn()  # warm-up (JIT cache load, file cache)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def write_ratings(path: Path, n: int, n_users: int, n_items: int, sep: str, seed: int = 0) -> None:
    """An ML-style ratings file: ``user<sep>item<sep>rating<sep>timestamp`` per line."""
    rng = np.random.default_rng(seed)
    users = np.sort(rng.integers(1, n_users + 1, n))
    items = rng.integers(1, n_items + 1, n)
    ratings = rng.integers(1, 6, n)
    stamps = rng.integers(956_703_932, 1_046_454_590, n)
    table = np.stack([users, items, ratings, stamps], axis=1)
    with open(path, "w") as fh:
        np.savetxt(fh, table, fmt="%d", delimiter=sep)


# summary rows: (task, what, reference task, reference) for the tasks measured beside a reference
SUMMARY = (
    ("load 1M '::' (tinyrec from_csv)", "load {n} '::'-separated ratings (from_csv)",
     "load 1M '::' (pandas, python engine)", "pandas.read_csv, python engine (needed for '::')"),
    ("load 1M tab (tinyrec from_csv)", "load {n} tab-separated ratings (from_csv)",
     "load 1M tab (pandas, C engine)", "pandas.read_csv, C engine (arrays only, no id maps)"),
    ("load 100K u.data (tinyrec from_csv)", "load {u_data} (from_csv)",
     "load 100K u.data (pandas, C engine)", "pandas.read_csv, C engine"),
    ("4 uniform negatives x 1M positives", "4 uniform negatives for each of {n} positives", None, None),
    ("4 popularity negatives x 1M positives", "4 popularity negatives for each of {n} positives", None, None),
    ("CSR users x items, 1M (counting sort)", "users x items CSR of {n} ratings (counting sort), table "
     "validation excluded", "CSR order by np.lexsort (reference)", "np.lexsort (the order alone)"),
)  # fmt: skip


def summary_rows(run: Run, seconds: dict, n_lines: int, u_data: str, repeat: int) -> None:
    caption = f"Data: seconds, best of {repeat} after a warm-up; reference: pandas or NumPy in the same run"
    for task, what, ref_task, reference in SUMMARY:
        run.speed(
            what.format(n=f"{n_lines:,}", u_data=u_data), seconds.get(task), "s", reference=reference,
            reference_value=seconds.get(ref_task), table=caption,
        )  # fmt: skip


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ml1m", type=Path, default=None, help="a real ml-1m/ratings.dat to load instead")
    parser.add_argument("--quick", action="store_true", help="one timed run per task (checks the script)")
    parser.add_argument("--out", type=Path, default=None, help="JSON output (default: benchmarks/results/)")
    args = parser.parse_args(argv)
    run = Run("bench_data", argv, quick=args.quick)
    if args.quick:
        args.repeat = 1
    try:
        import pandas as pd
    except ImportError:
        pd = None

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ml1m = args.ml1m
        if ml1m is None:
            ml1m = tmp / "ratings.dat"
            write_ratings(ml1m, 1_000_209, 6040, 3706, "::")
        tab = tmp / "ratings.tsv"
        write_ratings(tab, 1_000_209, 6040, 3706, "\t")
        n_lines = sum(1 for _ in open(ml1m, "rb"))

        t = best_of(lambda: from_csv(ml1m, sep="::", header=False, timestamp=3), args.repeat)
        rows.append(("load 1M '::' (tinyrec from_csv)", t, f"{n_lines:,} lines"))
        t = best_of(lambda: from_csv(tab, sep="\t", header=False, timestamp=3), args.repeat)
        rows.append(("load 1M tab (tinyrec from_csv)", t, f"{n_lines:,} lines"))
        if pd is not None:
            names = ["user", "item", "rating", "ts"]
            t = best_of(
                lambda: pd.read_csv(ml1m, sep="::", engine="python", header=None, names=names), args.repeat
            )
            rows.append(("load 1M '::' (pandas, python engine)", t, "sep='::' needs it"))
            t = best_of(lambda: pd.read_csv(tab, sep="\t", header=None, names=names), args.repeat)
            rows.append(("load 1M tab (pandas, C engine)", t, "arrays only, no id maps"))

        root = os.environ.get("TINYREC_DATA")
        u_data = Path(root) / "ml-100k" / "u.data" if root else None
        u_data_name = "ML-100K u.data"
        if u_data is None or not u_data.exists():
            u_data, u_data_name = tmp / "u.data", "a generated 100,000-line u.data"
            write_ratings(u_data, 100_000, 943, 1682, "\t")
        t = best_of(lambda: from_csv(u_data, sep="\t", header=False, timestamp=3), args.repeat)
        rows.append(("load 100K u.data (tinyrec from_csv)", t, str(u_data.name)))
        if pd is not None:
            t = best_of(lambda: pd.read_csv(u_data, sep="\t", header=None), args.repeat)
            rows.append(("load 100K u.data (pandas, C engine)", t, ""))

        data = from_csv(ml1m, sep="::", header=False, timestamp=3)

    sampler = NegativeSampler(data, seed=0)
    t = best_of(lambda: sampler.sample(data.users, 4), args.repeat)
    rows.append(("4 uniform negatives x 1M positives", t, f"{4 * len(data):,} draws"))
    pop = NegativeSampler(data, "popularity", seed=0)
    t = best_of(lambda: pop.sample(data.users, 4), args.repeat)
    rows.append(("4 popularity negatives x 1M positives", t, f"{4 * len(data):,} draws"))

    def fresh_csr():
        Interactions(
            data.users, data.items, data.ratings, n_users=data.n_users, n_items=data.n_items
        ).to_csr()

    def fresh_table():
        Interactions(data.users, data.items, data.ratings, n_users=data.n_users, n_items=data.n_items)

    t_table = best_of(fresh_table, args.repeat)
    t = best_of(fresh_csr, args.repeat) - t_table
    rows.append(("CSR users x items, 1M (counting sort)", t, "excl. table validation"))
    t = best_of(lambda: np.lexsort((data.items, data.users)), args.repeat)
    rows.append(("CSR order by np.lexsort (reference)", t, ""))

    print(f"tinyrec data benchmark ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)")
    print(f"{'task':<42} {'seconds':>9}  note")
    for name, sec, note in rows:
        print(f"{name:<42} {sec:>9.3f}  {note}")
    summary_rows(run, {name: sec for name, sec, _ in rows}, n_lines, u_data_name, args.repeat)
    details = {"repeat": args.repeat, "rows": [{"task": n, "seconds": s, "note": x} for n, s, x in rows]}
    run.write(details, args.out)


if __name__ == "__main__":
    main()
