"""Course exercise: a numerically stable softmax cross-entropy, loss and gradient.

Task
----
Write ``my_cross_entropy(logits, targets)``. Row ``n`` of ``logits`` holds one raw score per class;
the softmax turns it into probabilities ``p_n``, and the loss of the row is the negative log of
the probability of its target class. Return the **mean** loss over the rows, and the gradient of
that mean with respect to the logits. It must work for any finite logits: ``1000`` included.

Shapes
------
``logits : (N, C)`` floats; ``targets : (N,)`` integers in ``[0, C)`` (a class may repeat).
Returns ``(loss, dlogits)``: ``loss`` a Python ``float``, ``dlogits : (N, C)``.

Math
----
::

    p_nc = e^{x_nc} / Σ_k e^{x_nk}        ℓ_n = −log p_{n, t_n}        ℒ = (1/N) Σ_n ℓ_n

``e^{1000}`` overflows float64 (its largest value is about ``e^{709}``): use the fact that the
softmax does not change when one constant is subtracted from a whole row, and compute ``log p``
without ever forming a tiny ``p`` and taking its log. For the gradient, differentiate ``ℓ_n`` with
respect to ``x_nc``, once for ``c = t_n`` and once for ``c ≠ t_n``; then remember the ``1/N``.

Checks
------
* ``returns_a_loss_and_a_gradient`` (1 point): a finite float and an ``(N, C)`` array;
* ``loss_matches_the_reference`` (2): on seeded random logits, repeated targets included;
* ``gradient_matches_the_reference`` (2);
* ``loss_is_a_mean_over_rows`` (1): two copies of a batch have the loss of one copy;
* ``stable_at_large_logits`` (2): logits of ``±1000`` give the right finite numbers;
* ``gradient_rows_sum_to_zero`` (1): adding a constant to a row changes nothing;
* ``matches_central_differences`` (1): :func:`tinyrec.gradcheck.numerical_gradient` of your loss;
* ``inputs_are_not_modified`` (1).
"""

from __future__ import annotations

import math

import numpy as np

from ..gradcheck import numerical_gradient, relative_error
from .checking import describe_difference, expect, points, run_checks

NAME = "cross_entropy"
TUTORIAL = None
SUBMIT = ("my_cross_entropy",)


# -- the stub: what the student receives -------------------------------------------------------
def my_cross_entropy(logits, targets):
    """Mean softmax cross-entropy of ``logits : (N, C)`` and ``targets : (N,)``; ``(loss, dlogits)``."""
    raise NotImplementedError("your turn: return (loss, dlogits), a float and an (N, C) array")


# -- the reference solution ---------------------------------------------------------------------
def solution_cross_entropy(logits, targets):
    """``log p = z − log Σ e^z`` with ``z = x − max_c x``; ``dℒ/dx = (p − onehot(t)) / N``.

    Subtracting the row maximum makes every ``z ≤ 0``, so ``e^z ≤ 1`` never overflows, and at
    least one ``e^z = 1``, so the sum is ``≥ 1`` and its log is finite. ``∂ℓ_n/∂x_nc = p_nc −
    [c = t_n]``; the mean divides every row's gradient by ``N``.
    """
    n = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)  # (N, C), every entry <= 0
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))  # (N, C)
    rows = np.arange(n)
    loss = -log_p[rows, targets].mean()
    grad = np.exp(log_p)  # p
    grad[rows, targets] -= 1.0
    return float(loss), grad / n


STUB = my_cross_entropy
SOLUTION = solution_cross_entropy


# -- the checks -----------------------------------------------------------------------------------
def _case(seed, n=6, c=5, scale=2.0):
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, c, n)
    targets[1] = targets[0]  # a repeated class
    return scale * rng.standard_normal((n, c)), targets


def _call(fn, logits, targets):
    """The candidate's ``(loss, dlogits)`` on copies; anything else stops here, named."""
    with np.errstate(all="ignore"):  # overflow is reported by the checks, in words
        out = fn(logits.copy(), targets.copy())
    expect(
        isinstance(out, tuple) and len(out) == 2,
        f"my_cross_entropy returned {type(out).__name__}, not a pair (loss, dlogits)",
    )
    loss, grad = out
    expect(np.shape(loss) == (), f"the loss has shape {np.shape(loss)}; it is one number, the mean over rows")
    expect(
        isinstance(grad, np.ndarray) and grad.shape == logits.shape,
        f"dlogits has shape {np.shape(grad)}; it has the logits' shape {logits.shape}",
    )
    return float(loss), np.asarray(grad, dtype=np.float64)


