"""Golden vectors: reference cases another library's test suite can load, and their check.

:func:`export_reference` writes a **reference set** into a folder (``tinyrec reference export
DIR``): one ``.npz`` per case under ``<kind>/<name>.npz`` (``layer/``, ``loss/``, ``optimizer/``,
``metric/``, ``epoch/``), float64 throughout, and ``manifest.json``: the schema version, the
tinyrec and NumPy versions, the conventions, and for every case what it computes (``target``,
``args``), what each array is (``inputs``, ``expected``, with shapes and dtypes), its tolerance and
the SHA-256 of its file. The format is documented for readers in other languages in
docs/reference_vectors.md.

:func:`check_reference` (``tinyrec reference check DIR``) verifies each file's checksum against the
manifest, checks that the manifest describes the cases this tinyrec defines, and re-computes every
case from its stored inputs, comparing with its stored expected arrays within its tolerance. On
the machine that exported a set the differences are exactly zero; a file edited after export fails
its checksum, and a set from another tinyrec version shows which cases moved.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import DataError
from ...threads import limit_blas
from ...version import __version__
from .case import Case, compare
from .epochs import epoch_cases
from .files import read_arrays, read_json, sha256, write_arrays, write_json
from .layers import layer_cases
from .losses_optim import loss_cases, optimizer_cases
from .metrics import metric_cases

FORMAT = "tinyrec-reference"
#: Incremented when the layout of the manifest or of the case files changes (not when cases are added).
SCHEMA_VERSION = 1
MANIFEST = "manifest.json"

CONVENTIONS = {
    "files": "each case is an uncompressed .npz (a zip of NumPy .npy arrays, format 1.0): C order, "
             "little-endian; float64 ('<f8') for every real number, int64 ('<i8') for ids, indices and "
             "labels, bool ('|b1') for masks; a scalar is a 0-d array",
    "roles": "'inputs' are what the computation is given, 'expected' what it must produce; an array's "
             "name is prefix.suffix, its meaning in the manifest",
    "layers": "state.<name> is the state_dict loaded before forward (torch's names and shapes: weight "
              "(out_features, in_features), ...); grad_output.<i> is dℒ/dY_i for "
              "ℒ = Σ_i Σ Y_i ⊙ grad_output.i; grad_input.<j> = dℒ/d(input j); grad.<name> = dℒ/dθ after "
              "one backward from zero, dense; "
              "layers run in the mode of their record's 'training'; recurrent and attention inputs are "
              "batch-first",
    "losses": "torch's definitions and reductions; grad_output is dℒ_total/dvalue (0-d for mean and sum)",
    "optimizers": "torch's update rules; the gradient of each step is given (replacing the previous one), "
                  "steps.<k>[t] is the parameter after step t + 1",
    "metrics": "definitions of tinyrec.metrics: positions by decreasing score, ties as the case's 'ties' "
               "says; -inf scores are not candidates; users with no relevant item (or, for AUC, no "
               "irrelevant candidate) are NaN in per_user and left out of the mean",
    "comparison": "actual matches expected when, elementwise, |actual − expected| <= atol + rtol·|expected| "
                  "(the case's tolerance); NaN must match NaN, an infinity the same infinity; integer and "
                  "boolean arrays must be equal, shapes equal",
}  # fmt: skip


def all_cases() -> list[Case]:
    """Every reference case tinyrec defines, by kind."""
    cases = layer_cases() + loss_cases() + optimizer_cases() + metric_cases() + epoch_cases()
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):  # a programming error in the definitions
        raise AssertionError(f"reference case ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    return cases


def _describe(case: Case, arrays: dict) -> dict:
    return {name: {"shape": list(a.shape), "dtype": a.dtype.str, "meaning": case.meaning(name)}
            for name, a in arrays.items()}  # fmt: skip


def _jsonable(value):
    return json.loads(json.dumps(value, allow_nan=False))


def export_reference(directory) -> Path:
    """Write every reference case and ``manifest.json`` into ``directory`` (created if missing).

    Returns the manifest's path. Existing case files of the same names are replaced (each file is
    written atomically, the manifest last). The same tinyrec on the same machine writes the same
    bytes every time.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    entries = []
    with limit_blas(1):  # one thread: sums in one order
        for case in all_cases():
            inputs = case.inputs()
            expected = case.expected(inputs)
            clash = sorted(set(inputs) & set(expected))
            if clash:
                raise AssertionError(f"{case.id}: arrays {clash} are both inputs and expected")
            path = directory / f"{case.id}.npz"
            path.parent.mkdir(exist_ok=True)
            write_arrays(path, {**inputs, **expected})
            entries.append({
                "id": case.id, "kind": case.kind, "name": case.name, "file": f"{case.id}.npz",
                "sha256": sha256(path), "target": case.target, "torch": case.torch,
                "args": _jsonable(case.args), "tolerance": case.tolerance.as_json(), "notes": case.notes,
                "inputs": _describe(case, inputs), "expected": _describe(case, expected),
            })  # fmt: skip
    manifest = {
        "format": FORMAT, "schema_version": SCHEMA_VERSION, "tinyrec_version": __version__,
        "numpy_version": np.__version__, "python_version": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}", "conventions": CONVENTIONS, "cases": entries,
    }  # fmt: skip
    write_json(directory / MANIFEST, manifest)
    return directory / MANIFEST


