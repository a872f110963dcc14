"""``ImplicitALS``: weighted matrix factorization for implicit feedback, solved by ALS with CG."""

from __future__ import annotations

import time

import numpy as np

from ..errors import DataError
from ..kernels import BACKENDS, select
from ..kernels.als import als_cg_rows, als_cg_rows_numpy
from ..progress import EpochBar
from ..validation import (
    as_generator,
    at_least,
    check_finite_loss,
    count,
    flag,
    float_dtype,
    nonnegative,
    one_of,
    seed_like,
)
from .base import Recommender
from .checks import check_fit_memory, check_one_value_per_pair


class ImplicitALS(Recommender):
    """Implicit-feedback ALS (Hu, Koren, Volinsky, ICDM 2008) with conjugate-gradient solves.

    Parameters
    ----------
    n_factors : int
        ``d``, the number of latent factors.
    n_epochs : int
        ALS sweeps; each solves every user row, then every item row.
    alpha : float
        Confidence slope: an observed pair with value ``r_ui`` has confidence ``c_ui = 1 + α r_ui``.
    reg : float
        L2 strength ``λ``. The defaults ``α = 10, λ = 30`` were chosen on a validation split
        carved from ML-100K's leave-one-out train set (binary data); ``implicit``'s library
        defaults are ``α = 1, λ = 0.01``.
    cg_steps : int
        Conjugate-gradient iterations per row and sweep (Takács et al. 2011: 3 is enough, since
        each solve starts from the previous sweep's solution).
    init_std : float
        Factors start as ``N(0, init_std²)``.
    backend : {"numba", "python", "numpy"}, default "numba"
        Who solves the rows: the compiled kernel :func:`tinyrec.kernels.als.als_cg_rows`; its
        plain Python body, to step through in a debugger (very slow); or its NumPy twin
        :func:`~tinyrec.kernels.als.als_cg_rows_numpy`, which runs the same conjugate-gradient
        steps for all rows at once, one line per equation. The three agree to round-off.
    verbose : bool
        A progress line over the epochs on stderr (``tinyrec train`` turns it on).
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator, optional
        Seeds the initialization (ALS itself is deterministic).

    Notes
    -----
    Score: ``ŷ_ui = x_u · y_i``. ALS minimizes, over **all** user-item pairs,

        Σ_{u,i} c_ui (p_ui − x_u·y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)

    with preference ``p_ui = 1`` and confidence ``c_ui = 1 + α r_ui`` for observed pairs, and
    ``p_ui = 0``, ``c_ui = 1`` for all others. With the items fixed, each user's problem is a
    ridge regression whose normal equations
    ``(Σ_i y_i y_iᵀ + λI + Σ_{i∈I_u} (c_ui − 1) y_i y_iᵀ) x_u = Σ_{i∈I_u} c_ui y_i`` are solved
    approximately by ``cg_steps`` CG iterations (:func:`tinyrec.kernels.als.als_cg_rows`); then the
    same for items with the users fixed. ``Σ_i y_i y_iᵀ`` (over all items) is shared by all users,
    which is what makes the unobserved pairs free. The ratings of ``train`` are the ``r_ui`` (use
    all ones for plain implicit data). A user without interactions keeps ``x_u = 0``.

    Attributes (after ``fit``)
    --------------------------
    X_ : (n_users, n_factors), Y_ : (n_items, n_factors)
        The factor tables, rows ``x_u`` and ``y_i`` (Hu et al.'s letters).
    history_ : {"epoch_seconds"}
    """

    hyperparameters = {
        "n_factors": at_least(1), "n_epochs": count, "alpha": nonnegative, "reg": nonnegative,
        "cg_steps": at_least(1), "init_std": nonnegative, "backend": one_of(*BACKENDS, "numpy"),
        "verbose": flag, "dtype": float_dtype, "seed": seed_like,
    }  # fmt: skip
    task = "ranking"
    _array_names = ("X_", "Y_")
    _user_rows, _item_rows = ("X_",), ("Y_",)  # arrays with one row per user / per item
    _factor_arrays = ("X_", "Y_")

    def __init__(
        self,
        n_factors: int = 64,
        n_epochs: int = 15,
        *,
        alpha: float = 10.0,
        reg: float = 30.0,
        cg_steps: int = 3,
        init_std: float = 0.01,
        backend: str = "numba",
        verbose: bool = False,
        dtype=np.float32,
        seed=None,
    ):
        self.n_factors, self.n_epochs, self.alpha, self.reg = n_factors, n_epochs, alpha, reg
        self.cg_steps, self.init_std, self.backend, self.verbose = cg_steps, init_std, backend, verbose
        self.dtype, self.seed = dtype, seed
        self._check_hyperparameters()

    def _fit(self, train, valid) -> None:
        check_one_value_per_pair(train, "ImplicitALS")
        if np.any(train.ratings < 0):
            raise DataError("ImplicitALS needs non-negative values r_ui (confidence 1 + alpha r_ui)")
        rng = as_generator(self.seed)
        d, dtype = self.n_factors, self.dtype
        tables = {"X_, Y_ drawn in float64 and copied": ((2 * (self.n_users_ + self.n_items_), d), float)}
        check_fit_memory(self, tables | {"grams (d x d)": ((3, d, d), float)}, set_by=("n_factors",))
        self.X_ = rng.normal(0.0, self.init_std, (self.n_users_, d)).astype(dtype)
        self.Y_ = rng.normal(0.0, self.init_std, (self.n_items_, d)).astype(dtype)
        self.X_[self.user_counts_ == 0] = 0
        by_user = train.to_csr(by="user")  # (indptr, items, values)
        by_item = train.to_csr(by="item")  # (indptr, users, values)
        conf_u = 1.0 + self.alpha * by_user[2].astype(np.float64)
        conf_i = 1.0 + self.alpha * by_item[2].astype(np.float64)
        ridge = self.reg * np.eye(d)
        solve = als_cg_rows_numpy if self.backend == "numpy" else select(als_cg_rows, self.backend)
        last = None  # the largest |factor| after the last epoch, for the message when one is NaN or inf
        with EpochBar(self.n_epochs, "", enabled=self.verbose) as bar:  # ALS has no loss to show
            for epoch in range(1, self.n_epochs + 1):
                start = time.perf_counter()
                item64 = self.Y_.astype(np.float64)  # for the gram Σ_i y_i y_iᵀ, in float64
                solve(
                    by_user[0], by_user[1], conf_u, self.X_, self.Y_, item64.T @ item64 + ridge, self.cg_steps
                )
                user64 = self.X_.astype(np.float64)
                solve(
                    by_item[0], by_item[1], conf_i, self.Y_, self.X_, user64.T @ user64 + ridge, self.cg_steps
                )
                largest = float(np.maximum(np.abs(self.X_).max(initial=0), np.abs(self.Y_).max(initial=0)))
                check_finite_loss(largest, epoch=epoch, last_finite=last, what="the largest |factor|",
                                  fix="ALS diverged: lower init_std or alpha, or raise reg")  # fmt: skip
                last = largest
                self.history_.setdefault("epoch_seconds", []).append(time.perf_counter() - start)
                bar.update(epoch, None)

    def _score(self, users, items):
        return np.einsum(
            "kf,kf->k", self.X_[users], self.Y_[items], dtype=np.float64
        )  # (n,) row-wise x_u·y_i

    def _score_all(self, users):
        # (n, d) @ (d, n_items) -> (n, n_items)
        return self.X_[users].astype(np.float64) @ self.Y_.T.astype(np.float64)

    def _item_vectors(self):
        return self.Y_
