"""Course exercise: one SGD update of Funk SVD (biased matrix factorization) on one rating.

Task
----
Write ``my_funk_svd_update(r, mu, bu, bi, pu, qi, lr, reg)``: the update that Funk's SGD loop (and
Surprise's ``SVD``) makes after reading the rating ``r`` of user ``u`` for item ``i``. Return the
error measured before the update and the new parameters, ``(err, bu, bi, pu, qi)``, as new values:
leave the arguments as they were.

Shapes
------
``r, mu, bu, bi, lr, reg`` : floats; ``pu, qi : (d,)`` floats. Returns ``err, bu, bi`` floats and
``pu, qi`` new ``(d,)`` arrays.

Math
----
The model predicts ``r̂ = μ + b_u + b_i + p_u · q_i``. One SGD step on the rating's loss
``½ (r − r̂)² + ½ λ (b_u² + b_i² + ‖p_u‖² + ‖q_i‖²)`` with step size ``η``: write ``e = r − r̂``,
differentiate the loss with respect to each of ``b_u, b_i, p_u, q_i``, and move each one against
its gradient. Every gradient is taken at the parameters **before** the step: the new ``p_u`` must
not be used to update ``q_i``. ``μ`` is a constant. ``tinyrec.kernels.mf.funk_svd_epoch`` makes
the same updates over a whole epoch (with one ``η`` and one ``λ`` per parameter group).

Checks
------
* ``returns_the_error_and_new_parameters`` (1 point);
* ``error_is_measured_before_the_update`` (1);
* ``biases_move_with_the_error`` (2): their new values;
* ``factors_use_the_old_values`` (2): ``q_i``'s update reads the old ``p_u``, and the reverse;
* ``regularization_shrinks_every_parameter`` (1): an exact prediction only shrinks them;
* ``matches_funk_svd_epoch`` (2): a sequence of ratings, against the fused kernel;
* ``inputs_are_not_modified`` (1).
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels.mf import funk_svd_epoch
from .checking import describe_difference, expect, points, run_checks

NAME = "funk_svd_update"
TUTORIAL = None
SUBMIT = ("my_funk_svd_update",)


# -- the stub: what the student receives -------------------------------------------------------
def my_funk_svd_update(r, mu, bu, bi, pu, qi, lr, reg):
    """One SGD step of Funk SVD on the rating ``r``; returns ``(err, bu, bi, pu, qi)``."""
    raise NotImplementedError("your turn: return (err, bu, bi, pu, qi) after one SGD step")


# -- the reference solution ---------------------------------------------------------------------
def solution_funk_svd_update(r, mu, bu, bi, pu, qi, lr, reg):
    """``∂/∂b_u = −e + λ b_u``, ``∂/∂p_u = −e q_i + λ p_u`` (and the same for ``b_i``, ``q_i``), so
    each parameter moves by ``η (e · what multiplies it in r̂ − λ · itself)``.

    Both factor updates are computed from the old ``pu`` and ``qi`` (the right-hand sides are
    evaluated before either name is rebound).
    """
    err = r - (mu + bu + bi + pu @ qi)
    new_bu = bu + lr * (err - reg * bu)
    new_bi = bi + lr * (err - reg * bi)
    new_pu = pu + lr * (err * qi - reg * pu)
    new_qi = qi + lr * (err * pu - reg * qi)
    return float(err), float(new_bu), float(new_bi), new_pu, new_qi


STUB = my_funk_svd_update
SOLUTION = solution_funk_svd_update


# -- the checks -----------------------------------------------------------------------------------
def _state(seed, d=4):
    """``mu, bu, bi, pu, qi`` of one (user, item) pair."""
    rng = np.random.default_rng(seed)
    mu = 3.5
    bu, bi = 0.3 * rng.standard_normal(2)
    pu, qi = 0.5 * rng.standard_normal((2, d))
    return mu, float(bu), float(bi), pu, qi


def _update(fn, r, mu, bu, bi, pu, qi, lr=0.05, reg=0.1):
    out = fn(r, mu, bu, bi, pu.copy(), qi.copy(), lr, reg)
    expect(
        isinstance(out, tuple) and len(out) == 5,
        f"my_funk_svd_update returned {type(out).__name__}, not the five values (err, bu, bi, pu, qi)",
    )
    err, new_bu, new_bi, new_pu, new_qi = out
    for name, value in (("err", err), ("bu", new_bu), ("bi", new_bi)):
        expect(np.shape(value) == (), f"{name} has shape {np.shape(value)}; it is one number")
    for name, value in (("pu", new_pu), ("qi", new_qi)):
        expect(
            isinstance(value, np.ndarray) and value.shape == pu.shape,
            f"the new {name} is {type(value).__name__} of shape {np.shape(value)}; expected {pu.shape}",
        )
    return float(err), float(new_bu), float(new_bi), new_pu, new_qi


@points(1)
def returns_the_error_and_new_parameters(fn):
    mu, bu, bi, pu, qi = _state(0)
    out = _update(fn, 4.0, mu, bu, bi, pu, qi)
    expect(all(np.all(np.isfinite(v)) for v in out), f"my_funk_svd_update returned non-finite values: {out}")


@points(1)
def error_is_measured_before_the_update(fn):
    mu, bu, bi, pu, qi = _state(1)
    err, *_ = _update(fn, 5.0, mu, bu, bi, pu, qi)
    expected = 5.0 - (mu + bu + bi + pu @ qi)
    if math.isclose(err, -expected, rel_tol=1e-12):
        raise AssertionError(
            f"err is {err:.6g}, the prediction minus the rating: e is r − r̂ (and with it every update "
            f"would climb the loss instead of descending it)"
        )
    expect(
        math.isclose(err, expected, rel_tol=1e-12, abs_tol=1e-14),
        f"err is {err:.6g}, expected {expected:.6g}: r − (μ + b_u + b_i + p_u · q_i), with the parameters "
        f"as they were before this update",
    )


@points(2)
def biases_move_with_the_error(fn):
    mu, bu, bi, pu, qi = _state(2)
    _, new_bu, new_bi, _, _ = _update(fn, 5.0, mu, bu, bi, pu, qi)
    _, want_bu, want_bi, _, _ = SOLUTION(5.0, mu, bu, bi, pu, qi, 0.05, 0.1)
    if math.isclose(new_bu - bu, -(want_bu - bu), rel_tol=1e-9):
        raise AssertionError("b_u moved the wrong way: a rating above the prediction must raise the biases")
    if math.isclose(new_bu, bu + 0.05 * (5.0 - (mu + bu + bi + pu @ qi)), rel_tol=1e-12):
        raise AssertionError("b_u ignores the regularization: the λ b_u term of its gradient is missing")
    expect(
        math.isclose(new_bu, want_bu, rel_tol=1e-12) and math.isclose(new_bi, want_bi, rel_tol=1e-12),
        f"the new biases are ({new_bu:.6g}, {new_bi:.6g}), expected ({want_bu:.6g}, {want_bi:.6g}). Hint: "
        f"∂r̂/∂b_u = 1",
    )


@points(2)
def factors_use_the_old_values(fn):
    mu, bu, bi, pu, qi = _state(3)
    _, _, _, new_pu, new_qi = _update(fn, 1.0, mu, bu, bi, pu, qi, lr=0.2)
    _, _, _, want_pu, want_qi = SOLUTION(1.0, mu, bu, bi, pu, qi, 0.2, 0.1)
    err = 1.0 - (mu + bu + bi + pu @ qi)
    if np.allclose(new_pu, want_pu, rtol=1e-12) and np.allclose(
        new_qi, qi + 0.2 * (err * want_pu - 0.1 * qi), rtol=1e-12
    ):
        raise AssertionError(
            "q_i was updated with the new p_u: both gradients are taken at the parameters before the step. "
            "Hint: keep the old p_u (or compute both new values before assigning either)"
        )
    expect(
        np.allclose(new_pu, want_pu, rtol=1e-12),
        f"the new p_u is wrong: {describe_difference(new_pu, want_pu)}. Hint: ∂r̂/∂p_u = q_i",
    )
    expect(
        np.allclose(new_qi, want_qi, rtol=1e-12),
        f"the new q_i is wrong: {describe_difference(new_qi, want_qi)}. Hint: ∂r̂/∂q_i = p_u",
    )


@points(1)
def regularization_shrinks_every_parameter(fn):
    mu, bu, bi, pu, qi = _state(4)
    r = mu + bu + bi + pu @ qi  # an exact prediction: e = 0
    _, new_bu, new_bi, new_pu, new_qi = _update(fn, r, mu, bu, bi, pu, qi, lr=0.1, reg=0.5)
    shrink = 1 - 0.1 * 0.5
    ok = np.allclose([new_bu, new_bi], [shrink * bu, shrink * bi], rtol=1e-9) and np.allclose(
        np.concatenate([new_pu, new_qi]), shrink * np.concatenate([pu, qi]), rtol=1e-9
    )
    expect(
        ok,
        f"for a rating predicted exactly (e = 0) with lr = 0.1 and reg = 0.5 every parameter should shrink "
        f"by the factor {shrink}; yours moved b_u from {bu:.4g} to {new_bu:.4g}. Hint: the L2 term's "
        f"gradient is λ times the parameter, for the biases and the factors alike",
    )


@points(2)
def matches_funk_svd_epoch(fn):
    rng = np.random.default_rng(5)
    n_users, n_items, d, n = 4, 5, 3, 30
    users, items = rng.integers(0, n_users, n), rng.integers(0, n_items, n)
    ratings = rng.integers(1, 6, n).astype(np.float64)
    mu, lr, reg = float(ratings.mean()), 0.05, 0.02
    bu, bi = 0.1 * rng.standard_normal(n_users), 0.1 * rng.standard_normal(n_items)
    P, Q = 0.3 * rng.standard_normal((n_users, d)), 0.3 * rng.standard_normal((n_items, d))
    mine = [bu.copy(), bi.copy(), P.copy(), Q.copy()]
    funk_svd_epoch(users, items, ratings, np.arange(n), mu, bu, bi, P, Q, np.full(4, lr), np.full(4, reg))
    for t in range(n):
        u, i = users[t], items[t]
        _, mine[0][u], mine[1][i], mine[2][u], mine[3][i] = _update(
            fn, ratings[t], mu, mine[0][u], mine[1][i], mine[2][u].copy(), mine[3][i].copy(), lr, reg
        )
    for name, yours, fused in zip(("b_u", "b_i", "P", "Q"), mine, (bu, bi, P, Q), strict=True):
        expect(
            np.allclose(yours, fused, rtol=1e-9, atol=1e-12),
            f"after {n} ratings (lr = {lr}, reg = {reg}) your {name} differ from funk_svd_epoch's: "
            f"{describe_difference(yours, fused)}. Hint: use the lr and reg you are given",
        )


@points(1)
def inputs_are_not_modified(fn):
    mu, bu, bi, pu, qi = _state(6)
    kept_pu, kept_qi = pu.copy(), qi.copy()
    fn(4.0, mu, bu, bi, pu, qi, 0.1, 0.1)
    expect(
        np.array_equal(pu, kept_pu) and np.array_equal(qi, kept_qi),
        "my_funk_svd_update changed pu or qi in place (+=). Hint: return new arrays; the caller writes them "
        "back",
    )


CHECKS = (
    returns_the_error_and_new_parameters,
    error_is_measured_before_the_update,
    biases_move_with_the_error,
    factors_use_the_old_values,
    regularization_shrinks_every_parameter,
    matches_funk_svd_epoch,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_funk_svd_update``)."""
    return run_checks(NAME, candidate, CHECKS)
