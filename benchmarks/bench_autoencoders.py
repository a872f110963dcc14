"""Autoencoder recommenders on MovieLens-100K: AutoRec (rating) and Mult-DAE (ranking).

Rating prediction — RMSE / MAE on the five predefined folds ``u1``..``u5`` (80/20 each; the test
ratings of items absent from a fold's train are kept and predicted ``μ``), mean over folds:
``AutoRec()`` (I-AutoRec with its defaults: 500 sigmoid units, 40 epochs, batch 256, Adam lr 2e-3,
λ = 1e-3 on the weights; chosen on a validation split carved from u1's *train*, never on a test
fold) and ``AutoRec(item_based=False)`` (U-AutoRec, same settings), each trained ``n_epochs``
without early stopping (the last epoch is scored), seed 0.

Top-N ranking — the whole ML-100K with every rating as an interaction, split by
``random_holdout(0.2, by="user", seed=0)`` (each user keeps at least one training item; the
held-out 20% are the relevant items); the full-ranking protocol (every item the user has not
interacted with in train is a candidate; pessimistic ties) gives ``recall@20`` (hits / all of
the user's relevant items — tinyrec's definition, not Liang et al.'s ``min(k, n_rel)``
denominator) and ``ndcg@100``, for ``Popularity()``, ``ItemKNN(50, mode="ranking",
similarity="cosine")`` and ``MultDAE()`` (defaults: 200 tanh units, dropout 0.5, batch 100, Adam
1e-3, 60 epochs, λ = 1e-4; mean ± std over seeds 0, 1, 2). This is weak generalisation (the users
scored are the users trained on), not the paper's held-out-users protocol.

Speed: the mean training epoch time of each model (validation excluded), float32. When torch is
importable, the same I-AutoRec (same sizes, initial weights, batch order, masked mean loss, Adam with
λ on the weights only) is trained in torch on fold u1 for the same 40 epochs, in the same run:
its epoch time and test RMSE sit beside tinyrec's (torch with its default threads and with one
thread; tinyrec with NumPy's BLAS defaults).

Run: ``TINYREC_DATA=/path/to/data python benchmarks/bench_autoencoders.py`` (a few minutes on 2
cores); ``--quick`` runs fold u1 and one seed. Prints the tables and writes
``benchmarks/results/bench_autoencoders.json`` (``bench_autoencoders_quick.json``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from record import Run  # noqa: E402  (benchmarks/record.py)

from tinyrec.data import movielens, random_holdout  # noqa: E402
from tinyrec.evaluation import evaluate  # noqa: E402
from tinyrec.models import ItemKNN, Popularity  # noqa: E402
from tinyrec.models.autorec import AutoRec, AutoRecNet  # noqa: E402
from tinyrec.models.multdae import MultDAE  # noqa: E402

FOLDS = ("u1", "u2", "u3", "u4", "u5")
SEEDS = (0, 1, 2)


def sample_std(values) -> float:
    """The standard deviation over seeds with n − 1 in the denominator, as every script reports it
    (0 for one seed)."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def rating_accuracy(folds) -> dict:
    """AutoRec (item- and user-based) RMSE / MAE per fold and their mean over folds."""
    builders = {"I-AutoRec": lambda: AutoRec(seed=0), "U-AutoRec": lambda: AutoRec(item_based=False, seed=0)}
    rows = {name: [] for name in builders}
    for fold in folds:
        train, test = movielens("100k", fold=fold)
        for name, build in builders.items():
            start = time.perf_counter()
            model = build().fit(train)
            seconds = time.perf_counter() - start
            result = evaluate(model, test, train=train, protocol="rating")
            rows[name].append({
                "fold": fold, "rmse": result["rmse"], "mae": result["mae"], "fit_seconds": seconds,
                "epoch_seconds": float(np.mean(model.history_["epoch_seconds"])),
            })  # fmt: skip
        print(f"  fold {fold}: " + ", ".join(f"{n} {r[-1]['rmse']:.4f}" for n, r in rows.items()), flush=True)
    return {
        name: {
            "rmse": float(np.mean([r["rmse"] for r in per_fold])),
            "mae": float(np.mean([r["mae"] for r in per_fold])),
            "epoch_seconds": float(np.mean([r["epoch_seconds"] for r in per_fold])),
            "folds": per_fold,
        }
        for name, per_fold in rows.items()
    }


def torch_autorec(fold: str = "u1", threads: int | None = None) -> dict | None:
    """I-AutoRec in torch with tinyrec's defaults on one fold: seconds per epoch and test RMSE.

    ``threads``: torch's intra-op threads for this run (None: torch's default).
    """
    try:
        import torch
    except ImportError:
        return None
    default_threads = torch.get_num_threads()
    torch.set_num_threads(threads or default_threads)
    try:
        return _torch_autorec(torch, fold)
    finally:
        torch.set_num_threads(default_threads)


