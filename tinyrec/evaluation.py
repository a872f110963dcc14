"""Evaluation protocols: rating prediction, sampled ranking (NCF) and full ranking.

:func:`evaluate` scores a model on a test set with :mod:`tinyrec.metrics`' definitions. It needs
only one of two methods from the model, so a model from another library can be evaluated the same
way (wrap it in a small object):

* ``score_all(users) -> (len(users), n_items)`` scores of every item (preferred: one call per
  batch of users);
* ``predict(users, items) -> (len(users),)`` the score of each ``(user, item)`` pair.

Scores are computed for batches of users, so memory stays at ``O(batch_size · n_items)`` whatever
the number of users (a dense ``n_users × n_items`` matrix is never built).
``python benchmarks/bench_eval.py --ml20m`` measures the peak memory at MovieLens-20M shape.
"""

from __future__ import annotations

import warnings

import numpy as np

from .data.interactions import Interactions
from .data.sampling import sampled_candidates
from .errors import DataError, DTypeError, NonFiniteError, ShapeError
from .metrics import mae, mrr, ranking_metrics, rmse, top_k
from .metrics._ranking_core import check_ties
from .threads import limit_blas
from .validation import check_bool, check_positive_int

__all__ = ["evaluate", "count_fitted_on", "PROTOCOLS"]

PROTOCOLS = ("rating", "sampled", "full")
_BUDGET = 1 << 21  # scores per batch when batch_size is None (about 2M: 16 MB in float64)


