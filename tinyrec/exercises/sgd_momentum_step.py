"""Course exercise: one step of SGD with momentum (heavy ball or Nesterov) and weight decay.

Task
----
Write ``my_sgd_momentum_step(theta, grad, buf, lr, momentum=0.9, weight_decay=0.0,
nesterov=False)``: one step of ``torch.optim.SGD`` (``dampening = 0``) on the parameter
``theta`` whose gradient is ``grad``, with the momentum buffer ``buf`` (all zeros before the
first step). Return the new ``(theta, buf)`` as new arrays; leave the arguments as they were.

Shapes
------
``theta, grad, buf`` : one shape, floats. ``lr > 0``, ``momentum`` in ``[0, 1)``,
``weight_decay >= 0``.

Math
----
::

    g   ← grad + weight_decay · θ              (L2 weight decay, added to the gradient)
    buf ← momentum · buf + g                   (on the first step, buf = 0, so buf = g)
    θ   ← θ − lr · buf                          (heavy ball)
    θ   ← θ − lr · (g + momentum · buf)         (nesterov=True, with the new buf)

``tinyrec.optim.SGD(params, lr, momentum, weight_decay=..., nesterov=...)`` takes the same steps.

Checks
------
* ``returns_two_new_arrays`` (1 point);
* ``first_step_is_plain_sgd`` (1): from ``buf = 0``, ``θ − lr · g``;
* ``buffer_accumulates_the_gradient`` (2): the new buffer, from a nonzero one;
* ``weight_decay_enters_the_buffer`` (2): decay is part of ``g`` before the buffer;
* ``nesterov_looks_ahead`` (1);
* ``matches_tinyrec_sgd_over_ten_steps`` (2): every hyperparameter used;
* ``inputs_are_not_modified`` (1).
"""

from __future__ import annotations

import numpy as np

from ..nn import Parameter
from ..optim import SGD
from .checking import describe_difference, expect, points, run_checks

NAME = "sgd_momentum_step"
TUTORIAL = None
SUBMIT = ("my_sgd_momentum_step",)


# -- the stub: what the student receives -------------------------------------------------------
def my_sgd_momentum_step(theta, grad, buf, lr, momentum=0.9, weight_decay=0.0, nesterov=False):
    """One step of SGD with momentum; returns the new ``(theta, buf)``."""
    raise NotImplementedError("your turn: return the new (theta, buf)")


# -- the reference solution ---------------------------------------------------------------------
def solution_sgd_momentum_step(theta, grad, buf, lr, momentum=0.9, weight_decay=0.0, nesterov=False):
    """The weight decay joins the gradient first, so the buffer carries it too; Nesterov steps
    along the gradient plus the new buffer's momentum, a look at where the buffer is heading."""
    g = grad + weight_decay * theta
    buf = momentum * buf + g
    step = g + momentum * buf if nesterov else buf
    return theta - lr * step, buf


STUB = my_sgd_momentum_step
SOLUTION = solution_sgd_momentum_step


# -- the checks -----------------------------------------------------------------------------------
def _state(seed, shape=(4, 3)):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape), rng.standard_normal(shape), 0.5 * rng.standard_normal(shape)


def _step(fn, theta, grad, buf, lr, **hyper):
    out = fn(theta.copy(), grad.copy(), buf.copy(), lr, **hyper)
    expect(
        isinstance(out, tuple) and len(out) == 2,
        f"my_sgd_momentum_step returned {type(out).__name__}, not the two arrays (theta, buf)",
    )
    for name, array in zip(("theta", "buf"), out, strict=True):
        expect(
            isinstance(array, np.ndarray) and array.shape == theta.shape,
            f"the new {name} is {type(array).__name__} of shape {np.shape(array)}; expected {theta.shape}",
        )
    return out


@points(1)
def returns_two_new_arrays(fn):
    theta, grad, buf = _state(0)
    out = _step(fn, theta, grad, buf, 0.1)
    expect(all(np.all(np.isfinite(a)) for a in out), "my_sgd_momentum_step returned non-finite values")


@points(1)
def first_step_is_plain_sgd(fn):
    theta, grad, _ = _state(1)
    new, buf = _step(fn, theta, grad, np.zeros_like(theta), 0.1, momentum=0.9)
    expect(
        np.allclose(new, theta - 0.1 * grad, rtol=1e-12) and np.allclose(buf, grad, rtol=1e-12),
        f"from buf = 0 the first step is plain SGD, theta − lr · grad, and the buffer becomes grad: "
        f"{describe_difference(new, theta - 0.1 * grad)}. Hint: is the gradient scaled by (1 − momentum)? "
        f"torch's SGD (dampening 0) does not",
    )


