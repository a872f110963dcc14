"""Normalization, convolution and pooling layers registered in the layer contract."""

from __future__ import annotations

from tests.nn.contract import LayerCase, randn
from tinyrec.nn.conv import Conv1d, Conv2d
from tinyrec.nn.norm import BatchNorm1d, LayerNorm
from tinyrec.nn.pool import AdaptiveMaxPool1d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d

CASES = [
    LayerCase(
        "Conv1d",
        lambda dtype, seed: Conv1d(3, 4, 3, dtype=dtype, seed=seed),
        lambda dtype, rng: (randn(rng, 2, 3, 7, dtype=dtype),),
    ),
    LayerCase(
        "Conv1d-strided-padded-dilated-nobias",
        lambda dtype, seed: Conv1d(
            3, 2, 2, stride=2, padding=1, dilation=2, bias=False, dtype=dtype, seed=seed
        ),
        lambda dtype, rng: (randn(rng, 2, 3, 8, dtype=dtype),),
    ),
    LayerCase(
        "Conv1d-unbatched",
        lambda dtype, seed: Conv1d(2, 3, 2, dtype=dtype, seed=seed),
        lambda dtype, rng: (randn(rng, 2, 5, dtype=dtype),),
    ),
    LayerCase(
        "Conv2d",
        lambda dtype, seed: Conv2d(2, 3, (3, 2), stride=(1, 2), padding=1, dtype=dtype, seed=seed),
        lambda dtype, rng: (randn(rng, 2, 2, 5, 4, dtype=dtype),),
    ),
    LayerCase(
        "MaxPool1d",
        lambda dtype, seed: MaxPool1d(3, stride=2, padding=1),
        lambda dtype, rng: (randn(rng, 2, 3, 7, dtype=dtype),),
    ),
    LayerCase(
        "MaxPool2d",
        lambda dtype, seed: MaxPool2d(2),
        lambda dtype, rng: (randn(rng, 2, 3, 4, 5, dtype=dtype),),
    ),
    LayerCase(
        "AvgPool1d",
        lambda dtype, seed: AvgPool1d(
            3, stride=1, padding=1, count_include_pad=False
        ),
        lambda dtype, rng: (randn(rng, 2, 3, 6, dtype=dtype),),
    ),
    LayerCase(
        "AvgPool2d",
        lambda dtype, seed: AvgPool2d((2, 3), stride=1),
        lambda dtype, rng: (randn(rng, 2, 2, 4, 4, dtype=dtype),),
    ),
    LayerCase(
        "AdaptiveMaxPool1d",
        lambda dtype, seed: AdaptiveMaxPool1d(3),
        lambda dtype, rng: (randn(rng, 2, 3, 7, dtype=dtype),),
    ),
    LayerCase(
        "LayerNorm",
        lambda dtype, seed: LayerNorm(5, dtype=dtype, seed=seed),
        lambda dtype, rng: (randn(rng, 2, 3, 5, dtype=dtype),),
    ),
    LayerCase(
        "BatchNorm1d-train-NCL",
        lambda dtype, seed: BatchNorm1d(3, dtype=dtype, seed=seed),
        lambda dtype, rng: (randn(rng, 4, 3, 5, dtype=dtype),),
    ),
    LayerCase(
        "BatchNorm1d-eval-NC",
        lambda dtype, seed: BatchNorm1d(3, dtype=dtype, seed=seed).eval(),
        lambda dtype, rng: (randn(rng, 4, 3, dtype=dtype),),
    ),
]