def evaluate(
    model,
    test: Interactions,
    *,
    train: Interactions,
    protocol: str | None = None,
    k: int = 10,
    n_negatives: int = 99,
    seed=0,
    batch_size: int | None = None,
    ties: str = "pessimistic",
    return_per_user: bool = False,
    allow_seen: bool = False,
) -> dict:
    """Evaluate ``model`` on ``test`` under one protocol; returns a dict of named metrics.

    Parameters
    ----------
    model : object
        Has ``score_all(users)`` and/or ``predict(users, items)`` (module docstring); higher
        scores rank first. ``score_all`` is used when present, except by ``"rating"``, which
        prefers ``predict``.
    test, train : Interactions
        One index space (built by one split). ``train`` defines what each user has already seen.
    protocol : {"rating", "sampled", "full"}, optional
        Default: what the model does — ``"rating"`` for a rating model (``model.task ==
        "rating"``: BiasedMF, KNN on ratings, AutoRec, ...), ``"full"`` for a ranking model
        (``model.task == "ranking"``); a model without ``task`` (another library's) needs it given.

        ``"rating"``: the model's prediction for every test pair against its rating →
        ``{"rmse", "mae", "n_ratings"}`` (each pair weighs the same; see
        :mod:`tinyrec.metrics.rating`).

        ``"sampled"``: the NCF protocol (He et al., WWW 2017). Every test interaction ``(u, i)`` is
        one ranking list: ``i`` among ``n_negatives`` distinct items drawn uniformly from the items
        ``u`` has in neither ``train`` nor ``test``; the candidates are fixed by ``seed``
        (:func:`tinyrec.data.sampling.sampled_candidates`), so every model meets the same lists.
        → ``{"hr@k", "ndcg@k", "mrr", "n_users"}``; ``mrr`` has no cut-off.

        ``"full"``: every item the user has **not** interacted with in ``train`` is a candidate;
        the relevant items are the user's test items (those also present in the user's train
        interactions are not candidates, hence not relevant). → ``{"hr@k", "ndcg@k",
        "precision@k", "recall@k", "map@k", "mrr@k", "coverage@k", "n_users"}``, where
        ``coverage@k`` is :func:`tinyrec.metrics.catalog_coverage` of the users' top-k lists
        (ties in those lists go to the lower item index).
    k : int
        Cut-off of the ranking metrics.
    n_negatives : int
        ``"sampled"`` only: sampled negatives per test interaction (99: a list of 100).
    seed : int or np.random.Generator
        ``"sampled"`` only: fixes the sampled candidates.
    batch_size : int, optional
        Rows of scores held at once: users per batch (``"full"``), ranking lists per batch
        (``"sampled"``), ``batch_size × n_items`` pairs per ``predict`` call (``"rating"``). The
        peak memory is ``O(batch_size × n_items)``. Default: ``2**21 // n_items`` (565 users for
        MovieLens-1M's 3,706 items: about 40 MB at the peak).
    ties : {"pessimistic", "optimistic", "average"}
        Tie rule of the ranking metrics (:mod:`tinyrec.metrics`). Pessimistic by default: a
        constant model scores the floor, not chance.
    return_per_user : bool
        Also return ``result["per_user"]``: ``{"users": (n,) int64, <metric>: (n,) float64}``.
    allow_seen : bool, default False
        Evaluate even when some test interactions are among those the model was fitted on (see
        *Model and data* below), with a warning instead of the error: to measure how well a model
        fits its own training data, say.

    Returns
    -------
    dict
        Metric name → float (plus ``"per_user"`` on request).

    Notes
    -----
    *Averaging.* Ranking metrics are computed per list, averaged over each user's lists (one per
    test interaction under ``"sampled"``; one list per user under ``"full"``), then averaged over
    users: every evaluated user weighs the same. ``n_users`` counts the users averaged.

    *Several held-out items per user* (a random split): under ``"sampled"`` each is ranked in its
    own list (with its own negatives) and the user's value is the mean over those lists; under
    ``"full"`` they are all relevant in the user's one list (so recall and MAP are meaningful).

    *Test users with no interaction in train* are evaluated like the others: the model must score
    them, and ``evaluate`` reads its ``score_all``/``predict``, which give each model's own answer
    for such a user (its biases, an all-padding sequence, features only); the popularity fallback
    is ``recommend``'s, not applied here. Under ``"full"`` all items are their candidates. The
    splits in :mod:`tinyrec.data.split` drop such users by default. A user whose every test item
    is in its train set has no relevant candidate under ``"full"`` and is left out of the means
    (see :mod:`tinyrec.metrics`); when that leaves no user at all, ``evaluate`` raises
    :class:`~tinyrec.errors.DataError` instead of returning NaN.

    *Model and data.* A fitted tinyrec recommender remembers the raw ids it was trained on;
    ``evaluate`` refuses it (``DataError``) when they differ from ``train``'s, since its indices
    would then point at other users and items. It also remembers which items each user had in its
    training data (``seen_indices_``), and ``evaluate`` refuses (``DataError``, naming how many)
    a ``test`` holding any of those interactions: the figures would be leaked, measured on what
    the model learnt. That is what happens when a model fitted on one split is evaluated on the
    test part of another (ML-100K's ``u1`` then ``u2``), or a model fitted on all the data is
    evaluated at all; ``allow_seen=True`` evaluates anyway, with a warning. ``train`` itself may
    differ from the model's training data (a superset: the training data plus the validation
    interactions, so that the validation items are not candidates).

    Examples
    --------
    >>> evaluate(model, test, train=train, protocol="sampled", k=10)  # doctest: +SKIP
    {'hr@10': 0.61, 'ndcg@10': 0.34, 'mrr': 0.29, 'n_users': 943}
    """
    if protocol is None:
        protocol = _natural_protocol(model)
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol={protocol!r} is not a protocol; use one of {PROTOCOLS}")
    for name, table in (("test", test), ("train", train)):
        if not isinstance(table, Interactions):
            raise TypeError(f"{name} must be a tinyrec.data.Interactions, got {type(table).__name__}")
    if not train.same_index_space(test):
        raise DataError("train and test do not share one index space; build both with one split")
    _check_model_matches(model, train)
    _check_not_fitted_on(model, test, check_bool(allow_seen, "allow_seen"))
    if not (hasattr(model, "score_all") or hasattr(model, "predict")):
        raise TypeError(
            f"{type(model).__name__} has neither score_all(users) nor predict(users, items); "
            "wrap it in an object that has one of them"
        )
    k = check_positive_int(k, "k")
    ties = check_ties(ties)
    check_bool(return_per_user, "return_per_user")
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size")
    if protocol == "sampled":
        n_negatives = check_positive_int(n_negatives, "n_negatives")
    with limit_blas():  # small products of a batch of users: one BLAS thread (tinyrec/threads.py)
        if protocol == "rating":
            return _rating(model, test, batch_size, return_per_user)
        if protocol == "sampled":
            return _sampled(model, test, train, k, n_negatives, seed, batch_size, ties, return_per_user)
        return _full(model, test, train, k, batch_size, ties, return_per_user)


