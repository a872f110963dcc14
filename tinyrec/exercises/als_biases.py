"""Course exercise: user and item biases by alternating least squares (the baseline predictor).

Task
----
Write ``my_als_biases(users, items, ratings, n_users, n_items, reg_u, reg_i, n_epochs)``: fit
``r̂_ui = μ + b_u + b_i`` to the ratings by alternating least squares and return ``(mu, bu, bi)``.
``μ`` is the mean rating. Start from ``b_u = b_i = 0``; each epoch first solves for every item
bias with the user biases fixed, then for every user bias with the **new** item biases. Vectorize
over ratings (``np.bincount`` with ``weights`` sums per id): a loop over the epochs is fine, not
over the ratings.

Shapes
------
``users, items : (n,)`` integer ids, ``ratings : (n,)`` floats (each pair once); ``n_users``,
``n_items`` the table sizes (some users or items may have no rating); ``reg_u, reg_i >= 0``;
``n_epochs >= 1``. Returns ``mu`` a float, ``bu : (n_users,)`` and ``bi : (n_items,)``.

Math
----
The loss is ``Σ (r_ui − μ − b_u − b_i)² + λ_u Σ_u b_u² + λ_i Σ_i b_i²``. With the user biases
fixed, it splits into one quadratic in each ``b_i``: set its derivative to zero and solve (the
count of the item's ratings ``|U_i|`` and ``λ_i`` both appear). The same, with the item biases
fixed, gives each ``b_u``. An item without ratings has bias 0 (with ``λ_i = 0`` too: not 0/0).
``tinyrec.models.BaselineOnly(method="als")`` makes the same updates.

Checks
------
* ``returns_mu_and_two_bias_vectors`` (1 point);
* ``item_bias_of_one_epoch`` (2): ``b_i`` after one epoch, worked out by hand;
* ``regularization_shrinks_towards_zero`` (2): ``λ`` counts like extra ratings at the mean;
* ``users_see_the_new_item_biases`` (1): items first, then users, in one epoch;
* ``biases_of_unrated_ids_are_zero`` (1): even with ``λ = 0``;
* ``matches_baseline_only`` (2): ten epochs on random ratings;
* ``inputs_are_not_modified`` (1).
"""

from __future__ import annotations

import math

import numpy as np

from ..data import Interactions
from ..models import BaselineOnly
from .checking import describe_difference, expect, points, run_checks

NAME = "als_biases"
TUTORIAL = None
SUBMIT = ("my_als_biases",)


# -- the stub: what the student receives -------------------------------------------------------
def my_als_biases(users, items, ratings, n_users, n_items, reg_u, reg_i, n_epochs):
    """``(mu, bu, bi)`` of ``r̂ = μ + b_u + b_i`` by ALS, items first in each epoch."""
    raise NotImplementedError("your turn: return (mu, bu, bi)")


# -- the reference solution ---------------------------------------------------------------------
def solution_als_biases(users, items, ratings, n_users, n_items, reg_u, reg_i, n_epochs):
    """``b_i = Σ_{u ∈ U_i} (r_ui − μ − b_u) / (λ_i + |U_i|)``, then the same for ``b_u`` with the new
    ``b_i``.

    ``np.bincount(ids, weights=w, minlength=n)`` is ``Σ_{k : ids[k] = j} w[k]`` for every ``j``. An
    id without ratings has sum 0 and count 0: ``max(λ + count, 1)`` keeps its bias 0 when ``λ = 0``.
    """
    mu = float(ratings.mean())
    user_counts = np.bincount(users, minlength=n_users)
    item_counts = np.bincount(items, minlength=n_items)
    bu, bi = np.zeros(n_users), np.zeros(n_items)
    for _ in range(n_epochs):
        bi = np.bincount(items, weights=ratings - mu - bu[users], minlength=n_items)
        bi /= np.maximum(reg_i + item_counts, 1)
        bu = np.bincount(users, weights=ratings - mu - bi[items], minlength=n_users)
        bu /= np.maximum(reg_u + user_counts, 1)
    return mu, bu, bi


