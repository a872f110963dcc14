# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 09 — A shop, end to end: from a raw event feed to a product list with reasons
#
# Every tutorial so far started from a clean `Interactions` table. A shop does not have one: it
# has an **event feed** (who rated or bought what, when), a **customer table** and a **product
# table**, each exported by a different system, each with its faults. This tutorial goes the whole
# way, with MovieLens 100K as the shop's catalogue and a rating of 4 or more as a purchase:
#
# 1. a raw feed with duplicates, missing fields and mixed types, and its cleaning, where every row
#    read is accounted for in **one report** whose counts must add up;
# 2. features: bucketed ages, genders, occupations, genres, and how a missing value is filled;
# 3. a **purchase-probability model** (a feature MLP trained with binary cross-entropy) judged as a
#    classifier: accuracy, precision, recall, F1 and ROC AUC on held-out events;
# 4. a **ranking model**, chosen among four on a validation split, judged by HR@10 and NDCG@10;
# 5. each customer's top-N list with titles and a one-line reason per item ("because you liked X",
#    "people like you (25–34, student) liked this"), and a list for a brand-new customer;
# 6. your turn: the classification metrics at a threshold.
#
# Notation (docs/notation.md): `u` a user (a customer), `i`, `j` items (products), `y_ui` 1 for a
# purchase and 0 otherwise, `p_ui = σ(z_ui)` the model's purchase probability, `τ` a decision
# threshold, `TP`, `FP`, `FN` the true positives, false positives and false negatives.
#
# It uses MovieLens 100K when it is found (in `$TINYREC_DATA/ml-100k/` or tinyrec's download
# cache; it never downloads here), and otherwise a synthetic data set
# whose users and items get features derived from its planted model. The text points at the
# printed lines rather than quoting numbers. `examples/shop.py` runs the same pipeline as a short
# script.

# %%
import warnings

import numpy as np

import tinyrec.data as td
import tinyrec.exercises
from tinyrec.data.encoders import FeatureEncoder
from tinyrec.data.features import Column, FeatureTable, align_records
from tinyrec.data.messy import messy_events, messy_table
from tinyrec.data.preprocess import clean_events, to_implicit
from tinyrec.data.sampling import sampled_candidates
from tinyrec.errors import ArgumentTypeError, DataError
from tinyrec.evaluation import evaluate
from tinyrec.metrics.classification import accuracy, precision_recall_f1, roc_auc
from tinyrec.models import BPRMF, FM, FeatureMLP, Popularity
from tinyrec.models.reasons import Reasons

try:
    data = td.movielens("100k", download=False)  # path= / $TINYREC_DATA / cache; never downloads here
except DataError as exc:
    print("MovieLens 100K not found, using a synthetic data set instead:", str(exc)[:80], "...")
    data = td.synthetic(943, 1682, 100_000, popularity_skew=1.0, seed=0)
    P, Q = data.info["planted"].user_factors, data.info["planted"].item_factors  # the planted tastes
    jobs = np.array(["student", "engineer", "artist", "writer", "retired"])
    genre_names = np.array(
        ["Action", "Comedy", "Drama", "Romance", "Thriller", "Sci-Fi", "Horror", "Western"]
    )
    ages = Column(np.zeros(0), "numeric", encoding="bucket", edges=(18, 25, 35, 45, 50, 56))
    users = {"age": np.round(18 + 40 / (1 + np.exp(-3 * P[:, 0]))), "gender": np.where(P[:, 1] > 0, "F", "M"),
             "occupation": jobs[np.argmax(P[:, 2:7], axis=1)]}  # fmt: skip
    items = {"title": np.array([f"Film {i}" for i in range(data.n_items)]),
             "genres": np.array(["|".join(genre_names[np.argsort(-q[:8])[:2]]) for q in Q]),
             "year": np.round(1950 + 45 / (1 + np.exp(-3 * Q[:, 0])))}  # fmt: skip
    data = data.with_ratings(np.clip(np.round(data.ratings), 1, 5)).with_meta(  # stars, 1 to 5
        user_meta=FeatureTable.from_arrays(users, kinds={"age": ages}),
        item_meta=FeatureTable.from_arrays(items, kinds={"title": "text", "genres": "multi_hot"}),
    )
