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
    the score ``ŷ_ui`` of an observed item and ``ŷ_uj`` of a sampled one). With
    ``x_uij = ŷ_ui − ŷ_uj``,

        ℓ = −log σ(x_uij) = log(1 + e^{−x_uij}),

    computed as ``−(min(x_uij, 0) − log(1 + e^{−|x_uij|}))`` so that it is finite for any finite
    ``x_uij`` (Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI
    2009).

    Gradient: ``∂ℓ/∂x_uij = −σ(−x_uij)``, so ``backward()`` returns the pair
    ``(d_pos, d_neg) = (−σ(−x_uij) · g, σ(−x_uij) · g)``.
    """

    input_spec = (Scores("pos_scores"), Target("neg_scores", scores=True))
    differentiable_target = True  # both arguments are scores: gradcheck checks both gradients

    def forward(self, pos_scores: np.ndarray, neg_scores: np.ndarray):
        self._d = pos_scores - neg_scores
        return self._reduce(-_log_sigmoid(self._d))

    def backward(self, grad_output=None) -> tuple[np.ndarray, np.ndarray]:
        dneg = _sigmoid(-self._d) * self._upstream(grad_output)
        return -dneg, dneg
