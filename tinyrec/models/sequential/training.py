"""The training sets of the sequence models, redrawn every epoch, and their sampled losses.

Two batch sources feed :func:`tinyrec.models.training.fit_recommender`; each ``epoch()`` shuffles
its rows and draws fresh negatives (items the user never interacted with in train, drawn by
:class:`~tinyrec.data.sampling.NegativeSampler`):

* :class:`NextItemBatches` (SASRec, GRU4Rec): one row per user, the next item at every position
  (:meth:`tinyrec.data.sequences.Sequences.next_item_examples`);
* :class:`WindowBatches` (Caser): ``L`` items and the ``T`` that follow
  (:meth:`tinyrec.data.sequences.Sequences.windows`).

A batch of sampled candidates puts the true next item in column 0 and its negatives after it;
two losses read that layout: :func:`sampled_bce` (SASRec's and Caser's objective) and
:class:`CandidateBPRLoss` (GRU4Rec's BPR variant).
"""

from __future__ import annotations

import math

import numpy as np

from ...data.sampling import NegativeSampler
from ...losses import BCEWithLogitsLoss, BPRLoss
from ...losses.base import Loss
from ...validation import as_generator


class NextItemBatches:
    """Rows of users' inputs with the next item at each position, shuffled each epoch.

    Parameters
    ----------
    train : Interactions
        What the negatives avoid (every item a user interacted with in train).
    users : (n,) int64
        The user of each row.
    inputs, targets : (n, max_len) int64
        ``targets[r, c]`` is the item after ``inputs[r, c]``; padding (``padding_id``) at the same
        places in both (from :meth:`~tinyrec.data.sequences.Sequences.next_item_examples`).
    batch_size : int
        Rows (users) per batch.
    n_negatives : int
        Sampled negatives per position; 0 for a loss over every item (no candidates).
    padding_id : int
    dtype : float dtype of the labels
    seed : int or np.random.Generator

    Notes
    -----
    Each batch drops the columns that hold padding in every one of its rows (left-padded rows
    lose leading columns, right-padded rows trailing ones), so a batch of short histories costs
    less; the models read positions from the last item (SASRec) or from the first (GRU4Rec, right
    padding), so dropping them changes no output. With ``M`` the number of real positions in the
    batch, it yields:

    * ``n_negatives = 0``: ``((inputs,), targets)`` with ``targets : (M,)`` the next items, in
      row-major order of the real positions (for a softmax over every item);
    * otherwise ``((inputs, candidates), labels)`` with ``candidates : (M, 1 + n_negatives)``, the
      next item then the negatives of that position, and ``labels`` ``[1, 0, …, 0]`` per row.

    With negatives, a user who interacted with every item (there is no negative to draw) gives no
    row.
    """

    def __init__(self, train, users, inputs, targets, batch_size: int, *, n_negatives: int = 1,
                 padding_id: int, dtype=np.float32, seed=0):  # fmt: skip
        self.rng = as_generator(seed)
        self.sampler = NegativeSampler(train, "uniform", seed=self.rng) if n_negatives else None
        if n_negatives:  # a user who interacted with every item has no negative to draw: left out
            keep = _can_sample(train, users)
            users, inputs, targets = users[keep], inputs[keep], targets[keep]
        self.users, self.inputs, self.targets = users, inputs, targets
        self.batch_size, self.n_negatives, self.padding_id = int(batch_size), int(n_negatives), padding_id
        self.dtype = np.dtype(dtype)

    def __len__(self) -> int:
        """Batches per epoch."""
        return math.ceil(len(self.users) / self.batch_size)

    def epoch(self):
        """Yield one epoch of batches, in a fresh order, with fresh negatives."""
        order = self.rng.permutation(len(self.users))
        for s in range(0, len(order), self.batch_size):
            rows = order[s : s + self.batch_size]
            inputs, targets = self._trimmed(self.inputs[rows], self.targets[rows])
            real = inputs != self.padding_id  # (batch, length): the positions with a next item
            if not self.n_negatives:
                yield (inputs,), targets[real]
                continue
            users = np.repeat(self.users[rows], real.sum(axis=1))  # (M,) the user of each real position
            negatives = self.sampler.sample(users, self.n_negatives).astype(np.int64)
            candidates = np.concatenate([targets[real][:, None], negatives], axis=1)  # (M, 1 + n_negatives)
            yield (inputs, candidates), _labels(len(users), 1, self.n_negatives, self.dtype)

    def _trimmed(self, inputs, targets):
        """The columns of ``inputs`` and ``targets`` that hold an item in at least one row."""
        used = np.flatnonzero((inputs != self.padding_id).any(axis=0))
        if used.size == 0:
            return inputs[:, :1], targets[:, :1]
        columns = slice(used[0], used[-1] + 1)
        return inputs[:, columns], targets[:, columns]


