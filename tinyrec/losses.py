"""Loss functions with explicit ``forward`` and ``backward``, numerically equal to ``torch.nn``'s.

Every loss is a small object:

* ``forward(prediction, target)`` computes the per-element losses ``ℓ_i``, caches what the
  gradient needs, and returns the reduced value: a Python float for ``reduction="mean"``
  (``L = (1/n) Σ_i ℓ_i``) or ``"sum"`` (``L = Σ_i ℓ_i``), the array ``ℓ`` for ``"none"``;
* ``backward(grad_output=None)`` returns ``dprediction`` (the gradient of the final objective with
  respect to ``prediction``, same shape). ``grad_output`` is the gradient of the final objective
  with respect to the loss value: a number (default 1.0) for mean/sum, an array of ``ℓ``'s shape
  for ``"none"``. By the chain rule ``dprediction_i = g · ∂ℓ_i/∂prediction_i`` with ``g =
  grad_output / n`` (mean), ``grad_output`` (sum) or ``grad_output_i`` (none).

Losses have no parameters and do not accumulate: each ``backward`` returns a fresh array.
Options other than ``weight`` are keyword-only (``MSELoss(reduction="sum")``): torch's
constructors take ``weight`` (or deprecated arguments) first, so a positional call written for
torch would otherwise mean something else here.
"""

from __future__ import annotations

import numpy as np

from .errors import ArgumentTypeError, BackwardBeforeForwardError, DataError, DTypeError, ShapeError
from .validation import check_float_array, check_in_range, check_index_array, check_int, check_same_shape

