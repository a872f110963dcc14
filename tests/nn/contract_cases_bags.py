"""EmbeddingBag in the layer contract: sums, means, per-sample weights, padding, 2-D bags."""

from __future__ import annotations

import numpy as np

from tests.nn.contract import LayerCase, build
from tinyrec import nn

# 9 ids in 4 bags, the third empty: [1, 2, 2], [0, 6], [], [5, 1, 3, 1]
IDS = np.array([1, 2, 2, 0, 6, 5, 1, 3, 1])
OFFSETS = np.array([0, 3, 5, 5])


def _weights(dtype, rng):
    return (IDS, OFFSETS, rng.standard_normal(len(IDS)).astype(dtype))


CASES = [
    LayerCase("EmbeddingBag-mean", build(nn.EmbeddingBag, 7, 3), lambda dtype, rng: (IDS, OFFSETS)),
    LayerCase("EmbeddingBag-sum-weighted", build(nn.EmbeddingBag, 7, 3, mode="sum"), _weights),
    LayerCase(
        "EmbeddingBag-2d-padding",
        build(nn.EmbeddingBag, 7, 3, padding_idx=0),
        lambda dtype, rng: (np.array([[0, 1, 1], [2, 0, 6]]),),
        gradcheck_inputs=lambda dtype, rng: (np.array([[3, 1, 1], [2, 5, 6]]),),  # the padding row: none
    ),
    LayerCase(
        "EmbeddingBag-last-offset",
        build(nn.EmbeddingBag, 7, 3, mode="sum", include_last_offset=True),
        lambda dtype, rng: (IDS, np.array([0, 3, 5, 5, 9]), rng.standard_normal(len(IDS)).astype(dtype)),
    ),
]
