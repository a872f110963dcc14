"""How much a leak in the training negatives lifts BPR-MF's sampled HR@10 (a check on published figures).

Some NCF-style training code draws a user's training negatives among the items the user has not
interacted with *anywhere*, the held-out test item included. The model then never sees the test
item as a negative, which it should (it is not in train), and the sampled protocol rewards that:
the held-out item ranks higher among its 99 random negatives. This script trains BPR-MF twice on
MovieLens 100K's leave-one-out split, with the same loop, seeds and hyperparameters as
``BPRMF(64, 100)``:

* **clean**: negatives drawn among the items not in the user's *train* interactions (what
  :class:`tinyrec.models.BPRMF` does); the script checks that its loop reproduces ``BPRMF``'s
  factors bit for bit, so the two rows differ only in the sampler;
* **leak**: the same, with the test items excluded from the negatives too
  (``NegativeSampler(train, exclude=test)``), the leak described above.

The difference is a measure of how far a figure measured with that leak sits above a clean one;
issue 5's reference "torch BPR-MF 0.618 / 0.340" lies between the two rows below.

Run: ``TINYREC_DATA=/path/to/data python benchmarks/bench_bpr_leak.py`` (about 15 s on 2 cores).
Prints a table and writes ``benchmarks/results/bench_bpr_leak.json``.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinyrec import evaluate  # noqa: E402
from tinyrec.data import leave_one_out, movielens  # noqa: E402
from tinyrec.data.sampling import NegativeSampler  # noqa: E402
from tinyrec.kernels.mf import bpr_epoch  # noqa: E402
from tinyrec.models import BPRMF  # noqa: E402

SEEDS = range(5)


def train_bpr(train, seed: int, exclude=None) -> BPRMF:
    """``BPRMF(64, 100, seed=seed)``'s training loop, with ``exclude`` added to the sampler."""
    model = BPRMF(64, 100, seed=seed)
    model.fit(train)  # the id maps and seen sets; the factors are trained again below
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(model.n_users_, dtype=np.int64), np.diff(model.seen_indptr_))
    positives = model.seen_indices_.astype(np.int64)
    sampler = NegativeSampler(train, exclude=exclude, seed=rng)
    # the same draws, in the same order, as BPRMF._fit: P, Q, then per epoch negatives and a shuffle
    model.P_ = rng.normal(0.0, model.init_std, model.P_.shape).astype(model.dtype)
    model.Q_ = rng.normal(0.0, model.init_std, model.Q_.shape).astype(model.dtype)
    model.bi_ = np.zeros_like(model.bi_)
    lr = np.full(3, model.lr)
    reg = np.array([model.reg, model.reg, model.reg_bias])
    for _ in range(model.n_epochs):
        negatives = sampler.sample(users, 1)[:, 0].astype(np.int64)
        order = rng.permutation(len(users))
        bpr_epoch(users[order], positives[order], negatives[order], model.P_, model.Q_, model.bi_, lr, reg)
    return model


def main() -> None:
    train, test = leave_one_out(movielens("100k"))
    reference = BPRMF(64, 100, seed=0).fit(train)
    same = train_bpr(train, 0)
    assert np.array_equal(same.P_, reference.P_) and np.array_equal(same.Q_, reference.Q_), (
        "the script's loop no longer reproduces BPRMF; update train_bpr"
    )
    rows = {}
    for name, exclude in (("clean", None), ("leak: test items never drawn as negatives", test)):
        results = [
            evaluate(train_bpr(train, seed, exclude), test, train=train, protocol="sampled", k=10, seed=0)
            for seed in SEEDS
        ]
        rows[name] = {}
        for metric in ("hr@10", "ndcg@10"):
            values = [r[metric] for r in results]
            summary = {"mean": float(np.mean(values)), "std": float(np.std(values)), "seeds": values}
            rows[name][metric] = summary
    print(f"BPR-MF 64 factors x 100 epochs, ML-100K leave-one-out, 99 sampled negatives, seeds {list(SEEDS)}")
    print(f"{'negatives':<44} {'HR@10':>14} {'NDCG@10':>8}")
    for name, row in rows.items():
        hr, ndcg = row["hr@10"], row["ndcg@10"]
        print(f"{name:<44} {hr['mean']:.3f} ± {hr['std']:.3f} {ndcg['mean']:>8.3f}")
    out = ROOT / "benchmarks" / "results" / "bench_bpr_leak.json"
    out.parent.mkdir(exist_ok=True)
    machine = {"machine": platform.machine(), "python": platform.python_version()}
    out.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
