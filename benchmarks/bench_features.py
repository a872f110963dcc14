"""Models of features on ML-100K: cold users, cold items, warm leave-one-out, ratings, and FM's speed.

Each measured in this run:

* **cold users**: 20% of the users held out with all their ratings (every rating a positive, up
  to 10 per user), each positive ranked among 99 items the user never rated; HR@10 averaged over
  each user's positives, then over users (``evaluate``; every ML-100K user has at least 20
  ratings, so each held-out user has 10 positives and this is also the mean over positives); 3
  splits (seeds 0, 1, 2): Popularity, GroupPopularity (occupation), FM and FeatureMLP (users read
  by their features, items by their ids);
* **cold items**: 20% of the items held out, the same protocol;
* **warm leave-one-out**: each user's latest rating held out, among 99 never-rated items: FM (ids,
  BPR) against BPRMF;
* **ratings**: mean RMSE over u1–u5 of FM with user and item features and of the same FM on ids;
* **speed**: one FM epoch with all features (MSE, batch 256, lazy Adam) against a torch FM twin
  (the same formula, ``F.embedding(sparse=True)`` and SparseAdam, the same batches), 1 thread.

``--only validate`` prints, instead, the cold-user models' HR@10 on the validation splits their
settings were chosen on (below), and writes no results file.

Run under ``nice -n 19`` on a shared machine: ``python benchmarks/bench_features.py`` (about five
minutes; ``--quick``: one split, few epochs, checks the script runs).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import Run  # noqa: E402

from tinyrec.data import cold_items, cold_users, leave_one_out, movielens  # noqa: E402
from tinyrec.evaluation import evaluate  # noqa: E402
from tinyrec.models import BPRMF, FM, FeatureMLP, GroupPopularity, Popularity  # noqa: E402
from tinyrec.threads import set_threads  # noqa: E402

#: the configurations measured (chosen on validation splits carved from the training data: a cold
#: split of the cold split's train, or 1/8 of u1.base); zip codes (795 values for 943 users) only
#: added noise to the cold-user models there. Cold users: for split seed s, the validation splits
#: are cold_users(train, 0.2, max_per_user=10, seed=100 + s) and seed=200 + s of that split's
#: train, s = 0, 1, 2 (``--only validate`` prints each model's HR@10 there). Both cold-user models
#: draw their epochs with user_balance (user u then carries n_u^(1 - α) of an epoch instead of n_u):
#: the evaluation weighs every held-out user alike, while a plain epoch is mostly the heaviest
#: users' ratings. FM: the softmax over the items with a training interaction, decoupled weight
#: decay 0.1, the item ids alone, α = 0.75, 5 epochs. FeatureMLP: the sampled softmax with 16
#: negatives, L2 1e-3, α = 1, 4 epochs at lr 0.003. Each was the best mean of the two validation
#: splits in a grid over α (0, 0.25, 0.5, 0.75, 1), epochs, weight decay, and for FeatureMLP the
#: negatives and lr; the test splits were run once, after the choice.
USER_COLUMNS = ("age:bucket", "gender", "occupation")
COLD_USER_MODELS = {
    "Popularity": lambda seed: Popularity(),
    "GroupPopularity": lambda seed: GroupPopularity(("occupation",), shrinkage=20.0),
    "FM": lambda seed: FM(
        16,
        5,
        loss="softmax",
        lr=0.002,
        optimizer="adamw",
        weight_decay=0.1,
        user_balance=0.75,
        use_ids="item",
        user_features=USER_COLUMNS,
        item_features="none",
        seed=seed,
    ),
    "FeatureMLP": lambda seed: FeatureMLP(
        16,
        (64, 32),
        4,
        n_negatives=16,
        loss="sampled_softmax",
        lr=0.003,
        weight_decay=1e-3,
        user_balance=1.0,
        use_ids="item",
        user_features=USER_COLUMNS,
        seed=seed,
    ),
}
COLD_ITEM_MODELS = {
    "Popularity": lambda seed: Popularity(),
    "FM": lambda seed: FM(16, 5, loss="bpr", lr=0.002, use_ids="user", seed=seed),
    "FeatureMLP": lambda seed: FeatureMLP(16, (64, 32), 3, use_ids="user", seed=seed),
}
RATING_FM = dict(n_factors=32, n_epochs=7, lr=0.002, optimizer="adamw", weight_decay=0.3, implicit=True)


def hit_rate(model, test, known) -> float:
    return float(evaluate(model, test, train=known, protocol="sampled", k=10, seed=0)["hr@10"])


def cold(run, data, split, models, seeds, quick) -> dict:
    """HR@10 of every model on ``seeds`` cold splits; summary rows: mean ± std over the splits."""
    results = {name: [] for name in models}
    for seed in seeds:
        train, test = split(data, 0.2, max_per_user=10, seed=seed)
        known = test.info["known"]
        for name, make in models.items():
            model = make(seed)
            if quick and hasattr(model, "n_epochs"):
                model.n_epochs = 1
            results[name].append(hit_rate(model.fit(train), test, known))
            print(f"  {split.__name__} seed {seed}: {name:<16} HR@10 {results[name][-1]:.4f}", flush=True)
    table = f"ML-100K {split.__name__}(0.2, max_per_user=10): HR@10 over positives, 99 never-rated negatives"
    popularity = results["Popularity"]
    for name, values in results.items():
        if name == "Popularity":
            continue
        run.accuracy(name, f"{split.__name__} HR@10", statistics.mean(values), std=_std(values),
                     seeds=len(values), reference="Popularity", reference_value=statistics.mean(popularity),
                     reference_std=_std(popularity), table=table)  # fmt: skip
    return results


def validate(data, seeds, quick) -> None:
    """Print the cold-user models' HR@10 on the validation splits of each test split's train."""
    for inner in (100, 200):
        results = {name: [] for name in COLD_USER_MODELS}
        for seed in seeds:
            train, _ = cold_users(data, 0.2, max_per_user=10, seed=seed)
            vtrain, vtest = cold_users(train, 0.2, max_per_user=10, seed=inner + seed)
            for name, make in COLD_USER_MODELS.items():
                model = make(seed)
                if quick and hasattr(model, "n_epochs"):
                    model.n_epochs = 1
                results[name].append(hit_rate(model.fit(vtrain), vtest, vtest.info["known"]))
        for name, values in results.items():
            print(f"  validation (seed {inner} + s): {name:<16} HR@10 {statistics.mean(values):.4f} "
                  f"{[round(v, 4) for v in values]}", flush=True)  # fmt: skip


def _std(values):
    return statistics.stdev(values) if len(values) > 1 else None


def warm(run, data, quick) -> dict:
    train, test = leave_one_out(data, seed=0)
    epochs = 1 if quick else None
    fm = FM(64, epochs or 13, loss="bpr", lr=0.005, user_features="none", item_features="none", seed=0)
    bpr = BPRMF(seed=0) if not quick else BPRMF(n_epochs=1, seed=0)
    out = {"FM (ids, BPR)": hit_rate(fm.fit(train), test, train)}
    out["BPRMF"] = hit_rate(bpr.fit(train), test, train)
    print(f"  leave-one-out: {out}", flush=True)
    run.accuracy("FM (ids, BPR)", "loo HR@10", out["FM (ids, BPR)"], reference="BPRMF",
                 reference_value=out["BPRMF"],
                 table="ML-100K leave-one-out (latest): HR@10 among 99 never-rated items")  # fmt: skip
    return out


def ratings(run, folds, quick) -> dict:
    out = {}
    for features in ("all", "none"):
        kwargs = dict(RATING_FM, n_epochs=1) if quick else RATING_FM
        rmses = []
        for fold in folds:
            train, test = movielens("100k", fold=fold)
            columns = (USER_COLUMNS, "all") if features == "all" else ("none", "none")
            model = FM(**kwargs, user_features=columns[0], item_features=columns[1], seed=0).fit(train)
            rmses.append(float(evaluate(model, test, train=train, protocol="rating")["rmse"]))
        out[features] = rmses
        print(f"  ratings, features={features}: mean RMSE {np.mean(rmses):.4f} {np.round(rmses, 4).tolist()}")
    run.accuracy("FM (ids + user and item features)", "u1-u5 RMSE", statistics.mean(out["all"]),
                 reference="the same FM on ids alone", reference_value=statistics.mean(out["none"]),
                 better="lower", table="ML-100K u1–u5 folds: mean RMSE")  # fmt: skip
    return out


# ---------------------------------------------------------------------- speed
def torch_epoch(torch, net_state, batches) -> float:
    """Seconds of one epoch of the torch FM twin over ``batches`` (numpy CSR batches and targets)."""
    params = {name: torch.nn.Parameter(torch.tensor(a.copy())) for name, a in net_state.items()}
    dense = torch.optim.Adam([params["bias"]], lr=1e-3)
    sparse = torch.optim.SparseAdam([params["weight"], params["factors"]], lr=1e-3)
    embed = torch.nn.functional.embedding
    start = time.perf_counter()
    for (indices, offsets, values), target in batches.epoch():
        idx, x = torch.from_numpy(indices), torch.from_numpy(values)
        n = len(offsets) - 1
        row = torch.repeat_interleave(torch.arange(n), torch.from_numpy(np.diff(offsets)))
        xv = embed(idx, params["factors"], sparse=True) * x[:, None]
        s = torch.zeros(n, xv.shape[1]).index_add(0, row, xv)
        squares = torch.zeros(n).index_add(0, row, (xv * xv).sum(1))
        linear = torch.zeros(n).index_add(0, row, embed(idx, params["weight"], sparse=True)[:, 0] * x)
        score = params["bias"][0] + linear + 0.5 * ((s * s).sum(1) - squares)
        loss = torch.nn.functional.mse_loss(score, torch.from_numpy(target))
        dense.zero_grad()
        sparse.zero_grad()
        loss.backward()
        dense.step()
        sparse.step()
    return time.perf_counter() - start


def speed(run, repeats, quick) -> dict:
    train, _ = movielens("100k", fold="u1")
    try:
        import torch
    except ImportError:
        torch = None
    set_threads(1)
    tinyrec_seconds, torch_seconds = [], []
    for r in range(repeats):
        model = FM(16, 1, seed=r).fit(train)  # all features, MSE, batch 256, lazy Adam
        tinyrec_seconds.append(model.history_["epoch_seconds"][0])
        if torch is not None:
            torch.set_num_threads(1)
            torch.set_default_dtype(torch.float32)
            batches = model._training_pairs(train, "mse", 1, 256, np.random.default_rng(r))
            torch_seconds.append(torch_epoch(torch, model.net.state_dict(), batches))
    ratios = [t / s for s, t in zip(tinyrec_seconds, torch_seconds, strict=False)]
    out = {"tinyrec": tinyrec_seconds, "torch": torch_seconds, "slots": int(model.n_slots_),
           "fields": int(model.n_fields_)}  # fmt: skip
    print(f"  FM epoch (u1.base, {out['fields']} fields, {out['slots']:,} slots): tinyrec "
          f"{np.round(tinyrec_seconds, 2).tolist()} s, torch "
          f"{np.round(torch_seconds, 2).tolist()} s")  # fmt: skip
    run.speed("FM epoch, ML-100K u1.base, all features, 1 thread", statistics.median(tinyrec_seconds), "s",
              reference="torch FM twin (SparseAdam), same batches",
              reference_value=statistics.median(torch_seconds) if torch_seconds else None,
              ratio=statistics.median(ratios) if ratios else None,
              table="one training epoch (MSE, batch 256, lazy Adam), median of repeats")  # fmt: skip
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3, help="cold splits per protocol")
    ap.add_argument("--repeats", type=int, default=3, help="timed epochs of each FM")
    parts = ["cold-users", "cold-items", "loo", "ratings", "speed", "validate"]
    ap.add_argument("--only", choices=parts, default=None, help="one part (validate: the chosen settings)")
    ap.add_argument("--quick", action="store_true", help="one split, one fold, one epoch (checks the script)")
    ap.add_argument("--out", default=None, help="JSON output path (default: benchmarks/results/)")
    args = ap.parse_args(argv)
    run = Run("bench_features", argv, quick=args.quick)
    seeds = [0] if args.quick else list(range(args.seeds))
    data = movielens("100k")
    implicit = data.with_ratings(np.ones(len(data)))

    def wanted(part: str) -> bool:
        return args.only in (None, part)

    if args.only == "validate":  # the figures the settings were chosen on; no results file
        validate(implicit, seeds, args.quick)
        return {}
    details = {}
    if wanted("cold-users"):
        details["cold_users"] = cold(run, implicit, cold_users, COLD_USER_MODELS, seeds, args.quick)
    if wanted("cold-items"):
        details["cold_items"] = cold(run, implicit, cold_items, COLD_ITEM_MODELS, seeds, args.quick)
    if wanted("loo"):
        details["loo"] = warm(run, implicit, args.quick)
    if wanted("ratings"):
        folds = ["u1"] if args.quick else ["u1", "u2", "u3", "u4", "u5"]
        details["ratings"] = ratings(run, folds, args.quick)
    if wanted("speed"):
        details["speed"] = speed(run, 1 if args.quick else args.repeats, args.quick)
    run.write(details, args.out)
    return details


if __name__ == "__main__":
    main()
