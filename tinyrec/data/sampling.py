"""Negative sampling, BPR triples, sampled-evaluation candidates and minibatches.

Implicit-feedback models learn from what a user did (positives) against what they did not
(negatives). A "negative" that is secretly a positive teaches the model the opposite of the truth
and, in sampled evaluation, makes the held-out item compete against another relevant item. Every
sampler here therefore rejects the user's positives, exactly, with a binary search over the
user's sorted positives (:mod:`tinyrec.kernels.sampling`).

* :class:`NegativeSampler`: uniform or popularity-proportional (``count ** alpha``) negatives;
* :func:`bpr_triples`: ``(u, i+, i-)`` for BPR, ``n_negatives`` per positive;
* :func:`pointwise_samples`: positives (label 1) plus ``n_negatives`` negatives (label 0) each,
  the NCF training set;
* :func:`sampled_candidates`: one held-out item + ``n_negatives`` distinct sampled negatives per test row,
  the fixed candidate sets of the sampled ranking protocol (reproducible from ``seed``);
* :func:`minibatches`: shuffled minibatches of aligned arrays.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError, IndexOutOfRangeError, ShapeError
from ..kernels.csr import csr_order, unique_in_rows
from ..kernels.sampling import distinct_negatives, uniform_negatives, weighted_negatives
from ..limits import check_allocation
from ..validation import as_generator, check_nonnegative, check_positive_int
from .interactions import Interactions

__all__ = ["NegativeSampler", "bpr_triples", "pointwise_samples", "sampled_candidates", "minibatches"]


def union_positives(*tables: Interactions):
    """Each user's distinct items over several tables of one index space, as CSR ``(indptr, indices)``."""
    first = tables[0]
    if len(tables) == 1:
        return first.positives_csr()
    for other in tables[1:]:
        if not first.same_index_space(other):
            raise DataError("the tables do not share one index space (build them with one split)")
    users = np.concatenate([t.users for t in tables])
    items = np.concatenate([t.items for t in tables])
    indptr, order = csr_order(users, items, first.n_users, first.n_items)
    sorted_items = items[order]
    new_indptr, keep = unique_in_rows(indptr, sorted_items)
    return new_indptr, sorted_items[keep]


