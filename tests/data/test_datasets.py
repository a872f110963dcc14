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


# ------------------------------------------------------------------ truncated or corrupt releases
def write_ml100k(folder: Path):
    """A 3-rating ML-100K folder with the u.info that states its counts, and one fold."""
    folder.mkdir(parents=True, exist_ok=True)
    flags = "|".join(["0"] * 19)
    (folder / "u.data").write_text("1\t10\t5\t881250949\n2\t10\t3\t891717742\n1\t20\t4\t878887116\n")
    (folder / "u.item").write_text(
        f"10|Heat (1995)|01-Jan-1995||url|{flags}\n20|Up (2009)|01-Jan-2009||url|{flags}\n"
    )
    (folder / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")
    (folder / "u.info").write_text("2 users\n2 items\n3 ratings\n")
    (folder / "u1.base").write_text("1\t10\t5\t881250949\n2\t10\t3\t891717742\n")
    (folder / "u1.test").write_text("1\t20\t4\t878887116\n")
    return folder


def test_ml100k_format_loads_and_checks_u_info(tmp_path):
    folder = write_ml100k(tmp_path / "ml-100k")
    data = movielens("100k", path=folder)
    assert (len(data), data.n_users, data.n_items) == (3, 2, 2)
    assert [len(part) for part in movielens("100k", path=folder, fold="u1")] == [2, 1]
    # cut at a line boundary: every line parses, only u.info's counts show the loss
    (folder / "u.data").write_text("1\t10\t5\t881250949\n2\t10\t3\t891717742\n")
    counts = r"u\.data has 1 items \(u\.info states 2\), 2 ratings \(u\.info states 3\)"
    with pytest.raises(DataError, match=counts):
        movielens("100k", path=folder)


def test_truncated_metadata_is_an_error(tmp_path):
    folder = write_ml100k(tmp_path / "ml-100k")
    text = (folder / "u.item").read_text()
    (folder / "u.item").write_text(text.splitlines()[0] + "\n")
    with pytest.raises(DataError, match=r"u\.item has no line for 1 rated movies \(e\.g\. 20\).*truncated"):
        movielens("100k", path=folder)  # item 20 used to get an empty title
    (folder / "u.item").write_text(text)
    (folder / "u.user").write_text("")
    with pytest.raises(DataError, match=r"u\.user has no line for 2 rated users.*re-download"):
        movielens("100k", path=folder)  # used to give empty demographics
    ml1m = write_ml1m(tmp_path / "ml-1m")
    (ml1m / "movies.dat").write_text("10::Heat (1995)::Action\n")
    with pytest.raises(DataError, match=r"movies\.dat has no line for 1 rated movies \(e\.g\. 20\)"):
        movielens("1m", path=ml1m)
    write_ml1m(ml1m)
    (ml1m / "users.dat").write_text("1::F::1::10::48067\n")
    with pytest.raises(DataError, match=r"users\.dat has no line for 1 rated users \(e\.g\. 2\)"):
        movielens("1m", path=ml1m)


def test_truncated_fold_file_is_an_error(tmp_path):
    folder = write_ml100k(tmp_path / "ml-100k")
    (folder / "u1.base").write_text("1\t10\t5\t881250949\n")
    with pytest.raises(DataError, match=r"u1\.base \+ u1\.test hold 2 ratings but u\.data has 3"):
        movielens("100k", path=folder, fold="u1")


def test_corrupt_zip_member_names_the_file_and_the_fix(tmp_path):
    folder = write_ml100k(tmp_path / "ml-100k")
    zpath = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_STORED) as zf:
        for f in folder.iterdir():
            zf.write(f, f"ml-100k/{f.name}")
    raw = bytearray(zpath.read_bytes())
    raw[raw.index(b"881250949")] ^= 1  # one flipped bit in u.data: its CRC no longer matches
    zpath.write_bytes(bytes(raw))
    expected = r"ml-100k\.zip: u\.data is corrupt inside the zip .*delete .* download it again"
    with pytest.raises(DataError, match=expected):
        movielens("100k", path=zpath)  # was a raw zipfile.BadZipFile


@pytest.mark.realdata
def test_truncated_real_ml100k_files_are_errors(tmp_path):
    root = dataset_dir("ml-100k", "u.data")
    copy = tmp_path / "ml-100k"
    copy.mkdir()
    for name in ("u.data", "u.item", "u.user", "u.info", "u.genre"):
        (copy / name).write_bytes((root / name).read_bytes())
    lines = (root / "u.data").read_bytes().splitlines(keepends=True)
    (copy / "u.data").write_bytes(b"".join(lines[: len(lines) // 2]))  # cut at a line boundary
    with pytest.raises(DataError, match=r"50,000 ratings \(u\.info states 100,000\)"):
        movielens("100k", path=copy)
    (copy / "u.data").write_bytes((root / "u.data").read_bytes())
    items = (root / "u.item").read_bytes().splitlines(keepends=True)
    (copy / "u.item").write_bytes(b"".join(items[:10]))
    with pytest.raises(DataError, match=r"u\.item has no line for 1,672 rated movies"):
        movielens("100k", path=copy)


@pytest.mark.realdata
def test_ml100k_feature_tables_are_typed_with_encoding_hints():
    data = movielens("100k", path=dataset_dir("ml-100k", "u.data"))
    assert data.user_meta.kinds == {"age": "numeric", "gender": "categorical", "occupation": "categorical",
                                    "zip": "categorical"}  # fmt: skip
    age, zip_code = data.user_meta.column("age"), data.user_meta.column("zip")
    assert age.encoding == "bucket" and age.edges == (18, 25, 35, 45, 50, 56)
    assert zip_code.encoding == "hash" and len(np.unique(zip_code.values)) == 795
    assert (data.user_meta["occupation"] == "none").sum() == 9  # a category, not a missing value
    assert not data.user_meta.column("occupation").missing().any()
    assert data.item_meta.kinds == {"title": "text", "release_date": "text", "genres": "multi_hot",
                                    "year": "numeric"}  # fmt: skip
    years = data.item_meta["year"]
    assert years[0] == 1995 and np.isnan(years).sum() == 1  # one movie has no release date


@pytest.mark.realdata
def test_movietweetings_items_have_genres_and_years():
    data = movietweetings(path=dataset_dir("movietweetings-100k", "ratings.dat"))
    assert data.item_meta.column("genres").kind == "multi_hot" and data.user_meta == {}
    years = data.item_meta["year"]
    assert np.isnan(years).sum() == 0 and 1890 < years.min() and years.max() < 2030
