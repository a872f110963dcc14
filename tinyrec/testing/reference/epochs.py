"""Reference cases of training: one SGD epoch of BiasedMF and one of BPR-MF on a tiny fixed data set.

The inputs are what the model's ``fit`` starts its first epoch from, drawn exactly as ``fit``
draws them with ``seed=0`` (``tests/testing/test_reference.py`` checks that ``fit`` with
``n_epochs=1`` ends where the case does): the initial tables and the training examples **in the
order the epoch visits them**. The expected arrays are the tables after the epoch and the epoch's
summed loss. Re-computing a case runs the model's epoch kernel on the stored inputs.

BiasedMF (:func:`tinyrec.kernels.mf.funk_svd_epoch`), for each rating in order, with
``e = r − (μ + b_u + b_i + p_u·q_i)`` and every learning rate η and L2 strength λ equal::

    b_u += η (e − λ b_u);   b_i += η (e − λ b_i)
    p_u += η (e q_i − λ p_u);   q_i += η (e p_u − λ q_i)      (both from the old p_u, q_i)

BPR (:func:`tinyrec.kernels.bpr.bpr_epoch`), for each triple ``(u, i, j)`` in order, with
``x = p_u·(q_i − q_j) + b_i − b_j`` and ``z = σ(−x)``::

    p_u += η (z (q_i − q_j) − λ p_u);   q_i += η (z p_u − λ q_i);   q_j += η (−z p_u − λ q_j)
    b_i += η (z − λ_b b_i);   b_j += η (−z − λ_b b_j)      (all from the old values)
"""

from __future__ import annotations

import numpy as np

from ...data import Interactions
from ...data.sampling import NegativeSampler
from ...kernels.bpr import bpr_epoch, shuffle_triples
from ...kernels.mf import funk_svd_epoch, user_block_order
from ...models.mf import USERS_PER_BLOCK
from .case import ITERATIVE, Case

#: the tiny data set: 5 users, 6 items, 15 ratings on a 1..5 scale
USERS = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 4, 1])
ITEMS = np.array([0, 1, 3, 0, 2, 1, 2, 4, 3, 4, 0, 1, 2, 5, 5])
RATINGS = np.array([5, 3, 4, 4, 2, 5, 3, 1, 4, 5, 2, 4, 5, 3, 1], dtype=np.float64)

BIASED_MF = {"n_factors": 3, "lr_all": 0.05, "reg_all": 0.02, "init_mean": 0.0, "init_std": 0.1,
             "dtype": "float64", "seed": 0}  # fmt: skip
BPR = {"n_factors": 3, "lr": 0.05, "reg": 0.01, "reg_bias": 0.02, "item_bias": True, "init_std": 0.1,
       "dtype": "float64", "seed": 0}  # fmt: skip

_MEANING = {
    "users": "the user of each training example, in the order the epoch visits them",
    "items": "the item of each rating, in visiting order",
    "ratings": "the rating r_ui of each example, in visiting order",
    "positives": "the observed item i of each triple, in visiting order",
    "negatives": "the sampled item j of each triple, in visiting order",
    "mu": "the global mean rating μ (0-d)",
    "initial.P": "(n_users, n_factors) user factors before the epoch",
    "initial.Q": "(n_items, n_factors) item factors before the epoch",
    "initial.bu": "(n_users,) user biases before the epoch",
    "initial.bi": "(n_items,) item biases before the epoch",
    "final.P": "user factors after the epoch",
    "final.Q": "item factors after the epoch",
    "final.bu": "user biases after the epoch",
    "final.bi": "item biases after the epoch",
    "sse": "Σ e² over the epoch, each error measured just before its own update (0-d)",
    "loss": "Σ −log σ(x) over the epoch, each term measured just before its own update (0-d)",
}


