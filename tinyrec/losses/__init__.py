"""Loss functions with explicit ``forward`` and ``backward``, numerically equal to ``torch.nn``'s.

Every loss is a small object:

* ``loss(prediction, target)`` checks the inputs once (:mod:`tinyrec.losses.checks`), then runs
  ``forward``, which computes the per-element losses ``ℓ_n``, caches what the gradient needs,
  and returns the reduced value: a Python float for ``reduction="mean"`` (``ℒ = mean_n ℓ_n``)
  or ``"sum"`` (``ℒ = Σ_n ℓ_n``), the array ``ℓ`` for ``"none"``. ``loss.forward(...)`` called
  directly skips the checks;
* ``backward(grad_output=None)`` returns ``dprediction`` (the gradient of the final objective with
  respect to ``prediction``, same shape). ``grad_output`` is the gradient of the final objective
  with respect to the loss value: a number (default 1.0) for mean/sum, an array of ``ℓ``'s shape
  for ``"none"``. By the chain rule ``dprediction_n = g · ∂ℓ_n/∂prediction_n`` with
  ``g = grad_output / count`` (mean, over ``count`` elements), ``grad_output`` (sum) or
  ``grad_output_n`` (none).

Losses have no parameters and do not accumulate: each ``backward`` returns a fresh array.
Options other than ``weight`` are keyword-only (``MSELoss(reduction="sum")``): torch's
constructors take ``weight`` (or deprecated arguments) first, so a positional call written for
torch would otherwise mean something else here.

Modules: :mod:`~tinyrec.losses.base` (the reduction and the checked doors),
:mod:`~tinyrec.losses.regression`, :mod:`~tinyrec.losses.binary`,
:mod:`~tinyrec.losses.classification`, :mod:`~tinyrec.losses.ranking`, and
:mod:`~tinyrec.losses.checks` (what each loss accepts).
"""

from .base import Loss
from .binary import BCELoss, BCEWithLogitsLoss
from .classification import CrossEntropyLoss
from .ranking import BPRLoss
from .regression import MaskedMSELoss, MSELoss

__all__ = ["BCELoss", "BCEWithLogitsLoss", "BPRLoss", "CrossEntropyLoss", "Loss", "MSELoss", "MaskedMSELoss"]