STUB = my_als_biases
SOLUTION = solution_als_biases


# -- the checks -----------------------------------------------------------------------------------
def _ratings(seed, n_users=8, n_items=10, n=40):
    rng = np.random.default_rng(seed)
    pairs = rng.choice(n_users * n_items, size=n, replace=False)
    return pairs // n_items, pairs % n_items, rng.integers(1, 6, n).astype(np.float64)


def _fit(fn, users, items, ratings, n_users, n_items, reg_u, reg_i, n_epochs):
    users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
    ratings = np.asarray(ratings, dtype=np.float64)
    with np.errstate(all="ignore"):  # a 0/0 is reported by the checks, in words
        out = fn(users.copy(), items.copy(), ratings.copy(), n_users, n_items, reg_u, reg_i, n_epochs)
    expect(
        isinstance(out, tuple) and len(out) == 3,
        f"my_als_biases returned {type(out).__name__}, not (mu, bu, bi)",
    )
    mu, bu, bi = out
    expect(np.shape(mu) == (), f"mu has shape {np.shape(mu)}; it is one number, the mean rating")
    expect(
        np.shape(bu) == (n_users,), f"bu has shape {np.shape(bu)}; expected ({n_users},), one bias per user"
    )
    expect(
        np.shape(bi) == (n_items,), f"bi has shape {np.shape(bi)}; expected ({n_items},), one bias per item"
    )
    return float(mu), np.asarray(bu, dtype=np.float64), np.asarray(bi, dtype=np.float64)


@points(1)
def returns_mu_and_two_bias_vectors(fn):
    users, items, ratings = _ratings(0)
    mu, bu, bi = _fit(fn, users, items, ratings, 8, 10, 1.0, 1.0, 2)
    expect(
        math.isclose(mu, ratings.mean(), rel_tol=1e-12),
        f"mu is {mu:.6g}; the mean rating is {ratings.mean():.6g}",
    )
    expect(np.all(np.isfinite(bu)) and np.all(np.isfinite(bi)), "the biases hold non-finite values")


@points(2)
def item_bias_of_one_epoch(fn):
    # two users, two items; mu = 3. Item 0: ratings 5 and 3 -> residuals 2 and 0 (b_u = 0 at first)
    users, items, ratings = [0, 1, 1], [0, 0, 1], [5.0, 3.0, 1.0]
    _, bu, bi = _fit(fn, users, items, ratings, 2, 2, 0.0, 0.0, 1)
    if np.allclose(bi, [0.5, -1.0]):  # b_u solved first from b_i = 0 ([2, -1]), then b_i from them
        raise AssertionError(
            f"after one epoch with λ = 0 you have b_i = {bi.tolist()}: the users were solved first (with b_i "
            f"still 0). Each epoch solves the item biases first, then the users'"
        )
    expect(
        np.allclose(bi, [1.0, -2.0], rtol=1e-12),
        f"after one epoch with λ = 0, b_i = {bi.tolist()}, expected [1, -2]: each item bias is the mean "
        f"residual r − μ − b_u of its ratings (μ = 3)",
    )


@points(2)
def regularization_shrinks_towards_zero(fn):
    users, items, ratings = [0, 1, 2, 3], [0, 0, 0, 1], [5.0, 5.0, 5.0, 1.0]  # mu = 4
    _, _, bi = _fit(fn, users, items, ratings, 4, 2, 0.0, 3.0, 1)
    # item 0: residuals 1, 1, 1 -> 3 / (3 + 3) = 0.5; item 1: -3 / (1 + 3) = -0.75
    if np.allclose(bi, [1.0, -3.0], rtol=1e-9):
        raise AssertionError("with λ_i = 3 the item biases are not shrunk at all: reg_i is ignored")
    if np.allclose(bi, [1.0 / 3.0, -3.0 / 3.0], rtol=1e-9) or np.allclose(bi, [3 / 3, -3 / 3], rtol=1e-9):
        raise AssertionError(
            f"with λ_i = 3 you have b_i = {bi.tolist()}: the regularization replaced the count instead of "
            f"joining it. Hint: the derivative of λ b² + Σ (residual − b)² has both"
        )
    expect(
        np.allclose(bi, [0.5, -0.75], rtol=1e-9),
        f"with λ_i = 3 you have b_i = {bi.tolist()}, expected [0.5, -0.75]: three ratings 1 above the mean "
        f"give 3 / (3 + λ); one rating 3 below gives −3 / (1 + λ)",
    )


