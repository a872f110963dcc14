# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 08 — Testing another library against tinyrec
#
# tinyrec writes every definition down and checks every gradient, so it can serve as a reference
# for *another* library: yours, or one you are about to trust. This notebook does three such
# checks, each with the tool tinyrec provides for it:
#
# 1. a **torch layer** against tinyrec's golden vectors (`tinyrec.testing.export_reference`): the
#    numbers any test suite, in any language, can load with a JSON parser and NumPy's file format;
# 2. a **metric function** against tinyrec's conventions (`tinyrec.testing.check_metric`): which
#    tie rule, which treatment of users without a relevant item, which denominator it follows;
# 3. a **Surprise model** evaluated with tinyrec's protocols through an adapter
#    (`tinyrec.adapters.from_surprise`), its ids translated both ways.
#
# docs/metrics.md has the table of which tinyrec settings reproduce scikit-learn, ranx, trec_eval,
# torchmetrics, RecBole, Surprise and implicit, each row backed by a test in `tests/libraries/`.
# Parts 1 and 3 need torch and Surprise; without them they say so and skip. Your turn at the end:
# an average precision with a convention of your own, recognised by `check_metric`.

# %%
import importlib
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import tinyrec.exercises
from tinyrec import adapters, metrics
from tinyrec.data import movielens, synthetic
from tinyrec.errors import DataError
from tinyrec.evaluation import evaluate
from tinyrec.models import Popularity
from tinyrec.testing import check_metric, check_reference, export_reference


def installed(*names: str) -> bool:
    """Whether every one of these modules imports (the parts that need them skip otherwise)."""
    try:
        for name in names:
            importlib.import_module(name)
    except ImportError:
        return False
    return True


HAS_TORCH = installed("torch")
HAS_SURPRISE = installed("surprise", "pandas")
print(f"torch installed: {HAS_TORCH}; Surprise (and pandas) installed: {HAS_SURPRISE}")

# %% [markdown]
# ## 1. A torch layer against the golden vectors
#
# `export_reference(folder)` writes tinyrec's reference set: for every layer, loss, optimizer and
# metric, fixed inputs and what tinyrec computes from them, in float64, with a `manifest.json` that
# names each array and the tolerance to compare it with (docs/reference_vectors.md describes the
# format to the byte). `check_reference` re-computes a set and verifies its checksums: run it on a
# set you received before you trust it.

# %%
folder = Path(tempfile.mkdtemp(prefix="tinyrec-vectors-"))
export_reference(folder)
manifest = json.loads((folder / "manifest.json").read_text())
cases = {case["id"]: case for case in manifest["cases"]}
print(f"{len(cases)} cases written to {folder}")
print(check_reference(folder))

# %% [markdown]
# A case is a `.npz` of named arrays. For a layer: `input.0`, the weights as torch names them in its
# `state_dict` (`state.weight`, ...), and the gradient of the loss with respect to the output
# (`grad_output.0`); expected: the output, the gradient with respect to the input and each
# parameter's gradient. Another library loads the weights, runs forward and backward, and compares
# with the case's rule, `|actual − expected| <= atol + rtol·|expected|`. Here the other library is
# torch, on `nn.Linear` and `nn.GRU`: only NumPy and `json` read the set, nothing of tinyrec.


# %%
def load_case(case_id):
    """``(case, arrays)``: the manifest entry and every array of the case's file."""
    case = cases[case_id]
    with np.load(folder / case["file"], allow_pickle=False) as npz:
        return case, {name: npz[name] for name in npz.files}


def run_torch(module, arrays):
    """What torch computes for a layer case: the outputs, the input's and the parameters' gradients."""
    import torch

    module = module.double()
    module.load_state_dict({n[6:]: torch.from_numpy(a) for n, a in arrays.items() if n.startswith("state.")})
    x = torch.tensor(arrays["input.0"], requires_grad=True)
    outputs = module(x)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    total = sum((y * torch.from_numpy(arrays[f"grad_output.{i}"])).sum() for i, y in enumerate(outputs))
    total.backward()
    got = {f"output.{i}": y.detach().numpy() for i, y in enumerate(outputs)}
    got["grad_input.0"] = x.grad.numpy()
    got |= {f"grad.{name}": p.grad.numpy() for name, p in module.named_parameters()}
    return got


def compare(case, arrays, got):
    """The largest ``|actual − expected| / (atol + rtol·|expected|)`` of the case (<= 1: it passes)."""
    rule = case["tolerance"]
    worst = 0.0
    for name in case["expected"]:
        want = arrays[name]
        allowed = rule["atol"] + rule["rtol"] * np.abs(want)
        worst = max(worst, float((np.abs(got[name] - want) / allowed).max()))
    return worst


