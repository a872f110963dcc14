"""The training loop for plain networks, built from small reusable pieces.

:func:`fit` trains a :class:`~tinyrec.nn.module.Module` on arrays ``(X, y)`` with mini-batches::

    for each epoch:
        for each batch (shuffled, seeded):
            optimizer.zero_grad()
            prediction = model(*X_batch)
            value = loss(prediction, y_batch)            # NaN guard here
            model.backward(loss.backward())
            optimizer.step()
        validation loss and metrics; progress line on stderr

The pieces — :func:`batch_indices`, :func:`take_batch`, :class:`ProgressBar`,
:func:`check_finite_loss`, :func:`predict` and :class:`History` — are public so that the
recommender training loops (sampled batches, early stopping) can reuse them; :class:`EpochBar` is
the progress line of the classic models, whose epochs are single Numba calls.

:func:`fit_recommender` is that loop for neural recommenders (``model.net``): a batch source
redrawn every epoch (:class:`PointwiseBatches`: every positive plus fresh negatives, seeded),
the same progress bar and NaN guard, validation with :func:`tinyrec.evaluation.evaluate` after
each epoch, early stopping on a chosen metric with the best weights restored, and a history of
plain lists that the model file stores.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from .errors import NonFiniteError, ShapeError
from .nn.module import Module, RowGrad
from .validation import as_generator


@dataclass
class History:
    """What :func:`fit` records, one entry per epoch.

    Attributes
    ----------
    train_loss : list of float
        Mean training loss of the epoch (the batch losses weighted by batch size).
    val_loss : list of float
        Loss on the validation data at the end of the epoch (empty without validation data).
    metrics : dict of str to list of float
        ``metrics[name][e]`` is ``metric(y_true, y_pred)`` at the end of epoch ``e``, on the
        validation data when given, else on the training data.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def last(self) -> dict[str, float]:
        """The latest value of every recorded series (for a progress line)."""
        out = {"loss": self.train_loss[-1]} if self.train_loss else {}
        if self.val_loss:
            out["val_loss"] = self.val_loss[-1]
        out.update({name: values[-1] for name, values in self.metrics.items() if values})
        return out


