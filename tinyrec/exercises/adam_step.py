"""Course exercise: one step of Adam.

Task
----
Write ``my_adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps)``: one Adam update of the
parameter ``theta`` with gradient ``grad``, given the moment estimates ``m`` and ``v`` from the
previous steps (zeros before the first) and the number ``t`` of this step (1 for the first).
Return the new ``(theta, m, v)`` as new arrays; leave the arguments unchanged.

Shapes
------
``theta, grad, m, v`` : one shape, any shape, float64; ``t`` a positive int; the hyperparameters
floats (torch's defaults: ``lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8``).

Math
----
Adam (Kingma & Ba, 2015) keeps an exponential moving average of the gradient, ``m``, and of its
entry-wise square, ``v``, each weighting the newest value by ``1 − β``. Both start at 0, so early
on they are biased towards 0: dividing by ``1 − β^t`` corrects that. The step divides the
corrected first moment by the square root of the corrected second moment, plus ``eps``, entry by
entry, and moves ``theta`` against it by ``lr``. Write each of these sentences as one line.

Checks
------
* ``returns_three_new_arrays`` (1 point): ``(theta, m, v)``, each of ``theta``'s shape;
* ``moments_are_moving_averages`` (2): ``m`` and ``v`` after a step, against the reference;
* ``first_step_moves_by_about_lr`` (2): the bias correction makes the first step about ``lr``
  per entry, whatever the gradient's scale;
* ``matches_tinyrec_adam_over_ten_steps`` (2): ten steps against :class:`tinyrec.optim.Adam`
  (torch's semantics) on seeded random gradients;
* ``eps_is_added_to_the_root`` (1): for tiny gradients, ``eps`` sits outside the square root;
* ``a_zero_gradient_from_rest_stays_put`` (1): ``m = v = 0`` and ``grad = 0`` move nothing;
* ``inputs_are_not_modified`` (1).
"""

from __future__ import annotations

import numpy as np

from ..nn import Parameter
from ..optim import Adam
from .checking import describe_difference, expect, points, run_checks

NAME = "adam_step"
TUTORIAL = None
SUBMIT = ("my_adam_step",)


