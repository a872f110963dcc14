"""The embedded MovieTweetings 100K copy: bytes as published, 5-core counts, bad input."""

import hashlib
import zipfile

import numpy as np
import pytest

from tinyrec.data.embedded import ARCHIVE, NAME, load_embedded
from tinyrec.errors import DataError

# sha256 of the published files (sidooms/MovieTweetings snapshots/100K, see PROVENANCE.md)
PUBLISHED = {
    "ratings.dat": "c0dd868c2632d10002ebc928ddc5345f33adeaa59eca52c2941c26a2c5e36fd6",
    "movies.dat": "e63fb84bc734e3c574f135634a40d3cbafab22b8f94f5fc0b80f80d1d2076efc",
}


def test_archive_holds_the_published_bytes_with_licence_and_provenance():
    with zipfile.ZipFile(ARCHIVE) as zf:
        assert sorted(zf.namelist()) == sorted(PUBLISHED)
        for name, digest in PUBLISHED.items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == digest
    licence = (ARCHIVE.parent / "LICENSE").read_text()
    assert "MIT License" in licence and "Simon Dooms" in licence
    assert "Dooms" in (ARCHIVE.parent / "PROVENANCE.md").read_text()


def test_five_core_counts():
    data = load_embedded()
    assert (len(data), data.n_users, data.n_items) == (68_055, 4_333, 2_414)
    assert data.user_counts().min() >= 5 and data.item_counts().min() >= 5
    assert data.info["name"] == NAME and data.info["core"] == 5
    assert data.titles is not None and data.titles[0].endswith(")")
    assert data.ratings.min() >= 0 and data.ratings.max() <= 10
    assert data.timestamps is not None and not data.has_duplicates()


def test_other_cores():
    full = load_embedded(1)
    assert (len(full), full.n_users, full.n_items) == (100_000, 16_554, 10_506)
    ten = load_embedded(10)
    assert ten.user_counts().min() >= 10 and ten.item_counts().min() >= 10
    assert len(ten) < 68_055
    # every rating kept by the 10-core is a rating of the full set
    full_keys = set(zip(full.user_ids[full.users].tolist(), full.item_ids[full.items].tolist(), strict=True))
    ten_keys = zip(ten.user_ids[ten.users].tolist(), ten.item_ids[ten.items].tolist(), strict=True)
    assert all(key in full_keys for key in ten_keys)
    assert np.isin(ten.item_ids, full.item_ids).all()


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "5"])
def test_bad_min_count(bad):
    with pytest.raises(ValueError, match="min_count"):
        load_embedded(bad)


def test_missing_archive_is_a_clear_error(monkeypatch, tmp_path):
    import tinyrec.data.embedded as embedded

    monkeypatch.setattr(embedded, "ARCHIVE", tmp_path / "absent.zip")
    with pytest.raises(DataError, match="reinstall"):
        embedded.load_embedded()