def _torch_autorec(torch, fold: str) -> dict:
    from tinyrec.models.autoencoder_training import RowBatches, dense_rows

    train, test = movielens("100k", fold=fold)
    ours = AutoRec(seed=0)  # the hyperparameters
    rng = np.random.default_rng(0)  # drawn in AutoRec's order: initial weights, then the batch orders
    net = AutoRecNet(train.n_users, ours.hidden, seed=rng)
    enc, dec = torch.nn.Linear(train.n_users, ours.hidden), torch.nn.Linear(ours.hidden, train.n_users)
    with torch.no_grad():
        for layer, src in ((enc, net.encoder), (dec, net.decoder)):
            layer.weight.copy_(torch.from_numpy(src.weight.data))
            layer.bias.copy_(torch.from_numpy(src.bias.data))
    optimizer = torch.optim.Adam(
        [{"params": [enc.weight, dec.weight], "weight_decay": ours.weight_decay},
         {"params": [enc.bias, dec.bias]}], lr=ours.lr,
    )  # fmt: skip
    csr = train.to_csr(by="item")
    rows = np.flatnonzero(train.item_counts())
    batches = RowBatches(*csr, train.n_users, rows, ours.batch_size, target_fill=np.nan, seed=rng)
    seconds = []
    for _ in range(ours.n_epochs):
        start = time.perf_counter()
        for (x,), target in batches.epoch():
            observed = ~np.isnan(target)
            xt, mask = torch.from_numpy(x), torch.from_numpy(observed.astype(np.float32))
            optimizer.zero_grad()
            y = dec(torch.sigmoid(enc(xt)))
            loss = (((y - xt) * mask) ** 2).sum() / mask.sum()  # x equals the target where observed
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    with torch.no_grad():
        x = torch.from_numpy(dense_rows(*csr, np.arange(train.n_items), train.n_users))
        recon = dec(torch.sigmoid(enc(x))).numpy().astype(np.float64)  # (n_items, n_users)
    known = (train.user_counts()[test.users] > 0) & (train.item_counts()[test.items] > 0)
    mu = float(np.mean(train.ratings, dtype=np.float64))
    pred = np.where(known, recon[test.items, test.users], mu)
    pred = np.clip(pred, train.ratings.min(), train.ratings.max())
    rmse = float(np.sqrt(np.mean((pred - test.ratings) ** 2)))
    return {"fold": fold, "rmse": rmse, "epoch_seconds": float(np.mean(seconds)),
            "torch": torch.__version__, "threads": torch.get_num_threads()}  # fmt: skip


def ranking_accuracy(seeds) -> dict:
    """recall@20 and ndcg@100 of Popularity, ItemKNN and MultDAE on one per-user 80/20 split."""
    data = movielens("100k")
    data = data.with_ratings(np.ones(len(data), dtype=np.float32))
    train, test = random_holdout(data, 0.2, by="user", seed=0)

    def scores(model) -> dict:
        r20 = evaluate(model, test, train=train, protocol="full", k=20)
        r100 = evaluate(model, test, train=train, protocol="full", k=100)
        return {"recall@20": r20["recall@20"], "ndcg@100": r100["ndcg@100"], "n_users": r20["n_users"]}

    out = {}
    for name, model in (
        ("Popularity", Popularity()),
        ("ItemKNN cosine k=50", ItemKNN(50, mode="ranking", similarity="cosine")),
    ):
        start = time.perf_counter()
        model.fit(train)
        out[name] = {**scores(model), "fit_seconds": time.perf_counter() - start}
        print(f"  {name}: {out[name]}", flush=True)
    runs = []
    for seed in seeds:
        model = MultDAE(seed=seed).fit(train)
        runs.append({**scores(model), "seed": seed,
                     "epoch_seconds": float(np.mean(model.history_["epoch_seconds"]))})  # fmt: skip
        print(f"  MultDAE seed {seed}: {runs[-1]}", flush=True)
    out["MultDAE"] = {
        "recall@20": float(np.mean([r["recall@20"] for r in runs])),
        "recall@20_std": sample_std([r["recall@20"] for r in runs]),
        "ndcg@100": float(np.mean([r["ndcg@100"] for r in runs])),
        "ndcg@100_std": sample_std([r["ndcg@100"] for r in runs]),
        "epoch_seconds": float(np.mean([r["epoch_seconds"] for r in runs])),
        "runs": runs,
    }
    split = {"n_train": len(train), "n_test": len(test), "n_users": data.n_users, "n_items": data.n_items}
    return {"split": split, "models": out}


