"""Another library's model as something :func:`tinyrec.evaluate` takes.

``evaluate`` asks a model for ``predict(users, items)`` or ``score_all(users)`` in tinyrec's
**indices** (``0 .. n_users − 1``, ``0 .. n_items − 1`` of the split's ``train``); another library
knows its own **raw ids** (MovieLens ids are ints in tinyrec and strings in Surprise's loader) and
its own item order. An adapter does the translation, both ways:

* :class:`IdMap` — tinyrec index → the other library's id (through ``train.user_ids`` and a
  conversion such as ``str``), and the other library's id → tinyrec index. Each table is built once,
  for every id, so a batch of pairs is translated by indexing arrays, not pair by pair.
* :class:`PredictAdapter` — from ``predict_batch(raw_users, raw_items) -> scores`` (one call for a
  whole batch of pairs: the fast path) or, failing that, ``predict(raw_user, raw_item) -> score``
  (called once per pair: a Python loop, only as fast as the other library's call).
* :class:`ScoreAllAdapter` — from ``score_all(raw_users) -> (n, n_their_items)``, whose columns
  follow the other library's item order; reordered into tinyrec's.
* :func:`from_surprise` and :func:`from_implicit` — those two libraries' models, each with its
  vectorized path: Surprise's ``predict`` scores one pair per call, so for its factor models
  (``SVD``, ``SVDpp``, ``NMF``, ``BaselineOnly``) the adapter computes Surprise's own estimate from its
  fitted arrays for a whole batch at once (same rules for unknown users and items, same clipping;
  ``tests/libraries/test_surprise.py`` checks it against Surprise's ``predict`` pair by pair);
  implicit's factor models score every item with one product.

Example (docs/metrics.md, tutorial 08)::

    algo = surprise.SVD().fit(trainset)             # trained on Surprise's own loader (string ids)
    model = tinyrec.adapters.from_surprise(algo, train)
    tinyrec.evaluate(model, test, train=train)       # protocol "rating": RMSE and MAE
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .data.interactions import Interactions
from .errors import DataError, DTypeError, ShapeError
from .validation import check_index_array

__all__ = ["IdMap", "PredictAdapter", "ScoreAllAdapter", "from_surprise", "from_implicit"]


def _converted(raw_ids: np.ndarray, convert) -> np.ndarray:
    """tinyrec's raw ids as the other library's: unchanged (None), mapped (a mapping), or converted."""
    if convert is None:
        return raw_ids
    values = raw_ids.tolist()
    if isinstance(convert, Mapping):
        missing = [v for v in values if v not in convert]
        if missing:
            raise DataError(f"the id mapping has no entry for {len(missing):,} ids, e.g. {missing[:3]}")
        values = [convert[v] for v in values]
    elif callable(convert):
        values = [convert(v) for v in values]
    else:
        raise TypeError(
            f"an id conversion must be None, a callable (str) or a mapping, got {type(convert).__name__}"
        )
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


class IdMap:
    """tinyrec's indices and another library's ids, both ways.

    Parameters
    ----------
    train : Interactions
        The split's training part: its ``user_ids``/``item_ids`` are tinyrec's raw ids.
    user_id, item_id : None, callable or mapping
        How one of tinyrec's raw ids becomes the other library's: ``None`` (the same), a callable
        (``str``: MovieLens' int ids as the strings of Surprise's loader) or a mapping.

    Attributes
    ----------
    users, items : (n_users,), (n_items,) arrays
        The other library's id of each tinyrec index.
    """

    def __init__(self, train: Interactions, *, user_id=None, item_id=None):
        if not isinstance(train, Interactions):
            raise TypeError(f"train must be a tinyrec.data.Interactions, got {type(train).__name__}")
        self.users = _converted(np.asarray(train.user_ids), user_id)
        self.items = _converted(np.asarray(train.item_ids), item_id)
        self._user_index = {u: j for j, u in enumerate(self.users.tolist())}
        self._item_index = {i: j for j, i in enumerate(self.items.tolist())}
        if len(self._user_index) != len(self.users) or len(self._item_index) != len(self.items):
            raise DataError(
                "two tinyrec ids become the same id of the other library; give a one-to-one conversion"
            )

    def user_index(self, their_ids) -> np.ndarray:
        """tinyrec's index of each of the other library's user ids (-1 for an id tinyrec lacks)."""
        return np.array([self._user_index.get(u, -1) for u in list(their_ids)], dtype=np.int64)

    def item_index(self, their_ids) -> np.ndarray:
        """tinyrec's index of each of the other library's item ids (-1 for an id tinyrec lacks)."""
        return np.array([self._item_index.get(i, -1) for i in list(their_ids)], dtype=np.int64)

    def check(self, indices, name: str, *, ndim=None) -> np.ndarray:
        """``indices`` (``"users"`` or ``"items"``: tinyrec indices of the split) as int64, refused if
        out of range: NumPy would wrap a negative index around to another user or item."""
        upper = len(self.users if name == "users" else self.items)
        indices = np.asarray(indices)
        if indices.size == 0:  # [] is float64 to NumPy: an empty request is no dtype mistake
            indices = indices.astype(np.int64)
        return check_index_array(indices, f"{name} (tinyrec indices of the split's train)", upper, ndim=ndim)


def _scores(values, n: int, what: str) -> np.ndarray:
    out = np.asarray(values)
    if out.dtype.kind not in "iuf":
        raise DTypeError(f"{what} returned dtype {out.dtype}; expected numbers")
    if out.shape != (n,):
        raise ShapeError(f"{what} returned shape {out.shape}; expected ({n},), one score per pair")
    return out.astype(np.float64, copy=False)


class PredictAdapter:
    """A model that scores (user, item) pairs, as ``evaluate`` sees it: ``predict(users, items)``.

    Parameters
    ----------
    train : Interactions
        The split's training part (its id maps).
    predict_batch : callable, optional
        ``predict_batch(raw_users, raw_items) -> (n,)`` scores of ``n`` pairs at once (the other
        library's ids, as arrays): used when given.
    predict : callable, optional
        ``predict(raw_user, raw_item) -> float``, one pair per call: a Python loop over the pairs.
    user_id, item_id : see :class:`IdMap`.
    task : {"rating", "ranking"}, optional
        Tells ``evaluate`` its default protocol.
    """

    def __init__(self, train, *, predict_batch: Callable | None = None, predict: Callable | None = None,
                 user_id=None, item_id=None, task: str | None = None):  # fmt: skip
        if predict_batch is None and predict is None:
            raise TypeError("give predict_batch(raw_users, raw_items) or predict(raw_user, raw_item)")
        if task not in (None, "rating", "ranking"):
            raise ValueError(f"task={task!r} is not 'rating' or 'ranking'")
        self.ids = IdMap(train, user_id=user_id, item_id=item_id)
        self._batch, self._one = predict_batch, predict
        if task is not None:
            self.task = task

    def predict(self, users, items) -> np.ndarray:
        """Scores of the pairs ``(users[j], items[j])`` (tinyrec indices), as float64."""
        users, items = self.ids.check(users, "users", ndim=1), self.ids.check(items, "items", ndim=1)
        if users.shape != items.shape:
            raise ShapeError(f"users {users.shape} and items {items.shape} must pair up: one of each a pair")
        raw_users, raw_items = self.ids.users[users], self.ids.items[items]  # one gather per batch
        if self._batch is not None:
            return _scores(self._batch(raw_users, raw_items), len(users), "predict_batch")
        one = self._one
        pairs = zip(raw_users.tolist(), raw_items.tolist(), strict=True)
        return np.fromiter((one(u, i) for u, i in pairs), dtype=np.float64, count=len(users))


class ScoreAllAdapter:
    """A model that scores every item of a user at once, as ``evaluate`` sees it: ``score_all(users)``.

    Parameters
    ----------
    train : Interactions
        The split's training part (its id maps).
    score_all : callable
        ``score_all(raw_users) -> (len(raw_users), n_their_items)``; column ``c`` scores the other
        library's item ``item_order[c]``.
    item_order : sequence, optional
        The other library's item id of each of its columns (default: tinyrec's item order, converted
        by ``item_id``). Every tinyrec item must be among them, or ``unknown_score`` given.
    unknown_score : float, optional
        The score of a tinyrec item the other library does not score (finite: ``evaluate`` refuses
        non-finite scores). Without it, such an item is an error.
    user_id, item_id, task : see :class:`PredictAdapter`.
    """

    def __init__(self, train, score_all: Callable, *, item_order=None, unknown_score: float | None = None,
                 user_id=None, item_id=None, task: str | None = None):  # fmt: skip
        if task not in (None, "rating", "ranking"):
            raise ValueError(f"task={task!r} is not 'rating' or 'ranking'")
        self.ids = IdMap(train, user_id=user_id, item_id=item_id)
        self._score_all = score_all
        n_items = len(self.ids.items)
        if item_order is None:
            self._columns = None  # the other library's columns are tinyrec's items, in order
        else:
            item_order = list(item_order)
            self._n_columns = len(item_order)
            column_of = {item: c for c, item in enumerate(item_order)}
            self._columns = np.array([column_of.get(i, -1) for i in self.ids.items.tolist()], dtype=np.int64)
            lacking = int((self._columns < 0).sum())
            if lacking and unknown_score is None:
                raise DataError(
                    f"{lacking:,} of tinyrec's {n_items:,} items are not among the other library's columns; "
                    "pass unknown_score= (a finite score below the others) to score them"
                )
        self.unknown_score = unknown_score
        if task is not None:
            self.task = task

    def score_all(self, users) -> np.ndarray:
        """``(len(users), n_items)`` scores in tinyrec's item order."""
        users = self.ids.check(users, "users", ndim=1)
        theirs = np.asarray(self._score_all(self.ids.users[users]), dtype=np.float64)
        width = len(self.ids.items) if self._columns is None else self._n_columns
        if theirs.ndim != 2 or theirs.shape != (len(users), width):
            raise ShapeError(
                f"score_all returned shape {theirs.shape}; expected ({len(users)}, {width}): one row per "
                f"user, one column per item ({'item_order' if self._columns is not None else 'tinyrec'}'s)"
            )
        if self._columns is None:
            return theirs
        known = self._columns >= 0
        out = np.full(
            (len(users), len(self._columns)), np.nan if self.unknown_score is None else self.unknown_score
        )
        out[:, known] = theirs[:, self._columns[known]]
        return out