def batch_indices(
    n: int, batch_size: int, *, shuffle: bool, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """Yield index arrays of at most ``batch_size`` covering ``range(n)`` once (permuted if ``shuffle``)."""
    order = rng.permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def take_batch(X: tuple[np.ndarray, ...], index: np.ndarray) -> tuple[np.ndarray, ...]:
    """The rows ``index`` of each input array (a multi-input model gets one array per input)."""
    return tuple(x[index] for x in X)


_DIVERGENCE_FIX = (
    "lower the learning rate, clip gradients (tinyrec.optim.clip_grad_norm_) or check the data for NaN/inf"
)


def check_finite_loss(
    value: float,
    *,
    epoch: int,
    batch: int | None = None,
    last_finite: float | None,
    what: str = "the training loss",
    fix: str = _DIVERGENCE_FIX,
) -> None:
    """Raise :class:`~tinyrec.errors.NonFiniteError` when a loss value is NaN or inf.

    The message names the epoch and batch (1-based; ``batch=None`` for a loop checked once per
    epoch), the last finite value seen, so the user can tell a slow divergence (growing loss) from
    bad input (NaN from the start), and ``fix``, what to change.
    """
    if not math.isfinite(value):
        last = "none yet" if last_finite is None else f"{last_finite:.6g}"
        where = f"epoch {epoch}" if batch is None else f"epoch {epoch}, batch {batch}"
        raise NonFiniteError(f"{what} became {value} at {where} (last finite value: {last}); {fix}")


class _ProgressLine:
    """A line on a stream (stderr by default) redrawn in place with ``\\r``, for the two bars below.

    A redraw is padded with spaces to the length of the previous one, so no stale characters
    remain when the line gets shorter. Used as a context manager (``with ... as bar:``), it ends a
    line left open when the loop inside stops on an exception (a NaN loss, Ctrl-C), so the error
    starts on a line of its own. ``enabled=False`` makes every method a no-op, so the loop calls it
    unconditionally.
    """

    def __init__(self, *, enabled: bool, stream, width: int, min_interval: float):
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.min_interval = min_interval
        self._last_draw = -math.inf
        self._drawn = 0  # length of the line on screen
        self._open = False  # a line is drawn and not yet ended by a newline

    def _due(self, final: bool) -> bool:
        """Whether to redraw now: always for the ``final`` update, else at most every min_interval s."""
        now = time.monotonic()
        if not final and now - self._last_draw < self.min_interval:
            return False
        self._last_draw = now
        return True

    def _bar(self, done: int, total: int) -> str:
        filled = self.width * done // max(total, 1)
        return "#" * filled + "." * (self.width - filled)

    def _draw(self, line: str, *, end: bool = False) -> None:
        self.stream.write("\r" + line.ljust(self._drawn) + ("\n" if end else ""))
        self.stream.flush()
        self._drawn, self._open = (0, False) if end else (len(line), True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.enabled and self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


class ProgressBar(_ProgressLine):
    """The progress line of one epoch of a network: batches done and the running mean loss.

    ``update(batch, running_loss)`` redraws at most every ``min_interval`` seconds (and at the
    last batch); ``end(summary)`` finishes the line with a summary.
    """

    def __init__(self, epoch: int, epochs: int, n_batches: int, *, enabled: bool = True,
                 stream=None, width: int = 20, min_interval: float = 0.1):  # fmt: skip
        super().__init__(enabled=enabled, stream=stream, width=width, min_interval=min_interval)
        self.epoch, self.epochs, self.n_batches = epoch, epochs, n_batches
        self._line = ""

    def update(self, batch: int, running_loss: float) -> None:
        """Show that ``batch`` (1-based) of ``n_batches`` is done, with the running mean loss."""
        if not self.enabled or not self._due(final=batch >= self.n_batches):
            return
        bar = self._bar(batch, self.n_batches)
        self._line = (
            f"epoch {self.epoch}/{self.epochs} [{bar}] {batch}/{self.n_batches} loss {running_loss:.4f}"
        )
        self._draw(self._line)

    def end(self, summary: dict[str, float]) -> None:
        """Finish the epoch's line with ``name value`` pairs (validation loss, metrics)."""
        if not self.enabled:
            return
        extra = "".join(f" {name} {value:.4f}" for name, value in summary.items() if name != "loss")
        self._draw(self._line + extra, end=True)


class EpochBar(_ProgressLine):
    """One progress line over the epochs of a whole fit.

    For the classic models, whose epochs are single Numba calls with nothing to report between
    batches: ``update(epoch, value)`` after each epoch (1-based; ``value`` is the epoch's training
    loss or RMSE, or None), redrawn at most every ``min_interval`` seconds and always at the last
    epoch, which also ends the line.
    """

    def __init__(self, n_epochs: int, what: str, *, enabled: bool = True, stream=None,
                 width: int = 20, min_interval: float = 0.1):  # fmt: skip
        super().__init__(enabled=enabled, stream=stream, width=width, min_interval=min_interval)
        self.n_epochs, self.what = n_epochs, what

    def update(self, epoch: int, value: float | None) -> None:
        last = epoch >= self.n_epochs
        if not self.enabled or not self._due(final=last):
            return
        shown = "" if value is None else f" {self.what} {value:.4f}"
        self._draw(f"epoch {epoch}/{self.n_epochs} [{self._bar(epoch, self.n_epochs)}]{shown}", end=last)


def predict(model: Module, X: tuple[np.ndarray, ...], batch_size: int) -> np.ndarray:
    """The model's output on all rows of ``X``, in evaluation mode and in batches of ``batch_size``."""
    was_training = model.training
    model.eval()
    try:
        n = len(X[0])
        outputs = [
            model(*take_batch(X, np.arange(s, min(s + batch_size, n)))) for s in range(0, n, batch_size)
        ]
    finally:
        model.train(was_training)
    return np.concatenate(outputs, axis=0)


def _as_inputs(X, y, name: str) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """``X`` as a tuple of arrays with as many rows as ``y``."""
    X = tuple(np.asarray(x) for x in X) if isinstance(X, (tuple, list)) else (np.asarray(X),)
    y = np.asarray(y)
    for i, x in enumerate(X):
        if x.ndim == 0 or len(x) != len(y):
            raise ShapeError(
                f"{name}: input {i} has shape {x.shape} but the targets have {len(y)} rows; "
                "every input needs one row per target"
            )
    return X, y


def _epoch_metrics(model, loss, metrics, X, y, batch_size, history: History, *, validation: bool) -> None:
    """Append the validation loss (when ``validation``) and every metric of this epoch to ``history``."""
    if not metrics and not validation:
        return
    y_pred = predict(model, X, batch_size)
    if validation:
        history.val_loss.append(float(loss(y_pred, y)))
    for name, metric in (metrics or {}).items():
        history.metrics.setdefault(name, []).append(float(metric(y, y_pred)))


def fit(
    model: Module,
    loss,
    optimizer,
    X,
    y,
    epochs: int,
    batch_size: int,
    validation_data: tuple | None = None,
    metrics: dict[str, Callable] | None = None,
    shuffle: bool = True,
    seed=0,
    verbose: bool = True,
) -> History:
    """Train ``model`` by mini-batch gradient descent; return the per-epoch :class:`History`.

    Parameters
    ----------
    model : Module
        Its ``forward(*inputs)`` gives the prediction, its ``backward(dY)`` fills the gradients.
    loss : loss object
        From :mod:`tinyrec.losses`, with ``reduction="mean"`` or ``"sum"``.
    optimizer : Optimizer
        Built on ``model.parameters()``.
    X : array (n, ...) or tuple of arrays
        The inputs; a tuple for multi-input models (e.g. ``(user_ids, item_ids)``), each with
        ``n`` rows.
    y : array (n, ...)
        The targets.
    epochs, batch_size : int
        Number of passes over the data; rows per batch (the last batch may be smaller).
    validation_data : (X_val, y_val), optional
        Evaluated at the end of every epoch (in eval mode), for ``val_loss`` and the metrics.
    metrics : dict of str to callable, optional
        ``metric(y_true, y_pred) -> float``, computed at the end of every epoch on the
        validation data when given, else on the training data. ``y_pred`` is the model's raw
        output (logits for a model trained with BCEWithLogitsLoss).
    shuffle : bool, default True
        Permute the rows at every epoch.
    seed : int or np.random.Generator, default 0
        Seeds the shuffling; the same seed gives the same batches.
    verbose : bool, default True
        Show a progress bar on stderr.

    Returns
    -------
    History

    Raises
    ------
    NonFiniteError
        When a batch loss is NaN or inf (naming the epoch and the last finite loss).
    """
    if getattr(loss, "reduction", "mean") == "none":
        raise ValueError("fit needs a loss that returns a number: use reduction='mean' or 'sum'")
    if int(epochs) < 1 or int(batch_size) < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got epochs={epochs}, batch_size={batch_size}")
    X, y = _as_inputs(X, y, "X")
    if len(y) == 0:
        raise ShapeError("fit got no training rows (y is empty)")
    if validation_data is not None:
        X_val, y_val = _as_inputs(validation_data[0], validation_data[1], "validation_data")
    rng = as_generator(seed)
    n = len(y)
    n_batches = math.ceil(n / batch_size)
    history = History()
    last_finite = None
    model.train()
    for epoch in range(1, epochs + 1):
        with ProgressBar(epoch, epochs, n_batches, enabled=verbose) as bar:
            total, seen = 0.0, 0
            for b, index in enumerate(batch_indices(n, batch_size, shuffle=shuffle, rng=rng), start=1):
                inputs = take_batch(X, index)
                optimizer.zero_grad()
                prediction = model(*inputs)
                value = float(loss(prediction, y[index]))
                check_finite_loss(value, epoch=epoch, batch=b, last_finite=last_finite)
                last_finite = value
                model.backward(loss.backward())
                optimizer.step()
                total += value * len(index)
                seen += len(index)
                bar.update(b, total / seen)
            history.train_loss.append(total / seen)
            if validation_data is not None:
                _epoch_metrics(model, loss, metrics, X_val, y_val, batch_size, history, validation=True)
            else:
                _epoch_metrics(model, loss, metrics, X, y, batch_size, history, validation=False)
            bar.end(history.last())
    return history


# ----------------------------------------------------------------------------------------------
# The loop of neural recommenders: batches drawn afresh each epoch, validation, early stopping.
# ----------------------------------------------------------------------------------------------
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
        from .data.sampling import NegativeSampler

        for name, value in (("n_negatives", n_negatives), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
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


def _blas_limit(threads: int | None):
    """A context limiting BLAS to ``threads`` threads (threadpoolctl), or doing nothing."""
    if threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it BLAS keeps its own thread count
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(threads), user_api="blas")


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
    blas_threads: int | None = 1,
    lazy_embeddings: bool = True,
    verbose: bool = True,
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
    blas_threads : int or None, default 1
        Threads NumPy's BLAS may use while training (validation is not limited). A batch's
        matrix products are small (``256 × 64`` by ``64 × 32``), and BLAS threads cost more to wake
        than they save: measured here, a NeuMF epoch on ML-100K took 1.9 s with one thread and
        10-36 s with the default threads on a busy 2-core machine. Needs the optional package
        ``threadpoolctl`` (without it the setting is ignored); None leaves BLAS as it is.
    lazy_embeddings : bool, default True
        True: a row-sparse gradient (:class:`~tinyrec.nn.module.RowGrad`, an embedding table)
        stays row-sparse, and the optimizer updates only the rows of the batch
        (``torch.optim.SparseAdam``'s semantics; ``O(batch · dim)`` per step). False: it is made
        dense before each step, so Adam's moments keep moving **every** row at every step, as
        ``torch.optim.Adam`` does on a dense ``nn.Embedding`` (the NCF reference code); this costs
        ``O(table size)`` per step, but a row that appears rarely keeps moving on its momentum.
    verbose : bool, default True
        A progress bar with the running mean loss on stderr, and the epoch's metrics.

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
    from .evaluation import PROTOCOLS, evaluate

    net = model.net
    if getattr(loss, "reduction", "mean") == "none":
        raise ValueError("fit_recommender needs a loss that returns a number: use reduction='mean' or 'sum'")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol={protocol!r} is not a protocol; use one of {PROTOCOLS}")
    names = monitored_names(protocol, k)
    if valid is not None and monitor not in names:
        raise ValueError(
            f"monitor={monitor!r} is not a metric of the {protocol!r} protocol; use one of {names}"
        )
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int) or patience < 1):
        raise ValueError(f"patience must be None or an int >= 1, got {patience!r}")
    if blas_threads is not None and (
        isinstance(blas_threads, bool) or not isinstance(blas_threads, int) or blas_threads < 1
    ):
        raise ValueError(f"blas_threads must be None or an int >= 1, got {blas_threads!r}")
    if patience is not None and valid is None:
        raise ValueError("early stopping (patience=...) needs validation data: pass valid=")
    sign = -1.0 if monitor in _LOWER_IS_BETTER else 1.0
    params = list(net.parameters())
    history: dict[str, list] = {"loss": [], "epoch_seconds": []}
    best, best_state, since_best, last_finite = -math.inf, None, 0, None
    for epoch in range(1, int(epochs) + 1):
        net.train()
        bar = ProgressBar(epoch, int(epochs), len(batches), enabled=verbose)
        start = time.perf_counter()
        total, seen = 0.0, 0
        with _blas_limit(blas_threads), bar:  # the bar ends its line if a batch raises
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
        history["epoch_seconds"].append(time.perf_counter() - start)
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


__all__ = [
    "EpochBar",
    "History",
    "PointwiseBatches",
    "ProgressBar",
    "batch_indices",
    "check_finite_loss",
    "fit",
    "fit_recommender",
    "predict",
    "take_batch",
]
