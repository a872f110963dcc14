"""The core layers (Linear, Embedding, activations, Dropout, Identity/Flatten, merges) in the contract."""

from __future__ import annotations

import numpy as np

from tests.nn.contract import LayerCase, build, randn
from tinyrec import nn


def _one(shape):
    """Inputs of one float array of ``shape``."""
    return lambda dtype, rng: (randn(rng, *shape, dtype=dtype),)


_build = build


def _eval_dropout(dtype, seed):
    return nn.Dropout(0.5, seed=seed).eval()


CASES = [
    LayerCase("Linear", _build(nn.Linear, 4, 3), _one((5, 4))),
    LayerCase("Linear-3d-nobias", _build(nn.Linear, 4, 3, bias=False), _one((2, 5, 4))),
    LayerCase(
        "Embedding",
        _build(nn.Embedding, 7, 3),
        lambda dtype, rng: (rng.integers(0, 7, size=(4, 5)),),  # 20 ids from 7 rows: repeats
    ),
    LayerCase(
        "Embedding-padding",
        _build(nn.Embedding, 7, 3, padding_idx=0),
        lambda dtype, rng: (np.array([[0, 1, 1], [2, 0, 6]]),),
        gradcheck_inputs=lambda dtype, rng: (np.array([[3, 1, 1], [2, 5, 6]]),),  # the padding row: none
    ),
    LayerCase("ReLU", _build(nn.ReLU), _one((4, 3))),
    LayerCase("LeakyReLU", _build(nn.LeakyReLU, 0.1), _one((4, 3))),
    LayerCase("Sigmoid", _build(nn.Sigmoid), _one((4, 3))),
    LayerCase("Tanh", _build(nn.Tanh), _one((4, 3))),
    LayerCase("Softmax", _build(nn.Softmax), _one((4, 3))),
    LayerCase("Softmax-dim0", _build(nn.Softmax, 0), _one((4, 3, 2))),
    LayerCase("LogSoftmax", _build(nn.LogSoftmax), _one((4, 3))),
    LayerCase("Dropout", _build(nn.Dropout, 0.3), _one((6, 5))),
    LayerCase("Dropout-eval", _eval_dropout, _one((6, 5))),
    LayerCase("Identity", _build(nn.Identity), _one((4, 3))),
    LayerCase("Flatten", _build(nn.Flatten), _one((2, 3, 4))),
    LayerCase(
        "Concat",
        _build(nn.Concat),
        lambda dtype, rng: (randn(rng, 4, 2, dtype=dtype), randn(rng, 4, 3, dtype=dtype)),
    ),
    LayerCase(
        "Multiply",
        _build(nn.Multiply),
        lambda dtype, rng: (randn(rng, 4, 3, dtype=dtype), randn(rng, 4, 3, dtype=dtype)),
    ),
    LayerCase(
        "Dot",
        _build(nn.Dot),
        lambda dtype, rng: (randn(rng, 4, 3, dtype=dtype), randn(rng, 4, 3, dtype=dtype)),
    ),
]