_REDUCTIONS = ("mean", "sum", "none")


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log σ(x) = -softplus(-x) = min(x, 0) - log(1 + exp(-|x|))``, finite for any finite x."""
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """``σ(x) = 1 / (1 + exp(-x))`` without overflow: ``exp`` only ever sees ``-|x|``."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise ``x - logsumexp(x)`` for ``x : (N, C)``, shifted by the row max for stability."""
    shifted = x - x.max(axis=1, keepdims=True)  # (N, C) - (N, 1)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class _Loss:
    """Shared machinery: the reduction, the grad_output scaling, the forward cache."""

    differentiable_target = False

    def __init__(self, *, reduction: str = "mean"):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction={reduction!r} is not one of {_REDUCTIONS}")
        self.reduction = reduction
        self._cache = None

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def _reduce(self, losses: np.ndarray, count: float | None = None):
        """Apply the reduction to per-element ``losses``; ``count`` overrides ``n`` for the mean."""
        if self.reduction == "none":
            return losses
        total = losses.sum(dtype=np.float64)
        if self.reduction == "sum":
            return float(total)
        n = losses.size if count is None else count
        return float(total / n) if n else float("nan")

    def _upstream(self, grad_output, shape: tuple, count: float | None = None):
        """``g`` of the module docstring: a number (mean/sum) or an array of ``shape`` (none)."""
        if self.reduction == "none":
            if grad_output is None:
                return 1.0
            grad_output = np.asarray(grad_output)
            if grad_output.shape != shape:
                raise ShapeError(
                    f"{type(self).__name__}(reduction='none').backward got grad_output of shape "
                    f"{grad_output.shape}; it must have the per-element loss shape {shape}"
                )
            return grad_output
        g = 1.0
        if grad_output is not None:
            if np.size(grad_output) != 1:
                raise ShapeError(
                    f"grad_output of a reduced loss must be a number, got shape {np.shape(grad_output)}"
                )
            try:
                g = float(np.asarray(grad_output).reshape(-1)[0])
            except (TypeError, ValueError):
                raise ArgumentTypeError(f"grad_output must be a number, got {grad_output!r}") from None
        if self.reduction == "mean":
            n = int(np.prod(shape)) if count is None else count
            return g / n if n else float("nan")
        return g

    def _require_cache(self):
        if self._cache is None:
            raise BackwardBeforeForwardError(
                f"{type(self).__name__}.backward called before forward; "
                "call forward(prediction, target) first"
            )
        return self._cache

    def _check_pair(self, prediction, target, pred_name="prediction", target_name="target"):
        """Both float arrays of the same shape; target cast to the prediction's dtype."""
        check_float_array(prediction, pred_name)
        if not isinstance(target, np.ndarray):
            target = np.asarray(target)
        if target.dtype.kind != "f":
            raise DTypeError(
                f"{target_name} has dtype {target.dtype}; {type(self).__name__} needs a float "
                f"{target_name}, e.g. {target_name}.astype(np.{prediction.dtype.name})"
            )
        check_same_shape(prediction, target, pred_name, target_name)
        return target.astype(prediction.dtype, copy=False)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"

    def _element_weight_for(self, x: np.ndarray):
        """torch's ``weight`` of the binary losses, in ``x``'s dtype, checked to broadcast to ``x``.

        Broadcasting must leave ``x``'s shape as it is: a weight that would enlarge the loss (a
        ``(3, 1)`` weight against a ``(3,)`` prediction) is refused, as its gradient could not
        have the prediction's shape.
        """
        if self.weight is None:
            return None
        try:
            fits = np.broadcast_shapes(self.weight.shape, x.shape) == x.shape
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(
                f"weight of shape {self.weight.shape} does not broadcast to prediction {x.shape} "
                f"(it may have fewer axes or axes of length 1, not more)"
            )
        return self.weight.astype(x.dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class MSELoss(_Loss):
    """Mean squared error, as ``torch.nn.MSELoss``.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"

    Notes
    -----
    For ``prediction ŷ`` and ``target y`` of the same (any) shape, ``ℓ_i = (ŷ_i − y_i)²`` and
    ``L = (1/n) Σ_i ℓ_i`` (mean over all ``n`` elements), ``Σ_i ℓ_i`` (sum) or ``ℓ`` (none).

    Gradient: ``∂ℓ_i/∂ŷ_i = 2 (ŷ_i − y_i)``, so ``dŷ = 2 (ŷ − y) · g``.
    """

    def forward(self, prediction: np.ndarray, target: np.ndarray):
        target = self._check_pair(prediction, target)
        diff = prediction - target
        self._cache = diff
        return self._reduce(diff * diff)

    def backward(self, grad_output=None) -> np.ndarray:
        diff = self._require_cache()
        return (2.0 * diff * self._upstream(grad_output, diff.shape)).astype(diff.dtype, copy=False)


class MaskedMSELoss(_Loss):
    """Mean squared error over the observed entries only: ``NaN`` in the target means "not observed".

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"

    Notes
    -----
    For ``prediction ŷ`` and ``target y`` of the same (any) shape, let ``O`` be the set of entries
    where ``y`` is not NaN (the observed ratings of a partly observed rating matrix, e.g. AutoRec's
    input rows). Then ``ℓ_i = (ŷ_i − y_i)²`` for ``i ∈ O`` and ``ℓ_i = 0`` elsewhere, and
    ``L = (1/|O|) Σ_{i∈O} ℓ_i`` (mean over the **observed** entries; NaN when none is observed, as
    torch's mean of nothing), ``Σ_{i∈O} ℓ_i`` (sum) or ``ℓ`` (none, zeros at unobserved entries).

    Gradient: ``∂ℓ_i/∂ŷ_i = 2 (ŷ_i − y_i)`` on ``O`` and ``0`` elsewhere, so
    ``dŷ = 2 (ŷ − y) ⊙ 1[i ∈ O] · g`` (``g = grad_output / |O|`` for the mean).
    With no NaN in the target it equals :class:`MSELoss`. The prediction must be finite where the
    target is unobserved too (an infinite prediction there would be a bug upstream).
    """

    def forward(self, prediction: np.ndarray, target: np.ndarray):
        target = self._check_pair(prediction, target)
        observed = ~np.isnan(target)
        diff = np.where(observed, prediction - target, 0).astype(prediction.dtype, copy=False)  # 0 off O
        self._cache = (diff, int(observed.sum()))
        return self._reduce(diff * diff, count=self._cache[1])

    def backward(self, grad_output=None) -> np.ndarray:
        diff, count = self._require_cache()
        g = self._upstream(grad_output, diff.shape, count=count)
        return (2.0 * diff * g).astype(diff.dtype, copy=False)


def _as_weight(weight, name: str, what: str = "weight"):
    """A loss's optional weight array (``weight`` or ``pos_weight``) as float64, finite and >= 0.

    torch accepts negative and NaN weights; they make the loss unbounded below or NaN, so tinyrec
    refuses them.
    """
    if weight is None:
        return None
    if isinstance(weight, str):
        # the first positional argument is weight (as in torch): a string there is a reduction
        raise TypeError(
            f"{name}'s {what} must be an array of numbers, got {weight!r}; a reduction is passed by "
            f"keyword: {name}(reduction={weight!r})"
        )
    try:
        weight = np.asarray(weight, dtype=np.float64)
    except (TypeError, ValueError):  # ragged lists, text, objects
        raise ArgumentTypeError(
            f"{name}'s {what} must be a number or a rectangular array of numbers, got {weight!r}"
        ) from None
    if not np.all(np.isfinite(weight)):
        raise DataError(f"{name} {what} must be finite, got {weight.tolist()}")
    if np.any(weight < 0):
        raise DataError(
            f"{name} {what} must be >= 0 (a negative weight rewards errors), got {weight.tolist()}"
        )
    return weight


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities, as ``torch.nn.BCELoss``.

    Parameters
    ----------
    weight : array, optional
        A rescaling weight ``w_i >= 0`` of each element's loss, broadcast against the prediction,
        as torch's ``weight`` (e.g. ``(n_outputs,)`` for ``(batch, n_outputs)``); torch also
        accepts negative weights, tinyrec refuses them.
    reduction : {"mean", "sum", "none"}, default "mean"

    Notes
    -----
    For probabilities ``p ∈ [0, 1]`` and targets ``y ∈ [0, 1]`` of the same shape,

        ℓ_i = −[ y_i · max(log p_i, −100) + (1 − y_i) · max(log(1 − p_i), −100) ]

    (the logs are clamped at −100 as torch does, so ``p = 0`` or ``1`` gives a finite loss), times
    ``w_i`` when ``weight`` is given; the mean divides by the number of elements either way.

    Gradient, exactly as torch computes it: ``∂ℓ_i/∂p_i = w_i (p_i − y_i) / max(p_i (1 − p_i), ε)``
    with ``ε`` = 1e-12 rounded to float32 (torch's constant is a C ``float``).
    Prefer :class:`BCEWithLogitsLoss` on raw scores: it is exact where this one saturates.
    """

    _EPS = float(np.float32(1e-12))  # 9.99999996e-13, as torch

    def __init__(self, weight=None, *, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.weight = _as_weight(weight, "BCELoss")

    def forward(self, prediction: np.ndarray, target: np.ndarray):
        target = self._check_pair(prediction, target)
        for name, arr in (("prediction", prediction), ("target", target)):
            if arr.size and not (arr.min() >= 0 and arr.max() <= 1):  # also rejects NaN
                raise DataError(
                    f"BCELoss {name} must lie in [0, 1]; got values in [{arr.min()}, {arr.max()}]"
                    + ("; pass raw scores to BCEWithLogitsLoss instead" if name == "prediction" else "")
                )
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(prediction), -100)
            log_1mp = np.maximum(np.log1p(-prediction), -100)
        losses = -(target * log_p + (1 - target) * log_1mp)
        w = self._element_weight_for(prediction)
        self._cache = (prediction, target, w)
        return self._reduce(losses if w is None else losses * w)

    def backward(self, grad_output=None) -> np.ndarray:
        p, y, w = self._require_cache()
        dp = (p - y) / np.maximum(p * (1 - p), self._EPS)
        if w is not None:
            dp = dp * w
        return (dp * self._upstream(grad_output, p.shape)).astype(p.dtype, copy=False)

    def extra_repr(self) -> str:
        weight = "" if self.weight is None else f", weight={self.weight.tolist()}"
        return super().extra_repr() + weight


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable step, as ``torch.nn.BCEWithLogitsLoss``.

    Parameters
    ----------
    weight : array, optional
        A rescaling weight ``w_i >= 0`` of each element's loss, broadcast against the prediction,
        as torch's ``weight``; the mean still divides by the number of elements.
    reduction : {"mean", "sum", "none"}, default "mean"
    pos_weight : array or float, optional
        Weight ``w⁺ >= 0`` of the positive term, broadcast against the last axis as in torch
        (``pos_weight : (n_outputs,)`` for ``prediction : (batch, n_outputs)``). torch also
        accepts negative or NaN weights (``weight`` and ``pos_weight``); tinyrec refuses them.

    Notes
    -----
    For logits ``x`` and targets ``y ∈ [0, 1]`` of the same shape, with ``σ`` the sigmoid,

        ℓ_i = −[ w⁺ y_i log σ(x_i) + (1 − y_i) log(1 − σ(x_i)) ]
            = (1 − y_i) x_i − (1 + (w⁺ − 1) y_i) · log σ(x_i),

    using ``log(1 − σ(x)) = log σ(x) − x``; ``log σ(x) = min(x, 0) − log(1 + e^{−|x|})`` never
    overflows, so logits of ±1e4 give finite losses and gradients. Without ``pos_weight``
    (``w⁺ = 1``) this is ``ℓ_i = max(x_i, 0) − x_i y_i + log(1 + e^{−|x_i|})``.

    Gradient: ``∂ℓ_i/∂x_i = σ(x_i) (1 + (w⁺ − 1) y_i) − w⁺ y_i``, which is ``σ(x_i) − y_i`` when
    ``w⁺ = 1``. With ``weight``, both ``ℓ_i`` and its gradient are multiplied by ``w_i``.
    """

    def __init__(self, weight=None, *, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction=reduction)
        self.weight = _as_weight(weight, "BCEWithLogitsLoss")
        self.pos_weight = _as_weight(pos_weight, "BCEWithLogitsLoss", "pos_weight")

    def forward(self, prediction: np.ndarray, target: np.ndarray):
        target = self._check_pair(prediction, target)
        if target.size and not (target.min() >= 0 and target.max() <= 1):
            raise DataError(
                f"BCEWithLogitsLoss target must lie in [0, 1]; got values in [{target.min()}, {target.max()}]"
            )
        x, y = prediction, target
        if self.pos_weight is None:
            losses = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
        else:
            w = self._pos_weight_for(x)
            losses = (1 - y) * x - (1 + (w - 1) * y) * _log_sigmoid(x)
        element_weight = self._element_weight_for(x)
        if element_weight is not None:
            losses = losses * element_weight
        self._cache = (x, y, element_weight)
        return self._reduce(losses.astype(x.dtype, copy=False))

    def backward(self, grad_output=None) -> np.ndarray:
        x, y, element_weight = self._require_cache()
        s = _sigmoid(x)
        if self.pos_weight is None:
            dx = s - y
        else:
            w = self._pos_weight_for(x)
            dx = s * (1 + (w - 1) * y) - w * y
        if element_weight is not None:
            dx = dx * element_weight
        return (dx * self._upstream(grad_output, x.shape)).astype(x.dtype, copy=False)

    def _pos_weight_for(self, x: np.ndarray) -> np.ndarray:
        w = self.pos_weight.astype(x.dtype)
        try:
            np.broadcast_shapes(w.shape, x.shape)
        except ValueError as exc:
            raise ShapeError(
                f"pos_weight of shape {w.shape} does not broadcast to prediction {x.shape}"
            ) from exc
        return w

    def extra_repr(self) -> str:
        weight = "" if self.weight is None else f", weight={self.weight.tolist()}"
        pw = "" if self.pos_weight is None else f", pos_weight={self.pos_weight.tolist()}"
        return super().extra_repr() + weight + pw


class CrossEntropyLoss(_Loss):
    """Softmax + negative log-likelihood over classes, as ``torch.nn.CrossEntropyLoss``.

    Parameters
    ----------
    weight : array (C,), optional
        A weight ``w_c >= 0`` per class (default all ones), as torch's ``weight`` (torch also
        accepts negative weights; tinyrec refuses them).
    ignore_index : int, default -100
        Samples whose class index equals it contribute neither loss nor gradient, and the mean
        is taken over the other samples (class-index targets only). When every sample is
        ignored, the mean is NaN (0/0) and the gradient is zero, as in torch. An int: ``1.7``
        is refused, not rounded.
    reduction : {"mean", "sum", "none"}, default "mean"
    label_smoothing : float in [0, 1], default 0.0
        The target becomes ``(1 − ε) · target + ε / C``.

    Notes
    -----
    ``prediction : (N, C)`` raw logits (or ``(C,)`` for one sample, or ``(N, C, d1, …, dK)``:
    a class distribution at every position, e.g. the next item at each step of a sequence);
    ``target`` is either class indices ``(N,)`` / ``(N, d1, …, dK)`` of an integer dtype, or class
    probabilities of the prediction's shape and a float dtype (finite and >= 0; the rows need not
    sum to 1, as in torch). Every position counts as a sample below (torch's K-dimensional case);
    ``reduction="none"`` returns ``(N, d1, …, dK)``.
    With ``log p_nc = x_nc − log Σ_k exp(x_nk)`` (computed after subtracting the row maximum, so
    it never overflows) and ``t_nc`` the (smoothed) target distribution (one-hot for indices),

        ℓ_n = −Σ_c w_c t_nc log p_nc.

    The mean divides by ``Σ_n w_{y_n}`` over the non-ignored samples for class indices (their
    number when unweighted), by the number of samples (``N · d1 ⋯ dK``) for probability targets,
    as torch does.

    Gradient: with ``τ_nc = w_c t_nc``, ``∂ℓ_n/∂x_nc = p_nc Σ_k τ_nk − τ_nc`` (``= p_nc − t_nc``
    when unweighted and ``t_n`` sums to 1), and zero for ignored samples.
    """

    def __init__(
        self, weight=None, *, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0
    ):
        super().__init__(reduction=reduction)
        self.label_smoothing = check_in_range(label_smoothing, "label_smoothing", 0.0, 1.0)
        self.ignore_index = check_int(ignore_index, "ignore_index")
        self.weight = _as_weight(weight, "CrossEntropyLoss")
        if self.weight is not None and self.weight.ndim != 1:
            raise ShapeError(
                f"weight must be a 1-D array of one weight per class, got shape {self.weight.shape}"
            )

    def forward(self, prediction: np.ndarray, target: np.ndarray):
        check_float_array(prediction, "prediction")
        target = np.asarray(target)
        if prediction.ndim == 0:
            raise ShapeError("prediction must be (C,), (N, C) or (N, C, d1, ...) logits, got a scalar")
        unbatched = prediction.ndim == 1
        c = prediction.shape[0] if unbatched else prediction.shape[1]
        if c == 0:
            raise ShapeError(f"prediction {prediction.shape} has no classes (C = 0); it needs C >= 1 logits")
        loss_shape = () if unbatched else (prediction.shape[0], *prediction.shape[2:])  # (N, d1, …)
        # (M, C), M = N · d1 ⋯ dK: the class axis last, one row per sample
        x = prediction.reshape(1, c) if unbatched else np.moveaxis(prediction, 1, -1).reshape(-1, c)
        n = x.shape[0]
        eps = self.label_smoothing
        w = np.ones(c, dtype=x.dtype) if self.weight is None else self.weight.astype(x.dtype)
        if w.shape != (c,):
            raise ShapeError(f"weight has {w.shape[0]} entries but prediction has {c} classes")
        if target.dtype.kind in "iu":
            if target.shape != loss_shape:
                raise ShapeError(
                    f"class-index target must have shape {loss_shape} for prediction {prediction.shape}, "
                    f"got {target.shape}"
                )
            idx = target.reshape(n)
            keep = idx != self.ignore_index  # (M,)
            check_index_array(idx[keep], "target class index", c)
            t = np.zeros_like(x)  # (M, C): the smoothed one-hot rows, zero for ignored samples
            t[np.flatnonzero(keep), idx[keep]] = 1.0 - eps
            t[keep] += eps / c
            count = float(w[idx[keep]].sum())  # Σ w_{y_n} over kept samples
            if self.reduction == "mean" and not keep.any():
                count = None  # every sample ignored: loss 0/0 = NaN, gradient 0 (torch)
        elif target.dtype.kind == "f":
            check_same_shape(prediction, target, "prediction", "target (class probabilities)")
            if not (np.isfinite(target).all() and (target >= 0).all()):  # rows need not sum to 1 (torch)
                raise DataError(
                    f"CrossEntropyLoss class-probability target must be finite and >= 0, got values in "
                    f"[{target.min()}, {target.max()}]; pass probabilities, or class indices as ints"
                )
            probs = target.reshape(1, c) if unbatched else np.moveaxis(target, 1, -1).reshape(-1, c)
            t = probs.astype(x.dtype) * (1.0 - eps) + eps / c
            count = float(n)
        else:
            raise DTypeError(
                f"target has dtype {target.dtype}; give class indices (int64) or class probabilities (float)"
            )
        t = t * w  # (M, C) * (C,): τ_nc = w_c t_nc
        log_p = _log_softmax(x)
        losses = -(t * log_p).sum(axis=1)  # (M,)
        self._cache = (log_p, t, count, prediction.shape, loss_shape)
        if count is None:
            return float("nan")
        return self._reduce(losses.reshape(loss_shape), count=count)

    def backward(self, grad_output=None) -> np.ndarray:
        log_p, t, count, shape, loss_shape = self._require_cache()
        # every sample ignored: t is all zero, so any finite g gives the zero gradient
        g = 0.0 if count is None else self._upstream(grad_output, loss_shape, count=count)
        g = np.reshape(g, (-1, 1)) if np.ndim(g) else g  # (M, 1): one factor per sample
        dx = (np.exp(log_p) * t.sum(axis=1, keepdims=True) - t) * g  # (M, C)
        if len(shape) <= 2:
            return dx.reshape(shape).astype(log_p.dtype, copy=False)
        # (M, C) -> (N, d1, …, dK, C) -> (N, C, d1, …, dK)
        dx = np.moveaxis(dx.reshape(shape[0], *shape[2:], shape[1]), -1, 1)
        return np.ascontiguousarray(dx, dtype=log_p.dtype)

    def extra_repr(self) -> str:
        smoothing = f"label_smoothing={self.label_smoothing}"
        weight = "" if self.weight is None else f", weight={self.weight.tolist()}"
        return f"{super().extra_repr()}, ignore_index={self.ignore_index}, {smoothing}{weight}"


class BPRLoss(_Loss):
    """Bayesian Personalized Ranking loss: a positive item should outscore a negative one.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"

    Notes
    -----
    ``forward(pos_scores, neg_scores)`` with both arrays of the same shape (e.g. ``(batch,)``:
    the score ``ŷ_ui`` of an observed item and ``ŷ_uj`` of a sampled one). With ``d = ŷ_ui − ŷ_uj``,

        ℓ = −log σ(d) = log(1 + e^{−d}),

    computed as ``−(min(d, 0) − log(1 + e^{−|d|}))`` so that it is finite for any finite ``d``
    (Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI 2009).

    Gradient: ``∂ℓ/∂d = −σ(−d)``, so ``backward()`` returns the pair
    ``(d_pos, d_neg) = (−σ(−d) · g, σ(−d) · g)``.
    """

    differentiable_target = True  # both arguments are scores: gradcheck checks both gradients

    def forward(self, pos_scores: np.ndarray, neg_scores: np.ndarray):
        check_float_array(pos_scores, "pos_scores")
        check_float_array(neg_scores, "neg_scores")
        check_same_shape(pos_scores, neg_scores, "pos_scores", "neg_scores")
        d = pos_scores - neg_scores.astype(pos_scores.dtype, copy=False)
        self._cache = d
        return self._reduce(-_log_sigmoid(d))

    def backward(self, grad_output=None) -> tuple[np.ndarray, np.ndarray]:
        d = self._require_cache()
        dneg = (_sigmoid(-d) * self._upstream(grad_output, d.shape)).astype(d.dtype, copy=False)
        return -dneg, dneg


__all__ = ["BCELoss", "BCEWithLogitsLoss", "BPRLoss", "CrossEntropyLoss", "MSELoss", "MaskedMSELoss"]
