# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 02 — Data and splits: where most evaluation mistakes are made
#
# A recommender is only as honest as its train/test split. The classic mistakes are data
# mistakes: a test interaction that also sits in train, user ids that mean different people in
# train and test, "negative" items the user actually liked, a model that is allowed to look at
# the future. In this tutorial we
#
# 1. load MovieLens 100K (or, without it, a synthetic data set with a planted model) and look at
#    its **long tail**;
# 2. build the **leave-one-out** split by hand (the latest interaction of each user, ties in
#    time broken by the larger item id) and check it against `tinyrec.data.leave_one_out`;
# 3. build the **sampled-evaluation candidates** (held-out item + 99 sampled negatives);
# 4. measure the **leakage** a naive random split causes for a sequence model;
# 5. and then it is your turn: a popularity-proportional negative sampler.
#
# Notation (see `docs/notation.md`): users `u`, items `i`, `r_ui` a rating, `t_ui` its time,
# `P_u` the set of items user `u` interacted with in train.
#
# Run as a script: `python tutorials/02_data_and_splits.py`. With `TINYREC_DATA` pointing at a
# folder holding `ml-100k/`, it uses the real data; without it, a synthetic data set of the same
# size. The numbers differ between the two, so the text below points at the printed lines instead
# of quoting them.

# %%
import numpy as np

import tinyrec.data as td
import tinyrec.exercises
from tinyrec.data.sampling import sampled_candidates
from tinyrec.errors import DataError

try:
    data = td.movielens("100k", download=False)  # path= / $TINYREC_DATA / cache; never downloads here
except DataError as exc:
    print("MovieLens 100K not found, using a synthetic data set instead:", str(exc)[:80], "...")
    data = td.synthetic(943, 1682, 100_000, popularity_skew=1.0, seed=0)
print(data)

# %% [markdown]
# `data` is an `Interactions`: `users` and `items` are dense `int32` indices
# (`0..n_users-1`, `0..n_items-1`), `ratings` float32, `timestamps` int64. The raw MovieLens ids
# are kept in `data.user_ids` / `data.item_ids`, and `data.item_index(raw)` goes the other way.

# %%
print(
    "raw id of item 0:",
    data.item_ids[0],
    "| dense index of raw item",
    data.item_ids[0],
    ":",
    data.item_index(data.item_ids[0]),
)
if data.titles is not None:
    print("item 0 is", data.titles[0], "-", data.genres[0])

# %% [markdown]
# ## 1. The long tail
#
# Sort items by popularity (number of interactions). In most interaction logs a small share of
# the items gets a large share of the interactions, and many items are rarely seen: the long
# tail. The lines below measure both for this data set. Where the tail is long, it matters twice:
# a "most popular" baseline is hard to beat, and a negative sampler that draws items uniformly
# mostly draws obscure items, which are easy negatives.

