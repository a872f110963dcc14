"""Course exercise: the BPR loss of matrix factorization, and its gradient into the factor tables.

Task
----
Write ``my_bpr(P, Q, users, pos, neg)``. Triple ``b`` says that user ``users[b]`` interacted
with item ``pos[b]`` and not with item ``neg[b]``; the model scores ``ŷ_ui = p_u · q_i``. Return
the **mean** BPR loss over the triples and its gradients with respect to the whole tables ``P``
and ``Q``. It must be finite for any finite margin (``±1000`` included), and a user or an item may
appear in several triples (an item even as a positive in one and a negative in another).

Shapes
------
``P : (n_users, d)``, ``Q : (n_items, d)`` floats; ``users, pos, neg : (B,)`` integer ids.
Returns ``(loss, dP, dQ)``: ``loss`` a Python ``float``, ``dP`` the shape of ``P``, ``dQ`` that of
``Q`` (zero in the rows no triple uses).

Math
----
::

    x_b = p_u · (q_i − q_j)           ℓ_b = −log σ(x_b)           ℒ = (1/B) Σ_b ℓ_b

``−log σ(x) = log(1 + e^{−x})`` overflows for ``x = −1000``; write it so that the exponential's
argument is never positive. Then ``∂ℓ_b/∂x_b = −σ(−x_b)``, and by the chain rule ``x_b`` sends
gradient to three rows: ``p_u`` (through ``q_i − q_j``), ``q_i`` and ``q_j`` (through ``p_u``,
with opposite signs). A row used by several triples receives the **sum** of their contributions.
``tinyrec.losses.BPRLoss`` computes the same loss from the two score arrays.

Checks
------
* ``returns_a_loss_and_two_gradients`` (1 point);
* ``loss_matches_tinyrec`` (2): ``BPRLoss`` of the scores, on seeded random tables;
* ``loss_is_stable_at_large_margins`` (1): margins of ``±1000``;
* ``user_gradient_is_right`` (2): ids without repeats;
* ``item_gradients_have_opposite_signs`` (2): ``q_i`` and ``q_j``, ids without repeats;
* ``repeated_ids_are_summed`` (2): users and items in several triples, an item on both sides;
* ``matches_central_differences`` (1): :func:`tinyrec.gradcheck.numerical_gradient` of your loss;
* ``inputs_are_not_modified`` (1).
"""

from __future__ import annotations

import math

import numpy as np

from ..gradcheck import numerical_gradient, relative_error
from ..losses import BPRLoss
from .checking import describe_difference, expect, points, run_checks

NAME = "bpr_loss"
TUTORIAL = None
SUBMIT = ("my_bpr",)


# -- the stub: what the student receives -------------------------------------------------------
def my_bpr(P, Q, users, pos, neg):
    """Mean BPR loss of the triples ``(users, pos, neg)`` under ``ŷ = P[u] · Q[i]``; ``(loss, dP, dQ)``."""
    raise NotImplementedError("your turn: return (loss, dP, dQ)")


# -- the reference solution ---------------------------------------------------------------------
def solution_bpr(P, Q, users, pos, neg):
    """``ℓ = max(−x, 0) + log(1 + e^{−|x|})``; ``g = ∂ℒ/∂x = −σ(−x) / B``; rows gathered by ``np.add.at``.

    ``dp_u += g (q_i − q_j)``, ``dq_i += g p_u`` and ``dq_j −= g p_u``, every triple's term added
    to its rows: ``np.add.at`` adds once per occurrence of an id, where ``dP[users] += ...`` would
    keep only one of a repeated id's terms.
    """
    pu, qi, qj = P[users], Q[pos], Q[neg]  # (B, d) each
    x = np.sum(pu * (qi - qj), axis=1)  # (B,)
    loss = np.mean(np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x))))
    e = np.exp(-np.abs(x))
    sigmoid_of_minus_x = np.where(x >= 0, e / (1 + e), 1 / (1 + e))
    g = (-sigmoid_of_minus_x / len(x))[:, None]  # (B, 1)
    dP, dQ = np.zeros_like(P), np.zeros_like(Q)
    np.add.at(dP, users, g * (qi - qj))
    np.add.at(dQ, pos, g * pu)
    np.add.at(dQ, neg, -g * pu)
    return float(loss), dP, dQ


