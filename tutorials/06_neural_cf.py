# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 06 — Neural collaborative filtering: from MF to GMF to NeuMF
#
# Matrix factorization scores a (user, item) pair by a dot product, `ŷ_ui = p_u · q_i`.
# He et al. ("Neural Collaborative Filtering", WWW 2017) asked what happens when that fixed
# function is replaced by learnt ones:
#
# * **GMF** keeps the element-wise product but weighs its coordinates:
#   `ŷ_ui = w · (p_u ⊙ q_i) + b` (with `w = 1, b = 0` it *is* the dot product);
# * **MLP** concatenates the two vectors and lets a tower of Linear + ReLU layers find the
#   interaction: `ŷ_ui = w · MLP([p_u ; q_i]) + b`;
# * **NeuMF** runs both towers side by side, each with its own embeddings, and fuses their last
#   layers with one output layer: `ŷ_ui = w · [h_GMF ; h_MLP] + b`.
#
# The data are implicit: we only know that a user interacted with an item. So the model is a
# classifier of "interacted or not", `σ(ŷ_ui)`, trained with binary cross-entropy — on the
# observed pairs (label 1) and on sampled pairs the user never touched (label 0).
#
# In this notebook: negative sampling, the GMF backward by hand, the NeuMF backward through its
# two towers by hand (both checked against tinyrec), training curves, and an honest comparison
# with plain matrix factorization. Your turn at the end: a third tower.
#
# Notation (docs/notation.md): `p_u`, `q_i` embedding rows, `⊙` element-wise product, `σ` the
# sigmoid, `dY` the gradient of the loss with respect to `Y`.

# %%
import time

import numpy as np

import tinyrec.exercises
from tinyrec.data import NegativeSampler, leave_one_out
from tinyrec.data.embedded import load_embedded
from tinyrec.evaluation import evaluate
from tinyrec.gradcheck import check_module
from tinyrec.losses import BCEWithLogitsLoss
from tinyrec.models import BPRMF, Popularity
from tinyrec.models.ncf import GMF, NeuMF
from tinyrec.models.ncf_net import GMFTower, MLPTower, NCFNet
from tinyrec.nn import Embedding, Module

data = load_embedded()  # MovieTweetings, 5-core: ships inside tinyrec (MIT licence)
data = data.with_ratings(np.ones(len(data)))  # implicit: every rating is an interaction
train, test = leave_one_out(data, by="time")
print(f"{len(train):,} training interactions, {train.n_users:,} users, {train.n_items:,} items")
print(f"{len(test):,} held-out interactions (each user's latest)")

# %% [markdown]
# ## Negative sampling
#
# A user's non-interactions are not all "dislikes" — most are items the user never saw — but
# they are, on average, less likely than the items the user chose. NCF draws, for every
# observed pair, `n_negatives = 4` items uniformly among the items **that user** has not
# interacted with, and **redraws them every epoch** so that no fixed set of negatives is
# memorised. An item that the user did interact with must never be drawn: it would teach the
# model the opposite of the truth.
#
# Drawing for one user with NumPy is a set difference:

# %%
rng = np.random.default_rng(0)
user = 7
positives = train.positives(user)
candidates = np.setdiff1d(np.arange(train.n_items), positives)
by_hand = rng.choice(candidates, size=4)
print(f"user {user}: {len(positives)} positives; 4 negatives drawn by hand: {by_hand}")

# %% [markdown]
# tinyrec's `NegativeSampler` does the same for a whole batch of users at once, with a Numba
# kernel (rejection sampling against each user's sorted positives, no `n_items`-long array per
# user). Whatever it draws, none is a positive:

# %%
sampler = NegativeSampler(train, seed=0)
negatives = sampler.sample(train.users, 4)  # (len(train), 4)
seen = np.zeros((train.n_users, train.n_items), dtype=bool)
seen[train.users, train.items] = True
assert not seen[train.users[:, None], negatives].any()
print(f"{negatives.size:,} negatives drawn for one epoch; none of them is a positive of its user")

