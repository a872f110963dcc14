"""How much a leak in the training negatives lifts BPR-MF's sampled HR@10 (a check on published figures).

Some NCF-style training code draws a user's training negatives among the items the user has not
interacted with *anywhere*, the held-out test item included. The model then never sees the test
item as a negative, which it should (it is not in train), and the sampled protocol rewards that:
the held-out item ranks higher among its 99 random negatives. This script trains BPR-MF twice on
MovieLens 100K's leave-one-out split, with the same loop, seeds and hyperparameters as
``BPRMF(64, 100)``:

* **clean**: :class:`tinyrec.models.BPRMF` itself: negatives drawn among the items not in the
  user's *train* interactions;
* **leak**: a subclass that changes only where negatives are drawn
  (``BPRMF._negative_sampler``): the test items are excluded too
  (``NegativeSampler(train, exclude=test)``), the leak described above.

The difference is a measure of how far a figure measured with that leak sits above a clean one;
a torch BPR-MF reference figure of 0.618 / 0.340 (HR@10 / NDCG@10) lies between the two rows below.

Run: ``TINYREC_DATA=/path/to/data python benchmarks/bench_bpr_leak.py`` (10 fits of 100 epochs:
about 15 s on 2 cores once Numba's cache is warm). Prints a table and writes
``benchmarks/results/bench_bpr_leak.json`` (``--quick``: seed 0 only, ``bench_bpr_leak_quick.json``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from record import Run  # noqa: E402  (benchmarks/record.py)

from tinyrec import evaluate  # noqa: E402
from tinyrec.data import leave_one_out, movielens  # noqa: E402
from tinyrec.data.sampling import NegativeSampler  # noqa: E402
from tinyrec.models import BPRMF  # noqa: E402

SEEDS = range(5)


class LeakyBPRMF(BPRMF):
    """``BPRMF`` whose training negatives also avoid the items of ``test`` (the leak studied here)."""

    def __init__(self, *args, test=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.test = test

    def _negative_sampler(self, train, rng) -> NegativeSampler:
        return NegativeSampler(train, exclude=self.test, seed=rng)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seed 0 only (checks the script runs)")
    args = parser.parse_args(argv)
    run = Run("bench_bpr_leak", argv, quick=args.quick)
    seeds = SEEDS[:1] if args.quick else SEEDS
    train, test = leave_one_out(movielens("100k"))
    rows = {}
    for name, build in (
        ("clean", lambda seed: BPRMF(64, 100, seed=seed)),
        ("leak: test items never drawn as negatives", lambda seed: LeakyBPRMF(64, 100, seed=seed, test=test)),
    ):
        results = [
            evaluate(build(seed).fit(train), test, train=train, protocol="sampled", k=10, seed=0)
            for seed in seeds
        ]
        rows[name] = {}
        for metric in ("hr@10", "ndcg@10"):
            values = [r[metric] for r in results]
            std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0  # over seeds: n - 1
            summary = {"mean": float(np.mean(values)), "std": std, "seeds": values}
            rows[name][metric] = summary
    print(f"BPR-MF 64 factors x 100 epochs, ML-100K leave-one-out, 99 sampled negatives, seeds {list(seeds)}")
    print(f"{'negatives':<44} {'HR@10':>14} {'NDCG@10':>8}")
    for name, row in rows.items():
        hr, ndcg = row["hr@10"], row["ndcg@10"]
        print(f"{name:<44} {hr['mean']:.3f} ± {hr['std']:.3f} {ndcg['mean']:>8.3f}")
    caption = (
        "BPR-MF 64 factors x 100 epochs, ML-100K leave-one-out (latest), 99 sampled negatives, "
        "pessimistic ties; the two differ only in where training negatives are drawn"
    )
    spread = len(seeds) > 1  # a standard deviation needs two seeds
    for name, row in rows.items():
        leak = name != "clean"  # the leaky row is shown beside the clean one
        for key, metric in (("hr@10", "HR@10, sampled"), ("ndcg@10", "NDCG@10, sampled")):
            clean = rows["clean"][key]
            run.accuracy(
                f"BPRMF, {name}" if leak else "BPRMF, clean negatives", metric, row[key]["mean"],
                std=row[key]["std"] if spread else None, seeds=len(seeds),
                reference="clean negatives" if leak else None,
                reference_value=clean["mean"] if leak else None,
                reference_std=clean["std"] if leak and spread else None, table=caption,
            )  # fmt: skip
    run.write({"seeds": list(seeds), "rows": rows})


if __name__ == "__main__":
    main()
