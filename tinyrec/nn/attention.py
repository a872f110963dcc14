"""Multi-head scaled dot-product attention, as ``torch.nn.MultiheadAttention``, with its backward.

Shapes (batch first): ``query : (N, L, E)``, ``key``, ``value : (N, S, E)``; ``H`` heads of size
``d_k = E / H``. Masks follow torch's boolean convention: **True means "may not attend"**.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..validation import as_generator, check_bool, check_positive_int, resolve_dtype
from . import init
from .dropout import Dropout
from .linear import Linear
from .module import Module, Parameter
from .spec import Floats, call_arguments, check_mask, require


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


# -- layout: rows (N·L, H·d_k) <-> heads (N, H, L, d_k), with S in place of L for keys, values ----


def _rows(x: np.ndarray) -> np.ndarray:
    """``(N, L, F)`` as ``(N·L, F)``: one row per position (a copy only when ``x`` is not contiguous)."""
    return x.reshape(-1, x.shape[-1])


def _split_heads(rows: np.ndarray, N: int, H: int) -> np.ndarray:
    """``(N·L, H·d_k)`` → ``(N, H, L, d_k)``: head ``h`` reads columns ``[h·d_k, (h+1)·d_k)`` (a view)."""
    return rows.reshape(N, -1, H, rows.shape[-1] // H).transpose(0, 2, 1, 3)


def _merge_heads(*parts: np.ndarray) -> np.ndarray:
    """Per-head arrays ``(N, H, L, d_k)`` side by side as rows ``(N·L, len(parts)·H·d_k)``."""
    N, H, L, d_k = parts[0].shape
    rows = np.empty((N, L, len(parts), H, d_k), dtype=parts[0].dtype)
    for j, part in enumerate(parts):
        rows[:, :, j] = part.transpose(0, 2, 1, 3)
    return rows.reshape(N * L, len(parts) * H * d_k)


class _Cache(NamedTuple):
    """What backward reads: the (batch-first) inputs, the heads and the probabilities."""

    query: np.ndarray  # (N, L, E)
    key: np.ndarray  # (N, S, E)
    value: np.ndarray  # (N, S, E)
    fused: bool  # query is key is value: one projection matmul
    q: np.ndarray  # Q_h/√d_k of every head, (N, H, L, d_k)
    k: np.ndarray  # K_h, (N, H, S, d_k)
    v: np.ndarray  # V_h, (N, H, S, d_k)
    p: np.ndarray  # P_h, (N, H, L, S)
    p_drop: np.ndarray  # P̃_h = dropout(P_h), (N, H, L, S)
    averaged: bool  # the weights returned were mean_h P̃_h


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017) with torch's parameters, masks and defaults.

    Parameters
    ----------
    embed_dim : int
        ``E``, the size of queries, keys, values and the output.
    num_heads : int
        ``H``; must divide ``embed_dim`` (each head has ``d_k = E / H`` features, ``head_dim``).
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
    Forward (per batch element), head ``h`` taking columns ``[h·d_k, (h+1)·d_k)`` of each
    projection::

        [Q_1 … Q_H] = query W_qᵀ + b_q  (L, E)      [K_1 … K_H] = key W_kᵀ + b_k  (S, E)
        [V_1 … V_H] = value W_vᵀ + b_v  (S, E)
        A_h = Q_h K_hᵀ / √d_k            (L, S)   scores of head h
        A_h[i, j] = −∞ where attn_mask or key_padding_mask forbids (i, j)
        P_h = softmax(A_h) by row        (L, S)   rows of fully masked queries are 0 (torch: NaN)
        P̃_h = dropout(P_h)               (training only)
        O_h = P̃_h V_h                    (L, d_k)
        Y = [O_1 … O_H] W_oᵀ + b_o        (L, E)
        weights = mean_h P̃_h             (L, S)   (returned when need_weights)

    Backward, from ``dY`` (and optionally ``dweights``)::

        [dO_1 … dO_H] = dY W_o   (and dW_o, db_o in out_proj)
        dP̃_h = dO_h V_hᵀ + dweights / H        dV_h = P̃_hᵀ dO_h   (per-head weights: + dweights_h)
        dP_h = dropout'(dP̃_h)
        dA_h = P_h ⊙ (dP_h − rowsum(dP_h ⊙ P_h))    (the softmax Jacobian-vector product)
        dQ_h = dA_h K_h / √d_k                    dK_h = dA_hᵀ Q_h / √d_k
        dW_q = [dQ_1 … dQ_H]ᵀ query,  db_q = Σ_rows [dQ_1 … dQ_H],  d_query = [dQ_1 … dQ_H] W_q
        (the same for the keys and the values)

    A masked entry has ``P_h = 0``, hence ``dA_h = 0`` and no gradient reaches its key or value: a
    padded key (``key_padding_mask``) gets ``d_key = d_value = 0`` exactly.

    Self-attention (``query is key is value``) computes the three projections in one matmul, but
    ``backward`` still returns the three gradients ``(d_query, d_key, d_value)`` separately; the
    gradient of the shared input is their sum, which the caller forms.
    """

    input_spec = (
        Floats("query", ndim=3, last="embed_dim", nonempty=True),
        Floats("key", ndim=3, last="embed_dim", nonempty=True),
        Floats("value", ndim=3, last="embed_dim", nonempty=True),
    )

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
        require(embed_dim % num_heads == 0, f"num_heads={num_heads} does not divide embed_dim={embed_dim}; "
                f"choose num_heads among the divisors of {embed_dim}", ValueError)
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
        self.attn_dropout = Dropout(dropout, seed=rng)  # on the probabilities, in training only
        self.dropout = self.attn_dropout.p
        self._cache = None

    def extra_repr(self) -> str:
        return (
            f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
            f"batch_first={self.batch_first}, dtype={self.dtype.name}"
        )

    # -- the boundary: inputs that fit each other -----------------------------------------------
    def check_inputs(self, *inputs, **kwargs) -> tuple:
        inputs = super().check_inputs(*inputs, **kwargs)  # query, key, value: 3-D, embed_dim features
        a = call_arguments(self, inputs, kwargs)
        query, key, value = (self._batch_major(a[n]) for n in ("query", "key", "value"))
        (N, L, _), S, H = query.shape, key.shape[1], self.num_heads
        require(key.shape == value.shape, f"key {key.shape} and value {value.shape} must have the same shape")
        require(key.shape[0] == N, f"query {a['query'].shape} and key {a['key'].shape} have different batch "
                f"sizes")
        if a["key_padding_mask"] is not None:
            check_mask(a["key_padding_mask"], "key_padding_mask", [(N, S)])
        if a["attn_mask"] is not None:
            check_mask(a["attn_mask"], "attn_mask", [(L, S), (N * H, L, S)])
        return inputs

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
        fused = query is key and key is value  # self-attention: one matmul projects all three
        query, key, value = (self._batch_major(x) for x in (query, key, value))  # (N, L, E), (N, S, E)
        q, k, v = self._project(query, key, value, fused)  # Q_h/√d_k, K_h, V_h: (N, H, ·, d_k)
        p = q @ k.transpose(0, 1, 3, 2)  # A_h = Q_h K_hᵀ / √d_k : (N, H, L, S), then P_h in place
        masked_softmax(p, self._blocked(attn_mask, key_padding_mask, p.shape), inplace=True)  # P_h
        p_drop = self.attn_dropout.forward(p) if self.dropout > 0.0 else p  # P̃_h = dropout(P_h)
        y = self.out_proj.forward(_merge_heads(p_drop @ v))  # O_h = P̃_h V_h; Y = [O_1 … O_H] W_oᵀ + b_o
        self._cache = _Cache(query, key, value, fused, q, k, v, p, p_drop, average_attn_weights)
        y = self._batch_major(y.reshape(query.shape))
        if not need_weights:
            return y, None
        return y, (p_drop.mean(axis=1) if average_attn_weights else p_drop)

    def backward(self, grad_output: np.ndarray, grad_weights: np.ndarray | None = None):
        """``dY : (N, L, E)`` (and ``dweights``, optional) → ``(d_query, d_key, d_value)``.

        ``grad_weights`` is the gradient of the weights forward returned (averaged ``(N, L, S)`` or
        per head ``(N, H, L, S)``), for a loss that uses them; None when it does not.
        """
        c, H = self._cache, self.num_heads
        dy = _rows(self._batch_major(grad_output))  # (N·L, E)
        do = _split_heads(self.out_proj.backward(dy), len(c.query), H)  # dO_h, from dY W_o : (N, H, L, d_k)
        dp = do @ c.v.transpose(0, 1, 3, 2)  # dP̃_h = dO_h V_hᵀ
        if grad_weights is not None:  # + dweights / H (weights = mean_h P̃_h), or dweights_h per head
            dp += grad_weights[:, None] / H if c.averaged else grad_weights
        dv = c.p_drop.transpose(0, 1, 3, 2) @ do  # dV_h = P̃_hᵀ dO_h
        if self.dropout > 0.0:
            dp = self.attn_dropout.backward(dp)  # dP_h = dropout'(dP̃_h)
        da = dp  # dA_h = P_h ⊙ (dP_h − rowsum(dP_h ⊙ P_h)), in place (dp is this call's own array)
        da -= np.sum(dp * c.p, axis=-1, keepdims=True)
        da *= c.p  # P_h = 0 where masked, so dA_h = 0 there
        dq = da @ c.k  # dQ_h = dA_h K_h / √d_k
        dq *= 1.0 / math.sqrt(self.head_dim)
        dk = da.transpose(0, 1, 3, 2) @ c.q  # dK_h = dA_hᵀ Q_h / √d_k (q holds Q_h/√d_k)
        return self._project_backward(dq, dk, dv)  # dW_q = [dQ_1 … dQ_H]ᵀ query, ..., d_query, ...

    # -- the in-projection and the layout, apart from the math above ----------------------------
    def _batch_major(self, x: np.ndarray) -> np.ndarray:
        """``(L, N, ·) <-> (N, L, ·)`` (a view) when not ``batch_first``; ``x`` itself otherwise."""
        return x if self.batch_first else x.transpose(1, 0, 2)

    def _project(self, query, key, value, fused: bool):
        """``Q_h/√d_k, K_h, V_h``, ``(N, H, ·, d_k)`` contiguous: the projections split in heads.

        Scaling the queries by ``1/√d_k`` (as torch does) is cheaper than scaling the
        ``(N, H, L, S)`` scores.
        """
        W, b, E, H = self.in_proj_weight.data, self.in_proj_bias, self.embed_dim, self.num_heads

        def heads(x, rows, parts=1):  # x (N, L, E) by in_proj rows -> (parts, N, H, L, d_k)
            y = _rows(x) @ W[rows].T  # (N·L, parts·E)
            if b is not None:
                y += b.data[rows]
            return y.reshape(x.shape[0], x.shape[1], parts, H, self.head_dim).transpose(2, 0, 3, 1, 4)

        if fused:  # one (N·L, E) @ (E, 3E) matmul for the queries, keys and values
            q, k, v = heads(query, slice(0, 3 * E), parts=3)
        else:
            (q,), (k,) = heads(query, slice(0, E)), heads(key, slice(E, 2 * E))
            (v,) = heads(value, slice(2 * E, 3 * E))
        # contiguous copies: the batched products of forward and backward run faster on them
        q, k, v = (np.ascontiguousarray(a) for a in (q, k, v))
        q *= 1.0 / math.sqrt(self.head_dim)
        return q, k, v

    def _project_backward(self, dq, dk, dv):
        """Backward of the in-projection, from ``dQ_h, dK_h, dV_h`` of every head ``(N, H, ·, d_k)``.

        With ``dQ = [dQ_1 … dQ_H]`` (and ``dK``, ``dV`` likewise): ``dW_q = dQᵀ query``,
        ``db_q = Σ_rows dQ``, ``d_query = dQ W_q``, the same for the keys and values; with one input
        (``fused``), ``[dQ | dK | dV]ᵀ query`` is one ``(3E, N·L) @ (N·L, E)`` product.
        """
        c, E = self._cache, self.embed_dim
        if c.fused:
            d_all = _merge_heads(dq, dk, dv)  # (N·L, 3E)
            self.in_proj_weight.accumulate(d_all.T @ _rows(c.query))
            grads = [d_all[:, :E], d_all[:, E : 2 * E], d_all[:, 2 * E :]]
        else:
            grads = [_merge_heads(g) for g in (dq, dk, dv)]  # (N·L, E), (N·S, E), (N·S, E)
            inputs = (c.query, c.key, c.value)
            dw = [g.T @ _rows(x) for g, x in zip(grads, inputs, strict=True)]  # dW_q, dW_k, dW_v : (E, E)
            self.in_proj_weight.accumulate(np.concatenate(dw))
        if self.in_proj_bias is not None:
            self.in_proj_bias.accumulate(np.concatenate([g.sum(axis=0) for g in grads]))
        W_qkv = np.split(self.in_proj_weight.data, 3)  # W_q, W_k, W_v
        d_inputs = [(g @ w).reshape(len(c.query), -1, E) for g, w in zip(grads, W_qkv, strict=True)]
        return tuple(np.ascontiguousarray(self._batch_major(d)) for d in d_inputs)

    def _blocked(self, attn_mask, key_padding_mask, scores_shape):
        """The combined mask, broadcastable to the scores ``(N, H, L, S)``, or None."""
        N, H, L, S = scores_shape
        blocked = None
        if attn_mask is not None:
            # (L, S) -> (1, 1, L, S); (N·H, L, S) -> (N, H, L, S) (torch's head-major layout)
            blocked = attn_mask[None, None] if attn_mask.ndim == 2 else attn_mask.reshape(N, H, L, S)
        if key_padding_mask is not None:
            kpm = key_padding_mask[:, None, None, :]  # (N, 1, 1, S): padded keys are hidden from every query
            blocked = kpm if blocked is None else blocked | kpm
        return blocked
