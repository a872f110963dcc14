"""Course exercise: user-based k-nearest-neighbour prediction with cosine similarity.

Task
----
Write ``my_user_knn_predict(R, users, items, k)``: predict the rating of each pair ``(users[b],
items[b])`` from the ratings that the ``k`` users most similar to ``users[b]`` gave to
``items[b]``. Only users who rated the item are neighbours, and a user is never its own
neighbour. When no other user rated the item, predict the user's own mean rating.

Shapes
------
``R : (n_users, n_items)`` floats, the training ratings, **0 where there is no rating** (every
rating is > 0, and every user has at least one); ``users, items : (B,)`` integer ids; ``k`` a
positive int. Returns ``(B,)`` floats. A Python loop over the pairs is fine.

Math
----
The similarity of users ``u`` and ``v`` is the cosine of their rows of ``R`` (missing ratings are
0, so they add nothing to the dot product)::

    sim(u, v) = (r_u · r_v) / (‖r_u‖ ‖r_v‖)

With ``N_k(u; i)`` the (at most) ``k`` users ``v ≠ u`` with ``r_vi > 0`` of highest ``sim(u, v)``::

    r̂_ui = Σ_{v ∈ N_k(u; i)} sim(u, v) r_vi  /  Σ_{v ∈ N_k(u; i)} sim(u, v)

and ``r̂_ui = mean of u's ratings`` when ``N_k(u; i)`` is empty or its similarities sum to 0.

Checks
------
* ``returns_one_prediction_per_pair`` (1 point);
* ``cosine_by_hand`` (2): three users, worked out by hand;
* ``only_users_who_rated_the_item`` (2): a similar user without a rating of ``i`` is no neighbour;
* ``the_user_is_not_its_own_neighbour`` (1);
* ``keeps_the_k_most_similar`` (1);
* ``weights_sum_to_one`` (1): a neighbourhood of equal ratings predicts that rating;
* ``falls_back_to_the_user_mean`` (1): nobody else rated the item;
* ``matches_the_reference_on_random_cases`` (2);
* ``inputs_are_not_modified`` (1).
"""

from __future__ import annotations

import math

import numpy as np

from .checking import describe_difference, expect, points, run_checks

NAME = "user_knn"
TUTORIAL = None
SUBMIT = ("my_user_knn_predict",)


# -- the stub: what the student receives -------------------------------------------------------
def my_user_knn_predict(R, users, items, k):
    """Predict ``r̂`` of each ``(users[b], items[b])`` from its ``k`` most similar raters; ``(B,)``."""
    raise NotImplementedError("your turn: return one predicted rating per pair")


# -- the reference solution ---------------------------------------------------------------------
def solution_user_knn_predict(R, users, items, k):
    """All similarities at once (``R Rᵀ`` over the outer product of the norms), then per pair the
    raters of the item other than the user, the ``k`` most similar, and their weighted mean.

    ``argsort`` of ``−sim`` with ``kind="stable"`` keeps the lower user id first among equal
    similarities, so the result does not depend on the sort's whims.
    """
    norms = np.linalg.norm(R, axis=1)  # (n_users,), > 0: every user has a rating
    sim = (R @ R.T) / np.outer(norms, norms)  # (n_users, n_users)
    out = np.empty(len(users))
    for b, (u, i) in enumerate(zip(users, items, strict=True)):
        raters = np.flatnonzero(R[:, i] > 0)
        raters = raters[raters != u]
        top = raters[np.argsort(-sim[u, raters], kind="stable")[:k]]
        weight = sim[u, top].sum()
        if weight > 0:
            out[b] = sim[u, top] @ R[top, i] / weight
        else:
            out[b] = R[u][R[u] > 0].mean()
    return out


STUB = my_user_knn_predict
SOLUTION = solution_user_knn_predict


# -- the checks -----------------------------------------------------------------------------------
def _random_R(seed, n_users=12, n_items=15, density=0.4):
    rng = np.random.default_rng(seed)
    R = np.where(rng.random((n_users, n_items)) < density, rng.uniform(1, 5, (n_users, n_items)), 0.0)
    R[np.arange(n_users), rng.integers(0, n_items, n_users)] = rng.uniform(1, 5, n_users)  # one each
    return R


def _predict(fn, R, users, items, k):
    R = np.asarray(R, dtype=np.float64)
    users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
    with np.errstate(all="ignore"):  # a division by zero is reported by the checks, in words
        out = np.asarray(fn(R.copy(), users.copy(), items.copy(), k), dtype=np.float64)
    expect(
        out.shape == users.shape,
        f"for {len(users)} pairs you return shape {out.shape}; expected {users.shape}",
    )
    return out


def _expect(fn, R, users, items, k, expected, what):
    out = _predict(fn, R, users, items, k)
    if not np.allclose(out, expected, rtol=1e-9, atol=1e-12):
        pairs = list(zip(users, items, strict=True))
        raise AssertionError(
            f"for R = {np.asarray(R).tolist()}, pairs {pairs} and k = {k} you predict "
            f"{np.round(out, 6).tolist()}, expected {np.round(expected, 6).tolist()}: {what}"
        )


