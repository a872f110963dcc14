"""tinyrec: a from-scratch NumPy + Numba framework for learning, teaching and checking
neural recommender systems.

Every layer has an explicit ``forward`` and ``backward``; every gradient is checked numerically.

Subpackages:

* :mod:`tinyrec.nn` — layers (``Linear``, ``Embedding``, ``GRU``, ``MultiheadAttention``, ...);
* :mod:`tinyrec.losses`, :mod:`tinyrec.optim` — losses and optimizers (dense and lazy row-sparse);
* :mod:`tinyrec.gradcheck` — central-difference gradient checks;
* :mod:`tinyrec.train` — the training loop of a network (:mod:`tinyrec.progress`: its progress lines);
* :mod:`tinyrec.data` — ``Interactions``, loaders, preprocessing, splits, negative sampling;
* :mod:`tinyrec.metrics`, :mod:`tinyrec.evaluation` — reference metrics and protocols;
* :mod:`tinyrec.models` — recommenders and their training loops;
* :func:`tinyrec.save` / :func:`tinyrec.load` — a fitted model, or a layer of :mod:`tinyrec.nn` (its
  arguments and ``state_dict``), to and from a file (no pickle);
* :mod:`tinyrec.testing` — tinyrec as a reference: ``check_layer`` (the layer contract in one call),
  ``compare_with_torch``, and golden vectors for another library's tests (``tinyrec reference``).
"""

from . import (
    data,
    errors,
    evaluation,
    gradcheck,
    io,
    losses,
    metrics,
    models,
    nn,
    optim,
    testing,
    train,
)
from .data import Interactions
from .evaluation import evaluate
from .io import load, save
from .version import __version__

__all__ = [
    "Interactions",
    "__version__",
    "data",
    "errors",
    "evaluate",
    "evaluation",
    "gradcheck",
    "io",
    "load",
    "losses",
    "metrics",
    "models",
    "nn",
    "optim",
    "save",
    "testing",
    "train",
]
