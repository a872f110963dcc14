"""Recurrent layers: RNN, GRU and LSTM, with backpropagation through time written step by step.

All three share one skeleton (:class:`_Recurrent`). For each layer ``l`` and each time step ``t``

    gi_t = W_ih x_t + b_ih            (all steps at once: one matmul over (L·N) rows)
    gh_t = W_hh h_{t-1} + b_hh        (one matmul per step: the recurrence)
    h_t  = cell(gi_t, gh_t, state_{t-1})

where the rows of ``W_ih`` ``(G·hidden, input)`` and ``W_hh`` ``(G·hidden, hidden)`` hold the ``G``
gates stacked in torch's order (RNN: 1; GRU: r, z, n; LSTM: i, f, g, o). Backward walks the steps
in reverse, producing ``dgi_t = dℒ/dgi_t`` and ``dgh_t = dℒ/dgh_t`` for every step; the parameter
and input gradients then follow in a few large matmuls:

    dW_ih = Σ_t dgi_tᵀ x_t      db_ih = Σ_t Σ_n dgi_t      dx_t = dgi_t W_ih
    dW_hh = Σ_t dgh_tᵀ h_{t-1}  db_hh = Σ_t Σ_n dgh_t

and the gradient flowing back through the recurrence is ``dh_{t-1} = (direct terms) + dgh_t W_hh``.
With ``num_layers > 1`` the output sequence of layer ``l`` is the input of layer ``l + 1`` (torch
semantics, without the inter-layer dropout).
"""

from __future__ import annotations

import math

import numpy as np