def summary_rows(run: Run, folds, rating: dict, reference: list, ranking: dict) -> None:
    """The rows of RESULTS.md: AutoRec's RMSE, beside torch on u1; the top-N figures; epoch times."""
    caption = f"Rating prediction, ML-100K, mean over folds {', '.join(folds)}, seed 0, last epoch"
    for name, r in rating.items():
        for metric in ("rmse", "mae"):
            run.accuracy(name, metric.upper(), r[metric], better="lower", table=caption)
    ours = rating["I-AutoRec"]["folds"][0]
    caption = (
        "I-AutoRec on fold u1, 40 epochs; reference: the same network, initial weights, batches and "
        "Adam in torch, in the same run"
    )
    default = reference[0] if reference else {}

    def torch_name(r: dict) -> str:
        return f"torch, {r.get('threads')} thread{'' if r.get('threads') == 1 else 's'}"

    run.accuracy(
        "I-AutoRec, fold u1", "RMSE", ours["rmse"], reference=torch_name(default),
        reference_value=default.get("rmse"), better="lower", table=caption,
    )  # fmt: skip
    caption += "; seconds per training epoch"
    for r, threads in zip(reference, ("its default threads", "1 thread"), strict=False):  # as run in main
        run.speed(
            f"I-AutoRec epoch, fold u1, against torch on {threads}", ours["epoch_seconds"], "s",
            reference=torch_name(r), reference_value=r["epoch_seconds"], table=caption,
        )  # fmt: skip
    split = ranking["split"]
    caption = (
        f"Top-N, ML-100K, per-user 80/20 holdout (seed 0, {split['n_test']:,} held out), full ranking, "
        "pessimistic ties; recall@20: hits / all of the user's held-out items"
    )
    for name, r in ranking["models"].items():
        runs = r.get("runs")
        for metric in ("recall@20", "ndcg@100"):
            run.accuracy(
                name, metric, r[metric], std=r.get(f"{metric}_std") if runs and len(runs) > 1 else None,
                seeds=len(runs) if runs else None, table=caption,
            )  # fmt: skip
    caption = "Seconds per training epoch, float32 (validation excluded)"
    u_autorec, multdae = rating["U-AutoRec"]["epoch_seconds"], ranking["models"]["MultDAE"]["epoch_seconds"]
    run.speed(f"U-AutoRec epoch, mean over folds {', '.join(folds)}", u_autorec, "s", table=caption)
    run.speed("MultDAE epoch, the 80/20 holdout", multdae, "s", table=caption)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fold u1 only and one MultDAE seed")
    args = parser.parse_args(argv)
    run = Run("bench_autoencoders", argv, quick=args.quick)
    folds = ("u1",) if args.quick else FOLDS
    seeds = SEEDS[:1] if args.quick else SEEDS
    print("Rating prediction, ML-100K folds " + ", ".join(folds))
    rating = rating_accuracy(folds)
    print(f"\n{'model':<12} {'RMSE':>7} {'MAE':>7} {'s/epoch':>8}")
    for name, r in rating.items():
        print(f"{name:<12} {r['rmse']:7.4f} {r['mae']:7.4f} {r['epoch_seconds']:8.3f}")
    reference = [r for r in (torch_autorec("u1"), torch_autorec("u1", threads=1)) if r is not None]
    ours = rating["I-AutoRec"]["folds"][0]
    print(f"\nI-AutoRec, u1, 40 epochs: tinyrec RMSE {ours['rmse']:.4f}, {ours['epoch_seconds']:.3f} s/epoch")
    for r in reference:
        print(
            f"  the same in torch {r['torch']} ({r['threads']} threads): RMSE {r['rmse']:.4f}, "
            f"{r['epoch_seconds']:.3f} s/epoch"
        )
    print("\nTop-N, ML-100K, per-user 80/20 holdout (seed 0), full ranking")
    ranking = ranking_accuracy(seeds)
    print(f"\n{'model':<20} {'recall@20':>10} {'ndcg@100':>9}")
    for name, r in ranking["models"].items():
        spread = f" ± {r['recall@20_std']:.4f} / ± {r['ndcg@100_std']:.4f}" if "recall@20_std" in r else ""
        print(f"{name:<20} {r['recall@20']:10.4f} {r['ndcg@100']:9.4f}{spread}")
    results = {
        "rating": rating,
        "torch_autorec": reference,
        "ranking": ranking,
    }
    summary_rows(run, folds, rating, reference, ranking)
    run.write(results)


if __name__ == "__main__":
    main()
