# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 04 — Matrix factorization, twice
#
# Matrix factorization explains a rating by a dot product: each user `u` gets a vector
# `p_u ∈ R^d`, each item `i` a vector `q_i ∈ R^d`, and the model predicts
#
#     r̂_ui = p_u · q_i          (later: μ + b_u + b_i + p_u · q_i).
#
# Simon Funk's recipe (the "SVD" of the Netflix Prize, Surprise's `SVD`) trains it by
# stochastic gradient descent, **one rating at a time**, on
#
#     ℓ_ui = ½ (r_ui − r̂_ui)² + ½ λ (‖p_u‖² + ‖q_i‖²).
#
# With the error `e_ui = r_ui − r̂_ui`, the gradients are `∂ℓ/∂p_u = −e_ui q_i + λ p_u` and
# `∂ℓ/∂q_i = −e_ui p_u + λ q_i`, so one step with learning rate `η` is
#
#     p_u ← p_u + η (e_ui q_i − λ p_u)        q_i ← q_i + η (e_ui p_u − λ q_i)
#
# (both computed from the old vectors). We will build this model twice:
#
# 1. from framework pieces — `nn.Embedding` (the tables `P` and `Q`), `nn.Dot`, `MSELoss` and
#    the `SGD` optimizer — with a hand-written `backward`, as every neural model of tinyrec is;
# 2. as the fused Numba loop that `tinyrec.models.BiasedMF` runs
#    (`tinyrec.kernels.mf.funk_svd_epoch`),
#
# and check that, fed the ratings in the same order, they produce **the same numbers**. Then we
# train the full biased model on MovieLens-100K (or, without a local copy, on a synthetic data set
# with a planted low-rank model), look at item similarities and ask the model to explain a
# prediction. Your turn, at the end: add item biases to the layered version.
#
# Notation (docs/notation.md): `m` users, `n` items, `d` factors, `μ` the global mean.

# %%
import time

import numpy as np

import tinyrec.exercises
from tinyrec.data import movielens, synthetic
from tinyrec.errors import DataError
from tinyrec.evaluation import evaluate
from tinyrec.kernels.mf import funk_svd_epoch
from tinyrec.losses import MSELoss
from tinyrec.models import BaselineOnly, BiasedMF
from tinyrec.nn import Dot, Embedding, Module
from tinyrec.optim import SGD

try:
    train, test = movielens("100k", fold="u1", download=False)
    DATA = "MovieLens-100K, fold u1"
except DataError as exc:  # no local copy: a synthetic set with planted structure instead
    print(f"MovieLens-100K not found ({str(exc).splitlines()[0][:80]}...); using a SYNTHETIC set")
    from tinyrec.data import random_holdout

    train, test = random_holdout(synthetic(943, 1682, 100_000, seed=0), 0.2, seed=0)
    DATA = "synthetic (planted low-rank)"
print(DATA, "| train:", train)

# %% [markdown]
# ## 1. Layered: Embedding, Dot, MSELoss, SGD
#
# The network maps a batch of `(user, item)` index pairs to scores: two embedding lookups and a
# row-wise dot product. Its `backward` runs the chain rule in reverse: `Dot.backward` splits
# `dŷ` into `dP_rows = dŷ q_i` and `dQ_rows = dŷ p_u`, and each `Embedding.backward` adds its
# rows to the table's (row-sparse) gradient.


# %%
class LayeredMF(Module):
    """``ŷ = p_u · q_i``: two Embedding tables and a Dot. ``users, items : (batch,)`` → ``(batch,)``."""

    def __init__(self, n_users, n_items, d, *, dtype=np.float64, seed=0):
        self.P = Embedding(n_users, d, dtype=dtype, seed=seed)
        self.Q = Embedding(n_items, d, dtype=dtype, seed=seed)
        self.dot = Dot()

    def forward(self, users, items):
        return self.dot(self.P(users), self.Q(items))

    def backward(self, grad_output):
        d_pu, d_qi = self.dot.backward(grad_output)  # (batch, d) each
        self.P.backward(d_pu)
        self.Q.backward(d_qi)


# %% [markdown]
# Two constants need care to make the optimizer take Funk's step exactly:
#
# * `MSELoss` is `(ŷ − r)²`, twice Funk's `½ e²`; its gradient is `−2e` instead of `−e`;
# * `SGD(weight_decay=wd)` adds `wd · θ` to the gradient.
#
# With `lr = η / 2` and `weight_decay = 2λ`, the step is
# `θ ← θ − (η/2)(2 ∂(½e²)/∂θ + 2λθ)`, Funk's step. The decay of an embedding is *lazy*: only the
# rows in the batch are decayed, just as Funk's loop regularizes only `p_u` and `q_i`.

