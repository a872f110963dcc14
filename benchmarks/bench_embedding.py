"""One training step of an embedding table: tinyrec vs plain NumPy (np.add.at) vs torch.

The step, identical in all five versions::

    Y  = W[idx]                        gather: idx (batch,) Zipf-distributed row ids, Y (batch, dim)
    dW = Σ over repeats of dY rows     backward: a row-sparse gradient, repeated ids summed
    lazy Adam on the rows of dW        torch.optim.SparseAdam semantics (moments of present rows)

* tinyrec: ``Embedding.forward``, ``Embedding.backward`` (a RowGrad: the repeats summed at once
  by a hash-table kernel, ``sum_repeats``, the rows left in the order they first occur),
  ``tinyrec.optim.Adam.step`` (one Numba kernel, ``adam_rows``, updates those rows as they are),
  ``zero_grad``.
* two-pass: the same with ``Adam(fused=False)``: the RowGrad's rows sorted first (its readable
  form), then the same row kernel; the fused step's twin.
* numpy: ``W[idx]``; ``np.unique(return_inverse)`` + ``np.add.at``; the lazy-Adam formulas with
  fancy indexing.
* kernels: tinyrec's three compiled kernels alone (``gather_rows``, ``sum_repeats`` and
  ``adam_rows``, called without their guards), no Module, RowGrad or check around them: not a way
  to train, the floor of this design, so the printed table shows how much of tinyrec's step is Python and how
  much is the kernels' work (mostly waiting on the memory of three 100,000-row tables, which the
  kernels ask for a few rows ahead: ``tinyrec.kernels.prefetch``). It is
  printed and stored in the JSON, not made a row of RESULTS.md (it is no reference to beat).
* torch: ``nn.Embedding(sparse=True)`` + ``optim.SparseAdam``, ``torch.set_num_threads(1)``
  (the others are single-threaded too).

The upstream gradient ``dY`` is a fixed random array (what a network above the table would send).
Batches of indices are drawn up front, so sampling is not timed. Before timing, a few steps from
the same initial table check that the five versions compute the same numbers.

Run: ``python benchmarks/bench_embedding.py`` (under a minute; prints a table, writes
``benchmarks/results/bench_embedding.json``; ``--quick``: 20 steps x 2 repeats, written to
``bench_embedding_quick.json``). The ratios are medians over repeats of
(other µs/step) / (tinyrec µs/step), each repeat timing the five versions back to back.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from record import Run  # noqa: E402  (benchmarks/record.py)

from tinyrec.kernels.embedding import gather_rows, sum_repeats  # noqa: E402
from tinyrec.kernels.optim import adam_rows  # noqa: E402
from tinyrec.nn import Embedding  # noqa: E402
from tinyrec.optim import Adam  # noqa: E402

LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8


def zipf_batches(n_rows: int, batch: int, n_batches: int, exponent: float, seed: int) -> np.ndarray:
    """``(n_batches, batch)`` row ids with P(rank k) ∝ 1/k^exponent, ranks scattered over the table."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_rows + 1) ** exponent
    ranks = rng.choice(n_rows, size=(n_batches, batch), p=p / p.sum())
    return rng.permutation(n_rows)[ranks].astype(np.int64)  # rank -> a random row id


class TinyrecStep:
    def __init__(self, table: np.ndarray, grad_output: np.ndarray, fused: bool = True):
        self.emb = Embedding(*table.shape, seed=0)
        self.emb.weight.data[...] = table
        self.opt = Adam(self.emb.parameters(), lr=LR, betas=BETAS, eps=EPS, fused=fused)
        self.dy = grad_output

    def __call__(self, idx: np.ndarray) -> None:
        self.opt.zero_grad()
        self.emb.forward(idx)
        self.emb.backward(self.dy)
        self.opt.step()

    def table(self) -> np.ndarray:
        return self.emb.weight.data


class NumpyStep:
    def __init__(self, table: np.ndarray, grad_output: np.ndarray):
        self.W = table.copy()
        self.m = np.zeros_like(table)
        self.v = np.zeros_like(table)
        self.t = 0
        self.dy = grad_output

    def __call__(self, idx: np.ndarray) -> None:
        _ = self.W[idx]  # forward gather, (batch, dim)
        rows, inverse = np.unique(idx, return_inverse=True)
        g = np.zeros((len(rows), self.W.shape[1]), dtype=self.W.dtype)
        np.add.at(g, inverse, self.dy)  # repeated ids summed
        self.t += 1
        beta1, beta2 = BETAS
        m = self.m[rows] + (1 - beta1) * (g - self.m[rows])
        v = self.v[rows] + (1 - beta2) * (g * g - self.v[rows])
        self.m[rows], self.v[rows] = m, v
        step_size = LR * math.sqrt(1 - beta2**self.t) / (1 - beta1**self.t)
        self.W[rows] -= step_size * m / (np.sqrt(v) + EPS)

    def table(self) -> np.ndarray:
        return self.W


class KernelStep(NumpyStep):
    """The step as tinyrec's two kernels alone (the module docstring's "kernels"), on NumpyStep's state."""

    def __call__(self, idx: np.ndarray) -> None:
        gather_rows.kernel(self.W, idx)
        rows, summed = sum_repeats.kernel(idx, self.dy)
        self.t += 1
        beta1, beta2 = BETAS
        step_size = LR * math.sqrt(1 - beta2**self.t) / (1 - beta1**self.t)
        c = np.float32  # the coefficients as Adam passes them (no weight decay)
        coefficients = (c(1 - beta1), c(1 - beta2), c(EPS), c(step_size), c(0.0), c(1.0))
        adam_rows.kernel(self.W, self.m, self.v, rows, summed, coefficients)