from ..validation import as_generator, check_bool, check_choice, check_positive_int, resolve_dtype
from . import init
from .module import Module, Parameter
from .spec import Floats, call_arguments, require


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^{-x}), computed as (1 + tanh(x/2)) / 2: no overflow for large |x|."""
    y = np.tanh(x * 0.5)
    y += 1.0
    y *= 0.5
    return y


def _split(gates: np.ndarray, k: int) -> list[np.ndarray]:
    """The ``k`` gate blocks of ``(..., k·hidden)`` (torch's stacking order): views, written in place."""
    hidden = gates.shape[-1] // k
    return [gates[..., j * hidden : (j + 1) * hidden] for j in range(k)]


def _rows(a: np.ndarray) -> np.ndarray:
    """``(L, N, F)`` as ``(L·N, F)``: every step of every sequence, one row each."""
    return a.reshape(-1, a.shape[-1])


class _Recurrent(Module):
    """The shared skeleton of RNN, GRU and LSTM: parameters, checks, layers, in-projection.

    A subclass sets ``_gates`` (G) and ``_n_states`` (1 for h, 2 for h and c) and writes the two
    methods of its cell: ``_cell_forward(gi, W_hh, b_hh, state0)`` over a whole sequence and
    ``_cell_backward(dout, dstate, W_hh, cache)`` returning ``(dgi, dgh, dstate0)``.
    """

    _gates = 1
    _n_states = 1
    input_spec = (Floats("x", ndim=3, last="input_size", nonempty=True),)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = True,
        *,
        dtype=np.float32,
        seed=None,
    ):
        self.input_size = check_positive_int(input_size, "input_size")
        self.hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.num_layers = check_positive_int(num_layers, "num_layers")
        self.bias = check_bool(bias, "bias")
        self.batch_first = check_bool(batch_first, "batch_first")
        self.dtype = resolve_dtype(dtype)
        rng = as_generator(seed)
        # torch: every weight and bias ~ U(-1/sqrt(hidden), 1/sqrt(hidden)), in this order
        bound = 1.0 / math.sqrt(hidden_size)
        rows = self._gates * hidden_size
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size
            shapes = [("weight_ih", (rows, in_size)), ("weight_hh", (rows, hidden_size))]
            if bias:
                shapes += [("bias_ih", (rows,)), ("bias_hh", (rows,))]
            for name, shape in shapes:
                data = init.uniform(shape, -bound, bound, dtype=self.dtype, seed=rng)
                setattr(self, f"{name}_l{layer}", Parameter(data))
        self._cache = None
        self.initial_state_grad = None

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, bias={self.bias}, "
            f"batch_first={self.batch_first}, dtype={self.dtype.name}"
        )

    def _weights(self, layer: int):
        get = lambda name: getattr(self, f"{name}_l{layer}", None)  # noqa: E731
        w_ih, w_hh, b_ih, b_hh = (get(n) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        return w_ih, w_hh, b_ih, b_hh

    # -- the boundary: the initial states must fit the input ------------------------------------
    def check_inputs(self, *inputs, **kwargs) -> tuple:
        inputs = super().check_inputs(*inputs, **kwargs)
        args = call_arguments(self, inputs, kwargs)
        x = args["x"]
        want = (self.num_layers, x.shape[0 if self.batch_first else 1], self.hidden_size)
        for name, state in self._initial_states(args).items():
            if state is not None:
                Floats(name, ndim=3).check(state, self, self.dtype)
                require(state.shape == want, f"{type(self).__name__} {name} has shape {state.shape}; "
                        f"expected (num_layers, batch, hidden_size) = {want}")
        return inputs

    def _initial_states(self, args: dict) -> dict:
        """``{"h0": h0}`` of a call's arguments (LSTM: ``h0`` and ``c0`` from ``state``)."""
        return {"h0": args["h0"]}

    # -- layout: tinyrec computes time-major, (L, N, ·) -----------------------------------------
    def _swap_batch_first(self, a: np.ndarray) -> np.ndarray:
        """``(N, L, ·) <-> (L, N, ·)`` when ``batch_first`` (contiguous); time-major arrays as they are."""
        return np.ascontiguousarray(a.transpose(1, 0, 2) if self.batch_first else a)

    def _output_grad(self, grad_output, L: int, N: int) -> np.ndarray:
        """``dY`` time-major ``(L, N, hidden)``; zeros when no gradient reaches the output sequence."""
        if grad_output is None:
            return np.zeros((L, N, self.hidden_size), dtype=self.dtype)
        return self._swap_batch_first(grad_output)

    def _final_state_grads(self, grad_finals: tuple, layer: int, N: int) -> tuple:
        """``(dh_L,)`` (LSTM: ``(dh_L, dc_L)``) of one layer: copies (the cell adds into them), or 0."""
        zeros = lambda: np.zeros((N, self.hidden_size), dtype=self.dtype)  # noqa: E731
        return tuple(zeros() if g is None else np.array(g[layer]) for g in grad_finals)

    # -- forward / backward over the stack of layers ---------------------------------------------
    def _forward_all(self, x, states):
        """Every layer over the whole sequence; ``states``: ``(num_layers, N, hidden)`` arrays or None."""
        layer_in = self._swap_batch_first(x)  # (L, N, input_size)
        L, N, _ = layer_in.shape
        shape = (self.num_layers, N, self.hidden_size)
        states = [np.zeros(shape, dtype=self.dtype) if s is None else s for s in states]
        finals = [np.empty(shape, dtype=self.dtype) for _ in states]
        caches = []
        for layer in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._weights(layer)
            gi = _rows(layer_in) @ w_ih.data.T  # gi_t = W_ih x_t + b_ih for every step at once
            if b_ih is not None:
                gi += b_ih.data
            b = None if b_hh is None else b_hh.data
            state0 = [s[layer] for s in states]
            out, last, cache = self._cell_forward(gi.reshape(L, N, -1), w_hh.data, b, state0)
            for final, value in zip(finals, last, strict=True):
                final[layer] = value
            caches.append((layer_in, cache))
            layer_in = out  # (L, N, hidden): the next layer's input
        self._cache = caches  # replaced last: freeing the old cache first made the allocator hand the
        # memory back and fault it in again (measured ~15% slower on bench_layers' GRU step)
        return self._swap_batch_first(layer_in), tuple(finals)

    def _backward_all(self, grad_output, grad_finals: tuple):
        """Backpropagation through time, top layer first; returns ``dx`` in the input's layout."""
        L, N = self._cache[0][0].shape[:2]
        d_out = self._output_grad(grad_output, L, N)  # dY_t of the top layer, (L, N, hidden)
        initial = [np.empty((self.num_layers, N, self.hidden_size), self.dtype) for _ in grad_finals]
        for layer in reversed(range(self.num_layers)):
            x, cache = self._cache[layer]
            w_ih, w_hh, b_ih, b_hh = self._weights(layer)
            d_last = self._final_state_grads(grad_finals, layer, N)
            dgi, dgh, d_first = self._cell_backward(d_out, d_last, w_hh.data, cache)
            dgi, dgh = _rows(dgi), _rows(dgh)  # (L·N, G·hidden)
            w_ih.accumulate(dgi.T @ _rows(x))  # dW_ih = Σ_t dgi_tᵀ x_t
            w_hh.accumulate(dgh.T @ _rows(cache["h_prev"]))  # dW_hh = Σ_t dgh_tᵀ h_{t-1}
            if b_ih is not None:
                b_ih.accumulate(dgi.sum(axis=0))  # db_ih = Σ_t Σ_n dgi_t
                b_hh.accumulate(dgh.sum(axis=0))  # db_hh = Σ_t Σ_n dgh_t
            d_out = (dgi @ w_ih.data).reshape(L, N, -1)  # dx_t = dgi_t W_ih: dY of the layer below
            for store, value in zip(initial, d_first, strict=True):
                store[layer] = value
        self.initial_state_grad = initial[0] if self._n_states == 1 else tuple(initial)
        return self._swap_batch_first(d_out)


class RNN(_Recurrent):
    """Elman RNN: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, act = tanh or ReLU.

    Parameters
    ----------
    input_size, hidden_size : int
        Features per step of the input and of the hidden state.
    num_layers : int, default 1
        Stacked layers; layer ``l > 0`` reads layer ``l - 1``'s output sequence (torch's
        ``dropout`` between layers and ``bidirectional`` are not provided).
    nonlinearity : {"tanh", "relu"}, default "tanh"
    bias : bool, default True
    batch_first : bool, default True
        ``input : (batch, length, input_size)`` when True (tinyrec's default, unlike torch's),
        ``(length, batch, input_size)`` when False.
    dtype : float32 (default) or float64
    seed : int or np.random.Generator
        Every weight and bias starts as U(−1/√hidden, 1/√hidden), as in torch.

    Attributes
    ----------
    weight_ih_l{k} : (hidden, input_size) for k = 0, (hidden, hidden) above
    weight_hh_l{k} : (hidden, hidden)
    bias_ih_l{k}, bias_hh_l{k} : (hidden,)
        Torch's names and shapes: ``load_state_dict`` accepts a torch RNN's state dict.
    initial_state_grad : (num_layers, batch, hidden)
        After ``backward``: dℒ/dh0 (the initial state's gradient; ``backward`` returns only dx).

    Notes
    -----
    Forward, for each step ``t = 1..L`` (``a_t`` is the pre-activation):

        a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh,     h_t = act(a_t)

    Backward through time, ``t = L..1``, with ``dh_L`` starting at ``grad_h_n`` (or 0)::

        dh_t   += dY_t                              (the output's own gradient)
        da_t    = dh_t ⊙ (1 − h_t²)                 (tanh)   or   dh_t ⊙ [a_t > 0]   (ReLU)
        dh_{t-1} = da_t W_hh

    then ``dW_ih = Σ_t da_tᵀ x_t``, ``dW_hh = Σ_t da_tᵀ h_{t-1}``, ``db_ih = db_hh = Σ_t da_t``
    (summed over the batch too) and ``dx_t = da_t W_ih``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = True,
        *,
        dtype=np.float32,
        seed=None,
    ):
        self.nonlinearity = check_choice(nonlinearity, "nonlinearity", ("tanh", "relu"))
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dtype=dtype, seed=seed)

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None):
        """``x : (N, L, input_size)``, ``h0 : (num_layers, N, hidden)`` or None (zeros).

        Returns ``(output, h_n)``: ``output : (N, L, hidden)`` (the top layer's h_t for every t),
        ``h_n : (num_layers, N, hidden)`` (every layer's last state).
        """
        output, (h_n,) = self._forward_all(x, (h0,))
        return output, h_n

    def backward(self, grad_output: np.ndarray | None = None, grad_h_n: np.ndarray | None = None):
        """dY ``(N, L, hidden)`` (or None) and dh_n ``(num_layers, N, hidden)`` (or None) → dx."""
        return self._backward_all(grad_output, (grad_h_n,))

    def _cell_forward(self, gi, w_hh, b_hh, state0):
        (h0,) = state0
        L, N, hidden = gi.shape
        hs = np.empty((L + 1, N, hidden), dtype=self.dtype)  # hs[t + 1] = h_t; hs[0] = h0
        hs[0] = h0
        for t in range(L):
            a = np.matmul(hs[t], w_hh.T, out=hs[t + 1])
            a += gi[t]
            if b_hh is not None:
                a += b_hh
            if self.nonlinearity == "tanh":
                np.tanh(a, out=a)
            else:
                np.maximum(a, 0.0, out=a)
        return hs[1:], (hs[L],), {"h_prev": hs[:-1], "h": hs[1:]}

    def _cell_backward(self, d_out, d_state, w_hh, cache):
        (dh,) = d_state
        h = cache["h"]
        da = np.empty_like(h)  # (L, N, hidden)
        for t in reversed(range(h.shape[0])):
            dh += d_out[t]  # dh_t += dY_t
            if self.nonlinearity == "tanh":
                np.multiply(dh, 1.0 - h[t] * h[t], out=da[t])  # da_t = dh_t ⊙ (1 − h_t²)
            else:
                np.multiply(dh, h[t] > 0, out=da[t])  # da_t = dh_t ⊙ [a_t > 0] (h_t > 0 exactly there)
            dh = da[t] @ w_hh  # dh_{t-1} = da_t W_hh
        return da, da, (dh,)


class GRU(_Recurrent):
    """Gated recurrent unit (Cho et al., 2014) with torch's gate order (r, z, n) and equations.

    Parameters are those of :class:`RNN` without ``nonlinearity``; the weights stack the three
    gates: ``weight_ih_l{k} : (3·hidden, input)``, ``weight_hh_l{k} : (3·hidden, hidden)``,
    ``bias_ih_l{k}``, ``bias_hh_l{k} : (3·hidden,)``; rows ``[0, hidden)`` are r,
    ``[hidden, 2·hidden)`` z, ``[2·hidden, 3·hidden)`` n. ``initial_state_grad`` holds dℒ/dh0 after
    ``backward``.

    Notes
    -----
    Forward, for each step (``σ`` the logistic function, ``⊙`` the elementwise product)::

        r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))
        h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    Backward through time, ``t = L..1``, ``dh`` starting at ``grad_h_n`` (or 0), with
    ``ghn_t = W_hn h_{t-1} + b_hn`` cached::

        dh     += dY_t
        dn      = dh ⊙ (1 − z_t);       da_n = dn ⊙ (1 − n_t²)
        dz      = dh ⊙ (h_{t-1} − n_t); da_z = dz ⊙ z_t (1 − z_t)
        dr      = da_n ⊙ ghn_t;         da_r = dr ⊙ r_t (1 − r_t)
        dgi_t   = [da_r, da_z, da_n]                 (gradient of W_i· x_t + b_i·)
        dgh_t   = [da_r, da_z, da_n ⊙ r_t]           (gradient of W_h· h_{t-1} + b_h·)
        dh_{t-1} = dh ⊙ z_t + dgh_t W_hh

    and the parameter and input gradients of the module docstring.
    """

    _gates = 3

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None):
        """``x : (N, L, input_size)``, ``h0 : (num_layers, N, hidden)`` or None → ``(output, h_n)``."""
        output, (h_n,) = self._forward_all(x, (h0,))
        return output, h_n

    def backward(self, grad_output: np.ndarray | None = None, grad_h_n: np.ndarray | None = None):
        """dY ``(N, L, hidden)`` (or None) and dh_n ``(num_layers, N, hidden)`` (or None) → dx."""
        return self._backward_all(grad_output, (grad_h_n,))

    def _cell_forward(self, gi, w_hh, b_hh, state0):
        (h0,) = state0
        L, N, width = gi.shape
        hidden = width // 3
        hs = np.empty((L + 1, N, hidden), dtype=self.dtype)  # hs[t + 1] = h_t
        hs[0] = h0
        gates = np.empty((L, N, width), dtype=self.dtype)  # [r, z, n] after their nonlinearity
        ghn = np.empty((L, N, hidden), dtype=self.dtype)  # W_hn h_{t-1} + b_hn
        gh = np.empty((N, width), dtype=self.dtype)
        w_hh_t = w_hh.T
        for t in range(L):
            np.matmul(hs[t], w_hh_t, out=gh)
            if b_hh is not None:
                gh += b_hh
            rz = gates[t, :, : 2 * hidden]
            np.add(gi[t, :, : 2 * hidden], gh[:, : 2 * hidden], out=rz)
            rz[...] = _sigmoid(rz)
            r, z = rz[:, :hidden], rz[:, hidden:]
            ghn[t] = gh[:, 2 * hidden :]
            n = gates[t, :, 2 * hidden :]
            np.multiply(r, ghn[t], out=n)
            n += gi[t, :, 2 * hidden :]
            np.tanh(n, out=n)
            h = hs[t + 1]  # h_t = n + z ⊙ (h_{t-1} − n)
            np.subtract(hs[t], n, out=h)
            h *= z
            h += n
        return hs[1:], (hs[L],), {"h_prev": hs[:-1], "gates": gates, "ghn": ghn}

    def _cell_backward(self, d_out, d_state, w_hh, cache):
        (dh,) = d_state
        gates, ghn, h_prev = cache["gates"], cache["ghn"], cache["h_prev"]
        dgi = np.empty_like(gates)  # (L, N, 3·hidden): [da_r, da_z, da_n] of every step
        dgh = np.empty_like(gates)  # (L, N, 3·hidden): [da_r, da_z, da_n ⊙ r] of every step
        for t in reversed(range(len(gates))):
            dh += d_out[t]  # dh += dY_t
            r, z, n = _split(gates[t], 3)
            da_r, da_z, da_n = _split(dgi[t], 3)  # views of dgi_t, filled in place
            np.multiply(dh * (1.0 - z), 1.0 - n * n, out=da_n)  # da_n = dh ⊙ (1 − z) ⊙ (1 − n²)
            np.multiply(dh * (h_prev[t] - n), z * (1.0 - z), out=da_z)  # da_z = dh ⊙ (h_{t-1} − n) ⊙ z(1 − z)
            np.multiply(da_n * ghn[t], r * (1.0 - r), out=da_r)  # da_r = da_n ⊙ ghn_t ⊙ r(1 − r)
            dgh_r, dgh_z, dgh_n = _split(dgh[t], 3)  # dgh_t = [da_r, da_z, da_n ⊙ r]
            dgh_r[...], dgh_z[...] = da_r, da_z
            np.multiply(da_n, r, out=dgh_n)
            dh = dh * z  # dh_{t-1} = dh ⊙ z + dgh_t W_hh
            dh += dgh[t] @ w_hh
        return dgi, dgh, (dh,)


class LSTM(_Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997) with torch's gate order (i, f, g, o).

    Parameters are those of :class:`GRU`, with four gates: ``weight_ih_l{k} : (4·hidden, input)``,
    ``weight_hh_l{k} : (4·hidden, hidden)``, biases ``(4·hidden,)``; rows ``[0, hidden)`` are i,
    ``[hidden, 2·hidden)`` f, ``[2·hidden, 3·hidden)`` g, ``[3·hidden, 4·hidden)`` o.
    ``initial_state_grad`` holds ``(dh0, dc0)`` after ``backward``.

    Notes
    -----
    Forward, for each step, with ``a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh`` split in four::

        i_t = σ(a_i)   f_t = σ(a_f)   g_t = tanh(a_g)   o_t = σ(a_o)
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
        h_t = o_t ⊙ tanh(c_t)

    Backward through time, ``t = L..1``, ``(dh, dc)`` starting at ``grad_state`` (or 0)::

        dh  += dY_t
        dc  += dh ⊙ o_t ⊙ (1 − tanh²(c_t))
        da_o = dh ⊙ tanh(c_t) ⊙ o_t (1 − o_t)
        da_i = dc ⊙ g_t ⊙ i_t (1 − i_t)
        da_f = dc ⊙ c_{t-1} ⊙ f_t (1 − f_t)
        da_g = dc ⊙ i_t ⊙ (1 − g_t²)
        dc_{t-1} = dc ⊙ f_t
        dh_{t-1} = [da_i, da_f, da_g, da_o] W_hh

    ``dgi_t = dgh_t = [da_i, da_f, da_g, da_o]``, and the parameter and input gradients follow as
    in the module docstring.
    """

    _gates = 4
    _n_states = 2

    def forward(self, x: np.ndarray, state: tuple | None = None):
        """``x : (N, L, input_size)``, ``state = (h0, c0)`` each ``(num_layers, N, hidden)``, or None.

        Returns ``(output, (h_n, c_n))`` with ``output : (N, L, hidden)``.
        """
        output, (h_n, c_n) = self._forward_all(x, (None, None) if state is None else state)
        return output, (h_n, c_n)

    def backward(self, grad_output: np.ndarray | None = None, grad_state: tuple | None = None) -> np.ndarray:
        """dY ``(N, L, hidden)`` (or None) and ``grad_state = (dh_n, dc_n)`` (either may be None) → dx."""
        return self._backward_all(grad_output, (None, None) if grad_state is None else grad_state)

    def _initial_states(self, args: dict) -> dict:
        state = args["state"]
        if state is None:
            return {}
        require(isinstance(state, (tuple, list)) and len(state) == 2,
                "LSTM state must be a tuple (h0, c0) of (num_layers, batch, hidden) arrays")
        return {"h0": state[0], "c0": state[1]}

    def _cell_forward(self, gi, w_hh, b_hh, state0):
        h0, c0 = state0
        L, N, width = gi.shape
        hidden = width // 4
        hs = np.empty((L + 1, N, hidden), dtype=self.dtype)  # hs[t + 1] = h_t
        cs = np.empty((L + 1, N, hidden), dtype=self.dtype)  # cs[t + 1] = c_t
        hs[0], cs[0] = h0, c0
        acts = np.empty((L, N, width), dtype=self.dtype)  # [i, f, g, o] after their nonlinearity
        tanh_c = np.empty((L, N, hidden), dtype=self.dtype)
        w_hh_t = w_hh.T
        for t in range(L):
            a = acts[t]
            np.matmul(hs[t], w_hh_t, out=a)
            a += gi[t]
            if b_hh is not None:
                a += b_hh
            ifo = _sigmoid(a)  # σ on all four blocks, then g is overwritten with tanh
            np.tanh(a[:, 2 * hidden : 3 * hidden], out=ifo[:, 2 * hidden : 3 * hidden])
            a[...] = ifo
            i, f, g, o = (
                a[:, :hidden],
                a[:, hidden : 2 * hidden],
                a[:, 2 * hidden : 3 * hidden],
                a[:, 3 * hidden :],
            )
            c = cs[t + 1]
            np.multiply(f, cs[t], out=c)
            c += i * g
            np.tanh(c, out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=hs[t + 1])
        cache = {"h_prev": hs[:-1], "c_prev": cs[:-1], "acts": acts, "tanh_c": tanh_c}
        return hs[1:], (hs[L], cs[L]), cache

    def _cell_backward(self, d_out, d_state, w_hh, cache):
        dh, dc = d_state
        acts, tanh_c, c_prev = cache["acts"], cache["tanh_c"], cache["c_prev"]
        da = np.empty_like(acts)  # (L, N, 4·hidden): [da_i, da_f, da_g, da_o] of every step
        for t in reversed(range(len(acts))):
            dh += d_out[t]  # dh += dY_t
            i, f, g, o = _split(acts[t], 4)
            da_i, da_f, da_g, da_o = _split(da[t], 4)  # views of da_t, filled in place
            tc = tanh_c[t]
            dc += dh * o * (1.0 - tc * tc)  # dc += dh ⊙ o_t ⊙ (1 − tanh²(c_t))
            np.multiply(dh * tc, o * (1.0 - o), out=da_o)  # da_o = dh ⊙ tanh(c_t) ⊙ o_t(1 − o_t)
            np.multiply(dc * g, i * (1.0 - i), out=da_i)  # da_i = dc ⊙ g_t ⊙ i_t(1 − i_t)
            np.multiply(dc * c_prev[t], f * (1.0 - f), out=da_f)  # da_f = dc ⊙ c_{t-1} ⊙ f_t(1 − f_t)
            np.multiply(dc * i, 1.0 - g * g, out=da_g)  # da_g = dc ⊙ i_t ⊙ (1 − g_t²)
            dc *= f  # dc_{t-1} = dc ⊙ f_t
            dh = da[t] @ w_hh  # dh_{t-1} = [da_i, da_f, da_g, da_o] W_hh
        return da, da, (dh, dc)