# %%
d, eta, lam = 8, 0.02, 0.05
n_demo = 3000  # one-at-a-time Python steps are slow: a slice of the ratings for the comparison
rng = np.random.default_rng(0)
order = rng.permutation(len(train))[:n_demo]  # the sample order both versions will follow
users, items = train.users.astype(np.int64), train.items.astype(np.int64)
ratings = train.ratings.astype(np.float64)
P0 = rng.normal(0, 0.1, (train.n_users, d))  # the same starting factors for both versions
Q0 = rng.normal(0, 0.1, (train.n_items, d))

net = LayeredMF(train.n_users, train.n_items, d)
net.P.weight.data[...] = P0
net.Q.weight.data[...] = Q0
loss_fn = MSELoss(reduction="sum")
optimizer = SGD(net.parameters(), lr=eta / 2, weight_decay=2 * lam)

start = time.perf_counter()
for t in order:
    u, i = users[t : t + 1], items[t : t + 1]  # a batch of one rating
    optimizer.zero_grad()
    loss = loss_fn(net(u, i), ratings[t : t + 1])
    net.backward(loss_fn.backward())
    optimizer.step()
layered_seconds = time.perf_counter() - start
print(f"layered: {n_demo} SGD steps in {layered_seconds:.2f} s")

# %% [markdown]
# ## 2. Fused: one Numba loop
#
# `funk_svd_epoch` does the same step for every rating in `order`, reading and writing the rows
# of `P` and `Q` in place. It also learns biases; we freeze them here by giving them a learning
# rate of 0 and take `μ = 0`, which leaves exactly `r̂ = p_u · q_i`.

# %%
P, Q = P0.copy(), Q0.copy()
bu, bi = np.zeros(train.n_users), np.zeros(train.n_items)
lr = np.array([0.0, 0.0, eta, eta])  # rates of b_u, b_i, p_u, q_i
reg = np.array([0.0, 0.0, lam, lam])
funk_svd_epoch(users, items, ratings, order, 0.0, bu, bi, P, Q, lr, reg)  # compiles (first call)
P, Q = P0.copy(), Q0.copy()
start = time.perf_counter()
funk_svd_epoch(users, items, ratings, order, 0.0, bu, bi, P, Q, lr, reg)
fused_seconds = time.perf_counter() - start

print("same P:", np.allclose(net.P.weight.data, P, rtol=1e-12, atol=1e-14))
print("same Q:", np.allclose(net.Q.weight.data, Q, rtol=1e-12, atol=1e-14))
largest = max(np.abs(net.P.weight.data - P).max(), np.abs(net.Q.weight.data - Q).max())
print(f"largest difference: {largest:.1e}")
speedup = layered_seconds / fused_seconds
print(f"fused: {n_demo} steps in {1e3 * fused_seconds:.3f} ms ({speedup:,.0f}x faster)")
assert np.allclose(net.P.weight.data, P, rtol=1e-12, atol=1e-14)
assert np.allclose(net.Q.weight.data, Q, rtol=1e-12, atol=1e-14)

# %% [markdown]
# Same numbers, to float64 round-off. The layered version is how a neural recommender is put
# together (swap `Dot` for an MLP and you have NCF); the fused loop is what makes classic MF
# cheap: no batch of one, no Python in the loop.
#
# ## 3. The full model, on all the training ratings
#
# `BiasedMF` adds the global mean and the biases, `r̂_ui = μ + b_u + b_i + p_u · q_i`, with
# Surprise's `SVD` defaults (100 factors, 20 epochs, `η = 0.005`, `λ = 0.02`, init `N(0, 0.1²)`).

# %%
start = time.perf_counter()
mf = BiasedMF(seed=0).fit(train)
fit_seconds = time.perf_counter() - start
baseline = BaselineOnly().fit(train)
for name, model in (("BaselineOnly", baseline), ("BiasedMF", mf)):
    print(f"{name:12s} test RMSE {evaluate(model, test, train=train, protocol='rating')['rmse']:.4f}")
print(f"BiasedMF fit: {fit_seconds:.2f} s, {1e3 * np.median(mf.history_['epoch_seconds']):.1f} ms per epoch")
print("training RMSE by epoch:", np.round(mf.history_["train_rmse"][::4], 3))

