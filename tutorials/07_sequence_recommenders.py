# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 07 — From a GRU to self-attention for next-item recommendation
#
# Every model so far scored a (user, item) pair from *who* the user is: a row `p_u` learnt for
# each user. But the order of a user's interactions says more than their set: someone who just
# watched three Star Wars films is likelier to watch the fourth *next* than their average taste
# suggests. A **sequence model** reads a user's items in time order, `s_1 … s_n`, and predicts
# `s_{n+1}`. On the leave-one-out split, where the held-out item is each user's latest, that is
# exactly the question asked.
#
# In this notebook: the sequence data and what must never leak into it; a recurrent model,
# GRU4Rec (Hidasi et al., ICLR 2016), trained with a softmax over all items; a self-attentive
# one, SASRec (Kang & McAuley, ICDM 2018), step by step — the causal mask, why positions matter,
# one negative per position; and both against NeuMF on the same split. Your turn at the end: the
# training row of one user.
#
# Notation (docs/notation.md): `N` a batch size, `L` a sequence length, `d` the size of an
# embedding, `q_i` item `i`'s embedding, `h_t` a recurrent state, `σ` the sigmoid, `ℒ` the loss.

# %%
import time

import numpy as np

import tinyrec.exercises
from tinyrec.data import leave_one_out
from tinyrec.data.embedded import load_embedded
from tinyrec.data.sequences import Sequences, validation_split
from tinyrec.evaluation import evaluate
from tinyrec.losses import CrossEntropyLoss
from tinyrec.models import Popularity
from tinyrec.models.ncf import NeuMF
from tinyrec.models.sequential import GRU4Rec, GRU4RecNet, SASRec, SASRecNet
from tinyrec.models.sequential.training import NextItemBatches
from tinyrec.nn import causal_mask

data = load_embedded()  # MovieTweetings, 5-core: ships inside tinyrec (MIT licence)
data = data.with_ratings(np.ones(len(data)))  # implicit: every rating is an interaction
train, test = leave_one_out(data, by="time")  # each user's latest item is the test item
print(f"{data.n_users:,} users, {data.n_items:,} items, {len(train):,} training interactions")

# %% [markdown]
# ## The sequences, and what must not leak
#
# `Sequences.from_interactions(train)` sorts each user's items by timestamp; items with the same
# timestamp by item index. That is `leave_one_out`'s tie rule read the other way: the item it holds
# out is the latest, ties going to the larger index, so the test item always comes **after**
# every item left in train. A model that reads train's sequences therefore never reads the item it
# will be asked to predict:

# %%
sequences = Sequences.from_interactions(train)
lengths = sequences.lengths()
median, tenth = np.median(lengths), np.percentile(lengths, 90)
print(f"training items per user: median {median:.0f}; 90% of the users have at most {tenth:.0f}")
user = int(np.argmax(lengths == 12))  # a user with 12 training items
print(f"user {user}, oldest first: {sequences.of(user).tolist()}")
print(f"its held-out test item: {test.items[test.users == user].tolist()}")
inputs = sequences.padded(test.users, max_len=50)  # the last 50 items of every test user
assert not np.any(inputs == test.items[:, None]), "a test item is in an input sequence"
print("no test item appears in any input sequence")

# %% [markdown]
# A network takes a rectangle, so each history is cut to its **most recent** `max_len` items and
# padded with an id that is not an item, `n_items` (every model keeps one extra embedding row for
# it, zero and never trained). SASRec pads on the left, so that the latest item is always in the
# last column; GRU4Rec on the right, so that the recurrence reads no padding before the first item.
#
# A training row shifts the history by one: the inputs are `s_1 … s_{n−1}`, and the target at
# every position is the item that follows, `s_2 … s_n`. One row per user trains every position
# at once.

# %%
print("left-padded, max_len 8:  ", sequences.padded([user], max_len=8)[0].tolist())
print("right-padded, max_len 14:", sequences.padded([user], max_len=14, side="right")[0].tolist())
users, row_inputs, row_targets = sequences.next_item_examples(max_len=8)
r = int(np.flatnonzero(users == user)[0])
print("inputs: ", row_inputs[r].tolist())
print("targets:", row_targets[r].tolist(), " <- each the item after the input above it")

# %% [markdown]
# To choose the number of epochs we hold out one more item per user, the latest *train* item
# (`validation_split`, the same rule once more). After training, a model reads the user's whole
# train sequence, that validation item included, with no retraining: this is how SASRec's
# reference code evaluates, and what `fit(fit_part, valid=valid)` does.

# %%
fit_part, valid = validation_split(train)
print(f"fit on {len(fit_part):,} interactions; {len(valid):,} validation items; the test set stays untouched")

