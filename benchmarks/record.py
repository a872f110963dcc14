"""What every benchmark script records about its run, and the summary rows make_results.py renders.

Each script builds a :class:`Run` when it starts, adds its headline figures as summary rows while
it prints its tables, and ends with :meth:`Run.write`, which writes
``benchmarks/results/<script>.json`` (``<script>_quick.json`` for a ``--quick`` run, which
``RESULTS.md`` never shows)::

    {
      "schema": "tinyrec-benchmark/1",
      "script": "bench_embedding",
      "command": "python benchmarks/bench_embedding.py",        # with the arguments given
      "quick": false,
      "run": {...},        # environment(): date, versions, commit, machine, threads, load
      "summary": [...],    # the rows below, in the order the script added them
      "details": {...}     # everything else the script measured, in its own layout
    }

Two kinds of summary row; a field left ``None`` is not written, and a row whose value was not
measured (``None`` or not finite) is not written at all: nothing is ever filled in.

* **speed** (or memory): ``what``, ``value``, ``unit``, and when a reference ran in the same
  process: ``reference`` (what it is), ``reference_value`` (same unit) and ``ratio``: how many
  times better tinyrec's figure is than the reference's, i.e. ``reference_value / value`` for a
  time or a memory peak (above 1: tinyrec is faster). A script that measured the ratio some other
  way (a median of per-repeat ratios) passes it; otherwise it is computed from the two values.
* **accuracy**: ``model``, ``metric``, ``value``, and ``std`` with ``seeds`` (how many seeds the
  mean and standard deviation are over), ``reference``, ``reference_value``, ``reference_std``
  (e.g. the torch twin or Surprise in the same run).

Both kinds also take ``table`` (the caption of the table the row belongs to: the protocol in a
line), ``better`` (``"lower"`` or ``"higher"``: the direction that is an improvement) and
``note``. A row's key, ``what`` or ``model`` with ``metric``, is unique within a script and
stays the same from run to run: make_results.py finds the previous figure of a row by it, so a
key should change only when what is measured changes.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = "tinyrec-benchmark/1"
ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "NUMBA_THREADING_LAYER",
)
# versions recorded when the script imported the package (the ones that ran)
PACKAGES = ("numpy", "numba", "torch", "surprise", "implicit", "pandas", "scipy")


def row_key(row: dict) -> str:
    """The key make_results.py matches a row by from one run to the next."""
    if "what" in row:
        return row["what"]
    return f"{row['model']} | {row['metric']}"


def _number(x) -> float | None:
    """``x`` as a float, or None when it was not measured (None, NaN, infinite)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