# ----------------------------------------------------------------------------- Surprise
def _surprise_conversion(tinyrec_ids: np.ndarray, their_ids) -> Callable | None:
    """``str`` when the other library's ids are strings and tinyrec's are not (MovieLens), else None."""
    theirs = list(their_ids)
    if theirs and all(isinstance(t, str) for t in theirs) and np.asarray(tinyrec_ids).dtype.kind != "U":
        return str
    return None


_PAIRS_PER_CHUNK = 1 << 15  # the factor rows of this many pairs are gathered at once (~50 MB at 100 factors)


def _row_dots(a: np.ndarray, rows_a: np.ndarray, b: np.ndarray, rows_b: np.ndarray) -> np.ndarray:
    """``a[rows_a[j]] · b[rows_b[j]]`` for every ``j``, a chunk of pairs at a time: gathering the
    factor rows of every pair of a full-ranking batch at once would take gigabytes."""
    out = np.empty(len(rows_a))
    for start in range(0, len(rows_a), _PAIRS_PER_CHUNK):
        part = slice(start, start + _PAIRS_PER_CHUNK)
        out[part] = (a[rows_a[part]] * b[rows_b[part]]).sum(axis=1)
    return out


def _surprise_batch(algo) -> Callable | None:
    """Surprise's estimate for a batch of inner ids, for the factor models; None for the others.

    Surprise (1.1.5) computes, for ``SVD``/``NMF`` (``biased``: ``μ + b_u + b_i + q_i·p_u``, the terms of
    an unknown user or item left out; unbiased: ``q_i·p_u``, and the global mean when either is
    unknown), ``SVDpp`` (``μ + b_u + b_i + q_i·(p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j)``) and
    ``BaselineOnly`` (``μ + b_u + b_i``), then clips to the rating scale.
    """
    import surprise  # the caller has it: algo is one of its models

    kind = type(algo)
    if kind not in (surprise.SVD, surprise.SVDpp, surprise.NMF, surprise.BaselineOnly):
        return None
    trainset = algo.trainset
    mu = trainset.global_mean
    if kind is surprise.BaselineOnly:
        bu, bi = np.asarray(algo.bu), np.asarray(algo.bi)
    else:
        biased = kind is surprise.SVDpp or algo.biased
        bu, bi = (np.asarray(algo.bu), np.asarray(algo.bi)) if biased else (None, None)
        pu, qi = np.asarray(algo.pu), np.asarray(algo.qi)
        if kind is surprise.SVDpp:  # p_u + |N(u)|^-1/2 Σ y_j, once per user
            yj = np.asarray(algo.yj)
            pu = pu + np.array([yj[[j for j, _ in trainset.ur[u]]].sum(axis=0) / np.sqrt(len(trainset.ur[u]))
                                for u in range(trainset.n_users)]).reshape(pu.shape)  # fmt: skip
    low, high = trainset.rating_scale

    def estimate(u, i):  # inner ids, -1 for unknown
        known_u, known_i = u >= 0, i >= 0
        both = known_u & known_i
        if bu is None:  # unbiased SVD / NMF: impossible without both, then the global mean
            est = np.full(len(u), mu)
            est[both] = _row_dots(qi, i[both], pu, u[both])
        else:
            est = np.full(len(u), mu)
            est[known_u] += bu[u[known_u]]
            est[known_i] += bi[i[known_i]]
            if kind is not surprise.BaselineOnly:
                est[both] += _row_dots(qi, i[both], pu, u[both])
        return np.minimum(high, np.maximum(low, est)) if low <= high else est

    return estimate


