"""The model-file container: one ``.npz`` of arrays plus a JSON header, no pickle, written atomically.

Layout (a zip of ``.npy`` arrays, readable by ``np.load(path, allow_pickle=False)``):

* ``__header__`` — a uint8 array holding UTF-8 JSON: ``{"format": "tinyrec-model",
  "format_version": 2, "tinyrec_version": ..., "arrays": {name: {"shape": [...], "dtype": ...}},
  ...}``; what else the header holds is declared by the code that saves (a recommender's sections:
  :mod:`tinyrec.models.persistence`);
* one ``<name>.npy`` member per entry of ``header["arrays"]``.

The optional header field ``kind`` says what the file holds: ``"model"`` (a fitted recommender; the
default, and what every file written before the field existed holds) or ``"module"`` (a layer or a
network of layers, saved by :func:`tinyrec.save`; see :mod:`tinyrec.io`).

**The header's schema.** :data:`CONTAINER` declares the type of every field this module reads,
and a caller adds its own sections (a :class:`Record`); :func:`read_npz` checks the whole header
against them before it reads any array, and refuses a field of the wrong type, a missing field and
a field it does not know, naming it (:class:`~tinyrec.errors.ModelFileError`). A later addition
(the data's provenance, a backend, ...) joins as an *optional* section of a :class:`Record`: it is
declared once and checked like the rest, and a tinyrec that does not know it refuses the file
instead of ignoring what it cannot read. Format version 2 is version 1 with the schema enforced;
files of version 1 (tinyrec before the schema) have the same fields and still load.

**Members are checked before they are read.** Each member's ``.npy`` header is read from the
zip without its data and refused when its dtype is not a plain number (or text, for raw ids), when
its shape or dtype disagrees with the header's declaration, when its size in the zip disagrees
with its ``.npy`` header, or when it would take more memory than :mod:`tinyrec.limits` allows
(:class:`~tinyrec.errors.AllocationError`, which names the bound and ``TINYREC_MAX_BYTES``); only
stored and deflated members are read, so decompression never produces more than the declared
size. The arrays come back in native byte order and C order: a file written on a big-endian host
loads as one written here.

Nothing is unpickled: arrays of dtype object are refused at writing, and never read. The file is
written to a temporary file in the same folder and moved into place with ``os.replace``, so a crash
never leaves a half-written file under the final name; an ``OSError`` while writing (a full disk, a
read-only folder) becomes a :class:`ModelFileWriteError` naming the path and the cause. This module
knows nothing of models: it sits below them (docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .errors import ModelFileError, ModelFileWriteError, TinyrecError
from .limits import check_allocation, check_bytes
from .version import __version__

FORMAT = "tinyrec-model"
FORMAT_VERSION = 2
#: the versions :func:`read_npz` reads (1: before the schema was enforced; same fields)
READABLE_VERSIONS = (1, 2)
HEADER_KEY = "__header__"
MAX_HEADER_BYTES = 16 << 20  # the JSON header: a few kB for a model, its history included
_NPY_HEADER_BYTES = 10_000  # an .npy header is about 128 bytes; NumPy's own default bound
_MEMBER_DTYPE_KINDS = "iufU"  # integers, floats, and text (raw ids); never objects or records
_CHUNK_BYTES = 16 << 20


# -- the schema ---------------------------------------------------------------------------------
class _Mismatch(Exception):
    """A header field that does not fit its schema: ``problem`` names it (turned into a ModelFileError)."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Node:
    """One field's type in a header schema: :meth:`check` returns the value or raises _Mismatch.

    ``expected`` says what the value must be, for the message ("field attributes.n_users_ is
    'many', not a count (an integer >= 0)").
    """

    expected = "a value"

    def __init__(self, expected: str | None = None):
        if expected is not None:
            self.expected = expected

    def check(self, value, where: str):
        if not self.accepts(value):
            raise _Mismatch(f"header field {where} is {_show(value)}, not {self.expected}")
        return value

    def accepts(self, value) -> bool:
        return True


class Text(Node):
    """A string, matching ``pattern`` when given."""

    expected = "a string"

    def __init__(self, expected: str | None = None, pattern: str | None = None):
        super().__init__(expected)
        self.pattern = None if pattern is None else re.compile(pattern)

    def accepts(self, value) -> bool:
        return isinstance(value, str) and (self.pattern is None or self.pattern.fullmatch(value) is not None)


