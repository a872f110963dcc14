"""The pieces of a SASRec-style sequence encoder: learned positions and a transformer block."""

from __future__ import annotations

import numbers

import numpy as np

from ..validation import as_generator, check_bool, check_positive_int, resolve_dtype
from . import init
from .activation import ReLU
from .attention import MultiheadAttention, causal_mask
from .dropout import Dropout
from .linear import Linear
from .module import Module, Parameter, RowGrad
from .norm import LayerNorm
from .spec import Floats, call_arguments, check_mask, require


class PositionalEmbedding(Module):
    """A learned vector per position ``0 .. max_len − 1`` (SASRec, BERT4Rec).

    Parameters
    ----------
    max_len : int
        The longest sequence the table covers.
    dim : int
        Size of each position vector (the model dimension).
    dtype : float32 (default) or float64
    seed : int or np.random.Generator
        ``weight`` starts as N(0, 1), like ``torch.nn.Embedding``.

    Attributes
    ----------
    weight : (max_len, dim)

    Notes
    -----
    Two forms of ``forward``:

    * ``forward(x)`` with ``x : (N, L, dim)``: ``Y[n, t] = x[n, t] + W[t]``; then
      ``dx = dY`` and ``dW[t] = Σ_n dY[n, t]`` for ``t < L``.
    * ``forward(L)`` with an int: ``Y = W[:L]`` ``(L, dim)``; then ``dW[t] = dY[t]`` and
      ``backward`` returns None (an int has no gradient).

    ``dW`` is a :class:`RowGrad` of rows ``0 .. L − 1`` (rows past ``L`` get no gradient), like an
    embedding table's.
    """

    input_spec = (Floats("x", ndim=3, last="dim"),)

    def __init__(self, max_len: int, dim: int, *, dtype=np.float32, seed=None):
        self.max_len = check_positive_int(max_len, "max_len")
        self.dim = check_positive_int(dim, "dim")
        self.dtype = resolve_dtype(dtype)
        self.weight = Parameter(
            init.normal((self.max_len, self.dim), dtype=self.dtype, seed=as_generator(seed))
        )
        self._shape = None

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, dim={self.dim}, dtype={self.dtype.name}"

    def check_inputs(self, x) -> tuple:
        """``x`` an int (a length) or floats ``(N, L, dim)``; either way ``1 <= L <= max_len``."""
        if isinstance(x, numbers.Integral) and not isinstance(x, bool):
            length = int(x)
        else:
            (x,) = super().check_inputs(x)
            length = x.shape[1]
        top = self.max_len
        require(1 <= length <= top, f"sequence length {length} is outside [1, max_len={top}]; build the "
                f"PositionalEmbedding with a larger max_len or truncate the sequences")
        return (x,)

    def forward(self, x):
        """``x : (N, L, dim)`` → ``x + W[:L]``; or an int ``L`` → ``W[:L] : (L, dim)``."""
        if isinstance(x, numbers.Integral):  # forward(L): the table's first L rows
            self._shape = (int(x), self.dim)
            return self.weight.data[: int(x)].copy()
        self._shape = x.shape
        return x + self.weight.data[: x.shape[1]]  # (N, L, dim) + (L, dim) broadcasts over the batch

    def backward(self, grad_output: np.ndarray):
        """``dW[t] = Σ_n dY[n, t]`` (a RowGrad of rows ``0 .. L − 1``); returns ``dx = dY``, or None."""
        dy, length = grad_output, self._shape[-2]
        rows = np.arange(length, dtype=np.int64)
        if len(self._shape) == 2:  # forward(L): the output is the table's first L rows
            self.weight.accumulate(RowGrad(rows, dy.copy()))
            return None
        self.weight.accumulate(RowGrad(rows, dy.sum(axis=0)))  # (L, dim): summed over the batch
        return dy.copy()


