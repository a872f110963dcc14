# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 03 — Evaluating recommenders: what HR@10 and NDCG@10 really measure
#
# Two papers can report "NDCG@10 on MovieLens" for the same model and disagree by a large factor,
# without either being wrong (section 4 measures the factor on this tutorial's data). They
# differ in *what is ranked* (100 sampled candidates or the whole catalogue), in *how ties are
# broken*, in *which users are averaged*. In this tutorial we
#
# 1. compute HR@k and NDCG@k by hand and check them against `tinyrec.metrics`;
# 2. see why ties matter: a constant model can score anything from 0 to 1 unless the tie rule is
#    fixed;
# 3. build the popularity baseline from scratch: the bar every model must clear;
# 4. evaluate one personalized model under the **sampled** protocol (the NCF paper's: the
#    held-out item among 99 random negatives) and the **full** protocol (among every item the
#    user has not seen), look at the gap, and ask whether the two protocols agree on which of
#    two model sizes is better;
# 5. and then it is your turn: implement MRR.
#
# It uses MovieLens 100K when `$TINYREC_DATA` holds `ml-100k/`, and a synthetic data set with a
# planted preference model otherwise. The two give different numbers, so the text points at the
# printed lines instead of quoting them. Run it as a script
# (`python tutorials/03_evaluating_recommenders.py`) or as a notebook (`jupytext --to notebook`).

# %%
import copy

import numpy as np

import tinyrec.data as td
import tinyrec.exercises
from tinyrec import metrics
from tinyrec.errors import DataError
from tinyrec.evaluation import evaluate
from tinyrec.models import Popularity

try:
    data = td.movielens("100k", download=False)  # path= / $TINYREC_DATA / cache; never downloads here
except DataError as exc:
    print("MovieLens 100K not found, using a synthetic data set instead:", str(exc)[:80], "...")
    data = td.synthetic(943, 1682, 100_000, popularity_skew=1.0, seed=0)
train, test = td.leave_one_out(data)  # each user's latest interaction is held out
print(data)
print(f"train {len(train):,} interactions, test {len(test):,} (one per user)")

# %% [markdown]
# ## 1. HR@k and NDCG@k by hand
#
# A model gives every candidate item a score; sorting by score gives the user's ranked list.
# With `rel(p)` the relevance of the item at position `p` (1 for the held-out item, 0 otherwise):
#
# $$\mathrm{HR@}k = [\text{a relevant item is in the first } k], \qquad
#   \mathrm{DCG@}k = \sum_{p=1}^{k} \frac{rel(p)}{\log_2(p+1)}, \qquad
#   \mathrm{NDCG@}k = \frac{\mathrm{DCG@}k}{\mathrm{IDCG@}k},$$
#
# where IDCG@k is the DCG of the best possible order of the same candidates. With one relevant
# item, IDCG = 1, so NDCG@k is `1 / log2(rank + 1)` when the item is ranked within k, else 0.
#
# `tinyrec.metrics` takes `scores : (n_users, n_candidates)` and `relevance` of the same shape,
# one row per user, so the scores of *any* library can be checked with the same definitions.

# %%
scores = np.array(
    [
        [0.1, 0.9, 0.3, 0.8, 0.5],  # held-out item (column 2) ranked 4th
        [0.7, 0.2, 0.6, 0.1, 0.3],  # held-out item (column 0) ranked 1st
    ]
)
relevance = np.zeros_like(scores)
relevance[0, 2] = relevance[1, 0] = 1

rank = 1 + (scores > scores[relevance == 1][:, None]).sum(axis=1)  # (2,): items scored above, + 1
k = 3
hr_by_hand = (rank <= k).astype(float)
ndcg_by_hand = np.where(rank <= k, 1 / np.log2(rank + 1), 0.0)
print("ranks", rank, "HR@3", hr_by_hand, "NDCG@3", ndcg_by_hand)
print(
    "tinyrec:",
    metrics.hit_rate(scores, relevance, k, per_user=True),
    metrics.ndcg(scores, relevance, k, per_user=True),
)
assert np.allclose(hr_by_hand, metrics.hit_rate(scores, relevance, k, per_user=True))
assert np.allclose(ndcg_by_hand, metrics.ndcg(scores, relevance, k, per_user=True))

