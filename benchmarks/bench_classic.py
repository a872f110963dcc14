"""Classic recommenders on MovieLens-100K: accuracy and speed.

Accuracy, rating prediction (RMSE / MAE on the five predefined folds u1..u5, mean over folds):

* tinyrec ``BaselineOnly()`` (ALS, Surprise's defaults), ``BiasedMF(seed=0)`` (Surprise's SVD
  defaults; also with ``shuffle="ratings"``, every rating shuffled, and ``shuffle=False``,
  Surprise's own visiting order), a tuned ``BiasedMF`` (a
  small grid; each fold picks its configuration on a validation split carved from that fold's
  train — 10% of its ratings, ``random_holdout`` — then refits on the whole train; the fold's test
  is never looked at), ``ItemKNN(40)`` baseline-adjusted with pearson-baseline similarity,
  ``UserKNN(40, similarity="msd")`` baseline-adjusted and mean-centred (``mode="means"``),
  ``BiasedMF(n_blocks=4, seed=0)``, shuffled and unshuffled (Surprise's SVD defaults trained by
  blocked, multi-threaded SGD: its accuracy must match the plain loop's);
* Surprise's ``BaselineOnly``, ``SVD``, item-based ``KNNBaseline`` (pearson_baseline, k=40) and
  user-based ``KNNBaseline`` and ``KNNWithMeans`` (msd, k=40) on the same folds, in the same run,
  when ``scikit-surprise`` is importable (pandas needed too).

Accuracy, ranking: leave-one-out by latest timestamp (ties: larger item id held out) on the whole
ML-100K; HR@10 / NDCG@10 / MRR with 99 sampled negatives and pessimistic ties, and the full-ranking
protocol: ``Popularity``, ``ItemKNN(50, mode="ranking")`` (binary cosine), ``BPRMF(64, 100)``,
``ImplicitALS(64, 15)``, and ``implicit``'s BPR (64 factors, 100 epochs) and ALS (64 factors, 15
epochs, our ``alpha`` and ``reg``) when importable; all trained on the binarized ratings.
``BPRMF`` is also trained with seeds 1–4 (mean and standard deviation of the five seeds), since one
seed's HR@10 moves by about ±0.01.

Speed: ``BiasedMF`` epoch time against Surprise's ``SVD`` with the same hyperparameters (both
measured as ``(t(11 epochs) − t(1 epoch)) / 10``, so set-up is left out; best of 3): our default
(``shuffle=True``: shuffled blocks of 16 users, each block's ratings shuffled, which keeps a
block's user rows in cache), every rating shuffled (``shuffle="ratings"``, plain shuffled SGD), and
unshuffled (Surprise's order: its ratings grouped by user); the rows of RESULTS.md show what each
order costs,
and with ``n_blocks=4`` (distributed SGD: 4 × 4 blocks, the blocks of a stratum on parallel
threads; all cores of the machine), on ML-100K's 100,000 ratings and on an ML-1M-sized synthetic
set (6,040 users × 3,706 items, 1,000,209 ratings); ``BPRMF`` 64 factors × 100 epochs against
``implicit``'s BPR (whole fits, best of 3, alternating the two, after one warm-up fit of each so
that Numba's compilation is left out; a single fit moves by ±15% on a shared machine);
``ItemKNN`` fit time (pearson-baseline similarities and neighbour lists of the 1,682 items).

Run: ``TINYREC_DATA=/path/to/data python benchmarks/bench_classic.py`` (about 5 minutes on 2 cores,
more with Surprise); ``--quick`` runs fold u1 only, a 2-point grid and skips the ML-1M-sized speed
case. Prints the tables and writes ``benchmarks/results/bench_classic.json``
(``bench_classic_quick.json``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from record import Run  # noqa: E402  (benchmarks/record.py)

from tinyrec.data import leave_one_out, movielens, random_holdout, synthetic  # noqa: E402
from tinyrec.evaluation import evaluate  # noqa: E402
from tinyrec.models import (  # noqa: E402
    BPRMF,
    BaselineOnly,
    BiasedMF,
    ImplicitALS,
    ItemKNN,
    Popularity,
    UserKNN,
)

FOLDS = ("u1", "u2", "u3", "u4", "u5")
# the tuning grid: (n_factors, n_epochs, lr_all, reg_all)
GRID = [
    (100, 20, 0.005, 0.02),
    (100, 50, 0.005, 0.05),
    (100, 100, 0.007, 0.1),
    (100, 100, 0.007, 0.12),
    (200, 100, 0.007, 0.12),
]
QUICK_GRID = [GRID[0], GRID[3]]


def optional(name):
    """Import an optional package, or return None (the comparison is then left out)."""
    try:
        return __import__(name)
    except ImportError:
        return None


# ---------------------------------------------------------------------------------------- Surprise
def surprise_trainset(surprise, pd, train):
    frame = pd.DataFrame({"u": train.users, "i": train.items, "r": train.ratings.astype(np.float64)})
    lo, hi = float(train.ratings.min()), float(train.ratings.max())
    return surprise.Dataset.load_from_df(frame, surprise.Reader(rating_scale=(lo, hi))).build_full_trainset()


class SurpriseModel:
    """A fitted Surprise algorithm behind tinyrec's ``predict`` (dense indices as raw ids)."""

    def __init__(self, algo):
        self.algo = algo

    def predict(self, users, items):
        return np.array([self.algo.predict(int(u), int(i)).est for u, i in zip(users, items, strict=True)])


