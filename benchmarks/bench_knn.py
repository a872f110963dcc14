"""Neighbourhood models: time of the similarity top-k kernel, and of ``tinyrec quickstart``.

1. The similarity kernel (:func:`tinyrec.kernels.knn.similarity_topk`) over all items of
   MovieLens-100K (1,682 items, 100,000 ratings), keeping every positive similarity (what the rating
   modes store), for each similarity; and over all items and all users of the embedded
   MovieTweetings 5-core. Best of 5 runs after a warm-up call (compilation excluded). Target:
   ML-100K items under 0.5 s.
2. ``python -m tinyrec quickstart``, end to end in a fresh process, twice: with an empty Numba cache
   (what a fresh machine pays: compilation included) and then with the cache it left.

Run: ``TINYREC_DATA=/path/to/data python benchmarks/bench_knn.py`` (about a minute on 2 cores).
Prints a table and writes ``benchmarks/results/bench_knn.json`` (``--quick``: one timed run per
similarity, ``bench_knn_quick.json``; the two quickstart runs are the same).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from record import Run  # noqa: E402  (benchmarks/record.py)

from tinyrec.data import movielens  # noqa: E402
from tinyrec.data.embedded import load_embedded  # noqa: E402
from tinyrec.kernels.csr import csr_order  # noqa: E402
from tinyrec.kernels.knn import KINDS, similarity_topk  # noqa: E402


def csr_pair(rows, cols, values, n_rows, n_cols):
    """(row CSR, column CSR) as the models build them."""
    r_ptr, r_ord = csr_order(rows, cols, n_rows, n_cols)
    c_ptr, c_ord = csr_order(cols, rows, n_cols, n_rows)
    return (r_ptr, cols[r_ord].astype(np.int32), values[r_ord]), (
        c_ptr,
        rows[c_ord].astype(np.int32),
        values[c_ord],
    )


def time_kernel(row_csr, col_csr, n_rows, kind, repeats=5):
    everything = np.arange(n_rows, dtype=np.int64)
    similarity_topk(row_csr, col_csr, everything[:2], kind, n_rows - 1, 0.0, 1)  # compile / warm up
    best, kept = np.inf, 0
    for _ in range(repeats):
        start = time.perf_counter()
        _, _, count = similarity_topk(row_csr, col_csr, everything, kind, n_rows - 1, 0.0, 1)
        best = min(best, time.perf_counter() - start)
        kept = int(count.sum())
    return best, kept


def time_quickstart(cache_dir: str) -> float:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tinyrec", "quickstart"], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timed run per similarity")
    args = parser.parse_args(argv)
    run = Run("bench_knn", argv, quick=args.quick)
    repeats = 1 if args.quick else 5
    rows = []
    ml = movielens("100k")
    mt = load_embedded()
    cases = [("ml-100k", "items", ml, kind) for kind in ("cosine", "pearson", "msd", "cosine_full")]
    cases += [("movietweetings 5-core", side, mt, "pearson") for side in ("items", "users")]
    for data_name, side, data, kind in cases:
        users, items = data.users.astype(np.int64), data.items.astype(np.int64)
        r = data.ratings.astype(np.float64)
        if side == "items":
            row_csr, col_csr = csr_pair(items, users, r, data.n_items, data.n_users)
            n_rows = data.n_items
        else:
            row_csr, col_csr = csr_pair(users, items, r, data.n_users, data.n_items)
            n_rows = data.n_users
        seconds, kept = time_kernel(row_csr, col_csr, n_rows, KINDS[kind], repeats)
        rows.append({"data": data_name, "rows": f"{n_rows} {side}", "similarity": kind,
                     "seconds": seconds, "neighbours_kept": kept})  # fmt: skip
    with tempfile.TemporaryDirectory() as cache:
        cold = time_quickstart(cache)
        warm = time_quickstart(cache)
    print(f"{'data':<22} {'rows':<12} {'similarity':<12} {'seconds':>8} {'kept':>10}")
    for row in rows:
        print(f"{row['data']:<22} {row['rows']:<12} {row['similarity']:<12} {row['seconds']:8.3f} "
              f"{row['neighbours_kept']:>10,}")  # fmt: skip
    print(f"\ntinyrec quickstart: {cold:.1f} s with an empty Numba cache, {warm:.1f} s with a warm one")
    caption = (
        f"Similarity top-k kernel over all rows, every positive similarity kept, best of {repeats} after a "
        "warm-up; `tinyrec quickstart` end to end in a fresh process"
    )
    for row in rows:
        run.speed(f"similarity_topk, {row['data']}, {row['rows']}, {row['similarity']}", row["seconds"], "s",
                  table=caption)  # fmt: skip
    run.speed("tinyrec quickstart, empty Numba cache (compilation included)", cold, "s", table=caption)
    run.speed("tinyrec quickstart, warm Numba cache", warm, "s", table=caption)
    run.write({"similarity_topk": rows, "quickstart_seconds": {"cold_cache": cold, "warm_cache": warm}})


if __name__ == "__main__":
    main()