# %% [markdown]
# ## 2. Ties, and a model that knows nothing
#
# Our rank above counted the items scored *strictly* above the held-out one. What if some score
# *the same*? A model with a constant score ties every item. Sorting is then arbitrary, and the
# result depends on where the sort happens to put the held-out item: if it sits in the first
# column, a stable sort ranks it first and the constant model gets HR@10 = 1.
#
# tinyrec fixes the rule (`ties=`):
#
# * `"pessimistic"` (the default): an item tied with a relevant item ranks above it. A model
#   earns nothing from ties: a constant model scores 0;
# * `"optimistic"`: the opposite (an upper bound);
# * `"average"`: the exact expected value over a random order of the tied items: a constant model
#   scores chance, k / n_candidates.

# %%
n_candidates = 100
const_scores = np.zeros((1, n_candidates))
held_out_first = np.zeros((1, n_candidates))
held_out_first[0, 0] = 1  # the held-out item in column 0, as many data pipelines put it
naive = float((np.argsort(-const_scores[0], kind="stable")[:10] == 0).any())
print(f"naive stable sort: HR@10 = {naive}")
for ties in ("pessimistic", "optimistic", "average"):
    print(f"{ties:>12}: HR@10 = {metrics.hit_rate(const_scores, held_out_first, 10, ties=ties):.3f}")

# %% [markdown]
# Real models tie too: popularity gives the same score to every item with the same number of
# interactions, and models with rounded or saturated outputs (a sigmoid at 1.0 in float32) tie
# often. Always say which rule your numbers use.
#
# ## 3. The popularity baseline
#
# Recommend to everyone the items most people interacted with in train:
# `score(u, i) = |{v : (v, i) ∈ train}|`. It needs no learning, and on long-tailed data it is a
# strong baseline: a model that does not beat it clearly has learnt little (section 4 measures
# the margin of one model). `evaluate` only needs an object with `score_all(users)`
# (scores of every item for a batch of users) or `predict(users, items)`; three lines suffice.


# %%
class PopularityScorer:
    """score(u, i) = number of training interactions of item i, the same for every user."""

    def __init__(self, train):
        self.counts = np.bincount(train.items, minlength=train.n_items).astype(np.float64)

    def score_all(self, users):
        return np.tile(self.counts, (len(users), 1))  # (len(users), n_items)


pop = PopularityScorer(train)
reference = Popularity().fit(train)  # tinyrec's own Popularity model: the same scores
assert np.allclose(pop.score_all(np.arange(5)), reference.score_all(np.arange(5)))
print("PopularityScorer == tinyrec.models.Popularity")

for ties in ("pessimistic", "average"):
    res = evaluate(pop, test, train=train, protocol="sampled", k=10, ties=ties)
    print(f"popularity, sampled, {ties:>11}: HR@10 {res['hr@10']:.3f}  NDCG@10 {res['ndcg@10']:.3f}")

# %% [markdown]
# ## 4. Sampled versus full ranking
#
# A personalized model: **PureSVD** (Cremonesi et al., 2010), the truncated SVD of the 0/1
# train matrix `A ≈ U Σ Vᵀ` with `f` factors, scoring `â_u = a_u V Vᵀ` (the user's row projected
# on the top item factors). Ten lines, no training loop.


# %%
class PureSVD:
    def __init__(self, train, factors=32):
        A = np.zeros((train.n_users, train.n_items))
        A[train.users, train.items] = 1.0  # (n_users, n_items) implicit feedback
        _, _, vt = np.linalg.svd(A, full_matrices=False)
        self.A, self.vt, self.V = A, vt, vt[:factors].T  # V : (n_items, factors)

    def score_all(self, users):
        return (self.A[users] @ self.V) @ self.V.T  # (len(users), n_items)