# %% [markdown]
# ### Two threads without a race
#
# One SGD step reads and writes only `b_u, b_i, p_u, q_i`. Two steps on different users *and*
# different items therefore do not touch each other's numbers, and can run at the same time.
# `BiasedMF(n_blocks=B)` uses that: it cuts the users into `B` groups and the items into `B`
# groups, so the ratings fall into `B × B` blocks. Blocks `(0, 0), (1, 1), …` share no user and
# no item: they form a *stratum*, and its blocks run on parallel threads. An epoch runs `B`
# strata (`(g, g + s mod B)` for `s = 0 … B−1`), so every rating is still visited once
# (Gemulla et al., KDD 2011). No step ever waits for a lock, and the result does not depend on
# the threads' timing: the same seed gives the same model on 1 core or 16.

# %%
blocked = BiasedMF(n_blocks=4, seed=0).fit(train)
blocked_rmse = evaluate(blocked, test, train=train, protocol="rating")["rmse"]
plain_rmse = evaluate(mf, test, train=train, protocol="rating")["rmse"]
print(f"test RMSE: plain SGD {plain_rmse:.4f}, blocked SGD {blocked_rmse:.4f}")
print(f"{1e3 * np.median(blocked.history_['epoch_seconds']):.1f} ms per epoch with n_blocks=4")
assert abs(blocked_rmse - plain_rmse) < 0.01  # a different order of the same steps, the same accuracy

# %% [markdown]
# ## 4. Item similarities
#
# Items whose vectors point the same way are rated alike by the same people. `similar_items`
# ranks items by the cosine of their `q` vectors.

# %%
titles = train.titles if train.titles is not None else np.array([f"item {i}" for i in range(train.n_items)])
anchor = int(np.argmax(train.item_counts()))  # the most rated item
neighbours, sims = mf.similar_items(np.array([anchor]), k=5)
print(f"most similar to {str(titles[anchor])!r}:")
for j, s in zip(neighbours[0], sims[0], strict=True):
    print(f"  {s:+.3f}  {titles[j]}")

# %% [markdown]
# ## 5. Why this prediction?
#
# `explain` splits one prediction into its terms: `μ`, the two biases, and the factors whose
# products `p_uf q_if` moved it most. The table adds up to the prediction.

# %%
user = 0
top_items, _ = mf.recommend(np.array([user]), k=1)
why = mf.explain(user, int(top_items[0, 0]), top=4)
print(f"top recommendation for user {user}: {titles[why.item]}")
print(why)
total = why.mu + why.user_bias + why.item_bias + sum(row[3] for row in why.rows) + why.rest
assert np.isclose(total, why.prediction)

# %% [markdown]
# ## Your turn: item biases in the layered version
#
# Extend `LayeredMF` to `r̂_ui = μ + b_i + p_u · q_i`: a third table `B = Embedding(n_items, 1)`
# holds the item biases (start it at zero), and `μ` is a constant (the training mean). In
# `backward`, remember that `∂r̂/∂b_i = 1`: the bias table receives `dŷ` itself, as a column.
#
# Fill in `forward` and `backward` below, then run the next cell.
# `tinyrec.exercises.item_biases.check` builds your model on a small problem of its own and
# checks the shape and the values of `forward`, the gradient that each table receives (with
# items repeated in the batch), a gradient check of every table and, last, that a few hundred SGD
# steps, one rating at a time, take your model exactly where Funk's loop takes it:
# `funk_svd_epoch` run with `μ`, frozen user biases, and item biases learnt at rate `η` with L2
# `λ`, as in section 2. The reference solution is printed by
# `tinyrec.exercises.show_solution("item_biases")`. Try your own first.


# %%
class LayeredBiasedMF(LayeredMF):
    """``ŷ = μ + b_i + p_u · q_i``."""

    def __init__(self, n_users, n_items, d, mu, *, dtype=np.float64, seed=0):
        super().__init__(n_users, n_items, d, dtype=dtype, seed=seed)
        self.mu = mu
        self.B = Embedding(n_items, 1, dtype=dtype, seed=seed)
        self.B.weight.data[...] = 0.0

    def forward(self, users, items):
        raise NotImplementedError("your turn: return mu + b_i + p_u . q_i, shape (batch,)")

    def backward(self, grad_output):
        raise NotImplementedError("your turn: backpropagate into P, Q and B")


# %%
report = tinyrec.exercises.item_biases.check(LayeredBiasedMF)
print(report)