# ---------------------------------------------------------------------------------------- accuracy
def tuned_mf(train, grid):
    """Pick a grid point on a validation split carved from ``train``; refit on all of ``train``."""
    fit_part, valid = random_holdout(train, 0.1, seed=0)
    scores = []
    for f, e, lr, reg in grid:
        model = BiasedMF(f, e, lr_all=lr, reg_all=reg, seed=0).fit(fit_part)
        scores.append(evaluate(model, valid, train=fit_part, protocol="rating")["rmse"])
    f, e, lr, reg = grid[int(np.argmin(scores))]
    params = dict(n_factors=f, n_epochs=e, lr_all=lr, reg_all=reg)
    return BiasedMF(**params, seed=0).fit(train), params, float(min(scores))


def rating_accuracy(folds, grid, surprise, pd):
    rows: dict[str, list] = {}
    chosen = []
    for fold in folds:
        train, test = movielens("100k", fold=fold)
        models = {
            "BaselineOnly": BaselineOnly().fit(train),
            "BiasedMF (Surprise defaults)": BiasedMF(seed=0).fit(train),
            "BiasedMF (Surprise defaults, unshuffled)": BiasedMF(shuffle=False, seed=0).fit(train),
            'BiasedMF (Surprise defaults, shuffle="ratings")': BiasedMF(shuffle="ratings", seed=0).fit(train),
            "BiasedMF (Surprise defaults, n_blocks=4)": BiasedMF(n_blocks=4, seed=0).fit(train),
            "BiasedMF (Surprise defaults, n_blocks=4, unshuffled)": BiasedMF(
                n_blocks=4, shuffle=False, seed=0
            ).fit(train),
            "ItemKNN pearson_baseline k=40": ItemKNN(40).fit(train),
            "UserKNN msd k=40 (baseline)": UserKNN(40, similarity="msd").fit(train),
            "UserKNN msd k=40 (means)": UserKNN(40, mode="means", similarity="msd").fit(train),
        }
        model, params, valid_rmse = tuned_mf(train, grid)
        models["BiasedMF tuned"] = model
        chosen.append({"fold": fold, **params, "valid_rmse": valid_rmse})
        if surprise is not None:
            trainset = surprise_trainset(surprise, pd, train)
            knn_options = {"name": "pearson_baseline", "user_based": False}
            user_msd = {"name": "msd", "user_based": True}
            for name, algo in (
                ("Surprise BaselineOnly", surprise.BaselineOnly(verbose=False)),
                ("Surprise SVD", surprise.SVD(random_state=0)),
                (
                    "Surprise KNNBaseline item pearson_baseline",
                    surprise.KNNBaseline(k=40, sim_options=knn_options, verbose=False),
                ),
                (
                    "Surprise KNNBaseline user msd",
                    surprise.KNNBaseline(k=40, sim_options=user_msd, verbose=False),
                ),
                (
                    "Surprise KNNWithMeans user msd",
                    surprise.KNNWithMeans(k=40, sim_options=user_msd, verbose=False),
                ),
            ):
                models[name] = SurpriseModel(algo.fit(trainset))
        for name, m in models.items():
            result = evaluate(m, test, train=train, protocol="rating")
            rows.setdefault(name, []).append({"fold": fold, "rmse": result["rmse"], "mae": result["mae"]})
        print(f"  fold {fold}: " + ", ".join(f"{n} {r[-1]['rmse']:.4f}" for n, r in rows.items()), flush=True)
    table = {
        name: {
            "rmse": float(np.mean([r["rmse"] for r in per_fold])),
            "mae": float(np.mean([r["mae"] for r in per_fold])),
            "folds": per_fold,
        }
        for name, per_fold in rows.items()
    }
    return table, chosen


