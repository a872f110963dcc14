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
the Numba kernels). Run: ``python benchmarks/bench_eval.py`` (under a minute); prints a table
and writes ``benchmarks/results/bench_eval.json`` (``--quick``: one repeat, written to
``bench_eval_quick.json``).

**Memory at MovieLens-20M shape** (opt-in, ``--ml20m``; a few minutes): does ``evaluate`` stay under
2 GB on ML-20M, as its user batches intend? ML-20M itself is not needed: each protocol runs in its
own child process that

1. draws an ML-20M-shaped implicit data set: 138,493 users × 26,744 items, 20,000,263 distinct
   ``(user, item)`` pairs, long-tailed item popularity (``∝ rank^-0.8``, saturating at the head as
   in ML-20M, where the most popular film is rated by half of the users) and skewed user activity
   (``∝ rank^-0.5``); ``leave_one_out(by="random")`` holds out one item per user;
2. builds a random dot-product model with 64 float32 factors (``score_all(users) = P[users] @ Q.T``,
   costing what a trained matrix factorisation costs);
3. runs ``evaluate(model, test, train=train, protocol=..., k=10)`` with the default ``batch_size``.

The peak resident memory (``VmHWM`` of ``/proc/self/status``) is read for each phase separately:
drawing the data, splitting (plus the model), evaluating; between phases garbage is collected,
freed heap pages are returned to the OS (glibc ``malloc_trim``) and the peak is reset
(``echo 5 > /proc/self/clear_refs``). ``VmRSS`` just before ``evaluate`` (the split, its cached
CSR views and the model) is reported too, so the evaluation's own extra memory is visible; every
peak includes what is resident (interpreter, NumPy, Numba, data). The process peak is the largest
phase peak.

Without ``clear_refs`` (not Linux, or not permitted) the evaluation peak falls back to the process
peak and ``peak_reset`` is ``false`` in the JSON. A default run writes the file without the
``ml20m`` section (and without its summary rows).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from record import Run  # noqa: E402  (benchmarks/record.py)

from tinyrec import metrics  # noqa: E402
from tinyrec.data import Interactions  # noqa: E402
from tinyrec.data.split import leave_one_out  # noqa: E402
from tinyrec.evaluation import evaluate  # noqa: E402

N_USERS, N_ITEMS, TRAIN_PER_USER = 6040, 3706, 165
ML20M_SHAPE = (138_493, 26_744, 20_000_263)  # users, items, interactions of MovieLens-20M
ML20M_FACTORS = 64
MEMORY_TARGET_MB = 2048


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


# ---------------------------------------------------------------------- ML-20M memory (own process)
class RandomFactors:
    """A dot-product 'model' with random float32 factors: ``score_all(users) = P[users] @ Q.T``."""

    def __init__(self, n_users: int, n_items: int, n_factors: int, seed: int):
        rng = np.random.default_rng(seed)
        self.user_factors = rng.standard_normal((n_users, n_factors), dtype=np.float32)
        self.item_factors = rng.standard_normal((n_items, n_factors), dtype=np.float32)

    def score_all(self, users):
        return self.user_factors[users] @ self.item_factors.T  # (len(users), n_items) float32