# %% [markdown]
# ## GRU4Rec: a recurrent state, a softmax over every item
#
# The GRU (tutorial 05) reads the embeddings `q_{s_1}, q_{s_2}, …` one at a time; its state
# `h_t` summarises the history up to `t`, and an output layer with one vector `w_i` and bias `b_i`
# per item scores every item as the next one: `ŷ_{t,i} = h_t · w_i + b_i`. The loss at each
# position is the softmax cross-entropy of the true next item:
#
#     ℒ = mean over positions t of  −log softmax(ŷ_t)[s_{t+1}]
#
# Its gradient is `dŷ_{t,i} = (softmax(ŷ_t)_i − 1[i = s_{t+1}]) / M`, with `M` the number of
# positions: the probabilities, minus 1 at the target. `CrossEntropyLoss` reads the target as an
# index and subtracts that 1 in place: no one-hot matrix of `M × n_items` is ever built.

# %%
net = GRU4RecNet(train.n_items, dim=8, hidden=16, dropout=0.0, dtype=np.float64, seed=0)
seq = sequences.padded([user], max_len=12, side="right")[:, :-1]  # one user, every item but the last
target = sequences.of(user)[1:12]  # the next item at each of its 11 positions
logits = net(seq)  # (11, n_items): every item scored at every position
loss = CrossEntropyLoss()
value = loss.forward(logits, target)
grad = loss.backward()
p = np.exp(logits - logits.max(axis=1, keepdims=True))
p /= p.sum(axis=1, keepdims=True)
by_hand = p.copy()
by_hand[np.arange(len(target)), target] -= 1.0  # minus 1 at the target, no one-hot
assert np.allclose(grad, by_hand / len(target))
print(
    f"loss {value:.3f} = log(n_items) = {np.log(train.n_items):.3f} at the start, roughly: nothing is known"
)
print("the cross-entropy's gradient by hand == tinyrec's, with no one-hot of the targets")

# %% [markdown]
# ## SASRec, step by step
#
# SASRec replaces the recurrence by **self-attention**: at position `t`, the model looks at every
# earlier position at once and takes a weighted average of what it finds there, the weights
# saying which earlier items matter for what comes next (the attention layer of tutorial 05).
# Two things make that work for next-item prediction.
#
# **The causal mask.** Training predicts the item after *every* position in one pass. If position
# `t` could attend to position `t + 1`, it would read the very item it must predict. So position
# `t` may attend only to positions `j <= t`; `causal_mask(L)` is True where attention is forbidden:

# %%
print(causal_mask(5).astype(int))
sasrec_net = SASRecNet(train.n_items, max_len=6, dim=8, n_blocks=2, dtype=np.float64, seed=0).eval()
a, b = np.array([[1, 2, 3, 4, 5]]), np.array([[1, 2, 3, 9, 9]])  # the same first three items
candidates = np.arange(5)[:, None]
out_a, out_b = sasrec_net(a, candidates), sasrec_net(b, candidates)
print("positions 0-2 with different later items, the same outputs:", np.allclose(out_a[:3], out_b[:3]))

# %% [markdown]
# **Positions.** Attention is a weighted average, and an average does not know the order of what
# it averages: in one attention block without position information, "A then B then C, then D"
# and "C then B then A, then D" give the same state at D. SASRec adds a learnt vector per
# position to each item embedding, `x_t = sqrt(d) · q_{s_t} + pos_t`. tinyrec counts the positions
# back from the latest item (`pos_0` is always "the item just consumed"), so that padding on the
# left changes nothing. (With two blocks and the causal mask, the earlier positions' states are
# averages of different prefixes, which leaks a little order; the position vectors make it explicit.)

# %%
one_block = SASRecNet(train.n_items, max_len=6, dim=8, n_blocks=1, dtype=np.float64, seed=0).eval()
history = np.array([[10, 20, 30, 40]])
reordered = np.array([[30, 20, 10, 40]])  # the same items, the same latest one, another order
same_with = np.allclose(one_block.last_states(history), one_block.last_states(reordered))
one_block.positions.weight.data[...] = 0.0  # no position information
same_without = np.allclose(one_block.last_states(history), one_block.last_states(reordered))
print(f"reordering the history changes the state at the latest item: with positions {not same_with}, "
      f"without {not same_without}")  # fmt: skip

# %% [markdown]
# **One negative per position.** A softmax over all items at all positions costs
# `M × n_items` logits per batch. SASRec instead scores, at each position, the true next item and
# **one** item the user never interacted with, drawn afresh every epoch, and trains a binary
# classifier on the two: `ℒ = mean −log σ(ŷ_pos) + mean −log(1 − σ(ŷ_neg))`. A batch then needs
# `M × 2` logits. The batch source puts the positive in column 0 and the negative after it:

# %%
users, row_inputs, row_targets = Sequences.from_interactions(fit_part).next_item_examples(max_len=50)
batches = NextItemBatches(
    fit_part, users, row_inputs, row_targets, 128, n_negatives=1, padding_id=train.n_items
)
(batch_inputs, batch_candidates), labels = next(iter(batches.epoch()))
real = int((batch_inputs != train.n_items).sum())
print(f"a batch: {batch_inputs.shape[0]} users, {batch_inputs.shape[1]} columns, {real:,} real positions")
softmax = real * train.n_items
print(f"candidates {batch_candidates.shape}: {real * 2:,} logits, against {softmax:,} for a softmax")

