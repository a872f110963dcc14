# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 05 — Sequence layers: convolution, recurrence, attention
#
# A user's history is a sequence of items, and the sequential recommenders read it with one of
# three layers: a **convolution** slides a filter over the last few items (Caser), a
# **recurrent network** carries a state from item to item (GRU4Rec), and **self-attention** lets
# every position look back at all earlier ones at once (SASRec). This tutorial builds each from
# scratch in NumPy, forward and backward, and checks each backward numerically:
#
# 1. a 1-D convolution computed as **im2col** and one matrix product;
# 2. a **GRU**, with **backpropagation through time** (BPTT) written step by step;
# 3. **scaled dot-product attention** with a **causal mask**;
# 4. your turn: the backward of the attention softmax.
#
# Shapes are batch first: a batch of `N` sequences of length `L` with `C` features per step is
# `X : (N, L, C)` (the convolution, like torch, uses channels first: `(N, C, L)`). `dY`, `dX`,
# `dW` mean ∂ℒ/∂Y, ∂ℒ/∂X, ∂ℒ/∂W for the scalar loss, each of the shape of what it differentiates.
# Everything runs in float64 so that the gradient checks can be strict. Run it as a script:
# `python tutorials/05_sequence_layers.py`.

# %%
import numpy as np

import tinyrec.exercises
from tinyrec.gradcheck import check_module, numerical_gradient, relative_error
from tinyrec.nn import Module, Parameter, Softmax
from tinyrec.nn.attention import MultiheadAttention, causal_mask
from tinyrec.nn.conv import Conv1d
from tinyrec.nn.recurrent import GRU, RNN

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Convolution as im2col
#
# A 1-D convolution with weight `W : (O, C, k)` and bias `b : (O,)` computes, for each output
# position `t` (deep learning libraries do not flip the kernel: it is a cross-correlation),
#
# $$Y_{n,o,t} = b_o + \sum_{c=0}^{C-1} \sum_{j=0}^{k-1} W_{o,c,j}\, X_{n,c,t+j}.$$
#
# Written this way it is a triple loop. **im2col** turns it into one matrix product: copy each
# window `X[n, :, t:t+k]` into a column of a matrix `X_col : (C·k, N·L_out)`, flatten the weight
# to `W_col : (O, C·k)`, and then
#
# $$Y_{\text{col}} = W_{\text{col}} X_{\text{col}} + b \qquad (O, N \cdot L_{out}).$$
#
# The backward pass is three more products, and **col2im** — the adjoint of im2col, which adds
# every column entry back to the input position it was copied from:
#
# $$dW_{\text{col}} = dY_{\text{col}} X_{\text{col}}^\top, \quad
# db = \textstyle\sum_{\text{cols}} dY_{\text{col}}, \quad
# dX = \mathrm{col2im}(W_{\text{col}}^\top dY_{\text{col}}).$$
#
# An input position covered by several windows receives the sum of their gradients: that is
# why col2im **adds** (`+=`) instead of assigning.


# %%
def im2col_1d(x, k):
    """x : (N, C, L) -> X_col : (C·k, N·L_out), row (c, j), column (n, t) holds x[n, c, t + j]."""
    N, C, L = x.shape
    L_out = L - k + 1
    cols = np.empty((C, k, N, L_out))
    for j in range(k):  # one strided copy per kernel offset, not one per window
        cols[:, j] = x[:, :, j : j + L_out].transpose(1, 0, 2)  # (N, C, L_out) -> (C, N, L_out)
    return cols.reshape(C * k, N * L_out)


def col2im_1d(cols, x_shape, k):
    """The adjoint of im2col_1d: add every entry back to the input position it came from."""
    N, C, L = x_shape
    L_out = L - k + 1
    cols = cols.reshape(C, k, N, L_out)
    dx = np.zeros(x_shape)
    for j in range(k):
        dx[:, :, j : j + L_out] += cols[:, j].transpose(1, 0, 2)  # overlapping windows add up
    return dx