# %% [markdown]
# ## GMF: forward and backward by hand
#
# For a batch of `N` pairs, `P_b = P[users]` and `Q_b = Q[items]` are `(N, d)`;
#
#     h = P_b ⊙ Q_b                 (N, d)
#     ŷ = h wᵀ + b                  (N,)      w : (1, d), b : (1,)
#     ℒ = mean_n BCE(ŷ_n, y_n)
#
# The gradient of the mean BCE with logits is `dŷ = (σ(ŷ) − y) / N`. Going back:
#
#     dw = dŷᵀ h        db = Σ_n dŷ_n        dh = dŷ w   (N, d)
#     dP_b = dh ⊙ Q_b   dQ_b = dh ⊙ P_b
#
# and the rows of `dP_b` are **summed** into the table rows they came from (a user appearing
# twice in the batch gets both contributions) — `np.add.at` does that.

# %%
d, N = 4, 6
net = NCFNet(
    {"gmf": GMFTower(10, 12, d, init_std=0.5, dtype=np.float64, seed=0)}, 10, 12, dtype=np.float64, seed=1
)
users = np.array([0, 3, 3, 9, 1, 0])  # users 0 and 3 appear twice
items = np.array([2, 5, 11, 0, 5, 7])
labels = np.array([1.0, 0, 1, 0, 0, 1])

P, Q = net.gmf.user_embedding.weight.data, net.gmf.item_embedding.weight.data
w, b = net.output.weight.data, net.output.bias.data
h = P[users] * Q[items]  # (N, d)
logits = h @ w[0] + b[0]  # (N,)
d_logits = (1 / (1 + np.exp(-logits)) - labels) / N  # (N,)
dw = d_logits @ h  # (d,)
dh = np.outer(d_logits, w[0])  # (N, d)
dP = np.zeros_like(P)
np.add.at(dP, users, dh * Q[items])  # repeated users are summed
dQ = np.zeros_like(Q)
np.add.at(dQ, items, dh * P[users])

loss = BCEWithLogitsLoss()
loss.forward(net(users, items), labels)
net.backward(loss.backward())
assert np.allclose(net.output.weight.grad[0], dw)
assert np.allclose(net.gmf.user_embedding.weight.dense_grad(), dP)
assert np.allclose(net.gmf.item_embedding.weight.dense_grad(), dQ)
print("GMF gradients by hand == tinyrec's NCFNet")
print("tinyrec keeps the table gradient row-sparse:", net.gmf.user_embedding.weight.grad)

# %% [markdown]
# The table gradient is a `RowGrad`: only the rows the batch touched (here users 0, 1, 3, 9),
# never a dense `(n_users, d)` array. With `lazy_embeddings=True`, the default of `NeuMF` and
# `NCFMLP`, Adam then updates only those rows ("lazy" Adam, like `torch.optim.SparseAdam`), so a
# training step costs `O(N · d)`, however many users there are. `GMF` defaults to
# `lazy_embeddings=False`: Adam moves every row at every step, on its momentum, as
# `torch.optim.Adam` does on the dense tables of the NCF reference code. All of GMF's learning is
# in its tables, and in tinyrec's measurements it did clearly better with dense updates (the
# figures are in `GMF`'s docstring); the other two models keep the cheaper lazy step.
#
# ## NeuMF: the backward through two towers
#
#                      ┌──── GMF tower: h_G = p_u^G ⊙ q_i^G ─────────────┐
#     (u, i) ──────────┤                                                  ├─ [h_G ; h_M] ─ Linear ─ ŷ
#                      └──── MLP tower: h_M = MLP([p_u^M ; q_i^M]) ───────┘
#
# Forward, the towers run independently and their outputs are concatenated, `z = [h_G ; h_M]`.
# Backward, the output layer gives `dz = dŷ w`, and the concatenation **splits** it:
# `dh_G = dz[:, :d]` goes down the GMF tower alone, `dh_M = dz[:, d:]` down the MLP tower alone.
# Nothing is summed where the towers meet, because they share no parameter: each tower has its
# own embeddings. The paper argues for that without testing it: a shared embedding might limit
# the fused model (for one, both towers would need embeddings of the same size). Inside the MLP
# tower the gradient goes back through each ReLU (`dX = dY ⊙ 1[Y > 0]`) and Linear
# (`dX = dY W`, `dW = dYᵀ X`) and, at the bottom, `d[p ; q]` splits again into `dp` (first half)
# and `dq` (second half).

