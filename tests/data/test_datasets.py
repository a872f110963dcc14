"""MovieLens / MovieTweetings loaders: real ML-100K and MovieTweetings counts, every file format
(on files the tests write), file resolution, and the verified download against a local HTTP server."""

import hashlib
import io
import os
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

import tinyrec.data.datasets as datasets
from tests.helpers import dataset_dir
from tinyrec.data import ML100K_FOLDS, movielens, movietweetings
from tinyrec.data.download import Archive
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


# ------------------------------------------------------------------ download against 127.0.0.1
def tiny_ml100k_zip() -> bytes:
    buf = io.BytesIO()
    flags = "|".join(["0"] * 18)
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ml-100k/u.data", "1\t1\t5\t881250949\n2\t1\t3\t891717742\n1\t2\t4\t878887116\n")
        zf.writestr(
            "ml-100k/u.item",
            f"1|Toy Story (1995)|01-Jan-1995||url|1|{flags}\n2|GoldenEye (1995)|01-Jan-1995||url|0|{flags}\n",
        )
        zf.writestr("ml-100k/u.user", "1|24|M|technician|85711\n2|53|F|other|94043\n")
    return buf.getvalue()


class Server:
    """Serves ``body`` at /ml-100k.zip on 127.0.0.1; ``mode`` is ok, truncate or 404."""

    def __init__(self, body: bytes, mode: str = "ok"):
        outer = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.requests += 1
                if mode == "404" or self.path != "/ml-100k.zip":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body if mode == "ok" else body[: len(body) // 2])

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def offline_env(tmp_path, monkeypatch):
    """No $TINYREC_DATA, an empty cache in tmp_path, and the 100k archive's checksum = the tiny zip's."""
    body = tiny_ml100k_zip()
    monkeypatch.delenv("TINYREC_DATA", raising=False)
    monkeypatch.setenv("TINYREC_CACHE", str(tmp_path / "cache"))
    archive = Archive("ml-100k.zip", hashlib.md5(body).hexdigest(), len(body))
    monkeypatch.setitem(datasets.MOVIELENS, "100k", ("ml-100k", archive))
    return body, tmp_path / "cache"


def cache_files(cache: Path):
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_download_with_right_checksum_then_cache(offline_env, monkeypatch):
    body, cache = offline_env
    with Server(body) as server:
        data = movielens("100k", base_url=server.url)
        assert (len(data), data.n_users, data.n_items) == (3, 2, 2)
        assert cache_files(cache) == ["ml-100k.zip"]
        assert data.genres.tolist() == ["genre0", ""]  # no u.genre in the tiny zip
        movielens("100k", base_url=server.url)
        assert server.requests == 1  # the second call reads the cache
    monkeypatch.setenv("TINYREC_DOWNLOAD_URL", "http://127.0.0.1:9/")
    assert len(movielens("100k")) == 3  # still from the cache, no network needed


def test_download_via_env_url(offline_env, monkeypatch):
    body, cache = offline_env
    with Server(body) as server:
        monkeypatch.setenv("TINYREC_DOWNLOAD_URL", server.url)
        assert len(movielens("100k")) == 3


def test_wrong_checksum_leaves_nothing(offline_env, monkeypatch):
    body, cache = offline_env
    monkeypatch.setitem(datasets.MOVIELENS, "100k", ("ml-100k", Archive("ml-100k.zip", "0" * 32)))
    with Server(body) as server:
        with pytest.raises(DataError, match="MD5 .* does not match"):
            movielens("100k", base_url=server.url)
    assert cache_files(cache) == []


def test_truncated_download_leaves_nothing_and_retry_starts_clean(offline_env):
    body, cache = offline_env
    with Server(body, mode="truncate") as server:
        with pytest.raises(DataError, match="truncated"):
            movielens("100k", base_url=server.url)
    assert cache_files(cache) == []
    with Server(body) as server:
        assert len(movielens("100k", base_url=server.url)) == 3


def test_http_404(offline_env):
    body, cache = offline_env
    with Server(body, mode="404") as server:
        with pytest.raises(DataError, match="HTTP 404"):
            movielens("100k", base_url=server.url)
    assert cache_files(cache) == []


def test_no_network_names_the_file_and_where_to_put_it(offline_env):
    _, cache = offline_env
    with pytest.raises(DataError, match=rf"no network\?.*ml-100k\.zip.*{cache}"):
        movielens("100k", base_url="http://127.0.0.1:9/")  # port 9 (discard): nothing listens
    with pytest.raises(DataError, match=r"not found\. Download .*ml-100k\.zip"):
        movielens("100k", download=False)


def test_corrupt_zip_in_cache_is_reported(offline_env):
    _, cache = offline_env
    cache.mkdir(parents=True)
    (cache / "ml-100k.zip").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable zip"):
        movielens("100k")


def test_movietweetings_missing_names_the_source(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYREC_DATA", raising=False)
    monkeypatch.setenv("TINYREC_CACHE", str(tmp_path))
    if (Path(datasets.__file__).parent / "embedded" / "movietweetings-100k").is_dir():
        pytest.skip("the package embeds MovieTweetings")
    with pytest.raises(DataError, match="sidooms/MovieTweetings"):
        movietweetings()
    assert os.listdir(tmp_path) == []