# %% [markdown]
# ## Training both, and NeuMF beside them
#
# The models train on `fit_part`, each epoch validated on the held-out train items (HR and
# NDCG@10 among 99 sampled negatives), the best epoch's weights kept. To keep this notebook
# short they get few epochs and `max_len` 50 (longer than most histories here: see the lengths
# printed at the top);
# `benchmarks/bench_sequential.py` trains them to convergence on MovieLens-100K, at the
# reference codes' settings, beside torch twins. NeuMF (tutorial 06) learns from the same
# `fit_part`, its epoch chosen on 500 of the validation users (scoring every item for every user
# through its MLP after each epoch is what would take longest here).

# %%
settings = {"max_len": 50, "seed": 0, "protocol": "sampled", "monitor": "ndcg@10", "lr": 3e-3}
contenders = {
    "GRU4Rec": GRU4Rec(dim=32, hidden=48, n_epochs=5, batch_size=128, **settings),
    "SASRec": SASRec(dim=32, n_epochs=8, **settings),
}
for name, model in contenders.items():
    start = time.perf_counter()
    model.fit(fit_part, valid=valid)
    best = int(np.argmax(model.history_["val_ndcg@10"]))
    print(f"{name}: {time.perf_counter() - start:.1f} s, validation NDCG@10 per epoch "
          f"{np.round(model.history_['val_ndcg@10'], 3)}, kept epoch {best + 1}")  # fmt: skip
neumf = NeuMF(8, (64, 32, 16, 8), n_epochs=4, batch_size=1024, lr=3e-3, seed=0)
contenders["NeuMF"] = neumf.fit(fit_part, valid=valid.subset(valid.users < 500))  # 500 users: quicker
contenders["Popularity"] = Popularity().fit(fit_part)

# %%
results = {}
for name, model in contenders.items():
    sampled = evaluate(model, test, train=train, protocol="sampled", k=10)
    full = evaluate(model, test, train=train, protocol="full", k=10)
    results[name] = (sampled["hr@10"], sampled["ndcg@10"], full["hr@10"])
    print(f"{name:<11} sampled HR@10 {results[name][0]:.3f}  NDCG@10 {results[name][1]:.3f}"
          f"   full-ranking HR@10 {results[name][2]:.3f}")  # fmt: skip
hr = results["SASRec"][0]
se = np.sqrt(hr * (1 - hr) / len(test))
print(f"one standard error of a sampled HR@10 near {hr:.2f} on {len(test):,} test users: {se:.3f}")
best = max(results, key=lambda n: results[n][1])
print(f"best sampled NDCG@10 here: {best}")

# %% [markdown]
# NeuMF and Popularity see the validation item only as a known interaction (it is excluded from
# their candidates); the sequence models *read* it as the latest item of the history, which is
# the point of them. Read the table with the standard error in mind, and remember that these
# runs are short. On MovieLens-100K, at the reference settings and with the epochs chosen on
# validation, `benchmarks/RESULTS.md` (section bench_sequential) has the converged figures of
# all three sequence models beside their torch twins.
#
# Without retraining, a sequence model also recommends for a history it never saw — a new
# user, or an anonymous session — from the items alone:

# %%
session = sequences.of(user)[-5:].tolist()
items, scores = contenders["SASRec"].recommend(None, k=5, history=[session])
print(f"a session of {session}: SASRec suggests {items[0].tolist()}")

# %% [markdown]
# ## Your turn: one user's training row
#
# Write `my_next_item_pairs(items, max_len, padding_id)`: from one user's items, oldest first,
# the row of inputs a next-item model reads and the row of targets it must predict — every item
# but the last as inputs, every item but the first as targets, so that each target is the item
# after its input; both cut to their most recent `max_len` entries and left-padded with
# `padding_id`. A history of one item has nothing to predict: two rows of padding.
#
# Replace the `raise NotImplementedError` line, then run the next cell.
# `tinyrec.exercises.next_item_pairs.check` tries a short history by hand, the padding side, a
# history longer than `max_len`, a single item, and random histories against tinyrec's own
# `Sequences.next_item_examples`. The reference solution is printed by
# `tinyrec.exercises.show_solution("next_item_pairs")`. Try your own first.


# %%
def my_next_item_pairs(items, max_len, padding_id):
    """``(inputs, targets)``: one user's items and their next items, last ``max_len``, left-padded."""
    raise NotImplementedError("your turn: inputs are items[:-1], targets items[1:], each cut and left-padded")


# %%
report = tinyrec.exercises.next_item_pairs.check(my_next_item_pairs)
print(report)

# %% [markdown]
# A row whose targets are not shifted teaches the model to predict the item it just read, and is
# caught by name:


# %%
def unshifted(items, max_len, padding_id):
    row = np.asarray(items)[:-1][-max_len:]
    pad = np.full(max_len - len(row), padding_id)
    return np.concatenate([pad, row]), np.concatenate([pad, row])


caught = tinyrec.exercises.next_item_pairs.check(unshifted)
print(caught)
assert not caught.ok, "the checks should have rejected unshifted"