class TorchStep:
    def __init__(self, torch, table: np.ndarray, grad_output: np.ndarray):
        self.torch = torch
        self.emb = torch.nn.Embedding(*table.shape, sparse=True)
        with torch.no_grad():
            self.emb.weight.copy_(torch.from_numpy(table))
        self.opt = torch.optim.SparseAdam(self.emb.parameters(), lr=LR, betas=BETAS, eps=EPS)
        self.dy = torch.from_numpy(grad_output)

    def __call__(self, idx) -> None:
        self.opt.zero_grad()
        self.emb(idx).backward(self.dy)
        self.opt.step()

    def table(self) -> np.ndarray:
        return self.emb.weight.detach().numpy()


def time_steps(step, batches) -> float:
    """Mean µs per step over ``batches``."""
    start = time.perf_counter()
    for idx in batches:
        step(idx)
    return (time.perf_counter() - start) / len(batches) * 1e6


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--zipf", type=float, default=1.0, help="Zipf exponent of the row popularity")
    ap.add_argument("--steps", type=int, default=200, help="timed steps per repeat")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="20 steps x 2 repeats (checks the script runs)")
    ap.add_argument("--out", default=None, help="JSON output path (default: benchmarks/results/)")
    args = ap.parse_args(argv)
    run = Run("bench_embedding", argv, quick=args.quick)
    if args.quick:
        args.steps, args.repeats = 20, 2

    rng = np.random.default_rng(args.seed)
    table = rng.standard_normal((args.rows, args.dim)).astype(np.float32)
    dy = rng.standard_normal((args.batch, args.dim)).astype(np.float32)
    batches = zipf_batches(args.rows, args.batch, args.steps, args.zipf, args.seed + 1)
    distinct = float(np.mean([len(np.unique(b)) for b in batches]))

    try:
        import torch
    except ImportError:
        torch = None
    steps = {
        "tinyrec": TinyrecStep(table, dy),
        "two-pass": TinyrecStep(table, dy, fused=False),
        "numpy": NumpyStep(table, dy),
        "kernels": KernelStep(table, dy),
    }
    inputs = {"tinyrec": batches, "two-pass": batches, "numpy": batches, "kernels": batches}
    if torch is not None:
        torch.set_num_threads(1)
        steps["torch"] = TorchStep(torch, table, dy)
        inputs["torch"] = [torch.from_numpy(b) for b in batches]

    # the same 5 steps from the same table give the same table (also compiles the Numba kernels)
    for name, step in steps.items():
        for idx in inputs[name][:5]:
            step(idx)
    for name in steps:
        if name != "tinyrec":
            err = float(np.abs(steps[name].table() - steps["tinyrec"].table()).max())
            if err > 1e-5:
                raise AssertionError(f"{name} and tinyrec disagree after 5 steps (max |diff| {err:.2e})")

    load_before = os.getloadavg()[0]  # other processes on the machine slow every version down
    per_repeat = {name: [] for name in steps}
    for _ in range(args.repeats):
        for name, step in steps.items():
            per_repeat[name].append(time_steps(step, inputs[name]))
    median = {name: statistics.median(v) for name, v in per_repeat.items()}
    ratios = {
        name: statistics.median(o / t for o, t in zip(per_repeat[name], per_repeat["tinyrec"], strict=True))
        for name in steps
        if name != "tinyrec"
    }

    print(
        f"embedding step: table {args.rows:,} x {args.dim} float32, batch {args.batch:,} Zipf({args.zipf}) "
        f"ids (~{distinct:.0f} distinct), lazy Adam; {args.steps} steps x {args.repeats} repeats"
    )
    if torch is not None:
        print(f"torch {torch.__version__} with torch.set_num_threads(1)")
    load_after = os.getloadavg()[0]
    print(f"1-min load average {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} CPUs")
    print(f"{'version':<10}{'median µs/step':>16}{'min':>10}{'max':>10}{'ratio vs tinyrec':>18}")
    for name in steps:
        ratio = f"{ratios[name]:.2f}x" if name in ratios else "1.00x"
        v = per_repeat[name]
        print(f"{name:<10}{median[name]:>16.1f}{min(v):>10.1f}{max(v):>10.1f}{ratio:>18}")

    caption = (
        f"One training step of a {args.rows:,} x {args.dim} float32 embedding table, batch of {args.batch:,} "
        f"Zipf({args.zipf}) ids, lazy Adam; median µs per step, ratio: median over repeats"
    )
    references = {
        "torch": "torch Embedding(sparse=True) + SparseAdam, 1 thread",
        "two-pass": "tinyrec Adam(fused=False): the RowGrad's rows sorted, then the row update",
        "numpy": "NumPy np.unique + np.add.at",
    }
    for name, reference in references.items():
        if name in ratios:
            run.speed(
                f"embedding step vs {name}", median["tinyrec"], "µs", reference=reference,
                reference_value=median[name], ratio=ratios[name], table=caption,
            )  # fmt: skip
    result = {
        "config": vars(args) | {"distinct_rows_per_batch": distinct, "lr": LR, "betas": BETAS, "eps": EPS},
        "load_average_1min_before_after": [load_before, load_after],
        "us_per_step": per_repeat,
        "median_us_per_step": median,
        "median_ratio_vs_tinyrec": ratios,
    }
    run.write(result, args.out)
    return result


if __name__ == "__main__":
    main()