def _natural_protocol(model) -> str:
    """``"rating"`` for a rating model, ``"full"`` for a ranking model (``model.task``)."""
    task = getattr(model, "task", None)
    if task not in ("rating", "ranking"):
        raise ValueError(
            f"evaluate cannot tell whether {type(model).__name__} predicts ratings or ranks items (it has "
            f"no task attribute 'rating' or 'ranking'); pass protocol='rating', 'sampled' or 'full'"
        )
    return "rating" if task == "rating" else "full"


def _check_model_matches(model, train: Interactions) -> None:
    """A fitted tinyrec model knows the raw ids it was trained on: they must be train's."""
    user_ids, item_ids = getattr(model, "user_ids_", None), getattr(model, "item_ids_", None)
    if user_ids is None or item_ids is None:
        return  # not a tinyrec Recommender (or not fitted): nothing to compare
    for what, ours, theirs in (("user", user_ids, train.user_ids), ("item", item_ids, train.item_ids)):
        ours = np.asarray(ours)
        if ours.ndim != 1 or len(ours) != len(theirs) or not np.array_equal(ours, theirs):
            raise DataError(
                f"the model was fitted on other data: its {ours.size:,} {what} ids differ from train's "
                f"{len(theirs):,}; evaluate it with the train/test split of the data it was fitted on"
            )


def count_fitted_on(model, test: Interactions) -> int:
    """How many of ``test``'s interactions a fitted tinyrec model was fitted on (0 for another object).

    A fitted tinyrec model keeps each user's training items as sorted CSR rows (``seen_indptr_``,
    ``seen_indices_``, in ``test``'s index space once :func:`evaluate` has compared the id maps);
    with ``key(u, i) = u · n_items + i`` those keys are sorted, so each test pair is found by binary
    search.
    """
    indptr, indices = getattr(model, "seen_indptr_", None), getattr(model, "seen_indices_", None)
    if indptr is None or indices is None or len(indices) == 0:
        return 0  # not a tinyrec Recommender: what it was fitted on is not known
    n_items = np.int64(test.n_items)
    seen = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr)) * n_items + indices
    asked = test.users.astype(np.int64) * n_items + test.items
    found = np.minimum(np.searchsorted(seen, asked), len(seen) - 1)
    return int(np.count_nonzero(seen[found] == asked))


def _check_not_fitted_on(model, test: Interactions, allow_seen: bool) -> None:
    """Refuse (or, with ``allow_seen``, warn about) test interactions the model was fitted on."""
    n_seen = count_fitted_on(model, test)
    if n_seen == 0:
        return
    recorded = getattr(model, "provenance_", None) or {}
    fitted_on = ", ".join(f"{key} {recorded[key]}" for key in ("data", "split") if recorded.get(key))
    problem = (
        f"{n_seen:,} of the {len(test):,} test interactions are among those the model was fitted on"
        f"{f' ({fitted_on})' if fitted_on else ''}, so its figures would be measured on what it learnt"
    )
    if allow_seen:
        warnings.warn(f"{problem}; evaluating anyway (allow_seen=True)", UserWarning, stacklevel=3)
        return
    raise DataError(
        f"{problem}; evaluate it on the test part of the split it was fitted on, or pass allow_seen=True "
        f"to evaluate anyway (with a warning), e.g. to measure its fit on its own training data"
    )


