"""Exercise of tutorial 04: item biases in the layered matrix factorization.

Task
----
``LayeredMF`` (given, as in the tutorial) predicts ``ŷ = p_u · q_i`` with two ``Embedding``
tables and a ``Dot``. Extend it to::

    ŷ_ui = μ + b_i + p_u · q_i

by writing ``forward`` and ``backward`` of ``LayeredBiasedMF``. Its constructor (given) adds a
third table ``B = Embedding(n_items, 1)`` of item biases, started at zero, and keeps ``μ`` (a
constant: the training mean) in ``self.mu``.

Shapes
------
``users, items : (batch,)`` integer ids; ``forward`` returns ``ŷ : (batch,)``; ``backward``
receives ``dŷ : (batch,)``. ``self.B(items)`` is ``(batch, 1)``, and ``self.B.backward`` takes a
gradient of that shape.

Math
----
``∂ŷ/∂b_i = 1``: the bias table receives ``dŷ`` itself (one row per pair; a repeated item sums
its rows, which ``Embedding.backward`` does). ``μ`` is a constant and receives nothing. The
factors receive what they received in ``LayeredMF`` (``dp_u = dŷ q_i``, ``dq_i = dŷ p_u``, from
``Dot.backward``).

Trained one rating at a time with ``SGD(lr=η/2, weight_decay=2λ)`` on ``MSELoss(reduction="sum")``,
the model then takes exactly the steps of Funk's loop with item biases
(``tinyrec.kernels.mf.funk_svd_epoch`` with user biases frozen).

Checks
------
* ``forward_returns_one_score_per_pair``: shape ``(batch,)``;
* ``forward_adds_mu_and_the_item_bias``: the values, for random tables and a nonzero ``B``;
* ``bias_table_gets_dy``: ``B``'s gradient, repeated items summed;
* ``factor_tables_get_the_dot_gradients``: ``P``'s and ``Q``'s gradients;
* ``matches_central_differences``: :func:`tinyrec.gradcheck.check_module` on every table;
* ``trains_like_the_fused_loop``: SGD, one rating at a time, equals ``funk_svd_epoch``.

``check(LayeredBiasedMF)`` runs them all; ``tinyrec.exercises.show_solution("item_biases")``
prints the reference solution.
"""

from __future__ import annotations

import numpy as np

from ..gradcheck import check_module
from ..kernels.mf import funk_svd_epoch
from ..losses import MSELoss
from ..nn import Dot, Embedding, Module
from ..optim import SGD
from .checking import describe_difference, expect, run_checks, worst_entry

NAME = "item_biases"
TUTORIAL = "04_matrix_factorization"


# -- given: the model of the tutorial's section 1 ---------------------------------------------------
class LayeredMF(Module):
    """``ŷ = p_u · q_i``: two Embedding tables and a Dot. ``users, items : (batch,)`` → ``(batch,)``."""

    def __init__(self, n_users, n_items, d, *, dtype=np.float64, seed=0):
        self.P = Embedding(n_users, d, dtype=dtype, seed=seed)
        self.Q = Embedding(n_items, d, dtype=dtype, seed=seed)
        self.dot = Dot()

    def forward(self, users, items):
        return self.dot(self.P(users), self.Q(items))

    def backward(self, grad_output):
        d_pu, d_qi = self.dot.backward(grad_output)  # (batch, d) each
        self.P.backward(d_pu)
        self.Q.backward(d_qi)


# -- the stub: what the tutorial gives the student --------------------------------------------
class LayeredBiasedMF(LayeredMF):
    """``ŷ = μ + b_i + p_u · q_i``."""

    def __init__(self, n_users, n_items, d, mu, *, dtype=np.float64, seed=0):
        super().__init__(n_users, n_items, d, dtype=dtype, seed=seed)
        self.mu = mu
        self.B = Embedding(n_items, 1, dtype=dtype, seed=seed)
        self.B.weight.data[...] = 0.0

    def forward(self, users, items):
        raise NotImplementedError("your turn: return mu + b_i + p_u . q_i, shape (batch,)")

    def backward(self, grad_output):
        raise NotImplementedError("your turn: backpropagate into P, Q and B")