STUB = my_bpr
SOLUTION = solution_bpr


# -- the checks -----------------------------------------------------------------------------------
def _case(seed, n_users=5, n_items=9, d=3, batch=4, repeats=False):
    """Tables and triples; without ``repeats`` every user and item appears once."""
    rng = np.random.default_rng(seed)
    P, Q = rng.standard_normal((n_users, d)), rng.standard_normal((n_items, d))
    if repeats:
        users = rng.integers(0, n_users, batch)
        pos, neg = rng.integers(0, n_items, batch), rng.integers(0, n_items, batch)
        users[1], pos[1], neg[2] = users[0], pos[0], pos[0]  # a repeated user and an item on both sides
    else:
        users = rng.permutation(n_users)[:batch]
        items = rng.permutation(n_items)[: 2 * batch]
        pos, neg = items[:batch], items[batch:]
    return P, Q, users, pos, neg


def _call(fn, P, Q, users, pos, neg):
    with np.errstate(all="ignore"):  # overflow is reported by the checks, in words
        out = fn(P.copy(), Q.copy(), users.copy(), pos.copy(), neg.copy())
    expect(
        isinstance(out, tuple) and len(out) == 3, f"my_bpr returned {type(out).__name__}, not (loss, dP, dQ)"
    )
    loss, dP, dQ = out
    expect(np.shape(loss) == (), f"the loss has shape {np.shape(loss)}; it is one number, the mean")
    for name, grad, table in (("dP", dP, P), ("dQ", dQ, Q)):
        expect(
            isinstance(grad, np.ndarray) and grad.shape == table.shape,
            f"{name} has shape {np.shape(grad)}; it has the shape of the whole table, {table.shape}",
        )
    return float(loss), np.asarray(dP, dtype=np.float64), np.asarray(dQ, dtype=np.float64)


def _tinyrec_loss(P, Q, users, pos, neg) -> float:
    return float(BPRLoss()(np.sum(P[users] * Q[pos], axis=1), np.sum(P[users] * Q[neg], axis=1)))


@points(1)
def returns_a_loss_and_two_gradients(fn):
    loss, _, _ = _call(fn, *_case(0))
    expect(math.isfinite(loss) and loss > 0, f"the loss is {loss}; −log σ(x) is a finite number > 0")


@points(2)
def loss_matches_tinyrec(fn):
    for seed in (1, 2):
        case = _case(seed, repeats=seed == 2)
        loss, _, _ = _call(fn, *case)
        expected = _tinyrec_loss(*case)
        batch = len(case[2])
        if math.isclose(loss, expected * batch, rel_tol=1e-9):
            raise AssertionError(
                f"your loss is {batch} times the expected {expected:.6g}: a sum where the mean belongs"
            )
        if math.isclose(loss, _tinyrec_loss(case[0], case[1], case[2], case[4], case[3]), rel_tol=1e-9):
            raise AssertionError(
                "your loss rewards the negative item: the margin is the positive's score minus the negative's"
            )
        expect(
            math.isclose(loss, expected, rel_tol=1e-9),
            f"on random tables your loss is {loss:.6g}, expected {expected:.6g}. Hint: −log σ of each "
            f"triple's margin, averaged over the triples",
        )


@points(1)
def loss_is_stable_at_large_margins(fn):
    P = np.array([[10.0, 0.0], [-10.0, 0.0]])
    Q = np.array([[100.0, 0.0], [0.0, 0.0]])
    users, pos, neg = np.array([0, 1]), np.array([0, 0]), np.array([1, 1])  # margins +1000 and −1000
    loss, dP, dQ = _call(fn, P, Q, users, pos, neg)
    expect(
        math.isfinite(loss) and np.all(np.isfinite(dP)) and np.all(np.isfinite(dQ)),
        f"for margins of ±1000 your loss is {loss} or a gradient is not finite: e^1000 overflows. Hint: "
        f"rewrite log(1 + e^(−x)) so that the exponential's argument is −|x|",
    )
    expect(
        math.isclose(loss, 500.0, rel_tol=1e-9),
        f"for margins of +1000 and −1000 the mean loss is 500, not {loss:.6g}",
    )


