"""Classification metrics for click / rating-threshold prediction.

* ``accuracy = mean_n [ŷ_n = y_n]`` over the ``n`` examples.
* For a class ``c``: ``TP = #{ŷ = c, y = c}``, ``FP = #{ŷ = c, y ≠ c}``, ``FN = #{ŷ ≠ c, y = c}``;
  ``precision = TP / (TP + FP)``, ``recall = TP / (TP + FN)``,
  ``F1 = 2 · precision · recall / (precision + recall)``; a 0/0 ratio is 0 (scikit-learn's
  ``zero_division=0``). ``average="binary"`` reports the class ``pos_label``; ``"macro"`` the
  unweighted mean over the classes present in ``y_true`` or ``y_pred`` (F1 is then the mean of
  the per-class F1s, not the F1 of the mean precision and recall).
* ``log_loss = −mean_n log p_n(y_n)`` with probabilities clipped to ``[eps, 1 − eps]``,
  ``eps = 1e-15`` by default; binary (``p`` = probability of class 1, so class 0's is ``1 − p``,
  clipped the same way) or multiclass (rows of ``p``). Clipping against the others:
  scikit-learn 1.9's ``log_loss`` clips at the machine epsilon of the probabilities' dtype
  (``2.2e-16`` for float64, ``1.2e-7`` for float32; tinyrec computes in float64 whatever the
  input): on float64 input the two differ only where a probability lies within ``1e-15`` of 0 or
  1, and ``eps=np.finfo(np.float64).eps`` gives scikit-learn's value (``finfo(np.float32).eps``
  on float32 input, to float32's precision: tests/libraries/test_sklearn.py); RecBole's
  ``LogLoss`` clips ``p`` at 1e-15 and then takes ``1 − p`` (docs/metrics.md). Unlike
  scikit-learn, rows of multiclass probabilities are not checked to sum to 1.
* ``roc_auc``: the probability that a random positive scores above a random negative, ties
  counting 1/2: ``(1/(|pos| |neg|)) Σ_{a∈pos} Σ_{b∈neg} ([ŷ_a > ŷ_b] + ½[ŷ_a = ŷ_b])`` over the
  positive and negative examples ``pos``, ``neg`` (scikit-learn's value).
  With one class only (``pos`` or ``neg`` empty) it is undefined, and raises
  :class:`~tinyrec.errors.DataError`: it is one number for one call, and an error names the
  problem where a NaN would travel on. scikit-learn 1.9's ``roc_auc_score`` returns NaN with an
  ``UndefinedMetricWarning`` instead (older versions raised ``ValueError``). The ranking metric
  :func:`tinyrec.metrics.auc` gives NaN to such a user and leaves it out of its mean over users
  (the rule of :mod:`tinyrec.metrics`), or 0 with ``empty="zero"``.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError, DTypeError, NonFiniteError, ShapeError

__all__ = ["accuracy", "precision_recall_f1", "log_loss", "roc_auc"]


def _labels(y, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ShapeError(f"{name} must be 1-D (one label per example), got shape {y.shape}")
    if y.size == 0:
        raise ShapeError(f"{name} is empty; a metric over no examples is undefined")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise NonFiniteError(f"{name} contains NaN or inf")
    return y


def _same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ShapeError(f"{name_a} has {a.shape[0]} examples but {name_b} has {b.shape[0]}; they must match")


def accuracy(y_true, y_pred) -> float:
    """Fraction of examples whose predicted label equals the true one."""
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    _same_length(y_true, y_pred, "y_true", "y_pred")
    return float(np.mean(y_true == y_pred))


def precision_recall_f1(y_true, y_pred, *, average="binary", pos_label=1):
    """``(precision, recall, f1)`` of predicted labels (definitions in the module docstring).

    Parameters
    ----------
    y_true, y_pred : (n,) labels (ints, bools or strings)
    average : {"binary", "macro"}
    pos_label : label
        The positive class for ``average="binary"``.

    Returns
    -------
    tuple of three floats
    """
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    _same_length(y_true, y_pred, "y_true", "y_pred")
    if average == "binary":
        classes = np.array([pos_label])
    elif average == "macro":
        classes = np.union1d(y_true, y_pred)
    else:
        raise ValueError(f"average={average!r} is not supported; use 'binary' or 'macro'")
    # (n_classes, n): one-vs-rest indicator of each class
    pred_c = y_pred[None, :] == classes[:, None]
    true_c = y_true[None, :] == classes[:, None]
    tp = (pred_c & true_c).sum(axis=1).astype(np.float64)
    fp = (pred_c & ~true_c).sum(axis=1)
    fn = (~pred_c & true_c).sum(axis=1)
    prec = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    rec = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=(tp + fn) > 0)
    f1 = np.divide(2 * prec * rec, prec + rec, out=np.zeros_like(tp), where=(prec + rec) > 0)
    return float(prec.mean()), float(rec.mean()), float(f1.mean())


def log_loss(y_true, y_prob, *, eps=1e-15) -> float:
    """Mean negative log-likelihood of the true labels (cross-entropy), probabilities clipped.

    Parameters
    ----------
    y_true : (n,) int
        0/1 labels (binary) or class indices in ``[0, n_classes)`` (multiclass).
    y_prob : (n,) or (n, n_classes) float
        Probability of class 1 (binary), or one probability row per example.
    eps : float
        Clipping: ``p`` is replaced by ``min(max(p, eps), 1 − eps)`` before the log.
    """
    y_true = _labels(y_true, "y_true")
    y_prob = np.asarray(y_prob, dtype=np.float64)
    if not np.isfinite(y_prob).all():
        raise NonFiniteError("y_prob contains NaN or inf")
    if ((y_prob < 0) | (y_prob > 1)).any():
        raise DataError("y_prob must hold probabilities in [0, 1]; apply a sigmoid/softmax to logits first")
    if y_true.dtype.kind not in "iub":
        raise DTypeError(f"y_true must hold integer labels, got dtype {y_true.dtype}")
    _same_length(y_true, y_prob, "y_true", "y_prob")
    y_true = y_true.astype(np.int64)
    if y_prob.ndim == 1:  # binary: p(y = 1)
        if not np.isin(y_true, (0, 1)).all():
            raise DataError("binary log_loss needs labels 0/1; pass (n, n_classes) probabilities otherwise")
        y_prob = np.stack([1.0 - y_prob, y_prob], axis=1)  # (n, 2)
    elif y_prob.ndim != 2:
        raise ShapeError(f"y_prob must be (n,) or (n, n_classes), got shape {y_prob.shape}")
    if y_true.min() < 0 or y_true.max() >= y_prob.shape[1]:
        raise DataError(f"labels must lie in [0, {y_prob.shape[1]}) to index the probability columns")
    p = np.clip(y_prob[np.arange(y_true.shape[0]), y_true], eps, 1.0 - eps)
    return float(-np.mean(np.log(p)))


def roc_auc(y_true, y_score) -> float:
    """Area under the ROC curve of binary labels (ties count 1/2; see the module docstring).

    Raises :class:`~tinyrec.errors.DataError` when ``y_true`` holds one class only (no positive
    or no negative to compare); scikit-learn 1.9 returns NaN with a warning there.
    """
    from .ranking import auc

    y_true, y_score = _labels(y_true, "y_true"), _labels(y_score, "y_score")
    _same_length(y_true, y_score, "y_true", "y_score")
    if not np.isin(y_true, (0, 1)).all():
        raise DataError("roc_auc needs 0/1 labels")
    if y_true.min() == y_true.max():
        raise DataError(
            "roc_auc needs both classes in y_true; it is undefined with one class (the ranking metric "
            "tinyrec.metrics.auc gives such a user NaN and leaves it out of its mean)"
        )
    return auc(y_score[None, :], y_true[None, :], ties="average", average="global")
