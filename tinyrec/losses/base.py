"""``Loss``: the reduction, the chain rule through it, and the two checked doors of every loss.

A loss writes ``forward(prediction, target)``, which returns ``self._reduce(ℓ)`` for its
per-element losses ``ℓ``, and ``backward(grad_output)``, which returns ``dprediction`` (a pair for
two score arrays). Neither checks anything:

* ``loss(prediction, target)`` (:meth:`Loss.__call__`) checks the inputs against the loss's
  declared ``input_spec`` (:mod:`tinyrec.losses.checks`), then runs ``forward``;
* ``backward`` is wrapped once, when a subclass is defined (:meth:`Loss.__init_subclass__`): the
  wrapper raises :class:`~tinyrec.errors.BackwardBeforeForwardError` before any ``forward``, hands
  the body ``grad_output`` as a float (mean, sum; None means 1.0) or an array of the loss shape
  (none), and returns the gradient in the prediction's dtype.
"""

from __future__ import annotations

import functools

import numpy as np

from .checks import Scores, Target, check_grad_output, check_inputs, check_reduction


class Loss:
    """Base class of the losses: ``reduction`` and the ``grad_output`` of the chain rule.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"

    Notes
    -----
    ``forward`` reduces the per-element losses ``ℓ_n`` to ``ℒ = (1/count) Σ_n ℓ_n`` (mean over the
    ``count`` elements, or another count a loss gives :meth:`_reduce`), ``Σ_n ℓ_n`` (sum) or ``ℓ``
    (none). ``backward`` receives ``grad_output``, the gradient of the final objective with
    respect to that value, and by the chain rule ``dprediction_n = g_n · ∂ℓ_n/∂prediction_n`` with
    ``g_n = grad_output / count`` (mean), ``grad_output`` (sum) or ``grad_output_n`` (none):
    :meth:`_upstream`.
    """

    #: What ``__call__`` checks before ``forward``; see :mod:`tinyrec.losses.checks`.
    input_spec: tuple = (Scores("prediction"), Target("target"))
    #: True when ``backward`` returns a gradient for both inputs (BPRLoss): gradcheck checks both.
    differentiable_target = False

    def __init__(self, *, reduction: str = "mean"):
        self.reduction = check_reduction(reduction)

    def __call__(self, *inputs, **named):
        """Check the inputs against ``input_spec``, then run ``forward``."""
        return self.forward(*check_inputs(self, inputs, named))

    def forward(self, prediction: np.ndarray, target: np.ndarray):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, grad_output=None):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __init_subclass__(cls, **kwargs):
        """Wrap the ``forward`` and ``backward`` a subclass defines (see the module docstring)."""
        super().__init_subclass__(**kwargs)
        if "forward" in vars(cls):
            cls.forward = _remember_output(vars(cls)["forward"])
        if "backward" in vars(cls):
            cls.backward = _checked_backward(vars(cls)["backward"])

    # -- the reduction and the chain rule through it ------------------------------------------
    def _reduce(self, losses: np.ndarray, count: float | None = None):
        """Apply the reduction to per-element ``losses``; ``count`` overrides their number for the mean."""
        self._count = losses.size if count is None else count
        if self.reduction == "none":
            return losses
        total = losses.sum(dtype=np.float64)
        if self.reduction == "sum":
            return float(total)
        return float(total / self._count) if self._count else float("nan")

    def _upstream(self, grad_output):
        """``g``: ``grad_output / count`` for the mean (NaN when ``count = 0``), ``grad_output`` otherwise."""
        if self.reduction != "mean":
            return grad_output
        return grad_output / self._count if self._count else float("nan")

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


def _remember_output(forward):
    """``forward``, keeping the shape of the value and the dtype of the prediction for ``backward``."""

    @functools.wraps(forward)
    def remembering_forward(self, *inputs):
        value = forward(self, *inputs)
        self._output_shape, self._dtype = np.shape(value), inputs[0].dtype
        return value

    return remembering_forward


def _checked_backward(backward):
    """``backward``, with ``grad_output`` checked first and the gradient cast to the prediction's dtype."""

    @functools.wraps(backward)
    def checked_backward(self, grad_output=None):
        grad = backward(self, check_grad_output(self, grad_output, self.__dict__.get("_output_shape")))
        if isinstance(grad, tuple):
            return tuple(g.astype(self._dtype, copy=False) for g in grad)
        return grad.astype(self._dtype, copy=False)

    return checked_backward