print(data)

# %% [markdown]
# ## 1. The raw feed
#
# `tinyrec.data.messy.messy_events` turns the clean ratings into the rows a shop's feed might
# deliver, from a seeded generator: some rows lose a field (the user, the item, the rating or
# the timestamp arrives as `None`, `NaN`, `""` or `"n/a"`), some ratings are text that is no
# number (`"five"`) or have an extra digit (`44`), a bot sends ids that no catalogue knows, some
# requests are logged twice, and some customers rated a product earlier and changed their mind.
# Many values arrive as text: `"4.0"`, `" 5 "`, a user id `"196"`. The generator also says exactly
# what it did (`injected`), which is how we will check the cleaning. The customer and product
# tables (`messy_table`) arrive as text too, with a few values left blank.

# %%
raw = messy_events(data, seed=0)
print(f"{len(raw):,} raw event rows from {len(data):,} ratings; a few of them:")
for row in raw.rows(range(6)):
    print("  ", row)
types = {type(v).__name__ for v in raw.ratings.tolist()}
print("the types found in the rating field:", sorted(types))
customers = messy_table(data.user_meta, data.user_ids, ["age", "gender", "occupation"], missing=0.05, seed=1)
products = messy_table(data.item_meta, data.item_ids, ["title", "genres", "year"], missing=0.05, seed=2)
first = next(iter(customers.records))
print(f"customer {first} as the customer table has it: {customers.records[first]}")

# %% [markdown]
# ## 2. Cleaning, with one report
#
# `clean_events` reads every field with one rule per type (`parse_ids`: each id by itself, an
# integer whether it comes as `196`, `196.0`, `"196"` or `" 0196 "`, so those are one id;
# `parse_numbers`: `4`, `4.0`, `"4"` and `" 4.0 "` are all 4.0), then removes each row that cannot
# be used, **for the first reason that applies**, in a fixed order: missing user, unreadable user
# (a `True` or a `3.5` is no id), missing item, unreadable item, missing rating, unreadable rating,
# rating out of range, missing or invalid timestamp (`bad timestamp`), unknown user, unknown item.
# A row is counted once, under one reason, so the counts add up. Then two kinds of duplicates go:
#
# * an **exact duplicate**, equal to an earlier row in every field (a request logged twice);
# * an **older duplicate**: another row of the same (user, item) pair. Which one to keep is a
#   choice (`duplicates=`): `"last"`, the latest rating, is the customer's current opinion.
#
# The catalogue says which users and items exist: `known_users` and `known_items`.

# %%
shop, report = clean_events(
    raw.users, raw.items, raw.ratings, raw.timestamps,
    rating_range=(1, 5), known_users=data.user_ids, known_items=data.item_ids, duplicates="last",
)  # fmt: skip

# %% [markdown]
# The customer and product tables are aligned with the ids left in the cleaned data
# (`align_records`, the function behind `read_feature_file`): its `AlignmentReport` counts the ids
# of the data without a row, and the rows naming an id the data does not have (a product whose
# every event was dropped, for one). A missing feature value is **not** a reason to drop a row: it
# is filled by its column's encoder, which says how (`fills_missing_with`,
# `tinyrec/data/encoders.py`): a category (and a bucketed number such as the age) goes to the
# "unknown" slot, an empty genre list is an empty bag that adds nothing, a plain number gets the
# training mean. The report counts each, with its encoder's rule.
# (`align_records` also warns about the ids it did not match; the report counts them, so the
# warnings are caught here rather than printed in the middle of it.)

# %%
with warnings.catch_warnings():  # the report counts the unmatched ids
    warnings.simplefilter("ignore", UserWarning)
    user_table, user_alignment = align_records(
        shop.user_ids, customers.records, customers.kinds, source="customers"
    )
    item_table, item_alignment = align_records(
        shop.item_ids, products.records, products.kinds, source="products"
    )
shop = shop.with_meta(user_meta=user_table, item_meta=item_table)
report.add_features("customers", user_table, user_alignment)
report.add_features("products", item_table, item_alignment)
print(report)

