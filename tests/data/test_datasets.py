"""MovieLens / MovieTweetings loaders: real ML-100K and MovieTweetings counts, and every file format
on files the tests write (ML-1M's ratings.dat is not in the shared data). Download: test_download.py."""

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinyrec.data.datasets as datasets
from tests.helpers import dataset_dir
from tinyrec.data import ML100K_FOLDS, movielens, movietweetings
from tinyrec.data.preprocess import k_core
from tinyrec.errors import DataError


# ------------------------------------------------------------------ real data
@pytest.mark.realdata
def test_ml100k_counts_metadata_and_latin1_titles():
    root = dataset_dir("ml-100k", "u.data")
    data = movielens("100k", path=root)
    assert (len(data), data.n_users, data.n_items) == (100_000, 943, 1682)
    assert data.user_ids.tolist() == list(range(1, 944)) and data.item_ids[-1] == 1682
    counts = np.bincount(data.ratings.astype(int), minlength=6)[1:]
    assert counts.tolist() == [6110, 11370, 27145, 34174, 21201]
    assert data.titles[data.item_index(543)] == "Misérables, Les (1995)"  # Latin-1 decoded
    assert data.genres[0] == "Animation|Children's|Comedy"
    assert data.user_meta["age"][0] == 24 and data.user_meta["occupation"][0] == "technician"
    assert not data.has_duplicates()


@pytest.mark.realdata
def test_ml100k_from_tinyrec_data_env(monkeypatch):
    root = dataset_dir("ml-100k", "u.data")
    monkeypatch.setenv("TINYREC_DATA", str(root.parent))
    assert len(movielens("ml-100k")) == 100_000


@pytest.mark.realdata
def test_ml100k_predefined_folds():
    root = dataset_dir("ml-100k", "u.data")
    full = movielens("100k", path=root)
    tested = []
    for fold in ML100K_FOLDS:
        train, test = movielens("100k", path=root, fold=fold)
        assert train.same_index_space(full) and test.same_index_space(full)
        expected = (80_000, 20_000) if fold.startswith("u") and fold[1].isdigit() else (90_570, 9_430)
        assert (len(train), len(test)) == expected
        keys = lambda d: set((d.users.astype(np.int64) * 2000 + d.items).tolist())  # noqa: E731
        assert not keys(train) & keys(test)
        assert keys(train) | keys(test) == keys(full)
        if fold in ("ua", "ub"):
            assert np.all(test.user_counts() == 10)
        else:
            tested.append(keys(test))
    assert set().union(*tested) == keys(full) and sum(len(t) for t in tested) == 100_000


@pytest.mark.realdata
def test_movietweetings_counts_and_string_imdb_ids():
    root = dataset_dir("movietweetings-100k", "ratings.dat")
    data = movietweetings(path=root)
    assert (len(data), data.n_users, data.n_items) == (100_000, 16_554, 10_506)
    assert data.item_ids.dtype.kind == "U" and all(len(x) >= 7 for x in data.item_ids[:50])
    assert data.item_index("0114508") >= 0  # the leading zero is kept
    assert (data.ratings.min(), data.ratings.max()) == (0.0, 10.0)
    assert data.titles[data.item_index("0002844")].startswith("Fantômas")  # UTF-8
    assert (data.genres == "").sum() == 66
    core = k_core(data, 5, 5)
    assert (len(core), core.n_users, core.n_items) == (68_055, 4_333, 2_414)


@pytest.mark.realdata
def test_ml1m_without_ratings_file_is_a_clear_error(monkeypatch):
    root = dataset_dir("ml-1m", "movies.dat")
    monkeypatch.setenv("TINYREC_DATA", str(root.parent))
    with pytest.raises(DataError, match=r"missing ratings\.dat.*ml-1m\.zip"):
        movielens("1m")


