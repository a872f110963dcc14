"""``backend=``: a classic model trained by its kernels' plain Python bodies, or by a NumPy twin,
learns what the compiled kernels learn (to round-off: the compiled sums are reassociated)."""

import numpy as np
import pytest

from tests.models.contract import implicit_toy, planted_ratings
from tinyrec.models import BPRMF, BaselineOnly, BiasedMF, ImplicitALS, ItemKNN, UserKNN

F64 = {"dtype": np.float64}
RATING_CASES = [
    ("BiasedMF", lambda backend: BiasedMF(4, 3, backend=backend, seed=0, **F64)),
    ("BiasedMF-blocked", lambda backend: BiasedMF(4, 3, n_blocks=2, backend=backend, seed=0, **F64)),
    ("BaselineOnly-sgd", lambda backend: BaselineOnly("sgd", n_epochs=3, backend=backend, seed=0, **F64)),
    ("ItemKNN", lambda backend: ItemKNN(5, backend=backend, **F64)),
    ("UserKNN-means", lambda backend: UserKNN(5, mode="means", similarity="pearson", backend=backend)),
]
# (name, model, the backends other than "numba"): BPR and ALS have NumPy twins, KNN does not
RANKING_CASES = [
    ("BPRMF", lambda backend: BPRMF(4, 3, backend=backend, seed=0, **F64), ("python", "numpy")),
    ("ImplicitALS", lambda backend: ImplicitALS(4, 3, backend=backend, seed=0, **F64), ("python", "numpy")),
    (
        "ItemKNN-ranking",
        lambda backend: ItemKNN(5, mode="ranking", backend=backend, similarity="cosine"),
        ("python",),
    ),
]
RANKING_RUNS = [(name, build, backend) for name, build, backends in RANKING_CASES for backend in backends]


def _scores(model, data):
    return model.predict(data.users, data.items), model.score_all(np.arange(model.n_users_))


@pytest.mark.parametrize("name, build", RATING_CASES, ids=[c[0] for c in RATING_CASES])
def test_python_backend_learns_what_the_kernels_learn_ratings(name, build):
    train, test, _ = planted_ratings(n_users=12, n_items=9)
    compiled, plain = build("numba").fit(train), build("python").fit(train)
    for a, b in zip(_scores(compiled, test), _scores(plain, test), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name, build, backend", RANKING_RUNS, ids=[f"{c[0]}-{c[2]}" for c in RANKING_RUNS])
def test_other_backends_learn_what_the_kernels_learn_rankings(name, build, backend):
    train, _ = implicit_toy(n_users=12, n_items=9)
    compiled, other = build("numba").fit(train), build(backend).fit(train)
    for a, b in zip(_scores(compiled, train), _scores(other, train), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-8, atol=1e-9)


def test_backend_is_saved_with_the_model(tmp_path):
    import tinyrec

    model = BPRMF(3, 2, backend="numpy", seed=0).fit(implicit_toy()[0])
    assert tinyrec.load(model.save(tmp_path / "bpr.npz")).backend == "numpy"