class NegativeSampler:
    """Draws items that a user has not interacted with.

    Parameters
    ----------
    data : Interactions
        The positives to avoid (usually the training set).
    method : {"uniform", "popularity"}
        ``"uniform"``: every non-positive item equally likely. ``"popularity"``: item ``j`` with
        probability proportional to ``count_j ** alpha`` among the user's non-positives, where
        ``count_j`` is its number of interactions in ``data`` (items never seen get weight 0).
    alpha : float
        Popularity exponent (1: proportional; 0.75 is word2vec's smoothing; 0: uniform over
        seen items).
    exclude : Interactions or list/tuple of Interactions, optional
        More positives to avoid (e.g. the validation/test set), in the same index space.
    seed : int or np.random.Generator
        The sampler keeps one generator: successive calls give new draws, and the same seed gives
        the same sequence of draws.

    Attributes
    ----------
    indptr : (n_users + 1,) int64, indices : (nnz,) int32
        The positives to avoid, per user, sorted (CSR).
    cum_weights : (n_items,) float64 or None
        Cumulative item weights (``None`` for uniform).
    full_users : (n,) int64
        The users whose positives leave no item to sample (a negative of theirs raises DataError).
    rng : np.random.Generator

    Notes
    -----
    The distribution of a negative for user ``u``, whose positives are ``I_u``, is
    ``p(j | u) = w_j / Σ_{j' ∉ I_u} w_j'`` for ``j ∉ I_u`` and 0 for ``j ∈ I_u`` (``w_j = 1`` for
    uniform). Drawing is by rejection, so the expected cost per draw is
    ``1 / (1 - mass of I_u)``; asking for a negative of a user whose positives hold all the mass
    raises :class:`~tinyrec.errors.DataError`. The candidates come from blocks of uniforms drawn
    with one ``rng.random(n_uniforms)`` call each, ``n_uniforms`` sized from those expected costs
    (:meth:`_block_size`); the rare call that exhausts a block draws another and
    resumes, so the draws depend only on the seed and the sequence of calls.
    """

    MAX_DRAWS = int(np.iinfo(np.int32).max)  # negatives drawn by one sample() call
    _MAX_BLOCK = 1 << 22  # uniforms drawn at once (32 MB); a longer job takes several blocks

    def __init__(
        self, data: Interactions, method: str = "uniform", *, alpha: float = 1.0, exclude=None, seed=0
    ):
        if not isinstance(data, Interactions):
            raise TypeError(f"data must be an Interactions, got {type(data).__name__}")
        if method not in ("uniform", "popularity"):
            raise ValueError(f"method must be 'uniform' or 'popularity', got {method!r}")
        if exclude is None:
            exclude = []
        elif isinstance(exclude, Interactions):
            exclude = [exclude]
        is_list = isinstance(exclude, (list, tuple))
        bad = [t for t in exclude if not isinstance(t, Interactions)] if is_list else [exclude]
        if bad:
            raise TypeError(
                f"exclude must be an Interactions or a list of them (e.g. [valid, test]), got "
                f"{'a list holding ' if is_list else ''}{type(bad[0]).__name__}"
            )
        tables = [data, *exclude]
        self.n_users, self.n_items = data.n_users, data.n_items
        self.method = method
        self.indptr, self.indices = union_positives(*tables)
        self.rng = as_generator(seed)
        counts = np.diff(self.indptr)
        if method == "uniform":
            self.cum_weights = None
            full = np.flatnonzero(counts >= self.n_items)
        else:
            check_nonnegative(alpha, "alpha")
            counts_in_data = data.item_counts().astype(np.float64)
            weights = np.where(counts_in_data > 0, counts_in_data**alpha, 0.0)  # unseen items: weight 0
            self.cum_weights = np.cumsum(weights)
            owned = np.zeros(self.n_users)
            if len(self.indices):
                per_pos = weights[self.indices]
                nonempty = counts > 0
                owned[nonempty] = np.add.reduceat(per_pos, self.indptr[:-1][nonempty])
            full = np.flatnonzero(owned >= self.cum_weights[-1] * (1 - 1e-12))
        self.full_users = full  # (n,) int64: the users with no item left to sample
        # acceptance probability of one candidate, per user; its inverse is the expected number
        # of candidates per negative (used to size the blocks of uniforms)
        if method == "uniform":
            accept = (self.n_items - counts) / max(self.n_items, 1)
        else:
            accept = (
                1.0 - owned / self.cum_weights[-1] if self.cum_weights[-1] > 0 else np.zeros(self.n_users)
            )
        accept[full] = 1.0  # never sampled (refused by _check_users); keeps the cost finite
        self._cost = 1.0 / accept  # (n_users,) float64, >= 1

    def sample(self, users, n: int = 1) -> np.ndarray:
        """``n`` negatives for each entry of ``users`` (with replacement).

        Parameters
        ----------
        users : (len(users),) int array
            Dense user indices (may repeat; an empty list gives ``(0, n)``).
        n : int >= 1
            The negatives per user. ``len(users) * n`` is at most :attr:`MAX_DRAWS` (2**31 - 1,
            8 GB of int32): draw a larger job in batches.

        Returns
        -------
        (len(users), n) int32 item indices, none of them a positive of its user.
        """
        users = self._check_users(users, n)
        _check_draws(users.shape[0], n)
        out = np.empty((users.shape[0], int(n)), dtype=np.int32)
        filled, total = 0, out.size
        while filled < total:
            uniforms = self.rng.random(self._block_size(users[filled // out.shape[1] :], out.shape[1]))
            if self.cum_weights is None:
                filled, _ = uniform_negatives(
                    self.indptr, self.indices, users, self.n_items, uniforms, out, filled
                )
            else:
                filled, _ = weighted_negatives(
                    self.indptr, self.indices, users, self.cum_weights, uniforms, out, filled
                )
        return out

    def _block_size(self, users, n) -> int:
        """How many uniforms to draw for ``n`` negatives of each of ``users``.

        Each negative needs a geometric number of candidates, of mean ``c_u = 1 / a_u`` and
        variance ``c_u² − c_u`` (``a_u``: the probability that a candidate is not a positive of
        ``u``). The block is the mean of the total plus four standard deviations, so a second
        block is rarely needed; when it is, :meth:`sample` draws it and resumes.
        """
        cost = self._cost[users]
        mean = n * float(cost.sum())
        var = n * float((cost * (cost - 1.0)).sum())  # not np.dot: BLAS may start threads
        return int(min(mean + 4.0 * np.sqrt(max(var, 0.0)) + 16.0, self._MAX_BLOCK))

    def sample_distinct(self, users, n: int, *, fix: str = "lower n") -> np.ndarray:
        """``n`` distinct uniform negatives per user (without replacement); ``(len(users), n)`` int32.

        ``fix`` ends the error raised when a user has fewer than ``n`` items to draw from.
        """
        users = self._check_users(users, n, allow_full=True)  # a user with no item left fails below
        allowed = self.n_items - np.diff(self.indptr)[users]
        if users.size and allowed.min() < n:
            k = int(np.argmin(allowed))
            raise DataError(
                f"user {int(users[k])} has only {int(allowed[k])} items that are not positives; cannot "
                f"draw {n} distinct negatives: {fix}"
            )
        what = f"{n} distinct negatives for each of {len(users):,} rows"
        check_allocation((users.shape[0], n), np.int32, what)
        return distinct_negatives(self.indptr, self.indices, users, self.n_items, int(n), self.rng)

    def _check_users(self, users, n, *, allow_full: bool = False) -> np.ndarray:
        """``users`` as int64 indices, checked; ``allow_full``: the caller itself reports users
        who have interacted with every item (with its own fix)."""
        check_positive_int(n, "n")
        users = np.asarray(users)
        if users.size == 0 and users.ndim == 1:
            users = users.astype(np.int64)  # an empty list has dtype float64: accept it as no users
        if users.dtype.kind not in "iu" or users.ndim != 1:
            raise DataError(
                f"users must be a 1-D integer array of dense indices, got {users.dtype} {users.shape}"
            )
        users = users.astype(np.int64, copy=False)
        if users.size and (users.min() < 0 or users.max() >= self.n_users):
            bad = users.min() if users.min() < 0 else users.max()
            raise IndexOutOfRangeError(f"users contains {bad}, outside [0, {self.n_users})")
        if not allow_full and self.full_users.size and np.isin(users, self.full_users).any():
            u = int(users[np.isin(users, self.full_users)][0])
            raise DataError(
                f"user {u} has interacted with every item that can be sampled ({self.method}); no negative "
                f"exists: leave such users out of the batch"
                + (", or sample uniformly" if self.method == "popularity" else "")
            )
        return users


def _check_draws(n_rows: int, n: int) -> None:
    """Refuse drawing ``n`` negatives for each of ``n_rows`` rows at once when that is too many.

    The message names no argument: callers reach it with their own name for ``n``.
    """
    total = n_rows * n
    if total > NegativeSampler.MAX_DRAWS:
        raise ValueError(
            f"{n} negatives for each of {n_rows:,} rows would draw {total:,} negatives, more than "
            f"{NegativeSampler.MAX_DRAWS:,} at once; draw them in batches (e.g. one per minibatch)"
        )
    check_allocation((n_rows, n), np.int32, f"{n} negatives for each of {n_rows:,} rows")


def _check_n_negatives(n_negatives, n_rows: int) -> int:
    """``n_negatives`` checked under its own name, before the sampler (whose argument is ``n``)."""
    n_negatives = check_positive_int(n_negatives, "n_negatives")
    _check_draws(n_rows, n_negatives)
    return n_negatives


def bpr_triples(data: Interactions, n_negatives: int = 1, *, method: str = "uniform", alpha=1.0, seed=0):
    """BPR training triples ``(u, i+, i-)``: each interaction repeated ``n_negatives`` times.

    Returns
    -------
    users, positives, negatives : (len(data) * n_negatives,) int32 each
        Row ``k * n_negatives + j`` pairs interaction ``k`` with its ``j``-th negative.
    """
    n_negatives = _check_n_negatives(n_negatives, len(data))
    sampler = NegativeSampler(data, method, alpha=alpha, seed=seed)
    neg = sampler.sample(data.users, n_negatives)  # (n, n_negatives)
    users = np.repeat(data.users, n_negatives)
    pos = np.repeat(data.items, n_negatives)
    return users, pos, neg.reshape(-1)


def pointwise_samples(data: Interactions, n_negatives: int = 4, *, method="uniform", alpha=1.0, seed=0):
    """The NCF pointwise training set: every positive (label 1) and ``n_negatives`` negatives (label 0) each.

    Returns
    -------
    users, items : (len(data) * (1 + n_negatives),) int32
    labels : same length, float32
        Positives first (``labels[:len(data)] == 1``), then the negatives in interaction order;
        shuffle with :func:`minibatches`.
    """
    n_negatives = _check_n_negatives(n_negatives, len(data))
    sampler = NegativeSampler(data, method, alpha=alpha, seed=seed)
    neg = sampler.sample(data.users, n_negatives)
    users = np.concatenate([data.users, np.repeat(data.users, n_negatives)])
    items = np.concatenate([data.items, neg.reshape(-1)])
    labels = np.concatenate([np.ones(len(data), np.float32), np.zeros(neg.size, np.float32)])
    return users, items.astype(np.int32), labels


def sampled_candidates(train: Interactions, test: Interactions, n_negatives: int = 99, *, seed=0):
    """Fixed candidate sets of the sampled ranking protocol (He et al., NCF, WWW 2017).

    For each test interaction ``(u, i)``: the held-out item ``i`` followed by ``n_negatives``
    distinct items drawn uniformly from the items ``u`` has in neither train nor test.

    Returns
    -------
    users : (len(test),) int32
        ``test.users``.
    candidates : (len(test), 1 + n_negatives) int32
        Column 0 is the held-out item; columns 1.. the sampled negatives. The same ``seed``
        always gives the same candidates, so every model is ranked on identical sets.
    """
    for name, table in (("train", train), ("test", test)):
        if not isinstance(table, Interactions):
            raise TypeError(f"{name} must be an Interactions, got {type(table).__name__}")
    if not train.same_index_space(test):
        raise DataError("train and test do not share one index space; build them with one split")
    n_negatives = check_positive_int(n_negatives, "n_negatives")  # at most n_items: no bound needed
    sampler = NegativeSampler(train, "uniform", exclude=test, seed=seed)
    fix = "lower n_negatives (the sampled protocol's candidates) or use protocol='full'"
    neg = sampler.sample_distinct(test.users, n_negatives, fix=fix)
    return test.users.copy(), np.concatenate([test.items[:, None], neg], axis=1)


def minibatches(*arrays, batch_size: int, shuffle: bool = True, seed=0, drop_last: bool = False):
    """Yield aligned minibatches ``tuple(a[idx] for a in arrays)``.

    With ``shuffle`` the order is a fresh permutation from ``seed`` (an int gives the same batches
    every time; pass a Generator to get a new order at each epoch). The last batch may be shorter
    unless ``drop_last``. Each array (a list is converted with ``np.asarray``) must be at least
    1-D, with the same number of rows; the batches are NumPy arrays.

    Raises
    ------
    ShapeError
        An array is a scalar (0-D).
    DataError
        The arrays have different numbers of rows.
    """
    if not arrays:
        raise ValueError("minibatches needs at least one array")
    arrays = tuple(np.asarray(a) for a in arrays)  # a list cannot be indexed by an index array
    for k, a in enumerate(arrays):
        if a.ndim == 0:
            raise ShapeError(
                f"minibatches: array {k} is a scalar ({a.item()!r}), not an array of rows; pass arrays "
                f"with one row per example (at least 1-D)"
            )
    n = arrays[0].shape[0]
    for k, a in enumerate(arrays[1:], start=1):
        if a.shape[0] != n:
            raise DataError(
                f"arrays have different lengths (array 0 has {n} rows, array {k} has {a.shape[0]}); "
                f"they must be aligned"
            )
    check_positive_int(batch_size, "batch_size")
    order = as_generator(seed).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start : start + batch_size]
        yield tuple(a[idx] for a in arrays)