class Integer(Node):
    """A JSON integer (not a bool, not a float holding a whole number) in ``[minimum, maximum]``."""

    def __init__(self, expected: str | None = None, minimum: int = -(1 << 63), maximum: int = (1 << 63) - 1):
        super().__init__(expected or f"an integer in [{minimum}, {maximum}]")
        self.minimum, self.maximum = minimum, maximum

    def accepts(self, value) -> bool:
        is_int = isinstance(value, int) and not isinstance(value, bool)
        return is_int and self.minimum <= value <= self.maximum


class Number(Node):
    """A JSON number (int or float, not a bool); finite unless ``finite=False``."""

    def __init__(self, expected: str | None = None, finite: bool = True):
        super().__init__(expected or ("a finite number" if finite else "a number"))
        self.finite = finite

    def accepts(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return not self.finite or math.isfinite(value)


class NumericDtype(Node):
    """The ``.str`` of a NumPy dtype whose arrays tinyrec stores: integers, floats, text (``"<f4"``)."""

    expected = "a numeric dtype such as '<f4' or '<i8'"

    def accepts(self, value) -> bool:
        return isinstance(value, str) and len(value) <= 16 and _member_dtype(value) is not None


class ListOf(Node):
    """A JSON list of ``item``; of exactly ``length`` items, or at most ``max_length``."""

    def __init__(self, item: Node, *, length: int | None = None, max_length: int | None = None,
                 expected: str | None = None):  # fmt: skip
        size = f"{length} " if length is not None else ""
        super().__init__(expected or f"a list of {size}{item.expected}")
        self.item, self.length, self.max_length = item, length, max_length

    def check(self, value, where: str):
        if not isinstance(value, list):
            raise _Mismatch(f"header field {where} is {_show(value)}, not {self.expected}")
        if (self.length is not None and len(value) != self.length) or (
            self.max_length is not None and len(value) > self.max_length
        ):
            raise _Mismatch(f"header field {where} has {len(value)} entries, but must be {self.expected}")
        return [self.item.check(v, f"{where}[{i}]") for i, v in enumerate(value)]


class MapOf(Node):
    """A JSON object whose keys fit ``key`` and whose values fit ``value``."""

    def __init__(self, value: Node, key: Text | None = None, expected: str | None = None):
        super().__init__(expected or f"a mapping of names to {value.expected}")
        self.value, self.key = value, key or Text()

    def check(self, value, where: str):
        if not isinstance(value, dict):
            raise _Mismatch(f"header field {where} is {_show(value)}, not {self.expected}")
        for k in value:
            if not self.key.accepts(k):
                raise _Mismatch(f"header field {where} has the key {_show(k)}, not {self.key.expected}")
        return {k: self.value.check(v, f"{where}[{k!r}]") for k, v in value.items()}


class Json(Node):
    """Any JSON value whose integers fit int64 (a hyperparameter: its class's rules check it further)."""

    expected = "a JSON value with integers in int64's range"

    def accepts(self, value) -> bool:
        if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
            return True
        if isinstance(value, int):
            return -(1 << 63) <= value < (1 << 63)
        if isinstance(value, list):
            return all(self.accepts(v) for v in value)
        if isinstance(value, dict):
            return all(self.accepts(v) for v in value.values())
        return False


class Record(Node):
    """A JSON object with named fields: all of ``required``, any of ``optional``, nothing else.

    ``what`` names the fields in the message about missing ones ("the header lacks the fitted
    attributes ['n_items_']"). A later addition to a format joins as an optional field.
    """

    def __init__(self, required: dict[str, Node], optional: dict[str, Node] | None = None, *,
                 what: str = "fields", closed: bool = True, expected: str | None = None):  # fmt: skip
        super().__init__(expected or f"a mapping with the {what} {sorted(required)}")
        self.required, self.optional = dict(required), dict(optional or {})
        self.what, self.closed = what, closed

    def extended(self, other: Record) -> Record:
        """This record with ``other``'s fields too (a caller's sections added to the container)."""
        return Record({**self.required, **other.required}, {**self.optional, **other.optional},
                      what=self.what, closed=other.closed)  # fmt: skip

    def check(self, value, where: str):
        inside = f" (in {where})" if where else ""
        if not isinstance(value, dict):
            raise _Mismatch(f"header field {where or 'header'} is {_show(value)}, not {self.expected}")
        missing = [name for name in self.required if name not in value]
        if missing:
            raise _Mismatch(f"the header lacks the {self.what} {missing}{inside}")
        known = {**self.required, **self.optional}
        unknown = sorted(set(value) - set(known))
        if unknown and self.closed:
            raise _Mismatch(
                f"the header has fields {unknown}{inside} that this tinyrec does not know (a file written "
                f"by a newer tinyrec, or edited); load it with the tinyrec version that saved it"
            )
        prefix = f"{where}." if where else ""
        return {
            name: known[name].check(v, prefix + name) if name in known else v for name, v in value.items()
        }


#: what one array's entry in ``header["arrays"]`` declares
ARRAY_SPEC = Record(
    {
        "shape": ListOf(Integer("an axis length (an integer >= 0)", minimum=0), max_length=32),
        "dtype": NumericDtype(),
    },
    what="array fields",
)
#: what a file holds (the optional field ``kind``; absent: a model): a fitted recommender
#: (:mod:`tinyrec.models.persistence`), or a layer or network of :mod:`tinyrec.nn` (:mod:`tinyrec.io`)
KINDS = ("model", "module")
#: the container's fields, read by this module; a caller adds its sections with ``Record.extended``
CONTAINER = Record(
    {
        "format": Text(),
        "format_version": Integer("a format version", minimum=1),
        "tinyrec_version": Text(),
        "arrays": MapOf(ARRAY_SPEC, key=Text("an array name", pattern=r"[A-Za-z0-9_.]{1,200}")),
    },
    optional={"kind": Text("'model' or 'module'", pattern="|".join(KINDS))},
    closed=False,
)


def check_header(header, path, sections: Record | dict | None = None) -> dict:
    """``header`` checked against :data:`CONTAINER` (and ``sections``); else ModelFileError naming the field.

    Identifies the file first (its ``format`` and a readable ``format_version``), then checks every
    field. Without ``sections`` the container's fields are checked and other fields left alone.
    ``sections`` may give one Record per kind of file (``{"model": ..., "module": ...}``): the
    header's ``kind`` (absent: ``"model"``) picks it.
    """
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        shown = _show(header.get("format")) if isinstance(header, dict) else type(header).__name__
        raise ModelFileError(f"{path} is not a tinyrec model file (format {shown})")
    version = header.get("format_version")
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise ModelFileError(
            f"{path} has model-file format version {_show(version)}, but this tinyrec ({__version__}) reads "
            f"versions {list(READABLE_VERSIONS)} (tinyrec {_show(header.get('tinyrec_version'))} wrote it); "
            f"load it with a matching tinyrec version, or retrain and save"
        )
    if isinstance(sections, dict):
        kind = header.get("kind", "model")
        if not isinstance(kind, str) or kind not in sections:
            raise ModelFileError(
                f"{path} holds a {_show(kind)}, not one of {sorted(sections)}; it was written by another "
                f"tinyrec version or edited (a model file holds a 'model', a layer file a 'module')"
            )
        sections = sections[kind]
    schema = CONTAINER if sections is None else CONTAINER.extended(sections)
    try:
        return schema.check(header, "")
    except _Mismatch as exc:
        problem = exc.problem
    except RecursionError:
        problem = "the header nests lists or mappings too deeply"
    raise ModelFileError(f"{path}: {problem}; the file is corrupt or was edited, save the model again")


# -- writing ------------------------------------------------------------------------------------
def new_header(**sections) -> dict:
    """A header with the format's identification first, then ``sections``."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "tinyrec_version": __version__, **sections}


def check_save_path(path) -> Path:
    """``path`` as a Path whose folder exists and which is not itself a folder (else ModelFileError)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a pathlib.Path, got {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder; give a file name, e.g. {path / 'model.npz'}")
    if not path.parent.is_dir():
        raise ModelFileError(
            f"cannot save to {path}: the folder {path.parent} does not exist; create it first "
            f"(mkdir -p {path.parent}) or choose another path"
        )
    return path


_WRITE_FIXES = {
    errno.ENOSPC: "free some space on that disk, or save to another disk",
    errno.EDQUOT: "your disk quota is used up: free some space, or save elsewhere",
    errno.EFBIG: "the file system refuses a file this large: save to another disk",
    errno.EROFS: "the folder is on a read-only file system: choose a writable folder",
    errno.EACCES: "you may not write to that folder: choose another path",
    errno.EPERM: "you may not write to that folder: choose another path",
}


def _write_error(path: Path, exc: OSError) -> ModelFileWriteError:
    cause = exc.strerror or str(exc) or type(exc).__name__
    code = f" [{errno.errorcode.get(exc.errno, exc.errno)}]" if exc.errno else ""
    fix = _WRITE_FIXES.get(exc.errno, "check the path and the disk, then save again")
    error = ModelFileWriteError(f"cannot save the model to {path}: {cause}{code}; nothing was written; {fix}")
    error.errno = exc.errno  # (strerror and filename would replace the message in str(error))
    return error


def write_npz(path, header: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` and ``header`` (JSON, as a uint8 array) to ``path`` atomically.

    Raises ModelFileWriteError (a ModelFileError and an OSError) when the disk refuses; the file at
    ``path``, if any, is then unchanged and no temporary file is left.
    """
    path = Path(path)
    for name, a in arrays.items():
        if a.dtype.hasobject:
            raise TypeError(f"array {name!r} has dtype object, which needs pickle; store ints/floats/str")
    blob = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    try:  # the temporary file lives in the target's folder, so os.replace is an atomic rename
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _write_error(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{HEADER_KEY: blob}, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if isinstance(exc, OSError):
            raise _write_error(path, exc) from exc
        raise


# -- reading ------------------------------------------------------------------------------------
#: what a damaged or crafted zip makes the zipfile and NumPy readers raise
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, struct.error, EOFError, OSError, ValueError, KeyError,
                TypeError, SyntaxError, RecursionError, NotImplementedError, RuntimeError)  # fmt: skip


def _member_dtype(text: str) -> np.dtype | None:
    """The dtype ``text`` names when tinyrec may store it (see ``_MEMBER_DTYPE_KINDS``), else None."""
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError, OverflowError, SyntaxError, RecursionError):
        return None
    plain = dtype.fields is None and dtype.subdtype is None and not dtype.hasobject and dtype.itemsize > 0
    return dtype if plain and dtype.kind in _MEMBER_DTYPE_KINDS else None


def _damaged(path, exc: BaseException, where: str = "") -> ModelFileError:
    return ModelFileError(
        f"{path}{where} is truncated or not a tinyrec model file ({type(exc).__name__}: {exc}); "
        f"save the model again"
    )


def _read_npy_header(member) -> tuple[tuple, bool, np.dtype, int]:
    """``(shape, fortran_order, dtype, header_bytes)`` of the ``.npy`` stream ``member``, data unread."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(member, max_header_size=_NPY_HEADER_BYTES)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(member, max_header_size=_NPY_HEADER_BYTES)
    else:
        raise ValueError(f".npy format version {version} is not one tinyrec writes (1.0 or 2.0)")
    return tuple(shape), bool(fortran), dtype, member.tell()


def _read_data(member, shape: tuple, fortran: bool, dtype: np.dtype) -> np.ndarray:
    """The array data that follows the ``.npy`` header in ``member``: native byte order, C order."""
    out = np.empty(math.prod(shape), dtype=dtype)
    raw = out.view(np.uint8)
    filled = 0
    while filled < raw.size:  # in chunks: a zip member's readinto reads into a temporary bytes first
        n = member.readinto(raw[filled : filled + _CHUNK_BYTES])
        if not n:
            raise EOFError(f"the data ends after {filled} of {raw.size} bytes")
        filled += n
    out = out.reshape(shape, order="F" if fortran else "C")
    if not out.flags.c_contiguous:  # (not np.ascontiguousarray: it turns a 0-d array into 1-d)
        out = np.ascontiguousarray(out)
    if not out.dtype.isnative:  # big-endian on this host, or the reverse: swap the bytes once, here
        out = out.byteswap(inplace=True).view(out.dtype.newbyteorder("="))
    return out


def _members(zf: zipfile.ZipFile, path) -> dict[str, zipfile.ZipInfo]:
    """The zip's members by array name (``P_.npy`` -> ``P_``); refuses what np.savez never writes."""
    members = {}
    for info in zf.infolist():
        name = info.filename.removesuffix(".npy")
        if info.filename == name or info.is_dir():
            raise ModelFileError(f"{path}: the member {info.filename!r} is not an .npy array; corrupt file")
        if name in members:
            raise ModelFileError(f"{path}: the member {info.filename!r} occurs twice; corrupt or edited file")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 1:
            raise ModelFileError(
                f"{path}: the member {info.filename!r} is encrypted or compressed with method "
                f"{info.compress_type}; tinyrec reads stored or deflated members (np.savez, "
                f"np.savez_compressed)"
            )
        members[name] = info
    return members


def _read_header(zf: zipfile.ZipFile, members: dict, path):
    """The JSON header (the ``__header__`` member), bounded by MAX_HEADER_BYTES."""
    info = members.get(HEADER_KEY)
    if info is None:
        raise ModelFileError(f"{path} has no tinyrec header: it is an .npz but not a tinyrec model file")
    try:
        with zf.open(info) as member:
            shape, fortran, dtype, offset = _read_npy_header(member)
            if dtype != np.uint8 or len(shape) != 1 or shape[0] > MAX_HEADER_BYTES:
                raise ModelFileError(
                    f"{path} has no tinyrec header: its {HEADER_KEY} member is {dtype} of shape {shape}, not "
                    f"the uint8 text of at most {MAX_HEADER_BYTES} bytes that tinyrec writes"
                )
            if info.file_size != offset + shape[0]:
                raise ModelFileError(f"{path}: the header member's size disagrees with its .npy header")
            blob = _read_data(member, shape, fortran, dtype)
    except TinyrecError:
        raise
    except _READ_ERRORS as exc:
        raise _damaged(path, exc, "'s header") from exc

    def unique_keys(pairs):
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            twice = sorted({k for k in keys if keys.count(k) > 1})
            raise ValueError(f"a key occurs twice in one object: {twice}")
        return dict(pairs)

    try:
        return json.loads(blob.tobytes().decode("utf-8"), object_pairs_hook=unique_keys)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ModelFileError(f"{path}: its header is not valid JSON ({exc}); the file is corrupt") from exc


def _checked_member(zf, info, spec: dict, name: str, path) -> tuple[tuple, bool, np.dtype, int]:
    """A member's ``.npy`` header, checked against its declaration, its zip entry and the bound."""
    try:
        with zf.open(info) as member:
            shape, fortran, dtype, offset = _read_npy_header(member)
    except _READ_ERRORS as exc:
        raise _damaged(path, exc, f": array {name!r}") from exc
    declared = _member_dtype(spec["dtype"])
    if list(shape) != spec["shape"] or dtype != declared:
        raise ModelFileError(
            f"{path}: array {name!r} has shape {shape} and dtype {dtype.str}, but the header says "
            f"{tuple(spec['shape'])} and {spec['dtype']}; the file is corrupt"
        )
    check_allocation(shape, dtype, f"{path}: array {name!r}")  # before its data is read
    if info.file_size != offset + math.prod(shape) * dtype.itemsize:
        raise ModelFileError(
            f"{path}: array {name!r} takes {info.file_size} bytes in the zip, but its .npy header describes "
            f"{offset + math.prod(shape) * dtype.itemsize}; the file is corrupt or was edited"
        )
    return shape, fortran, dtype, offset


def read_npz(path, sections: Record | dict | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and check a model file: returns ``(header, arrays)``, arrays in native byte order.

    The header is checked against :data:`CONTAINER` and ``sections`` (see :func:`check_header`),
    then every member's ``.npy`` header against the header's ``arrays`` and :mod:`tinyrec.limits`,
    before any array's data is read. Raises ModelFileError, or AllocationError for a file whose
    arrays would exceed the bound.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a pathlib.Path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(
            f"no model file at {path}; check the path (models are saved with model.save(path))"
        )
    try:
        with open(path, "rb") as f:
            single = f.read(len(np.lib.format.MAGIC_PREFIX)) == np.lib.format.MAGIC_PREFIX
        if single:
            raise ValueError("it holds a single array, not an .npz archive")
        with zipfile.ZipFile(path) as zf:
            return _read_zip(zf, path, sections)
    except TinyrecError:
        raise
    except _READ_ERRORS as exc:
        raise _damaged(path, exc) from exc


def _read_zip(zf: zipfile.ZipFile, path: Path, sections) -> tuple[dict, dict[str, np.ndarray]]:
    members = _members(zf, path)
    header = check_header(_read_header(zf, members, path), path, sections)
    del members[HEADER_KEY]
    listed = header["arrays"]
    if set(listed) != set(members):
        raise ModelFileError(
            f"{path}: the header lists arrays {sorted(set(listed) - set(members))} that are absent and "
            f"the file holds {sorted(set(members) - set(listed))} that the header does not list; "
            f"the file is corrupt"
        )
    described = {name: _checked_member(zf, members[name], spec, name, path) for name, spec in listed.items()}
    total = sum(math.prod(shape) * dtype.itemsize for shape, _, dtype, _ in described.values())
    check_bytes(total, f"{path}: the {len(described)} arrays together")
    arrays = {}
    for name, (shape, fortran, dtype, offset) in described.items():
        try:
            with zf.open(members[name]) as member:
                member.read(offset)  # the .npy header, checked above
                arrays[name] = _read_data(member, shape, fortran, dtype)
        except _READ_ERRORS as exc:
            raise _damaged(path, exc, f": array {name!r}") from exc
    return header, arrays


def to_json(value, name: str):
    """A JSON-able form of a hyperparameter or fitted scalar."""
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, np.random.Generator):
        return None  # a generator's state is not a hyperparameter; the fitted arrays are saved
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, tuple):
        return [to_json(v, name) for v in value]
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    raise TypeError(f"{name}={value!r} cannot be stored in a model file's JSON header")
