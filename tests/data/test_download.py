"""File resolution and the verified download, against a local HTTP server on 127.0.0.1 serving a
small zip made by the test: right checksum, wrong checksum, truncated file, 404, no network."""

import hashlib
import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import tinyrec.data.datasets as datasets
from tinyrec.data import movielens
from tinyrec.data.download import Archive, DataSource, resolve
from tinyrec.errors import DataError


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


def test_resolution_order_env_zip_then_cache_folder(tmp_path, monkeypatch):
    body = tiny_ml100k_zip()
    archive = Archive("ml-100k.zip", None)
    env, cache = tmp_path / "env", tmp_path / "cache"
    env.mkdir()
    (env / "ml-100k.zip").write_bytes(body)
    monkeypatch.setenv("TINYREC_DATA", str(env))
    monkeypatch.setenv("TINYREC_CACHE", str(cache))
    source = resolve("ml-100k", archive, ["u.data"], download=False)
    assert source.location == env / "ml-100k.zip" and source.read("u.data").startswith(b"1\t1\t5")
    monkeypatch.delenv("TINYREC_DATA")
    (cache / "ml-100k").mkdir(parents=True)
    (cache / "ml-100k" / "u.data").write_text("1\t1\t5\t0\n")
    assert resolve("ml-100k", archive, ["u.data"], download=False).location == cache / "ml-100k"
    with pytest.raises(DataError, match=r"missing u\.item"):
        resolve("ml-100k", archive, ["u.data", "u.item"], download=False)


def test_data_source_reads_zip_members_by_file_name(tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(tiny_ml100k_zip())
    source = DataSource(path)
    assert source.has("u.user") and not source.has("u.genre")
    with pytest.raises(DataError, match="no file 'u.genre'"):
        source.read("u.genre")


def test_archive_without_checksum_warns_and_size_mismatch_fails(offline_env, monkeypatch):
    body, cache = offline_env
    with Server(body) as server:
        monkeypatch.setitem(
            datasets.MOVIELENS, "100k", ("ml-100k", Archive("ml-100k.zip", None, len(body) + 1))
        )
        with pytest.raises(DataError, match="expected"):
            movielens("100k", base_url=server.url)
        assert cache_files(cache) == []
        monkeypatch.setitem(datasets.MOVIELENS, "100k", ("ml-100k", Archive("ml-100k.zip", None)))
        with pytest.warns(UserWarning, match="no published checksum"):
            assert len(movielens("100k", base_url=server.url)) == 3
    assert cache_files(cache) == ["ml-100k.zip"]


def test_download_that_is_not_a_zip_is_refused(offline_env, monkeypatch):
    _, cache = offline_env
    html = b"<html>a captive portal</html>"
    monkeypatch.setitem(
        datasets.MOVIELENS, "100k", ("ml-100k", Archive("ml-100k.zip", hashlib.md5(html).hexdigest()))
    )
    with Server(html) as server:
        with pytest.raises(DataError, match="not a zip"):
            movielens("100k", base_url=server.url)
    assert cache_files(cache) == []