class SurpriseAdapter(PredictAdapter):
    """A Surprise factor model scored a batch at a time from its fitted arrays (:func:`from_surprise`).

    Each tinyrec index's Surprise inner id is looked up once (``-1``: unknown to Surprise), so a batch
    of pairs costs two gathers and the estimate's arithmetic.
    """

    def __init__(self, train, algo, estimate: Callable, *, user_id=None, item_id=None):
        super().__init__(train, predict_batch=estimate, user_id=user_id, item_id=item_id, task="rating")
        trainset = algo.trainset
        self.inner_users = np.array(
            [trainset._raw2inner_id_users.get(u, -1) for u in self.ids.users.tolist()]
        )
        self.inner_items = np.array(
            [trainset._raw2inner_id_items.get(i, -1) for i in self.ids.items.tolist()]
        )

    def predict(self, users, items) -> np.ndarray:
        users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
        return self._batch(self.inner_users[users], self.inner_items[items])


def from_surprise(algo, train: Interactions, *, vectorized: bool = True) -> PredictAdapter:
    """A fitted Surprise algorithm as a rating model ``evaluate`` takes (``task="rating"``).

    Surprise's ids are converted once per id: when its trainset's raw ids are strings (its loaders)
    and tinyrec's are not (MovieLens' ints), tinyrec's ids are written with ``str``.

    Parameters
    ----------
    algo : a fitted Surprise algorithm (``algo.trainset`` set by ``fit``)
    train : Interactions
        The tinyrec split's training part (the same ratings Surprise was fitted on).
    vectorized : bool
        For ``SVD``, ``SVDpp``, ``NMF`` and ``BaselineOnly``: compute Surprise's estimate for a whole
        batch from the fitted arrays (default; a :class:`SurpriseAdapter`). Otherwise, and for every
        other algorithm, call ``algo.predict(uid, iid).est`` once per pair (Surprise's own rules).
    """
    trainset = algo.trainset
    convert_u = _surprise_conversion(train.user_ids, trainset._raw2inner_id_users)
    convert_i = _surprise_conversion(train.item_ids, trainset._raw2inner_id_items)
    estimate = _surprise_batch(algo) if vectorized else None
    if estimate is None:
        return PredictAdapter(train, predict=lambda u, i: algo.predict(u, i).est, user_id=convert_u,
                              item_id=convert_i, task="rating")  # fmt: skip
    return SurpriseAdapter(train, algo, estimate, user_id=convert_u, item_id=convert_i)