if HAS_TORCH:
    import torch

    torch_layers = {"layer/Linear": torch.nn.Linear(4, 3), "layer/GRU": torch.nn.GRU(3, 4, batch_first=True)}
    for case_id, module in torch_layers.items():
        case, arrays = load_case(case_id)
        worst = compare(case, arrays, run_torch(module, arrays))
        rule = case["tolerance"]
        print(f"{case_id:13s} torch: {case['torch']}")
        print(f"{'':13s} worst difference / allowed = {worst:.3g} (rtol {rule['rtol']:g}, "
              f"atol {rule['atol']:g}): {'PASS' if worst <= 1 else 'FAIL'}")  # fmt: skip
else:
    print("torch is not installed: part 1 skipped (pip install torch==2.13.0)")
shutil.rmtree(folder)  # the set was written for this check only

# %% [markdown]
# `tests/testing/test_torch_against_vectors.py` does this for every case torch can compute. A
# library in another language does the same with its own `.npy` reader.
#
# ## 2. A metric function against tinyrec's conventions
#
# Libraries agree on what NDCG@k measures and differ on details: the order of equal scores, what a
# user with no relevant item scores, what average precision is divided by, the gain of a graded
# item. `check_metric(fn, metric, k)` runs `fn(scores, relevance, k)` on cases built to tell those
# apart (ties straddling position k, a user with no relevant item, more relevant items than k, a
# list shorter than k, graded relevance) and compares it with tinyrec under every combination.
#
# First a function as it is often written by hand: sort ascending and reverse, so equal scores
# come out in *reverse* column order, and give 0 to a user with no relevant item.


# %%
def handwritten_ndcg(scores, relevance, k):
    order = np.argsort(scores, axis=1, kind="stable")[:, ::-1][:, :k]  # descending: ties reversed
    gains = np.take_along_axis(relevance, order, axis=1)
    discounts = 1.0 / np.log2(np.arange(2, gains.shape[1] + 2))
    dcg = (gains * discounts).sum(axis=1)
    ideal = (-np.sort(-relevance, axis=1)[:, :k] * discounts).sum(axis=1)
    return np.where(ideal > 0, dcg / np.maximum(ideal, 1e-300), 0.0)


report = check_metric(handwritten_ndcg, "ndcg", k=3)
print(report)

# %% [markdown]
# The report names the settings of `tinyrec.metrics.ndcg` that give the same numbers on every
# case. When a library's order of equal scores is implementation-defined (a `topk` on a GPU, an
# unstable sort), no setting matches on the tie cases; the report then says whether each of its
# values lies between tinyrec's pessimistic and optimistic ones, the most a test can ask of it.
# torchmetrics' average precision, if installed (it computes in float32, hence the tolerance):

# %%
if HAS_TORCH and installed("torchmetrics"):
    import torch
    from torchmetrics.functional.retrieval import retrieval_average_precision

    def torchmetrics_ap(scores, relevance, k):
        return [float(retrieval_average_precision(torch.tensor(s), torch.tensor(r > 0), top_k=k))
                for s, r in zip(scores, relevance, strict=True)]  # fmt: skip

    print(check_metric(torchmetrics_ap, "map", k=3, tolerance=1e-6))
else:
    print("torchmetrics is not installed: that check skipped (pip install torchmetrics)")

# %% [markdown]
# Other libraries also hand their results over in their own shapes: a TREC run file, a ranx or
# pytrec_eval dict, ragged lists of recommendations. `metrics.from_run` turns them into the
# matrices the metrics take; a relevant document the run did not retrieve is kept at `-inf` and
# counted as a miss with `unretrieved="miss"`, and `trec_ties` is trec_eval's order of equal scores.
# With trec_eval's settings (docs/metrics.md) these are its `ndcg_cut_3` and `map_cut_3`:

# %%
run = {"q1": {"d1": 0.9, "d2": 0.5, "d3": 0.5, "d4": 0.1}, "q2": {"d1": 0.3, "d5": 0.8}}
qrels = {"q1": {"d3": 2, "d4": 1, "d9": 1}, "q2": {"d7": 0, "d8": 1}}
m = metrics.from_run(run, qrels)
print("queries:", m.query_ids, "| columns of q1:", m.doc_ids[0].tolist())
trec = {"ties": m.trec_ties, "empty": "zero", "unretrieved": "miss", "per_user": True}
print("ndcg_cut_3:", metrics.ndcg(m.scores, m.relevance, 3, **trec).round(4))
print("map_cut_3: ", metrics.map(m.scores, m.relevance, 3, denominator="n_rel", **trec).round(4))

# %% [markdown]
# ## 3. A Surprise model, evaluated with tinyrec's protocols
#
# Surprise reads MovieLens' ids as strings; tinyrec reads them as ints. `adapters.from_surprise`
# wraps a fitted Surprise algorithm as a model `evaluate` takes: it translates tinyrec's indices to
# Surprise's ids once per id (`str`), and for its factor models (SVD, SVD++, NMF, BaselineOnly)
# computes Surprise's own estimate for a whole batch from the fitted arrays, instead of one
# `algo.predict` call per pair. Here SVD is fitted on the ratings of tinyrec's training part, given
# to Surprise as its loaders give them (string ids), and evaluated twice: by Surprise's
# `accuracy.rmse` and by tinyrec's rating protocol.