class WindowBatches:
    """Caser's windows (``L`` items, the next ``T``) with ``n_negatives · T`` negatives each, shuffled.

    Parameters
    ----------
    train : Interactions
        What the negatives avoid.
    users : (n,) int64; inputs : (n, L) int64; targets : (n, T) int64
        From :meth:`~tinyrec.data.sequences.Sequences.windows`.
    batch_size : int
    n_negatives : int
        Negatives per target: each window gets ``n_negatives · T`` (Caser's reference code).
    dtype, seed : as :class:`NextItemBatches`

    Notes
    -----
    Yields ``((users, inputs, candidates), labels)``: ``candidates : (batch, T + n_negatives · T)``,
    the ``T`` targets then the negatives; ``labels`` is 1 on the targets, 0 on the negatives.
    """

    def __init__(self, train, users, inputs, targets, batch_size: int, *, n_negatives: int = 3,
                 dtype=np.float32, seed=0):  # fmt: skip
        self.rng = as_generator(seed)
        self.sampler = NegativeSampler(train, "uniform", seed=self.rng)
        keep = _can_sample(train, users)  # a user who interacted with every item has no negative
        users, inputs, targets = users[keep], inputs[keep], targets[keep]
        self.users, self.inputs, self.targets = users, inputs, targets
        self.batch_size = int(batch_size)
        self.n_targets = targets.shape[1]
        self.n_sampled = int(n_negatives) * self.n_targets
        self.dtype = np.dtype(dtype)

    def __len__(self) -> int:
        return math.ceil(len(self.users) / self.batch_size)

    def epoch(self):
        order = self.rng.permutation(len(self.users))
        negatives = self.sampler.sample(self.users[order], self.n_sampled).astype(np.int64)
        for s in range(0, len(order), self.batch_size):
            rows = order[s : s + self.batch_size]
            candidates = np.concatenate([self.targets[rows], negatives[s : s + self.batch_size]], axis=1)
            labels = _labels(len(rows), self.n_targets, self.n_sampled, self.dtype)
            yield (self.users[rows], self.inputs[rows], candidates), labels


def _can_sample(train, users: np.ndarray) -> np.ndarray:
    """``(n,)`` bool: whether each of ``users`` has an item it never interacted with in ``train``."""
    indptr, _ = train.positives_csr()
    return np.diff(indptr)[users] < train.n_items


def _labels(n: int, n_positive: int, n_negative: int, dtype) -> np.ndarray:
    """``(n, n_positive + n_negative)``: 1 in the first ``n_positive`` columns, 0 after."""
    labels = np.zeros((n, n_positive + n_negative), dtype=dtype)
    labels[:, :n_positive] = 1
    return labels


def sampled_bce(n_positive: int, n_negative: int) -> BCEWithLogitsLoss:
    """Binary cross-entropy of candidate columns as SASRec and Caser weigh it.

    For logits ``ŷ : (n, n_positive + n_negative)`` whose first ``n_positive`` columns are true next
    items and whose last ``n_negative`` are sampled negatives, the reference codes minimise

        ℒ = mean over the positive columns of −log σ(ŷ)  +  mean over the negative columns of −log(1 − σ(ŷ)),

    each kind weighing the same however many of it there are. That is
    :class:`~tinyrec.losses.BCEWithLogitsLoss`'s mean over all its entries with the column weights
    ``width / n_positive`` on positives and ``width / n_negative`` on negatives
    (``width = n_positive + n_negative``).
    """
    width = n_positive + n_negative
    weight = np.concatenate(
        [np.full(n_positive, width / n_positive), np.full(n_negative, width / n_negative)]
    )
    return BCEWithLogitsLoss(weight=weight)


class CandidateBPRLoss(Loss):
    """BPR between column 0 (the true next item) and each other column (a sampled negative).

    Parameters
    ----------
    reduction : {"mean", "sum"}, default "mean"

    Notes
    -----
    ``prediction : (n, 1 + n_negative)`` logits; ``target`` is not read (the layout is the label). With
    ``x_uij = ŷ_{n,0} − ŷ_{n,j}`` for each negative column ``j = 1 … n_negative``,

        ℒ = mean over the n · n_negative pairs of −log σ(x_uij)

    (:class:`~tinyrec.losses.BPRLoss`). Gradient, with ``dx_uij`` the BPR gradient of a pair:
    ``dŷ_{n,0} = Σ_j dx_uij``, ``dŷ_{n,j} = −dx_uij``.
    """

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self._bpr = BPRLoss(reduction=reduction)

    def forward(self, prediction: np.ndarray, target=None):
        positive = np.broadcast_to(prediction[:, :1], prediction[:, 1:].shape)  # ŷ_{n,0} beside each negative
        return self._bpr.forward(np.ascontiguousarray(positive), prediction[:, 1:])

    def backward(self, grad_output=None) -> np.ndarray:
        d_positive, d_negative = self._bpr.backward(grad_output)  # (n, n_negative) each
        return np.concatenate([d_positive.sum(axis=1, keepdims=True), d_negative], axis=1)
