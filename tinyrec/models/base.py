"""``Recommender``: the API every tinyrec model follows.

A model is built with its hyperparameters, learns from an :class:`~tinyrec.data.Interactions` in
:meth:`Recommender.fit`, and then answers four questions:

* :meth:`~Recommender.predict` — the score ``r̂_ui`` of given ``(user, item)`` pairs;
* :meth:`~Recommender.score_all` — every item's score for some users, ``(n, n_items)``;
* :meth:`~Recommender.recommend` — each user's top-``k`` items (seen items excluded by default);
* :meth:`~Recommender.similar_items` — an item's nearest items, for models with item vectors.

Users and items are the *dense indices* of the training ``Interactions`` (``train.user_index``
maps raw ids to them). An index outside ``[0, n_users)`` / ``[0, n_items)`` raises
:class:`~tinyrec.errors.IndexOutOfRangeError`. An index inside the range that has no training
interaction is *unknown* to the model: rating models predict the global mean ``μ`` plus whatever
bias is known (see each model), and :meth:`~Recommender.recommend` gives unknown users the most
popular items.

A subclass declares the domain of each constructor argument in ``hyperparameters`` (a table of
rules from :mod:`tinyrec.validation`), writes ``__init__`` (storing each hyperparameter under its
own name, as scikit-learn does, so :meth:`get_params` and ``__repr__`` find them, and ending with
``self._check_hyperparameters()``), ``_fit``, ``_score`` and ``_score_all``, and lists its learnt
arrays in ``_array_names``; saving and loading then work unchanged. The public methods check
their arguments (:mod:`tinyrec.models.checks`) before the model's own code sees them. It
also says how long those arrays are and which of them index which table
(:meth:`~Recommender._array_layout`) and what else its code relies on in them
(:meth:`~Recommender._invariants`), so that ``tinyrec.load`` can refuse an edited file.
Neural models also set ``self.net`` (a :class:`~tinyrec.nn.Module`, saved with its
``state_dict``, whose shapes :meth:`~Recommender._network_shapes` states) and fill
``self.history_`` (a dict of lists, saved in the file's header).
"""

from __future__ import annotations

import inspect

import numpy as np

from ..data.encoders import ranges
from ..errors import ArgumentTypeError, NonFiniteError
from ..kernels.ranking import top_k_rows
from ..threads import limit_blas
from ..validation import check_bool
from .checks import check_fitted, check_items, check_k, check_pairs, check_training_data, check_users
from .persistence import save_model, training_provenance