def bpr_speed(implicit, repeats: int = 3) -> dict:
    """Seconds of a whole ``BPRMF(64, 100)`` fit on ML-100K's leave-one-out train, and of
    ``implicit``'s BPR: best of ``repeats``, the two alternating, after a warm-up fit of each."""
    train, _ = leave_one_out(movielens("100k"))
    train = train.with_ratings(np.ones(len(train)))

    def tinyrec_fit() -> float:
        start = time.perf_counter()
        BPRMF(64, 100, seed=0).fit(train)
        return time.perf_counter() - start

    def implicit_fit() -> float:
        model = implicit.cpu.bpr.BayesianPersonalizedRanking(factors=64, iterations=100, random_state=0)
        return ImplicitLibraryModel(model, train).fit_seconds

    fits = {"BPRMF 64 factors x 100 epochs, ML-100K": tinyrec_fit}
    if implicit is not None:
        fits["implicit BPR 64 factors x 100 epochs, ML-100K"] = implicit_fit
    for fit in fits.values():
        fit()  # warm-up, not kept: Numba compiles (or loads its cache), memory is touched once
    best = dict.fromkeys(fits, np.inf)
    for _ in range(repeats):
        for name, fit in fits.items():
            best[name] = min(best[name], fit())
    return {name: {"seconds": seconds} for name, seconds in best.items()}


class ImplicitLibraryModel:
    """A model of the ``implicit`` library (fitted on the binary user x item matrix) behind
    tinyrec's ``score_all``."""

    def __init__(self, model, train):
        import scipy.sparse as sp

        indptr, indices = train.positives_csr()  # read-only views: implicit needs writable copies
        matrix = sp.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), indices.copy(), indptr.copy()),
            shape=(train.n_users, train.n_items),
        )
        self.model = model
        start = time.perf_counter()
        self.model.fit(matrix, show_progress=False)
        self.fit_seconds = time.perf_counter() - start

    def score_all(self, users):
        return self.model.user_factors[users] @ self.model.item_factors.T


def ranking_accuracy(implicit):
    data = movielens("100k")
    train, test = leave_one_out(data)
    train = train.with_ratings(np.ones(len(train)))  # implicit feedback: every rating is a positive
    models = {}
    seconds = {}
    for name, build in (
        ("Popularity", lambda: Popularity()),
        ("ItemKNN cosine k=50 (ranking)", lambda: ItemKNN(50, mode="ranking", similarity="cosine")),
        ("BPRMF 64 factors, 100 epochs", lambda: BPRMF(64, 100, seed=0)),
        ("ImplicitALS 64 factors, 15 epochs", lambda: ImplicitALS(64, 15, seed=0)),
    ):
        start = time.perf_counter()
        models[name] = build().fit(train)
        seconds[name] = time.perf_counter() - start
    if implicit is not None:
        for name, model in (
            (
                "implicit BPR 64 factors, 100 epochs",
                implicit.cpu.bpr.BayesianPersonalizedRanking(factors=64, iterations=100, random_state=0),
            ),
            (
                "implicit ALS 64 factors, 15 epochs, same alpha/reg",
                implicit.cpu.als.AlternatingLeastSquares(
                    factors=64, iterations=15, alpha=10.0, regularization=30.0, random_state=0
                ),
            ),
        ):
            models[name] = ImplicitLibraryModel(model, train)
            seconds[name] = models[name].fit_seconds
    table = {}
    for name, model in models.items():
        sampled = evaluate(model, test, train=train, protocol="sampled", k=10, seed=0)
        full = evaluate(model, test, train=train, protocol="full", k=10)
        table[name] = {
            "sampled": {key: sampled[key] for key in ("hr@10", "ndcg@10", "mrr")},
            "full": {key: full[key] for key in ("hr@10", "ndcg@10", "recall@10", "precision@10", "map@10")},
            "fit_seconds": seconds[name],
        }
        print(f"  {name}: sampled HR@10 {sampled['hr@10']:.3f}, full HR@10 {full['hr@10']:.3f}", flush=True)
    seeds = {"hr@10": [], "ndcg@10": []}
    for seed in range(5):
        model = models["BPRMF 64 factors, 100 epochs"] if seed == 0 else BPRMF(64, 100, seed=seed).fit(train)
        sampled = evaluate(model, test, train=train, protocol="sampled", k=10, seed=0)
        for key, values in seeds.items():
            values.append(sampled[key])
    spread = {
        key: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)), "values": v}
        for key, v in seeds.items()
    }
    table["BPRMF 64 factors, 100 epochs"]["sampled_seeds_0_to_4"] = spread
    hr = spread["hr@10"]
    print(f"  BPRMF seeds 0-4: sampled HR@10 {hr['mean']:.3f} ± {hr['std']:.3f}")
    return table


