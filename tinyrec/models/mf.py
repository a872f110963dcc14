"""``BiasedMF``: Funk SVD with biases, trained by SGD with a fused Numba epoch, like Surprise's SVD."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentTypeError
from ..kernels import BACKENDS, select
from ..kernels.mf import funk_svd_blocked_epoch, funk_svd_epoch, shuffle_within_blocks, user_block_order
from ..progress import EpochBar
from ..validation import (
    as_generator,
    check_finite_loss,
    check_positive_int,
    count,
    flag,
    float_dtype,
    nonnegative,
    one_of,
    optional,
    positive_int,
    real,
    seed_like,
)
from .base import Recommender
from .checks import check_fit_memory, check_user_item


def _shuffle_rule(value, name: str) -> bool | str:
    """The rule of ``shuffle``: True (user blocks), False, or ``"ratings"`` (every rating shuffled)."""
    if isinstance(value, str) and value == "ratings":
        return value
    if not isinstance(value, (bool, np.bool_)):  # a truthy string such as "no" must not count as True
        raise ArgumentTypeError(
            f'{name} must be True or False, got {value!r}; or "ratings" to shuffle every rating'
        )
    return bool(value)


#: ``shuffle=True``: how many users' ratings an epoch shuffles together (a "user block").
USERS_PER_BLOCK = 16


class BiasedMF(Recommender):
    """Biased matrix factorization ("Funk SVD"), exactly the algorithm of Surprise's ``SVD``.

    Parameters
    ----------
    n_factors : int
        ``d``, the number of latent factors (Surprise: 100).
    n_epochs : int
        Passes of SGD over the ratings (Surprise: 20).
    biased : bool
        Learn ``μ, b_u, b_i``; with ``False`` the model is ``r̂_ui = p_u·q_i``.
    lr_all, reg_all : float
        Learning rate ``η`` and L2 strength ``λ`` of every parameter group (Surprise: 0.005, 0.02).
    lr_bu, lr_bi, lr_pu, lr_qi, reg_bu, reg_bi, reg_pu, reg_qi : float, optional
        Per-group overrides of ``lr_all`` / ``reg_all``.
    init_mean, init_std : float
        Factors start as ``N(init_mean, init_std²)`` (Surprise: 0 and 0.1); biases start at 0.
    shuffle : True (default), ``"ratings"`` or False
        The order in which an epoch visits the ratings (with ``n_blocks=1``):

        * ``True``: **user blocks**. Each epoch puts the users in a new random order and cuts
          them into blocks of :data:`USERS_PER_BLOCK` (16) users; the blocks run one after
          another, the ratings of a block in a new random order. A block's user rows stay in
          cache while it runs, so an epoch costs less than with ``"ratings"``, the more so the
          larger the tables (0.8× on ML-100K, 0.6× on an ML-1M-sized set), with the same
          accuracy (``benchmarks/bench_classic.py`` measures both: RMSE on u1–u5, and speed).
        * ``"ratings"``: every rating in a new random order each epoch, every order equally likely
          (plain shuffled SGD; tinyrec's default before user blocks).
        * ``False``: ``train``'s order, as Surprise does (it iterates its ratings grouped by user).

        With ``n_blocks > 1``, ``True`` and ``"ratings"`` both shuffle the ratings inside each
        block (see ``n_blocks``).
    n_blocks : int
        ``1`` (default): plain SGD, one rating after another, Surprise's algorithm. ``n_blocks > 1``:
        distributed SGD (Gemulla et al., KDD 2011) on Numba threads: users and items are cut into
        ``n_blocks`` groups each (contiguous index ranges holding about equal numbers of ratings),
        the ratings into the ``n_blocks × n_blocks`` blocks they form; an epoch visits the
        ``n_blocks`` strata in a random order, and the ``n_blocks`` blocks of a stratum, which share
        no user and no item, run at the same time, each over its ratings in a new random order
        (``shuffle=False``: the strata in turn, each block in ``train``'s order). Still
        deterministic: the result depends on ``n_blocks`` and the seed, never on the number of
        threads (set by ``numba.set_num_threads`` or ``NUMBA_NUM_THREADS``). Use ``n_blocks`` of at
        least the number of cores; the order of the updates differs from ``n_blocks=1``, the
        accuracy does not (``benchmarks/bench_classic.py`` measures both).
    backend : {"numba", "python"}, default "numba"
        Run the epochs by the compiled kernels, or by their plain Python bodies (the same updates,
        about a thousand times slower) to step through one in a debugger.
    verbose : bool
        A progress line over the epochs on stderr, with each epoch's training RMSE (``tinyrec
        train`` turns it on).
    dtype : np.float32 (default) or np.float64
        dtype of the factors and biases; each update is computed in this dtype (the epoch's
        squared-error sum, for the history, in float64).
    seed : int or np.random.Generator, optional
        Seeds the initialization and the shuffling: the same seed gives the same model, bit for bit.

    Notes
    -----
    Prediction: ``r̂_ui = μ + b_u + b_i + p_u·q_i`` with ``p_u, q_i ∈ R^d``, clipped to the
    training rating range by :meth:`predict`. Training minimizes, one rating at a time,
    ``½ (r_ui − r̂_ui)² + ½ λ (b_u² + b_i² + ‖p_u‖² + ‖q_i‖²)``; with ``e_ui = r_ui − r̂_ui``::

        b_u += η (e_ui − λ b_u)              b_i += η (e_ui − λ b_i)
        p_u += η (e_ui q_i − λ p_u)          q_i += η (e_ui p_u − λ q_i)   (both from old values)

    (:func:`tinyrec.kernels.mf.funk_svd_epoch`). After training, the factors of users and items
    without training ratings are set to zero (they were never updated), so an unknown user or item
    contributes neither a bias nor a dot product: exactly Surprise's rule for unknown ids.
    When an epoch's training RMSE is NaN or inf (the learning rate too high for the data), ``fit``
    raises :class:`~tinyrec.errors.NonFiniteError` naming the epoch.

    Koren, Bell and Volinsky, "Matrix factorization techniques for recommender systems",
    IEEE Computer 2009; Funk, "Netflix update: try this at home", 2006.

    Attributes (after ``fit``)
    --------------------------
    P_ : (n_users, n_factors), Q_ : (n_items, n_factors), bu_ : (n_users,), bi_ : (n_items,)
    history_ : {"train_rmse", "epoch_seconds"} and ``"valid_rmse"`` when ``valid`` is given.
    """

    hyperparameters = {
        "n_factors": count, "n_epochs": count, "biased": flag, "lr_all": nonnegative, "reg_all": nonnegative,
        **{name: optional(nonnegative) for name in ("lr_bu", "lr_bi", "lr_pu", "lr_qi")},
        **{name: optional(nonnegative) for name in ("reg_bu", "reg_bi", "reg_pu", "reg_qi")},
        "init_mean": real, "init_std": nonnegative, "shuffle": _shuffle_rule,
        "n_blocks": positive_int,
        "backend": one_of(*BACKENDS), "verbose": flag, "dtype": float_dtype, "seed": seed_like,
    }  # fmt: skip
    _array_names = ("P_", "Q_", "bu_", "bi_")
    _user_rows, _item_rows = ("P_", "bu_"), ("Q_", "bi_")  # arrays with one row per user / per item
    _factor_arrays = ("P_", "Q_")

    def __init__(
        self,
        n_factors: int = 100,
        n_epochs: int = 20,
        *,
        biased: bool = True,
        lr_all: float = 0.005,
        reg_all: float = 0.02,
        lr_bu: float | None = None,
        lr_bi: float | None = None,
        lr_pu: float | None = None,
        lr_qi: float | None = None,
        reg_bu: float | None = None,
        reg_bi: float | None = None,
        reg_pu: float | None = None,
        reg_qi: float | None = None,
        init_mean: float = 0.0,
        init_std: float = 0.1,
        shuffle: bool | str = True,
        n_blocks: int = 1,
        backend: str = "numba",
        verbose: bool = False,
        dtype=np.float32,
        seed=None,
    ):
        self.n_factors, self.n_epochs, self.biased = n_factors, n_epochs, biased
        self.lr_all, self.reg_all = lr_all, reg_all
        self.lr_bu, self.lr_bi, self.lr_pu, self.lr_qi = lr_bu, lr_bi, lr_pu, lr_qi  # None: lr_all
        self.reg_bu, self.reg_bi, self.reg_pu, self.reg_qi = reg_bu, reg_bi, reg_pu, reg_qi  # None: reg_all
        self.init_mean, self.init_std = init_mean, init_std
        self.shuffle, self.n_blocks, self.backend, self.verbose = shuffle, n_blocks, backend, verbose
        self.dtype, self.seed = dtype, seed
        self._check_hyperparameters()

    def _rates(self):
        """(4,) learning rates and (4,) L2 strengths of ``b_u, b_i, p_u, q_i``."""

        def pick(value, default):
            return default if value is None else value

        lr = [
            pick(self.lr_bu, self.lr_all),
            pick(self.lr_bi, self.lr_all),
            pick(self.lr_pu, self.lr_all),
            pick(self.lr_qi, self.lr_all),
        ]
        reg = [
            pick(self.reg_bu, self.reg_all),
            pick(self.reg_bi, self.reg_all),
            pick(self.reg_pu, self.reg_all),
            pick(self.reg_qi, self.reg_all),
        ]
        if not self.biased:
            lr[0] = lr[1] = 0.0  # biases frozen at zero
        return np.array(lr, dtype=np.float64), np.array(reg, dtype=np.float64)

    def _fit(self, train, valid) -> None:
        rng = as_generator(self.seed)
        d, dtype = self.n_factors, self.dtype
        tables = {"P_ and Q_ drawn in float64": ((self.n_users_ + self.n_items_, d), np.float64)}
        grid = {"the n_blocks x n_blocks blocks' starts and sums": ((2, self.n_blocks**2 + 1), np.int64)}
        grid = grid if self.n_blocks > 1 else {}
        check_fit_memory(self, tables | grid, set_by=("n_factors", "n_blocks"))
        self.P_ = rng.normal(self.init_mean, self.init_std, (self.n_users_, d)).astype(dtype)
        self.Q_ = rng.normal(self.init_mean, self.init_std, (self.n_items_, d)).astype(dtype)
        self.bu_ = np.zeros(self.n_users_, dtype)
        self.bi_ = np.zeros(self.n_items_, dtype)
        mu = self.global_mean_ if self.biased else 0.0
        lr, reg = self._rates()
        users, items, ratings = train.users, train.items, train.ratings.astype(dtype)
        # the progress line (verbose) is ended even when an epoch raises (SGD diverged)
        with EpochBar(self.n_epochs, "train_rmse", enabled=self.verbose) as bar:
            fit_epochs = self._fit_blocked if self.n_blocks > 1 else self._fit_sequential
            fit_epochs(users, items, ratings, mu, lr, reg, rng, valid, bar)
        self._forget_unknown()

    def _fit_sequential(self, users, items, ratings, mu, lr, reg, rng, valid, bar) -> None:
        """Plain SGD, one rating after another (``n_blocks=1``): Surprise's loop."""
        n = len(users)
        in_order = np.arange(n)
        epoch = select(funk_svd_epoch, self.backend)
        if self.shuffle is True:  # the ratings grouped by user once, for the user blocks
            by_user = np.argsort(users, kind="stable")
            users, items, ratings = users[by_user], items[by_user], ratings[by_user]
            user_starts = np.zeros(self.n_users_ + 1, dtype=np.int64)
            np.cumsum(np.bincount(users, minlength=self.n_users_), out=user_starts[1:])
            block_order = select(user_block_order, self.backend)
        for _ in range(self.n_epochs):
            start = time.perf_counter()
            if self.shuffle is True:
                # Users in a new random order, cut into blocks of USERS_PER_BLOCK users, each
                # block's ratings in a new random order: a user's row stays in cache while its
                # block runs (see `shuffle`), and the updates still come in a random order.
                user_order = rng.permutation(self.n_users_)
                order = block_order(user_starts, user_order, USERS_PER_BLOCK, rng.random(n))
                e_users, e_items, e_ratings = users[order], items[order], ratings[order]
            elif self.shuffle == "ratings":
                # Gather the epoch's ratings in shuffled order first, so that the kernel streams
                # through them: visiting them through `order` instead costs three cache misses per
                # rating (about 4x slower at ML-1M size); the sequence of updates is the same.
                order = rng.permutation(n)
                e_users, e_items, e_ratings = users[order], items[order], ratings[order]
            else:
                e_users, e_items, e_ratings = users, items, ratings
            sse = epoch(
                e_users, e_items, e_ratings, in_order, mu, self.bu_, self.bi_, self.P_, self.Q_, lr, reg
            )
            self._record_epoch(start, sse, n, valid, bar)

    def _fit_blocked(self, users, items, ratings, mu, lr, reg, rng, valid, bar) -> None:
        """Distributed SGD over ``n_blocks × n_blocks`` blocks (see ``n_blocks``)."""
        n_blocks, n = self.n_blocks, len(users)
        user_group = _balanced_groups(users, self.n_users_, n_blocks)  # (n_users,)
        item_group = _balanced_groups(items, self.n_items_, n_blocks)  # (n_items,)
        block = user_group[users] * n_blocks + item_group[items]  # (n,) block of each rating
        by_block = np.argsort(block, kind="stable")  # keeps train's order inside a block
        block_starts = np.searchsorted(block[by_block], np.arange(n_blocks * n_blocks + 1)).astype(np.int64)
        # copies: the epochs shuffle them in place
        b_users, b_items, b_ratings = users[by_block], items[by_block], ratings[by_block]
        params = (mu, self.bu_, self.bi_, self.P_, self.Q_, lr, reg)
        shuffle_blocks = select(shuffle_within_blocks, self.backend)
        epoch = select(funk_svd_blocked_epoch, self.backend)
        for _ in range(self.n_epochs):
            start = time.perf_counter()
            strata = np.arange(n_blocks, dtype=np.int64)
            if self.shuffle:
                shuffle_blocks(block_starts, rng.random(n), b_users, b_items, b_ratings)
                strata = rng.permutation(strata)
            sse = epoch(b_users, b_items, b_ratings, block_starts, strata, *params)
            self._record_epoch(start, sse, n, valid, bar)

    def _record_epoch(self, start: float, sse: float, n: int, valid, bar: EpochBar) -> None:
        """Append the epoch's seconds, training RMSE and (with ``valid``) validation RMSE to the
        history, and redraw the progress line.

        Raises NonFiniteError when the epoch's training error is NaN or inf (SGD diverged).
        """
        history = self.history_
        rmse = float(np.sqrt(sse / max(n, 1)))
        past = history.get("train_rmse", [])
        check_finite_loss(
            rmse, epoch=len(past) + 1, last_finite=past[-1] if past else None, what="the training RMSE",
            fix="SGD diverged: lower lr_all (or the lr_* overrides) or raise reg_all",
        )  # fmt: skip
        history.setdefault("epoch_seconds", []).append(time.perf_counter() - start)
        history.setdefault("train_rmse", []).append(rmse)
        bar.update(len(history["train_rmse"]), rmse)
        if valid is not None:
            err = self.predict(valid.users, valid.items) - valid.ratings
            history.setdefault("valid_rmse", []).append(float(np.sqrt(np.mean(err.astype(np.float64) ** 2))))

    def _forget_unknown(self) -> None:
        """Zero the (never trained) factors of users and items absent from training."""
        self.P_[self.user_counts_ == 0] = 0
        self.Q_[self.item_counts_ == 0] = 0

    def _mu(self) -> float:
        return self.global_mean_ if self.biased else 0.0

    def _score(self, users, items):
        dots = np.einsum(
            "kf,kf->k", self.P_[users], self.Q_[items], dtype=np.float64
        )  # (n,) row-wise p_u·q_i
        return self._mu() + self.bu_[users].astype(np.float64) + self.bi_[items] + dots

    def _score_all(self, users):
        # (n, 1) + (1, n_items) + (n, d) @ (d, n_items) -> (n, n_items)
        scores = self.P_[users].astype(np.float64) @ self.Q_.T.astype(np.float64)
        scores += self._mu() + self.bu_[users, None] + self.bi_[None, :]
        return scores

    def _item_vectors(self):
        return self.Q_

    def _invariants(self) -> dict[str, bool]:
        users, items = self.user_counts_ == 0, self.item_counts_ == 0  # without training ratings
        learnt = (self.P_[users], self.bu_[users], self.Q_[items], self.bi_[items])
        return {"unknown users and items (no training rating) have zero factors and biases": not any(
            map(np.any, learnt)
        )}

    def explain(self, user: int, item: int, top: int = 5) -> Explanation:
        """Why the model predicts ``r̂_ui``: the biases and the ``top`` factors that moved it most.

        Returns an :class:`Explanation` whose rows are ``(factor f, p_uf, q_if, p_uf q_if)``
        sorted by ``|p_uf q_if|``; ``str()`` prints it as a small table. The rows, ``μ``, ``b_u``
        and ``b_i`` and the remaining factors sum to the unclipped prediction.
        """
        u, i = check_user_item(self, user, item)
        if top != 0:  # top=0: the totals alone
            check_positive_int(top, "top")
        contrib = self.P_[u].astype(np.float64) * self.Q_[i]  # (d,) per-factor terms of p_u·q_i
        order = np.argsort(-np.abs(contrib), kind="stable")[: max(0, int(top))]
        rows = [(int(f), float(self.P_[u, f]), float(self.Q_[i, f]), float(contrib[f])) for f in order]
        return Explanation(
            user=u,
            item=i,
            mu=self._mu(),
            user_bias=float(self.bu_[u]),
            item_bias=float(self.bi_[i]),
            rows=rows,
            rest=float(contrib.sum() - sum(r[3] for r in rows)),
            prediction=float(self._score(np.array([u]), np.array([i]))[0]),
        )


def _balanced_groups(ids: np.ndarray, n_ids: int, n_groups: int) -> np.ndarray:
    """``(n_ids,)`` group of each id: ``n_groups`` contiguous id ranges with about equal counts in ``ids``.

    An id goes to group ``⌊n_groups · (ratings of the ids below it) / n⌋`` with ``n = len(ids)``
    ratings, so a group ends where the running count of ratings crosses a multiple of
    ``n / n_groups``.
    """
    counts = np.bincount(ids, minlength=n_ids).astype(np.int64)
    before = np.cumsum(counts) - counts  # ratings of the ids below each id
    return np.minimum(before * n_groups // max(len(ids), 1), n_groups - 1)


@dataclass
class Explanation:
    """The terms of one matrix-factorization prediction; ``str()`` renders them as a table.

    ``prediction = mu + user_bias + item_bias + Σ rows[k].contribution + rest``.
    """

    user: int
    item: int
    mu: float
    user_bias: float
    item_bias: float
    rows: list  # (factor, p_uf, q_if, contribution)
    rest: float
    prediction: float

    def __str__(self) -> str:
        return self.table()

    def table(self, *, header: str | None = None) -> str:
        """The terms as text; ``header`` replaces the first line's ``user u, item i`` (dense indices)."""
        first = f"user {self.user}, item {self.item}" if header is None else header
        lines = [
            f"{first}: predicted {self.prediction:.3f} (before clipping)",
            f"  global mean μ       {self.mu:+.3f}",
            f"  user bias b_u       {self.user_bias:+.3f}",
            f"  item bias b_i       {self.item_bias:+.3f}",
            "  factor      p_uf      q_if   p_uf*q_if",
        ]
        lines += [f"  {f:>6d}  {p:+8.3f}  {q:+8.3f}   {c:+8.3f}" for f, p, q, c in self.rows]
        lines.append(f"  other factors                  {self.rest:+8.3f}")
        return "\n".join(lines)