# -- the stub: what the student receives -------------------------------------------------------
def my_adam_step(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step; returns the new ``(theta, m, v)``."""
    raise NotImplementedError("your turn: return the new (theta, m, v) after step t")


# -- the reference solution ---------------------------------------------------------------------
def solution_adam_step(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """``m ← β1 m + (1 − β1) g``, ``v ← β2 v + (1 − β2) g²``, ``θ ← θ − lr · m̂ / (√v̂ + eps)``.

    ``m̂ = m / (1 − β1^t)`` and ``v̂ = v / (1 − β2^t)`` undo the pull towards the zeros the
    moments started from. On the first step ``m̂ = g`` and ``v̂ = g²``, so every entry moves by
    ``lr · g / (|g| + eps) ≈ ±lr``.
    """
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


STUB = my_adam_step
SOLUTION = solution_adam_step


# -- the checks -----------------------------------------------------------------------------------
def _state(seed, shape=(4, 3)):
    rng = np.random.default_rng(seed)
    theta, grad = rng.standard_normal(shape), rng.standard_normal(shape)
    m, v = 0.1 * rng.standard_normal(shape), 0.1 * rng.random(shape)
    return theta, grad, m, v


def _step(fn, theta, grad, m, v, t, **hyper):
    with np.errstate(all="ignore"):  # a division by zero is reported by the checks, in words
        out = fn(theta.copy(), grad.copy(), m.copy(), v.copy(), t, **hyper)
    expect(
        isinstance(out, tuple) and len(out) == 3,
        f"my_adam_step returned {type(out).__name__}, not the three arrays (theta, m, v)",
    )
    for name, array in zip(("theta", "m", "v"), out, strict=True):
        expect(
            isinstance(array, np.ndarray) and array.shape == theta.shape,
            f"the new {name} is {type(array).__name__} of shape {np.shape(array)}; expected {theta.shape}",
        )
    return out


@points(1)
def returns_three_new_arrays(fn):
    theta, grad, m, v = _state(0)
    out = _step(fn, theta, grad, m, v, 3)
    expect(all(np.all(np.isfinite(a)) for a in out), "my_adam_step returned non-finite values at step 3")


@points(2)
def moments_are_moving_averages(fn):
    theta, grad, m, v = _state(1)
    _, m_new, v_new = _step(fn, theta, grad, m, v, 4)
    _, m_ref, v_ref = SOLUTION(theta, grad, m, v, 4)
    expect(
        np.allclose(m_new, m_ref, rtol=1e-12, atol=1e-15),
        f"the new m is wrong: {describe_difference(m_new, m_ref)}. Hint: the newest gradient weighs "
        f"1 − β1, the old average β1",
    )
    if np.allclose(v_new, 0.999 * v + 0.001 * np.abs(grad)) or np.allclose(v_new, 0.999 * v + 0.001 * grad):
        raise AssertionError(
            "the new v averages the gradient itself; v is the average of its entry-wise square"
        )
    expect(
        np.allclose(v_new, v_ref, rtol=1e-12, atol=1e-15),
        f"the new v is wrong: {describe_difference(v_new, v_ref)}. Hint: the newest squared gradient weighs "
        f"1 − β2",
    )


@points(2)
def first_step_moves_by_about_lr(fn):
    rng = np.random.default_rng(2)
    for scale in (1e-3, 1.0, 1e3):
        theta, grad = rng.standard_normal(6), scale * rng.standard_normal(6)
        zeros = np.zeros(6)
        new, _, _ = _step(fn, theta, grad, zeros, zeros, 1)
        moved = np.abs(np.asarray(new) - theta)
        expect(np.all(np.isfinite(moved)), f"the first step (t = 1) gives non-finite values: {new}. "
               f"Hint: with t = 1, is any bias correction 1 − β^0 = 0?")  # fmt: skip
        expect(
            np.allclose(moved, 1e-3, rtol=1e-3),
            f"on the first step (t = 1, m = v = 0) with gradients of size about {scale:g}, theta moved by "
            f"{moved.min():.3g} to {moved.max():.3g}; Adam's first step is about lr = 1e-3 per entry, "
            f"whatever the gradient's scale. Hint: the moments start at 0 and are biased towards it "
            f"until corrected",
        )


@points(2)
def matches_tinyrec_adam_over_ten_steps(fn):
    rng = np.random.default_rng(3)
    hyper = dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6)
    param = Parameter(rng.standard_normal((3, 2)))
    optimizer = Adam([param], lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    theta, m, v = param.data.copy(), np.zeros((3, 2)), np.zeros((3, 2))
    for t in range(1, 11):
        grad = rng.standard_normal((3, 2))
        param.grad = grad.copy()
        optimizer.step()
        theta, m, v = _step(fn, theta, grad, m, v, t, **hyper)
        if not np.allclose(theta, param.data, rtol=1e-10, atol=1e-12):
            raise AssertionError(
                f"after step {t} with lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6, theta differs from "
                f"tinyrec.optim.Adam's: {describe_difference(theta, param.data)}. Hint: use every "
                f"hyperparameter you are given, not the defaults"
            )


@points(1)
def eps_is_added_to_the_root(fn):
    theta, grad, zeros = np.zeros(3), np.full(3, 1e-9), np.zeros(3)
    new, _, _ = _step(fn, theta, grad, zeros, zeros, 1)
    expected, _, _ = SOLUTION(theta, grad, zeros, zeros, 1)
    expect(
        np.allclose(new, expected, rtol=1e-9),
        f"for a first gradient of 1e-9, theta moves by {float(np.abs(new - theta).max()):.3g}, expected "
        f"{float(np.abs(expected - theta).max()):.3g}. Hint: eps is added to √v̂, not to v̂ under the root",
    )


@points(1)
def a_zero_gradient_from_rest_stays_put(fn):
    theta, zeros = np.arange(4.0), np.zeros(4)
    new, m, v = _step(fn, theta, zeros, zeros, zeros, 1)
    expect(
        np.array_equal(new, theta) and not np.any(m) and not np.any(v),
        f"from m = v = 0 with a zero gradient, theta became {np.asarray(new).tolist()}: a 0/0 somewhere? "
        f"Hint: eps keeps the denominator away from 0",
    )


@points(1)
def inputs_are_not_modified(fn):
    theta, grad, m, v = _state(4)
    kept = [a.copy() for a in (theta, grad, m, v)]
    fn(theta, grad, m, v, 2)
    for name, now, before in zip(("theta", "grad", "m", "v"), (theta, grad, m, v), kept, strict=True):
        expect(
            np.array_equal(now, before),
            f"my_adam_step changed its argument {name} in place (-= or *=). Hint: return new arrays; the "
            f"caller decides what to overwrite",
        )


CHECKS = (
    returns_three_new_arrays,
    moments_are_moving_averages,
    first_step_moves_by_about_lr,
    matches_tinyrec_adam_over_ten_steps,
    eps_is_added_to_the_root,
    a_zero_gradient_from_rest_stays_put,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_adam_step``)."""
    return run_checks(NAME, candidate, CHECKS)
