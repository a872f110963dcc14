"""One reference case: what it feeds, what tinyrec computes from it, and how close another result must be.

A :class:`Case` is a pure function of its inputs: ``compute(inputs)`` returns the expected
arrays, so a stored case can be re-computed from the inputs stored with it (``tinyrec reference
check``) and a library under test can compute the same thing from the same inputs. ``make(rng)``
draws the inputs once, when a set is exported.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """``|actual − expected| <= atol + rtol·|expected|``, elementwise; ``why`` says what it allows for."""

    rtol: float
    atol: float
    why: str

    def as_json(self) -> dict:
        return {"rtol": self.rtol, "atol": self.atol, "why": self.why}


#: elementwise arithmetic and short sums: rounding of the last bit, and sums taken in another order
ARITHMETIC = Tolerance(
    1e-14, 1e-15, "elementwise arithmetic and short sums, which another library may round differently in the "
    "last bit or add in another order",
)
#: exp, log, tanh, sqrt: libm implementations differ by an ulp or two
TRANSCENDENTAL = Tolerance(
    1e-13, 1e-14, "exp, log, tanh and sqrt, whose implementations (libm, SIMD) differ by an ulp or two, and "
    "their compositions",
)
#: matrix products: BLAS kernels sum in blocks whose order depends on the machine
BLAS = Tolerance(
    1e-12, 1e-13, "matrix products, which BLAS sums in blocks whose order depends on the machine and the "
    "library, chained through several products",
)
#: several optimizer steps, or an SGD epoch through a fastmath (reassociated) Numba kernel
ITERATIVE = Tolerance(
    1e-11, 1e-13, "many dependent updates (optimizer steps, an SGD epoch through a Numba kernel compiled "
    "with reassociated sums): last-bit differences compound",
)


@dataclass(frozen=True)
class Case:
    """A reference case: ``compute(make(rng))`` is what tinyrec computes, stored for others to match.

    kind, name : the case's id is ``kind/name`` (``layer/Linear``); its file ``kind/name.npz``.
    target : what is computed, as tinyrec names it (``tinyrec.nn.Linear``).
    args : JSON: what ``target`` is built or called with (for a layer, its record in a layer file:
        class, constructor arguments, mode; see :func:`tinyrec.io.describe_module`).
    make : ``make(rng) -> {name: array}``, the inputs.
    compute : ``compute(inputs) -> {name: array}``, the expected arrays (it may change its inputs).
    meaning : what each input and expected array is.
    tolerance : how close another computation must come.
    torch : torch's equivalent (and how to call it), where torch has one.
    notes : the conventions particular to this case.
    """

    kind: str
    name: str
    target: str
    args: dict
    make: Callable[[np.random.Generator], dict]
    compute: Callable[[dict], dict]
    meaning: Callable[[str], str]
    tolerance: Tolerance
    torch: str | None = None
    notes: str = ""

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.name}"

    def inputs(self) -> dict[str, np.ndarray]:
        """The inputs, drawn from a generator seeded by the case's id (adding a case moves no other)."""
        arrays = self.make(np.random.default_rng(zlib.crc32(self.id.encode())))
        return {name: np.asarray(a) for name, a in arrays.items()}

    def expected(self, inputs: dict) -> dict[str, np.ndarray]:
        """The expected arrays computed from (copies of) ``inputs``."""
        copies = {name: np.array(a, copy=True) for name, a in inputs.items()}
        return {name: np.asarray(a) for name, a in self.compute(copies).items()}


def compare(actual: dict, expected: dict, tolerance: Tolerance) -> tuple[float, float, list[str]]:
    """``(largest |actual − expected|, largest ratio to the allowed difference, problems)``.

    The ratio is ``|actual − expected| / (atol + rtol·|expected|)``: at most 1 where they match.
    NaN must stand where NaN stands, an infinity where the same infinity stands; integer and
    boolean arrays must be equal; shapes must be equal.
    """
    largest, worst, problems = 0.0, 0.0, []
    for name, want in expected.items():
        got = np.asarray(actual[name]) if name in actual else None
        if got is None:
            problems.append(f"{name} was not computed")
        elif got.shape != want.shape:
            problems.append(f"{name} has shape {got.shape}, expected {want.shape}")
        elif want.dtype.kind != "f" or got.dtype.kind != "f":
            if not np.array_equal(got, want):
                problems.append(f"{name} differs (integers and booleans must be equal)")
        elif not _same_specials(got, want):
            problems.append(f"{name} has NaN or infinite values where the expected array has not, or the "
                            f"reverse")  # fmt: skip
        else:
            finite = np.isfinite(want)
            diff = np.abs(got[finite] - want[finite])
            ratio = diff / (tolerance.atol + tolerance.rtol * np.abs(want[finite]))
            largest = max(largest, float(diff.max(initial=0.0)))
            worst = max(worst, float(ratio.max(initial=0.0)))
            if np.any(ratio > 1.0):
                problems.append(f"{name} differs by up to {diff.max():.3g} (allowed: atol {tolerance.atol:g} "
                                f"+ rtol {tolerance.rtol:g}·|expected|)")  # fmt: skip
    return largest, worst, problems


def _same_specials(got: np.ndarray, want: np.ndarray) -> bool:
    """NaN where ``want`` has NaN, the same infinity where it has one, and finite values elsewhere."""
    infinite = np.isinf(want)
    return (np.array_equal(np.isnan(got), np.isnan(want)) and np.array_equal(got[infinite], want[infinite])
            and bool(np.all(np.isfinite(got[np.isfinite(want)]))))  # fmt: skip