class Run:
    """One run of a benchmark script: its summary rows, then its results file.

    ``script``: the script's name (``"bench_embedding"``); ``argv``: the arguments it was given
    (default ``sys.argv[1:]``), kept as its command; ``quick``: a ``--quick`` run.
    """

    def __init__(self, script: str, argv: list[str] | None = None, *, quick: bool = False):
        self.script = script
        self.argv = [str(a) for a in (sys.argv[1:] if argv is None else argv)]
        self.quick = bool(quick)
        self.started = datetime.now(timezone.utc)
        self._start = time.perf_counter()
        self._load_start = _load_average()
        self.summary: list[dict] = []

    def speed(
        self,
        what: str,
        value,
        unit: str,
        *,
        reference: str | None = None,
        reference_value=None,
        ratio=None,
        better: str = "lower",
        table: str | None = None,
        note: str | None = None,
    ) -> None:
        """A speed or memory figure of tinyrec, with the reference measured beside it if any."""
        value, reference_value, ratio = _number(value), _number(reference_value), _number(ratio)
        if value is None:
            return
        if reference_value is None:
            reference = ratio = None
        elif ratio is None and value > 0 and reference_value > 0:
            ratio = reference_value / value if better == "lower" else value / reference_value
        self._add({
            "table": table, "what": what, "value": value, "unit": unit, "reference": reference,
            "reference_value": reference_value, "ratio": ratio, "better": better, "note": note,
        })  # fmt: skip

    def accuracy(
        self,
        model: str,
        metric: str,
        value,
        *,
        std=None,
        seeds: int | None = None,
        reference: str | None = None,
        reference_value=None,
        reference_std=None,
        better: str = "higher",
        table: str | None = None,
        note: str | None = None,
    ) -> None:
        """An accuracy figure (a mean over ``seeds`` seeds when ``std`` is given)."""
        value, reference_value = _number(value), _number(reference_value)
        if value is None:
            return
        if reference_value is None:
            reference, reference_std = None, None
        self._add({
            "table": table, "model": model, "metric": metric, "value": value, "std": _number(std),
            "seeds": seeds, "reference": reference, "reference_value": reference_value,
            "reference_std": _number(reference_std), "better": better, "note": note,
        })  # fmt: skip

    def _add(self, row: dict) -> None:
        row = {k: v for k, v in row.items() if v is not None}
        key = row_key(row)
        if any(row_key(r) == key for r in self.summary):
            raise ValueError(f"{self.script}: two summary rows with the key {key!r}")
        self.summary.append(row)

    def default_path(self) -> Path:
        return RESULTS / f"{self.script}{'_quick' if self.quick else ''}.json"

    def command(self) -> str:
        return " ".join(["python", f"benchmarks/{self.script}.py", *self.argv])

    def write(self, details: dict, out: Path | str | None = None) -> Path:
        """Write the results file atomically (a reader never sees half of it); return its path."""
        out = Path(out) if out is not None else self.default_path()
        result = {
            "schema": SCHEMA,
            "script": self.script,
            "command": self.command(),
            "quick": self.quick,
            "run": environment(self.started, time.perf_counter() - self._start, self._load_start),
            "summary": self.summary,
            "details": details,
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(result, indent=2) + "\n")
        os.replace(tmp, out)
        print(f"wrote {out}")
        return out


# ---------------------------------------------------------------------- environment
def environment(started: datetime, seconds: float, load_start: float | None) -> dict:
    """Date, versions, commit, machine and the thread settings in force at the end of the run."""
    tinyrec = sys.modules.get("tinyrec")
    commit, modified = _git()
    return {
        "date_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": round(seconds, 1),
        "tinyrec": getattr(tinyrec, "__version__", None),
        "git_commit": commit,
        "git_modified": modified,
        "python": platform.python_version(),
        "packages": {
            name: str(getattr(sys.modules[name], "__version__", "?"))
            for name in PACKAGES
            if name in sys.modules
        },
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": _memory_gb(),
        "load_average_1min": [load_start, _load_average()],
        "threads": threads(),
    }


def threads() -> dict:
    """The thread settings in force: environment variables, Numba, the BLAS/OpenMP pools
    (threadpoolctl's view, when it is installed) and torch's intra-op threads (if torch ran)."""
    out: dict = {"env": {var: os.environ[var] for var in THREAD_VARIABLES if var in os.environ}}
    torch = sys.modules.get("torch")
    if torch is not None:  # read first: starting Numba's OpenMP layer can reset torch's count
        out["torch"] = torch.get_num_threads()
    numba = sys.modules.get("numba")
    if numba is not None:
        parallel = sys.modules.get("numba.np.ufunc.parallel")
        if getattr(parallel, "_is_initialized", False):  # a parallel kernel ran: the layer is up
            out["numba"] = numba.get_num_threads()
            out["numba_threading_layer"] = numba.threading_layer()
        else:  # asking would start the layer; what it would start with
            out["numba"] = numba.config.NUMBA_NUM_THREADS
            out["numba_threading_layer"] = "not started"
    try:
        import threadpoolctl
    except ImportError:
        out["threadpools"] = None
    else:
        pools = [
            {k: info.get(k) for k in ("prefix", "user_api", "internal_api", "version", "num_threads")}
            for info in threadpoolctl.threadpool_info()
        ]
        out["threadpools"] = sorted(pools, key=lambda p: json.dumps(p, sort_keys=True))
    return out


def _git() -> tuple[str | None, bool | None]:
    """The commit checked out, and whether tracked files differ from it (None, None: not a checkout)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
        if done.returncode:
            raise subprocess.CalledProcessError(done.returncode, done.args)
        return done.stdout.strip()

    try:
        return git("rev-parse", "HEAD"), bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None, None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)  # kB
    except OSError:
        pass
    return None


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None
