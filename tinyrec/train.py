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

The whole loop runs with NumPy's BLAS on one thread (:func:`tinyrec.threads.limit_blas`: a batch's
products are small, and more threads only cost time on a busy machine; a user's setting wins).
The pieces — :func:`batch_indices`, :func:`take_batch`, :func:`predict` and :class:`History` —
are public for other loops to reuse. The progress line is :mod:`tinyrec.progress`'s, the NaN guard
:func:`tinyrec.validation.check_finite_loss`; the loop of neural recommenders (batches redrawn
each epoch, validation, early stopping) is :func:`tinyrec.models.training.fit_recommender`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from .errors import ShapeError
from .nn.module import Module
from .progress import ProgressBar
from .threads import limit_blas
from .validation import as_generator, check_finite_loss, check_positive_int


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


def _check_optimizer(model: Module, optimizer) -> None:
    """Refuse an optimizer that would train nothing of ``model`` (see :func:`fit`)."""
    names = [name for name, _ in model.named_parameters()]
    if not names:
        raise ValueError(f"{type(model).__name__} has no parameters: fit would train nothing")
    groups = getattr(optimizer, "param_groups", None)
    if groups is None:  # not a tinyrec optimizer: what it updates cannot be seen
        return
    held = {id(p) for group in groups for p in group["params"]}
    if not any(id(p) in held for p in model.parameters()):
        shown = ", ".join(names[:6]) + (f", ... ({len(names)} in all)" if len(names) > 6 else "")
        raise ValueError(
            f"the optimizer holds {len(held)} parameter(s), none of them {type(model).__name__}'s "
            f"({shown}), so fit would train nothing; build it on this model's parameters, e.g. "
            f"{type(optimizer).__name__}(model.parameters(), ...)"
        )


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
        Built on ``model.parameters()``. One that holds none of the model's parameters (built
        on another model's, say) is refused: it would train nothing. One that holds only some
        of them trains those and leaves the others as they are: that is how a part of a network
        is frozen (as in torch), so it is accepted.
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
    ValueError
        A bad argument: ``epochs`` or ``batch_size`` not a positive integer, a loss with
        ``reduction="none"``, a model without parameters, an optimizer over none of them.
    """
    if getattr(loss, "reduction", "mean") == "none":
        raise ValueError("fit needs a loss that returns a number: use reduction='mean' or 'sum'")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    _check_optimizer(model, optimizer)
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
    with limit_blas():  # small products: one BLAS thread (tinyrec/threads.py), restored on the way out
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


__all__ = ["History", "batch_indices", "fit", "predict", "take_batch"]