# -- the reference solution ---------------------------------------------------------------------
class SolutionBiasedMF(LayeredBiasedMF):
    """The bias lookup is ``(batch, 1)``: flatten it to add it to the ``(batch,)`` dot product.

    Backward sends ``dŷ`` to the dot product as ``LayeredMF`` does (called by name: ``super()``
    would reach the stub), and ``dŷ[:, None]``, of the lookup's shape ``(batch, 1)``, to the bias
    table, since ``∂ŷ/∂b_i = 1``.
    """

    def forward(self, users, items):
        return self.mu + self.B(items)[:, 0] + self.dot(self.P(users), self.Q(items))

    def backward(self, grad_output):
        LayeredMF.backward(self, grad_output)  # P and Q, through Dot
        self.B.backward(grad_output[:, None])  # ∂ŷ/∂b_i = 1: (batch, 1)


STUB = LayeredBiasedMF
SOLUTION = SolutionBiasedMF
TUTORIAL_CODE = (LayeredMF, LayeredBiasedMF)


# -- the checks -----------------------------------------------------------------------------------
N_USERS, N_ITEMS, D, MU = 7, 9, 3, 3.5
USERS = np.array([0, 4, 4, 6, 1, 2], dtype=np.int64)  # user 4 twice
ITEMS = np.array([3, 8, 3, 0, 3, 5], dtype=np.int64)  # item 3 three times


def _model(cls, seed=0):
    """``cls`` with random factor tables and a nonzero bias table (seeded)."""
    rng = np.random.default_rng(seed)
    model = cls(N_USERS, N_ITEMS, D, MU)
    model.P.weight.data[...] = rng.normal(0, 0.5, (N_USERS, D))
    model.Q.weight.data[...] = rng.normal(0, 0.5, (N_ITEMS, D))
    model.B.weight.data[...] = rng.normal(0, 0.5, (N_ITEMS, 1))
    return model


def _grad(param):
    grad = param.dense_grad()
    return None if grad is None else np.asarray(grad, dtype=np.float64)


def forward_returns_one_score_per_pair(cls):
    for users, items in ((USERS, ITEMS), (USERS[:1], ITEMS[:1])):
        out = np.asarray(_model(cls)(users, items))
        expect(
            out.shape == (len(users),),
            f"for a batch of {len(users)} pairs, forward returned shape {out.shape}, not ({len(users)},). "
            f"Hint: self.B(items) has shape (batch, 1); adding it as it is to a (batch,) array broadcasts",
        )


def forward_adds_mu_and_the_item_bias(cls):
    model = _model(cls)
    P, Q, B = model.P.weight.data, model.Q.weight.data, model.B.weight.data[:, 0]
    dot = np.sum(P[USERS] * Q[ITEMS], axis=1)
    expected = MU + B[ITEMS] + dot
    out = np.asarray(model(USERS, ITEMS), dtype=np.float64)
    expect(out.shape == expected.shape, f"forward returned shape {out.shape}, not {expected.shape}")
    if np.allclose(out, expected, rtol=1e-12, atol=1e-12):
        return
    if np.allclose(out, expected - MU):
        raise AssertionError(f"every score is short by exactly μ = {MU}: forward leaves out the global mean")
    if np.allclose(out, expected - B[ITEMS]):
        raise AssertionError("the scores are p_u · q_i + μ without the item's bias b_i. Hint: look up self.B")
    if np.allclose(out, MU + dot):
        raise AssertionError("the item bias is missing from the scores. Hint: look up self.B(items)")
    raise AssertionError(
        f"forward is wrong for random tables: {describe_difference(out, expected)}. Hint: ŷ = μ + b_i "
        f"+ p_u · q_i, one number per (user, item) pair"
    )


def bias_table_gets_dy(cls):
    model = _model(cls)
    model(USERS, ITEMS)
    dy = np.random.default_rng(1).standard_normal(len(USERS))
    model.backward(dy)
    grad = _grad(model.B.weight)
    expect(grad is not None, "the bias table B received no gradient. Hint: backward must call B's backward")
    expected = np.bincount(ITEMS, weights=dy, minlength=N_ITEMS)[:, None]
    if not np.allclose(grad, expected, rtol=1e-12, atol=1e-12):
        raise AssertionError(
            f"the bias table's gradient is wrong: {describe_difference(grad, expected)} (item 3 is in "
            f"the batch three times). Hint: ∂ŷ/∂b_i = 1, so b_i receives dŷ of each pair with item i"
        )


