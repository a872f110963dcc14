"""tinyrec.exercises.popularity_negatives: the solution passes, the stub is "not implemented", and
typical wrong samplers fail with a message that names the problem."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.data import NegativeSampler
from tinyrec.exercises import popularity_negatives as exercise
from tinyrec.exercises.checking import FAILED, NOT_IMPLEMENTED


def test_the_solution_passes_every_check():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok, str(report)


def test_the_stub_reports_not_implemented():
    report = exercise.check(exercise.STUB)
    assert not report.implemented
    assert all(r.status == NOT_IMPLEMENTED for r in report.results)
    assert "not implemented yet" in str(report)


def test_the_exact_law_is_tinyrec_s_popularity_sampler():
    train = exercise.toy_train()
    for user in (0, exercise.HEAVY_USER):
        draws = NegativeSampler(train, "popularity", seed=0).sample(np.full(20_000, user), 1).ravel()
        share = np.bincount(draws, minlength=train.n_items) / draws.size
        assert np.abs(share - exercise.exact_law(train, user)).max() < 0.02


def uniform_over_non_positives(train, users, n, seed=0):
    rng = np.random.default_rng(seed)
    out = np.empty((len(users), n), dtype=np.int64)
    for row, u in enumerate(users):
        allowed = np.setdiff1d(np.arange(train.n_items), train.positives(int(u)))
        out[row] = rng.choice(allowed, size=n)
    return out


def popularity_with_positives(train, users, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.choice(train.n_items, size=(len(users), n), p=train.item_counts() / len(train))


def row_number_as_user(train, users, n, seed=0):
    return exercise.SOLUTION(train, np.arange(len(users)) % train.n_users, n, seed=seed)


def unseeded(train, users, n, seed=0):
    return exercise.SOLUTION(train, users, n, seed=None)


def flattened(train, users, n, seed=0):
    return exercise.SOLUTION(train, users, n, seed=seed).ravel()


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (uniform_over_non_positives, "draws_follow_popularity", "its probability is"),
        (uniform_over_non_positives, "never_draws_an_item_without_interactions", "no interaction in train"),
        (popularity_with_positives, "never_a_positive", "one of that user's train items"),
        (row_number_as_user, "never_a_positive", "belongs to user users[r]"),
        (unseeded, "seed_makes_draws_reproducible", "two calls with seed=5 returned different draws"),
        (flattened, "returns_one_row_per_user", "not (4, 3)"),
    ],
    ids=["uniform", "uniform: unseen item", "keeps positives", "row as user", "unseeded", "flat"],
)
def test_a_wrong_sampler_fails_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert not report.ok and report.implemented
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message
    for r in report.failures:  # a hint, never the answer
        assert "rng.choice" not in r.message and "q / q.sum()" not in r.message


def test_a_sampler_that_forgets_to_renormalize_fails_with_numpy_s_error():
    def unnormalized(train, users, n, seed=0):
        rng = np.random.default_rng(seed)
        p = train.item_counts() / len(train)
        out = np.empty((len(users), n), dtype=np.int64)
        for row, u in enumerate(users):
            q = p.copy()
            q[train.positives(int(u))] = 0.0
            out[row] = rng.choice(train.n_items, size=n, p=q)
        return out

    report = exercise.check(unnormalized)
    assert not report.ok
    assert all("raised ValueError" in r.message and "sum to 1" in r.message for r in report.failures)
