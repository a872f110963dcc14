"""Forward + backward speed of Conv1d, GRU and MultiheadAttention against torch CPU, in float32.

The shapes: batch 256, length 50, 64 features, i.e.

* Conv1d(64, 64, kernel_size=3) on ``(256, 64, 50)``;
* GRU(64, 64), batch first, on ``(256, 50, 64)``, gradient from every output step;
* MultiheadAttention(64, 2 heads), causal self-attention on ``(256, 50, 64)``.

One step = forward, then backward of ``sum(Y ⊙ G)`` for a fixed random ``G`` (parameter
gradients included). Each layer is run ``--warmup`` times, then timed ``--repeat`` times,
alternating with torch's step (when torch is installed) in the same process; the median ms/step
of each is reported. Both use their default threading (NumPy's BLAS and torch's intra-op pool);
to compare single-threaded, set ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1`` in the environment
(recorded in the JSON). Prints a table and writes ``benchmarks/results/bench_layers.json``.

Run: ``python benchmarks/bench_layers.py [--repeat 20]`` (under a minute); ``--quick`` (1 warm-up,
3 repeats) writes ``bench_layers_quick.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from record import Run  # noqa: E402  (benchmarks/record.py)

from tinyrec.nn.attention import MultiheadAttention, causal_mask  # noqa: E402
from tinyrec.nn.conv import Conv1d  # noqa: E402
from tinyrec.nn.recurrent import GRU  # noqa: E402

BATCH, LENGTH, DIM, HEADS, KERNEL = 256, 50, 64, 2, 3
TARGETS = {"Conv1d": 2.0, "GRU": 3.0, "MultiheadAttention": 2.0}


def _time_ms(steps: dict, warmup: int, repeat: int) -> dict:
    """Median ms of each step in ``steps`` (``label -> step()``), the steps run **interleaved**.

    Running tinyrec's and torch's step of a layer alternately, repetition by repetition, makes
    both see the same load on a shared machine, so that their ratio stays meaningful.
    """
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {label: [] for label in steps}
    for _ in range(repeat):
        for label, step in steps.items():
            start = time.perf_counter()
            step()
            times[label].append(time.perf_counter() - start)
    return {label: 1e3 * statistics.median(t) for label, t in times.items()}


def tinyrec_steps(rng):
    """``name -> step()`` closures running tinyrec's forward + backward."""
    f32 = np.float32
    x_conv = rng.standard_normal((BATCH, DIM, LENGTH)).astype(f32)
    x_seq = rng.standard_normal((BATCH, LENGTH, DIM)).astype(f32)
    conv = Conv1d(DIM, DIM, KERNEL, dtype=f32, seed=0)
    gru = GRU(DIM, DIM, dtype=f32, seed=0)
    mha = MultiheadAttention(DIM, HEADS, dtype=f32, seed=0)
    mask = causal_mask(LENGTH)
    g_conv = rng.standard_normal((BATCH, DIM, LENGTH - KERNEL + 1)).astype(f32)
    g_seq = rng.standard_normal((BATCH, LENGTH, DIM)).astype(f32)

    def conv_step():
        conv.zero_grad()
        conv(x_conv)
        conv.backward(g_conv)

    def gru_step():
        gru.zero_grad()
        gru(x_seq)
        gru.backward(g_seq)

    def mha_step():
        mha.zero_grad()
        mha(x_seq, x_seq, x_seq, attn_mask=mask, need_weights=False)
        mha.backward(g_seq)

    return {"Conv1d": conv_step, "GRU": gru_step, "MultiheadAttention": mha_step}


