"""Sequence recommenders on ML-100K: SASRec, GRU4Rec and Caser against their torch twins.

Protocol (the README's ranking split; epochs chosen on a validation split, never on test):

* data: MovieLens 100K from ``$TINYREC_DATA/ml-100k`` (or the user cache); every rating is a
  positive;
* split: :func:`tinyrec.data.split.leave_one_out` ``(data, by="time")``, each user's latest item
  held out for test; then :func:`tinyrec.data.sequences.validation_split` holds out each user's
  latest *train* item for validation;
* training: each model at its defaults, on the train part without the validation items, for up to
  ``--max-epochs`` epochs, evaluated on the validation items after every epoch (99 sampled
  candidates, NDCG@10, the candidates fixed by a seed); training stops after ``patience`` epochs
  without improvement and keeps the best epoch's weights;
* test, with no retraining: each user's input is its whole train sequence (the validation item
  included), as in SASRec's reference code; HR@10 and NDCG@10 with 99 sampled candidates and with
  full ranking (every item not in train), pessimistic ties;
* rows per model: tinyrec at its defaults (lazy row-sparse Adam on the tables), tinyrec with dense
  table updates (``lazy_embeddings=False``), and the **torch twin** (``benchmarks/sequential_twins.py``:
  the same network, checked against tinyrec's to 1e-9 by tests/models/test_torch_parity_sequential.py)
  trained with ``torch.optim.Adam`` on every parameter, as the reference codes train; the twin
  starts from the tinyrec model's initial weights and trains on exactly its batches (order,
  negatives) for the same seed (paired seeds; only the dropout masks differ); mean ± std over
  ``--seeds`` seeds (3 by default).

Speed: seconds per training epoch (validation excluded), the median over the epochs after the
first, of tinyrec (defaults) and the torch twin in the same run, torch and BLAS on one thread
(``OPENBLAS_NUM_THREADS=1`` etc., set by this script before NumPy loads; ``torch.set_num_threads(1)``).
The two train one after the other, minutes apart, so on a shared machine they may see different
loads: ``benchmarks/bench_sequential_speed.py`` compares them fairly, one epoch of each in turn,
and README's speed rows come from it.

Memory: peak resident memory (``VmHWM``) of a process of its own that trains SASRec at its
defaults (``max_len`` 200) for one epoch on ML-1M-shaped random sequences (6,040 users, 3,706
items, 1,000,209 interactions) and then scores every item for every user.

Resuming: the full run (3 seeds x 3 models x {tinyrec lazy, tinyrec dense, torch twin}) takes
hours on a small machine, more than one sitting. Each finished run of a (model, variant, seed), and
the memory run, is written as it completes to ``benchmarks/results/bench_sequential_runs/``
(``bench_sequential_runs_quick/`` with ``--quick``; ``--runs-dir`` to choose), one JSON file each,
keyed by a **fingerprint** of everything that determines its result:

* the code: the contents (and relative paths) of every file in ``tinyrec/`` except ``tinyrec/cli/`` and
  ``tinyrec/exercises/`` (which this script never imports), of this script and of
  ``benchmarks/sequential_twins.py``;
* the data: the train, test, fit and validation arrays after the split;
* the settings: ``--quick``, the epoch limit and the patience of the model;
* the versions of Python, NumPy, Numba and torch.

A later run with the same fingerprint reads the stored result instead of training again and
computes only the missing ones, so an interrupted run (Ctrl-C, a reboot) is resumed by running the
same command again; any change to the library or to this script starts afresh (results of another
fingerprint stay on disk, unused; delete them at will). ``--fresh`` ignores the stored results (and
overwrites them). Files are written atomically: an interrupted run never leaves half a result.

Run: ``python benchmarks/bench_sequential.py [--quick] [--seeds N] [--max-epochs N] [--models ...]``;
prints the tables and writes ``benchmarks/results/bench_sequential.json`` through
``benchmarks/record.py`` (``bench_sequential_quick.json`` with ``--quick``: 250 users, a few epochs,
one seed; ``--out`` to choose), its ``details`` listing which runs were computed and which reused.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before NumPy loads
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import copy  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sequential_twins as twins  # noqa: E402  (benchmarks/sequential_twins.py)
from record import Run  # noqa: E402  (benchmarks/record.py)

from tinyrec.data import Interactions, leave_one_out, movielens  # noqa: E402
from tinyrec.data.sequences import Sequences, validation_split  # noqa: E402
from tinyrec.evaluation import evaluate  # noqa: E402
from tinyrec.models.sequential import Caser, GRU4Rec, SASRec  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"SASRec": SASRec, "GRU4Rec": GRU4Rec, "Caser": Caser}
#: early stopping: epochs without a better validation NDCG@10 before training stops
PATIENCE = {"SASRec": 30, "GRU4Rec": 10, "Caser": 10}
MAX_EPOCHS = {"SASRec": 400, "GRU4Rec": 100, "Caser": 60}
K, N_NEGATIVES = 10, 99


# ---------------------------------------------------------------------- data
def load(quick: bool):
    """``(train, test, fit_part, valid)`` of ML-100K (its first 250 users with ``quick``)."""
    data = movielens("100k")
    if quick:
        data = data.subset(data.users < 250)
    data = data.with_ratings(np.ones(len(data)))
    train, test = leave_one_out(data, by="time")
    fit_part, valid = validation_split(train)
    return train, test, fit_part, valid


def test_scores(model, train, test) -> dict:
    """Sampled and full-ranking HR@10 and NDCG@10 on test."""
    out = {}
    for protocol, prefix in (("sampled", ""), ("full", "full_")):
        result = evaluate(model, test, train=train, protocol=protocol, k=K, n_negatives=N_NEGATIVES, seed=0)
        out[f"{prefix}hr@10"], out[f"{prefix}ndcg@10"] = result["hr@10"], result["ndcg@10"]
    return out


# ---------------------------------------------------------------------- tinyrec
def train_tinyrec(cls, seed, data, max_epochs, patience, **overrides) -> dict:
    train, test, fit_part, valid = data
    model = cls(n_epochs=max_epochs, patience=patience, seed=seed, **overrides)
    start = time.perf_counter()
    model.fit(fit_part, valid=valid)  # keeps the best epoch on valid, then reads train + valid
    seconds = time.perf_counter() - start
    h = model.history_
    best = int(np.argmax(h["val_ndcg@10"]))
    return {
        **test_scores(model, train, test),
        "best_epoch": best + 1,
        "epochs_run": len(h["loss"]),
        "val_ndcg@10": h["val_ndcg@10"][best],
        "val_hr@10": h["val_hr@10"][best],
        "epoch_seconds": h["epoch_seconds"],
        "fit_seconds": seconds,
    }


# ---------------------------------------------------------------------- the torch twin
class TwinScorer:
    """``score_all(users)`` of a torch twin, reading each user's stored history as tinyrec does."""

    def __init__(self, torch, twin, model, sequences: Sequences, user_counts):
        self.torch, self.twin, self.model, self.sequences = torch, twin, model, sequences
        self.known = user_counts > 0
        self.task = "ranking"

    def score_all(self, users):
        torch, model = self.torch, self.model
        rows = self.sequences.padded(users, model._input_length, model.n_items_, side=model._padding_side)
        out = np.empty((len(users), model.n_items_))
        self.twin.eval()
        with torch.no_grad():
            for s in range(0, len(users), 128):
                block = rows[s : s + 128]
                if isinstance(model, Caser):
                    known = torch.from_numpy(self.known[users[s : s + 128]])
                    scores = self.twin.score_all(
                        torch.from_numpy(users[s : s + 128]), torch.from_numpy(block), known
                    )
                else:
                    scores = self.twin.score_all(torch.from_numpy(block))
                out[s : s + 128] = scores.numpy()
        return out