@points(2)
def user_gradient_is_right(fn):
    case = _case(3)
    _, dP, _ = _call(fn, *case)
    _, expected, _ = SOLUTION(*case)
    batch = len(case[2])
    if np.allclose(dP, expected * batch, rtol=1e-9):
        raise AssertionError(
            f"dP is {batch} times the expected gradient: the gradient of the sum. Hint: the 1/B"
        )
    if np.allclose(dP, -expected, rtol=1e-9):
        raise AssertionError("dP has the wrong sign: a step against it must raise the positive's score")
    expect(
        np.allclose(dP, expected, rtol=1e-9, atol=1e-12),
        f"dP is wrong: {describe_difference(dP, expected)}. Hint: x = p_u · (q_i − q_j), so ∂x/∂p_u is the "
        f"difference of the two item rows",
    )


@points(2)
def item_gradients_have_opposite_signs(fn):
    P, Q, users, pos, neg = _case(4)
    _, _, dQ = _call(fn, P, Q, users, pos, neg)
    _, _, expected = SOLUTION(P, Q, users, pos, neg)
    swapped = expected.copy()
    swapped[pos], swapped[neg] = expected[neg], expected[pos]
    if np.allclose(dQ[pos], -expected[pos], rtol=1e-9) and np.allclose(dQ[neg], -expected[neg], rtol=1e-9):
        raise AssertionError(
            "the positive and negative rows of dQ have their signs swapped: a step against dQ must move q_i "
            "towards p_u and q_j away from it"
        )
    if np.allclose(dQ[neg], 0.0) and not np.allclose(expected[neg], 0.0):
        raise AssertionError("dQ is 0 in the negatives' rows: the negative item's score depends on q_j too")
    expect(
        np.allclose(dQ, expected, rtol=1e-9, atol=1e-12),
        f"dQ is wrong: {describe_difference(dQ, expected)}. Hint: ∂x/∂q_i = p_u and ∂x/∂q_j = −p_u",
    )


@points(2)
def repeated_ids_are_summed(fn):
    case = _case(5, n_users=3, n_items=4, batch=8, repeats=True)
    _, dP, dQ = _call(fn, *case)
    _, expected_P, expected_Q = SOLUTION(*case)
    ok_P = np.allclose(dP, expected_P, rtol=1e-9, atol=1e-12)
    ok_Q = np.allclose(dQ, expected_Q, rtol=1e-9, atol=1e-12)
    if not (ok_P and ok_Q):
        raise AssertionError(
            f"with users and items in several triples (and item {case[3][0]} both a positive and a negative) "
            f"{'dP' if not ok_P else 'dQ'} is wrong: "
            f"{describe_difference(*((dP, expected_P) if not ok_P else (dQ, expected_Q)))}. A row used by "
            f"several triples gets the sum of their terms; dP[users] += ... keeps only one term per "
            f"repeated id. Hint: np.add.at"
        )


@points(1)
def matches_central_differences(fn):
    P, Q, users, pos, neg = _case(6, n_users=3, n_items=4, d=2, batch=5, repeats=True)
    _, dP, dQ = _call(fn, P, Q, users, pos, neg)
    for name, table, grad in (("dP", P, dP), ("dQ", Q, dQ)):
        numerical = numerical_gradient(lambda: _call(fn, P, Q, users, pos, neg)[0], table)
        error = relative_error(grad, numerical)
        expect(
            error < 1e-6,
            f"{name} disagrees with central differences of your own loss: relative error {error:.2e} (a "
            f"right gradient gives about 1e-9). Either the loss or its gradient is off",
        )


@points(1)
def inputs_are_not_modified(fn):
    case = _case(7, repeats=True)
    kept = [a.copy() for a in case]
    fn(*case)
    for name, now, before in zip(("P", "Q", "users", "pos", "neg"), case, kept, strict=True):
        expect(
            np.array_equal(now, before),
            f"my_bpr changed its argument {name} in place. Hint: build new arrays",
        )


CHECKS = (
    returns_a_loss_and_two_gradients,
    loss_matches_tinyrec,
    loss_is_stable_at_large_margins,
    user_gradient_is_right,
    item_gradients_have_opposite_signs,
    repeated_ids_are_summed,
    matches_central_differences,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_bpr``)."""
    return run_checks(NAME, candidate, CHECKS)