# ------------------------------------------------------------------------ protocols
def _rating(model, test, batch_size, return_per_user) -> dict:
    users, items = test.users.astype(np.int64), test.items.astype(np.int64)
    n_users_per_call = batch_size or max(1, _BUDGET // test.n_items)
    # predict: pairs per call worth n_users_per_call rows of scores; score_all: that many users
    step = n_users_per_call * test.n_items if hasattr(model, "predict") else n_users_per_call
    pred = np.concatenate(
        [
            _pair_scores(model, users[s : s + step], items[s : s + step], test.n_items)
            for s in range(0, len(users), step)
        ]
    )
    truth = test.ratings.astype(np.float64)
    result = {"rmse": rmse(truth, pred), "mae": mae(truth, pred), "n_ratings": len(truth)}
    if return_per_user:
        count = np.bincount(users, minlength=test.n_users)
        has = np.flatnonzero(count)
        err = pred - truth
        result["per_user"] = {
            "users": has,
            "rmse": np.sqrt(np.bincount(users, err**2, test.n_users)[has] / count[has]),
            "mae": np.bincount(users, np.abs(err), test.n_users)[has] / count[has],
        }
    return result


def _sampled(model, test, train, k, n_negatives, seed, batch_size, ties, return_per_user) -> dict:
    list_users, candidates = sampled_candidates(train, test, n_negatives, seed=seed)
    list_users = list_users.astype(np.int64)
    n_lists, width = candidates.shape
    step = batch_size or max(1, _BUDGET // train.n_items)
    names = (f"hr@{k}", f"ndcg@{k}", "mrr")
    per_list = {name: np.empty(n_lists) for name in names}
    relevance = np.zeros((min(step, n_lists), width))
    relevance[:, 0] = 1.0  # column 0 is the held-out item
    for s in range(0, n_lists, step):
        users, cands = list_users[s : s + step], candidates[s : s + step].astype(np.int64)
        scores = _candidate_scores(model, users, cands, train.n_items)
        rel = relevance[: len(users)]
        at_k = ranking_metrics(scores, rel, k, ties=ties, per_user=True)
        per_list[names[0]][s : s + step] = at_k[names[0]]
        per_list[names[1]][s : s + step] = at_k[names[1]]
        per_list["mrr"][s : s + step] = mrr(scores, rel, None, ties=ties, per_user=True)  # no cut-off
    # mean over each user's lists, then over users
    count = np.bincount(list_users, minlength=train.n_users)
    users = np.flatnonzero(count)
    per_user = {
        n: np.bincount(list_users, v, train.n_users)[users] / count[users] for n, v in per_list.items()
    }
    return _summarise(per_user, users, return_per_user)


def _full(model, test, train, k, batch_size, ties, return_per_user) -> dict:
    n_items = train.n_items
    seen_ptr, seen_idx = train.positives_csr()
    test_ptr, test_idx = test.positives_csr()
    users = np.flatnonzero(np.diff(test_ptr)).astype(np.int64)  # users with a test item
    step = batch_size or max(1, _BUDGET // n_items)
    chunks, shown = [], np.zeros(n_items, dtype=bool)
    for s in range(0, len(users), step):
        batch = users[s : s + step]
        scores = _all_scores(model, batch, n_items)
        rows, cols = _csr_rows(seen_ptr, seen_idx, batch)
        relevance = np.zeros(scores.shape)
        t_rows, t_cols = _csr_rows(test_ptr, test_idx, batch)
        relevance[t_rows, t_cols] = 1.0
        scores[rows, cols] = -np.inf  # seen in train: not a candidate ...
        relevance[rows, cols] = 0.0  # ... so not relevant either
        chunks.append(ranking_metrics(scores, relevance, k, ties=ties, per_user=True))
        lists, _ = top_k(scores, k)
        shown[lists[lists >= 0]] = True
    per_user = {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]}
    result = _summarise(per_user, users, return_per_user)
    result[f"coverage@{k}"] = float(shown.mean())
    return result


def _summarise(per_user: dict, users: np.ndarray, return_per_user: bool) -> dict:
    valid = ~np.isnan(next(iter(per_user.values())))  # the same users are NaN for every metric
    if not valid.any():
        raise DataError(
            "no test user has a relevant candidate: every test item is already in the user's train "
            "interactions, and items seen in train are not candidates; hold out items that are not "
            "in train (the splits in tinyrec.data.split do)"
        )
    result = {n: float(v[valid].mean()) for n, v in per_user.items()}
    result["n_users"] = int(valid.sum())
    if return_per_user:
        result["per_user"] = {"users": users, **per_user}
    return result


# ------------------------------------------------------------------------ scoring
def _all_scores(model, users: np.ndarray, n_items: int) -> np.ndarray:
    """``(len(users), n_items)`` float scores, a private copy (the caller writes -inf into it)."""
    if hasattr(model, "score_all"):
        scores = np.array(model.score_all(users), copy=True)
        return _check_model_scores(model, scores, (len(users), n_items), "score_all")
    items = np.tile(np.arange(n_items), len(users))  # (len(users) * n_items,): row-major pairs
    flat = np.asarray(model.predict(np.repeat(users, n_items), items))
    return _check_model_scores(model, flat, items.shape, "predict").reshape(len(users), n_items)


def _candidate_scores(model, users: np.ndarray, candidates: np.ndarray, n_items: int) -> np.ndarray:
    """Scores of each row's candidates: ``(n, width)`` for ``n`` rows."""
    if hasattr(model, "score_all"):
        distinct, row_of = np.unique(users, return_inverse=True)
        full = _all_scores(model, distinct, n_items)
        return full[row_of[:, None], candidates]  # (n, 1) x (n, width) -> (n, width)
    flat = _pair_scores(model, np.repeat(users, candidates.shape[1]), candidates.ravel(), n_items)
    return flat.reshape(candidates.shape)


def _pair_scores(model, users: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    """Score of each ``(users[j], items[j])`` pair: ``predict`` when the model has it."""
    if hasattr(model, "predict"):
        out = np.asarray(model.predict(users, items))
        return _check_model_scores(model, out, users.shape, "predict").astype(np.float64)
    distinct, row_of = np.unique(users, return_inverse=True)
    return _all_scores(model, distinct, n_items)[row_of, items].astype(np.float64)


def _check_model_scores(model, scores: np.ndarray, shape: tuple, method: str) -> np.ndarray:
    if scores.shape != shape:
        raise ShapeError(f"{type(model).__name__}.{method} returned shape {scores.shape}; expected {shape}")
    if scores.dtype.kind not in "iuf":
        raise DTypeError(f"{type(model).__name__}.{method} returned dtype {scores.dtype}; expected numbers")
    if scores.dtype.kind != "f":
        scores = scores.astype(np.float64)
    if not np.isfinite(scores).all():
        raise NonFiniteError(
            f"{type(model).__name__}.{method} returned NaN or inf scores; "
            "check the model (did training diverge?)"
        )
    return scores


def _csr_rows(indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray):
    """``(row_position, column)`` of every entry of the given CSR rows, as two flat arrays."""
    start, stop = indptr[rows], indptr[rows + 1]
    lengths = stop - start
    row_pos = np.repeat(np.arange(len(rows)), lengths)
    # position of each entry inside `indices`: its row's start plus its rank within the row
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return row_pos, indices[np.repeat(start, lengths) + offsets].astype(np.int64)