svd = PureSVD(train)
rows = []
for name, model in (("popularity", pop), ("PureSVD", svd)):
    sampled = evaluate(model, test, train=train, protocol="sampled", k=10)
    full = evaluate(model, test, train=train, protocol="full", k=10)
    rows.append((name, sampled["hr@10"], sampled["ndcg@10"], full["hr@10"], full["ndcg@10"]))
print(
    f"{'model':<11} {'sampled HR@10':>14} {'NDCG@10':>8} {'full HR@10':>11} {'NDCG@10':>8}  sampled/full HR"
)
for name, *values in rows:
    print(
        f"{name:<11} {values[0]:>14.3f} {values[1]:>8.3f} {values[2]:>11.3f} {values[3]:>8.3f}"
        f"  {values[0] / values[2]:.1f}x"
    )
n_full = train.n_items - np.diff(train.positives_csr()[0])[test.users]  # candidates per test user
print(f"candidates per user: 100 (sampled) vs {n_full.mean():,.0f} on average (full)")

# %% [markdown]
# The same model, the same held-out items, and HR@10 falls by the factor in the last column
# from the sampled to the full protocol. Nothing is wrong: in the sampled protocol the held-out
# item competes with 99 random items, mostly obscure ones that any sensible model ranks low;
# HR@10 there means "in the top tenth of a random sample". In the full protocol it competes with
# every unseen item, including all the popular ones, and must reach the top 10 of all of them.
#
# Sampled metrics are also noisy (they depend on the draw of negatives) and can even reorder
# models (Krichene & Rendle, KDD 2020, "On Sampled Metrics for Item Recommendation"). The spread
# over a few draws of the negatives:

# %%
draws = [evaluate(svd, test, train=train, protocol="sampled", k=10, seed=s)["hr@10"] for s in range(4)]
print("PureSVD sampled HR@10 over 4 seeds:", np.round(draws, 3))
ratio = rows[1][1] / rows[0][1], rows[1][3] / rows[0][3]
print(f"PureSVD / popularity: {ratio[0]:.2f}x under sampled, {ratio[1]:.2f}x under full ranking")

# %% [markdown]
# The ratio line says how far PureSVD is ahead of popularity under each protocol, on this data.
# The two protocols need not even agree on which of two models is better. Choose PureSVD's
# number of factors `f` with each protocol (one SVD serves every `f`: keep its first `f` rows of
# `Vᵀ`). The sampled HR@10 is averaged over the same 4 draws of negatives, with
# the lowest and highest draw beside it; the last column is the correlation between a user's
# scores and the items' train counts, averaged over users (how close the model is to popularity).


# %%
def with_factors(model, factors):
    """The same PureSVD truncated to ``factors`` (the SVD is computed once)."""
    other = copy.copy(model)
    other.V = model.vt[:factors].T
    return other


counts = train.item_counts().astype(np.float64)
z_counts = (counts - counts.mean()) / counts.std()
print(
    f"{'factors':>7} {'sampled HR@10 (4 draws)':>24} {'NDCG@10':>8} {'full HR@10':>11} {'NDCG@10':>8}"
    "  corr. with popularity"
)
by_factors = {}
for f in (4, 8, 16, 32, 64, 128):
    model = with_factors(svd, f)
    sampled = [evaluate(model, test, train=train, protocol="sampled", k=10, seed=seed) for seed in range(4)]
    full = evaluate(model, test, train=train, protocol="full", k=10, return_per_user=True)
    hr = [r["hr@10"] for r in sampled]
    scores_all = model.score_all(np.arange(train.n_users))
    z = (scores_all - scores_all.mean(axis=1, keepdims=True)) / scores_all.std(axis=1, keepdims=True)
    corr = float(np.mean(z @ z_counts) / train.n_items)
    by_factors[f] = (hr, full)
    ndcg = np.mean([r["ndcg@10"] for r in sampled])
    print(
        f"{f:>7} {np.mean(hr):>9.3f} ({min(hr):.3f}-{max(hr):.3f}) {ndcg:>8.3f}"
        f" {full['hr@10']:>11.3f} {full['ndcg@10']:>8.3f}  {corr:.2f}"
    )