@points(1)
def returns_one_prediction_per_pair(fn):
    R = _random_R(0)
    out = _predict(fn, R, [0, 1, 1, 5], [2, 3, 3, 0], 3)
    expect(np.all(np.isfinite(out)), f"your predictions hold non-finite values: {out.tolist()}")


@points(2)
def cosine_by_hand(fn):
    R = [[4.0, 0.0, 3.0], [4.0, 2.0, 3.0], [0.0, 5.0, 1.0]]  # user 0 has not rated item 1
    s1 = (16 + 9) / (5 * math.sqrt(29))  # sim(0, 1)
    s2 = 3 / (5 * math.sqrt(26))  # sim(0, 2)
    expected = (s1 * 2 + s2 * 5) / (s1 + s2)
    dot = (25 * 2 + 3 * 5) / (25 + 3)  # weights by raw dot products, not cosines
    out = _predict(fn, R, [0], [1], 2)
    if math.isclose(out[0], dot, rel_tol=1e-9):
        raise AssertionError(
            f"you predict {out[0]:.6g}: your weights are dot products r_u · r_v, not cosines. Hint: divide "
            f"by both users' norms, or a user who rated much counts for more than a similar one"
        )
    _expect(fn, R, [0], [1], 2, [expected], "cosine-weighted mean of the two raters' ratings 2 and 5")


@points(2)
def only_users_who_rated_the_item(fn):
    R = [
        [5.0, 4.0, 0.0],
        [5.0, 4.0, 0.0],
        [1.0, 0.0, 2.0],
    ]  # user 1 is identical to user 0 but did not rate item 2
    _expect(
        fn, R, [0], [2], 1, [2.0],
        "user 1 is the most similar to user 0 but has no rating of item 2, so it is no neighbour here: the "
        "one neighbour is user 2, who rated it 2. Hint: choose the k most similar among the item's raters",
    )  # fmt: skip


@points(1)
def the_user_is_not_its_own_neighbour(fn):
    R = [[5.0, 1.0], [1.0, 3.0], [2.0, 3.0]]
    _expect(
        fn, R, [0], [0], 1, [2.0],
        "user 0 rated item 0 itself, but its own rating is what is being predicted: the neighbour is the "
        "most similar other rater, user 2 (rating 2)",
    )  # fmt: skip


@points(1)
def keeps_the_k_most_similar(fn):
    R = [[4.0, 4.0, 0.0], [4.0, 4.0, 1.0], [4.0, 0.0, 5.0], [0.0, 1.0, 3.0]]
    _expect(fn, R, [0], [2], 1, [1.0], "with k = 1 only the most similar rater of item 2 (user 1) counts")


@points(1)
def weights_sum_to_one(fn):
    R = [[5.0, 0.0, 2.0], [4.0, 3.0, 1.0], [1.0, 3.0, 5.0], [2.0, 3.0, 0.0]]
    _expect(
        fn, R, [0], [1], 3, [3.0],
        "every neighbour rated item 1 with 3, so any weighted mean of their ratings is 3. Hint: divide by "
        "the sum of the neighbours' similarities (not by k, and not by the number of raters)",
    )  # fmt: skip


@points(1)
def falls_back_to_the_user_mean(fn):
    R = [[4.0, 2.0, 0.0], [5.0, 0.0, 0.0], [0.0, 3.0, 0.0]]  # nobody rated item 2
    _expect(fn, R, [0], [2], 2, [3.0], "nobody rated item 2, so the prediction is user 0's mean rating, 3")


@points(2)
def matches_the_reference_on_random_cases(fn):
    for seed in (1, 2, 3):
        R = _random_R(seed)
        rng = np.random.default_rng(10 + seed)
        users, items = rng.integers(0, R.shape[0], 40), rng.integers(0, R.shape[1], 40)
        for k in (1, 4, 20):
            out = _predict(fn, R, users, items, k)
            expected = SOLUTION(R, users, items, k)
            expect(
                np.allclose(out, expected, rtol=1e-9, atol=1e-12),
                f"on random ratings (seed {seed}, k = {k}) your predictions differ: "
                f"{describe_difference(out, expected)}. Hint: run the by-hand checks first",
            )


@points(1)
def inputs_are_not_modified(fn):
    R = _random_R(4)
    users, items = (ids[:3].copy() for ids in np.nonzero(R))  # pairs that hold a rating
    kept = R.copy(), users.copy(), items.copy()
    fn(R, users, items, 3)
    expect(
        all(np.array_equal(a, b) for a, b in zip((R, users, items), kept, strict=True)),
        "my_user_knn_predict changed its inputs in place (R[u, i] = 0 to hide the rating?). Hint: leave R "
        "alone; skip the user when choosing neighbours",
    )


CHECKS = (
    returns_one_prediction_per_pair,
    cosine_by_hand,
    only_users_who_rated_the_item,
    the_user_is_not_its_own_neighbour,
    keeps_the_k_most_similar,
    weights_sum_to_one,
    falls_back_to_the_user_mean,
    matches_the_reference_on_random_cases,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_user_knn_predict``)."""
    return run_checks(NAME, candidate, CHECKS)