class Recommender:
    """Base class of every recommender.

    Attributes (after ``fit``)
    --------------------------
    n_users_, n_items_ : int
        Size of the index space of the training data.
    global_mean_ : float
        ``μ``, the mean training rating.
    rating_range_ : (float, float)
        Smallest and largest training rating; rating models clip :meth:`predict` to it.
    user_counts_, item_counts_ : (n_users,), (n_items,) int64
        Training interactions per user and per item (``item_counts_`` is the popularity used for
        unknown users).
    user_ids_, item_ids_ : arrays of raw ids, indexed by dense index.
    history_ : dict of str -> list
        Per-epoch training figures (loss, validation score, seconds), when the model has epochs.
    provenance_ : dict or None
        What the model was fitted on: the data set's name, the split, the seed and the training
        interactions' fingerprint (:func:`tinyrec.models.persistence.training_provenance`); saved
        in the model file. None for a model loaded from a file that does not record it.

    Seeds: a model's ``seed`` defaults to None, as scikit-learn's ``random_state`` does: each fit
    draws fresh randomness, so two fits differ. Pass an integer for a fit that repeats bit for bit;
    the ``tinyrec`` command passes ``--seed``, 0 by default.
    """

    #: Each constructor argument -> the rule its value must satisfy (see :mod:`tinyrec.validation`).
    hyperparameters: dict = {}
    #: Hyperparameters added after the class's first model files were written -> the value that
    #: reproduces the model of a file written before (``FM``'s ``user_balance``: 0, the plain
    #: epochs of then). A file without one loads with that value; without any other, it is refused.
    added_hyperparameters: dict = {}
    #: ``"rating"`` for models of explicit ratings (evaluated by RMSE), ``"ranking"`` for models of
    #: implicit feedback (evaluated by ranking metrics).
    task = "rating"
    #: Names of the learnt arrays (attributes) that ``save`` stores and ``load`` restores.
    _array_names: tuple[str, ...] = ()
    #: Learnt arrays with one row per user / per item (see :meth:`_array_layout`).
    _user_rows: tuple[str, ...] = ()
    _item_rows: tuple[str, ...] = ()
    _factor_arrays: tuple[str, ...] = ()  # of those, the ones with n_factors columns
    #: The optional inputs of :meth:`recommend` the model reads; a model refuses the others. The
    #: sequence models (:mod:`tinyrec.models.sequential`) read ``history``; ``features`` is for
    #: models of side information.
    uses_history = False
    uses_features = False

    # -- hyperparameters ----------------------------------------------------------------------
    def _check_hyperparameters(self) -> None:
        """Check every hyperparameter against its rule, and store it normalized (ints, dtypes)."""
        for name, rule in self.hyperparameters.items():
            setattr(self, name, rule(getattr(self, name), name))

    def get_params(self) -> dict:
        """The constructor arguments, read back from the attributes of the same name."""
        names = [
            p.name
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        def show(value):
            if isinstance(value, np.dtype):
                return f"np.{value.name}"
            if isinstance(value, np.random.Generator):
                return "Generator(...)"
            return repr(value)

        args = ", ".join(f"{k}={show(v)}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, train, *, valid=None) -> Recommender:
        """Learn from ``train`` (an ``Interactions``); ``valid`` is used by models that monitor it.

        Returns ``self``. Raises :class:`~tinyrec.errors.DataError` when ``train`` is not an
        ``Interactions``, or ``valid`` lives in another index space.
        """
        check_training_data(train, valid)
        self.n_users_, self.n_items_ = int(train.n_users), int(train.n_items)
        self.global_mean_ = float(np.mean(train.ratings, dtype=np.float64))
        self.rating_range_ = (float(train.ratings.min()), float(train.ratings.max()))
        self.user_counts_ = train.user_counts()
        self.item_counts_ = train.item_counts()
        self.user_ids_, self.item_ids_ = train.user_ids, train.item_ids
        self.seen_indptr_, self.seen_indices_ = train.positives_csr()
        self.history_ = {}
        self.provenance_ = training_provenance(self, train)  # before _fit: its validation compares it
        try:
            with limit_blas():  # small products: one BLAS thread (tinyrec/threads.py), restored after
                self._fit(train, valid)
        except BaseException:
            del self.n_items_  # a failed fit leaves the model unfitted, not half-fitted
            raise
        return self

    def _fit(self, train, valid) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement _fit")

    # -- scoring ------------------------------------------------------------------------------
    def predict(self, users, items) -> np.ndarray:
        """Scores of ``(users[r], items[r])`` pairs.

        Parameters
        ----------
        users, items : (n,) int arrays
            Dense indices (equal shapes).

        Returns
        -------
        scores : (n,) float
            Rating models: predicted ratings ``r̂_ui``, clipped to ``rating_range_`` (as Surprise
            does); an unknown user or item contributes no learnt term, so a pair of unknowns
            gets ``μ``. Ranking models: the unbounded score that orders items.
        """
        users, items = check_pairs(self, users, items)
        scores = self._score(users, items)
        if self.task == "rating":
            scores = np.clip(scores, *self.rating_range_)
        return scores

    def score_all(self, users) -> np.ndarray:
        """``scores[r, i]``: the score of item ``i`` for ``users[r]``, shape ``(n, n_items)``.

        Not clipped (clipping would create ties that ranking metrics must then break). Raises
        :class:`~tinyrec.errors.NonFiniteError` when a score is NaN or inf.
        """
        users = check_users(self, users)
        scores = self._score_all(users)
        _check_finite_scores(self, scores, users, "score_all")
        return scores

    def recommend(self, users, k: int = 10, *, exclude_seen: bool = True, history=None, features=None):
        """Each user's ``k`` highest-scored items, best first.

        Parameters
        ----------
        users : (n,) int array
            Dense user indices.
        k : int
            Number of items per user (at most ``n_items``).
        exclude_seen : bool
            Leave out the items each user interacted with in training.
        history : list of item lists, optional
            Models with ``uses_history`` only (the sequence models): each user's items in time
            order, scored instead of the stored history (a user unseen in training, a session).
        features : optional
            Models with ``uses_features`` only (side information).
            A model that does not read ``history`` or ``features`` refuses it
            (:class:`~tinyrec.errors.ArgumentTypeError`) rather than ignore it.

        Returns
        -------
        items : (n, k) int64
            Item indices, best first; ``-1`` where fewer than ``k`` items remain (a user who has
            seen almost everything).
        scores : (n, k) float
            Their scores (``-inf`` beside a ``-1``). A user unknown to the model (no training
            interaction) gets the most popular items, scored by their training count.

        Raises :class:`~tinyrec.errors.NonFiniteError` when a score the ranking uses is NaN or
        inf (a diverged fit, a damaged file): a NaN would be ranked anywhere, without a word.
        """
        _refuse_unused(self, history=history, features=features)
        users = check_users(self, users)
        check_bool(exclude_seen, "exclude_seen")
        k = check_k(k, self.n_items_, "n_items")
        scores = np.asarray(self._score_all(users), dtype=np.float64)  # (n, n_items), a fresh array
        unknown = self.user_counts_[users] == 0
        scores[unknown] = self.item_counts_  # popularity fallback, broadcast over the unknown rows
        _check_finite_scores(self, scores, users, "recommend")
        if exclude_seen:
            starts, stops = self.seen_indptr_[users], self.seen_indptr_[users + 1]
            rows = np.repeat(np.arange(len(users)), stops - starts)  # (total seen,) row of each seen item
            cols = self.seen_indices_[ranges(starts, stops)]
            scores[rows, cols] = -np.inf
        return _top_k(scores, k)

    def similar_items(self, items, k: int = 10):
        """The ``k`` items most similar to each of ``items``, by cosine of the item vectors.

        Returns ``(neighbours, similarities)``, both ``(n, k)``, best first, the item itself left
        out. Only for models with item vectors (``_item_vectors`` returns them).
        """
        check_fitted(self)
        vectors = self._item_vectors()
        if vectors is None:
            raise TypeError(f"{type(self).__name__} has no item vectors, so similar_items is undefined")
        items = check_items(self, items)
        k = check_k(k, self.n_items_ - 1, "n_items - 1")
        vectors = np.asarray(vectors, dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1)
        norms[norms == 0] = 1.0  # a zero vector (an item absent from training) has similarity 0
        unit = vectors / norms[:, None]  # (n_items, d)
        sims = unit[items] @ unit.T  # (n, n_items)
        sims[np.arange(len(items)), items] = -np.inf
        return _top_k(sims, k)

    def _item_vectors(self):
        return None

    def _score(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement _score")

    def _score_all(self, users: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement _score_all")

    # -- saving -------------------------------------------------------------------------------
    def save(self, path):
        """Write the fitted model to ``path`` (one ``.npz``; see :mod:`tinyrec.io`). Returns the path."""
        return save_model(self, path)

    def _after_load(self) -> None:
        """Rebuild anything derived from the loaded arrays (called by ``tinyrec.load``)."""

    def _build_net(self) -> None:
        """Neural models: build ``self.net`` from the hyperparameters, before its weights are loaded."""
        raise NotImplementedError(f"{type(self).__name__} has no network to build")

    def _network_shapes(self) -> dict[str, tuple[int, ...]]:
        """Neural models: the shape of every ``state_dict`` entry that :meth:`_build_net` would make.

        Computed from the hyperparameters and ``n_users_``/``n_items_`` by arithmetic alone, so that
        ``tinyrec.load`` compares them with a file's weights before building (and allocating) the
        network. Empty for a model without a network.
        """
        return {}

    def _invariants(self) -> dict[str, bool]:
        """What the fitted arrays satisfy beyond :meth:`_array_layout`, that the model's code relies on.

        ``{description: whether it holds}``, evaluated by ``tinyrec.load`` once the layout holds
        (shapes, dtypes, index ranges); a file for which one is False is refused, naming it. ``fit``
        makes them true; the base's own (each user's seen items sorted, counts consistent with them)
        are in :mod:`tinyrec.models.persistence`.
        """
        return {}

    def _array_layout(self) -> tuple[dict[str, tuple], list[tuple[str, str, int]]]:
        """What a fitted model's arrays must satisfy (checked by ``tinyrec.load``).

        Returns ``(shapes, index_lists)``. ``shapes`` maps every saved array to its shape, ``None``
        for an axis of any length (``(None,)``: any 1-D array). Each ``(offsets, indices, bound)``
        of ``index_lists`` is a CSR pair of integer arrays whose ``offsets`` run from 0 to
        ``len(indices)`` without decreasing and whose ``indices`` lie in ``[0, bound)``. A
        subclass adds its own learnt arrays to the base's: ``_user_rows`` / ``_item_rows`` get one
        row per user / item, with ``n_factors`` columns for those in ``_factor_arrays``.
        """
        n_users, n_items = self.n_users_, self.n_items_
        shapes = {"user_counts_": (n_users,), "user_ids_": (n_users,), "seen_indptr_": (n_users + 1,)}
        shapes.update(item_counts_=(n_items,), item_ids_=(n_items,), seen_indices_=(None,))
        for n_rows, names in ((n_users, self._user_rows), (n_items, self._item_rows)):
            for name in names:
                shapes[name] = (n_rows, self.n_factors) if name in self._factor_arrays else (n_rows,)
        return shapes, [("seen_indptr_", "seen_indices_", n_items)]

    # -- helpers ------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        check_fitted(self)

    def _known_users(self, users: np.ndarray) -> np.ndarray:
        return self.user_counts_[users] > 0

    def _known_items(self, items: np.ndarray) -> np.ndarray:
        return self.item_counts_[items] > 0


def _check_finite_scores(model: Recommender, scores: np.ndarray, users: np.ndarray, method: str) -> None:
    """Raise NonFiniteError naming the model, a user and an item when ``scores`` hold NaN or inf.

    One pass over the scores, costing about as much as copying them (the ranking kernel takes no
    NaN: its caller checks).
    """
    finite = np.isfinite(scores)
    if finite.all():
        return
    bad = ~finite
    row, item = np.argwhere(bad)[0]
    raise NonFiniteError(
        f"{type(model).__name__}.{method}: {int(bad.sum()):,} of {scores.size:,} scores are NaN or inf "
        f"(first: user {int(users[row])}, item {int(item)}: {scores[row, item]}); its learnt arrays hold "
        f"non-finite values (training diverged, or the file it was loaded from is damaged): refit it with "
        f"a smaller learning rate or init_std, or more regularization, and check that the data is finite"
    )


_READERS = {
    "history": "the sequence models (SASRec, GRU4Rec, Caser)",
    "features": "models of side information",
}


def _refuse_unused(model: Recommender, **given) -> None:
    """ArgumentTypeError for an optional input of ``recommend`` (``history``, ``features``) that
    ``model`` does not read (its ``uses_<name>`` is False): silently ignoring it would mislead."""
    for name, value in given.items():
        if value is not None and not getattr(model, f"uses_{name}"):
            raise ArgumentTypeError(
                f"{type(model).__name__}.recommend does not read {name}: it scores from what it learnt in "
                f"fit; {name} is for {_READERS[name]}. Leave {name}=None"
            )


def _top_k(scores: np.ndarray, k: int):
    """Row-wise top ``k`` of ``scores`` (n, n_items), best first; ``-inf`` entries come out as item ``-1``.

    Uses the per-user top-k kernel (:func:`tinyrec.kernels.ranking.top_k_rows`); equal scores are
    ordered by the smaller item index.
    """
    items = top_k_rows(scores, k, scores, 0)  # (n, k) int64
    top = np.take_along_axis(scores, items, axis=1)
    items[np.isneginf(top)] = -1
    return items, top