class MyConv1d(Module):
    def __init__(self, in_channels, out_channels, k, seed=0):
        g = np.random.default_rng(seed)
        self.k = k
        self.weight = Parameter(g.standard_normal((out_channels, in_channels, k)) * 0.3)
        self.bias = Parameter(g.standard_normal(out_channels) * 0.1)

    def forward(self, x):
        N = x.shape[0]
        O = self.weight.shape[0]
        self._cols = im2col_1d(x, self.k)  # (C·k, N·L_out), cached for dW
        self._x_shape = x.shape
        y = self.weight.data.reshape(O, -1) @ self._cols + self.bias.data[:, None]  # (O, N·L_out)
        return y.reshape(O, N, -1).transpose(1, 0, 2)  # (N, O, L_out)

    def backward(self, dy):
        O = self.weight.shape[0]
        dy_col = dy.transpose(1, 0, 2).reshape(O, -1)  # (O, N·L_out), columns (n, t) as in X_col
        self.weight.accumulate((dy_col @ self._cols.T).reshape(self.weight.shape))
        self.bias.accumulate(dy_col.sum(axis=1))
        return col2im_1d(self.weight.data.reshape(O, -1).T @ dy_col, self._x_shape, self.k)


conv = MyConv1d(3, 4, k=3)
x = rng.standard_normal((2, 3, 7))  # (N, C, L)
report = check_module(conv, x)
print(report)
report.assert_ok(1e-6)

# %% [markdown]
# The gradient check perturbs every input and weight entry by ±ε and compares the change of the
# loss with our analytic gradient. The table above lists the worst relative error of each array,
# and `assert_ok(1e-6)` has just checked that every one is below 1e-6 (a wrong gradient is off at
# order 1). And tinyrec's own `Conv1d`, given the same weights, computes the same output and the
# same input gradient:

# %%
reference = Conv1d(3, 4, 3, dtype=np.float64)
reference.load_state_dict(conv.state_dict())
dy = rng.standard_normal((2, 4, 5))
print("same output:", np.allclose(reference(x), conv(x)))
print("same dX:    ", np.allclose(reference.backward(dy), conv.backward(dy)))

# %% [markdown]
# ## 2. A GRU and backpropagation through time
#
# A recurrent layer applies the same cell at every step, feeding it the previous state. The GRU
# cell (torch's equations and gate order r, z, n):
#
# $$\begin{aligned}
# r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) &&\text{reset gate}\\
# z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) &&\text{update gate}\\
# n_t &= \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) &&\text{candidate}\\
# h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}.
# \end{aligned}$$
#
# The three gates' weights are stacked: `W_ih : (3H, C)`, `W_hh : (3H, H)`. Unrolled over `L`
# steps the network is just a deep feed-forward network whose layers share their weights, so
# its backward is the chain rule run from the last step to the first — **backpropagation
# through time**. At step `t` the state receives gradient from two places: the output `Y_t = h_t`
# itself, and the next step, which used `h_t` as its `h_{t-1}`:
#
# $$dh_t = dY_t + \frac{\partial h_{t+1}}{\partial h_t}^\top dh_{t+1}.$$
#
# Inside one step, with `dh` known (σ' = σ(1 − σ), tanh' = 1 − tanh²):
#
# $$\begin{aligned}
# dn &= dh \odot (1 - z_t), & da_n &= dn \odot (1 - n_t^2)\\
# dz &= dh \odot (h_{t-1} - n_t), & da_z &= dz \odot z_t (1 - z_t)\\
# dr &= da_n \odot (W_{hn} h_{t-1} + b_{hn}), & da_r &= dr \odot r_t (1 - r_t)
# \end{aligned}$$
#
# and the pre-activations' gradients flow to the weights and to `h_{t-1}`: the input side sees
# `[da_r, da_z, da_n]`, the recurrent side `[da_r, da_z, da_n ⊙ r_t]` (the reset gate multiplies
# `W_hn h + b_hn`), and `dh_{t-1} = dh ⊙ z_t + [da_r, da_z, da_n ⊙ r_t] W_hh`. Weight gradients
# are **summed over the steps**, because every step uses the same weights.


# %%
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