# ---------------------------------------------------------------------------------------- speed
def epoch_seconds(fit, repeats=3):
    """Seconds per epoch of ``fit(n_epochs)``: ``(t(11) − t(1)) / 10``, so set-up is left out; the
    best of ``repeats`` measurements (the machine is shared: the minimum is the least disturbed)."""
    fit(1)  # warm-up (loads the compiled kernels)
    best = np.inf
    for _ in range(repeats):
        times = {}
        for n_epochs in (1, 11):
            start = time.perf_counter()
            fit(n_epochs)
            times[n_epochs] = time.perf_counter() - start
        best = min(best, (times[11] - times[1]) / 10)
    return float(best)


def speed(surprise, pd, implicit, quick):
    out = {}
    sets = {"ML-100K (100,000 ratings)": movielens("100k")}
    if not quick:
        sets["ML-1M-sized synthetic (1,000,209 ratings)"] = synthetic(6040, 3706, 1_000_209, seed=0)
    for name, data in sets.items():
        grouped = data.subset(np.argsort(data.users, kind="stable"))  # by user, as Surprise iterates
        row = {
            "tinyrec_epoch_seconds": epoch_seconds(
                lambda n, data=data: BiasedMF(n_epochs=n, seed=0).fit(data)
            ),
            "tinyrec_ratings_shuffled_epoch_seconds": epoch_seconds(
                lambda n, data=data: BiasedMF(n_epochs=n, shuffle="ratings", seed=0).fit(data)
            ),
            "tinyrec_unshuffled_epoch_seconds": epoch_seconds(
                lambda n, grouped=grouped: BiasedMF(n_epochs=n, shuffle=False, seed=0).fit(grouped)
            ),
            "tinyrec_blocked_epoch_seconds": epoch_seconds(
                lambda n, data=data: BiasedMF(n_epochs=n, n_blocks=4, seed=0).fit(data)
            ),
            "tinyrec_blocked_unshuffled_epoch_seconds": epoch_seconds(
                lambda n, grouped=grouped: BiasedMF(n_epochs=n, n_blocks=4, shuffle=False, seed=0).fit(
                    grouped
                )
            ),
        }
        if surprise is not None:
            trainset = surprise_trainset(surprise, pd, data)
            row["surprise_epoch_seconds"] = epoch_seconds(
                lambda n, trainset=trainset: surprise.SVD(n_epochs=n, random_state=0).fit(trainset)
            )
            row["speedup"] = row["surprise_epoch_seconds"] / row["tinyrec_epoch_seconds"]
            for kind in ("ratings_shuffled", "unshuffled", "blocked", "blocked_unshuffled"):
                row[f"speedup_{kind}"] = row["surprise_epoch_seconds"] / row[f"tinyrec_{kind}_epoch_seconds"]
        out[f"BiasedMF epoch, {name}"] = row
        print(f"  {name}: {row}", flush=True)
    train, _ = movielens("100k", fold="u1")
    ItemKNN(40).fit(train)  # warm-up
    start = time.perf_counter()
    ItemKNN(40).fit(train)
    out["ItemKNN pearson_baseline fit, ML-100K u1 (1,682 items)"] = {"seconds": time.perf_counter() - start}
    return out


