"""The training loop of neural recommenders: batches drawn afresh each epoch, validation, early stopping.

:func:`fit_recommender` trains a recommender's network (``model.net``) with a batch source
redrawn every epoch (:class:`PointwiseBatches`: every positive plus fresh negatives, seeded), the
progress bar and NaN guard of :func:`tinyrec.train.fit`, validation with
:func:`tinyrec.evaluation.evaluate` after each epoch, early stopping on a chosen metric with the
best weights restored, and a history of plain lists that the model file stores.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..data.sampling import NegativeSampler
from ..evaluation import PROTOCOLS, evaluate
from ..nn.module import RowGrad
from ..progress import ProgressBar
from ..threads import limit_blas
from ..validation import as_generator, check_finite_loss, one_of, optional, positive_int


class PointwiseBatches:
    """The NCF training set, redrawn every epoch: each positive and ``n_negatives`` sampled negatives.

    Parameters
    ----------
    train : Interactions
        Every interaction is a positive ``(u, i, 1)`` (the rating values are ignored).
    n_negatives : int, default 4
        Negatives ``(u, j, 0)`` per positive, ``j`` drawn uniformly among the items ``u`` has not
        interacted with in ``train`` (:class:`~tinyrec.data.sampling.NegativeSampler`).
    batch_size : int, default 256
        Rows per batch (the last batch of an epoch may be smaller).
    seed : int or np.random.Generator, default 0
        One generator draws the negatives and the order of every epoch, so epoch ``e`` gets new
        negatives and a new order, and the same seed repeats the whole sequence.

    Notes
    -----
    An epoch has ``n = len(train) · (1 + n_negatives)`` rows; :meth:`epoch` draws the negatives
    for that epoch (one call of the sampling kernel), permutes the rows once and yields contiguous
    slices ``((users, items), labels)`` with ``users, items : (batch,) int64`` and
    ``labels : (batch,)`` of ``dtype``. Redrawing the negatives at each epoch is what the NCF
    reference code does: a fixed set of negatives would be memorised.
    """

    def __init__(self, train, n_negatives: int = 4, batch_size: int = 256, *, dtype=np.float32, seed=0):
        n_negatives = positive_int(n_negatives, "n_negatives")
        batch_size = positive_int(batch_size, "batch_size")
        self.rng = as_generator(seed)
        self.sampler = NegativeSampler(train, "uniform", seed=self.rng)
        self.users = train.users.astype(np.int64)
        self.items = train.items.astype(np.int64)
        self.n_negatives, self.batch_size = int(n_negatives), int(batch_size)
        self.dtype = np.dtype(dtype)
        n_pos = len(self.users)
        self.labels = np.concatenate([np.ones(n_pos), np.zeros(n_pos * self.n_negatives)]).astype(self.dtype)

    def __len__(self) -> int:
        """Batches per epoch."""
        return math.ceil(len(self.labels) / self.batch_size)

    def epoch(self):
        """Yield ``((users, items), labels)`` batches of one epoch, with fresh negatives."""
        negatives = self.sampler.sample(self.users, self.n_negatives)  # (n_pos, n_negatives)
        users = np.concatenate([self.users, np.repeat(self.users, self.n_negatives)])
        items = np.concatenate([self.items, negatives.reshape(-1).astype(np.int64)])
        order = self.rng.permutation(len(users))
        users, items, labels = users[order], items[order], self.labels[order]
        for s in range(0, len(users), self.batch_size):
            yield (
                (users[s : s + self.batch_size], items[s : s + self.batch_size]),
                labels[s : s + self.batch_size],
            )


_LOWER_IS_BETTER = ("rmse", "mae")


def monitored_names(protocol: str, k: int) -> tuple[str, ...]:
    """The metrics :func:`tinyrec.evaluation.evaluate` returns for ``protocol`` (all but counts)."""
    if protocol == "rating":
        return ("rmse", "mae")
    if protocol == "sampled":
        return (f"hr@{k}", f"ndcg@{k}", "mrr")
    at_k = ("hr", "ndcg", "precision", "recall", "map", "mrr", "coverage")
    return tuple(f"{name}@{k}" for name in at_k)


def fit_recommender(
    model,
    train,
    batches,
    optimizer,
    loss,
    epochs: int,
    *,
    valid=None,
    protocol: str = "sampled",
    monitor: str = "hr@10",
    k: int = 10,
    patience: int | None = None,
    restore_best: bool = True,
    eval_seed=0,
    blas_threads: int | None = None,
    lazy_embeddings: bool = True,
    verbose: bool = True,
    network=None,
) -> dict[str, list]:
    """Train the network ``model.net`` of a recommender; return the per-epoch history.

    Parameters
    ----------
    model : Recommender
        Its ``net`` (a :class:`~tinyrec.nn.module.Module`) is trained; the model itself is used
        for validation (its ``predict`` / ``score_all`` read ``model.net``), so it must already
        know the index space (:meth:`Recommender.fit` sets that before calling ``_fit``).
    train : Interactions
        The training data (what validation treats as already seen).
    batches : object with ``epoch()`` and ``len()``
        ``epoch()`` yields ``(inputs, target)`` with ``inputs`` a tuple of arrays for
        ``net.forward(*inputs)``; it is called once per epoch, so it redraws what it samples
        (e.g. :class:`PointwiseBatches`: fresh negatives and a fresh order each epoch).
    optimizer : Optimizer
        Built on ``model.net.parameters()``.
    loss : loss object
        With ``reduction="mean"`` or ``"sum"``; ``loss.forward(net(*inputs), target)``.
    epochs : int
        The most epochs to run (fewer when early stopping triggers).
    valid : Interactions, optional
        Evaluated after every epoch with :func:`tinyrec.evaluation.evaluate` (``protocol``, ``k``,
        candidates fixed by ``eval_seed``); each metric is recorded as ``val_<name>``.
    protocol : {"sampled", "full", "rating"}, default "sampled"
    monitor : str, default "hr@10"
        The validation metric that decides the best epoch: larger is better, except ``rmse`` and
        ``mae``. Must be one the protocol returns.
    k : int, default 10
        Cut-off of the validation metrics.
    patience : int, optional
        Stop after ``patience`` epochs without improvement of ``monitor`` (needs ``valid``).
        None: run every epoch.
    restore_best : bool, default True
        With ``valid``, load the weights of the best epoch back into the network at the end.
    eval_seed : int, default 0
        Seeds the validation candidates (the same lists at every epoch).
    blas_threads : int, optional
        Threads NumPy's BLAS may use while training. A batch's matrix products are small
        (``256 × 64`` by ``64 × 32``), and BLAS threads cost more to wake than they save, most of
        all on a busy machine. Default: tinyrec's setting (:mod:`tinyrec.threads`: one thread,
        unless ``tinyrec.threads.set_threads`` or the environment's ``OPENBLAS_NUM_THREADS``, ...
        says otherwise); a number given here wins over both.
    lazy_embeddings : bool, default True
        True: a row-sparse gradient (:class:`~tinyrec.nn.module.RowGrad`, an embedding table)
        stays row-sparse, and the optimizer updates only the rows of the batch
        (``torch.optim.SparseAdam``'s semantics; ``O(batch · dim)`` per step). False: it is made
        dense before each step, so Adam's moments keep moving **every** row at every step, as
        ``torch.optim.Adam`` does on a dense ``nn.Embedding`` (the NCF reference code); this costs
        ``O(table size)`` per step, but a row that appears rarely keeps moving on its momentum.
    verbose : bool, default True
        A progress bar with the running mean loss on stderr, and the epoch's metrics.
    network : Module, optional
        The module that the batches go through and that is trained, when it is not ``model.net``
        itself: a training head sharing ``model.net``'s parameters (``FM(loss="softmax")``'s
        :class:`~tinyrec.models.fm.FMItemSoftmax`). Validation still scores with the model.

    Returns
    -------
    history : dict of str to list
        ``"loss"`` (the epoch's mean batch loss, weighted by batch size), ``"epoch_seconds"``
        (training time, validation excluded), and ``"val_<metric>"`` per validation metric; one
        entry per epoch run. Plain lists of floats, so the model file's header stores them.

    Raises
    ------
    NonFiniteError
        A batch loss is NaN or inf; the message names the epoch, the batch and the last finite loss.
    """
    net = model.net if network is None else network
    names = _check_loop(loss, epochs, valid, protocol, monitor, k, patience, blas_threads)
    sign = -1.0 if monitor in _LOWER_IS_BETTER else 1.0
    params = list(net.parameters())
    history: dict[str, list] = {"loss": [], "epoch_seconds": []}
    best, best_state, since_best, last_finite = -math.inf, None, 0, None
    for epoch in range(1, int(epochs) + 1):
        net.train()
        bar = ProgressBar(epoch, int(epochs), len(batches), enabled=verbose)
        start = time.perf_counter()
        total, seen = 0.0, 0
        with limit_blas(blas_threads), bar:  # the bar ends its line if a batch or validation raises
            for b, (inputs, target) in enumerate(batches.epoch(), start=1):
                optimizer.zero_grad()
                value = float(loss.forward(net(*inputs), target))
                check_finite_loss(value, epoch=epoch, batch=b, last_finite=last_finite)
                last_finite = value
                net.backward(loss.backward())
                if not lazy_embeddings:
                    for param in params:
                        if isinstance(param.grad, RowGrad):
                            param.grad = param.dense_grad()
                optimizer.step()
                total += value * len(target)
                seen += len(target)
                bar.update(b, total / seen)
            history["epoch_seconds"].append(time.perf_counter() - start)  # validation excluded
            history["loss"].append(total / max(seen, 1))
            summary = {}
            if valid is not None:
                net.eval()
                result = evaluate(model, valid, train=train, protocol=protocol, k=k, seed=eval_seed)
                for name in names:
                    history.setdefault(f"val_{name}", []).append(float(result[name]))
                    summary[name] = float(result[name])
                score = sign * float(result[monitor])
                if score > best:
                    best, since_best = score, 0
                    best_state = net.state_dict() if restore_best else None
                else:
                    since_best += 1
            bar.end(summary)
        if patience is not None and since_best >= patience:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return history


def _check_loop(loss, epochs, valid, protocol, monitor, k, patience, blas_threads) -> tuple[str, ...]:
    """Check :func:`fit_recommender`'s arguments; return the names of the validation metrics."""
    if getattr(loss, "reduction", "mean") == "none":
        raise ValueError("fit_recommender needs a loss that returns a number: use reduction='mean' or 'sum'")
    positive_int(epochs, "epochs")
    one_of(*PROTOCOLS)(protocol, "protocol")
    optional(positive_int)(patience, "patience")
    optional(positive_int)(blas_threads, "blas_threads")
    names = monitored_names(protocol, k)
    if valid is not None and monitor not in names:
        raise ValueError(
            f"monitor={monitor!r} is not a metric of the {protocol!r} protocol; use one of {names}"
        )
    if patience is not None and valid is None:
        raise ValueError("early stopping (patience=...) needs validation data: pass valid=")
    return names