class TransformerBlock(Module):
    """Self-attention and a point-wise feed-forward network, each with a residual and a LayerNorm.

    The block of SASRec (Kang & McAuley, 2018), with the parameter names of
    ``torch.nn.TransformerEncoderLayer(batch_first=True, activation="relu")``, so that such a layer's
    ``state_dict`` loads into it.

    Parameters
    ----------
    dim : int
        Model dimension ``E``.
    num_heads : int
        Attention heads (must divide ``dim``).
    ffn_dim : int, optional
        Hidden size of the feed-forward network; defaults to ``dim`` (SASRec's choice; torch's
        default is 2048).
    dropout : float, default 0.0
        Dropout on the attention probabilities, inside the feed-forward network, and on each
        branch before its residual sum (as torch and SASRec).
        torch's default is 0.1; tinyrec's is 0 so that an untouched block is deterministic.
    causal : bool, default True
        Position ``i`` attends only to positions ``j <= i`` (next-item prediction).
    norm_first : bool, default True
        Pre-norm (SASRec's paper, section III-B: ``x + Dropout(g(LayerNorm(x)))``) when True;
        post-norm (the original Transformer: ``LayerNorm(x + Dropout(g(x)))``) when False.
        torch's default is False (post-norm); tinyrec's follows SASRec.
    dtype : float32 (default) or float64
    seed : int or np.random.Generator

    Notes
    -----
    With ``SA(a) = self_attn(a, a, a)`` (causal and padding masks applied) and
    ``FF(b) = linear2(dropout(relu(linear1(b))))``, pre-norm (``norm_first=True``)::

        h = x + dropout1(SA(norm1(x)))
        y = h + dropout2(FF(norm2(h)))

    and its backward, each ``'`` a child's ``backward``::

        dh = dy + norm2'(FF'(dropout2'(dy)))
        dx = dh + norm1'(Σ SA'(dropout1'(dh)))      (Σ: d_query + d_key + d_value)

    Post-norm (``norm_first=False``)::

        h = norm1(x + dropout1(SA(x)))          y = norm2(h + dropout2(FF(h)))
        du = norm2'(dy);  dh = du + FF'(dropout2'(du))
        dz = norm1'(dh);  dx = dz + Σ SA'(dropout1'(dz))

    Shapes: ``x``, ``y`` ``(N, L, dim)``; ``key_padding_mask : (N, L)`` bool, True at padding.
    Queries at padded positions still produce outputs (zeros from attention when every key they
    may see is padding); the model multiplies them away, as SASRec does.
    """

    input_spec = (Floats("x", ndim=3, last="dim", nonempty=True),)

    def __init__(
        self,
        dim: int,
        num_heads: int,
        ffn_dim: int | None = None,
        dropout: float = 0.0,
        causal: bool = True,
        norm_first: bool = True,
        *,
        dtype=np.float32,
        seed=None,
    ):
        self.dim = check_positive_int(dim, "dim")
        self.ffn_dim = self.dim if ffn_dim is None else check_positive_int(ffn_dim, "ffn_dim")
        self.causal = check_bool(causal, "causal")
        self.norm_first = check_bool(norm_first, "norm_first")
        self.dtype = resolve_dtype(dtype)
        rng = as_generator(seed)
        kw = {"dtype": self.dtype, "seed": rng}
        # attribute order = torch.nn.TransformerEncoderLayer's, so state_dict keys line up
        self.self_attn = MultiheadAttention(dim, num_heads, dropout=dropout, **kw)
        self.linear1 = Linear(dim, self.ffn_dim, **kw)
        self.dropout = Dropout(dropout, seed=rng)
        self.linear2 = Linear(self.ffn_dim, dim, **kw)
        self.norm1 = LayerNorm(dim, dtype=self.dtype)
        self.norm2 = LayerNorm(dim, dtype=self.dtype)
        self.dropout1 = Dropout(dropout, seed=rng)
        self.dropout2 = Dropout(dropout, seed=rng)
        self.activation = ReLU()

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, ffn_dim={self.ffn_dim}, causal={self.causal}, norm_first={self.norm_first}, "
            f"dtype={self.dtype.name}"
        )

    def check_inputs(self, *inputs, **kwargs) -> tuple:
        inputs = super().check_inputs(*inputs, **kwargs)  # x : (N, L, dim), N and L >= 1
        a = call_arguments(self, inputs, kwargs)
        if a["key_padding_mask"] is not None:
            check_mask(a["key_padding_mask"], "key_padding_mask", [a["x"].shape[:2]])
        return inputs

    def forward(self, x: np.ndarray, key_padding_mask: np.ndarray | None = None) -> np.ndarray:
        """``x : (N, L, dim)``, ``key_padding_mask : (N, L)`` bool or None → ``(N, L, dim)``."""
        if self.norm_first:
            h = x + self._sa(self.norm1.forward(x), key_padding_mask)
            y = h + self._ff(self.norm2.forward(h))
        else:
            h = self.norm1.forward(x + self._sa(x, key_padding_mask))
            y = self.norm2.forward(h + self._ff(h))
        return y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        if self.norm_first:
            dh = grad_output + self.norm2.backward(self._ff_backward(grad_output))
            return dh + self.norm1.backward(self._sa_backward(dh))
        du = self.norm2.backward(grad_output)
        dh = du + self._ff_backward(du)
        dz = self.norm1.backward(dh)
        return dz + self._sa_backward(dz)

    # -- the two branches: SA(a) = dropout1(self_attn(a, a, a)), FF(b) = dropout2(linear2(...)) ----
    def _sa(self, a, key_padding_mask):
        attn_mask = causal_mask(a.shape[1]) if self.causal else None
        out, _ = self.self_attn.forward(
            a, a, a, key_padding_mask=key_padding_mask, attn_mask=attn_mask, need_weights=False
        )
        return self.dropout1.forward(out)

    def _sa_backward(self, grad):
        d_query, d_key, d_value = self.self_attn.backward(self.dropout1.backward(grad))
        return d_query + d_key + d_value  # the three inputs were the same array

    def _ff(self, b):
        hidden = self.activation.forward(self.linear1.forward(b))
        return self.dropout2.forward(self.linear2.forward(self.dropout.forward(hidden)))

    def _ff_backward(self, grad):
        g = self.linear2.backward(self.dropout2.backward(grad))
        return self.linear1.backward(self.activation.backward(self.dropout.backward(g)))