def torch_steps(torch, rng):
    """The same three steps in torch (autograd), or an empty dict when torch is absent."""
    f32 = torch.float32
    x_conv = torch.tensor(rng.standard_normal((BATCH, DIM, LENGTH)), dtype=f32, requires_grad=True)
    x_seq = torch.tensor(rng.standard_normal((BATCH, LENGTH, DIM)), dtype=f32, requires_grad=True)
    conv = torch.nn.Conv1d(DIM, DIM, KERNEL, dtype=f32)
    gru = torch.nn.GRU(DIM, DIM, batch_first=True, dtype=f32)
    mha = torch.nn.MultiheadAttention(DIM, HEADS, batch_first=True, dtype=f32)
    mask = torch.tensor(causal_mask(LENGTH))
    g_conv = torch.tensor(rng.standard_normal((BATCH, DIM, LENGTH - KERNEL + 1)), dtype=f32)
    g_seq = torch.tensor(rng.standard_normal((BATCH, LENGTH, DIM)), dtype=f32)

    def run(module, x, g, call):
        def step():
            module.zero_grad()
            x.grad = None
            (call(x) * g).sum().backward()

        return step

    return {
        "Conv1d": run(conv, x_conv, g_conv, conv),
        "GRU": run(gru, x_seq, g_seq, lambda x: gru(x)[0]),
        # need_weights=False, as in the tinyrec step (torch may then use its fused kernel)
        "MultiheadAttention": run(
            mha, x_seq, g_seq, lambda x: mha(x, x, x, attn_mask=mask, need_weights=False)[0]
        ),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="1 warm-up, 3 repeats (checks the script runs)")
    parser.add_argument("--out", type=Path, default=None, help="JSON output (default: benchmarks/results/)")
    args = parser.parse_args(argv)
    run = Run("bench_layers", argv, quick=args.quick)
    if args.quick:
        args.warmup, args.repeat = 1, 3

    rng = np.random.default_rng(0)
    ours_steps = tinyrec_steps(rng)
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: tinyrec timings only (pip install torch for the comparison)")
    theirs_steps = torch_steps(torch, rng) if torch is not None else {}
    ours, theirs = {}, {}
    for name, step in ours_steps.items():
        pair = {"tinyrec": step}
        if name in theirs_steps:
            pair["torch"] = theirs_steps[name]
        timed = _time_ms(pair, args.warmup, args.repeat)
        ours[name] = timed["tinyrec"]
        if "torch" in timed:
            theirs[name] = timed["torch"]

    rows = []
    print(f"forward + backward, float32, batch {BATCH}, length {LENGTH}, dim {DIM}; median of {args.repeat}")
    print(f"{'layer':<20} {'tinyrec ms':>11} {'torch ms':>9} {'ratio':>6} {'target':>7}")
    for name, ms in ours.items():
        torch_ms = theirs.get(name)
        ratio = ms / torch_ms if torch_ms else None
        rows.append(
            {"layer": name, "tinyrec_ms": ms, "torch_ms": torch_ms, "ratio": ratio, "target": TARGETS[name]}
        )
        cells = f"{torch_ms:9.2f} {ratio:6.2f}" if torch_ms else f"{'-':>9} {'-':>6}"
        print(f"{name:<20} {ms:11.2f} {cells} {TARGETS[name]:6.1f}x")

    shapes = {
        "Conv1d": f"Conv1d({DIM}, {DIM}, {KERNEL}) on ({BATCH}, {DIM}, {LENGTH})",
        "GRU": f"GRU({DIM}, {DIM}) on ({BATCH}, {LENGTH}, {DIM})",
        "MultiheadAttention": f"causal MultiheadAttention({DIM}, {HEADS}) on ({BATCH}, {LENGTH}, {DIM})",
    }
    caption = (
        f"Forward + backward of one layer, float32, median ms of {args.repeat} steps alternating with "
        "torch's; each with the threads in force (the threads line above)"
    )
    for row in rows:
        run.speed(
            f"{shapes[row['layer']]} forward + backward", row["tinyrec_ms"], "ms",
            reference="torch CPU", reference_value=row["torch_ms"], table=caption,
        )  # fmt: skip
    result = {
        "shapes": {"batch": BATCH, "length": LENGTH, "dim": DIM, "heads": HEADS, "kernel": KERNEL},
        "repeat": args.repeat,
        "warmup": args.warmup,
        "rows": rows,
    }
    run.write(result, args.out)
    return result


if __name__ == "__main__":
    main()