@points(1)
def returns_a_loss_and_a_gradient(fn):
    logits, targets = _case(0)
    loss, _ = _call(fn, logits, targets)
    expect(math.isfinite(loss) and loss > 0, f"the loss is {loss}; a cross-entropy is a finite number > 0")


@points(2)
def loss_matches_the_reference(fn):
    for seed in (1, 2, 3):
        logits, targets = _case(seed)
        loss, _ = _call(fn, logits, targets)
        expected, _ = SOLUTION(logits, targets)
        if math.isclose(loss, expected * len(targets), rel_tol=1e-9):
            raise AssertionError(
                f"your loss is {loss:.6g}, {len(targets)} times the expected {expected:.6g}: a sum over the "
                f"rows where the mean belongs"
            )
        expect(
            math.isclose(loss, expected, rel_tol=1e-9, abs_tol=1e-12),
            f"on random logits your loss is {loss:.6g}, expected {expected:.6g}. Hint: −log of the "
            f"probability of each row's target, averaged over the rows",
        )


@points(2)
def gradient_matches_the_reference(fn):
    for seed in (4, 5):
        logits, targets = _case(seed)
        _, grad = _call(fn, logits, targets)
        _, expected = SOLUTION(logits, targets)
        if np.allclose(grad, expected * len(targets), rtol=1e-9):
            raise AssertionError(
                f"dlogits is {len(targets)} times the expected gradient: the gradient of a sum, where the "
                f"loss is a mean. Hint: remember the 1/N"
            )
        if not np.allclose(grad, expected, rtol=1e-9, atol=1e-12):
            raise AssertionError(
                f"dlogits is wrong: {describe_difference(grad, expected)}. Hint: differentiate ℓ_n for "
                f"the target class and for the other classes separately"
            )


@points(1)
def loss_is_a_mean_over_rows(fn):
    logits, targets = _case(6)
    once, grad_once = _call(fn, logits, targets)
    twice, grad_twice = _call(fn, np.vstack([logits, logits]), np.concatenate([targets, targets]))
    expect(
        math.isclose(once, twice, rel_tol=1e-9),
        f"two copies of a batch give the loss {twice:.6g}, one copy {once:.6g}: a mean over rows does "
        f"not change when the batch is repeated",
    )
    expect(
        np.allclose(grad_twice[: len(targets)] * 2, grad_once, rtol=1e-9),
        "with the batch repeated, each row's gradient should halve: the mean divides by N",
    )


@points(2)
def stable_at_large_logits(fn):
    logits = np.array(
        [[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 0.0], [-1000.0, -1000.0, -999.0], [0.0, 1000.0, -1000.0]]
    )
    targets = np.array([0, 1, 2, 0])  # the last row's target has probability e^-1000
    loss, grad = _call(fn, logits, targets)
    expected, expected_grad = SOLUTION(logits, targets)
    expect(
        math.isfinite(loss) and np.all(np.isfinite(grad)),
        f"for logits of ±1000 your loss is {loss} and dlogits holds non-finite entries: e^1000 overflows. "
        f"Hint: the softmax of a row does not change when one constant is subtracted from it",
    )
    expect(
        math.isclose(loss, expected, rel_tol=1e-9, abs_tol=1e-12),
        f"for logits of ±1000 your loss is {loss:.6g}, expected {expected:.6g}. Hint: a probability of "
        f"e^-1000 is 0 in float64; compute log p without taking the log of p",
    )
    expect(np.allclose(grad, expected_grad, atol=1e-12), "for logits of ±1000 dlogits is wrong")


@points(1)
def gradient_rows_sum_to_zero(fn):
    logits, targets = _case(7)
    _, grad = _call(fn, logits, targets)
    worst = float(np.abs(grad.sum(axis=1)).max())
    expect(
        worst < 1e-12,
        f"a row of dlogits sums to {worst:.3g}, not 0. Adding a constant to a row leaves the softmax "
        f"unchanged, so the gradient along that direction must vanish. Hint: does the target class's "
        f"entry get its own term?",
    )


@points(1)
def matches_central_differences(fn):
    logits, targets = _case(8, n=4, c=3)
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
    logits, targets = _case(9)
    kept_logits, kept_targets = logits.copy(), targets.copy()
    fn(logits, targets)
    expect(
        np.array_equal(logits, kept_logits) and np.array_equal(targets, kept_targets),
        "my_cross_entropy changed its inputs in place (e.g. logits -= max). Hint: build new arrays",
    )


CHECKS = (
    returns_a_loss_and_a_gradient,
    loss_matches_the_reference,
    gradient_matches_the_reference,
    loss_is_a_mean_over_rows,
    stable_at_large_logits,
    gradient_rows_sum_to_zero,
    matches_central_differences,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_cross_entropy``)."""
    return run_checks(NAME, candidate, CHECKS)
