"""Neighbourhood models: ``ItemKNN`` and ``UserKNN`` (Surprise's KNNWithMeans / KNNBaseline, and
the implicit-feedback item-KNN / user-KNN rankers).

Both models share one implementation, :class:`_NeighbourhoodModel`, written in terms of *rows* and
*contexts*: ItemKNN compares items (rows) and predicts for item ``i`` from the other items that user
``u`` (the context) rated; UserKNN compares users and predicts for user ``u`` from the other users
who rated item ``i``. The heavy loops are Numba kernels in :mod:`tinyrec.kernels.knn`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels import BACKENDS, select
from ..kernels.csr import csr_order
from ..kernels.knn import COSINE, COSINE_FULL, KINDS, knn_estimate, similarity_topk, weighted_row_sums
from ..validation import (
    at_least,
    check_positive_int,
    count,
    float_dtype,
    nonnegative,
    one_of,
    optional,
    seed_like,
)
from .base import Recommender
from .baseline import BaselineOnly
from .checks import (
    check_fit_memory,
    check_fitted,
    check_index,
    check_items,
    check_k,
    check_one_value_per_pair,
    check_user_item,
)
from .persistence import distinct_within, increasing_within, segment_of

__all__ = ["ItemKNN", "UserKNN", "NeighbourExplanation"]

MODES = ("means", "baseline", "ranking")
SIMILARITIES = ("cosine", "pearson", "adjusted_cosine", "msd", "pearson_baseline")
_BLOCK_ENTRIES = 1 << 22  # similarity rows are computed in blocks of about 4M (row, neighbour) slots


class _NeighbourhoodModel(Recommender):
    """k-nearest-neighbour collaborative filtering; see :class:`ItemKNN` for the full description."""

    hyperparameters = {
        "k": at_least(1), "mode": one_of(*MODES), "similarity": one_of(*SIMILARITIES),
        "shrinkage": optional(nonnegative),  # None: the similarity's default (shrinkage_)
        "min_k": at_least(1), "min_support": at_least(1), "reg_u": nonnegative, "reg_i": nonnegative,
        "baseline_epochs": count, "backend": one_of(*BACKENDS), "dtype": float_dtype,
        "seed": seed_like,  # unused: the model is deterministic; kept for the uniform constructor
    }  # fmt: skip
    item_based = True
    _array_names = (
        "nbr_indptr_",
        "nbr_indices_",
        "nbr_sims_",
        "ctx_indptr_",
        "ctx_rows_",
        "ctx_values_",
        "row_means_",
        "bu_",
        "bi_",
    )

    def __init__(
        self,
        k: int = 40,
        *,
        mode: str = "baseline",
        similarity: str = "pearson_baseline",
        shrinkage: float | None = None,
        min_k: int = 1,
        min_support: int = 1,
        reg_u: float = 15.0,
        reg_i: float = 10.0,
        baseline_epochs: int = 10,
        backend: str = "numba",
        dtype=np.float32,
        seed=None,
    ):
        self.k, self.mode, self.similarity, self.shrinkage = k, mode, similarity, shrinkage
        self.min_k, self.min_support, self.reg_u, self.reg_i = min_k, min_support, reg_u, reg_i
        self.baseline_epochs, self.backend, self.dtype, self.seed = baseline_epochs, backend, dtype, seed
        self._check_hyperparameters()
        if self.mode == "ranking" and self.similarity != "cosine":
            raise ValueError(
                f"mode='ranking' uses the binary cosine similarity; got similarity={similarity!r}, "
                f"pass similarity='cosine' (or use mode='means'/'baseline' for ratings)"
            )

    @property
    def task(self) -> str:
        """``"ranking"`` in ranking mode, else ``"rating"``."""
        return "ranking" if self.mode == "ranking" else "rating"

    # ------------------------------------------------------------------ fitting
    @property
    def shrinkage_(self) -> float:
        """The shrinkage in use: ``shrinkage``, or 100 for pearson_baseline and 0 otherwise."""
        if self.shrinkage is not None:
            return float(self.shrinkage)
        return 100.0 if self.similarity == "pearson_baseline" else 0.0

    def _fit(self, train, valid) -> None:
        n_rows = self.n_items_ if self.item_based else self.n_users_
        n_ctx = self.n_users_ if self.item_based else self.n_items_
        rows, ctx = (train.items, train.users) if self.item_based else (train.users, train.items)
        check_one_value_per_pair(train, type(self).__name__)
        r = train.ratings.astype(np.float64)
        mu = self.global_mean_
        need_baseline = self.mode == "baseline" or self.similarity == "pearson_baseline"
        if need_baseline:
            bsl = BaselineOnly(
                "als", n_epochs=self.baseline_epochs, reg_u=self.reg_u, reg_i=self.reg_i, dtype=np.float64
            ).fit(train)
            bu, bi = bsl.bu_, bsl.bi_
        else:
            bu, bi = np.zeros(self.n_users_), np.zeros(self.n_items_)
        row_count = np.bincount(rows, minlength=n_rows)
        row_means = np.bincount(rows, weights=r, minlength=n_rows) / np.maximum(row_count, 1)
        ctx_count = np.bincount(ctx, minlength=n_ctx)
        ctx_means = np.bincount(ctx, weights=r, minlength=n_ctx) / np.maximum(ctx_count, 1)
        b_ui = mu + bu[train.users] + bi[train.items]  # (n,) baseline of each training rating

        # values the similarity is computed on, and the kernel's formula
        if self.mode == "ranking":
            values, kind = np.ones_like(r), COSINE_FULL
        elif self.similarity == "adjusted_cosine":
            values, kind = r - ctx_means[ctx], COSINE  # centred by the *other* side's mean
        elif self.similarity == "pearson_baseline":
            values, kind = r - b_ui, COSINE
        else:
            values, kind = r, KINDS[self.similarity]
        keep = n_rows - 1 if self.mode != "ranking" else min(self.k, n_rows - 1)
        self._compute_neighbours(rows, ctx, values, n_rows, n_ctx, kind, keep)

        # what a prediction adds up: the neighbour's residual r_ui - base (1 for ranking)
        if self.mode == "ranking":
            residual = np.ones_like(r)
        elif self.mode == "means":
            residual = r - row_means[rows]
        else:
            residual = r - b_ui
        indptr, order = csr_order(ctx, rows, n_ctx, n_rows)  # contexts x rows
        self.ctx_indptr_ = indptr
        self.ctx_rows_ = rows[order].astype(np.int32)
        self.ctx_values_ = residual[order].astype(self.dtype)
        self.row_means_ = row_means.astype(self.dtype)
        self.bu_, self.bi_ = bu.astype(self.dtype), bi.astype(self.dtype)
        self._after_load()

    def _compute_neighbours(self, rows, ctx, values, n_rows, n_ctx, kind, keep) -> None:
        """Fill ``nbr_*_``: each row's ``keep`` best neighbours, in blocks of rows to bound memory."""
        r_indptr, r_order = csr_order(rows, ctx, n_rows, n_ctx)
        c_indptr, c_order = csr_order(ctx, rows, n_ctx, n_rows)
        row_csr = (r_indptr, ctx[r_order].astype(np.int32), values[r_order])
        col_csr = (c_indptr, rows[c_order].astype(np.int32), values[c_order])
        block = max(1, _BLOCK_ENTRIES // max(keep, 1))
        sizes = {  # a block's neighbours, similarities (3 int32 words a slot); the kernel's work arrays
            "a block of neighbours": ((3, min(block, n_rows), keep), np.int32),
            "work arrays": ((11, n_rows), float),
        }
        check_fit_memory(self, sizes, set_by=("k", "mode", "min_support"))
        counts, indices, sims, kept = [], [], [], 0
        for start in range(0, n_rows, block):  # a handful of blocks, not a loop over rows
            todo = np.arange(start, min(start + block, n_rows), dtype=np.int64)
            nbr, sim, count = select(similarity_topk, self.backend)(
                row_csr, col_csr, todo, kind, keep, self.shrinkage_, self.min_support
            )
            kept += int(count.sum())  # neighbours so far: in the lists below, and concatenated at the end
            sizes["the neighbours kept, listed and concatenated"] = ((6, kept), np.int32)
            check_fit_memory(self, sizes, set_by=("k", "mode", "min_support"))
            filled = np.arange(keep)[None, :] < count[:, None]  # (block, keep): the slots in use
            counts.append(count)
            indices.append(nbr[filled])  # row-major: row by row, best first
            sims.append(sim[filled])
        self.nbr_indptr_ = np.concatenate([[0], np.cumsum(np.concatenate(counts))]).astype(np.int64)
        self.nbr_indices_ = np.concatenate(indices).astype(np.int32)
        self.nbr_sims_ = np.concatenate(sims).astype(self.dtype)

    def _array_layout(self):
        shapes, index_lists = super()._array_layout()
        # target rows are items (item-based) or users; contexts are the other side
        n_rows, n_ctx = (self.n_items_, self.n_users_) if self.item_based else (self.n_users_, self.n_items_)
        # the similarities and residuals run parallel to the index lists they annotate
        shapes.update(nbr_indptr_=(n_rows + 1,), nbr_indices_=(None,), nbr_sims_=(self.nbr_indices_.size,))
        shapes.update(ctx_indptr_=(n_ctx + 1,), ctx_rows_=(None,), ctx_values_=(self.ctx_rows_.size,))
        shapes.update(row_means_=(n_rows,), bu_=(self.n_users_,), bi_=(self.n_items_,))
        index_lists += [("nbr_indptr_", "nbr_indices_", n_rows), ("ctx_indptr_", "ctx_rows_", n_rows)]
        return shapes, index_lists

    def _invariants(self) -> dict[str, bool]:
        """What the estimator kernel and :meth:`explain` assume of the neighbour and context lists."""
        counts = (self.item_counts_, self.user_counts_)
        row_counts, ctx_counts = counts if self.item_based else counts[::-1]
        n_rows = len(row_counts)
        owner = segment_of(self.nbr_indptr_)  # (nnz,) the row whose neighbour each entry is
        sims, same_row = self.nbr_sims_, owner[1:] == owner[:-1]
        return {
            "every similarity (nbr_sims_) is > 0": bool(np.all(sims > 0)),
            "each row's neighbours come by decreasing similarity (the top-k walk stops at k)": not np.any(
                same_row & (sims[1:] > sims[:-1])
            ),
            "each row's neighbours are distinct and exclude the row itself": distinct_within(
                self.nbr_indptr_, self.nbr_indices_, n_rows
            ) and not np.any(self.nbr_indices_ == owner),
            "each context's rated rows (ctx_rows_) are sorted and distinct (explain's binary search)": (
                increasing_within(self.ctx_indptr_, self.ctx_rows_)
            ),
            "the contexts hold every training rating once (user_counts_ and item_counts_)": np.array_equal(
                np.diff(self.ctx_indptr_), ctx_counts
            ) and np.array_equal(np.bincount(self.ctx_rows_, minlength=n_rows), row_counts),
        }

    def _after_load(self) -> None:
        """Derived CSR views for ranking scores: transposed neighbour lists, seen sets with weight 1."""
        if self.mode != "ranking":
            return
        n_rows = self.nbr_indptr_.shape[0] - 1
        owner = np.repeat(np.arange(n_rows), np.diff(self.nbr_indptr_))  # (nnz,) row of each entry
        t_indptr, t_order = csr_order(self.nbr_indices_, owner, n_rows, n_rows)
        self._transposed = (t_indptr, owner[t_order].astype(np.int32), self.nbr_sims_[t_order])
        n_seen = self.seen_indices_.shape[0]
        self._seen_ones = (self.seen_indptr_, self.seen_indices_.astype(np.int32), np.ones(n_seen))

    # ------------------------------------------------------------------ scoring
    def _neighbour_sums(self, users, items):
        targets, contexts = (items, users) if self.item_based else (users, items)
        k = self.k if self.mode != "ranking" else np.iinfo(np.int64).max  # ranking: N_k fixed at fit
        sim_csr = (self.nbr_indptr_, self.nbr_indices_, self.nbr_sims_)
        ctx_csr = (self.ctx_indptr_, self.ctx_rows_, self.ctx_values_)
        estimate = select(knn_estimate, self.backend)
        return estimate(sim_csr, ctx_csr, targets.astype(np.int64), contexts.astype(np.int64), k)

    def _score(self, users, items):
        num, den, used = self._neighbour_sums(users, items)
        if self.mode == "ranking":
            return num
        if self.mode == "means":
            base = self.row_means_[items if self.item_based else users].astype(np.float64)
            base = np.where(self._known_users(users) & self._known_items(items), base, self.global_mean_)
        else:
            base = self.global_mean_ + self.bu_[users].astype(np.float64) + self.bi_[items]
        ok = (used >= self.min_k) & (den > 0)
        return base + np.where(ok, num / np.where(den > 0, den, 1.0), 0.0)

    def _score_all(self, users):
        n = len(users)
        if self.mode == "ranking":
            row_sums = select(weighted_row_sums, self.backend)
            if self.item_based:  # score(u, j) = Σ_{i ∈ I_u} s_ji [i ∈ N_k(j)]
                return row_sums(self._seen_ones, self._transposed, users, self.n_items_)
            sim_csr = (self.nbr_indptr_, self.nbr_indices_, self.nbr_sims_)
            return row_sums(sim_csr, self._seen_ones, users, self.n_items_)
        all_users = np.repeat(users, self.n_items_)  # (n * n_items,): every (user, item) pair
        all_items = np.tile(np.arange(self.n_items_), n)
        return self._score(all_users, all_items).reshape(n, self.n_items_)

    # ------------------------------------------------------------------ explanations
    def neighbours(self, index: int):
        """The stored neighbours of one row (an item for ItemKNN, a user for UserKNN), best first.

        Returns ``(indices, similarities)``; all similarities are positive.
        """
        check_fitted(self)
        return self._neighbours(check_index(index, "index", self.nbr_indptr_.shape[0] - 1))

    def _neighbours(self, a: int):
        span = slice(self.nbr_indptr_[a], self.nbr_indptr_[a + 1])
        return self.nbr_indices_[span].astype(np.int64), self.nbr_sims_[span].astype(np.float64)

    def explain(self, user: int, item: int, top: int = 5) -> NeighbourExplanation:
        """The neighbours behind the prediction for ``(user, item)``, most influential first.

        For ItemKNN a neighbour is an item the user rated; for UserKNN, a user who rated the item.
        Each row is ``(neighbour, similarity s, value e, weight)`` where ``e`` is the residual the
        neighbour contributes (rating minus its mean or baseline; 1 in ranking mode) and
        ``weight = s * e / sum s`` (ranking mode: ``s * e``), so the weights of all contributing
        neighbours add up to ``prediction - base``. ``str()`` renders the table.
        """
        u, i = check_user_item(self, user, item)
        if top != 0:  # top=0: the base and prediction alone
            check_positive_int(top, "top")
        target, context = (i, u) if self.item_based else (u, i)
        nbrs, sims = self._neighbours(target)
        span = slice(self.ctx_indptr_[context], self.ctx_indptr_[context + 1])
        rated, resid = self.ctx_rows_[span], self.ctx_values_[span].astype(np.float64)
        present = np.isin(nbrs, rated)
        take = np.flatnonzero(present)
        if self.mode != "ranking":
            take = take[: self.k]
            if len(take) < self.min_k:  # too few neighbours: the prediction is the base alone
                take = take[:0]
        e = resid[np.searchsorted(rated, nbrs[take])]  # a context's rows are sorted (csr_order)
        s = sims[take]
        prediction = float(self._score(np.array([u]), np.array([i]))[0])
        if self.mode == "ranking":
            weights, base = s * e, 0.0
        else:
            weights = s * e / s.sum() if len(take) else s  # similarities are > 0, so s.sum() > 0
            base = prediction - float(weights.sum())
        order = np.argsort(-np.abs(weights), kind="stable")[: max(0, int(top))]
        rows = [(int(nbrs[take][j]), float(s[j]), float(e[j]), float(weights[j])) for j in order]
        return NeighbourExplanation(
            user=u,
            item=i,
            item_based=self.item_based,
            mode=self.mode,
            base=base,
            rows=rows,
            n_used=len(take),
            prediction=prediction,
        )


@dataclass
class NeighbourExplanation:
    """The neighbours of one KNN prediction; ``str()`` (or :meth:`table`) renders them.

    ``prediction = base + sum of the weights of all used neighbours`` (``rows`` holds the ``top``
    largest by absolute weight; ``n_used`` counts them all). In rating modes ``prediction`` is
    before clipping to the rating range.
    """

    user: int
    item: int
    item_based: bool
    mode: str
    base: float
    rows: list  # (neighbour index, similarity, residual, weight)
    n_used: int
    prediction: float

    def table(self, names=None, *, header: str | None = None) -> str:
        """The explanation as text.

        ``names`` maps a neighbour index to a label (e.g. a title); ``header`` replaces the first
        line (which names the user and item by dense index).
        """
        what = "item" if self.item_based else "user"
        first = f"user {self.user}, item {self.item}" if header is None else header
        lines = [f"{first}: score {self.prediction:.3f} from {self.n_used} neighbour {what}(s)"]
        if self.mode != "ranking":
            lines.append(f"  base (mean or baseline)  {self.base:+.3f}")
        lines.append(f"  {'neighbour':<50} {'sim':>7} {'resid':>7} {'weight':>7}")
        for j, s, e, w in self.rows:
            label = str(names(j)) if names is not None else f"{what} {j}"
            lines.append(f"  {label[:50]:<50} {s:7.3f} {e:+7.3f} {w:+7.3f}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


class ItemKNN(_NeighbourhoodModel):
    """Item-based k-nearest-neighbour collaborative filtering (Sarwar et al. 2001; Koren 2010).

    Parameters
    ----------
    k : int
        Neighbours per prediction (Surprise: 40). In ranking mode, neighbours kept per item.
    mode : {"baseline", "means", "ranking"}
        ``"baseline"``: Surprise's KNNBaseline; ``"means"``: Surprise's KNNWithMeans;
        ``"ranking"``: implicit feedback, scores are sums of similarities (see Notes).
    similarity : {"pearson_baseline", "pearson", "cosine", "adjusted_cosine", "msd"}
        How two items are compared over the users who rated both (Notes). Ranking mode requires
        ``"cosine"``.
    shrinkage : float, optional
        A similarity supported by ``|U_ij|`` common users is multiplied by
        ``(|U_ij| − 1) / (|U_ij| − 1 + shrinkage)``. Default: 100 for ``"pearson_baseline"``
        (Surprise), else 0.
    min_k : int
        A prediction with fewer than ``min_k`` usable neighbours falls back to its base (Surprise: 1).
    min_support : int
        Pairs with fewer common users get similarity 0 (Surprise: 1).
    reg_u, reg_i, baseline_epochs : float, float, int
        The ALS baselines ``b_u, b_i`` (used by ``mode="baseline"`` and ``"pearson_baseline"``):
        Surprise's defaults 15, 10 and 10 epochs; see :class:`~tinyrec.models.BaselineOnly`.
    backend : {"numba", "python"}, default "numba"
        Compute similarities and scores with the compiled kernels of :mod:`tinyrec.kernels.knn`,
        or with their plain Python bodies (the same numbers, far slower) to step through them.
    dtype : np.float32 (default) or np.float64
        dtype of the stored similarities and residuals (similarities are computed in float64).
    seed : int or np.random.Generator, optional
        Unused (the model is deterministic); accepted so that every model is built the same way.

    Notes
    -----
    With ``U_ij`` the users who rated both items ``i`` and ``j``, and sums over ``u ∈ U_ij``:

    * cosine: ``s_ij = Σ r_ui r_uj / sqrt(Σ r_ui² Σ r_uj²)`` on the ratings;
    * pearson: the same on ratings centred by their means over ``U_ij``;
    * adjusted_cosine: cosine on ratings centred by each *user's* mean rating;
    * pearson_baseline: cosine on ``r_ui − b_ui`` with ``b_ui = μ + b_u + b_i``, shrunk
      (``shrinkage=100``);
    * msd: ``1 / (Σ (r_ui − r_uj)² / |U_ij| + 1)``;
    * ranking mode: ``s_ij = |U_i ∩ U_j| / sqrt(|U_i| |U_j|)`` on binary interactions.

    Non-positive similarities are dropped: they never contribute below. An item is never its own
    neighbour.

    Rating prediction for user ``u`` and item ``i``: ``N_k(i; u)`` is the ``k`` items most similar
    to ``i`` among those ``u`` rated (ties: smaller index first), then

    * means: ``r̂_ui = μ_i + Σ_j s_ij (r_uj - μ_j) / Σ_j s_ij``, with ``μ_i`` item ``i``'s mean;
    * baseline: ``r̂_ui = b_ui + Σ_j s_ij (r_uj - b_uj) / Σ_j s_ij``;

    sums over ``N_k(i; u)``. With fewer than ``min_k`` neighbours the sum is dropped. Unknown
    users or items: ``μ`` in means mode (as Surprise); ``μ + b_u + b_i`` with the known biases in
    baseline mode. :meth:`predict` clips to the training rating range.

    Ranking: ``score(u, j) = Σ_{i ∈ I_u} s_ji [i ∈ N_k(j)]`` where ``I_u`` are the items ``u``
    interacted with and ``N_k(j)`` are ``j``'s ``k`` most similar items. The similarity top-k runs in
    :func:`tinyrec.kernels.knn.similarity_topk`.

    Sarwar, Karypis, Konstan, Riedl, "Item-based collaborative filtering recommendation
    algorithms", WWW 2001; Koren, "Factor in the neighbors", TKDD 2010; Deshpande & Karypis,
    "Item-based top-N recommendation algorithms", TOIS 2004.

    Attributes (after ``fit``)
    --------------------------
    nbr_indptr_, nbr_indices_, nbr_sims_ : CSR of each item's neighbours, best first.
    ctx_indptr_, ctx_rows_, ctx_values_ : CSR of each user's rated items and residuals.
    row_means_ : (n_items,) item means;  bu_, bi_ : the baselines (zeros when unused).
    """

    item_based = True

    def similar_items(self, items, k: int = 10):
        """The ``k`` stored neighbours of each of ``items``, by decreasing similarity.

        Unlike the base class (cosine of item vectors), ItemKNN answers with its own similarity.
        Returns ``(neighbours, similarities)``, both ``(n, k)``; ``-1`` and ``-inf`` pad the rows
        of items with fewer than ``k`` positive similarities (in ranking mode at most ``self.k``
        neighbours are stored).
        """
        items = check_items(self, items)
        k = check_k(k, self.n_items_ - 1, "n_items - 1")
        starts = self.nbr_indptr_[items]
        lengths = np.minimum(self.nbr_indptr_[items + 1] - starts, k)
        slot = np.arange(k)[None, :]  # (1, k)
        valid = slot < lengths[:, None]  # (n, k)
        pos = np.where(valid, starts[:, None] + slot, 0)  # (n, k) positions in the neighbour CSR
        if self.nbr_indices_.size == 0:  # no item has a neighbour
            return np.full(valid.shape, -1, dtype=np.int64), np.full(valid.shape, -np.inf)
        neighbours = np.where(valid, self.nbr_indices_[pos], -1).astype(np.int64)
        sims = np.where(valid, self.nbr_sims_[pos].astype(np.float64), -np.inf)
        return neighbours, sims


class UserKNN(_NeighbourhoodModel):
    """User-based k-nearest-neighbour collaborative filtering (Herlocker et al. 1999).

    The same parameters, formulas and modes as :class:`ItemKNN` with the roles of users and items
    exchanged: users are compared over the items both rated (adjusted_cosine centres by each
    *item's* mean), and a prediction for ``(u, i)`` uses the ``k`` users most similar to ``u``
    among those who rated ``i``:

    * means: ``r̂_ui = μ_u + Σ_v s_uv (r_vi - μ_v) / Σ_v s_uv``;
    * baseline: ``r̂_ui = b_ui + Σ_v s_uv (r_vi - b_vi) / Σ_v s_uv``;
    * ranking: ``score(u, j) = Σ_{v ∈ N_k(u), j ∈ I_v} s_uv``.

    Herlocker, Konstan, Borchers, Riedl, "An algorithmic framework for performing collaborative
    filtering", SIGIR 1999.
    """

    item_based = False