best_sampled = max(by_factors, key=lambda f: np.mean(by_factors[f][0]))
best_full = max(by_factors, key=lambda f: by_factors[f][1]["hr@10"])
print(f"\nthe best number of factors: {best_sampled} by sampled HR@10, {best_full} by full HR@10")
(hr_4, full_4), (hr_128, full_128) = by_factors[4], by_factors[128]
ahead = all(a > b for a, b in zip(hr_4, hr_128, strict=True))
print(f"4 factors ahead of 128 under sampled HR@10 on every draw: {ahead}")
sampled_order = "4 above 128" if np.mean(hr_4) > np.mean(hr_128) else "128 above 4"
full_order = "4 above 128" if full_4["hr@10"] > full_128["hr@10"] else "128 above 4"
verdict = "agree" if sampled_order == full_order else "disagree"
print(f"4 against 128 factors: sampled HR@10 ranks {sampled_order}, full HR@10 ranks {full_order}:")
print(f"  on this data the two protocols {verdict}")
hits_4, hits_128 = full_4["per_user"]["hr@10"] > 0, full_128["per_user"]["hr@10"] > 0
only_128, only_4 = np.sum(hits_128 & ~hits_4), np.sum(hits_4 & ~hits_128)
print(f"full HR@10, users hit by 128 factors only: {only_128}, by 4 factors only: {only_4}")
z_sign = (only_128 - only_4) / np.sqrt(only_128 + only_4)  # about N(0, 1) if equally good
favoured = 128 if z_sign > 0 else 4
print(f"sign test over those {only_128 + only_4} users: z = {z_sign:.1f} (in favour of {favoured} factors)")

# %% [markdown]
# The last lines say which size each protocol picks, and whether the two protocols order 4 and
# 128 factors the same way on this data. They can disagree, and the last column of the table
# suggests why: with few factors the scores stay closer to popularity, and keeping rarely rated
# items low is most of what it takes to beat 99 random items; reaching the top 10 of the whole
# catalogue takes telling the popular items apart for each user, which the extra factors do. So
# the sampled protocol can favour a smaller model than the full protocol does.
#
# How sure is the full protocol's verdict on 4 against 128 factors? Look only at the users on
# which the two models disagree: one puts the held-out item in its top 10, the other does not.
# If the models were equally good, each of those users would be a coin toss, and `z`, the
# difference of the two counts over its standard deviation (the square root of their sum), would
# be roughly standard normal. A `|z|` near 2 is a modest margin, the more so for a pair picked
# from a table of six sizes, on one split; a `|z|` of 5 or more is not luck. Orders that flip
# between the protocols are the kind of reordering Krichene & Rendle describe, and a reason to
# choose models (and their sizes) with the protocol you will report.
#
# Report the protocol with the number: candidates (sampled with N negatives, or full), k, the tie
# rule, and which users are averaged (here: every test user; a user with no relevant candidate is
# left out, and tinyrec says so in `n_users`).
#
# ## 5. Your turn: implement MRR
#
# The reciprocal rank of a user is `1 / p*`, where `p*` is the position of the first relevant
# item; MRR is its mean over users that have a relevant item. Write
# `my_mrr(scores, relevance)` for **pessimistic** ties (an item tied with a relevant one ranks
# above it) without cut-off, vectorized over users. Hint: for each user, take the best score
# among its relevant items, `s*`; the candidates ranked before the first relevant item are those
# scored above `s*`, plus the *irrelevant* ones scored exactly `s*`.
#
# Then run the next cell. `tinyrec.exercises.mrr.check` tries your function on rankings worked
# out by hand (ties with irrelevant items, relevant items tied with each other, several relevant
# items, users without one) and on random cases with ties everywhere, compared with the reference
# solution, which agrees with `tinyrec.metrics.mrr`. The reference solution is printed by
# `tinyrec.exercises.show_solution("mrr")`. Try your own first.


# %%
def my_mrr(scores, relevance):
    """MRR of ``scores, relevance : (n_users, n_candidates)``, pessimistic ties, no cut-off."""
    raise NotImplementedError("your turn: return the mean of 1 / (position of the first relevant item)")


# %%
report = tinyrec.exercises.mrr.check(my_mrr)
print(report)