def start(model, train):
    """``model``'s network and batch source as ``model.fit(train)`` starts them (same weights, batches)."""
    model.n_users_, model.n_items_ = train.n_users, train.n_items
    return model._start(train)


def train_twin(torch, cls, seed, data, max_epochs, patience) -> dict:
    """The torch twin of ``cls(seed=seed)``, trained as :func:`train_tinyrec` trains the model."""
    train, test, fit_part, valid = data
    model = cls(seed=seed)
    batches = start(model, fit_part)
    twin = twins.twin_of(torch, model)  # dense tables: torch.optim.Adam on every parameter
    optimizers = twins.twin_optimizers(torch, model, twin)
    loss_fn = twins.twin_loss(torch, model)
    scorer = TwinScorer(torch, twin, model, Sequences.from_interactions(fit_part), fit_part.user_counts())
    best, best_state, since, history = (
        -math.inf,
        None,
        0,
        {"loss": [], "epoch_seconds": [], "val_ndcg@10": []},
    )
    start_time = time.perf_counter()
    for _ in range(max_epochs):
        twin.train()
        began, total, count = time.perf_counter(), 0.0, 0
        for inputs, target in batches.epoch():
            for opt in optimizers:
                opt.zero_grad()
            loss = loss_fn(twin(*twins.as_torch(torch, inputs)), torch.from_numpy(np.asarray(target)))
            loss.backward()
            for opt in optimizers:
                opt.step()
            total, count = total + float(loss.detach()) * len(target), count + len(target)
        history["epoch_seconds"].append(time.perf_counter() - began)
        history["loss"].append(total / count)
        val = evaluate(
            scorer, valid, train=fit_part, protocol="sampled", k=K, n_negatives=N_NEGATIVES, seed=0
        )
        history["val_ndcg@10"].append(val["ndcg@10"])
        if val["ndcg@10"] > best:
            best, best_state, since, best_hr = (
                val["ndcg@10"],
                copy.deepcopy(twin.state_dict()),
                0,
                val["hr@10"],
            )
        else:
            since += 1
            if since >= patience:
                break
    seconds = time.perf_counter() - start_time
    twin.load_state_dict(best_state)
    whole = Sequences.from_interactions(fit_part, valid)  # the test input: the whole train sequence
    scorer = TwinScorer(torch, twin, model, whole, fit_part.user_counts() + valid.user_counts())
    return {
        **test_scores(scorer, train, test),
        "best_epoch": int(np.argmax(history["val_ndcg@10"])) + 1,
        "epochs_run": len(history["loss"]),
        "val_ndcg@10": best,
        "val_hr@10": best_hr,
        "epoch_seconds": history["epoch_seconds"],
        "fit_seconds": seconds,
    }


