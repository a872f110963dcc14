"""Speed of the ranking metrics and of ``evaluate`` at MovieLens-1M shape (6,040 users × 3,706 items).

Cases (float32 scores from a fixed random "model", as a factor model would output):

* ``full, metrics``: HR, NDCG and recall@10 (with precision, MAP and MRR: ``ranking_metrics``
  computes them together) from a given ``6,040 × 3,706`` score matrix in which each user's
  training items (165 on average, as in ML-1M) are ``-inf`` and one held-out item is relevant.
  Target: under 1 s.
* ``full, 3 separate calls``: ``hit_rate``, ``ndcg`` and ``recall`` called one by one.
* ``sampled, metrics``: HR@10, NDCG@10 and MRR for ``6,040 × 100`` candidate scores (the held-out
  item and 99 negatives). Target: under 0.1 s.
* ``evaluate(full)`` / ``evaluate(sampled)`` end to end on a synthetic split of that shape, with
  a model whose ``score_all`` returns rows of a stored matrix (so the model costs nothing):
  masking, batching, candidate sampling included.
* ``np.argsort`` of the whole matrix, for scale: what ranking by a full sort costs.

Each figure is the median of ``--repeats`` runs after one warm-up run (the warm-up also compiles
the Numba kernels). Run: ``python benchmarks/bench_eval.py``; prints a table and writes
``benchmarks/results/bench_eval.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinyrec import metrics  # noqa: E402
from tinyrec.data import Interactions  # noqa: E402
from tinyrec.evaluation import evaluate  # noqa: E402

N_USERS, N_ITEMS, TRAIN_PER_USER = 6040, 3706, 165


class StoredScores:
    """A 'model' whose scores are rows of a stored matrix."""

    def __init__(self, matrix):
        self.matrix = matrix

    def score_all(self, users):
        return self.matrix[users]


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up (JIT compile, caches)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build(seed: int):
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((N_USERS, N_ITEMS)).astype(np.float32)
    # each user: TRAIN_PER_USER train items and 1 test item, distinct
    keys = rng.random((N_USERS, N_ITEMS))
    picked = np.argpartition(keys, TRAIN_PER_USER, axis=1)[:, : TRAIN_PER_USER + 1]  # (users, 166)
    users = np.repeat(np.arange(N_USERS), TRAIN_PER_USER)
    train = Interactions(users, picked[:, :TRAIN_PER_USER].ravel(), n_users=N_USERS, n_items=N_ITEMS)
    test = Interactions(np.arange(N_USERS), picked[:, TRAIN_PER_USER], n_users=N_USERS, n_items=N_ITEMS)
    masked = scores.copy()
    masked[users, picked[:, :TRAIN_PER_USER].ravel()] = -np.inf
    relevance = np.zeros((N_USERS, N_ITEMS), dtype=np.float32)
    relevance[np.arange(N_USERS), picked[:, TRAIN_PER_USER]] = 1
    sampled = rng.standard_normal((N_USERS, 100)).astype(np.float32)
    sampled_rel = np.zeros((N_USERS, 100), dtype=np.float32)
    sampled_rel[:, 0] = 1
    return scores, masked, relevance, sampled, sampled_rel, train, test


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "bench_eval.json"))
    args = ap.parse_args(argv)
    scores, masked, relevance, sampled, sampled_rel, train, test = build(args.seed)
    model = StoredScores(scores)
    cases = {}
    for ties in ("pessimistic", "average"):
        cases[f"full, metrics ({ties})"] = (
            lambda t=ties: metrics.ranking_metrics(masked, relevance, 10, ties=t),
            1.0,
        )
    cases["full, 3 separate calls (pessimistic)"] = (
        lambda: [f(masked, relevance, 10) for f in (metrics.hit_rate, metrics.ndcg, metrics.recall)],
        1.0,
    )
    for ties in ("pessimistic", "average"):
        cases[f"sampled, metrics ({ties})"] = (
            lambda t=ties: (
                metrics.ranking_metrics(sampled, sampled_rel, 10, ties=t),
                metrics.mrr(sampled, sampled_rel, ties=t),
            ),
            0.1,
        )
    cases["evaluate(full)"] = (lambda: evaluate(model, test, train=train, protocol="full", k=10), None)
    cases["evaluate(sampled), incl. sampling"] = (
        lambda: evaluate(model, test, train=train, protocol="sampled", k=10),
        None,
    )
    cases["np.argsort of the full matrix (scale)"] = (lambda: np.argsort(-masked, axis=1), None)

    rows = []
    for name, (fn, target) in cases.items():
        sec = median_seconds(fn, args.repeats)
        rows.append({"case": name, "seconds": sec, "target_seconds": target})
    print(f"ranking metrics at ML-1M shape ({N_USERS:,} users x {N_ITEMS:,} items), median of {args.repeats}")
    print(f"{'case':<42} {'seconds':>9} {'target':>8}  ok")
    for r in rows:
        target = "" if r["target_seconds"] is None else f"< {r['target_seconds']:g}"
        ok = "" if r["target_seconds"] is None else ("yes" if r["seconds"] < r["target_seconds"] else "NO")
        print(f"{r['case']:<42} {r['seconds']:>9.4f} {target:>8}  {ok}")
    result = {
        "benchmark": "bench_eval",
        "shape": [N_USERS, N_ITEMS],
        "repeats": args.repeats,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "numpy": np.__version__,
        "rows": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=out.parent, delete=False, suffix=".tmp") as f:
        json.dump(result, f, indent=2)
    os.replace(f.name, out)  # atomic: a reader never sees half a file
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