class MyGRU(Module):
    """Single-layer GRU, batch first: x (N, L, C) -> (output (N, L, H), h_n (1, N, H))."""

    def __init__(self, input_size, hidden_size, seed=0):
        g = np.random.default_rng(seed)
        s = 1 / np.sqrt(hidden_size)  # torch's U(-1/sqrt(H), 1/sqrt(H))
        H3 = 3 * hidden_size
        self.weight_ih_l0 = Parameter(g.uniform(-s, s, (H3, input_size)))
        self.weight_hh_l0 = Parameter(g.uniform(-s, s, (H3, hidden_size)))
        self.bias_ih_l0 = Parameter(g.uniform(-s, s, H3))
        self.bias_hh_l0 = Parameter(g.uniform(-s, s, H3))
        self.H = hidden_size

    def forward(self, x):
        N, L, _ = x.shape
        H = self.H
        W_ih, W_hh = self.weight_ih_l0.data, self.weight_hh_l0.data
        b_ih, b_hh = self.bias_ih_l0.data, self.bias_hh_l0.data
        h = np.zeros((N, H))
        self._steps = []  # what each step's backward needs
        outputs = []
        for t in range(L):
            gi = x[:, t] @ W_ih.T + b_ih  # (N, 3H): input part of r, z, n
            gh = h @ W_hh.T + b_hh  # (N, 3H): recurrent part
            r = sigmoid(gi[:, :H] + gh[:, :H])
            z = sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
            n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
            self._steps.append((x[:, t], h, r, z, n, gh[:, 2 * H :]))
            h = (1 - z) * n + z * h
            outputs.append(h)
        return np.stack(outputs, axis=1), h[None]

    def backward(self, dY, dh_n):
        W_ih, W_hh = self.weight_ih_l0.data, self.weight_hh_l0.data
        dh = dh_n[0].copy()  # gradient arriving from after the last step
        dx = []
        for t in reversed(range(len(self._steps))):
            x_t, h_prev, r, z, n, ghn = self._steps[t]
            dh = dh + dY[:, t]  # the output of step t is h_t itself
            da_n = dh * (1 - z) * (1 - n**2)
            da_z = dh * (h_prev - n) * z * (1 - z)
            da_r = da_n * ghn * r * (1 - r)
            dgi = np.concatenate([da_r, da_z, da_n], axis=1)  # (N, 3H)
            dgh = np.concatenate([da_r, da_z, da_n * r], axis=1)  # (N, 3H)
            self.weight_ih_l0.accumulate(dgi.T @ x_t)  # summed over steps by accumulate
            self.weight_hh_l0.accumulate(dgh.T @ h_prev)
            self.bias_ih_l0.accumulate(dgi.sum(axis=0))
            self.bias_hh_l0.accumulate(dgh.sum(axis=0))
            dx.append(dgi @ W_ih)
            dh = dh * z + dgh @ W_hh  # to step t - 1
        return np.stack(dx[::-1], axis=1)


gru = MyGRU(3, 4)
x = rng.standard_normal((2, 6, 3))
report = check_module(gru, x)  # random dY for the outputs *and* for h_n
print(report)
report.assert_ok(1e-6)

# %% [markdown]
# Our GRU's parameters have torch's names, so tinyrec's `GRU` (and `torch.nn.GRU`) load them
# directly. tinyrec's version runs the same recursion with the input projections of all steps
# done in one matrix product and preallocated buffers; the numbers are the same:

# %%
reference = GRU(3, 4, dtype=np.float64)
reference.load_state_dict(gru.state_dict())
(y_ref, h_ref), (y_mine, h_mine) = reference(x), gru(x)
dY, dh_n = rng.standard_normal(y_ref.shape), rng.standard_normal(h_ref.shape)
print("same outputs:", np.allclose(y_ref, y_mine) and np.allclose(h_ref, h_mine))
print("same dX:     ", np.allclose(reference.backward(dY, dh_n), gru.backward(dY, dh_n)))