@points(2)
def buffer_accumulates_the_gradient(fn):
    theta, grad, buf = _state(2)
    new, new_buf = _step(fn, theta, grad, buf, 0.05, momentum=0.8)
    expected, expected_buf = SOLUTION(theta, grad, buf, 0.05, momentum=0.8)
    expect(
        np.allclose(new_buf, expected_buf, rtol=1e-12),
        f"the new buffer is wrong: {describe_difference(new_buf, expected_buf)}. Hint: the old buffer "
        f"decays by momentum and the whole gradient is added",
    )
    if np.allclose(new, theta - 0.05 * grad, rtol=1e-12):
        raise AssertionError(
            "theta moved by lr · grad: the step must follow the new buffer, not the gradient"
        )
    if np.allclose(new, theta - 0.05 * buf, rtol=1e-12):
        raise AssertionError("theta moved along the old buffer: update the buffer first, then step along it")
    expect(
        np.allclose(new, expected, rtol=1e-12),
        f"the new theta is wrong: {describe_difference(new, expected)}",
    )


@points(2)
def weight_decay_enters_the_buffer(fn):
    theta, grad, buf = _state(3)
    hyper = dict(momentum=0.9, weight_decay=0.1)
    new, new_buf = _step(fn, theta, grad, buf, 0.1, **hyper)
    expected, expected_buf = SOLUTION(theta, grad, buf, 0.1, **hyper)
    _, buffer_without_decay = SOLUTION(theta, grad, buf, 0.1, momentum=0.9)
    if np.allclose(new_buf, buffer_without_decay, rtol=1e-12):
        raise AssertionError(
            "with weight_decay = 0.1 the new buffer holds no decay: it is applied to theta apart from the "
            "momentum (decoupled, as in AdamW), which in one step looks the same but drifts from then on. "
            "torch's SGD adds weight_decay · θ to the gradient, so the buffer carries it"
        )
    expect(
        np.allclose(new_buf, expected_buf, rtol=1e-12) and np.allclose(new, expected, rtol=1e-12),
        f"with weight_decay = 0.1 the step is wrong: {describe_difference(new, expected)}. Hint: the "
        f"decay is part of g, before the buffer",
    )


@points(1)
def nesterov_looks_ahead(fn):
    theta, grad, buf = _state(4)
    new, new_buf = _step(fn, theta, grad, buf, 0.1, momentum=0.9, nesterov=True)
    expected, expected_buf = SOLUTION(theta, grad, buf, 0.1, momentum=0.9, nesterov=True)
    heavy_ball, _ = SOLUTION(theta, grad, buf, 0.1, momentum=0.9)
    if np.allclose(new, heavy_ball, rtol=1e-12):
        raise AssertionError("with nesterov=True theta takes the heavy-ball step: nesterov is ignored")
    expect(
        np.allclose(new, expected, rtol=1e-12) and np.allclose(new_buf, expected_buf, rtol=1e-12),
        f"the Nesterov step is wrong: {describe_difference(new, expected)}. Hint: the step is g plus "
        f"momentum times the *new* buffer; the buffer itself is updated as without Nesterov",
    )


@points(2)
def matches_tinyrec_sgd_over_ten_steps(fn):
    rng = np.random.default_rng(5)
    for nesterov in (False, True):
        param = Parameter(rng.standard_normal((3, 2)))
        optimizer = SGD([param], lr=0.05, momentum=0.7, weight_decay=0.01, nesterov=nesterov)
        theta, buf = param.data.copy(), np.zeros((3, 2))
        for t in range(1, 11):
            grad = rng.standard_normal((3, 2))
            param.grad = grad.copy()
            optimizer.step()
            theta, buf = _step(fn, theta, grad, buf, 0.05, momentum=0.7, weight_decay=0.01, nesterov=nesterov)
            if not np.allclose(theta, param.data, rtol=1e-10, atol=1e-12):
                raise AssertionError(
                    f"after step {t} (lr=0.05, momentum=0.7, weight_decay=0.01, nesterov={nesterov}), "
                    f"theta differs from tinyrec.optim.SGD's: {describe_difference(theta, param.data)}. "
                    f"Hint: use every hyperparameter you are given, not the defaults"
                )


@points(1)
def inputs_are_not_modified(fn):
    theta, grad, buf = _state(6)
    kept = [a.copy() for a in (theta, grad, buf)]
    fn(theta, grad, buf, 0.1, momentum=0.9, weight_decay=0.1)
    for name, now, before in zip(("theta", "grad", "buf"), (theta, grad, buf), kept, strict=True):
        expect(
            np.array_equal(now, before),
            f"my_sgd_momentum_step changed its argument {name} in place (-= or *=). Hint: return new arrays",
        )


CHECKS = (
    returns_two_new_arrays,
    first_step_is_plain_sgd,
    buffer_accumulates_the_gradient,
    weight_decay_enters_the_buffer,
    nesterov_looks_ahead,
    matches_tinyrec_sgd_over_ten_steps,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_sgd_momentum_step``)."""
    return run_checks(NAME, candidate, CHECKS)