# %% [markdown]
# Every row read is in exactly one line: the rows kept plus every removal give the rows read
# (`check_counts` raises otherwise). And since we made the faults ourselves, we can check that the
# cleaning found each of them, no more and no fewer, and that the ratings it kept are the original
# ones, minus those damaged beyond use:


# %%
def as_rows(table):
    """The (raw user, raw item, rating) of every interaction of ``table``."""
    users, items = table.user_ids[table.users].tolist(), table.item_ids[table.items].tolist()
    return set(zip(users, items, table.ratings.tolist(), strict=True))


report.check_counts()
for name, before, after in report.steps:
    assert before - after == raw.injected[name], (name, before - after, raw.injected[name])
assert len(shop) == len(data) - raw.lost and as_rows(shop) <= as_rows(data)
removed = report.rows_in - report.rows_out
print(f"rows read {report.rows_in:,} = kept {report.rows_out:,} + removed {removed:,}")
print(f"each removal count equals the faults injected; {len(shop):,} ratings kept, all of them original")

# %% [markdown]
# ## 3. Purchases, a split, and the features
#
# A rating of 4 or 5 is a purchase (`to_implicit(shop, 4.0)` keeps those rows, with the value 1).
# 20% of the purchases are held out for the test (`random_holdout`), and 10% of the rest for a
# **validation** split, which chooses the ranking model in section 5 so that the test set is looked
# at only once, at the end.

# %%
purchases = to_implicit(shop, 4.0)
train, test = td.random_holdout(purchases, 0.2, seed=0)
fit_train, valid = td.random_holdout(train, 0.1, seed=1)
print(f"{len(purchases):,} purchases of {len(shop):,} rated events ({len(purchases) / len(shop):.0%})")
print(f"train {len(train):,} (of which {len(valid):,} for validation), test {len(test):,}")

# %% [markdown]
# A model reads each user and item as a row of **bags**, one per field: a bag is a list of
# `(slot, weight)` pairs. The age is a number, bucketed at MovieLens's age groups; gender and
# occupation are one-hot, with slot 0 for "unknown"; genres are multi-hot, each of a film's genres
# weighing `1 / count`; the release year is standardized, `(x − mean) / std`. The encoders are
# fitted on the training users and items only (no statistic comes from the test), and show what a
# customer with a blank age becomes:

# %%
known = train.user_counts() > 0
user_encoder = FeatureEncoder.for_table(shop.user_meta, ("age", "gender", "occupation")).fit(
    shop.user_meta, known
)
labels = user_encoder.labels()
blank_age = int(np.flatnonzero(shop.user_meta.column("age").missing())[0])
for u in (0, blank_age):
    values = {name: shop.user_meta[name][u].item() for name in ("age", "gender", "occupation")}
    slots = user_encoder.encode(shop.user_meta.take([u])).indices
    print(f"customer {shop.user_ids[u]}: {values} -> {[labels[s] for s in slots]}")
item_encoder = FeatureEncoder.for_table(shop.item_meta, ("genres", "year"))
item_encoder.fit(shop.item_meta, train.item_counts() > 0)
rows = item_encoder.encode(shop.item_meta.take([0]))
bags = [
    (item_encoder.labels()[s], round(float(w), 3)) for s, w in zip(rows.indices, rows.weights, strict=True)
]
print(f"{shop.item_meta['title'][0]}: {bags}")

# %% [markdown]
# ## 4. The purchase model, judged as a classifier
#
# `FeatureMLP` embeds each field (the user's id, age, gender and occupation, the item's id,
# genres and year), concatenates the field vectors, runs an MLP and returns `p_ui = σ(z_ui)`. It
# is trained with binary cross-entropy on every training purchase (`y = 1`) and, redrawn each
# epoch, 4 random items the customer did not buy (`y = 0`), with Adam. A few epochs keep this
# notebook short.

# %%
USER_FEATURES, ITEM_FEATURES = ("age", "gender", "occupation"), ("genres", "year")
mlp = FeatureMLP(16, (64, 32), n_epochs=5, batch_size=1024, lr=3e-3, n_negatives=4,
                 user_features=USER_FEATURES, item_features=ITEM_FEATURES, seed=0)  # fmt: skip
mlp.fit(fit_train)
print("training BCE per epoch:", np.round(mlp.history_["loss"], 3))