# %%
counts = np.sort(data.item_counts())[::-1]
top = max(1, len(counts) // 10)
print(f"top 10% of items ({top}) hold {counts[:top].sum() / counts.sum():.1%} of the interactions")
print(f"items with at most 5 interactions: {(counts <= 5).mean():.1%}")

edges = np.array([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10_000])
hist, _ = np.histogram(counts, bins=edges)
for lo, hi, h in zip(edges[:-1], edges[1:], hist, strict=True):
    print(f"{lo:>5}-{hi - 1:<5} interactions | {'#' * int(60 * h / hist.max()):<60} {h} items")

try:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.loglog(np.arange(1, len(counts) + 1), np.maximum(counts, 0.5))
    ax.set_xlabel("item rank by popularity")
    ax.set_ylabel("interactions")
    ax.set_title("the long tail")
    plt.close(fig)  # in a notebook, display `fig` instead
except ImportError:
    pass

# %% [markdown]
# ## 2. Leave-one-out, by hand
#
# For each user, hold out the interaction with the largest timestamp. Ties in that timestamp
# happen in real logs (a MovieLens user often rates several films in the same second; section 4
# counts them); the rule the NCF paper's published split used is "the larger item id wins".
# Users with a single interaction keep it in train. A held-out item that then never occurs in
# train cannot be scored by a collaborative model: it is dropped from test (and counted).
#
# Sorting by the key `(user, timestamp, item)` puts each user's held-out row last in its run:

# %%
order = np.lexsort((data.items, data.timestamps, data.users))  # last key is the primary one
u_sorted = data.users[order]
last = np.append(u_sorted[1:] != u_sorted[:-1], True)  # last row of each user's run
last &= data.user_counts()[u_sorted] >= 2
test_rows = order[last]
train_mask = np.ones(len(data), dtype=bool)
train_mask[test_rows] = False
seen_items = np.bincount(data.items[train_mask], minlength=data.n_items) > 0
test_rows = test_rows[seen_items[data.items[test_rows]]]  # drop items unseen in train
my_test = set(zip(data.users[test_rows].tolist(), data.items[test_rows].tolist(), strict=True))

train, test, report = td.leave_one_out(data, return_report=True)
print(report)
theirs = set(zip(test.users.tolist(), test.items.tolist(), strict=True))
print("same held-out interactions as tinyrec:", my_test == theirs)
assert my_test == theirs
assert train.same_index_space(test)  # dense index u is the same person on both sides

# %% [markdown]
# ## 3. Sampled-evaluation candidates
#
# The sampled protocol ranks the held-out item among `N = 99` items the user never interacted
# with (in train *or* test). The candidates are drawn once, from a seed, so that every model is
# ranked on identical sets. tinyrec's samplers reject a user's positives exactly (binary search
# over the user's sorted items, in a Numba kernel).

# %%
users, candidates = sampled_candidates(train, test, n_negatives=99, seed=0)
print("candidates:", candidates.shape, "| column 0 is the held-out item")
ptr, idx = train.positives_csr()
clean = all(
    not np.isin(candidates[k, 1:], idx[ptr[u] : ptr[u + 1]]).any() for k, u in enumerate(users.tolist())
)
print("no negative is a train positive:", clean)
assert clean and np.array_equal(candidates[:, 0], test.items)

# %% [markdown]
# ## 4. The leakage of a random split, for a sequence model
#
# A sequence model predicts the next item from the items before it. In a **random** split, a
# held-out interaction usually has later interactions of the same user in train: the model is
# asked to predict the past with the future in hand. Count it:

# %%
rand_train, rand_test = td.random_holdout(data, 0.2, by="user", seed=0)


def future_fraction(train, test):
    """Fraction of test interactions whose user has a train interaction strictly later."""
    latest = np.full(data.n_users, np.iinfo(np.int64).min)
    np.maximum.at(latest, train.users, train.timestamps)
    return float(np.mean(latest[test.users] > test.timestamps))


random_share = future_fraction(rand_train, rand_test)
print(f"random split:        {random_share:.1%} of test cases have the user's future in train")
print(f"leave-one-out, time: {future_fraction(train, test):.1%}")

# %% [markdown]
# Does it change a score? Take the simplest sequence model: a first-order "neighbours in time"
# model. From each user's train sequence, count how often items `a` and `b` are adjacent
# (`C[a, b]`). To score candidate `j` for a test interaction at time `t`, look at the user's train
# items just before and just after `t`: `score(j) = C[prev, j] + C[next, j]`, where `prev` is the
# user's last train item at or before `t` and `next` the first one strictly after `t`. With a time
# split, `next` does not exist; with a random split it usually does, and it is information from
# the future. "Strictly" matters where timestamps are seconds: in a real log a user often rates
# several films in the same second, so a `next` taken at or after `t` would give the time split a
# peek too, at a train item of the same second. The first line below counts the test users for
# whom that would happen (none, in a log without such ties). Then the hit rate @ 10 on 99 sampled
# negatives:


# %%
def adjacency(train):
    o = np.lexsort((train.items, train.timestamps, train.users))
    u, i = train.users[o], train.items[o]
    same = u[1:] == u[:-1]  # consecutive rows of one user
    C = np.zeros((data.n_items, data.n_items), dtype=np.float32)
    np.add.at(C, (i[:-1][same], i[1:][same]), 1)
    return C + C.T, u, i, train.timestamps[o]


def hit_rate_neighbours(train, test, k=10, seed=0, use_next=True):
    C, u_sorted, i_sorted, t_sorted = adjacency(train)
    users, cand = sampled_candidates(train, test, 99, seed=seed)
    starts = np.searchsorted(u_sorted, np.arange(data.n_users))
    ends = np.searchsorted(u_sorted, np.arange(data.n_users), side="right")
    hits = []
    for row, (u, t) in enumerate(zip(users.tolist(), test.timestamps.tolist(), strict=True)):
        times = t_sorted[starts[u] : ends[u]]
        items = i_sorted[starts[u] : ends[u]]
        nxt = np.searchsorted(times, t, side="right")  # at or before t: [:nxt]; after t: [nxt:]
        score = np.zeros(cand.shape[1])
        if nxt > 0:
            score += C[items[nxt - 1], cand[row]]  # prev
        if use_next and nxt < len(items):
            score += C[items[nxt], cand[row]]  # next
        rank = np.sum(score > score[0]) + 0.5 * np.sum(score[1:] == score[0])  # ties count half
        hits.append(rank < k)
    return float(np.mean(hits))


same_second = set(zip(train.users.tolist(), train.timestamps.tolist(), strict=True))
n_tied = sum(key in same_second for key in zip(test.users.tolist(), test.timestamps.tolist(), strict=True))
print(f"time split: {n_tied} of {len(test)} test users have a train item of the same second")
one_per_user = td.leave_one_out(data, by="random", seed=0)  # the random split, one item per user
print(f"HR@10, random leave-one-out, prev + next item: {hit_rate_neighbours(*one_per_user):.3f}")
print(
    f"HR@10, random leave-one-out, prev item only:   {hit_rate_neighbours(*one_per_user, use_next=False):.3f}"
)
print(f"HR@10, leave-one-out by time (next: none):     {hit_rate_neighbours(train, test):.3f}")

# %% [markdown]
# On the *same* random-split test cases, switching off the peek at the next item shows how much
# of the score came from the future. The time split does not offer that peek at all: its
# held-out item is each user's latest, so no train item of the user is strictly later (the
# "leave-one-out, time" line of the count above), and its tied items only serve as `prev`. Its
# score also differs from the random split's "prev item only" line for a reason that is not
# leakage: its held-out items are other ones, each user's latest (in a real log, often a new
# release or a changed taste). For sequential recommenders, split by time
# (leave-one-out by time, or a global temporal cut with `tinyrec.data.split.temporal_split`,
# which also keeps *other* users' future out of train).
#
# ## 5. Your turn: a popularity-proportional negative sampler
#
# Write `popularity_negatives(train, users, n, seed)` returning an `(len(users), n)` array of
# items where item `j` is drawn with probability proportional to its number of interactions in
# train, **never** one of the user's own train items. Hint: draw from the popularity
# distribution with `rng.choice(n_items, p=...)` and redraw the positives (rejection), or
# renormalize over the user's non-positives.
#
# Then run the next cell. `tinyrec.exercises.popularity_negatives.check` calls your function on a
# small train set of its own and checks the shape of the result, that no row holds a train item
# of its user (with users repeated and out of order), that an item nobody interacted with is
# never drawn, that the share of each item over many draws matches the exact law, and that the
# same seed gives the same draws. The task, the law and the checks are written out in
# `tinyrec/exercises/popularity_negatives.py`; the reference solution is printed by
# `tinyrec.exercises.show_solution("popularity_negatives")`. Try your own first.


# %%
def popularity_negatives(train, users, n, seed=0):
    """``(len(users), n)`` items drawn by train popularity, none of them a train item of the row's user."""
    raise NotImplementedError("your turn: draw n items per user, by popularity, never one of their positives")


# %%
report = tinyrec.exercises.popularity_negatives.check(popularity_negatives)
print(report)
