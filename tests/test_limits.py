"""The allocation bound: read from TINYREC_MAX_BYTES or the machine, refusing with a clear error."""

import numpy as np
import pytest

from tinyrec import limits
from tinyrec.errors import AllocationError


def test_default_bound_is_half_the_physical_memory(monkeypatch):
    monkeypatch.delenv(limits.ENVIRONMENT_VARIABLE, raising=False)
    assert limits.max_bytes() == limits.physical_memory() // 2 > 0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1024", 1024),
        ("2K", 2048),
        ("1.5M", 3 << 19),
        ("64G", 64 << 30),
        ("1t", 1 << 40),
        ("8GB", 8 << 30),
        (" 512m ", 512 << 20),
    ],
)
def test_the_environment_variable_sets_the_bound(monkeypatch, text, expected):
    monkeypatch.setenv(limits.ENVIRONMENT_VARIABLE, text)
    assert limits.max_bytes() == expected


@pytest.mark.parametrize("text", ["lots", "-1G", "0", "nanG", "inf"])
def test_a_bad_bound_is_refused_by_name(monkeypatch, text):
    monkeypatch.setenv(limits.ENVIRONMENT_VARIABLE, text)
    with pytest.raises(AllocationError, match=limits.ENVIRONMENT_VARIABLE):
        limits.max_bytes()


def test_an_allocation_over_the_bound_is_refused_before_it_happens(monkeypatch):
    monkeypatch.setenv(limits.ENVIRONMENT_VARIABLE, "1M")
    limits.check_allocation((128, 1024), np.float64, "a table")  # exactly 1 MiB: allowed
    with pytest.raises(
        AllocationError, match=r"a table of shape \(129, 1024\) would take 1\.0 MiB.*1\.0 MiB"
    ):
        limits.check_allocation((129, 1024), np.float64, "a table")
    huge = (10**9, 10**9, 10**9)  # far beyond any int64: Python ints never overflow
    with pytest.raises(MemoryError, match="TINYREC_MAX_BYTES"):
        limits.check_allocation(huge, np.float32, "a crafted shape")
    with pytest.raises(ValueError):  # an AllocationError is a ValueError too
        limits.check_bytes(2 << 20, "a request")


def test_sizes_read_well():
    assert limits.format_bytes(0) == "0 bytes"
    assert limits.format_bytes(1023) == "1023 bytes"
    assert limits.format_bytes(1536) == "1.5 KiB"
    assert limits.format_bytes(3 << 40) == "3.0 TiB"
    assert limits.format_bytes(2**70) == "1048576.0 PiB"


# -- allocations that hyperparameters size, refused by fit before allocating -----------------------
def _models():
    from tinyrec.models import BPRMF, GMF, NCFMLP, AutoRec, BiasedMF, ImplicitALS, MultDAE, NeuMF

    return {
        "BiasedMF(n_factors)": (BiasedMF(10**7, 1), r"BiasedMF\(n_factors=10000000, n_blocks=1\).*P_ and Q_"),
        "BiasedMF(n_blocks)": (BiasedMF(4, 1, n_blocks=10**7), r"n_blocks=10000000\).*blocks' starts"),
        "BPRMF": (BPRMF(10**7, 1), r"BPRMF\(n_factors=10000000\)"),
        "ImplicitALS": (
            ImplicitALS(10**5, 1),
            r"ImplicitALS\(n_factors=100000\).*grams \(d x d\): \(3, 100000, ",
        ),
        "GMF": (GMF(10**7, 1), r"GMF\(n_factors=10000000, n_negatives=4\).*weights, gradients"),
        "NCFMLP": (NCFMLP((8, 10**5, 10**5), 1), r"NCFMLP\(layers=\(8, 100000, 100000\), n_negatives=4\)"),
        "NeuMF": (NeuMF(8, (8, 10**5, 10**5), 1), r"NeuMF\(n_factors=8, layers=\(8, 100000, 100000\)"),
        "NCF n_negatives": (
            GMF(8, 1, n_negatives=10**9),
            r"n_negatives=1000000000\).*an epoch's users, items",
        ),
        "AutoRec": (AutoRec(10**9, 1), r"AutoRec\(hidden=1000000000, batch_size=256\)"),
        "MultDAE": (MultDAE(10**9, 1), r"MultDAE\(hidden=1000000000, batch_size=100\)"),
    }


@pytest.mark.parametrize("name", list(_models()))
def test_fit_refuses_arrays_too_large_for_the_bound_before_allocating(monkeypatch, name):
    """BiasedMF(n_blocks=10**7) (a MemoryError traceback before), tables, grams, networks."""
    from tinyrec.errors import NotFittedError

    from .models.contract import implicit_toy

    monkeypatch.setenv(limits.ENVIRONMENT_VARIABLE, "1G")
    model, match = _models()[name]
    train, _ = implicit_toy()
    with pytest.raises(
        AllocationError, match=match + r".* would take .*more than tinyrec's bound of 1\.0 GiB"
    ):
        model.fit(train)
    with pytest.raises(NotFittedError):  # a refused fit leaves the model unfitted
        model.predict([0], [0])


@pytest.mark.parametrize("cls", ["ItemKNN", "UserKNN"])
def test_knn_refuses_similarity_blocks_over_the_bound_and_fits_under_it(monkeypatch, cls):
    import tinyrec.models

    from .models.contract import planted_ratings

    train, _, _ = planted_ratings()
    model = getattr(tinyrec.models, cls)(5, mode="means", similarity="cosine")
    monkeypatch.setenv(limits.ENVIRONMENT_VARIABLE, "2K")
    with pytest.raises(
        AllocationError, match=rf"{cls}\(k=5, mode='means', min_support=1\).*a block of neighbours"
    ):
        model.fit(train)
    monkeypatch.setenv(limits.ENVIRONMENT_VARIABLE, "1M")
    assert np.isfinite(model.fit(train).predict(train.users, train.items)).all()


def test_the_bound_follows_the_environment_variable_at_fit(monkeypatch):
    from tinyrec.models import BiasedMF

    from .models.contract import planted_ratings

    train, _, _ = planted_ratings()
    model = BiasedMF(1000, 1, seed=0)  # (30 + 20) x 1000 float64: 400,000 bytes
    monkeypatch.setenv(limits.ENVIRONMENT_VARIABLE, "300K")
    with pytest.raises(AllocationError, match=r"390\.6 KiB, more than tinyrec's bound of 300\.0 KiB"):
        model.fit(train)
    monkeypatch.setenv(limits.ENVIRONMENT_VARIABLE, "1M")
    assert model.fit(train).P_.shape == (30, 1000)


def test_the_issues_n_blocks_is_refused_at_the_default_bound(monkeypatch):
    """``BiasedMF(n_blocks=10**7)``: 10**14 blocks, refused on any machine (was a MemoryError traceback)."""
    from tinyrec.models import BiasedMF

    from .models.contract import planted_ratings

    monkeypatch.delenv(limits.ENVIRONMENT_VARIABLE, raising=False)
    with pytest.raises(
        MemoryError, match=r"n_blocks=10000000\).* would take .* raise the bound with TINYREC_MAX"
    ):
        BiasedMF(n_blocks=10**7).fit(planted_ratings()[0])