# %% [markdown]
# A classifier is judged on held-out **events**, each with a true label. The positives are the
# test purchases; as negatives we draw, for each, one item its customer bought neither in train nor
# in test (`sampled_candidates(train, test, 1)`): a balanced set, where always answering "purchase"
# has accuracy 0.5. At the threshold `τ = 0.5` the model predicts a purchase where `p_ui >= 0.5`:
#
# * accuracy: the share of events predicted right;
# * precision `TP / (TP + FP)`: of the predicted purchases, the share that were purchases;
# * recall `TP / (TP + FN)`: of the purchases, the share the model predicted;
# * F1, their harmonic mean, `2 · precision · recall / (precision + recall)`;
# * ROC AUC: the probability that a random purchase gets a higher `p` than a random non-purchase,
#   ties counting 1/2. It uses no threshold at all.

# %%
users, candidates = sampled_candidates(train, test, 1, seed=1)  # column 0: the purchase, 1: a negative
y_true = np.concatenate([np.ones(len(users)), np.zeros(len(users))]).astype(int)
p = np.concatenate([mlp.predict(users, candidates[:, 0]), mlp.predict(users, candidates[:, 1])])
y_pred = (p >= 0.5).astype(int)
precision, recall, f1 = precision_recall_f1(y_true, y_pred)
purchase_metrics = {"accuracy": accuracy(y_true, y_pred), "precision": precision, "recall": recall, "f1": f1,
                    "roc_auc": roc_auc(y_true, p)}  # fmt: skip
print(f"{len(y_true):,} held-out events, half of them purchases")
print("  ".join(f"{name} {value:.3f}" for name, value in purchase_metrics.items()))
print(f"mean p on the purchases {p[y_true == 1].mean():.3f}, on the negatives {p[y_true == 0].mean():.3f}")

# %% [markdown]
# Precision and recall move in opposite directions with the threshold. The model learnt from one
# purchase for every 4 negatives, so its probabilities are centred on a 1-in-5 world, lower than on
# this balanced test set: a lower threshold buys recall with precision. The best threshold depends
# on what a mistake costs the shop (a wasted e-mail, or a missed sale), and is chosen on validation
# data, not on the test:

# %%
for tau in (0.1, 0.2, 0.3, 0.5, 0.7):
    pred = (p >= tau).astype(int)
    prec, rec, f = precision_recall_f1(y_true, pred)
    acc = accuracy(y_true, pred)
    print(f"τ = {tau:.1f}: precision {prec:.3f}  recall {rec:.3f}  F1 {f:.3f}  accuracy {acc:.3f}")

# %% [markdown]
# Which events are negatives decides what the figures mean. The model was taught "bought" against
# random items not bought, most of which the customer never looked at: easy negatives. A harder
# question: among the products a customer **did** rate, which did they buy (rate 4 or more)? Those
# rated 3 or less are negatives that the customer chose to look at; ROC AUC on them:

# %%
views = shop.subset(shop.ratings < 4)  # rated, not bought: same index space as the purchases
pick = np.random.default_rng(2).choice(len(views), size=min(len(views), len(test)), replace=False)
hard_true = np.concatenate([np.ones(len(test)), np.zeros(len(pick))]).astype(int)
hard_p = np.concatenate(
    [mlp.predict(test.users, test.items), mlp.predict(views.users[pick], views.items[pick])]
)
print(f"ROC AUC, purchases against random items not bought: {purchase_metrics['roc_auc']:.3f}")
hard_auc = roc_auc(hard_true, hard_p)
print(f"ROC AUC, purchases against items rated 3 or less: {hard_auc:.3f}")
print(f"the harder negatives cost {purchase_metrics['roc_auc'] - hard_auc:.3f} of ROC AUC")

# %% [markdown]
# Compare the two lines. A model taught to tell a purchase from a random item learns what a
# customer looks at more than what they love: a film the customer rated low is much harder to tell
# from one they loved than a random film is. To learn that difference, the low ratings would have
# to be negatives in training too.
#
# ## 5. The ranking model, chosen on validation
#
# A shop's list is a ranking, judged by HR@10 and NDCG@10 (tutorial 03): each held-out purchase is
# ranked among 99 items its customer never bought, and we ask whether it is in the top 10, and how
# high. Four contenders learn from `fit_train`: popularity (the bar to clear), BPR matrix
# factorization (ids only, trained to rank a purchase above a non-purchase), a factorization
# machine with the same features as the MLP (BCE with 4 negatives), and the purchase model above.
# The validation split chooses; the test split then reports every model, once.