# ---------------------------------------------------------------------- stored runs (resuming)
#: parts of tinyrec/ this script never imports: they do not enter the fingerprint
NOT_IMPORTED = ("cli", "exercises")


def code_files() -> list[Path]:
    """The files whose contents determine a run's result (see the module docstring)."""
    package = ROOT / "tinyrec"
    files = [
        p for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".nbi", ".nbc")
        and p.relative_to(package).parts[0] not in NOT_IMPORTED
    ]  # fmt: skip
    files += [ROOT / "benchmarks" / "bench_sequential.py", ROOT / "benchmarks" / "sequential_twins.py"]
    return sorted(files)


def fingerprint(data, torch) -> str:
    """SHA-256 of the code (:func:`code_files`), the split data and the package versions."""
    import numba

    h = hashlib.sha256()

    def add(name: str, payload: bytes) -> None:  # length-prefixed: no two inputs hash alike
        for part in (name.encode(), payload):
            h.update(len(part).to_bytes(8, "little"))
            h.update(part)

    for path in code_files():
        add(path.relative_to(ROOT).as_posix(), path.read_bytes())
    for name, part in zip(("train", "test", "fit", "valid"), data, strict=True):
        for field in ("users", "items", "timestamps"):
            array = getattr(part, field)
            add(f"{name}.{field}", b"" if array is None else np.ascontiguousarray(array).tobytes())
    versions = {"python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
                "torch": None if torch is None else torch.__version__}  # fmt: skip
    add("versions", json.dumps(versions, sort_keys=True).encode())
    return h.hexdigest()


