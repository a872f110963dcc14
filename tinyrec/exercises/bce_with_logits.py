"""Course exercise: binary cross-entropy on logits, stable, loss and gradient.

Task
----
Write ``my_bce_with_logits(logits, targets)``: the mean binary cross-entropy of the probabilities
``σ(x)`` that the logits ``x`` stand for, and its gradient with respect to the logits. It must work
for any finite logits, ``±1000`` included, and for soft targets (any ``y`` in ``[0, 1]``).

Shapes
------
``logits, targets : (N,)`` or any one shape, floats; ``targets`` in ``[0, 1]``. Returns
``(loss, dlogits)``: ``loss`` a Python ``float``, ``dlogits`` the shape of ``logits``.

Math
----
With ``σ(x) = 1 / (1 + e^{−x})`` and ``M`` the number of entries::

    ℓ = −[ y log σ(x) + (1 − y) log(1 − σ(x)) ]        ℒ = (1/M) Σ ℓ

``σ(1000)`` is exactly 1 in float64, so ``log(1 − σ(1000))`` is ``log 0``; and ``e^{1000}``
overflows. Rewrite ``ℓ`` with ``log(1 − σ(x)) = log σ(x) − x`` and ``log σ(x) = −log(1 + e^{−x})``
until every exponential has a negative argument (hint: ``|x|``). Then differentiate: the result
is short. ``tinyrec.losses.BCEWithLogitsLoss`` computes the same numbers.

Checks
------
* ``returns_a_loss_and_a_gradient`` (1 point);
* ``loss_matches_tinyrec`` (2): seeded random logits and hard and soft targets;
* ``gradient_matches_tinyrec`` (2);
* ``loss_is_a_mean`` (1): two copies of a batch have the loss of one copy;
* ``stable_at_large_logits`` (2): logits of ``±1000`` give the right finite loss and gradient;
* ``soft_targets_count`` (1): ``y = 0.3`` is not rounded to 0;
* ``matches_central_differences`` (1): :func:`tinyrec.gradcheck.numerical_gradient` of your loss;
* ``inputs_are_not_modified`` (1).
"""

from __future__ import annotations

import math

import numpy as np

from ..gradcheck import numerical_gradient, relative_error
from ..losses import BCEWithLogitsLoss
from .checking import describe_difference, expect, points, run_checks

NAME = "bce_with_logits"
TUTORIAL = None
SUBMIT = ("my_bce_with_logits",)


# -- the stub: what the student receives -------------------------------------------------------
def my_bce_with_logits(logits, targets):
    """Mean binary cross-entropy of ``σ(logits)`` against ``targets``; returns ``(loss, dlogits)``."""
    raise NotImplementedError("your turn: return (loss, dlogits), a float and an array like logits")


# -- the reference solution ---------------------------------------------------------------------
def solution_bce_with_logits(logits, targets):
    """``ℓ = max(x, 0) − x y + log(1 + e^{−|x|})``; ``∂ℓ/∂x = σ(x) − y``; the mean divides by ``M``.

    From ``−log σ(x) = log(1 + e^{−x})`` and ``−log(1 − σ(x)) = x + log(1 + e^{−x})``,
    ``ℓ = (1 − y) x + log(1 + e^{−x})``; for ``x < 0`` write ``log(1 + e^{−x}) = −x + log(1 + e^{x})``:
    both cases are ``max(x, 0) − x y + log(1 + e^{−|x|})``, whose exponential never exceeds 1.
    The sigmoid itself is computed from ``e^{−|x|}`` for the same reason.
    """
    x, y = logits, targets
    losses = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
    e = np.exp(-np.abs(x))  # in (0, 1]
    sigmoid = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return float(losses.mean()), (sigmoid - y) / x.size


STUB = my_bce_with_logits
SOLUTION = solution_bce_with_logits


# -- the checks -----------------------------------------------------------------------------------
def _case(seed, n=12, soft=False):
    rng = np.random.default_rng(seed)
    targets = rng.random(n) if soft else rng.integers(0, 2, n).astype(np.float64)
    return 3.0 * rng.standard_normal(n), targets


def _reference(logits, targets):
    loss = BCEWithLogitsLoss()
    return float(loss(logits, targets)), loss.backward()


