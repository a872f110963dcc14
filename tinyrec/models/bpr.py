"""``BPRMF``: matrix factorization for implicit feedback, trained with the pairwise BPR loss."""

from __future__ import annotations

import time

import numpy as np

from ..data.sampling import NegativeSampler
from ..kernels import BACKENDS, select
from ..kernels.bpr import bpr_epoch, bpr_epoch_numpy, shuffle_triples
from ..progress import EpochBar
from ..validation import (
    as_generator,
    check_finite_loss,
    count,
    flag,
    float_dtype,
    nonnegative,
    one_of,
    seed_like,
)
from .base import Recommender
from .checks import check_fit_memory


class BPRMF(Recommender):
    """Bayesian personalized ranking matrix factorization (Rendle et al., UAI 2009).

    Parameters
    ----------
    n_factors : int
        ``d``, the number of latent factors.
    n_epochs : int
        Passes over the observed (user, item) pairs; each pass visits every pair once, in a new
        random order, with a fresh negative.
    lr : float
        SGD learning rate ``η``. The defaults (``lr=0.025, reg=0.01``) were chosen on a validation
        split carved from ML-100K's leave-one-out train set; the test figures at these defaults
        are in ``benchmarks/RESULTS.md``, section bench_classic.
    reg : float
        L2 strength ``λ`` of ``p_u`` and ``q_i``.
    reg_bias : float
        L2 strength of the item biases.
    item_bias : bool
        Learn an item bias ``b_i`` (a learnt popularity term).
    init_std : float
        Factors start as ``N(0, init_std²)``; biases at 0.
    backend : {"numba", "python", "numpy"}, default "numba"
        Who runs an epoch: the compiled kernel :func:`tinyrec.kernels.bpr.bpr_epoch`; its plain
        Python body, to step through in a debugger (very slow); or its NumPy twin
        :func:`~tinyrec.kernels.bpr.bpr_epoch_numpy`, one line per line of the update below. The
        three agree to round-off.
    verbose : bool
        A progress line over the epochs on stderr, with each epoch's mean loss (``tinyrec train``
        turns it on).
    dtype : np.float32 (default) or np.float64
    seed : int or np.random.Generator, optional
        Seeds the initialization, the visiting order and the negatives: same seed, same model.

    Notes
    -----
    Score: ``ŷ_ui = p_u·q_i + b_i``. Every rating in ``train`` counts as a positive (the values
    are ignored). For each observed pair ``(u, i)`` an item ``j`` is drawn uniformly among the
    items ``u`` has not interacted with, and one SGD step is taken on
    ``−log σ(ŷ_ui − ŷ_uj) + ½ λ (‖p_u‖² + ‖q_i‖² + ‖q_j‖²) + ½ λ_b (b_i² + b_j²)``; with
    ``z = σ(−(ŷ_ui − ŷ_uj))``::

        p_u += η (z (q_i − q_j) − λ p_u)
        q_i += η (z p_u − λ q_i)          q_j += η (−z p_u − λ q_j)
        b_i += η (z − λ_b b_i)            b_j += η (−z − λ_b b_j)

    (:func:`tinyrec.kernels.bpr.bpr_epoch`). The negatives of an epoch are drawn before it runs,
    by :class:`tinyrec.data.sampling.NegativeSampler` (uniform, never a positive), one per pair
    in user order; the triples are then shuffled.
    A user without training interactions keeps ``p_u = 0``, so its scores are the item biases;
    :meth:`recommend` gives such users the most popular items. When an epoch's mean loss is NaN
    or inf (SGD diverged), ``fit`` raises :class:`~tinyrec.errors.NonFiniteError` naming the epoch.

    Attributes (after ``fit``)
    --------------------------
    P_ : (n_users, n_factors), Q_ : (n_items, n_factors), bi_ : (n_items,)
    history_ : {"loss" (mean −log σ per pair), "epoch_seconds"}
    """

    hyperparameters = {
        "n_factors": count, "n_epochs": count, "lr": nonnegative, "reg": nonnegative, "reg_bias": nonnegative,
        "item_bias": flag, "init_std": nonnegative, "backend": one_of(*BACKENDS, "numpy"), "verbose": flag,
        "dtype": float_dtype, "seed": seed_like,
    }  # fmt: skip
    task = "ranking"
    _array_names = ("P_", "Q_", "bi_")
    _user_rows, _item_rows = ("P_",), ("Q_", "bi_")  # arrays with one row per user / per item
    _factor_arrays = ("P_", "Q_")

    def __init__(
        self,
        n_factors: int = 64,
        n_epochs: int = 100,
        *,
        lr: float = 0.025,
        reg: float = 0.01,
        reg_bias: float = 0.01,
        item_bias: bool = True,
        init_std: float = 0.1,
        backend: str = "numba",
        verbose: bool = False,
        dtype=np.float32,
        seed=None,
    ):
        self.n_factors, self.n_epochs, self.lr, self.reg = n_factors, n_epochs, lr, reg
        self.reg_bias, self.item_bias, self.init_std = reg_bias, item_bias, init_std
        self.backend, self.verbose = backend, verbose
        self.dtype, self.seed = dtype, seed
        self._check_hyperparameters()

    def _fit(self, train, valid) -> None:
        tables = {"P_ and Q_ drawn in float64": ((self.n_users_ + self.n_items_, self.n_factors), np.float64)}
        check_fit_memory(self, tables, set_by=("n_factors",))
        rng = as_generator(self.seed)
        indptr, indices = self.seen_indptr_, self.seen_indices_  # distinct positives, sorted per user
        users = np.repeat(np.arange(self.n_users_, dtype=np.int64), np.diff(indptr))  # (n_pos,)
        positives = indices.astype(np.int64)
        sampler = self._negative_sampler(train, rng)  # raises DataError for a user who saw every item
        d, dtype = self.n_factors, self.dtype
        self.P_ = rng.normal(0.0, self.init_std, (self.n_users_, d)).astype(dtype)
        self.Q_ = rng.normal(0.0, self.init_std, (self.n_items_, d)).astype(dtype)
        self.bi_ = np.zeros(self.n_items_, dtype)
        lr = np.array([self.lr, self.lr, self.lr if self.item_bias else 0.0])
        reg = np.array([self.reg, self.reg, self.reg_bias])
        n = len(users)
        epoch = bpr_epoch_numpy if self.backend == "numpy" else select(bpr_epoch, self.backend)
        # the NumPy twin is of the epoch's math; its shuffle stays compiled (the same draws give the
        # same order either way, and a Python Fisher-Yates loop over every triple is slow)
        shuffle = select(shuffle_triples, "numba" if self.backend == "numpy" else self.backend)
        # the progress line (verbose) is ended even when an epoch raises (SGD diverged)
        with EpochBar(self.n_epochs, "loss", enabled=self.verbose) as bar:
            for _ in range(self.n_epochs):
                start = time.perf_counter()
                # one negative per pair, drawn in the user-grouped order (the sampler then reads each
                # user's positives once per run); shuffling the triples afterwards gives the same
                # distribution as drawing after the shuffle
                negatives = sampler.sample(users, 1)[:, 0].astype(np.int64)
                e_users, e_positives = users.copy(), positives.copy()  # shuffled in place below
                shuffle(rng.random(n), e_users, e_positives, negatives)
                loss = epoch(e_users, e_positives, negatives, self.P_, self.Q_, self.bi_, lr, reg)
                past = self.history_.get("loss", [])
                check_finite_loss(
                    loss / max(n, 1), epoch=len(past) + 1, last_finite=past[-1] if past else None,
                    fix="SGD diverged: lower lr or raise reg",
                )  # fmt: skip
                self.history_.setdefault("epoch_seconds", []).append(time.perf_counter() - start)
                self.history_.setdefault("loss", []).append(loss / max(n, 1))
                bar.update(len(self.history_["loss"]), loss / max(n, 1))
        self.P_[self.user_counts_ == 0] = 0

    def _negative_sampler(self, train, rng) -> NegativeSampler:
        """Uniform negatives among the items each user has not interacted with in ``train``.

        A method of its own so that a study can change only this (``benchmarks/bench_bpr_leak.py``
        measures what excluding the test items too would add).
        """
        return NegativeSampler(train, seed=rng)

    def _score(self, users, items):
        dots = np.einsum(
            "kf,kf->k", self.P_[users], self.Q_[items], dtype=np.float64
        )  # (n,) row-wise p_u·q_i
        return dots + self.bi_[items]

    def _score_all(self, users):
        # (n, d) @ (d, n_items) + (1, n_items) -> (n, n_items)
        return self.P_[users].astype(np.float64) @ self.Q_.T.astype(np.float64) + self.bi_[None, :]

    def _item_vectors(self):
        return self.Q_
