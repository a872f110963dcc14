"""``BaselineOnly``: the rating baseline ``r̂_ui = μ + b_u + b_i``, fitted by ALS or SGD like Surprise."""

from __future__ import annotations

import time

import numpy as np

from ..kernels import BACKENDS, select
from ..kernels.mf import funk_svd_epoch
from ..validation import (
    as_generator,
    check_finite_loss,
    count,
    flag,
    float_dtype,
    nonnegative,
    one_of,
    optional,
    seed_like,
)
from .base import Recommender

_DEFAULT_EPOCHS = {"als": 10, "sgd": 20}


class BaselineOnly(Recommender):
    """User and item biases around the global mean (Koren 2010, "Factor in the neighbors", §2.1).

    Parameters
    ----------
    method : {"als", "sgd"}
        Alternating least squares (Surprise's default) or stochastic gradient descent.
    n_epochs : int, optional
        Passes over the data; default 10 for ALS and 20 for SGD (Surprise's defaults).
    reg_u, reg_i : float
        ALS: regularization of the user and item biases (Surprise: 15 and 10).
    reg, lr : float
        SGD: L2 strength and learning rate (Surprise: 0.02 and 0.005).
    shuffle : bool
        SGD: visit the ratings in a new random order each epoch (``False``: in ``train``'s order,
        which is what Surprise does).
    backend : {"numba", "python"}, default "numba"
        SGD: run the epochs by the compiled kernel, or by its plain Python body (the same
        updates, far slower) to step through one in a debugger. ALS is NumPy either way.
    dtype : np.float32 (default) or np.float64
        dtype of the learnt biases (ALS always computes in float64).
    seed : int or np.random.Generator, optional
        Seeds the SGD shuffling. The same seed gives the same model, bit for bit.

    Notes
    -----
    Prediction: ``r̂_ui = μ + b_u + b_i``; a user or item without training ratings has bias 0, so a
    pair of unknowns is predicted ``μ``. Predictions are clipped to the training rating range.

    ALS alternates the closed-form minimizers of
    ``Σ (r_ui − μ − b_u − b_i)² + λ_u Σ b_u² + λ_i Σ b_i²`` (items first, as Surprise)::

        b_i = Σ_{u ∈ U_i} (r_ui − μ − b_u) / (λ_i + |U_i|)
        b_u = Σ_{i ∈ I_u} (r_ui − μ − b_i) / (λ_u + |I_u|)

    SGD, for each rating with ``e_ui = r_ui − (μ + b_u + b_i)``::

        b_u += η (e_ui − λ b_u);   b_i += η (e_ui − λ b_i)

    which is :func:`tinyrec.kernels.mf.funk_svd_epoch` with zero factors. When an SGD epoch's
    training RMSE is NaN or inf, ``fit`` raises :class:`~tinyrec.errors.NonFiniteError`.
    """

    hyperparameters = {
        "method": one_of(*_DEFAULT_EPOCHS), "n_epochs": optional(count),  # None: the method's default
        "reg_u": nonnegative, "reg_i": nonnegative, "reg": nonnegative, "lr": nonnegative, "shuffle": flag,
        "backend": one_of(*BACKENDS), "dtype": float_dtype, "seed": seed_like,
    }  # fmt: skip
    _array_names = ("bu_", "bi_")
    _user_rows, _item_rows = ("bu_",), ("bi_",)  # arrays with one row per user / per item

    def __init__(
        self,
        method: str = "als",
        *,
        n_epochs: int | None = None,
        reg_u: float = 15.0,
        reg_i: float = 10.0,
        reg: float = 0.02,
        lr: float = 0.005,
        shuffle: bool = True,
        backend: str = "numba",
        dtype=np.float32,
        seed=None,
    ):
        self.method, self.n_epochs = method, n_epochs
        self.reg_u, self.reg_i, self.reg, self.lr = reg_u, reg_i, reg, lr
        self.shuffle, self.backend, self.dtype, self.seed = shuffle, backend, dtype, seed
        self._check_hyperparameters()

    def _fit(self, train, valid) -> None:
        n_epochs = _DEFAULT_EPOCHS[self.method] if self.n_epochs is None else self.n_epochs
        mu = self.global_mean_
        users, items = train.users, train.items
        history = self.history_.setdefault("epoch_seconds", [])
        if self.method == "als":
            r = train.ratings.astype(np.float64)
            bu, bi = np.zeros(self.n_users_), np.zeros(self.n_items_)
            for _ in range(n_epochs):
                start = time.perf_counter()
                bi = np.bincount(items, weights=r - mu - bu[users], minlength=self.n_items_)
                # an item without ratings has the sum 0: max(·, 1) keeps it at 0 when reg_i = 0 (not 0/0)
                bi /= np.maximum(self.reg_i + self.item_counts_, 1)
                bu = np.bincount(users, weights=r - mu - bi[items], minlength=self.n_users_)
                bu /= np.maximum(self.reg_u + self.user_counts_, 1)
                history.append(time.perf_counter() - start)
        else:
            rng = as_generator(self.seed)
            r = train.ratings.astype(self.dtype)
            bu, bi = np.zeros(self.n_users_, self.dtype), np.zeros(self.n_items_, self.dtype)
            # factor tables of width 0: the Funk SVD epoch then updates the biases only
            P, Q = np.zeros((self.n_users_, 0), self.dtype), np.zeros((self.n_items_, 0), self.dtype)
            lr = np.array([self.lr, self.lr, 0.0, 0.0])
            reg = np.array([self.reg, self.reg, 0.0, 0.0])
            n = len(train)
            last_rmse = None
            sgd_epoch = select(funk_svd_epoch, self.backend)
            for epoch in range(1, n_epochs + 1):
                start = time.perf_counter()
                order = rng.permutation(n) if self.shuffle else np.arange(n)
                sse = sgd_epoch(users, items, r, order, mu, bu, bi, P, Q, lr, reg)
                rmse = float(np.sqrt(sse / max(n, 1)))
                check_finite_loss(
                    rmse, epoch=epoch, last_finite=last_rmse, what="the training RMSE",
                    fix="SGD diverged: lower lr or raise reg",
                )  # fmt: skip
                last_rmse = rmse
                history.append(time.perf_counter() - start)
        self.bu_, self.bi_ = bu.astype(self.dtype), bi.astype(self.dtype)

    def _score(self, users, items):
        return self.global_mean_ + self.bu_[users].astype(np.float64) + self.bi_[items]

    def _score_all(self, users):
        # (n, 1) + (1, n_items) -> (n, n_items)
        return self.global_mean_ + self.bu_[users, None].astype(np.float64) + self.bi_[None, :]

    def _invariants(self) -> dict[str, bool]:
        unknown = (self.bu_[self.user_counts_ == 0], self.bi_[self.item_counts_ == 0])
        return {"users and items without training ratings have zero biases": not any(map(np.any, unknown))}
