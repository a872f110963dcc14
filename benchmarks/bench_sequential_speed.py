"""Epoch time of SASRec, GRU4Rec and Caser against their torch twins, epochs interleaved.

``bench_sequential.py`` trains each model and its twin to convergence, one after the other, and
records every epoch's time; on a shared machine the load can change between the two trainings
(tens of minutes apart), so their epoch times are not a fair comparison. This script measures
speed alone, fairly:

* the data: ML-100K, leave-one-out by time, then the validation split (the training part that
  ``bench_sequential.py`` trains on);
* for each model, tinyrec at its defaults (lazy row-sparse Adam on the tables) and its torch twin
  (``benchmarks/sequential_twins.py``: the same network, initial weights and batches, dense
  ``torch.optim.Adam``), both started from the same seed;
* ``--epochs`` rounds (6 by default) of one tinyrec epoch then one twin epoch, back to back, so
  both see the same load; the first round (compilation, first allocations) is not counted;
* tinyrec's epoch is the library's own training loop (``fit_recommender`` for one epoch, no
  validation); the twin's is the loop ``bench_sequential.py`` trains it with;
* torch, BLAS and Numba on one thread (set before NumPy loads; ``torch.set_num_threads(1)``).

Reported: the median seconds per epoch of each, and the median over rounds of (twin / tinyrec):
above 1, tinyrec is faster.

Run: ``python benchmarks/bench_sequential_speed.py [--models ...] [--epochs N]`` (about three
minutes; ``--quick``: 250 users, 2 rounds); writes ``benchmarks/results/bench_sequential_speed.json``.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before NumPy and Numba load

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_sequential as seq  # noqa: E402  (benchmarks/bench_sequential.py: data, twins)
import sequential_twins as twins  # noqa: E402
from record import Run  # noqa: E402

from tinyrec.models.training import fit_recommender  # noqa: E402


class TinyrecEpochs:
    """One epoch at a time of ``cls(seed=seed)`` on ``train``, through the library's training loop."""

    def __init__(self, cls, seed: int, train):
        self.model, self.train = cls(seed=seed), train
        self.batches = seq.start(self.model, train)
        self.optimizer, self.loss = self.model._optimizer(), self.model._loss()  # as model.fit makes them

    def epoch(self) -> float:
        history = fit_recommender(
            self.model, self.train, self.batches, self.optimizer, self.loss, 1,
            lazy_embeddings=self.model.lazy_embeddings, verbose=False,
        )  # fmt: skip
        return history["epoch_seconds"][0]


class TwinEpochs:
    """One epoch at a time of the torch twin of ``cls(seed=seed)``, as ``bench_sequential.py`` trains it."""

    def __init__(self, torch, cls, seed: int, train):
        self.torch, model = torch, cls(seed=seed)
        self.batches = seq.start(model, train)
        self.twin = twins.twin_of(torch, model)
        self.optimizers = twins.twin_optimizers(torch, model, self.twin)
        self.loss = twins.twin_loss(torch, model)

    def epoch(self) -> float:
        torch = self.torch
        self.twin.train()
        began = time.perf_counter()
        for inputs, target in self.batches.epoch():
            for opt in self.optimizers:
                opt.zero_grad()
            loss = self.loss(self.twin(*twins.as_torch(torch, inputs)), torch.from_numpy(np.asarray(target)))
            loss.backward()
            for opt in self.optimizers:
                opt.step()
            float(loss.detach())  # as the training loop reads the loss of every batch
        return time.perf_counter() - began


def measure(torch, cls, train, rounds: int) -> dict:
    ours, theirs = TinyrecEpochs(cls, 0, train), TwinEpochs(torch, cls, 0, train)
    times = {"tinyrec": [], "torch": []}
    for _ in range(rounds + 1):  # the first round warms up and is dropped below
        times["tinyrec"].append(ours.epoch())
        times["torch"].append(theirs.epoch())
    counted = {name: values[1:] for name, values in times.items()}
    ratios = [t / o for o, t in zip(counted["tinyrec"], counted["torch"], strict=True)]
    return {
        "tinyrec_seconds": statistics.median(counted["tinyrec"]),
        "torch_seconds": statistics.median(counted["torch"]),
        "ratio": statistics.median(ratios),
        "epochs": times,
    }


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"needs at least 1 round, got {value}")
    return value


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="*", default=list(seq.MODELS), choices=list(seq.MODELS))
    ap.add_argument("--epochs", type=_at_least_one, default=6, help="counted rounds (tinyrec + twin epoch)")
    ap.add_argument("--quick", action="store_true", help="250 users, 2 rounds (checks the script runs)")
    ap.add_argument("--out", default=None, help="the JSON output (default benchmarks/results/...)")
    args = ap.parse_args(argv)
    run = Run("bench_sequential_speed", argv, quick=args.quick)
    import torch

    torch.set_num_threads(1)
    rounds = 2 if args.quick else args.epochs
    train, _, fit_part, _ = seq.load(args.quick)
    print(f"ML-100K leave-one-out, training part {len(fit_part):,} interactions; {rounds} counted rounds")
    print(f"torch {torch.__version__}, 1 thread; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    caption = (
        "Seconds per training epoch on ML-100K (the training part of the leave-one-out split), float32, "
        "defaults; the torch twin (dense Adam) on the same batches; one tinyrec epoch then one twin "
        f"epoch, {rounds} rounds after a warm-up, medians; torch, BLAS and Numba on 1 thread"
    )
    details = {}
    print(f"{'model':<10}{'tinyrec s':>12}{'torch s':>12}{'torch / tinyrec':>18}")
    for name in args.models:
        result = measure(torch, seq.MODELS[name], fit_part, rounds)
        details[name] = result
        print(f"{name:<10}{result['tinyrec_seconds']:>12.3f}{result['torch_seconds']:>12.3f}"
              f"{result['ratio']:>17.2f}x", flush=True)  # fmt: skip
        run.speed(
            f"{name} epoch vs twin, interleaved", result["tinyrec_seconds"], "s",
            reference="torch twin, Adam", reference_value=result["torch_seconds"], ratio=result["ratio"],
            table=caption, better="lower",
        )  # fmt: skip
    print(f"load {os.getloadavg()[0]:.1f} at the end")
    run.write(details, args.out)
    return details


if __name__ == "__main__":
    main()
