"""Neural CF on ML-100K: accuracy of NeuMF, GMF and NCF's MLP (vs torch), epoch time, peak memory.

Protocol (the NCF paper's, He et al. 2017):

* data: MovieLens 100K from ``$TINYREC_DATA/ml-100k`` (or the user cache); every rating is a
  positive;
* split: leave-one-out, the latest interaction of each user held out (ties in time: the larger
  item id), :func:`tinyrec.data.split.leave_one_out`;
* training: 20 epochs, 4 negatives per positive redrawn each epoch, Adam lr 1e-3, batch 256,
  BCE with logits; GMF 8 factors; MLP 32 + 32 → 32, 16, 8 (``layers=(64, 32, 16, 8)``); NeuMF
  both (no pretraining); the figures are those of the **last** epoch, mean (± std) over 5 seeds
  (one seed's HR@10 moves by 0.01–0.02, so 3 seeds cannot settle a 0.01 difference);
* the rows "NeuMF", "GMF" and "NCFMLP" train in the setup of the NCF reference code (these sizes
  and settings are its defaults): ``torch.optim.Adam`` on every parameter, so the
  embedding tables are updated densely (``lazy_embeddings=False``), and the Linear layers
  initialised as that code does (``linear_init="ncf"``: Xavier-uniform hidden layers,
  LeCun-uniform output, zero biases); the rows "… default" are the same models with tinyrec's
  defaults (NeuMF and NCFMLP: lazy row-sparse Adam on the tables, like ``SparseAdam``; all three:
  ``nn.Linear``'s init); "GMF lazy" is GMF with lazy updates;
* evaluation: each held-out item ranked among 99 sampled items the user never interacted with
  (the same candidates for every model), pessimistic ties, HR@10 and NDCG@10; and the full-ranking
  protocol (every unseen item a candidate) beside it;
* references in the same run: Popularity, ItemKNN (implicit cosine top-50), and, when torch is
  importable, a torch twin of each model in the NCF setup (the same architecture, initialisation,
  batches and dense ``Adam``), and "torch NeuMF default", the twin of tinyrec's default NeuMF
  (``nn.Embedding(sparse=True)`` + ``SparseAdam`` for the tables, ``Adam`` for the rest).

Speed: seconds per NeuMF training epoch on ML-100K (4 negatives, float32) at batch 256 and 1024,
tinyrec against the torch NeuMF on the same batches, both with lazy table updates (tinyrec's
default; ``SparseAdam``) and with dense ones (``Adam``, the NCF setup); the median over epochs after
a warm-up epoch. torch runs with ``torch.set_num_threads(1)`` and NumPy's BLAS with one thread
(``OPENBLAS_NUM_THREADS=1`` etc., set by this script before NumPy loads: small matrix products are
slower with more threads, and tinyrec's kernels are single-threaded).

Memory: peak resident memory of a separate process that trains NeuMF for one epoch on random
distinct pairs of ML-1M's shape (6,040 users, 3,706 items, 1,000,209 interactions): ``VmHWM``
of ``/proc/self/status`` (the whole process: interpreter, NumPy, Numba, the data), falling back
to ``resource.getrusage``; and the peak of Python/NumPy allocations during training from
``tracemalloc``.

Run: ``python benchmarks/bench_neural.py [--quick] [--epochs N] [--seeds N]``; prints the tables
and writes ``benchmarks/results/bench_neural.json`` (``bench_neural_quick.json`` with ``--quick``).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before NumPy loads
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from record import Run  # noqa: E402  (benchmarks/record.py)

from tinyrec.data import Interactions, leave_one_out, movielens  # noqa: E402
from tinyrec.evaluation import evaluate  # noqa: E402
from tinyrec.losses import BCEWithLogitsLoss  # noqa: E402
from tinyrec.models import ItemKNN, Popularity  # noqa: E402
from tinyrec.models.ncf import GMF, NCFMLP, NeuMF  # noqa: E402
from tinyrec.models.training import PointwiseBatches  # noqa: E402
from tinyrec.nn.module import RowGrad  # noqa: E402
from tinyrec.optim import Adam  # noqa: E402

N_FACTORS, LAYERS, LR, N_NEG, BATCH = 8, (64, 32, 16, 8), 1e-3, 4, 256


# ---------------------------------------------------------------------- torch NeuMF
def torch_neumf(
    torch, n_users: int, n_items: int, seed: int, towers=("gmf", "mlp"), sparse=True, linear_init="torch"
):
    """NeuMF in torch (or its GMF or MLP tower alone): the same towers and initialisation scheme as
    tinyrec's models. ``sparse``: ``nn.Embedding(sparse=True)``, trained by ``SparseAdam`` (lazy,
    as tinyrec's ``lazy_embeddings=True``); otherwise dense tables trained by ``Adam``.
    ``linear_init``: ``"torch"`` keeps ``nn.Linear``'s own init; ``"ncf"`` is the NCF reference
    code's (Xavier-uniform hidden layers, LeCun-uniform output, zero biases), as tinyrec's option of
    that name."""
    nn = torch.nn
    torch.manual_seed(seed)

    class TorchNeuMF(nn.Module):
        def __init__(self):
            super().__init__()
            half = LAYERS[0] // 2
            tables, width = [], 0
            if "gmf" in towers:
                self.gmf_user = nn.Embedding(n_users, N_FACTORS, sparse=sparse)
                self.gmf_item = nn.Embedding(n_items, N_FACTORS, sparse=sparse)
                tables += [self.gmf_user, self.gmf_item]
                width += N_FACTORS
            if "mlp" in towers:
                self.mlp_user = nn.Embedding(n_users, half, sparse=sparse)
                self.mlp_item = nn.Embedding(n_items, half, sparse=sparse)
                tables += [self.mlp_user, self.mlp_item]
                hidden = []
                for a, b in zip(LAYERS[:-1], LAYERS[1:], strict=True):
                    hidden += [nn.Linear(a, b), nn.ReLU()]
                self.mlp = nn.Sequential(*hidden)
                width += LAYERS[-1]
            for table in tables:
                nn.init.normal_(table.weight, 0.0, 0.01)  # tinyrec's init_std=0.01
            self.output = nn.Linear(width, 1)
            if linear_init == "ncf":
                for layer in self.modules():
                    if isinstance(layer, nn.Linear):
                        if layer is self.output:  # LeCun uniform: bound sqrt(3 / fan_in)
                            nn.init.kaiming_uniform_(layer.weight, a=1)
                        else:
                            nn.init.xavier_uniform_(layer.weight)
                        nn.init.zeros_(layer.bias)

        def forward(self, users, items):
            parts = []
            if "gmf" in towers:
                parts.append(self.gmf_user(users) * self.gmf_item(items))
            if "mlp" in towers:
                parts.append(self.mlp(torch.cat([self.mlp_user(users), self.mlp_item(items)], dim=1)))
            return self.output(torch.cat(parts, dim=1))[:, 0]

    return TorchNeuMF()


class TorchRecommender:
    """A trained torch network with ``score_all`` for :func:`tinyrec.evaluation.evaluate`."""

    def __init__(self, torch, net, n_items: int):
        self.torch, self.net, self.n_items = torch, net, n_items

    def score_all(self, users):
        torch = self.torch
        with torch.no_grad():
            u = torch.from_numpy(np.repeat(users, self.n_items).astype(np.int64))
            i = torch.from_numpy(np.tile(np.arange(self.n_items, dtype=np.int64), len(users)))
            return self.net(u, i).double().numpy().reshape(len(users), self.n_items)


def torch_epoch(torch, net, optimizers, batches) -> tuple[float, float]:
    """One epoch of ``batches``; returns (seconds, mean loss)."""
    loss_fn = torch.nn.BCEWithLogitsLoss()
    start, total, seen = time.perf_counter(), 0.0, 0
    for (users, items), labels in batches.epoch():
        for opt in optimizers:
            opt.zero_grad()
        loss = loss_fn(net(torch.from_numpy(users), torch.from_numpy(items)), torch.from_numpy(labels))
        loss.backward()
        for opt in optimizers:
            opt.step()
        total += loss.item() * len(labels)
        seen += len(labels)
    return time.perf_counter() - start, total / seen


def torch_optimizers(torch, net, sparse=True):
    if not sparse:
        return [torch.optim.Adam(net.parameters(), lr=LR)]
    tables = [p for name, p in net.named_parameters() if "_user" in name or "_item" in name]
    dense = [p for name, p in net.named_parameters() if not ("_user" in name or "_item" in name)]
    return [torch.optim.SparseAdam(tables, lr=LR), torch.optim.Adam(dense, lr=LR)]


# The setup of the NCF reference code, which torch figures of NCF follow (GMF 8 factors, MLP
# 32 + 32 -> 32, 16, 8, Adam 1e-3, batch 256, 4 negatives): torch.optim.Adam on every parameter,
# the embedding tables dense, Linear layers initialised as that code does.
NCF_SETUP = {"lazy_embeddings": False, "linear_init": "ncf"}

# the torch twins trained in the accuracy table: (towers, sparse tables, linear init)
TORCH_TWINS = {
    "torch NeuMF": (("gmf", "mlp"), False, "ncf"),
    "torch GMF": (("gmf",), False, "ncf"),
    "torch NCFMLP": (("mlp",), False, "ncf"),
    "torch NeuMF default": (("gmf", "mlp"), True, "torch"),
}


def train_torch(
    torch, train, epochs: int, seed: int, towers=("gmf", "mlp"), sparse=True, linear_init="torch"
):
    net = torch_neumf(torch, train.n_users, train.n_items, seed, towers, sparse, linear_init)
    optimizers = torch_optimizers(torch, net, sparse)
    batches = PointwiseBatches(train, N_NEG, BATCH, seed=seed)
    for _ in range(epochs):
        torch_epoch(torch, net, optimizers, batches)
    net.eval()
    return TorchRecommender(torch, net, train.n_items)


# ---------------------------------------------------------------------- accuracy
def scores(model, train, test) -> dict:
    sampled = evaluate(model, test, train=train, protocol="sampled", k=10, n_negatives=99, seed=0)
    full = evaluate(model, test, train=train, protocol="full", k=10)
    return {
        "hr@10": sampled["hr@10"],
        "ndcg@10": sampled["ndcg@10"],
        "full_hr@10": full["hr@10"],
        "full_ndcg@10": full["ndcg@10"],
    }


def accuracy(train, test, epochs: int, seeds: int, torch) -> dict:
    builders = {
        "NeuMF": lambda s: NeuMF(N_FACTORS, LAYERS, epochs, seed=s, **NCF_SETUP),
        "GMF": lambda s: GMF(N_FACTORS, epochs, seed=s, **NCF_SETUP),
        "NCFMLP": lambda s: NCFMLP(LAYERS, epochs, seed=s, **NCF_SETUP),
        "NeuMF default": lambda s: NeuMF(N_FACTORS, LAYERS, epochs, seed=s),
        "GMF default": lambda s: GMF(N_FACTORS, epochs, seed=s),
        "NCFMLP default": lambda s: NCFMLP(LAYERS, epochs, seed=s),
        "GMF lazy": lambda s: GMF(N_FACTORS, epochs, lazy_embeddings=True, seed=s),
    }
    runs: dict[str, list[dict]] = {}
    for seed in range(seeds):
        for name, build in builders.items():
            start = time.perf_counter()
            model = build(seed).fit(train)
            result = scores(model, train, test) | {"fit_seconds": time.perf_counter() - start}
            runs.setdefault(name, []).append(result)
            print(f"  seed {seed} {name:<20} {_row(result)}", file=sys.stderr, flush=True)
        for name, (towers, sparse, linear_init) in TORCH_TWINS.items() if torch is not None else ():
            start = time.perf_counter()
            model = train_torch(torch, train, epochs, seed, towers, sparse, linear_init)
            result = scores(model, train, test) | {"fit_seconds": time.perf_counter() - start}
            runs.setdefault(name, []).append(result)
            print(f"  seed {seed} {name:<20} {_row(result)}", file=sys.stderr, flush=True)
    for name, model in (
        ("Popularity", Popularity()),
        ("ItemKNN", ItemKNN(50, mode="ranking", similarity="cosine")),
    ):
        runs[name] = [scores(model.fit(train), train, test)]
    return runs


def _row(result: dict) -> str:
    return " ".join(f"{k} {v:.4f}" for k, v in result.items())


def summarise(runs: dict) -> dict:
    out = {}
    for name, results in runs.items():
        out[name] = {}
        for key in results[0]:
            values = [r[key] for r in results]
            out[name][key] = {
                "mean": statistics.fmean(values),
                "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                "runs": values,
            }
    return out


# ---------------------------------------------------------------------- speed
def speed(train, batch_size: int, epochs: int, torch, lazy: bool = True) -> dict:
    """Median seconds per NeuMF epoch (after one warm-up epoch) for tinyrec and torch, same batches.

    ``lazy``: the tables' Adam updates only the rows of the batch (tinyrec's default, torch's
    ``SparseAdam``); otherwise every row at every step (torch's dense ``Adam``, the NCF setup).
    """
    model = NeuMF(N_FACTORS, LAYERS, 1, batch_size=batch_size, seed=0)
    model.fit(train)  # sets the index space (and compiles the kernels)
    model._build_net()
    net = model.net
    params = net.parameters()
    optimizer, loss = Adam(params, lr=LR), BCEWithLogitsLoss()
    batches = PointwiseBatches(train, N_NEG, batch_size, seed=0)
    times = []
    for _ in range(epochs + 1):
        start = time.perf_counter()
        for inputs, labels in batches.epoch():
            optimizer.zero_grad()
            loss.forward(net(*inputs), labels)
            net.backward(loss.backward())
            if not lazy:  # as fit_recommender does for lazy_embeddings=False
                for param in params:
                    if isinstance(param.grad, RowGrad):
                        param.grad = param.dense_grad()
            optimizer.step()
        times.append(time.perf_counter() - start)
    result = {"tinyrec_s": statistics.median(times[1:]), "tinyrec_epochs": times}
    if torch is not None:
        tnet = torch_neumf(torch, train.n_users, train.n_items, 0, sparse=lazy)
        optimizers = torch_optimizers(torch, tnet, sparse=lazy)
        batches = PointwiseBatches(train, N_NEG, batch_size, seed=0)
        ttimes = [torch_epoch(torch, tnet, optimizers, batches)[0] for _ in range(epochs + 1)]
        result |= {"torch_s": statistics.median(ttimes[1:]), "torch_epochs": ttimes}
        result["ratio"] = result["tinyrec_s"] / result["torch_s"]
    return result


# ---------------------------------------------------------------------- memory (own process)
def ml1m_shaped(n_users: int, n_items: int, n_interactions: int, seed: int = 0) -> Interactions:
    """Distinct random (user, item) pairs with ML-1M's sizes: Zipf item popularity, skewed activity.

    Built from a few flat int64 arrays (no dense matrix), so generating it costs little memory.
    """
    rng = np.random.default_rng(seed)
    item_p = 1.0 / np.arange(1, n_items + 1) ** 0.8  # a long tail of items
    user_p = 1.0 / np.arange(1, n_users + 1) ** 0.5  # a few very active users
    keys = np.empty(0, dtype=np.int64)
    while len(keys) < n_interactions:
        m = int(1.2 * (n_interactions - len(keys))) + 1000
        u = rng.choice(n_users, m, p=user_p / user_p.sum())
        i = rng.choice(n_items, m, p=item_p / item_p.sum())
        keys = np.unique(np.concatenate([keys, u.astype(np.int64) * n_items + i]))
    keys = rng.permutation(keys)[:n_interactions]
    return Interactions(keys // n_items, keys % n_items, n_users=n_users, n_items=n_items)


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM (reset by exec, unlike ru_maxrss after a fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def memory_child(quick: bool) -> dict:
    """Train NeuMF for one epoch on ML-1M-shaped data; report the peaks (run in its own process)."""
    shape = (6040, 3706, 1_000_209 if not quick else 200_000)
    data = ml1m_shaped(*shape)
    rss_before = peak_rss_mb()
    tracemalloc.start()
    start = time.perf_counter()
    model = NeuMF(N_FACTORS, LAYERS, 1, seed=0).fit(data)
    seconds = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "n_users": shape[0],
        "n_items": shape[1],
        "n_interactions": len(data),
        "train_rows_per_epoch": len(data) * (1 + N_NEG),
        "epoch_seconds": seconds,
        "loss": model.history_["loss"][0],
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_training_mb": rss_before,
        "tracemalloc_peak_mb": traced_peak / 2**20,
    }


def memory(quick: bool) -> dict:
    args = [sys.executable, __file__, "--memory-child"] + (["--quick"] if quick else [])
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


# ---------------------------------------------------------------------- report
def table(summary: dict) -> str:
    keys = ("hr@10", "ndcg@10", "full_hr@10", "full_ndcg@10")
    head = f"{'model':<20}" + "".join(f"{k:>20}" for k in keys)
    lines = [head, "-" * len(head)]
    for name, values in summary.items():
        cells = "".join(f"{values[k]['mean']:>12.4f} ± {values[k]['std']:.3f}" for k in keys)
        lines.append(f"{name:<20}{cells}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- summary rows
# the accuracy table's tinyrec rows: name in the JSON -> (row name, its torch twin)
SUMMARY_MODELS = {
    "NeuMF": ("NeuMF, NCF setup", "torch NeuMF"),
    "GMF": ("GMF, NCF setup", "torch GMF"),
    "NCFMLP": ("NCFMLP, NCF setup", "torch NCFMLP"),
    "NeuMF default": ("NeuMF, defaults", "torch NeuMF default"),
    "GMF default": ("GMF, defaults", None),
    "NCFMLP default": ("NCFMLP, defaults", None),
    "GMF lazy": ("GMF, lazy table updates", None),
    "Popularity": ("Popularity", None),
    "ItemKNN": ("ItemKNN, cosine, k=50", None),
}
SUMMARY_METRICS = {
    "hr@10": "HR@10, sampled",
    "ndcg@10": "NDCG@10, sampled",
    "full_hr@10": "HR@10, full ranking",
    "full_ndcg@10": "NDCG@10, full ranking",
}


def summary_rows(run: Run, summary: dict, timing: dict, mem: dict, epochs: int) -> None:
    """The rows of RESULTS.md: accuracy beside the torch twins, epoch times, memory."""
    caption = (
        f"ML-100K leave-one-out (latest), last of {epochs} epochs, 4 negatives, Adam 1e-3, batch 256; "
        "sampled: 99 negatives, pessimistic ties; full ranking: every unseen item; reference: the "
        "torch twin trained in the same run (NCF setup: dense Adam, NCF init; defaults: SparseAdam)"
    )
    for name, (shown, twin) in SUMMARY_MODELS.items():
        if name not in summary:
            continue
        n = len(summary[name]["hr@10"]["runs"])
        trained = name not in ("Popularity", "ItemKNN")  # the two baselines are deterministic
        for key, metric in SUMMARY_METRICS.items():
            ours = summary[name][key]
            ref = summary[twin][key] if twin in summary else {}
            run.accuracy(
                shown, metric, ours["mean"], std=ours["std"] if trained and n > 1 else None,
                seeds=n if trained else None, reference="torch twin", reference_value=ref.get("mean"),
                reference_std=ref.get("std") if n > 1 else None, table=caption,
            )  # fmt: skip
    caption = (
        "Seconds per NeuMF training epoch, ML-100K, 4 negatives, float32, the same batches for both; "
        "median over epochs after a warm-up; torch and BLAS on 1 thread"
    )
    for label, t in timing.items():
        batch, kind = label.split()
        lazy = kind == "lazy"
        updates = "lazy (row-sparse Adam)" if lazy else "dense (Adam)"
        run.speed(
            f"NeuMF epoch, batch {batch}, {updates} table updates",
            t["tinyrec_s"], "s", reference=f"torch, {'SparseAdam' if lazy else 'Adam'}",
            reference_value=t.get("torch_s"), table=caption,
        )  # fmt: skip
    caption = (
        f"NeuMF, one epoch on ML-1M-shaped synthetic data ({mem['n_interactions']:,} interactions), "
        "in a process of its own"
    )
    what = "NeuMF one epoch, ML-1M shape"
    run.speed(f"{what}: peak resident memory of the process", mem["peak_rss_mb"], "MB", table=caption,
              note="VmHWM: interpreter, NumPy, Numba and the data included")  # fmt: skip
    run.speed(f"{what}: resident memory before training", mem["rss_before_training_mb"], "MB", table=caption)
    run.speed(f"{what}: peak of Python/NumPy allocations while training", mem["tracemalloc_peak_mb"], "MB",
              table=caption, note="tracemalloc")  # fmt: skip
    run.speed(f"{what}: time", mem["epoch_seconds"], "s", table=caption)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 2 epochs, smaller memory run")
    parser.add_argument(
        "--epochs", type=int, default=None, help="training epochs (default 20; 2 with --quick)"
    )
    parser.add_argument(
        "--seeds", type=int, default=None, help="seeds to average (default 5; 1 with --quick)"
    )
    parser.add_argument("--no-torch", action="store_true", help="skip the torch NeuMF even when installed")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(args.quick)))
        return {}
    run = Run("bench_neural", argv, quick=args.quick)
    epochs = args.epochs or (2 if args.quick else 20)
    seeds = args.seeds or (1 if args.quick else 5)
    torch = None
    if not args.no_torch:
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:
            print("torch is not installed: no torch NeuMF reference", file=sys.stderr)
    data = movielens("100k")
    train, test = leave_one_out(data, by="time")
    print(f"ML-100K leave-one-out: {len(train):,} train, {len(test):,} test users", file=sys.stderr)

    summary = summarise(accuracy(train, test, epochs, seeds, torch))
    speed_epochs = 1 if args.quick else 3
    timing = {
        f"{b} {'lazy' if lazy else 'dense'}": speed(train, b, speed_epochs, torch, lazy)
        for lazy in (True, False)
        for b in (256, 1024)
    }
    mem = memory(args.quick)

    print(f"\nAccuracy, ML-100K, last of {epochs} epochs, mean ± std over {seeds} seed(s)")
    print("(hr/ndcg: 99 sampled negatives, pessimistic ties; full_*: every unseen item a candidate)")
    print(table(summary))
    print("\nNeuMF seconds per epoch (ML-100K, 4 negatives, float32; torch 1 thread, BLAS 1 thread)")
    print("(lazy: row-sparse Adam on the tables, torch SparseAdam; dense: torch.optim.Adam on all)")
    print(f"{'batch':>12} {'tinyrec':>9} {'torch':>9} {'ratio':>7}")
    for b, t in timing.items():
        torch_s = f"{t['torch_s']:>9.3f}" if "torch_s" in t else f"{'-':>9}"
        ratio = f"{t['ratio']:>7.2f}" if "ratio" in t else f"{'-':>7}"
        print(f"{b:>12} {t['tinyrec_s']:>9.3f} {torch_s} {ratio}")
    print(
        f"\nNeuMF, one epoch on ML-1M-shaped synthetic data ({mem['n_interactions']:,} interactions, "
        f"{mem['train_rows_per_epoch']:,} rows): peak RSS {mem['peak_rss_mb']:.0f} MB "
        f"(process before training {mem['rss_before_training_mb']:.0f} MB), tracemalloc peak "
        f"{mem['tracemalloc_peak_mb']:.0f} MB, {mem['epoch_seconds']:.1f} s"
    )
    result = {
        "protocol": {
            "data": "ml-100k",
            "split": "leave_one_out(by='time'), ties -> larger item id",
            "epochs": epochs,
            "seeds": seeds,
            "n_negatives_train": N_NEG,
            "lr": LR,
            "batch_size": BATCH,
            "gmf_factors": N_FACTORS,
            "mlp_layers": list(LAYERS),
            "eval": "sampled: 99 negatives, pessimistic ties, k=10; full ranking k=10",
        },
        "accuracy": summary,
        "speed": timing,
        "memory": mem,
    }
    summary_rows(run, summary, timing, mem, epochs)
    run.write(result)
    return result


if __name__ == "__main__":
    main()