class Store:
    """Finished runs on disk, one JSON file per (model, variant, seed), keyed by the fingerprint."""

    def __init__(self, directory: Path, fingerprint: str, quick: bool, fresh: bool = False):
        self.directory, self.fingerprint, self.quick, self.fresh = Path(directory), fingerprint, quick, fresh
        self.computed: list[str] = []
        self.reused: list[str] = []

    def path(self, key: str) -> Path:
        return self.directory / f"{key}-{self.fingerprint[:16]}.json"

    def get(self, key: str, settings: dict, compute):
        """The stored result of ``key`` with these ``settings``, or ``compute()``'s, stored as it ends."""
        path = self.path(key)
        if not self.fresh and path.exists():
            stored = json.loads(path.read_text())
            if stored.get("fingerprint") == self.fingerprint and stored.get("settings") == settings:
                self.reused.append(key)
                return stored["result"], True
        result = compute()
        finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        record = {"key": key, "fingerprint": self.fingerprint, "settings": settings, "quick": self.quick,
                  "finished_utc": finished, "result": result}  # fmt: skip
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(record, indent=1) + "\n")
        os.replace(tmp, path)  # atomic: a reader (or a resumed run) never sees half a result
        self.computed.append(key)
        return result, False


# ---------------------------------------------------------------------- accuracy and speed
def run_all(names, seeds, data, torch, quick: bool, store: Store) -> dict:
    runs: dict[str, list] = {}
    for name in names:
        cls = MODELS[name]
        max_epochs = 4 if quick else MAX_EPOCHS[name]
        patience = 2 if quick else PATIENCE[name]
        settings = {"quick": quick, "max_epochs": max_epochs, "patience": patience}
        variants = {f"{name}": ("lazy", {}), f"{name} dense": ("dense", {"lazy_embeddings": False})}
        for seed in range(seeds):
            for label, (variant, overrides) in variants.items():
                result, reused = store.get(
                    f"{name}-{variant}-seed{seed}", settings,
                    lambda: train_tinyrec(cls, seed, data, max_epochs, patience, **overrides),  # noqa: B023
                )  # fmt: skip
                runs.setdefault(label, []).append(result)
                _report(label, seed, result, reused)
            if torch is not None:
                result, reused = store.get(
                    f"{name}-torch-seed{seed}", settings,
                    lambda: train_twin(torch, cls, seed, data, max_epochs, patience),  # noqa: B023
                )  # fmt: skip
                runs.setdefault(f"torch {name}", []).append(result)
                _report(f"torch {name}", seed, result, reused)
    return runs


def _report(label: str, seed: int, result: dict, reused: bool) -> None:
    stamp = time.strftime("%H:%M:%S", time.gmtime())
    origin = "stored" if reused else f"done {stamp} UTC"
    print(f"{label:<16} seed {seed}: {_line(result)} [{origin}]", file=sys.stderr, flush=True)


def _line(r: dict) -> str:
    return (
        f"HR@10 {r['hr@10']:.4f} NDCG@10 {r['ndcg@10']:.4f} full HR@10 {r['full_hr@10']:.4f}, "
        f"best epoch {r['best_epoch']} of {r['epochs_run']}, {_epoch_time(r):.2f} s/epoch"
    )


def _epoch_time(r: dict) -> float:
    """The median epoch time after the first epoch (compilation, first allocations)."""
    times = r["epoch_seconds"][1:] or r["epoch_seconds"]
    return statistics.median(times)


def summarise(runs: dict) -> dict:
    keys = ("hr@10", "ndcg@10", "full_hr@10", "full_ndcg@10", "val_ndcg@10", "best_epoch")
    out = {}
    for label, results in runs.items():
        out[label] = {
            key: {"mean": float(np.mean([r[key] for r in results])),
                  "std": float(np.std([r[key] for r in results], ddof=1)) if len(results) > 1 else 0.0,
                  "runs": [r[key] for r in results]}
            for key in keys
        }  # fmt: skip
        out[label]["epoch_seconds"] = float(np.median([_epoch_time(r) for r in results]))
    return out


