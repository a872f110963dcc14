"""Multi-head scaled dot-product attention, as ``torch.nn.MultiheadAttention``, with its backward.

Shapes (batch first): ``query : (N, L, E)``, ``key``, ``value : (N, S, E)``; ``H`` heads of size
``d = E / H``. Masks follow torch's boolean convention: **True means "may not attend"**.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DTypeError, ShapeError
from ..validation import as_generator, check_bool, check_float_array, resolve_dtype
from . import init
from ._checks import check_grad_output, check_positive_int
from .dropout import Dropout
from .linear import Linear
from .module import Module, Parameter


def causal_mask(length: int, source_length: int | None = None) -> np.ndarray:
    """The boolean ``(L, S)`` mask forbidding position ``i`` to attend to any ``j > i``.

    ``mask[i, j] = j > i`` (True = not allowed), torch's convention for ``attn_mask``; the float
    ``nn.Transformer.generate_square_subsequent_mask`` holds ``-inf`` exactly where this is True.
    """
    length = check_positive_int(length, "length")
    source = length if source_length is None else check_positive_int(source_length, "source_length")
    return np.triu(np.ones((length, source), dtype=bool), k=1)


def masked_softmax(
    scores: np.ndarray, blocked: np.ndarray | None = None, *, inplace: bool = False
) -> np.ndarray:
    """Softmax over the last axis, ignoring ``blocked`` entries; a fully blocked row gives zeros.

    ``scores : (..., S)``; ``blocked`` (bool) broadcasts to it, True = excluded. Excluded entries
    get probability exactly 0. A row with every entry excluded has no distribution at all: torch
    returns NaN there; this returns a row of zeros, so that the attention output of that query is
    0 (before the output projection) and no gradient flows through it. With ``inplace=True``
    ``scores`` itself is overwritten and returned (no temporary of its size is allocated).
    """
    p = scores if inplace else scores.copy()
    if blocked is not None:
        np.copyto(p, -np.inf, where=blocked)
    top = p.max(axis=-1, keepdims=True)  # (..., 1); −inf only for a fully blocked row
    top[np.isneginf(top)] = 0.0
    p -= top  # the largest allowed entry becomes 0: exp cannot overflow
    np.exp(p, out=p)  # exp(−inf) = 0 for blocked entries
    total = p.sum(axis=-1, keepdims=True)
    total[total == 0.0] = 1.0  # fully blocked row: 0 / 1 = 0
    p /= total
    return p


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017) with torch's parameters, masks and defaults.

    Parameters
    ----------
    embed_dim : int
        ``E``, the size of queries, keys, values and the output.
    num_heads : int
        ``H``; must divide ``embed_dim`` (each head has ``d = E / H`` features).
    dropout : float, default 0.0
        Dropout on the attention probabilities, in training mode only (as torch).
    bias : bool, default True
        Biases of the input and output projections.
    batch_first : bool, default True, keyword-only
        ``(N, L, E)`` inputs when True (tinyrec's default, unlike torch's), ``(L, N, E)`` otherwise.
        Keyword-only because torch's fifth argument is ``add_bias_kv`` (not offered, nor are
        ``add_zero_attn``, ``kdim`` and ``vdim``: keys and values have ``embed_dim`` features).
    dtype : float32 (default) or float64
    seed : int or np.random.Generator
        ``in_proj_weight`` ~ xavier_uniform, ``out_proj.weight`` as a Linear, biases 0 (torch).

    Attributes
    ----------
    in_proj_weight : (3E, E)
        ``[W_q; W_k; W_v]`` stacked by rows.
    in_proj_bias : (3E,)
        ``[b_q; b_k; b_v]`` (None without bias).
    out_proj : Linear(E, E)
        ``out_proj.weight`` ``W_o : (E, E)``, ``out_proj.bias`` ``b_o : (E,)``.

    Notes
    -----
    Forward (per batch element; head ``h`` uses columns ``[h·d, (h+1)·d)``)::

        Q = query W_qᵀ + b_q  (L, E)     K = key W_kᵀ + b_k  (S, E)     V = value W_vᵀ + b_v  (S, E)
        A_h = Q_h K_hᵀ / √d              (L, S)   scores of head h
        A_h[i, j] = −∞ where attn_mask or key_padding_mask forbids (i, j)
        P_h = softmax(A_h) by row        (L, S)   rows of fully masked queries are 0 (torch: NaN)
        P̃_h = dropout(P_h)               (training only)
        O_h = P̃_h V_h                    (L, d),  O = [O_1 … O_H]  (L, E)
        Y = O W_oᵀ + b_o                 (L, E)
        weights = mean_h P̃_h             (L, S)   (returned when need_weights)

    Backward, from ``dY`` (and optionally ``dweights``)::

        dO = dY W_o   (and dW_o, db_o in out_proj)
        dP̃_h = dO_h V_hᵀ + dweights / H        dV_h = P̃_hᵀ dO_h
        dP_h = dropout'(dP̃_h)
        dA_h = P_h ⊙ (dP_h − rowsum(dP_h ⊙ P_h))    (the softmax Jacobian-vector product)
        dQ_h = dA_h K_h / √d                      dK_h = dA_hᵀ Q_h / √d
        dW_q = dQᵀ query,  db_q = Σ dQ,  d_query = dQ W_q   (the same for K and V)

    A masked entry has ``P = 0``, hence ``dA = 0`` and no gradient reaches its key or value: a
    padded key (``key_padding_mask``) gets ``d_key = d_value = 0`` exactly.

    Self-attention (``query is key is value``) computes the three projections in one matmul, but
    ``backward`` still returns the three gradients ``(d_query, d_key, d_value)`` separately; the
    gradient of the shared input is their sum, which the caller forms.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        *,
        batch_first: bool = True,
        dtype=np.float32,
        seed=None,
    ):
        self.embed_dim = check_positive_int(embed_dim, "embed_dim")
        self.num_heads = check_positive_int(num_heads, "num_heads")
        if embed_dim % num_heads:
            raise ValueError(
                f"num_heads={num_heads} does not divide embed_dim={embed_dim}; "
                f"choose num_heads among the divisors of {embed_dim}"
            )
        self.head_dim = embed_dim // num_heads
        self.batch_first = check_bool(batch_first, "batch_first")
        self.dtype = resolve_dtype(dtype)
        rng = as_generator(seed)
        E = self.embed_dim
        self.in_proj_weight = Parameter(init.xavier_uniform((3 * E, E), dtype=self.dtype, seed=rng))
        self.in_proj_bias = Parameter(init.zeros((3 * E,), dtype=self.dtype)) if bias else None
        self.out_proj = Linear(E, E, bias=bias, dtype=self.dtype, seed=rng)
        if bias:
            self.out_proj.bias.data[...] = 0.0
        self.dropout = float(dropout)
        self.attn_dropout = Dropout(dropout, seed=rng)
        self._cache = None

    def extra_repr(self) -> str:
        return (
            f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
            f"batch_first={self.batch_first}, dtype={self.dtype.name}"
        )

    # -- checks ---------------------------------------------------------------------------------
    def _check_inputs(self, query, key, value):
        for name, x in (("query", query), ("key", key), ("value", value)):
            check_float_array(x, name, dtype=self.dtype, ndim=3)
            if x.shape[2] != self.embed_dim:
                raise ShapeError(
                    f"{name} has {x.shape[2]} features but embed_dim={self.embed_dim}; expected "
                    f"{'(batch, length, embed_dim)' if self.batch_first else '(length, batch, embed_dim)'}"
                )
        if key.shape != value.shape:
            raise ShapeError(f"key {key.shape} and value {value.shape} must have the same shape")
        batch_axis = 0 if self.batch_first else 1
        if query.shape[batch_axis] != key.shape[batch_axis]:
            raise ShapeError(f"query {query.shape} and key {key.shape} have different batch sizes")
        if min(query.shape[:2] + key.shape[:2]) == 0:
            raise ShapeError("query, key and value need batch and length >= 1")

    def _blocked(self, attn_mask, key_padding_mask, N, L, S):
        """The combined mask, broadcastable to the scores ``(N, H, L, S)``, or None."""
        H = self.num_heads
        blocked = None
        if attn_mask is not None:
            attn_mask = _check_bool_mask(attn_mask, "attn_mask", [(L, S), (N * H, L, S)])
            # (L, S) -> (1, 1, L, S); (N·H, L, S) -> (N, H, L, S) (torch's head-major layout)
            blocked = attn_mask[None, None] if attn_mask.ndim == 2 else attn_mask.reshape(N, H, L, S)
        if key_padding_mask is not None:
            kpm = _check_bool_mask(key_padding_mask, "key_padding_mask", [(N, S)])
            kpm = kpm[:, None, None, :]  # (N, 1, 1, S): padded keys are hidden from every query
            blocked = kpm if blocked is None else blocked | kpm
        return blocked

    # -- forward / backward ----------------------------------------------------------------------
    def forward(
        self,
        query: np.ndarray,
        key: np.ndarray,
        value: np.ndarray,
        key_padding_mask: np.ndarray | None = None,
        need_weights: bool = True,
        attn_mask: np.ndarray | None = None,
        average_attn_weights: bool = True,
    ):
        """Attend from ``query : (N, L, E)`` to ``key``, ``value : (N, S, E)``.

        The arguments come in torch's order (``key_padding_mask`` before ``attn_mask``).

        Parameters
        ----------
        key_padding_mask : bool (N, S), optional
            True at padded keys, which no query may attend to.
        attn_mask : bool (L, S) or (N·num_heads, L, S), optional
            True where query ``i`` may not attend to key ``j`` (e.g. :func:`causal_mask`).
            Boolean masks only: torch's float (additive) masks and ``is_causal`` are not offered.
        need_weights, average_attn_weights : bool
            Return the attention probabilities averaged over heads ``(N, L, S)``, or per head
            ``(N, H, L, S)``; with ``need_weights=False`` the second output is None.

        Returns
        -------
        output : (N, L, E)
        weights : (N, L, S), (N, H, L, S) or None
        """
        self._check_inputs(query, key, value)
        self_attention = query is key and key is value
        if not self.batch_first:  # (L, N, E) -> (N, L, E)
            query, key, value = (x.transpose(1, 0, 2) for x in (query, key, value))
        N, L, E = query.shape
        S, H, d = key.shape[1], self.num_heads, self.head_dim
        blocked = self._blocked(attn_mask, key_padding_mask, N, L, S)
        W, b = self.in_proj_weight.data, self.in_proj_bias

        def heads(x, rows, length, parts=1):
            """Project x (N, length, E) by in_proj ``rows``; return (parts, N, H, length, d)."""
            y = x.reshape(N * length, E) @ W[rows].T  # (N·length, parts·E)
            if b is not None:
                y += b.data[rows]
            return y.reshape(N, length, parts, H, d).transpose(2, 0, 3, 1, 4)

        if self_attention:  # one (N·L, E) @ (E, 3E) matmul for Q, K and V
            q, k, v = heads(query, slice(0, 3 * E), L, parts=3)
        else:
            (q,) = heads(query, slice(0, E), L)
            (k,) = heads(key, slice(E, 2 * E), S)
            (v,) = heads(value, slice(2 * E, 3 * E), S)
        scale = 1.0 / math.sqrt(d)
        # contiguous (N, H, length, d) arrays (copies of the projections' views): the six batched
        # products below run faster on them
        q, k, v = (np.ascontiguousarray(a) for a in (q, k, v))
        q *= scale  # Q/√d (as torch does): scaling (N, H, L, d) is cheaper than the (N, H, L, S) scores
        p = q @ k.transpose(0, 1, 3, 2)  # (N, H, L, S): the scores (Q/√d) Kᵀ, then P in place
        masked_softmax(p, blocked, inplace=True)
        p_drop = self.attn_dropout(p) if self.dropout > 0.0 else p
        o = (p_drop @ v).transpose(0, 2, 1, 3).reshape(N * L, E)  # (N, H, L, d) -> (N·L, H·d)
        y = self.out_proj(o).reshape(N, L, E)
        self._cache = (query, key, value, self_attention, q, k, v, p, p_drop, scale)
        if not self.batch_first:
            y = y.transpose(1, 0, 2)
        if not need_weights:
            return y, None
        return y, (p_drop.mean(axis=1) if average_attn_weights else p_drop)

    def backward(self, grad_output: np.ndarray, grad_weights: np.ndarray | None = None):
        """``dY : (N, L, E)`` (and ``dweights``, optional) → ``(d_query, d_key, d_value)``.

        ``grad_weights`` is the gradient of the returned weights (averaged ``(N, L, S)`` or per
        head ``(N, H, L, S)``), for a loss that uses them; None when it does not.
        """
        query, key, value, self_attention, q, k, v, p, p_drop, scale = self._require_cache("_cache")
        N, H, L, d = q.shape
        S, E = k.shape[2], self.embed_dim
        out_shape = (N, L, E) if self.batch_first else (L, N, E)
        dy = check_grad_output(grad_output, out_shape, self.dtype, "MultiheadAttention")
        if not self.batch_first:
            dy = dy.transpose(1, 0, 2)
        do = self.out_proj.backward(np.ascontiguousarray(dy).reshape(N * L, E))  # (N·L, E)
        do = do.reshape(N, L, H, d).transpose(0, 2, 1, 3)  # (N, H, L, d)
        dp = do @ v.transpose(0, 1, 3, 2)  # dP̃ : (N, H, L, S)
        if grad_weights is not None:
            grad_weights = np.asarray(grad_weights)
            if grad_weights.shape == (N, L, S):
                dp += grad_weights[:, None] / H  # weights = mean over heads
            elif grad_weights.shape == (N, H, L, S):
                dp += grad_weights
            else:
                raise ShapeError(
                    f"grad_weights has shape {grad_weights.shape}; expected {(N, L, S)} or {(N, H, L, S)}"
                )
        dv = p_drop.transpose(0, 1, 3, 2) @ do  # (N, H, S, d)
        if self.dropout > 0.0:
            dp = self.attn_dropout.backward(dp)
        # softmax JVP, in place: dA = P ⊙ (dP − Σ_j dP_j P_j); P = 0 where masked, so dA = 0 there
        da = dp  # a fresh array of this backward: overwritten in place
        da -= np.sum(dp * p, axis=-1, keepdims=True)
        da *= p
        # A = (Q/√d) Kᵀ, and q holds Q/√d: dQ = dA K / √d, dK = dAᵀ (Q/√d)
        dq = da @ k
        dq *= scale
        dq = dq.transpose(0, 2, 1, 3)  # (N, H, L, d) -> (N, L, H, d)
        dk = (da.transpose(0, 1, 3, 2) @ q).transpose(0, 2, 1, 3)  # (N, S, H, d)
        dv = dv.transpose(0, 2, 1, 3)  # (N, S, H, d)
        W = self.in_proj_weight.data
        if self_attention:  # [dQ | dK | dV] side by side: one (3E, N·L) @ (N·L, E) matmul for dW
            d2 = np.empty((N, L, 3, H, d), dtype=self.dtype)
            d2[:, :, 0], d2[:, :, 1], d2[:, :, 2] = dq, dk, dv
            d2 = d2.reshape(N * L, 3 * E)
            self.in_proj_weight.accumulate(d2.T @ query.reshape(N * L, E))
            parts = [d2[:, :E], d2[:, E : 2 * E], d2[:, 2 * E :]]
        else:
            parts = [dq.reshape(N * L, E), dk.reshape(N * S, E), dv.reshape(N * S, E)]  # (N·n, H·d)
            inputs = (query.reshape(N * L, E), key.reshape(N * S, E), value.reshape(N * S, E))
            self.in_proj_weight.accumulate(
                np.concatenate([g.T @ x for g, x in zip(parts, inputs, strict=True)])  # (3E, E)
            )
        if self.in_proj_bias is not None:
            self.in_proj_bias.accumulate(np.concatenate([g.sum(axis=0) for g in parts]))
        grads = [
            (g @ W[i * E : (i + 1) * E]).reshape(N, -1, E) for i, g in enumerate(parts)
        ]  # d_query (N, L, E), d_key and d_value (N, S, E)
        if not self.batch_first:
            grads = [np.ascontiguousarray(g.transpose(1, 0, 2)) for g in grads]
        return tuple(grads)


def _check_bool_mask(mask, name: str, shapes: list[tuple]) -> np.ndarray:
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, np.ndarray) else type(mask).__name__
        raise DTypeError(
            f"{name} must be a boolean array (True = not allowed to attend), got {got}; "
            f"an additive float mask converts with mask == -np.inf"
        )
    if mask.shape not in shapes:
        want = " or ".join(str(s) for s in shapes)
        raise ShapeError(f"{name} has shape {mask.shape}; expected {want}")
    return mask
