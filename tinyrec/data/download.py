"""Finding a data set's files: explicit path, ``$TINYREC_DATA``, the user cache, or a verified download.

Resolution order for a data set called ``name`` (e.g. ``"ml-100k"``) whose archive is ``<name>.zip``:

1. ``path=``: a folder holding the files (directly, or in a sub-folder ``<name>/``), or the zip;
2. ``$TINYREC_DATA/<name>/`` (a folder) or ``$TINYREC_DATA/<name>.zip``;
3. the user cache ``$TINYREC_CACHE`` (default ``~/.cache/tinyrec``): ``<name>/`` or ``<name>.zip``;
4. a download of the official archive into the cache.

A folder that exists but lacks a needed file is an error naming the file (it is not silently
replaced by a download). The download streams into a temporary file next to its destination,
checks the published MD5 (and size) of the whole archive, and only then moves it into place with
``os.replace`` (atomic on one file system). An interrupted, truncated or corrupt download
therefore leaves nothing in the cache, and the next call starts clean. Zips are read in place
(never unpacked), and only after the check. The base URL can be overridden with ``base_url=`` or
``$TINYREC_DOWNLOAD_URL`` (tests serve archives from 127.0.0.1).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError

__all__ = ["Archive", "DataSource", "resolve", "fetch", "cache_dir"]

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/"


@dataclass(frozen=True)
class Archive:
    """An official archive: its file name, published MD5 (or None) and size in bytes (or None)."""

    filename: str
    md5: str | None
    size: int | None = None
    folder: str | None = None  # top folder inside the zip when it differs from the data set name
    home: str | None = None  # where to get the files by hand when there is no archive URL


def cache_dir() -> Path:
    """The user cache folder: ``$TINYREC_CACHE`` or ``~/.cache/tinyrec``."""
    return Path(os.environ.get("TINYREC_CACHE") or Path.home() / ".cache" / "tinyrec")


class DataSource:
    """The files of one data set, in a folder or inside a zip (read in place, never unpacked)."""

    def __init__(self, location: Path):
        self.location = Path(location)
        self._zip_names = None
        if self.location.is_file():
            try:
                with zipfile.ZipFile(self.location) as zf:
                    self._zip_names = [n for n in zf.namelist() if not n.endswith("/")]
            except zipfile.BadZipFile as exc:
                raise DataError(
                    f"{self.location} is not a readable zip file ({exc}); delete it and retry"
                ) from None

    def _member(self, filename: str) -> str | None:
        if self._zip_names is None:
            path = self.location / filename
            return str(path) if path.is_file() else None
        hits = [n for n in self._zip_names if n == filename or n.endswith("/" + filename)]
        return min(hits, key=len) if hits else None

    def has(self, filename: str) -> bool:
        """True when the data set has ``filename`` (e.g. ``"u.data"``)."""
        return self._member(filename) is not None

    def read(self, filename: str) -> bytes:
        """The bytes of ``filename``; :class:`DataError` naming it when absent or corrupt in the zip."""
        member = self._member(filename)
        if member is None:
            raise DataError(f"{self.location} has no file {filename!r}")
        if self._zip_names is None:
            return Path(member).read_bytes()
        try:
            with zipfile.ZipFile(self.location) as zf:
                return zf.read(member)  # checks the member's CRC
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise DataError(
                f"{self.location}: {filename} is corrupt inside the zip ({exc}); delete {self.location} "
                f"and download it again"
            ) from None

    def __repr__(self) -> str:
        return f"DataSource({str(self.location)!r})"


def _folder_candidates(folder: Path, name: str, archive: Archive):
    yield folder
    yield folder / name
    if archive.folder:
        yield folder / archive.folder
    yield folder / archive.filename


def _check_complete(source: DataSource, required, name: str, url: str) -> DataSource:
    missing = [f for f in required if not source.has(f)]
    if missing:
        raise DataError(
            f"{name}: {source.location} is missing {', '.join(missing)}. Put the file(s) there (from "
            f"{url}), or point path= / $TINYREC_DATA elsewhere"
        )
    return source


def resolve(
    name: str,
    archive: Archive,
    required,
    *,
    path=None,
    download: bool = True,
    base_url: str | None = None,
) -> DataSource:
    """Find the files ``required`` of data set ``name``, downloading its archive when allowed.

    Parameters
    ----------
    name : str
        Folder name of the data set (``"ml-100k"``).
    archive : Archive
        The official archive and its checksum.
    required : sequence of str
        File names that must be present (``["u.data", "u.item"]``).
    path : str or path-like, optional
        An explicit folder or zip; nothing else is tried when given.
    download : bool
        Allow step 4 (download into the cache).
    base_url : str, optional
        Download from ``base_url + archive.filename``; default ``$TINYREC_DOWNLOAD_URL`` or
        GroupLens's server.

    Raises
    ------
    DataError
        When nothing is found (the message names the file to fetch and where to put it), when a
        found folder lacks a file, or when the download fails or does not match its checksum.
    """
    base = base_url or os.environ.get("TINYREC_DOWNLOAD_URL") or GROUPLENS_URL
    url = archive.home if archive.home is not None else base.rstrip("/") + "/" + archive.filename
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise DataError(f"{name}: path {path} does not exist")
        if path.is_file():
            return _check_complete(DataSource(path), required, name, url)
        for candidate in _folder_candidates(path, name, archive):
            if candidate.exists() and DataSource(candidate).has(required[0]):
                return _check_complete(DataSource(candidate), required, name, url)
        return _check_complete(DataSource(path), required, name, url)
    roots = []
    if os.environ.get("TINYREC_DATA"):
        roots.append(Path(os.environ["TINYREC_DATA"]))
    roots.append(cache_dir())
    for root in roots:
        for candidate in list(_folder_candidates(root, name, archive))[1:]:
            if candidate.exists():
                return _check_complete(DataSource(candidate), required, name, url)
    target = cache_dir() / archive.filename
    if archive.home is not None:
        raise DataError(
            f"{name} not found. Get {', '.join(required)} from {archive.home} and put them in "
            f"$TINYREC_DATA/{name}/ or {cache_dir() / name}/, or pass path="
        )
    if not download:
        raise DataError(
            f"{name} not found. Download {url} and put it (or its unpacked folder {name}/) in "
            f"{cache_dir()} or in $TINYREC_DATA, or pass path="
        )
    fetch(url, target, archive)
    return _check_complete(DataSource(target), required, name, url)


def fetch(url: str, target, archive: Archive, *, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``target`` atomically, checking ``archive``'s size and MD5 first.

    The bytes go to a temporary file in ``target``'s folder; the file is moved to ``target`` with
    ``os.replace`` only when its size and MD5 match. On any failure the temporary file is removed
    and :class:`DataError` says what happened and where to put a manual download.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    manual = f"download {url} yourself and put it at {target} (or set $TINYREC_DATA)"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        digest = hashlib.md5()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                expected = response.headers.get("Content-Length")
                while True:
                    chunk = response.read(1 << 20)
                    if not chunk:
                        break
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        except urllib.error.HTTPError as exc:
            raise DataError(f"downloading {url} failed: HTTP {exc.code} {exc.reason}; {manual}") from None
        except http.client.IncompleteRead as exc:
            raise DataError(
                f"downloading {url}: connection closed after {size + len(exc.partial)} bytes (truncated); "
                f"retry, or {manual}"
            ) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise DataError(f"downloading {url} failed ({reason}): no network? {manual}") from None
        if expected is not None and size != int(expected):
            raise DataError(
                f"downloading {url}: got {size} of {expected} bytes (truncated); retry, or {manual}"
            )
        if archive.size is not None and size != archive.size:
            raise DataError(
                f"downloading {url}: {size} bytes, expected {archive.size}; the file is truncated or "
                f"changed; retry, or {manual}"
            )
        if archive.md5 is not None:
            if digest.hexdigest() != archive.md5:
                raise DataError(
                    f"downloading {url}: MD5 {digest.hexdigest()} does not match the published "
                    f"{archive.md5}; the download is corrupt; retry, or {manual}"
                )
        else:
            warnings.warn(
                f"{archive.filename} has no published checksum; only the zip's own CRCs are checked",
                stacklevel=3,
            )
        try:
            with zipfile.ZipFile(tmp) as zf:
                bad = zf.testzip()
        except zipfile.BadZipFile as exc:
            raise DataError(f"downloading {url}: not a zip file ({exc}); {manual}") from None
        if bad is not None:
            raise DataError(f"downloading {url}: member {bad} fails its CRC check; {manual}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target