# %%
layers = (6, 4, 3)  # [p ; q] has 6 entries (3 + 3), then hidden layers of 4 and 3
neumf = NCFNet(
    {
        "gmf": GMFTower(10, 12, d, init_std=0.5, dtype=np.float64, seed=2),
        "mlp": MLPTower(10, 12, layers, init_std=0.5, dtype=np.float64, seed=3),
    },
    10,
    12,
    dtype=np.float64,
    seed=4,
)
g, m = neumf.gmf, neumf.mlp
W1, b1 = m.mlp[0].weight.data, m.mlp[0].bias.data
W2, b2 = m.mlp[2].weight.data, m.mlp[2].bias.data
w = neumf.output.weight.data[0]

# forward, keeping what backward needs
h_G = g.user_embedding.weight.data[users] * g.item_embedding.weight.data[items]  # (N, d)
z0 = np.concatenate(
    [m.user_embedding.weight.data[users], m.item_embedding.weight.data[items]], axis=1
)  # (N, 6)
a1 = np.maximum(z0 @ W1.T + b1, 0)  # (N, 4)
h_M = np.maximum(a1 @ W2.T + b2, 0)  # (N, 3)
z = np.concatenate([h_G, h_M], axis=1)  # (N, d + 3)
logits = z @ w + neumf.output.bias.data[0]

