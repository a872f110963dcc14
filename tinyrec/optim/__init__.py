"""tinyrec.optim: optimizers with torch semantics, dense and lazy row-sparse.

``SGD``, ``Adam``, ``AdamW``, ``Adagrad`` take an iterable of Parameters (``model.parameters()``)
or of parameter groups (``[{"params": ..., "lr": ...}, ...]``, torch's form), and have ``step()``,
``zero_grad()``, ``param_groups``, ``add_param_group()``, ``state_dict()`` / ``load_state_dict()``.
A parameter whose ``.grad`` is a :class:`~tinyrec.nn.module.RowGrad` (an embedding table) is
updated lazily: only its present rows, by a Numba kernel (:mod:`tinyrec.kernels.optim`).
"""

from .adagrad import Adagrad
from .adam import Adam, AdamW
from .base import Optimizer
from .clip import clip_grad_norm_
from .sgd import SGD
from .spec import SparseGradientError

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "SparseGradientError", "clip_grad_norm_"]