# %% [markdown]
# **Why gates?** The gradient reaching step `t` from the end of the sequence is a product of one
# Jacobian per later step. In a plain RNN, `h_t = tanh(W_ih x_t + W_hh h_{t-1})`, each factor
# is `diag(1 − h²) W_hh`, and with small weights the product shrinks geometrically: the first
# items of a history barely move the final state. The GRU's `dh_{t-1} = dh ⊙ z_t + …` has a
# path that is only a gate: an update gate near 1 passes the gradient on nearly intact (and
# keeps the state), one near 0.5 halves it at each step. Here is the size of
# ∂(sum of the final state)/∂x_t over a 30-step sequence, for a plain RNN, a GRU as initialized,
# and a GRU whose update-gate bias was raised to +3 (z ≈ 0.95: a GRU that has learned to remember):

# %%
x_long = rng.standard_normal((1, 30, 3))
remembering = GRU(3, 4, dtype=np.float64, seed=1)
remembering.bias_ih_l0.data[4:8] += 3.0  # rows [H, 2H) of the stacked gates are z's
layers = {
    "RNN": RNN(3, 4, dtype=np.float64, seed=1),
    "GRU": GRU(3, 4, dtype=np.float64, seed=1),
    "GRU, z-bias +3": remembering,
}
for name, layer in layers.items():
    _, h = layer(x_long)
    dx = layer.backward(None, np.ones_like(h))  # only the final state has a gradient
    norms = np.linalg.norm(dx[0], axis=1)  # |dℒ/dx_t| for each step t
    shown = "  ".join(f"{v:.1e}" for v in norms[[0, 10, 20, 29]])
    print(f"{name:>15}: |dℒ/dx_t| at t = 0, 10, 20, 29: {shown}")

# %% [markdown]
# ## 3. Scaled dot-product attention with a causal mask
#
# Attention compares every query with every key and mixes the values by the resulting
# probabilities. For one head of size `d_k`, `Q : (N, L, d_k)`, `K, V : (N, L, d_k)`:
#
# $$A = \frac{Q K^\top}{\sqrt{d_k}}, \qquad P = \mathrm{softmax}_{\text{rows}}(A + M), \qquad O = P V,$$
#
# where the **causal mask** `M` is `−∞` above the diagonal: position `i` may attend to `j ≤ i`
# only (predicting the next item must not peek at it). `exp(−∞) = 0`, so masked keys get
# probability exactly 0. Dividing by `√d_k` keeps the scores' variance near 1 whatever `d_k`, so
# the softmax does not saturate.
#
# Backward, from `dO`:
#
# $$dV = P^\top dO, \qquad dP = dO\, V^\top, \qquad dA = \mathrm{softmax}'(dP),
# \qquad dQ = \frac{dA\, K}{\sqrt{d_k}}, \qquad dK = \frac{dA^\top Q}{\sqrt{d_k}}.$$
#
# The softmax step is a Jacobian-vector product; for now we borrow it from tinyrec's `Softmax`
# layer (writing it is your turn, below).


# %%
class CausalAttention(Module):
    """softmax(Q Kᵀ / √d_k, causal) V for Q, K, V : (N, L, d_k); one head, no projections."""

    def __init__(self, softmax_backward=None):
        self.softmax = Softmax(dim=-1)
        self.softmax_backward = softmax_backward  # f(P, dP) -> dA; None: tinyrec's Softmax

    def forward(self, Q, K, V):
        L, d = Q.shape[1], Q.shape[2]
        A = Q @ K.transpose(0, 2, 1) / np.sqrt(d)  # (N, L, L) scores
        A = np.where(causal_mask(L), -np.inf, A)  # mask[i, j] = j > i
        P = self.softmax(A)  # (N, L, L); rows sum to 1, zero above the diagonal
        self._cache = (Q, K, V, P)
        return P @ V  # (N, L, d)

    def backward(self, dO):
        Q, K, V, P = self._cache
        d = Q.shape[2]
        dV = P.transpose(0, 2, 1) @ dO
        dP = dO @ V.transpose(0, 2, 1)
        dA = self.softmax.backward(dP) if self.softmax_backward is None else self.softmax_backward(P, dP)
        dQ = dA @ K / np.sqrt(d)
        dK = dA.transpose(0, 2, 1) @ Q / np.sqrt(d)
        return dQ, dK, dV