# backward
d_logits = (1 / (1 + np.exp(-logits)) - labels) / N
dz = np.outer(d_logits, w)  # (N, d + 3)
dh_G, dh_M = dz[:, :d], dz[:, d:]  # the split at the concatenation
dpG = dh_G * g.item_embedding.weight.data[items]  # GMF tower
d_pre2 = dh_M * (h_M > 0)  # MLP tower: ReLU ...
dW2 = d_pre2.T @ a1  # ... Linear 2 ...
d_pre1 = (d_pre2 @ W2) * (a1 > 0)  # ... ReLU ...
dW1 = d_pre1.T @ z0  # ... Linear 1
dz0 = d_pre1 @ W1  # (N, 6)
dpM = dz0[:, : layers[0] // 2]  # the split of [p ; q]

loss.forward(neumf(users, items), labels)
neumf.backward(loss.backward())
expected_dPG = np.zeros_like(g.user_embedding.weight.data)
np.add.at(expected_dPG, users, dpG)
expected_dPM = np.zeros_like(m.user_embedding.weight.data)
np.add.at(expected_dPM, users, dpM)
assert np.allclose(neumf.output.weight.grad[0], d_logits @ z)
assert np.allclose(m.mlp[2].weight.grad, dW2) and np.allclose(m.mlp[0].weight.grad, dW1)
assert np.allclose(g.user_embedding.weight.dense_grad(), expected_dPG)
assert np.allclose(m.user_embedding.weight.dense_grad(), expected_dPM)
print("NeuMF gradients by hand == tinyrec's NCFNet, through both towers")
print(check_module(neumf, users, items))  # and every gradient against central differences

# %% [markdown]
# ## Training, with curves
#
# The recipe of the paper: 4 negatives per positive redrawn each epoch, BCE with logits, Adam.
# To keep the run short we train a few epochs with larger batches (1024) and a larger learning
# rate (3e-3) than the paper's 256 and 1e-3.
#
# Which epoch to keep is a choice, and a choice made on the test set makes the test score
# optimistic. So we carve a **validation** split out of train the way the test split was carved
# out of the data: each user's latest train interaction (`leave_one_out(train, by="time")`). The
# models learn from the rest, `fit_train`, and are validated on 300 of the validation users after
# every epoch (HR@10 among 99 sampled negatives: is the held-out item in the top 10?). The test
# set stays untouched until the comparison below. `tinyrec.models.training.fit_recommender` runs
# the loop: fresh negatives, a progress bar (off here), the validation, a NaN guard, and a
# history.

# %%
fit_train, valid = leave_one_out(train, by="time")  # each user's latest train interaction
valid = valid.subset(valid.users < 300)  # 300 users keep the per-epoch validation quick
print(f"fit_train: {len(fit_train):,} interactions; validation: {len(valid)} users")
settings = {"n_epochs": 4, "batch_size": 1024, "lr": 3e-3, "seed": 0}
models = {"GMF": GMF(8, **settings), "NeuMF": NeuMF(8, (64, 32, 16, 8), **settings)}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(fit_train, valid=valid)
    val_hr = model.history_["val_hr@10"]
    print(
        f"{name} (lazy_embeddings={model.lazy_embeddings}): {time.perf_counter() - start:.1f} s,"
        f" loss per epoch {np.round(model.history_['loss'], 3)}"
    )
    kept = np.argmax(val_hr) + 1
    print(f"{'':>{len(name)}}  validation HR@10 per epoch {np.round(val_hr, 3)}, kept: epoch {kept}")
hr = np.mean([model.history_["val_hr@10"] for model in models.values()])
se = np.sqrt(hr * (1 - hr) / len(valid))
print(f"one standard error of a validation HR@10 near {hr:.2f} on {len(valid)} users: {se:.3f}")
for name, model in models.items():
    span = np.ptp(model.history_["val_hr@10"])
    print(f"{name}: its epochs' validation HR@10 span {span:.3f}, that is {span / se:.1f} standard errors")

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
if plt is not None:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3))
    for name, model in models.items():
        epochs = np.arange(1, len(model.history_["loss"]) + 1)
        ax1.plot(epochs, model.history_["loss"], marker="o", label=name)
        ax2.plot(epochs, model.history_["val_hr@10"], marker="o", label=name)
    ax1.set(xlabel="epoch", ylabel="training BCE")
    ax2.set(xlabel="epoch", ylabel="validation HR@10")
    ax1.legend()
    plt.tight_layout()
    plt.show()
else:  # a text plot
    for name, model in models.items():
        for e, hr in enumerate(model.history_["val_hr@10"], start=1):
            print(f"{name:>6} epoch {e}: {'#' * int(60 * hr):<60} {hr:.3f}")

# %% [markdown]
# `fit` keeps the weights of the best validation epoch (`restore_best`), and with `patience=k`
# it would stop after `k` epochs without improvement. The choice is only as good as the
# validation set: the last lines above compare each model's span of validation HR@10 over its
# epochs with one standard error on 300 users. Where the span is about one standard error or
# less, which epoch is kept is partly luck; a span of several standard errors is a clearer trend.
#
# ## The honest comparison
#
# Rendle, Krichene, Zhang and Anderson ("Neural Collaborative Filtering vs. Matrix
# Factorization Revisited", RecSys 2020) re-ran the NCF experiments and found that a plain
# dot-product matrix factorization, **properly tuned**, beats NeuMF — and that an MLP has a hard
# time even learning a dot product. So before believing in a neural model, compare it with a
# strong classic one on the same split and protocol. Here: popularity, and dot-product MF
# trained with the BPR loss (64 factors). Every model learns from the same `fit_train` (the
# validation interactions only chose NCF's epochs), and all are scored on the test items of
# 2,000 users, which nothing above has looked at.