def _biased_mf_inputs(rng_unused) -> dict:
    """What ``BiasedMF(**BIASED_MF, n_epochs=1).fit`` starts its epoch from (its draws, replayed)."""
    args = BIASED_MF
    rng = np.random.default_rng(args["seed"])
    n_users, n_items, d = USERS.max() + 1, ITEMS.max() + 1, args["n_factors"]
    P = rng.normal(args["init_mean"], args["init_std"], (n_users, d))
    Q = rng.normal(args["init_mean"], args["init_std"], (n_items, d))
    # shuffle=True: the ratings grouped by user, then user blocks in a new order each epoch
    by_user = np.argsort(USERS, kind="stable")
    users, items, ratings = USERS[by_user].astype(np.int64), ITEMS[by_user].astype(np.int64), RATINGS[by_user]
    user_starts = np.concatenate([[0], np.cumsum(np.bincount(users, minlength=n_users))]).astype(np.int64)
    order = user_block_order(user_starts, rng.permutation(n_users), USERS_PER_BLOCK, rng.random(len(USERS)))
    return {"users": users[order], "items": items[order], "ratings": ratings[order],
            "mu": np.array(RATINGS.mean()), "initial.P": P, "initial.Q": Q,
            "initial.bu": np.zeros(n_users), "initial.bi": np.zeros(n_items)}  # fmt: skip


def _biased_mf_epoch(a: dict) -> dict:
    lr, reg = np.full(4, BIASED_MF["lr_all"]), np.full(4, BIASED_MF["reg_all"])
    P, Q, bu, bi = a["initial.P"], a["initial.Q"], a["initial.bu"], a["initial.bi"]
    order = np.arange(len(a["users"]), dtype=np.int64)
    sse = funk_svd_epoch(a["users"], a["items"], a["ratings"], order, float(a["mu"]), bu, bi, P, Q, lr, reg)
    return {"final.P": P, "final.Q": Q, "final.bu": bu, "final.bi": bi, "sse": np.array(sse)}


def _bpr_inputs(rng_unused) -> dict:
    """What ``BPRMF(**BPR, n_epochs=1).fit`` starts its epoch from (its draws, replayed)."""
    args = BPR
    train = Interactions(USERS, ITEMS)
    rng = np.random.default_rng(args["seed"])
    indptr, indices = train.positives_csr()  # each user's distinct items, sorted
    users = np.repeat(np.arange(train.n_users, dtype=np.int64), np.diff(indptr))
    sampler = NegativeSampler(train, seed=rng)
    P = rng.normal(0.0, args["init_std"], (train.n_users, args["n_factors"]))
    Q = rng.normal(0.0, args["init_std"], (train.n_items, args["n_factors"]))
    negatives = sampler.sample(users, 1)[:, 0].astype(np.int64)
    positives = indices.astype(np.int64)
    shuffle_triples(rng.random(len(users)), users, positives, negatives)  # in place, as fit does
    return {"users": users, "positives": positives, "negatives": negatives, "initial.P": P, "initial.Q": Q,
            "initial.bi": np.zeros(train.n_items)}  # fmt: skip


def _bpr_epoch(a: dict) -> dict:
    lr = np.array([BPR["lr"], BPR["lr"], BPR["lr"] if BPR["item_bias"] else 0.0])
    reg = np.array([BPR["reg"], BPR["reg"], BPR["reg_bias"]])
    P, Q, bi = a["initial.P"], a["initial.Q"], a["initial.bi"]
    loss = bpr_epoch(a["users"], a["positives"], a["negatives"], P, Q, bi, lr, reg)
    return {"final.P": P, "final.Q": Q, "final.bi": bi, "loss": np.array(loss)}


def epoch_cases() -> list[Case]:
    return [
        Case("epoch", "BiasedMF", "tinyrec.models.BiasedMF", BIASED_MF, _biased_mf_inputs, _biased_mf_epoch,
             _MEANING.get, ITERATIVE, None, "one epoch of BiasedMF(n_epochs=1, **args).fit(data): every "
             "learning rate lr_all, every L2 strength reg_all; the ratings in visiting order"),
        Case("epoch", "BPRMF", "tinyrec.models.BPRMF", BPR, _bpr_inputs, _bpr_epoch, _MEANING.get, ITERATIVE,
             None, "one epoch of BPRMF(n_epochs=1, **args).fit(data): one sampled negative per observed "
             "(user, item) pair; η = lr for p, q and b; λ = reg for p and q, reg_bias for b"),
    ]  # fmt: skip
