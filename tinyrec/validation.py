"""Small helpers every module uses to check its inputs and resolve ``dtype=`` / ``seed=``.

They exist so that bad input fails early with a message naming the problem and the fix, instead
of surfacing later as a NumPy broadcasting traceback.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import ArgumentTypeError, DTypeError, IndexOutOfRangeError, NonFiniteError, ShapeError

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def resolve_dtype(dtype) -> np.dtype:
    """Return ``dtype`` as a NumPy dtype, accepting only float32 and float64."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise DTypeError(f"dtype={dtype!r} is not a dtype; use np.float32 or np.float64") from exc
    if resolved not in FLOAT_DTYPES:
        raise DTypeError(f"dtype={resolved} is not supported; use np.float32 (default) or np.float64")
    return resolved


def as_generator(seed) -> np.random.Generator:
    """Turn ``seed`` (None, an int, or a ``np.random.Generator``) into a Generator.

    The same int always gives the same stream, so seeded construction repeats exactly.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed}")
        return np.random.default_rng(seed)
    raise ArgumentTypeError(f"seed must be None, an int or a np.random.Generator, got {type(seed).__name__}")


def check_seed(seed) -> None:
    """Refuse a bad ``seed=`` now, at construction, with :func:`as_generator`'s message.

    For constructors that store the seed and draw from it later (in ``fit``), or never.
    """
    as_generator(seed)


# The checks of hyperparameters and options. A value of the wrong type raises ArgumentTypeError
# (a TypeError and a ValueError at once); a value of the right type but out of range raises
# ValueError. Either way the message names the argument and what it must be.


def check_bool(value, name: str) -> bool:
    """Return ``value`` as a bool, unless it is not ``True`` or ``False`` (NumPy's bools count).

    A truthy string such as ``"no"`` would otherwise silently count as True.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(value, name: str, choices) -> str:
    """Return ``value``, unless it is not one of the strings ``choices``."""
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def _require_int(value, name: str, what: str) -> None:
    """An integer (Python's or NumPy's), not a bool and not a float holding a whole number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be {what}, got {value!r}")


def check_int(value, name: str) -> int:
    """Return ``value`` as an int, unless it is not an integer."""
    _require_int(value, name, "an integer")
    return int(value)


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as an int, unless it is not an integer >= 1."""
    _require_int(value, name, "a positive integer")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_int_at_least(value, name: str, minimum: int) -> int:
    """Return ``value`` as an int, unless it is not an integer >= ``minimum``.

    ``minimum=0`` accepts counts that may be zero (``n_epochs=0``: an untrained model).
    """
    _require_int(value, name, f"an integer >= {minimum}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _require_finite_real(value, name: str, what: str) -> None:
    """A real number (not None, a bool or a string), and finite: no hyperparameter is infinite."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be {what}, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be {what}, got {value!r}")


def check_finite_real(value, name: str) -> float:
    """Return ``value`` as a float, unless it is not a finite real number."""
    _require_finite_real(value, name, "a finite number")
    return float(value)


def check_nonnegative(value, name: str) -> float:
    """Return ``value`` as a float, unless it is not a finite real number >= 0."""
    _require_finite_real(value, name, "a finite number >= 0")
    if value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_positive(value, name: str) -> float:
    """Return ``value`` as a float, unless it is not a finite real number > 0."""
    _require_finite_real(value, name, "a finite number > 0")
    if value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_in_range(value, name: str, low: float, high: float) -> float:
    """Return ``value`` as a float, unless it is not a real number in ``[low, high]``."""
    _require_finite_real(value, name, f"a number in [{low}, {high}]")
    if not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


def check_float_array(x, name: str, *, dtype=None, ndim=None, min_ndim=None, where=None) -> np.ndarray:
    """Check that ``x`` is a floating ndarray (of ``dtype`` when given) with the expected rank.

    Returns ``x`` itself (no copy). Raises :class:`DTypeError` or :class:`ShapeError`. Messages
    name ``where`` (default: ``name``), e.g. ``"Linear input x"``, and suggest fixes on ``name``.
    """
    where = name if where is None else where
    if not isinstance(x, np.ndarray):
        raise DTypeError(f"{where} must be a numpy array, got {type(x).__name__}; wrap it in np.asarray")
    if x.dtype not in FLOAT_DTYPES:
        raise DTypeError(
            f"{where} has dtype {x.dtype}; expected a float array (float32 or float64), "
            f"e.g. {name}.astype(np.float32)"
        )
    if dtype is not None and x.dtype != dtype:
        raise DTypeError(
            f"{where} has dtype {x.dtype} but this module computes in {np.dtype(dtype)}; "
            f"cast with {name}.astype(np.{np.dtype(dtype).name}) or build the module with "
            f"dtype=np.{x.dtype.name}"
        )
    check_ndim(x, where, ndim, min_ndim)
    return x


def check_index_array(idx, name: str, upper: int, *, ndim=None, min_ndim=None) -> np.ndarray:
    """Check that ``idx`` holds integers in ``[0, upper)``; return it as an int64 array."""
    idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"{name} must hold integers, got dtype {idx.dtype}; cast with .astype(np.int64)")
    check_ndim(idx, name, ndim, min_ndim)
    if idx.size:
        low, high = idx.min(), idx.max()
        if low < 0 or high >= upper:
            bad = low if low < 0 else high
            raise IndexOutOfRangeError(f"{name} contains {bad}, outside the valid range [0, {upper})")
    return idx.astype(np.int64, copy=False)


def check_finite(x: np.ndarray, name: str) -> None:
    """Raise :class:`NonFiniteError` when ``x`` contains NaN or inf."""
    if not np.all(np.isfinite(x)):
        n_bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise NonFiniteError(f"{name} contains {n_bad} NaN or inf value(s); remove or impute them first")


_DIVERGENCE_FIX = (
    "lower the learning rate, clip gradients (tinyrec.optim.clip_grad_norm_) or check the data for NaN/inf"
)


def check_finite_loss(
    value: float,
    *,
    epoch: int,
    batch: int | None = None,
    last_finite: float | None,
    what: str = "the training loss",
    fix: str = _DIVERGENCE_FIX,
) -> None:
    """Raise :class:`~tinyrec.errors.NonFiniteError` when a loss value is NaN or inf.

    The message names the epoch and batch (1-based; ``batch=None`` for a loop checked once per
    epoch), the last finite value seen, so the user can tell a slow divergence (growing loss) from
    bad input (NaN from the start), and ``fix``, what to change.
    """
    if not math.isfinite(value):
        last = "none yet" if last_finite is None else f"{last_finite:.6g}"
        where = f"epoch {epoch}" if batch is None else f"epoch {epoch}, batch {batch}"
        raise NonFiniteError(f"{what} became {value} at {where} (last finite value: {last}); {fix}")


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise :class:`ShapeError` unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ShapeError(f"{name_a} has shape {a.shape} but {name_b} has shape {b.shape}; they must match")


def check_ndim(x: np.ndarray, name: str, ndim, min_ndim) -> None:
    """Raise ShapeError unless ``x`` has ``ndim`` axes (an int or a tuple of them), at least ``min_ndim``."""
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            want = " or ".join(str(n) for n in allowed)
            raise ShapeError(f"{name} must have {want} dimension(s), got shape {x.shape}")
    if min_ndim is not None and x.ndim < min_ndim:
        raise ShapeError(f"{name} must have at least {min_ndim} dimension(s), got shape {x.shape}")


# -- rules: the checks above as values, for declarative tables -------------------------------
# A rule is a function ``rule(value, name) -> value`` that returns the value (normalized: an int,
# a float, a dtype) or raises naming ``name``. Models declare one per constructor argument in
# their ``hyperparameters`` table (tinyrec.models.base.Recommender), so the domain of every
# hyperparameter is written once, where a reader looks for it.


def at_least(minimum: int):
    """The rule "an integer >= ``minimum``"."""
    return lambda value, name: check_int_at_least(value, name, minimum)


def in_range(low: float, high: float):
    """The rule "a number in ``[low, high]``"."""
    return lambda value, name: check_in_range(value, name, low, high)


def one_of(*choices: str):
    """The rule "one of the strings ``choices``"."""
    return lambda value, name: check_choice(value, name, choices)


def optional(rule):
    """``rule``, or None (which then means a documented default)."""
    return lambda value, name: None if value is None else rule(value, name)


def float_dtype(value, name: str) -> np.dtype:
    """The rule "np.float32 or np.float64", returned as a NumPy dtype."""
    return resolve_dtype(value)


def seed_like(value, name: str):
    """The rule "None, an int >= 0 or a np.random.Generator" (kept as given)."""
    check_seed(value)
    return value


count = at_least(0)  #: an integer >= 0 (n_epochs=0 is an untrained model)
positive_int = check_positive_int
flag = check_bool
real = check_finite_real
nonnegative = check_nonnegative
positive = check_positive