# %%
try:
    train, test = movielens("100k", fold="u1", download=False)
    DATA = "MovieLens-100K, fold u1"
except DataError as exc:  # no local copy: a synthetic set instead
    print(f"MovieLens-100K not found ({str(exc).splitlines()[0][:80]}...); using a SYNTHETIC set")
    from tinyrec.data import random_holdout

    train, test = random_holdout(synthetic(943, 1682, 100_000, seed=0), 0.2, seed=0)
    DATA = "synthetic"
print(DATA, "| train:", train)

# %%
if HAS_SURPRISE:
    import pandas as pd
    import surprise

    def surprise_rows(part):
        """A tinyrec part as Surprise reads a file: raw ids as strings, and the rating."""
        users = [str(u) for u in part.user_ids[part.users]]
        items = [str(i) for i in part.item_ids[part.items]]
        return pd.DataFrame({"user": users, "item": items, "rating": part.ratings})

    scale = (float(train.ratings.min()), float(train.ratings.max()))
    trainset = surprise.Dataset.load_from_df(surprise_rows(train), surprise.Reader(rating_scale=scale))
    trainset = trainset.build_full_trainset()
    testset = list(surprise_rows(test).itertuples(index=False, name=None))
    algo = surprise.SVD(random_state=0).fit(trainset)
    theirs = surprise.accuracy.rmse(algo.test(testset), verbose=False)

    model = adapters.from_surprise(algo, train)
    ours = evaluate(model, test, train=train)
    print(f"Surprise's accuracy.rmse: {theirs:.6f}")
    print(f"tinyrec's evaluate:       {ours['rmse']:.6f} (MAE {ours['mae']:.6f}, "
          f"{ours['n_ratings']:,} ratings)")  # fmt: skip
    print(f"difference: {abs(theirs - ours['rmse']):.2e}")
else:
    print("Surprise or pandas is not installed: part 3 skipped (pip install scikit-surprise pandas)")

# %% [markdown]
# The same RMSE, to the last digits printed: the adapter reproduces Surprise's estimate, including
# its treatment of users and items it has not seen and its clipping to the rating scale. The
# per-pair path (`vectorized=False`, one `algo.predict` per pair, which works for every Surprise
# algorithm) gives the same numbers; the batch path is what makes the ranking protocol possible,
# where every item is scored for every user:

# %%
if HAS_SURPRISE:
    start = time.perf_counter()
    slow = evaluate(adapters.from_surprise(algo, train, vectorized=False), test, train=train)
    per_pair = time.perf_counter() - start
    start = time.perf_counter()
    fast = evaluate(model, test, train=train)
    batch = time.perf_counter() - start
    print(f"per-pair path: RMSE {slow['rmse']:.6f} in {per_pair:.2f} s; batch path: {fast['rmse']:.6f} "
          f"in {batch:.3f} s ({per_pair / batch:.0f}x faster)")  # fmt: skip
    start = time.perf_counter()
    ranking = evaluate(model, test, train=train, protocol="full", k=10)
    print(f"full ranking of {train.n_items:,} items for {ranking['n_users']:,} users in "
          f"{time.perf_counter() - start:.1f} s:")  # fmt: skip
    print({name: round(value, 4) for name, value in ranking.items() if "@" in name})

# %% [markdown]
# Those numbers mean little alone. The same protocol on the same split gives tinyrec's popularity
# baseline (tutorial 03); compare the two lines. A model fitted to predict ratings is not fitted to
# rank, and a comparison on one protocol is how to find out what that costs.

# %%
if HAS_SURPRISE:
    baseline = evaluate(Popularity().fit(train), test, train=train, protocol="full", k=10)
    print("Popularity:", {name: round(value, 4) for name, value in baseline.items() if "@" in name})

# %% [markdown]
#
# ## 4. Your turn: average precision, torchmetrics' way
#
# Write `my_ap_over_hits(scores, relevance, k)`: each user's AP@k as torchmetrics computes
# `RetrievalMAP(top_k=k)` when equal scores keep their column order. Rank by decreasing score
# (equal scores: the lower column first, as a stable sort gives), keep the first `k` positions, and
# average the precision `hits@p / p` over the positions `p` of the relevant items in the list:
# divide by the number of hits in the list, not by the user's relevant items. A user without a hit
# scores 0. One value per user.
#
# Then run the next cell. `tinyrec.exercises.ap_over_hits.check` tries your function on lists worked
# out by hand (the denominator, a user without a hit, ties, `k` beyond the list) and finally asks
# `check_metric` whether it recognises `ties="column order", empty="zero", denominator="hits"`. The
# reference solution is printed by `tinyrec.exercises.show_solution("ap_over_hits")`. Try your own
# first.


# %%
def my_ap_over_hits(scores, relevance, k):
    """AP@k of each user: the mean precision at the hits of the top k (ties in column order; 0 without
    a hit)."""
    raise NotImplementedError("your turn: one AP@k per user, divided by the hits in the top k")


# %%
report = tinyrec.exercises.ap_over_hits.check(my_ap_over_hits)
print(report)