def ml20m_shaped(seed: int) -> Interactions:
    """Distinct random ``(user, item)`` pairs with ML-20M's sizes, long-tailed items, skewed users.

    Pairs are drawn as flat int64 keys ``user * n_items + item`` and de-duplicated with
    ``np.unique``; draws continue until there are enough distinct pairs, then a random subset of
    exactly ``ML20M_SHAPE[2]`` is kept. No dense matrix is built.
    """
    n_users, n_items, n_interactions = ML20M_SHAPE
    rng = np.random.default_rng(seed)
    item_p = np.arange(1, n_items + 1, dtype=np.float64) ** -0.8
    user_p = np.arange(1, n_users + 1, dtype=np.float64) ** -0.5
    item_p, user_p = item_p / item_p.sum(), user_p / user_p.sum()
    keys = np.empty(0, dtype=np.int64)
    while len(keys) < n_interactions:
        m = int(1.2 * (n_interactions - len(keys))) + 10_000
        new = rng.choice(n_users, m, p=user_p) * np.int64(n_items)
        new += rng.choice(n_items, m, p=item_p)
        keys = np.unique(np.concatenate([keys, new]))
        del new
    keys = keys[np.sort(rng.choice(len(keys), n_interactions, replace=False))]
    return Interactions(keys // n_items, keys % n_items, n_users=n_users, n_items=n_items)


def _status_mb(field: str) -> float | None:
    """``VmHWM`` (peak resident) or ``VmRSS`` (resident now) of this process, in MB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset ``VmHWM`` to the current ``VmRSS`` (Linux ``clear_refs`` value 5); False if refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _release_freed() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc ``malloc_trim``), so that
    ``VmRSS`` counts live data rather than memory the allocator kept after the build."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def ml20m_child(protocol: str, seed: int) -> dict:
    """Build the ML-20M-shaped split and model, evaluate once under ``protocol``; report memory.

    Three phases, the peak resident memory of each read separately (``VmHWM`` reset in between):
    drawing the data, splitting it (plus the model), evaluating.
    """
    peaks, seconds = {}, {}
    start = time.perf_counter()
    data = ml20m_shaped(seed)
    seconds["generate"], peaks["generate"] = time.perf_counter() - start, _status_mb("VmHWM")
    _release_freed()
    reset = _reset_peak()
    start = time.perf_counter()
    train, test = leave_one_out(data, by="random", seed=seed)
    del data
    model = RandomFactors(train.n_users, train.n_items, ML20M_FACTORS, seed)
    seconds["split"], peaks["split"] = time.perf_counter() - start, _status_mb("VmHWM")
    _release_freed()
    rss_before = _status_mb("VmRSS")
    reset = _reset_peak() and reset
    start = time.perf_counter()
    metrics_ = evaluate(model, test, train=train, protocol=protocol, k=10)
    seconds["eval"], peaks["eval"] = time.perf_counter() - start, _status_mb("VmHWM")
    known = [p for p in peaks.values() if p is not None]
    return {
        "protocol": protocol,
        "n_users": train.n_users,
        "n_items": train.n_items,
        "n_interactions": len(train) + len(test),
        "n_train": len(train),
        "n_test": len(test),
        "n_factors": ML20M_FACTORS,
        "seconds": seconds,
        "peak_mb": peaks,
        "rss_before_eval_mb": rss_before,
        "peak_reset": reset,
        "process_peak_mb": max(known) if known else None,
        "metrics": metrics_,
    }


def ml20m_memory(seed: int) -> list[dict]:
    """One child process per protocol (so each peak belongs to that protocol alone)."""
    rows = []
    for protocol in ("full", "sampled"):
        cmd = [sys.executable, __file__, "--ml20m-child", protocol, "--seed", str(seed)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        rows.append(json.loads(out.stdout))
    return rows


def _mb(x) -> str:
    return "-" if x is None else f"{x:.0f}"


def print_ml20m(rows: list[dict]) -> None:
    n_users, n_items, n_inter = ML20M_SHAPE
    print(
        f"\nevaluate() at ML-20M shape ({n_users:,} users x {n_items:,} items, {n_inter:,} interactions; "
        f"leave-one-out; {ML20M_FACTORS} float32 factors; default batch_size; one process per protocol)"
    )
    print(
        f"{'protocol':<9} {'eval s':>7} {'peak: generate':>15} {'split':>6} {'RSS before eval':>16} "
        f"{'eval':>6} {'eval extra':>11} {'process':>8}  < {MEMORY_TARGET_MB} MB"
    )
    for r in rows:
        peak, before = r["peak_mb"], r["rss_before_eval_mb"]
        extra = None if peak["eval"] is None or before is None else peak["eval"] - before
        total = r["process_peak_mb"]
        ok = "" if total is None else ("yes" if total < MEMORY_TARGET_MB else "NO")
        print(
            f"{r['protocol']:<9} {r['seconds']['eval']:>7.1f} {_mb(peak['generate']):>15} "
            f"{_mb(peak['split']):>6} {_mb(before):>16} {_mb(peak['eval']):>6} {_mb(extra):>11} "
            f"{_mb(total):>8}  {ok}"
        )
    print("(MB: VmHWM of /proc/self/status per phase, reset in between; eval extra = eval peak - RSS before)")


# the summary rows: case -> what it measures
SUMMARY = {
    "full, metrics (pessimistic)": "HR, NDCG, recall@10 (and precision, MAP, MRR), full, pessimistic ties",
    "full, metrics (average)": "HR, NDCG, recall@10 (and precision, MAP, MRR), full, average ties",
    "full, 3 separate calls (pessimistic)": "hit_rate, ndcg, recall@10 called one by one, full matrix",
    "sampled, metrics (pessimistic)": "HR, NDCG@10 and MRR of 100 sampled candidates, pessimistic ties",
    "sampled, metrics (average)": "HR, NDCG@10 and MRR of 100 sampled candidates, average ties",
    "evaluate(full)": "evaluate(protocol='full', k=10), end to end",
    "evaluate(sampled), incl. sampling": "evaluate(protocol='sampled', k=10), end to end, sampling included",
}
ARGSORT = "np.argsort of the full matrix (scale)"
BESIDE_ARGSORT = (  # the cases that rank the whole matrix, shown beside a full sort of it
    "full, metrics (pessimistic)",
    "full, metrics (average)",
    "full, 3 separate calls (pessimistic)",
    "evaluate(full)",
)


def summarise(run: Run, rows: list[dict], repeats: int) -> None:
    seconds = {r["case"]: r["seconds"] for r in rows}
    caption = (
        f"Ranking metrics at ML-1M shape ({N_USERS:,} users x {N_ITEMS:,} items, float32 scores), "
        f"median seconds of {repeats}; reference: np.argsort of the whole matrix"
    )
    for case, what in SUMMARY.items():
        full = case in BESIDE_ARGSORT
        run.speed(
            what, seconds[case], "s", reference="np.argsort(-scores, axis=1)" if full else None,
            reference_value=seconds[ARGSORT] if full else None, table=caption,
        )  # fmt: skip


def summarise_ml20m(run: Run, rows: list[dict]) -> None:
    n_users, n_items, n_inter = ML20M_SHAPE
    caption = (
        f"evaluate() at ML-20M shape ({n_users:,} users x {n_items:,} items, {n_inter:,} interactions), "
        f"{ML20M_FACTORS} float32 factors, one process per protocol; peak resident memory (VmHWM)"
    )
    for r in rows:
        peak, before = r["peak_mb"], r["rss_before_eval_mb"]
        extra = None if peak["eval"] is None or before is None else peak["eval"] - before
        name = f"evaluate(protocol='{r['protocol']}') at ML-20M shape"
        run.speed(f"{name}: process peak", r["process_peak_mb"], "MB", table=caption)
        run.speed(f"{name}: evaluation's peak above the resident split", extra, "MB", table=caption)
        run.speed(f"{name}: evaluation time", r["seconds"]["eval"], "s", table=caption)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="one repeat (checks the script runs)")
    ap.add_argument("--out", default=None, help="JSON output path (default: benchmarks/results/)")
    ap.add_argument(
        "--ml20m", action="store_true", help="also measure evaluate()'s memory at ML-20M shape (minutes)"
    )
    ap.add_argument("--ml20m-child", choices=("full", "sampled"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.ml20m_child:
        print(json.dumps(ml20m_child(args.ml20m_child, args.seed)))
        return {}
    run = Run("bench_eval", argv, quick=args.quick)
    if args.quick:
        args.repeats = 1
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
    summarise(run, rows, args.repeats)
    result = {
        "shape": [N_USERS, N_ITEMS],
        "repeats": args.repeats,
        "rows": rows,
    }
    if args.ml20m:
        result["ml20m"] = {"target_mb": MEMORY_TARGET_MB, "rows": ml20m_memory(args.seed)}
        print_ml20m(result["ml20m"]["rows"])
        summarise_ml20m(run, result["ml20m"]["rows"])
    run.write(result, args.out)
    return result


if __name__ == "__main__":
    main()