# ---------------------------------------------------------------------------------------- summary
# rating rows: name in the JSON -> Surprise's counterpart measured beside it (None: no counterpart)
RATING_REFERENCES = {
    "BaselineOnly": "Surprise BaselineOnly",
    "BiasedMF (Surprise defaults)": "Surprise SVD",
    "BiasedMF (Surprise defaults, unshuffled)": "Surprise SVD",
    'BiasedMF (Surprise defaults, shuffle="ratings")': "Surprise SVD",
    "BiasedMF (Surprise defaults, n_blocks=4)": None,
    "BiasedMF (Surprise defaults, n_blocks=4, unshuffled)": None,
    "ItemKNN pearson_baseline k=40": "Surprise KNNBaseline item pearson_baseline",
    "UserKNN msd k=40 (baseline)": "Surprise KNNBaseline user msd",
    "UserKNN msd k=40 (means)": "Surprise KNNWithMeans user msd",
    "BiasedMF tuned": None,
}
RANKING_REFERENCES = {
    "Popularity": None,
    "ItemKNN cosine k=50 (ranking)": None,
    "BPRMF 64 factors, 100 epochs": "implicit BPR 64 factors, 100 epochs",
    "ImplicitALS 64 factors, 15 epochs": "implicit ALS 64 factors, 15 epochs, same alpha/reg",
}
RANKING_METRICS = {
    ("sampled", "hr@10"): "HR@10, sampled",
    ("sampled", "ndcg@10"): "NDCG@10, sampled",
    ("sampled", "mrr"): "MRR, sampled",
    ("full", "hr@10"): "HR@10, full ranking",
    ("full", "ndcg@10"): "NDCG@10, full ranking",
}
SPEED_SETS = {
    "ML-100K (100,000 ratings)": "ML-100K",
    "ML-1M-sized synthetic (1,000,209 ratings)": "ML-1M-sized",
}
SPEED_CASES = {
    "tinyrec_epoch_seconds": "shuffled, 1 thread",
    "tinyrec_ratings_shuffled_epoch_seconds": 'every rating shuffled (shuffle="ratings"), 1 thread',
    "tinyrec_unshuffled_epoch_seconds": "in Surprise's order (grouped by user), 1 thread",
    "tinyrec_blocked_epoch_seconds": "n_blocks=4 (blocked SGD, all cores), shuffled",
    "tinyrec_blocked_unshuffled_epoch_seconds": "n_blocks=4 (blocked SGD, all cores), Surprise's order",
}