# ----------------------------------------------------------------------------- implicit
def _numpy(array) -> np.ndarray:
    """implicit's factors: a NumPy array (CPU models) or a GPU matrix with ``to_numpy()``."""
    return np.asarray(array.to_numpy() if hasattr(array, "to_numpy") else array)


def from_implicit(model, train: Interactions, *, user_order=None, item_order=None) -> ScoreAllAdapter:
    """A fitted implicit factor model (ALS, BPR, LMF) as a ranking model ``evaluate`` takes.

    ``score(u, i) = user_factors[u] · item_factors[i]``, every item in one product (what implicit's
    ``recommend`` ranks by; BPR's item bias is a column of its factors). ``user_order`` /
    ``item_order`` give tinyrec's raw id of each of implicit's rows / columns; by default implicit was
    fitted on the users × items matrix of ``train.to_csr()`` (as a ``scipy.sparse.csr_matrix``),
    whose rows and columns are tinyrec's indices.
    """
    user_factors, item_factors = _numpy(model.user_factors), _numpy(model.item_factors)
    if user_factors.ndim != 2 or item_factors.ndim != 2:
        raise TypeError(
            f"{type(model).__name__} has no user_factors / item_factors matrices (a factor model?)"
        )
    rows = train.user_ids if user_order is None else list(user_order)
    row_of = {raw: r for r, raw in enumerate(np.asarray(rows).tolist())}  # tinyrec raw id -> implicit's row
    missing = [u for u in np.asarray(train.user_ids).tolist() if u not in row_of]
    if missing:
        raise DataError(
            f"{len(missing):,} of tinyrec's users are not rows of the implicit model, e.g. {missing[:3]}"
        )

    def score_all(implicit_rows):
        return user_factors[np.asarray(implicit_rows, dtype=np.int64)] @ item_factors.T

    return ScoreAllAdapter(train, score_all, item_order=item_order, user_id=row_of, task="ranking")