@points(1)
def users_see_the_new_item_biases(fn):
    users, items, ratings = [0, 1, 1], [0, 0, 1], [5.0, 3.0, 1.0]
    _, bu, bi = _fit(fn, users, items, ratings, 2, 2, 0.0, 0.0, 1)
    expected_bu = SOLUTION(np.array(users), np.array(items), np.array(ratings), 2, 2, 0.0, 0.0, 1)[1]
    if np.allclose(bu, [2.0, -1.0]):  # from b_i = 0: both solved from the old values
        raise AssertionError(
            "the user biases were solved from the item biases of the previous epoch (0 here); solve them "
            "from the item biases just computed (that is what makes it alternating)"
        )
    expect(
        np.allclose(bu, expected_bu, rtol=1e-12),
        f"after one epoch b_u = {bu.tolist()}, expected {expected_bu.tolist()}",
    )


@points(1)
def biases_of_unrated_ids_are_zero(fn):
    users, items, ratings = [0, 0, 2], [1, 3, 1], [4.0, 2.0, 5.0]  # user 1, items 0 and 2: no ratings
    _, bu, bi = _fit(fn, users, items, ratings, 3, 4, 0.0, 0.0, 3)
    expect(
        np.all(np.isfinite(bu)) and np.all(np.isfinite(bi)),
        f"with λ = 0, the ids without ratings get b_u = {bu.tolist()}, b_i = {bi.tolist()}: 0/0. Hint: an id "
        f"without ratings has bias 0; keep the denominator at least 1",
    )
    expect(bu[1] == 0.0 and bi[0] == 0.0 and bi[2] == 0.0, "an id without ratings must have bias 0")


@points(2)
def matches_baseline_only(fn):
    for seed, (reg_u, reg_i) in ((1, (15.0, 10.0)), (2, (0.5, 2.0))):
        users, items, ratings = _ratings(seed)
        _, bu, bi = _fit(fn, users, items, ratings, 8, 10, reg_u, reg_i, 10)
        data = Interactions(users, items, ratings, n_users=8, n_items=10)
        model = BaselineOnly("als", n_epochs=10, reg_u=reg_u, reg_i=reg_i, dtype=np.float64).fit(data)
        for name, yours, fitted in (("b_u", bu, model.bu_), ("b_i", bi, model.bi_)):
            expect(
                np.allclose(yours, fitted, rtol=1e-9, atol=1e-12),
                f"after 10 epochs (reg_u = {reg_u}, reg_i = {reg_i}) your {name} differ from BaselineOnly's: "
                f"{describe_difference(yours, fitted)}. Hint: run the by-hand checks first",
            )


@points(1)
def inputs_are_not_modified(fn):
    users, items, ratings = _ratings(3)
    kept = users.copy(), items.copy(), ratings.copy()
    fn(users, items, ratings, 8, 10, 1.0, 1.0, 2)
    expect(
        all(np.array_equal(a, b) for a, b in zip((users, items, ratings), kept, strict=True)),
        "my_als_biases changed its inputs in place (ratings -= mu?). Hint: build new arrays",
    )


CHECKS = (
    returns_mu_and_two_bias_vectors,
    item_bias_of_one_epoch,
    regularization_shrinks_towards_zero,
    users_see_the_new_item_biases,
    biases_of_unrated_ids_are_zero,
    matches_baseline_only,
    inputs_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_als_biases``)."""
    return run_checks(NAME, candidate, CHECKS)
