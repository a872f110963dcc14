"""tinyrec.nn: layers with explicit forward and backward passes.

Each layer lives in its own module; the docstring of each states its forward formula and
every gradient. See :mod:`tinyrec.nn.module` for the contract they all follow.
"""

from . import init
from .activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention, causal_mask
from .conv import Conv1d, Conv2d
from .dropout import Dropout
from .embedding import Embedding
from .embedding_bag import EmbeddingBag
from .linear import Linear
from .merge import Concat, Dot, Multiply
from .module import Module, Parameter, RowGrad, Sequential
from .norm import BatchNorm1d, LayerNorm
from .pool import AdaptiveMaxPool1d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .recurrent import GRU, LSTM, RNN
from .reshape import Flatten, Identity
from .transformer import PositionalEmbedding, TransformerBlock

__all__ = [
    "Module",
    "Parameter",
    "RowGrad",
    "Sequential",
    "init",
    # core layers
    "Concat",
    "Dot",
    "Dropout",
    "Embedding",
    "EmbeddingBag",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "Multiply",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    # normalization, convolution, pooling
    "AdaptiveMaxPool1d",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm1d",
    "Conv1d",
    "Conv2d",
    "LayerNorm",
    "MaxPool1d",
    "MaxPool2d",
    # sequence layers
    "GRU",
    "LSTM",
    "MultiheadAttention",
    "PositionalEmbedding",
    "RNN",
    "TransformerBlock",
    "causal_mask",
]
