"""ImplicitALS: planted tastes recovered, each sweep lowers the weighted objective, one sweep with
d CG steps is the exact alternating solution. (Each hyperparameter's effect and the refusals of bad
input are stated in the recommender contract: tests/models/contract_cases_classic.py.)"""

from __future__ import annotations

import numpy as np

from tinyrec.models import ImplicitALS

from .contract import implicit_toy
from .test_bpr import _two_tastes


def _objective(model, train):
    """Σ_{u,i} c_ui (p_ui − x_u·y_i)² + λ (‖X‖² + ‖Y‖²), over all pairs (dense; small data only)."""
    X, Y = model.X_.astype(np.float64), model.Y_.astype(np.float64)
    P = np.zeros((train.n_users, train.n_items))
    C = np.ones_like(P)
    P[train.users, train.items] = 1.0
    C[train.users, train.items] = 1.0 + model.alpha * train.ratings
    return float(np.sum(C * (P - X @ Y.T) ** 2) + model.reg * (np.sum(X**2) + np.sum(Y**2)))


def test_planted_tastes_are_recovered():
    train, held, group_u, group_i = _two_tastes()
    model = ImplicitALS(2, 10, alpha=5.0, reg=1.0, seed=0).fit(train)  # two tastes: rank 2
    scores = model.score_all(np.arange(train.n_users))
    same = group_u[:, None] == group_i[None, :]
    aucs = [np.mean(scores[u, i] > scores[u][~same[u]]) for u, i in zip(held.users, held.items, strict=True)]
    assert np.mean(aucs) > 0.99


def test_each_sweep_lowers_the_objective():
    train, _ = implicit_toy()
    values = [
        _objective(ImplicitALS(3, n, alpha=2.0, reg=0.5, dtype=np.float64, seed=0).fit(train), train)
        for n in range(5)
    ]
    assert all(b < a for a, b in zip(values, values[1:], strict=False)), values


def test_one_sweep_with_d_cg_steps_is_exact_alternating_least_squares():
    train, _ = implicit_toy()
    d, alpha, reg = 3, 2.0, 0.5
    start = ImplicitALS(d, 0, alpha=alpha, reg=reg, dtype=np.float64, seed=0).fit(train)
    model = ImplicitALS(d, 1, alpha=alpha, reg=reg, cg_steps=d, dtype=np.float64, seed=0).fit(train)
    C = np.ones((train.n_users, train.n_items))
    C[train.users, train.items] = 1.0 + alpha * train.ratings
    P = np.zeros_like(C)
    P[train.users, train.items] = 1.0

    def solve(fixed, conf, pref):  # each row: (Fᵀ diag(c) F + λI) x = Fᵀ diag(c) p
        return np.stack(
            [
                np.linalg.solve(fixed.T * c @ fixed + reg * np.eye(d), fixed.T @ (c * p))
                for c, p in zip(conf, pref, strict=True)
            ]
        )

    X = solve(start.Y_, C, P)
    X[train.user_counts() == 0] = 0  # a user without interactions has b = 0, so x_u = 0 exactly
    Y = solve(X, C.T, P.T)
    np.testing.assert_allclose(model.X_, X, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(model.Y_, Y, rtol=1e-6, atol=1e-9)