# ---------------------------------------------------------------------- memory (own process)
def ml1m_shaped(n_users=6040, n_items=3706, n_interactions=1_000_209, seed=0) -> Interactions:
    """Random histories of ML-1M's sizes: at least 20 items per user, a skewed activity, Zipf items.

    Each user's items are distinct; timestamps are random (the order is all a sequence model reads).
    """
    rng = np.random.default_rng(seed)
    activity = rng.pareto(1.5, n_users) + 1.0
    counts = 20 + np.floor(activity / activity.sum() * (n_interactions - 20 * n_users)).astype(np.int64)
    counts = np.minimum(counts, n_items // 2)  # at most half the items each (ML-1M's largest: 2,314)
    while counts.sum() < n_interactions:  # the rounding's and the cap's remainder, to users below the cap
        below = np.flatnonzero(counts < n_items // 2)
        counts[rng.choice(below, min(len(below), n_interactions - counts.sum()), replace=False)] += 1
    item_p = 1.0 / np.arange(1, n_items + 1) ** 0.8
    item_p /= item_p.sum()
    users, items = [], []
    for u, c in enumerate(counts):
        users.append(np.full(c, u))
        items.append(rng.choice(n_items, c, replace=False, p=item_p))
    users, items = np.concatenate(users), np.concatenate(items)
    return Interactions(users, items, None, rng.permutation(len(users)), n_users=n_users, n_items=n_items)


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
    """SASRec, one epoch on ML-1M-shaped sequences, then every item scored for every user."""
    data = ml1m_shaped(n_users=6040 if not quick else 600, n_interactions=1_000_209 if not quick else 100_000)
    rss_before = peak_rss_mb()
    start_time = time.perf_counter()
    model = SASRec(n_epochs=1, seed=0).fit(data)
    fit_seconds = time.perf_counter() - start_time
    scored = 0
    for s in range(0, data.n_users, 512):  # every user's scores, a block at a time (as evaluate does)
        scored += model.score_all(np.arange(s, min(s + 512, data.n_users))).shape[0]
    return {
        "n_users": data.n_users, "n_items": data.n_items, "n_interactions": len(data),
        "max_len": model.max_len,
        "epoch_seconds": fit_seconds, "users_scored": scored, "peak_rss_mb": peak_rss_mb(),
        "rss_before_training_mb": rss_before,
    }  # fmt: skip


def memory(quick: bool) -> dict:
    args = [sys.executable, __file__, "--memory-child"] + (["--quick"] if quick else [])
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


# ---------------------------------------------------------------------- report
def table(summary: dict) -> str:
    keys = ("hr@10", "ndcg@10", "full_hr@10", "full_ndcg@10", "best_epoch")
    head = f"{'model':<16}" + "".join(f"{k:>20}" for k in keys) + f"{'s/epoch':>10}"
    lines = [head, "-" * len(head)]
    for name, values in summary.items():
        cells = "".join(f"{values[k]['mean']:>12.4f} ± {values[k]['std']:.3f}" for k in keys)
        lines.append(f"{name:<16}{cells}{values['epoch_seconds']:>10.2f}")
    return "\n".join(lines)


SUMMARY_METRICS = {
    "hr@10": "HR@10, sampled",
    "ndcg@10": "NDCG@10, sampled",
    "full_hr@10": "HR@10, full ranking",
    "full_ndcg@10": "NDCG@10, full ranking",
}


def summary_rows(run: Run, summary: dict, mem: dict) -> None:
    caption = (
        "ML-100K leave-one-out (latest); epochs chosen on a validation split (each user's latest train "
        "item), NDCG@10 sampled, early stopping; test input: the whole train sequence; sampled: 99 "
        "negatives, pessimistic ties; full ranking: every unseen item; reference: the torch twin (dense "
        "Adam, the same initial weights and batches) trained in the same run"
    )
    for name in MODELS:
        twin = summary.get(f"torch {name}", {})
        for label, shown in (
            (name, f"{name}, defaults (lazy Adam)"),
            (f"{name} dense", f"{name}, dense Adam"),
        ):
            if label not in summary:
                continue
            n = len(summary[label]["hr@10"]["runs"])
            for key, metric in SUMMARY_METRICS.items():
                ours, ref = summary[label][key], twin.get(key, {})
                run.accuracy(
                    shown, metric, ours["mean"], std=ours["std"] if n > 1 else None, seeds=n,
                    reference="torch twin", reference_value=ref.get("mean"),
                    reference_std=ref.get("std") if n > 1 else None, table=caption,
                )  # fmt: skip
    caption = (
        "Seconds per training epoch on ML-100K (validation excluded), float32, the same batches for both, "
        "median over the epochs after the first; torch and BLAS on 1 thread"
    )
    for name in MODELS:
        if name in summary:
            twin = summary.get(f"torch {name}", {})
            run.speed(f"{name} epoch, defaults", summary[name]["epoch_seconds"], "s",
                      reference="torch twin, Adam", reference_value=twin.get("epoch_seconds"),
                      table=caption)  # fmt: skip
    if mem:
        caption = (
            f"SASRec (max_len {mem['max_len']}): one epoch on ML-1M-shaped random sequences "
            f"({mem['n_users']:,} users, {mem['n_interactions']:,} interactions), then every item scored for "
            f"every user, in a process of its own"
        )
        run.speed("SASRec, ML-1M shape: peak resident memory of the process", mem["peak_rss_mb"], "MB",
                  table=caption, note="VmHWM: interpreter, NumPy, Numba and the data included")  # fmt: skip
        run.speed("SASRec, ML-1M shape: one epoch", mem["epoch_seconds"], "s", table=caption)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="250 users, 4 epochs, 1 seed, a small memory run"
    )
    parser.add_argument("--seeds", type=int, default=None, help="paired seeds (default 3; 1 with --quick)")
    parser.add_argument("--max-epochs", type=int, default=None, help="override every model's epoch limit")
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--no-torch", action="store_true", help="skip the torch twins even when installed")
    parser.add_argument("--no-memory", action="store_true", help="skip the ML-1M-shaped memory run")
    parser.add_argument("--runs-dir", default=None, help="where finished runs are stored (see Resuming)")
    parser.add_argument("--fresh", action="store_true", help="ignore (and overwrite) the stored runs")
    parser.add_argument("--out", default=None, help="the summary JSON (default benchmarks/results/...)")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(args.quick)))
        return {}
    run = Run("bench_sequential", argv, quick=args.quick)
    seeds = args.seeds or (1 if args.quick else 3)
    if args.max_epochs:
        MAX_EPOCHS.update(dict.fromkeys(MAX_EPOCHS, args.max_epochs))
    torch = None
    if not args.no_torch:
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:
            print("torch is not installed: no torch twins", file=sys.stderr)
    data = load(args.quick)
    train, test, fit_part, valid = data
    print(f"ML-100K leave-one-out: {len(train):,} train ({len(valid):,} of them validation), "
          f"{len(test):,} test users", file=sys.stderr)  # fmt: skip
    default_dir = run.default_path().parent / f"bench_sequential_runs{'_quick' if args.quick else ''}"
    runs_dir = args.runs_dir or default_dir
    store = Store(runs_dir, fingerprint(data, torch), args.quick, fresh=args.fresh)
    print(f"fingerprint {store.fingerprint[:16]}: finished runs in {runs_dir}", file=sys.stderr, flush=True)
    runs = run_all(args.models, seeds, data, torch, args.quick, store)
    summary = summarise(runs)
    print(table(summary))
    mem = {}
    if not args.no_memory:
        mem, reused = store.get("memory", {"quick": args.quick}, lambda: memory(args.quick))
        print(f"SASRec, ML-1M shape, one epoch and every score: peak RSS {mem['peak_rss_mb']:.0f} MB, "
              f"epoch {mem['epoch_seconds']:.1f} s{' [stored]' if reused else ''}")  # fmt: skip
    summary_rows(run, summary, mem)
    details = {"seeds": seeds, "patience": PATIENCE, "max_epochs": MAX_EPOCHS, "summary": summary,
               "runs": runs, "memory": mem, "fingerprint": store.fingerprint,
               "runs_computed": store.computed, "runs_reused": store.reused}  # fmt: skip
    run.write(details, out=args.out)
    return details


if __name__ == "__main__":
    main()