# %%
contenders = {
    "Popularity": Popularity(),
    "BPRMF": BPRMF(64, 30, lr=0.05, reg=0.005, seed=0),
    "FM": FM(32, 5, loss="bce", batch_size=1024, lr=3e-3, user_features=USER_FEATURES,
             item_features=ITEM_FEATURES, seed=0),
    "FeatureMLP": mlp,  # already trained on fit_train
}  # fmt: skip
scores, per_user = {}, {}
for name, model in contenders.items():
    if name != "FeatureMLP":
        model.fit(fit_train)
    on_valid = evaluate(model, valid, train=fit_train, protocol="sampled", k=10)
    on_test = evaluate(model, test, train=train, protocol="sampled", k=10, return_per_user=True)
    scores[name] = (on_valid["ndcg@10"], on_test["hr@10"], on_test["ndcg@10"])
    per_user[name] = on_test["per_user"]["hr@10"]  # each customer's HR@10 over their test purchases
    print(f"{name:<11} validation NDCG@10 {scores[name][0]:.3f}   test HR@10 {scores[name][1]:.3f}  "
          f"NDCG@10 {scores[name][2]:.3f}")  # fmt: skip
chosen = max(scores, key=lambda name: scores[name][0])
values = per_user[chosen]  # HR@10 is the mean over customers of each one's hit rate
se = values.std(ddof=1) / np.sqrt(len(values))
print(f"chosen on validation: {chosen}; the standard error of its test HR@10 ({scores[chosen][1]:.3f}) "
      f"over {len(values):,} customers: {se:.3f}")  # fmt: skip

# %% [markdown]
# Which model ranks best is what the table says, on this data, not a belief about models. Two
# things decide it. The first is how much each customer has bought (printed below): with dozens of
# purchases, a customer's id, that is their history, says more about their taste than their age or
# occupation, and a model of ids trained directly on the ranking (BPR: a purchase above a
# non-purchase) has what it needs; features can add little for a known customer, and matter most for
# one with no history (section 7). The second is training: the models of features had 5 epochs
# and one setting each, BPR-MF 30 cheap epochs. Read the table with the standard error in mind: a
# gap of one standard error does not rank two models.
#
# The chosen model is refit with the same settings on all of train (the validation purchases too,
# so that they are neither missed nor recommended again), and scored once more on the test:

# %%
counts = train.user_counts()[train.user_counts() > 0]
print(f"purchases per customer in train: median {np.median(counts):.0f}, fewest {counts.min()}")
ranker = type(contenders[chosen])(**contenders[chosen].get_params()).fit(train)
final = evaluate(ranker, test, train=train, protocol="sampled", k=10)
print(f"{chosen} refit on all of train: test HR@10 {final['hr@10']:.3f}  NDCG@10 {final['ndcg@10']:.3f}")

# %% [markdown]
# ## 6. Each customer's list, with a reason per item
#
# The list is the ranker's top 5 among the products the customer has not bought. Each item gets a
# one-line reason from `tinyrec.models.reasons.Reasons`, of one of two kinds:
#
# * "because you liked X": `X` is the customer's purchase most often bought together with the
#   item, by the cosine of the two items' buyer sets, `|U_i ∩ U_j| / √(|U_i| |U_j|)`;
# * "people like you (25–34, student) liked this": the customer's group, named by their age bucket
#   and occupation as the encoders read them.
#
# Which one is the purchase model's call, through its `explain`: the change in `p_ui` when one
# field's bag is emptied. When the customer's age and occupation together raise `p_ui`, and more
# than the customer's own id does (what the model learnt from their purchases), the reason is their
# group; otherwise their history. The table below is one such explanation.