# %%
final = test.subset(test.users < 2000)
contenders = {
    "Popularity": Popularity(),
    "BPR-MF (dot product, 64 factors)": BPRMF(64, 30, lr=0.05, reg=0.005, seed=0),
    **models,
}
results = {}
for name, model in contenders.items():
    if name not in models:
        model.fit(fit_train)
    # train=train, not fit_train: a user's validation item is not drawn as a negative
    results[name] = evaluate(model, final, train=train, protocol="sampled", k=10)
    print(f"{name:<34} HR@10 {results[name]['hr@10']:.3f}  NDCG@10 {results[name]['ndcg@10']:.3f}")
best = max(results, key=lambda n: results[n]["ndcg@10"])
hr = results[best]["hr@10"]
se = np.sqrt(hr * (1 - hr) / len(final))
print(f"\nbest NDCG@10 on this split: {best}")
print(f"one standard error of an HR@10 near {hr:.2f} on {len(final):,} users: {se:.3f}")
low, high = min(r["hr@10"] for r in results.values()), max(r["hr@10"] for r in results.values())
spread = high - low
print(f"HR@10 from {low:.3f} to {high:.3f}: a spread of {spread:.3f}, {spread / se:.1f} standard errors")

# %% [markdown]
# Read the table with care. The last line compares the spread of the four HR@10 values with the
# standard error of one of them: if the rows lie within a standard error or two of each other,
# 2,000 test users do not rank them, and whichever comes first does so by less than the noise.
# The neural models had 4 epochs and one setting, the MF one setting too, and none was tuned;
# Rendle et al.'s point is that such comparisons are only as good as the tuning of the
# *baseline*. `benchmarks/bench_neural.py` runs the paper's full protocol on MovieLens-100K
# (20 epochs, 5 seeds, a torch NeuMF beside tinyrec's).
#
# ## Your turn: add a third tower
#
# `NCFNet` takes any towers: a tower is a `Module` with `forward(users, items) -> (N, f)`, a
# `backward(dh)` that sends `dh` into its parameters, and an `out_features` attribute. Write a
# **linear tower**: `h = [p_u ; q_i]` — the two embeddings concatenated, no product and no MLP
# (it lets NeuMF add a user and an item term, like the biases of biased MF). Its backward splits
# `dh` into the user half and the item half and sends each to its table.
#
# Replace the `raise NotImplementedError` line, then run the next cell.
# `tinyrec.exercises.linear_tower.check` runs your tower forward and backward on a batch with
# repeated users and items and checks the gradient each table receives, that gradients add up over
# two `backward` calls, and a gradient check of a NeuMF with your tower as the third one, beside a
# GMF and an MLP tower. The reference solution is printed by
# `tinyrec.exercises.show_solution("linear_tower")`. Try your own first.


# %%
class LinearTower(Module):
    def __init__(self, n_users, n_items, dim, *, dtype=np.float64, seed=None):
        rng = np.random.default_rng(seed)
        self.user_embedding = Embedding(n_users, dim, dtype=dtype, seed=rng)
        self.item_embedding = Embedding(n_items, dim, dtype=dtype, seed=rng)
        self.dim = dim
        self.out_features = 2 * dim

    def forward(self, users, items):
        return np.concatenate([self.user_embedding(users), self.item_embedding(items)], axis=1)

    def backward(self, grad_output):
        raise NotImplementedError("your turn: split grad_output (N, 2 * dim) and send each half to its table")


# %%
report = tinyrec.exercises.linear_tower.check(LinearTower)
print(report)

# %% [markdown]
# A tower that forgets one of its halves is caught at once, by name:


# %%
class ForgetfulTower(LinearTower):
    def backward(self, grad_output):
        self.user_embedding.backward(grad_output[:, : self.dim])
        return None, None


forgetful = tinyrec.exercises.linear_tower.check(ForgetfulTower)
print(forgetful)
assert not forgetful.ok, "the checks should have rejected ForgetfulTower"
