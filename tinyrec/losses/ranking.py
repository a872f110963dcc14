"""Pairwise ranking: :class:`BPRLoss`, a positive item should outscore a sampled negative one."""

from __future__ import annotations

import numpy as np

from .base import Loss
from .binary import _log_sigmoid, _sigmoid
from .checks import Scores, Target


class BPRLoss(Loss):
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

    input_spec = (Scores("pos_scores"), Target("neg_scores", scores=True))
    differentiable_target = True  # both arguments are scores: gradcheck checks both gradients

    def forward(self, pos_scores: np.ndarray, neg_scores: np.ndarray):
        self._d = pos_scores - neg_scores
        return self._reduce(-_log_sigmoid(self._d))

    def backward(self, grad_output=None) -> tuple[np.ndarray, np.ndarray]:
        dneg = _sigmoid(-self._d) * self._upstream(grad_output)
        return -dneg, dneg