# ------------------------------------------------------------------ formats on written files
def write_ml1m(folder: Path, extra_line: str = ""):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ratings.dat").write_text(
        "1::10::5::978300760\n1::20::3::978300761\n2::10::4::978300762\n" + extra_line
    )
    (folder / "movies.dat").write_bytes(
        "10::Misérables, Les (1995)::Drama|Musical\n20::Heat (1995)::Action\n".encode("latin-1")
    )
    (folder / "users.dat").write_text("1::F::1::10::48067\n2::M::56::16::70072\n")
    return folder


def test_ml1m_format_folder_and_zip(tmp_path):
    folder = write_ml1m(tmp_path / "ml-1m")
    data = movielens("1m", path=folder)
    assert (len(data), data.n_users, data.n_items) == (3, 2, 2)
    assert data.titles.tolist() == ["Misérables, Les (1995)", "Heat (1995)"]
    assert data.user_meta["gender"].tolist() == ["F", "M"] and data.user_meta["age"].tolist() == [1, 56]
    assert movielens("1m", path=tmp_path).n_items == 2  # the parent folder holding ml-1m/
    zpath = tmp_path / "ml-1m.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"ml-1m/{f.name}")
    from_zip = movielens("1m", path=zpath)
    np.testing.assert_array_equal(from_zip.ratings, data.ratings)


def test_malformed_line_names_file_and_line(tmp_path):
    folder = write_ml1m(tmp_path / "ml-1m", extra_line="3::10::x::978300763\n")
    with pytest.raises(DataError, match=r"ratings\.dat, line 4: malformed"):
        movielens("1m", path=folder)


def test_ml10m_and_csv_formats(tmp_path):
    ten = tmp_path / "ml-10M100K"
    ten.mkdir()
    (ten / "ratings.dat").write_text("1::122::5::838985046\n1::185::4.5::838983525\n")
    (ten / "movies.dat").write_text("122::Boomerang (1992)::Comedy|Romance\n185::Net, The (1995)::Action\n")
    data = movielens("10m", path=tmp_path)
    assert data.ratings.tolist() == [5.0, 4.5] and data.user_meta == {}
    csvdir = tmp_path / "ml-latest-small"
    csvdir.mkdir()
    (csvdir / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n2,3,3.5,964981247\n"
    )
    (csvdir / "movies.csv").write_text(
        'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n3,"American President, The (1995)",'
        "(no genres listed)\n"
    )
    data = movielens("latest-small", path=csvdir)
    assert data.titles.tolist() == ["Toy Story (1995)", "American President, The (1995)"]
    assert data.genres.tolist() == ["Adventure|Animation", ""]
    (csvdir / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n2,3\n")
    with pytest.raises(DataError, match=r"ratings\.csv, line 3"):
        movielens("latest-small", path=csvdir)


def test_unknown_names_list_the_known_ones(tmp_path):
    with pytest.raises(DataError, match="known: 100k, 1m, 10m, 20m, 25m, latest-small"):
        movielens("2m")
    with pytest.raises(DataError, match="u1, u2"):
        movielens("100k", fold="u9")
    with pytest.raises(DataError, match="only for 100k"):
        movielens("1m", fold="u1")
    with pytest.raises(DataError, match="does not exist"):
        movielens("1m", path=tmp_path / "nowhere")


def test_movietweetings_missing_names_the_source(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYREC_DATA", raising=False)
    monkeypatch.setenv("TINYREC_CACHE", str(tmp_path))
    monkeypatch.setattr(datasets, "EMBEDDED_MOVIETWEETINGS", tmp_path / "absent.zip")
    with pytest.raises(DataError, match="sidooms/MovieTweetings"):
        movietweetings()
    assert os.listdir(tmp_path) == []


def test_movietweetings_falls_back_to_the_embedded_copy(tmp_path, monkeypatch):
    if not datasets.EMBEDDED_MOVIETWEETINGS.is_file():
        pytest.fail(f"the package should embed {datasets.EMBEDDED_MOVIETWEETINGS}")
    monkeypatch.delenv("TINYREC_DATA", raising=False)
    monkeypatch.setenv("TINYREC_CACHE", str(tmp_path))
    data = movietweetings()
    assert (len(data), data.n_users, data.n_items) == (100_000, 16_554, 10_506)