def factor_tables_get_the_dot_gradients(cls):
    model = _model(cls)
    P, Q = model.P.weight.data.copy(), model.Q.weight.data.copy()
    model(USERS, ITEMS)
    dy = np.random.default_rng(2).standard_normal(len(USERS))
    model.backward(dy)
    expected_p, expected_q = np.zeros_like(P), np.zeros_like(Q)
    np.add.at(expected_p, USERS, dy[:, None] * Q[ITEMS])
    np.add.at(expected_q, ITEMS, dy[:, None] * P[USERS])
    for name, param, expected in (("P", model.P.weight, expected_p), ("Q", model.Q.weight, expected_q)):
        grad = _grad(param)
        expect(
            grad is not None,
            f"the table {name} received no gradient. Hint: the factors still get what they got in "
            f"LayeredMF's backward",
        )
        if not np.allclose(grad, expected, rtol=1e-12, atol=1e-12):
            raise AssertionError(
                f"the gradient of {name} is wrong: {describe_difference(grad, expected)}. Hint: the "
                f"biases do not change the factors' gradients; they are those of p_u · q_i"
            )


def matches_central_differences(cls):
    report = check_module(_model(cls, seed=3), USERS, ITEMS)
    if not report.ok(1e-6):
        worst = worst_entry(report)
        raise AssertionError(
            f"the gradient of {worst} disagrees with central differences (relative error "
            f"{report.errors[worst]:.2e}; a right backward gives about 1e-10).\n{report}"
        )


def trains_like_the_fused_loop(cls):
    rng = np.random.default_rng(4)
    n, eta, lam = 200, 0.02, 0.05
    users = rng.integers(0, N_USERS, n).astype(np.int64)
    items = rng.integers(0, N_ITEMS, n).astype(np.int64)
    ratings = rng.integers(1, 6, n).astype(np.float64)
    order = rng.permutation(n).astype(np.int64)
    P0, Q0 = rng.normal(0, 0.1, (N_USERS, D)), rng.normal(0, 0.1, (N_ITEMS, D))
    mu = float(ratings.mean())

    model = cls(N_USERS, N_ITEMS, D, mu)
    model.P.weight.data[...] = P0
    model.Q.weight.data[...] = Q0
    loss = MSELoss(reduction="sum")
    opt = SGD(model.parameters(), lr=eta / 2, weight_decay=2 * lam)
    for t in order:
        opt.zero_grad()
        loss(model(users[t : t + 1], items[t : t + 1]), ratings[t : t + 1])
        model.backward(loss.backward())
        opt.step()

    P, Q = P0.copy(), Q0.copy()
    bu, bi = np.zeros(N_USERS), np.zeros(N_ITEMS)
    lr, reg = np.array([0.0, eta, eta, eta]), np.array([0.0, lam, lam, lam])  # b_u frozen
    funk_svd_epoch(users, items, ratings, order, mu, bu, bi, P, Q, lr, reg)
    for name, yours, fused in (
        ("item biases", model.B.weight.data[:, 0], bi),
        ("user factors", model.P.weight.data, P),
        ("item factors", model.Q.weight.data, Q),
    ):
        if not np.allclose(yours, fused, rtol=1e-10, atol=1e-12):
            raise AssertionError(
                f"after {n} SGD steps, one rating at a time, your {name} differ from Funk's loop: "
                f"{describe_difference(yours, fused)}. Hint: run the other checks first; every step "
                f"must equal Funk's, so forward and backward must both be exact"
            )


CHECKS = (
    forward_returns_one_score_per_pair,
    forward_adds_mu_and_the_item_bias,
    bias_table_gets_dy,
    factor_tables_get_the_dot_gradients,
    matches_central_differences,
    trains_like_the_fused_loop,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a class like ``LayeredBiasedMF``)."""
    return run_checks(NAME, candidate, CHECKS)