def _call(fn, logits, targets):
    """The candidate's ``(loss, dlogits)`` on copies; anything else stops here, named."""
    with np.errstate(all="ignore"):  # overflow is reported by the checks, in words
        out = fn(logits.copy(), targets.copy())
    expect(
        isinstance(out, tuple) and len(out) == 2,
        f"my_bce_with_logits returned {type(out).__name__}, not a pair (loss, dlogits)",
    )
    loss, grad = out
    expect(np.shape(loss) == (), f"the loss has shape {np.shape(loss)}; it is one number, the mean")
    expect(
        isinstance(grad, np.ndarray) and grad.shape == logits.shape,
        f"dlogits has shape {np.shape(grad)}; it has the logits' shape {logits.shape}",
    )
    return float(loss), np.asarray(grad, dtype=np.float64)


def _refuse_known_gradient_mistakes(grad: np.ndarray, expected: np.ndarray) -> None:
    """A gradient ``M`` times too large, or of the wrong sign: say which, rather than where it differs."""
    if np.allclose(grad, expected * grad.size, rtol=1e-9):
        raise AssertionError(
            f"dlogits is {grad.size} times the expected gradient: the gradient of a sum, where the "
            f"loss is a mean. Hint: remember the 1/M"
        )
    if np.allclose(grad, -expected, rtol=1e-9):
        raise AssertionError(
            "dlogits has the wrong sign everywhere: it points uphill of −log σ(x) for y = 1. Hint: "
            "a larger logit makes the loss of a positive target smaller"
        )


def _refuse_a_dropped_minus(loss: float, expected: float) -> None:
    """A loss that is the expected one negated: say so, rather than another check's guess."""
    if math.isclose(loss, -expected, rel_tol=1e-9) and expected != 0:
        raise AssertionError(
            f"your loss is {loss:.6g}, the expected {expected:.6g} negated: the minus sign in front of "
            f"[y log σ(x) + (1 − y) log(1 − σ(x))] is missing (a log of a probability is ≤ 0)"
        )


@points(1)
def returns_a_loss_and_a_gradient(fn):
    loss, _ = _call(fn, *_case(0))
    expect(math.isfinite(loss) and loss > 0, f"the loss is {loss}; a cross-entropy is a finite number > 0")


@points(2)
def loss_matches_tinyrec(fn):
    for seed, soft in ((1, False), (2, True)):
        logits, targets = _case(seed, soft=soft)
        loss, _ = _call(fn, logits, targets)
        expected, _ = _reference(logits, targets)
        if math.isclose(loss, expected * logits.size, rel_tol=1e-9):
            raise AssertionError(
                f"your loss is {loss:.6g}, {logits.size} times the expected {expected:.6g}: a sum where the "
                f"mean belongs"
            )
        _refuse_a_dropped_minus(loss, expected)
        expect(
            math.isclose(loss, expected, rel_tol=1e-9, abs_tol=1e-12),
            f"on random logits ({'soft' if soft else 'hard'} targets) your loss is {loss:.6g}, expected "
            f"{expected:.6g}. Hint: −[y log σ(x) + (1 − y) log(1 − σ(x))], averaged",
        )


@points(2)
def gradient_matches_tinyrec(fn):
    for seed, soft in ((3, False), (4, True)):
        logits, targets = _case(seed, soft=soft)
        _, grad = _call(fn, logits, targets)
        _, expected = _reference(logits, targets)
        _refuse_known_gradient_mistakes(grad, expected)
        expect(
            np.allclose(grad, expected, rtol=1e-9, atol=1e-12),
            f"dlogits is wrong: {describe_difference(grad, expected)}. Hint: differentiate the stable form "
            f"of ℓ, one case of the sign of x at a time",
        )


@points(1)
def loss_is_a_mean(fn):
    logits, targets = _case(5)
    once, grad_once = _call(fn, logits, targets)
    twice, grad_twice = _call(fn, np.concatenate([logits, logits]), np.concatenate([targets, targets]))
    expect(
        math.isclose(once, twice, rel_tol=1e-9),
        f"two copies of a batch give the loss {twice:.6g}, one copy {once:.6g}: a mean does not change "
        f"when the batch is repeated",
    )
    expect(
        np.allclose(grad_twice[: logits.size] * 2, grad_once, rtol=1e-9),
        "with the batch repeated, each entry's gradient should halve: the mean divides by M",
    )