# %%
reasons = Reasons(train, mlp, group=("age", "occupation"))
titles = shop.item_meta["title"]
first = int(ranker.recommend([0], k=1)[0][0, 0])  # customer 0's first item
print(mlp.explain(0, first, top=10).table(header=f"customer {shop.user_ids[0]} and {titles[first]}"))
for u in (0, 1, 2):
    age, gender, job = (shop.user_meta[c][u] for c in ("age", "gender", "occupation"))  # blank: missing
    about = f"age {'?' if np.isnan(age) else f'{age:.0f}'}, {gender or '?'}, {job or '?'}"
    print(f"\ncustomer {shop.user_ids[u]} ({about}; {len(train.positives(u))} purchases in train)")
    items, _ = ranker.recommend([u], k=5)
    for item in items[0].tolist():
        print(f"  {str(titles[item])[:40]:<40}  {reasons(u, item)}")

# %% [markdown]
# How often each kind of reason comes up, over the top 10 of 50 customers:

# %%
sample = np.arange(50)
top10, _ = ranker.recommend(sample, k=10)
kinds = [reasons.kind(int(u), int(i)) for u, row in zip(sample, top10, strict=True) for i in row]
print(f"{kinds.count('history')} reasons quote the customer's history, {kinds.count('group')} their group")

# %% [markdown]
# ## 7. A brand-new customer
#
# A visitor who has just signed up has no purchase yet, only the features they gave. A model of
# ids cannot read features, and tinyrec's models that cannot read them refuse them (`features=`)
# with an error rather than ignore them silently. A model of features reads them and scores every product
# for this customer from the fields it learnt: the chosen ranker if it is one (a factorization
# machine is), else the purchase model, whose score is then the purchase probability. (When no
# model can read features, the chain of fallbacks is `GroupPopularity`, the most bought items of
# the customer's group, then `Popularity`.) Every reason is the group's:

# %%
visitor = {"age": 25, "gender": "F", "occupation": "student"}
model = ranker
if not ranker.uses_features:
    try:
        ranker.recommend(None, k=5, features=[visitor])
    except ArgumentTypeError as exc:
        print(f"{chosen} refuses: {str(exc)[:110]}...")
    model = mlp
items, item_scores = model.recommend(None, k=5, features=[visitor])
print(f"a new customer {visitor}, by {type(model).__name__}:")
for item, prob in zip(items[0].tolist(), item_scores[0].tolist(), strict=True):
    print(f"  {str(titles[item])[:40]:<40}  {reasons(None, item, features=visitor)}  (score {prob:.3f})")

# %% [markdown]
# ## Your turn: the metrics at a threshold
#
# Write `my_threshold_metrics(labels, probabilities, threshold)`: predict a purchase where
# `p >= threshold` (a probability equal to the threshold is a purchase), and return a dict of the
# `"accuracy"`, `"precision"`, `"recall"` and `"f1"` of those predictions, with 0 where a ratio has
# nothing to count (no predicted purchase, no true purchase), never NaN.
#
# Replace the `raise NotImplementedError` line, then run the next cell.
# `tinyrec.exercises.threshold_metrics.check` tries a small case worked out by hand, a probability
# equal to the threshold, a case where precision and recall differ, a model that predicts a purchase
# everywhere (F1 is a harmonic mean), cases with nothing to count, and random events against
# `tinyrec.metrics.classification`. The reference solution is printed by
# `tinyrec.exercises.show_solution("threshold_metrics")`. Try your own first.


# %%
def my_threshold_metrics(labels, probabilities, threshold):
    """``{"accuracy", "precision", "recall", "f1"}`` of predicting a purchase where ``p >= threshold``."""
    raise NotImplementedError("your turn: predict p >= threshold, count TP, FP, FN, and divide (0/0 is 0)")


# %%
report = tinyrec.exercises.threshold_metrics.check(my_threshold_metrics)
print(report)

# %% [markdown]
# A version that uses `p > threshold` looks right on most data, and is caught by name:


# %%
def strictly_above(labels, probabilities, threshold):  # tinyrec's metrics, on p > threshold
    predicted = (np.asarray(probabilities) > threshold).astype(int)
    precision, recall, f1 = precision_recall_f1(labels, predicted)
    return {"accuracy": accuracy(labels, predicted), "precision": precision, "recall": recall, "f1": f1}


caught = tinyrec.exercises.threshold_metrics.check(strictly_above)
print(caught)
assert not caught.ok, "the checks should have rejected strictly_above"
