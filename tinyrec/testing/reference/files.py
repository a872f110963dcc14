"""The files of a reference set: ``.npz`` cases written byte for byte the same each time, their
SHA-256, and a bounded reader (a downloaded set is untrusted input: no pickle, no unbounded read).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ...errors import DataError

MAX_CASE_BYTES = 16 << 20  # a case is a few kB; a file claiming more is not one tinyrec wrote
MAX_MANIFEST_BYTES = 16 << 20
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the zip entries' date: the same bytes at every export


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An uncompressed ``.npz`` (as ``np.savez`` writes it, readable by ``np.load``), written atomically,
    with fixed entry dates so that the same arrays give the same bytes and the same SHA-256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
            zf.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_TIME), member.getvalue())
    _atomic_write(path, buffer.getvalue())


def write_json(path: Path, value) -> None:
    _atomic_write(path, (json.dumps(value, indent=1, allow_nan=False) + "\n").encode("utf-8"))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a case file; DataError for a file tinyrec would not have written (too large,
    compressed by another method, holding objects) or a damaged one."""
    if path.stat().st_size > MAX_CASE_BYTES:
        raise DataError(f"{path} is larger than a reference case ({MAX_CASE_BYTES} bytes)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            methods = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
            unlike = [i for i in infos if i.compress_type not in methods or not i.filename.endswith(".npy")]
            # zipfile never reads more than a member's declared size: the sum bounds the memory
            if unlike or sum(i.file_size for i in infos) > MAX_CASE_BYTES:
                raise DataError(f"{path} holds members that are not the .npy arrays of a reference case")
            return {i.filename.removesuffix(".npy"): np.lib.format.read_array(
                io.BytesIO(zf.read(i)), allow_pickle=False) for i in infos}  # fmt: skip
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{path} is not a readable reference case ({type(exc).__name__}: {exc})") from exc


def read_json(path: Path):
    if not path.is_file():
        raise DataError(f"no reference manifest at {path}; write a set with `tinyrec reference export DIR`")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise DataError(f"{path} is larger than a reference manifest ({MAX_MANIFEST_BYTES} bytes)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:
        raise DataError(f"{path} is not valid JSON ({exc})") from exc