@points(2)
def stable_at_large_logits(fn):
    logits = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0])
    targets = np.array([1.0, 0.0, 0.0, 1.0, 1.0])  # right, right, wrong by 1000, wrong by 1000, log 2
    loss, grad = _call(fn, logits, targets)
    expected, expected_grad = _reference(logits, targets)
    expect(
        math.isfinite(loss) and np.all(np.isfinite(grad)),
        f"for logits of ±1000 your loss is {loss} and dlogits holds {grad.tolist()}: e^1000 overflows, or "
        f"log(1 − σ(1000)) is log 0. Hint: rewrite ℓ so that every exponential is of −|x|",
    )
    _refuse_a_dropped_minus(loss, expected)
    if loss < expected / 10:
        raise AssertionError(
            f"for logits of ±1000 your loss is {loss:.6g}, expected {expected:.6g}: a logit of 1000 on a "
            f"negative target costs 1000, but yours costs far less (probabilities clipped to [ε, 1 − ε]?). "
            f"Hint: keep the loss exact: work with logits, not probabilities"
        )
    expect(
        math.isclose(loss, expected, rel_tol=1e-9),
        f"for logits of ±1000 your loss is {loss:.6g}, expected {expected:.6g}",
    )
    expect(
        np.allclose(grad, expected_grad, atol=1e-12),
        f"for logits of ±1000 dlogits is wrong: {describe_difference(grad, expected_grad)}",
    )


@points(1)
def soft_targets_count(fn):
    logits, targets = np.array([0.5, -1.0, 2.0]), np.array([0.3, 0.3, 0.3])
    loss, grad = _call(fn, logits, targets)
    expected, expected_grad = _reference(logits, targets)
    _refuse_a_dropped_minus(loss, expected)
    expect(
        not math.isclose(loss, expected * logits.size, rel_tol=1e-9),
        f"with targets of 0.3 your loss is {loss:.6g}, {logits.size} times the expected {expected:.6g}: "
        f"a sum where the mean belongs",
    )
    expect(
        math.isclose(loss, expected, rel_tol=1e-9),
        f"with targets of 0.3 your loss is {loss:.6g}, expected {expected:.6g}: a soft target weighs both "
        f"terms. Hint: use y as a number, not as a condition (no y == 1, no y > 0.5)",
    )
    _refuse_known_gradient_mistakes(grad, expected_grad)
    expect(
        np.allclose(grad, expected_grad, atol=1e-12),
        f"with targets of 0.3 the loss is right but dlogits is wrong: "
        f"{describe_difference(grad, expected_grad)}. Hint: y enters the gradient as a number too, "
        f"not as a case (y = 1 or y = 0)",
    )


@points(1)
def matches_central_differences(fn):
    logits, targets = _case(6, n=5, soft=True)
    x = logits.copy()
    _, grad = _call(fn, x, targets)
    numerical = numerical_gradient(lambda: _call(fn, x, targets)[0], x)
    error = relative_error(grad, numerical)
    expect(
        error < 1e-6,
        f"dlogits disagrees with central differences of your own loss: relative error {error:.2e} (a "
        f"right gradient gives about 1e-9). Either the loss or its gradient is off",
    )


@points(1)
def inputs_are_not_modified(fn):
    logits, targets = _case(7)
    kept_logits, kept_targets = logits.copy(), targets.copy()
    fn(logits, targets)
    expect(
        np.array_equal(logits, kept_logits) and np.array_equal(targets, kept_targets),
        "my_bce_with_logits changed its inputs in place. Hint: build new arrays",
    )


CHECKS = (
    returns_a_loss_and_a_gradient,
    loss_matches_tinyrec,
    gradient_matches_tinyrec,
    loss_is_a_mean,
    stable_at_large_logits,
    soft_targets_count,
    matches_central_differences,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_bce_with_logits``)."""
    return run_checks(NAME, candidate, CHECKS)
