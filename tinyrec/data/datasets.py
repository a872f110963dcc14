"""Loaders of real data sets: every MovieLens release and the MovieTweetings 100K snapshot.

Each loader finds the files (``path=`` → ``$TINYREC_DATA/<name>/`` → user cache → verified
download, see :mod:`tinyrec.data.download`), parses the ratings with the byte-level kernel, and
returns :class:`Interactions` whose dense indices follow the sorted raw ids, with item titles and
genres (``"Action|Comedy"``) and, where the release has them, user demographics.

The side information comes as typed feature tables (:mod:`tinyrec.data.features`):
``item_meta`` has ``title`` (text), ``genres`` (multi_hot, ``"|"``) and ``year`` (numeric: the
release year, from ML-100K's release date or the year in a title's parentheses; NaN when absent);
``user_meta`` (ML-100K, ML-1M) has ``age`` (numeric, bucketed by default at MovieLens's age
groups 18, 25, 35, 45, 50, 56), ``gender`` and ``occupation`` (categorical) and ``zip``
(categorical, hashed by default: 795 distinct codes for 943 users in ML-100K).

MovieLens is distributed by GroupLens under terms that forbid redistribution: tinyrec never ships
it, it downloads it from ``files.grouplens.org`` for you.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np

from ..errors import DataError
from .download import Archive, DataSource, resolve
from .features import Column, FeatureTable
from .interactions import Interactions
from .parsing import as_int_ids, read_numeric_table
from .split import finalize_split

__all__ = ["movielens", "movietweetings", "MOVIELENS", "ML100K_FOLDS"]

#: The MovieLens releases: folder name and official archive. MD5s are GroupLens's published
#: ``<zip>.md5`` values; ml-latest-small is re-released without a stable checksum.
MOVIELENS = {
    "100k": ("ml-100k", Archive("ml-100k.zip", "0e33842e24a9c977be4e0107933c0723", 4_924_029)),
    "1m": ("ml-1m", Archive("ml-1m.zip", "c4d9eecfca2ab87c1945afe126590906")),
    "10m": ("ml-10m", Archive("ml-10m.zip", "ce571fd55effeba0271552578f2648bd", folder="ml-10M100K")),
    "20m": ("ml-20m", Archive("ml-20m.zip", "cd245b17a1ae2cc31bb14903e1204af3")),
    "25m": ("ml-25m", Archive("ml-25m.zip", "6b51fb2759a8657d3bfcbfc42b592ada")),
    "latest-small": ("ml-latest-small", Archive("ml-latest-small.zip", None)),
}

#: The predefined ML-100K train/test folds: ``u1``-``u5`` (80,000 / 20,000, test sets disjoint)
#: and ``ua``/``ub`` (exactly 10 test ratings per user).
ML100K_FOLDS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")

#: The MovieTweetings snapshot shipped inside the package (MIT licence; see embedded/LICENSE).
EMBEDDED_MOVIETWEETINGS = Path(__file__).parent / "embedded" / "movietweetings-100k.zip"

MOVIETWEETINGS = Archive(
    "movietweetings-100k.zip", None, home="https://github.com/sidooms/MovieTweetings (snapshots/100K/)"
)


def movielens(name: str, *, path=None, fold: str | None = None, download: bool = True, base_url=None):
    """Load a MovieLens release as :class:`Interactions`, or a predefined ML-100K fold.

    Parameters
    ----------
    name : {"100k", "1m", "10m", "20m", "25m", "latest-small"}
        The release (``"ml-100k"`` style names are accepted too).
    path : str or path-like, optional
        A folder holding the release's files, or its zip.
    fold : {"u1", ..., "u5", "ua", "ub"}, optional
        ML-100K only: return ``(train, test)`` of that predefined fold. Both share the index
        space of the whole ``u.data`` (943 users, 1,682 items). Test ratings of items absent from
        the fold's train are **kept** (the published protocol scores all 20,000); each side's
        ``info["split"]`` report counts them.
    download : bool
        Allow downloading the official archive into the cache when the files are not found.
    base_url : str, optional
        Override the download server (default ``$TINYREC_DOWNLOAD_URL`` or GroupLens).

    Returns
    -------
    Interactions, or (train, test) when ``fold`` is given.
        Ratings are stars (1..5; halves from 10M on), timestamps Unix seconds. ``item_meta`` has
        ``title`` and ``genres`` (plus ``release_date`` for 100K); ``user_meta`` has ``age``,
        ``gender``, ``occupation``, ``zip`` for 100K and 1M. ``user_ids`` / ``item_ids`` are the
        integer MovieLens ids.

    Raises
    ------
    DataError
        Unknown name (the message lists the known ones), files not found or incomplete, a
        malformed line (file and line number), a failed or corrupt download or zip member.
        Truncated files too: every rated movie must have a line in the movies file, and every
        rated user one in the users file when the release has one; ML-100K's ratings must match
        the counts its ``u.info`` states, and each fold's base + test must hold all of them.
    """
    key = str(name).lower().removeprefix("ml-")
    if key not in MOVIELENS:
        raise DataError(f"unknown MovieLens release {name!r}; known: {', '.join(MOVIELENS)}")
    folder, archive = MOVIELENS[key]
    if fold is not None and key != "100k":
        raise DataError(f"fold={fold!r}: predefined folds exist only for 100k ({', '.join(ML100K_FOLDS)})")
    if fold is not None and fold not in ML100K_FOLDS:
        raise DataError(f"unknown ML-100K fold {fold!r}; known: {', '.join(ML100K_FOLDS)}")
    loader = {"100k": _ml100k, "1m": _ml_dat, "10m": _ml_dat}.get(key, _ml_csv)
    required = {
        "100k": ["u.data", "u.item", "u.user"],
        "1m": ["ratings.dat", "movies.dat", "users.dat"],
        "10m": ["ratings.dat", "movies.dat"],
    }.get(key, ["ratings.csv", "movies.csv"])
    if fold is not None:
        required = required + [f"{fold}.base", f"{fold}.test"]
    source = resolve(folder, archive, required, path=path, download=download, base_url=base_url)
    data = loader(source, folder)
    if fold is None:
        return data
    train = _ml100k_part(source, f"{fold}.base", data)
    test = _ml100k_part(source, f"{fold}.test", data)
    if len(train) + len(test) != len(data):  # each fold splits all of u.data
        raise DataError(
            f"{source.location}: {fold}.base + {fold}.test hold {len(train) + len(test):,} ratings but "
            f"u.data has {len(data):,}: a fold file is truncated or corrupt; {_REFETCH}"
        )
    return finalize_split(train, test, f"ml-100k fold {fold}", False, False)


def movietweetings(*, path=None) -> Interactions:
    """Load the MovieTweetings 100K snapshot (Dooms et al., CrowdRec 2013; MIT licence).

    Ratings 0..10 from tweets; 100,000 ratings, 16,554 users, 10,506 movies (density 0.057%).
    Item raw ids are the 7-digit zero-padded IMDb ids as **strings** (``"0114508"``); user raw ids
    are the snapshot's integer pseudonyms. ``item_meta`` has ``title`` and ``genres`` (UTF-8;
    66 movies have no genre: ``""``).

    Files (``ratings.dat``, ``movies.dat``, in a folder or a zip) are looked for in ``path=``,
    then ``$TINYREC_DATA/movietweetings-100k/``, then the copy embedded in the package
    (``tinyrec/data/embedded/movietweetings-100k.zip``), then the user cache. There is no
    download: the error names the source repository.
    """
    import os

    required = ["ratings.dat", "movies.dat"]
    if path is None:
        env = os.environ.get("TINYREC_DATA")
        in_env = bool(env) and (Path(env) / "movietweetings-100k").exists()
        if not in_env and EMBEDDED_MOVIETWEETINGS.is_file():
            path = EMBEDDED_MOVIETWEETINGS
    source = resolve("movietweetings-100k", MOVIETWEETINGS, required, path=path, download=False)
    raw = source.read("ratings.dat")
    values = read_numeric_table(raw, sep="::", n_fields=4, columns=[0, 1, 2, 3], source="ratings.dat")
    where = {"raw": raw, "too_large_fix": _REFETCH}  # errors name the line and say to re-download
    users = as_int_ids(values[:, 0], "ratings.dat", "user", **where)
    items = np.char.zfill(as_int_ids(values[:, 1], "ratings.dat", "movie", **where).astype(str), 7)
    stamps = as_int_ids(values[:, 3], "ratings.dat", "timestamp", **where)
    titles, genres = {}, {}
    for k, line in enumerate(source.read("movies.dat").decode("utf-8").splitlines()):
        if not line:
            continue
        fields = line.split("::")
        if len(fields) != 3:
            raise DataError(f"movies.dat, line {k + 1}: expected 3 '::'-separated fields, got {len(fields)}")
        titles[fields[0]] = fields[1]
        genres[fields[0]] = fields[2]
    _check_covered(source, np.unique(items), titles, "movies.dat", "movies")
    return _typed(
        Interactions.from_raw(
            users,
            items,
            values[:, 2],
            stamps,
            item_meta={"title": titles, "genres": genres},
            info={"name": "movietweetings-100k"},
        )
    )


# ---------------------------------------------------------------------- MovieLens formats
_REFETCH = "delete the data set's folder or zip and load it again to re-download it"


def _check_covered(source: DataSource, distinct_ids, table: dict, filename: str, what: str) -> None:
    """Every rated id (``distinct_ids``, from ``np.unique``) must have a line in ``filename`` (its
    keys in ``table``); a missing one means the file is truncated or corrupt (the official releases
    describe every rated movie and user)."""
    missing = sorted(set(distinct_ids.tolist()) - table.keys())
    if missing:
        raise DataError(
            f"{source.location}: {filename} has no line for {len(missing):,} rated {what} (e.g. "
            f"{missing[0]!r}): the file is truncated or corrupt; {_REFETCH}"
        )


def _check_ml100k_counts(source: DataSource, distinct_users, distinct_items, n_ratings: int) -> None:
    """Compare u.data with the counts that ``u.info`` states ("943 users", "1682 items", ...)."""
    if not source.has("u.info"):
        return
    found = {"users": len(distinct_users), "items": len(distinct_items), "ratings": n_ratings}
    wrong = []
    for line in source.read("u.info").decode("latin-1").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1] in found and int(parts[0]) != found[parts[1]]:
            wrong.append(f"{found[parts[1]]:,} {parts[1]} (u.info states {int(parts[0]):,})")
    if wrong:
        raise DataError(
            f"{source.location}: u.data has {', '.join(wrong)}: u.data is truncated or corrupt; {_REFETCH}"
        )


def _ratings(source: DataSource, filename: str, sep: str, header: bool = False):
    raw = source.read(filename)
    first_line = 1
    if header:
        cut = raw.find(b"\n")
        raw, first_line = (raw[cut + 1 :] if cut >= 0 else b""), 2
    values = read_numeric_table(
        raw, sep=sep, n_fields=4, columns=[0, 1, 2, 3], source=filename, first_line=first_line
    )
    where = {"raw": raw, "first_line": first_line, "too_large_fix": _REFETCH}  # errors name the line
    return (
        as_int_ids(values[:, 0], filename, "user", **where),
        as_int_ids(values[:, 1], filename, "item", **where),
        values[:, 2],
        as_int_ids(values[:, 3], filename, "timestamp", **where),
    )


def _split_lines(source: DataSource, filename: str, sep: str, n_fields: int, encoding: str):
    rows = []
    for k, line in enumerate(source.read(filename).decode(encoding).splitlines()):
        if not line:
            continue
        fields = line.split(sep)
        if len(fields) != n_fields:
            raise DataError(
                f"{filename}, line {k + 1}: expected {n_fields} {sep!r}-separated fields, "
                f"got {len(fields)}: {line[:80]!r}"
            )
        rows.append(fields)
    return rows


def _int_key(text: str, filename: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise DataError(f"{filename}: id {text!r} is not an integer") from None


def _ml100k(source: DataSource, folder: str) -> Interactions:
    users, items, ratings, stamps = _ratings(source, "u.data", "\t")
    distinct_users, distinct_items = np.unique(users), np.unique(items)  # once, for every check below
    _check_ml100k_counts(source, distinct_users, distinct_items, len(users))
    genre_names = []
    if source.has("u.genre"):
        genre_names = [r[0] for r in _split_lines(source, "u.genre", "|", 2, "latin-1")]
    titles, dates, genres = {}, {}, {}
    for fields in _split_lines(source, "u.item", "|", 24, "latin-1"):
        movie = _int_key(fields[0], "u.item")
        titles[movie], dates[movie] = fields[1], fields[2]
        flags = fields[5:]
        names = genre_names if len(genre_names) == len(flags) else [f"genre{j}" for j in range(len(flags))]
        genres[movie] = "|".join(n for n, f in zip(names, flags, strict=True) if f == "1")
    user_meta = _demographics(_split_lines(source, "u.user", "|", 5, "latin-1"), "u.user", (1, 2, 3, 4))
    _check_covered(source, distinct_items, titles, "u.item", "movies")
    _check_covered(source, distinct_users, user_meta["age"], "u.user", "users")
    data = Interactions.from_raw(
        users,
        items,
        ratings,
        stamps,
        item_meta={"title": titles, "genres": genres, "release_date": dates},
        user_meta=user_meta,
        info={"name": folder},
    )
    years = [date[-4:] if date[-4:].isdigit() else "" for date in data.item_meta["release_date"].tolist()]
    return _typed(data, [float(y) if y else np.nan for y in years])


def _demographics(rows, filename: str, order) -> dict:
    """``order`` gives the field of (age, gender, occupation, zip)."""
    meta = {"age": {}, "gender": {}, "occupation": {}, "zip": {}}
    for fields in rows:
        user = _int_key(fields[0], filename)
        meta["age"][user] = _int_key(fields[order[0]], filename)
        meta["gender"][user] = fields[order[1]]
        meta["occupation"][user] = fields[order[2]]
        meta["zip"][user] = fields[order[3]]
    return meta


def _ml100k_part(source: DataSource, filename: str, full: Interactions) -> Interactions:
    users, items, ratings, stamps = _ratings(source, filename, "\t")
    return full.rebuild(
        users=full.user_index(users), items=full.item_index(items), ratings=ratings, timestamps=stamps
    ).with_info(name=f"{full.info['name']}/{filename}")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _ml_dat(source: DataSource, folder: str) -> Interactions:
    """ML-1M and ML-10M: ``::``-separated ``.dat`` files (ML-1M's are Latin-1)."""
    users, items, ratings, stamps = _ratings(source, "ratings.dat", "::")
    titles, genres = {}, {}
    for k, line in enumerate(_decode(source.read("movies.dat")).splitlines()):
        if not line:
            continue
        fields = line.split("::")
        if len(fields) != 3:
            raise DataError(f"movies.dat, line {k + 1}: expected 3 '::'-separated fields, got {len(fields)}")
        movie = _int_key(fields[0], "movies.dat")
        titles[movie], genres[movie] = fields[1], fields[2]
    _check_covered(source, np.unique(items), titles, "movies.dat", "movies")
    user_meta = None
    if source.has("users.dat"):
        rows = _split_lines(source, "users.dat", "::", 5, "latin-1")
        user_meta = _demographics(rows, "users.dat", (2, 1, 3, 4))  # UserID::Gender::Age::Occupation::Zip
        _check_covered(source, np.unique(users), user_meta["age"], "users.dat", "users")
    return _typed(
        Interactions.from_raw(
            users,
            items,
            ratings,
            stamps,
            item_meta={"title": titles, "genres": genres},
            user_meta=user_meta,
            info={"name": folder},
        )
    )


def _ml_csv(source: DataSource, folder: str) -> Interactions:
    """ML-20M, ML-25M, ml-latest-small: ``ratings.csv`` and ``movies.csv`` with headers, UTF-8."""
    users, items, ratings, stamps = _ratings(source, "ratings.csv", ",", header=True)
    titles, genres = {}, {}
    reader = csv.reader(io.StringIO(source.read("movies.csv").decode("utf-8")))
    next(reader, None)  # header: movieId,title,genres
    for k, fields in enumerate(reader):
        if len(fields) != 3:
            raise DataError(f"movies.csv, line {k + 2}: expected 3 fields, got {len(fields)}")
        movie = _int_key(fields[0], "movies.csv")
        titles[movie] = fields[1]
        genres[movie] = "" if fields[2] == "(no genres listed)" else fields[2]
    _check_covered(source, np.unique(items), titles, "movies.csv", "movies")
    return _typed(
        Interactions.from_raw(
            users,
            items,
            ratings,
            stamps,
            item_meta={"title": titles, "genres": genres},
            info={"name": folder},
        )
    )


# ---------------------------------------------------------------------- feature tables
#: MovieLens's age groups (ML-1M's users.dat codes an age by its group's first year).
ML_AGE_EDGES = (18, 25, 35, 45, 50, 56)
_USER_KINDS = {
    "age": Column(np.zeros(0), "numeric", encoding="bucket", edges=ML_AGE_EDGES),
    "gender": "categorical",
    "occupation": "categorical",
    "zip": Column(np.zeros(0, dtype=str), "categorical", encoding="hash", buckets=64),
}
_YEAR = re.compile(r"\((\d{4})\)\s*$")


def _typed(data: Interactions, years=None) -> Interactions:
    """``data`` with typed feature tables (the module docstring): kinds declared, not inferred;
    ``years`` (one per item) or, by default, the year in each title's final parentheses."""
    if years is None:
        found = [_YEAR.search(title) for title in data.item_meta["title"].tolist()]
        years = [float(m.group(1)) if m else np.nan for m in found]
    declared = {"title": "text", "genres": "multi_hot", "release_date": "text"}
    item_kinds = {name: kind for name, kind in declared.items() if name in data.item_meta}
    items = FeatureTable.from_arrays(data.item_meta, kinds=item_kinds)
    items = items.with_columns(year=Column(np.array(years, dtype=np.float64), "numeric"))
    users = data.user_meta
    if "age" in users:
        users = FeatureTable.from_arrays(users, kinds=_USER_KINDS)
    return data.with_meta(user_meta=users, item_meta=items)