Q, K, V = (rng.standard_normal((2, 5, 4)) for _ in range(3))
attention = CausalAttention()
report = check_module(attention, Q, K, V)
print(report)
report.assert_ok(1e-6)
attention(Q, K, V)
print("attention probabilities of sequence 0 (lower triangular):")
print(np.round(attention._cache[3][0], 3))

# %% [markdown]
# A masked entry has `P = 0`, and every term of the softmax backward is multiplied by `P`, so
# no gradient flows from position `i` to a later position. Changing the future leaves the past
# untouched, in the output as in the gradients:

# %%
V_future = V.copy()
V_future[:, 3:] += 10.0
unchanged = np.allclose(attention(Q, K, V)[:, :3], attention(Q, K, V_future)[:, :3])
print("outputs of positions 0-2 unchanged:", unchanged)

# %% [markdown]
# `tinyrec.nn.MultiheadAttention` adds learned projections (`Q = query W_qᵀ + b_q`, ...), splits
# `E` features into heads, and projects the concatenated heads back. With one head and identity
# projections it is exactly our function:

# %%
mha = MultiheadAttention(4, num_heads=1, dtype=np.float64)
mha.in_proj_weight.data[:] = np.vstack([np.eye(4)] * 3)  # W_q = W_k = W_v = I
mha.out_proj.weight.data[:] = np.eye(4)  # biases start at 0, as in torch
y_mha, _ = mha(Q, K, V, attn_mask=causal_mask(5))
print("MultiheadAttention(1 head, identity projections) == ours:", np.allclose(y_mha, attention(Q, K, V)))

# %% [markdown]
# ## Your turn: the backward of the attention softmax
#
# Row by row, `P = softmax(A)` has Jacobian ∂P_i/∂A_j = P_i (δ_ij − P_j). Given `dP` (∂ℒ/∂P),
# write `dA` (∂ℒ/∂A) for whole arrays `P, dP : (N, L, L)`.
#
# *Hints:* apply the Jacobian's transpose to `dP` and simplify; the result needs only `P`, `dP`,
# an element-wise product and one sum over the last axis (`keepdims=True`). Never build the
# `L × L` Jacobian of each row. What does your formula give where `P = 0` (a masked key)?
#
# Replace the `raise NotImplementedError` line, then run the next cell.
# `tinyrec.exercises.softmax_backward.check` compares your `dA` with the reference on random
# causal-masked cases, checks two properties any right answer has (each row of `dA` sums to 0,
# and a masked key gets exactly 0), checks that `P` and `dP` are left unchanged, and runs a
# gradient check of a causal softmax whose backward is your function. The reference solution,
# with its derivation, is printed by `tinyrec.exercises.show_solution("softmax_backward")`. Try
# your own first.


# %%
def my_softmax_backward(P, dP):
    raise NotImplementedError("your turn: return dA, of the shape of P")


# %%
report = tinyrec.exercises.softmax_backward.check(my_softmax_backward)
print(report)

# %% [markdown]
# Treating softmax as if it acted entry by entry, `dA = P ⊙ dP`, is a classic mistake. The checks
# catch it, and say which property it breaks:


# %%
def wrong_softmax_backward(P, dP):
    return P * dP


wrong = tinyrec.exercises.softmax_backward.check(wrong_softmax_backward)
print(wrong)
assert not wrong.ok, "the checks should have rejected wrong_softmax_backward"

# %% [markdown]
# Finally, a numerical check of a single number by hand, the way `check_module` does it for every
# entry: perturb `Q[0, 2, 1]` by ±ε and compare the slope of the loss with our `dQ[0, 2, 1]`
# (the attention of section 3, with tinyrec's softmax backward).

# %%
dO = rng.standard_normal((2, 5, 4))
attention = CausalAttention()
attention(Q, K, V)
dQ, _, _ = attention.backward(dO)
numeric = numerical_gradient(lambda: float(np.sum(attention(Q, K, V) * dO)), Q)
print(f"dQ[0, 2, 1]: analytic {dQ[0, 2, 1]:.10f}, numerical {numeric[0, 2, 1]:.10f}")
print(f"relative error over all of dQ: {relative_error(dQ, numeric):.2e}")
