"""tinyrec.exercises.als_biases: full marks for the reference, none for the stub, and typical wrong
ALS bias fits lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.data import Interactions
from tinyrec.exercises import als_biases as exercise
from tinyrec.exercises.checking import FAILED
from tinyrec.models import BaselineOnly


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 10, str(report)


def test_the_solution_is_baseline_only_s_als():
    rng = np.random.default_rng(0)
    pairs = rng.choice(60, 30, replace=False)
    users, items, ratings = pairs // 10, pairs % 10, rng.integers(1, 6, 30).astype(float)
    mu, bu, bi = exercise.SOLUTION(users, items, ratings, 6, 10, 3.0, 2.0, 7)
    model = BaselineOnly("als", n_epochs=7, reg_u=3.0, reg_i=2.0, dtype=np.float64)
    model.fit(Interactions(users, items, ratings, n_users=6, n_items=10))
    assert mu == pytest.approx(model.global_mean_)
    np.testing.assert_allclose(bu, model.bu_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(bi, model.bi_, rtol=1e-12, atol=1e-15)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def _als(users, items, ratings, n_users, n_items, reg_u, reg_i, n_epochs, *, order="items", jacobi=False,
         denominator="sum"):  # fmt: skip
    mu = float(ratings.mean())
    cu, ci = np.bincount(users, minlength=n_users), np.bincount(items, minlength=n_items)
    den = {"sum": lambda reg, c: np.maximum(reg + c, 1), "count": lambda reg, c: np.maximum(c, 1),
           "reg": lambda reg, c: np.maximum(reg, 1)}[denominator]  # fmt: skip
    bu, bi = np.zeros(n_users), np.zeros(n_items)
    for _ in range(n_epochs):
        old_bi = bi
        if order == "items":
            bi = np.bincount(items, weights=ratings - mu - bu[users], minlength=n_items) / den(reg_i, ci)
            seen = old_bi if jacobi else bi
            bu = np.bincount(users, weights=ratings - mu - seen[items], minlength=n_users) / den(reg_u, cu)
        else:
            bu = np.bincount(users, weights=ratings - mu - bi[items], minlength=n_users) / den(reg_u, cu)
            bi = np.bincount(items, weights=ratings - mu - bu[users], minlength=n_items) / den(reg_i, ci)
    return mu, bu, bi


def users_first(*args):
    return _als(*args, order="users")


def jacobi(*args):
    return _als(*args, jacobi=True)


def regularization_ignored(*args):
    return _als(*args, denominator="count")


def zero_over_zero(users, items, ratings, n_users, n_items, reg_u, reg_i, n_epochs):
    mu = float(ratings.mean())
    cu, ci = np.bincount(users, minlength=n_users), np.bincount(items, minlength=n_items)
    bu, bi = np.zeros(n_users), np.zeros(n_items)
    for _ in range(n_epochs):
        bi = np.bincount(items, weights=ratings - mu - bu[users], minlength=n_items) / (reg_i + ci)
        bu = np.bincount(users, weights=ratings - mu - bi[items], minlength=n_users) / (reg_u + cu)
    return mu, bu, bi


def _alternate(users, items, residuals, n_users, n_items, reg_u, reg_i, n_epochs):
    """The right alternation on ``residuals``, the ratings with μ already taken out."""
    cu, ci = np.bincount(users, minlength=n_users), np.bincount(items, minlength=n_items)
    bu, bi = np.zeros(n_users), np.zeros(n_items)
    for _ in range(n_epochs):
        bi = np.bincount(items, weights=residuals - bu[users], minlength=n_items) / np.maximum(reg_i + ci, 1)
        bu = np.bincount(users, weights=residuals - bi[items], minlength=n_users) / np.maximum(reg_u + cu, 1)
    return bu, bi


def mean_of_the_dense_matrix(users, items, ratings, n_users, n_items, reg_u, reg_i, n_epochs):
    R = np.zeros((n_users, n_items))
    R[users, items] = ratings
    mu = float(R.mean())  # the unrated cells averaged in as 0s
    return mu, *_alternate(users, items, ratings - mu, n_users, n_items, reg_u, reg_i, n_epochs)


def centres_the_ratings_in_place(users, items, ratings, n_users, n_items, reg_u, reg_i, n_epochs):
    mu = float(ratings.mean())
    ratings -= mu  # the caller's ratings, now centred
    return mu, *_alternate(users, items, ratings, n_users, n_items, reg_u, reg_i, n_epochs)


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (users_first, "item_bias_of_one_epoch", "the users were solved first"),
        (jacobi, "users_see_the_new_item_biases", "item biases just computed"),
        (regularization_ignored, "regularization_shrinks_towards_zero", "reg_i is ignored"),
        (zero_over_zero, "biases_of_unrated_ids_are_zero", "0/0"),
        (mean_of_the_dense_matrix, "returns_mu_and_two_bias_vectors", "the mean rating is"),
        (centres_the_ratings_in_place, "inputs_are_not_modified", "in place"),
    ],
    ids=["users first", "jacobi", "no regularization", "0/0", "dense mean", "in place"],
)
def test_a_wrong_als_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message, result.message
    for r in report.failures:  # a hint, never the answer
        assert "bincount" not in r.message and "np.maximum" not in r.message


@pytest.mark.parametrize("wrong", [users_first, jacobi, regularization_ignored])
def test_baseline_only_catches_it_too(wrong):
    assert exercise.check(wrong).result("matches_baseline_only").status == FAILED