def summary_rows(run: Run, folds, rating: dict, chosen: list, ranking: dict, speeds: dict) -> None:
    """The rows of RESULTS.md: RMSE / MAE beside Surprise, ranking beside implicit, epoch times."""
    caption = (
        f"Rating prediction, ML-100K, mean over folds {', '.join(folds)}; reference: Surprise on the "
        "same folds, in the same run"
    )
    for name, ref in RATING_REFERENCES.items():
        note = None
        if name == "BiasedMF tuned":
            note = "chosen per fold: " + "; ".join(
                f"{c['fold']} {c['n_factors']} factors, {c['n_epochs']} epochs, lr {c['lr_all']}, "
                f"reg {c['reg_all']}"
                for c in chosen
            )
        for metric in ("rmse", "mae"):
            run.accuracy(
                name, metric.upper(), rating[name][metric], reference=ref,
                reference_value=rating.get(ref, {}).get(metric), better="lower", table=caption,
                note=note if metric == "rmse" else None,
            )  # fmt: skip
    caption = (
        "Top-N ranking, ML-100K leave-one-out (latest), every rating a positive; sampled: 99 negatives, "
        "pessimistic ties; full ranking: every unseen item; reference: implicit, in the same run"
    )
    for name, ref in RANKING_REFERENCES.items():
        for (protocol, key), metric in RANKING_METRICS.items():
            theirs = ranking.get(ref, {}).get(protocol, {}).get(key)
            run.accuracy(
                name, metric, ranking[name][protocol][key], reference=ref, reference_value=theirs,
                table=caption,
            )  # fmt: skip
    bpr = ranking["BPRMF 64 factors, 100 epochs"]["sampled_seeds_0_to_4"]
    for key, metric in (("hr@10", "HR@10, sampled"), ("ndcg@10", "NDCG@10, sampled")):
        spread = bpr[key]
        run.accuracy(
            "BPRMF 64 factors, 100 epochs, seeds 0-4", metric, spread["mean"], std=spread["std"],
            seeds=len(spread["values"]), table=caption,
        )  # fmt: skip
    caption = (
        "Training speed: BiasedMF (100 factors) ms per epoch, (t(11 epochs) - t(1)) / 10, best of 3; "
        "BPRMF whole fits, best of 3; reference: Surprise's SVD, implicit's BPR, in the same run"
    )
    for name, short in SPEED_SETS.items():
        row = speeds.get(f"BiasedMF epoch, {name}")
        if row is None:  # --quick leaves the ML-1M-sized set out
            continue
        for key, how in SPEED_CASES.items():
            surprise_s = row.get("surprise_epoch_seconds")
            run.speed(
                f"BiasedMF epoch, {short}, {how}", 1e3 * row[key], "ms", reference="Surprise SVD",
                reference_value=None if surprise_s is None else 1e3 * surprise_s, table=caption,
            )  # fmt: skip
    ours, theirs = "BPRMF 64 factors x 100 epochs, ML-100K", "implicit BPR 64 factors x 100 epochs, ML-100K"
    run.speed(
        f"{ours}, whole fit", speeds[ours]["seconds"], "s", reference="implicit BPR",
        reference_value=speeds.get(theirs, {}).get("seconds"), table=caption,
    )  # fmt: skip
    name = "ItemKNN pearson_baseline fit, ML-100K u1 (1,682 items)"
    run.speed(name, speeds[name]["seconds"], "s", table=caption)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fold u1 only, 2-point grid, no ML-1M-sized set")
    parser.add_argument("--no-reference", action="store_true", help="skip Surprise and implicit")
    parser.add_argument("--out", type=Path, default=None, help="JSON output path")
    args = parser.parse_args(argv)
    run = Run("bench_classic", argv, quick=args.quick)
    surprise = None if args.no_reference else optional("surprise")
    pd = optional("pandas") if surprise is not None else None
    if pd is None:
        surprise = None
    implicit = None if args.no_reference else optional("implicit")
    if implicit is not None:
        import implicit.cpu.als  # noqa: F401  (submodules the package does not import)
        import implicit.cpu.bpr  # noqa: F401
    folds = ("u1",) if args.quick else FOLDS
    grid = QUICK_GRID if args.quick else GRID

    print("Rating prediction, ML-100K folds " + ", ".join(folds))
    rating, chosen = rating_accuracy(folds, grid, surprise, pd)
    print("Ranking, ML-100K leave-one-out (latest)")
    ranking = ranking_accuracy(implicit)
    print("Speed")
    speeds = speed(surprise, pd, implicit, args.quick)
    speeds.update(bpr_speed(implicit))

    print(f"\nRMSE / MAE, mean over {len(folds)} fold(s)")
    print(f"{'model':48s} {'RMSE':>7s} {'MAE':>7s}")
    for name, row in rating.items():
        print(f"{name:48s} {row['rmse']:7.4f} {row['mae']:7.4f}")
    print(
        "tuned BiasedMF, chosen per fold: "
        + "; ".join(
            f"{c['fold']}: f={c['n_factors']} e={c['n_epochs']} lr={c['lr_all']} reg={c['reg_all']}"
            for c in chosen
        )
    )
    print("\nRanking (sampled: 99 negatives, pessimistic ties; full: all unseen items)")
    head = f"{'model':40s} {'HR@10':>6s} {'NDCG@10':>8s} {'MRR':>6s} | {'full HR@10':>10s} {'NDCG@10':>8s}"
    print(head + f" {'fit s':>6s}")
    for name, row in ranking.items():
        s, f = row["sampled"], row["full"]
        print(
            f"{name:40s} {s['hr@10']:6.3f} {s['ndcg@10']:8.3f} {s['mrr']:6.3f} | "
            f"{f['hr@10']:10.3f} {f['ndcg@10']:8.3f} {row['fit_seconds']:6.2f}"
        )
    print("\nSpeed (seconds)")
    for name, row in speeds.items():
        print(f"{name:60s} " + ", ".join(f"{k}={v:.4g}" for k, v in row.items()))

    results = {
        "folds": list(folds),
        "grid": grid,
        "rating": rating,
        "tuned_choice": chosen,
        "ranking": ranking,
        "speed": speeds,
    }
    summary_rows(run, folds, rating, chosen, ranking, speeds)
    run.write(results, args.out)


if __name__ == "__main__":
    main()