@dataclass
class CaseResult:
    """One case of a checked set: ``status`` is ``"ok"``, ``"failed"``, ``"missing"`` (tinyrec defines it,
    the set has not) or ``"unknown"`` (the set has it, this tinyrec does not define it)."""

    id: str
    status: str
    largest_difference: float | None = None  # the largest |re-computed − stored|
    worst_ratio: float | None = None  # the largest difference over its allowed value (<= 1 passes)
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"id": self.id, "status": self.status, "largest_difference": self.largest_difference,
                "worst_ratio": self.worst_ratio, "problems": self.problems}  # fmt: skip


@dataclass
class ReferenceReport:
    """What :func:`check_reference` found, case by case."""

    directory: str
    set_version: str | None  # the tinyrec version that exported the set
    results: list[CaseResult]

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.results)

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if r.status != "ok"]

    @property
    def largest_difference(self) -> float:
        return max((r.largest_difference or 0.0 for r in self.results), default=0.0)

    def as_json(self) -> dict:
        return {"directory": self.directory, "ok": self.ok, "set_tinyrec_version": self.set_version,
                "tinyrec_version": __version__, "cases": len(self.results), "failed": len(self.failures),
                "largest_difference": self.largest_difference,
                "results": [r.as_json() for r in self.results]}  # fmt: skip

    def __str__(self) -> str:
        head = (f"{self.directory}: {len(self.results) - len(self.failures)} of {len(self.results)} cases "
                f"match (set exported by tinyrec {self.set_version}, checked by {__version__}); largest "
                f"difference {self.largest_difference:.3g}")  # fmt: skip
        lines = [head]
        for r in self.failures:
            lines.append(f"  {r.status:<8} {r.id}: " + "; ".join(r.problems))
        return "\n".join(lines)


def check_reference(directory) -> ReferenceReport:
    """Verify a reference set: checksums, the manifest against tinyrec's cases, and every case re-computed.

    Raises DataError when ``directory`` holds no readable manifest of this format; everything else
    found is in the report (``report.ok``).
    """
    directory = Path(directory)
    manifest = read_json(directory / MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DataError(f"{directory / MANIFEST} is not a tinyrec reference manifest (format {FORMAT!r})")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise DataError(
            f"{directory / MANIFEST} has schema version {manifest.get('schema_version')!r}; this tinyrec "
            f"({__version__}) reads version {SCHEMA_VERSION}: check it with the tinyrec version that wrote it"
        )
    entries = manifest.get("cases")
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("id"), str)
                                                for e in entries):  # fmt: skip
        raise DataError(f"{directory / MANIFEST}: 'cases' is not a list of cases with an 'id'")
    defined = {case.id: case for case in all_cases()}
    results = []
    with limit_blas(1):
        for entry in entries:
            case = defined.get(entry["id"])
            if case is None:
                unknown = CaseResult(entry["id"], "unknown", problems=["not a case this tinyrec defines"])
                results.append(unknown)
            else:
                results.append(_check_case(directory, case, entry))
    listed = {e["id"] for e in entries}
    results += [CaseResult(i, "missing", problems=["tinyrec defines this case; the set has none"])
                for i in defined if i not in listed]  # fmt: skip
    known = {f"{i}.npz" for i in listed}
    for path in sorted(directory.glob("*/*.npz")):
        name = path.relative_to(directory).as_posix()
        if name not in known:
            results.append(CaseResult(name, "unknown", problems=["a case file the manifest does not list"]))
    return ReferenceReport(str(directory), manifest.get("tinyrec_version"), results)


def _check_case(directory: Path, case: Case, entry: dict) -> CaseResult:
    result = CaseResult(case.id, "failed")
    problems = result.problems
    for name, mine in (("file", f"{case.id}.npz"), ("target", case.target), ("args", _jsonable(case.args)),
                       ("tolerance", case.tolerance.as_json())):  # fmt: skip
        if entry.get(name) != mine:
            problems.append(f"the manifest's {name} {entry.get(name)!r:.80} is not this tinyrec's "
                            f"{mine!r:.80}")  # fmt: skip
    path = directory / f"{case.id}.npz"
    if not path.is_file():
        problems.append(f"its file {path} is missing")
        return result
    if entry.get("sha256") != sha256(path):
        problems.append("its SHA-256 is not the manifest's: the file was changed after export")
    try:
        arrays = read_arrays(path)
        wanted = case.inputs()
        described = entry.get("inputs") if isinstance(entry.get("inputs"), dict) else {}
        names = entry.get("expected") if isinstance(entry.get("expected"), dict) else {}
        layout = {n: (a.shape, a.dtype.kind) for n, a in arrays.items() if n in wanted}
        if layout != {n: (a.shape, a.dtype.kind) for n, a in wanted.items()} or set(described) != set(wanted):
            shown = {n: f"{a.shape} {a.dtype.str}" for n, a in arrays.items() if n in {**described, **wanted}}
            mine = {n: f"{a.shape} {a.dtype.str}" for n, a in wanted.items()}
            problems.append(f"its inputs {shown} are not this case's {mine}")
            return result
        inputs = {n: arrays[n] for n in wanted}
        stored = {n: arrays[n] for n in names if n in arrays}
        actual = case.expected(inputs)
        if set(stored) != set(actual):
            problems.append(f"its expected arrays {sorted(stored)} are not those computed, {sorted(actual)}")
            return result
        result.largest_difference, result.worst_ratio, found = compare(actual, stored, case.tolerance)
        problems += found
    except (DataError, ValueError, TypeError, KeyError, IndexError) as exc:
        problems.append(f"it could not be re-computed: {type(exc).__name__}: {exc}")
    if not problems:
        result.status = "ok"
    return result


__all__ = [
    "CONVENTIONS", "FORMAT", "MANIFEST", "SCHEMA_VERSION", "CaseResult", "ReferenceReport", "all_cases",
    "check_reference", "export_reference",
]  # fmt: skip
