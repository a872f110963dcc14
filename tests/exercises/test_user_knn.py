"""tinyrec.exercises.user_knn: full marks for the reference, none for the stub, and typical wrong
user-KNN predictions lose marks with feedback naming the problem (never the answer)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.exercises import user_knn as exercise
from tinyrec.exercises.checking import FAILED


def test_the_solution_gets_full_marks():
    report = exercise.check(exercise.SOLUTION)
    assert report.ok and report.score == report.max_score == 12, str(report)


def test_the_stub_scores_zero():
    assert exercise.check(exercise.STUB).score == 0


def _knn(R, users, items, k, *, cosine=True, raters_only=True, skip_self=True, normalize="sim", nearest=True,
         fallback=True):  # fmt: skip
    norms = np.linalg.norm(R, axis=1)
    sim = R @ R.T / (np.outer(norms, norms) if cosine else 1.0)
    out = np.empty(len(users))
    for b, (u, i) in enumerate(zip(users, items, strict=True)):
        pool = np.flatnonzero(R[:, i] > 0) if raters_only else np.arange(R.shape[0])
        if skip_self:
            pool = pool[pool != u]
        top = pool[np.argsort(-sim[u, pool] if nearest else sim[u, pool], kind="stable")[:k]]
        weight = {"sim": sim[u, top].sum(), "k": k, "count": len(top)}[normalize]
        if not fallback or (len(top) and sim[u, top].sum() > 0):
            out[b] = sim[u, top] @ R[top, i] / weight
        else:
            out[b] = R[u][R[u] > 0].mean()
    return out


def dot_products(R, users, items, k):
    return _knn(R, users, items, k, cosine=False)


def every_user_a_neighbour(R, users, items, k):
    return _knn(R, users, items, k, raters_only=False)


def includes_itself(R, users, items, k):
    return _knn(R, users, items, k, skip_self=False)


def divides_by_k(R, users, items, k):
    return _knn(R, users, items, k, normalize="k")


def hides_the_rating_in_place(R, users, items, k):
    R[users, items] = 0.0  # modifies the caller's matrix
    return exercise.SOLUTION(R, users, items, k)


def every_user_with_every_item(R, users, items, k):  # a table of predictions, not one per pair
    return np.array([[exercise.SOLUTION(R, [u], [i], k)[0] for i in items] for u in users])


def the_k_least_similar(R, users, items, k):  # argsort of sim, not of −sim
    return _knn(R, users, items, k, nearest=False)


def no_fallback(R, users, items, k):  # 0 / 0 when nobody else rated the item
    return _knn(R, users, items, k, fallback=False)


@pytest.mark.parametrize(
    "wrong, check, words",
    [
        (dot_products, "cosine_by_hand", "not cosines"),
        (every_user_a_neighbour, "only_users_who_rated_the_item", "among the item's raters"),
        (includes_itself, "the_user_is_not_its_own_neighbour", "most similar other rater"),
        (divides_by_k, "weights_sum_to_one", "not by k"),
        (hides_the_rating_in_place, "inputs_are_not_modified", "in place"),
        (
            every_user_with_every_item,
            "returns_one_prediction_per_pair",
            "for 4 pairs you return shape (4, 4)",
        ),
        (the_k_least_similar, "keeps_the_k_most_similar", "only the most similar rater"),
        (no_fallback, "falls_back_to_the_user_mean", "mean rating"),
    ],
    ids=[
        "dot products",
        "all users",
        "itself",
        "divides by k",
        "in place",
        "table",
        "least similar",
        "no fallback",
    ],
)
def test_a_wrong_knn_loses_marks_with_a_message_naming_the_problem(wrong, check, words):
    report = exercise.check(wrong)
    assert report.implemented and report.score < report.max_score
    result = report.result(check)
    assert result.status == FAILED, str(report)
    assert words in result.message, result.message
    for r in report.failures:  # a hint, never the answer
        assert "np.outer" not in r.message and "argsort" not in r.message


@pytest.mark.parametrize("wrong", [dot_products, every_user_a_neighbour, includes_itself, divides_by_k])
def test_random_cases_catch_it_too(wrong):
    assert exercise.check(wrong).result("matches_the_reference_on_random_cases").status == FAILED
