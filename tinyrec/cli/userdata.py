"""``--data PATH``: your own ratings file, or a folder, for ``train``, ``evaluate`` and ``recommend``.

``--data`` takes a data set's name (``tinyrec datasets``) or, for anything else, a path, which must
exist. How a path is read (README's "Your own data" shows an example):

* **a file** is a delimited ratings file, one interaction per line, read with
  :func:`tinyrec.data.from_csv`:

  - the separator is ``--sep``, else a tab for a ``.tsv``/``.tab`` file, else the first of a tab,
    ``::``, ``,``, ``;`` and ``|`` found in the first line;
  - the columns are ``--columns USER,ITEM[,RATING[,TIMESTAMP]]``, each a 0-based index or a
    name from the header line, ``-`` for none; by default ``0,1,2,3``: user, item, rating and
    timestamp, as far as the first line has fields (two fields: implicit feedback, all ones);
    more fields are ignored;
  - a header line is recognised when its id fields are not numbers (or when ``--columns`` names
    columns); ``--header yes``/``no`` says it outright;
  - ids are read as integers when every id is a decimal integer, else *all* as text
    (``from_csv(..., string_ids="auto")``): the command says which;
  - a repeated ``(user, item)`` pair keeps its latest row (a split needs distinct pairs).

* **a folder** holding a MovieLens release's files (``u.data`` and ``u.item``; ``ratings.dat`` and
  ``movies.dat``; ``ratings.csv`` and ``movies.csv``) is read by tinyrec's MovieLens loader, with the
  titles; any other folder must hold one ratings file (``ratings.*``, or a single ``.csv``/``.tsv``
  file), read as above. ``--sep`` or ``--columns`` on a folder read its ratings file as above too.

A file has no predefined folds: ``--split`` is ``loo`` (each user's latest interaction held out, or a
random one, seeded, when the file has no timestamps) or ``holdout`` (a random 20%, seeded).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..data import from_csv, movielens
from ..data.preprocess import drop_duplicates
from ..errors import DataError
from .registry import CLIError

#: the separators tried, in this order, on a file's first line when ``--sep`` is not given
SEPARATORS = ("\t", "::", ",", ";", "|")
#: a MovieLens release's files -> the release whose loader reads them (the folder may be any copy)
MOVIELENS_LAYOUTS = (("u.data", "u.item", "100k"), ("ratings.dat", "movies.dat", "1m"),
                     ("ratings.csv", "movies.csv", "latest-small"))  # fmt: skip
_RATINGS_SUFFIXES = (".csv", ".tsv", ".tab", ".dat", ".txt", ".data")
_ROLES = ("user", "item", "rating", "timestamp")


@dataclass(frozen=True)
class ReadOptions:
    """How to read a ratings file: ``--sep``, ``--columns`` and ``--header`` as given (None: not given)."""

    sep: str | None = None
    columns: str | None = None
    header: str | None = None  # "yes", "no" or None (recognised)

    def given(self) -> bool:
        return any(v is not None for v in (self.sep, self.columns, self.header))

    def as_record(self) -> dict[str, str]:
        """The options given, for the model file's provenance (so evaluate reads the file the same way)."""
        return {name: value for name, value in vars(self).items() if value is not None}


def read_path(text: str, options: ReadOptions, say) -> object:
    """The :class:`~tinyrec.data.Interactions` at the path ``text`` (a file or a folder; see the module).

    ``say`` prints a line on stderr (what was read, and how). Raises :class:`CLIError` when the
    path does not exist or cannot be read as ratings, naming the option that fixes it.
    """
    path = Path(text).expanduser()
    if not path.exists():
        raise CLIError(
            f"--data {text}: no such data set or file; a data set is one of `tinyrec datasets`, your own "
            f"data a CSV/TSV file or a folder (see README, 'Your own data')"
        )
    if path.is_dir() and not options.given():
        for ratings, items, release in MOVIELENS_LAYOUTS:
            if (path / ratings).is_file() and (path / items).is_file():
                say(f"reading {text}: MovieLens files ({ratings}, {items}) ...")
                return movielens(release, path=path, download=False).with_info(name=text)
    file = _ratings_file(path) if path.is_dir() else path
    return _read_file(file, text, options, say)


def _ratings_file(folder: Path) -> Path:
    """The one ratings file of ``folder``: ``ratings.*``, else the only ``.csv``/``.tsv`` file."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in _RATINGS_SUFFIXES)
    named = [p for p in files if p.stem.lower() == "ratings"]
    tables = [p for p in files if p.suffix.lower() in (".csv", ".tsv")]
    for candidates in (named, tables):
        if len(candidates) == 1:
            return candidates[0]
    shown = ", ".join(p.name for p in (named or tables or files)[:6]) or "none"
    raise CLIError(
        f"--data {folder}: cannot tell which file holds the ratings (candidates: {shown}); pass the file "
        f"itself as --data"
    )


def _read_file(file: Path, label: str, options: ReadOptions, say):
    first = _first_line(file)
    sep = _separator(options.sep, file, first)
    columns = _columns(options.columns, first, sep, label)
    header = {"yes": True, "no": False, None: "infer"}[options.header]
    shown = " ".join(f"{role}={c}" for role, c in zip(_ROLES, columns, strict=True) if c is not None)
    say(f"reading {label}: separator {sep!r}, columns {shown} ...")
    user, item, rating, timestamp = columns
    try:
        data = from_csv(file, user=user, item=item, rating=rating, timestamp=timestamp, sep=sep,
                        header=header, string_ids="auto")  # fmt: skip
    except DataError as exc:
        given = f"--sep {sep!r} --columns {','.join('-' if c is None else str(c) for c in columns)}"
        raise CLIError(
            f"{exc} (read with {given}: fix the file, or pass the --sep, --columns or --header yes/no "
            f"that describe it)"
        ) from None
    if data.has_duplicates():  # an event log may repeat a pair; a split may not
        before = len(data)
        data = drop_duplicates(data, keep="last")
        say(f"  dropped {before - len(data):,} repeated (user, item) pairs, keeping each pair's latest row")
    kind = "text" if data.user_ids.dtype.kind == "U" or data.item_ids.dtype.kind == "U" else "integers"
    say(
        f"  {len(data):,} interactions, {data.n_users:,} users, {data.n_items:,} items; ids read as {kind}"
        + ("" if data.timestamps is not None else "; no timestamps")
        + ("" if rating is not None else "; implicit feedback (no rating column)")
    )
    return data.with_info(name=label)


def _first_line(file: Path) -> str:
    """The first non-empty line of ``file`` (a byte-order mark dropped), for guessing its layout."""
    with open(file, "rb") as fh:
        head = fh.read(1 << 16)
    for line in head.removeprefix(b"\xef\xbb\xbf").splitlines():
        if line.strip():
            return line.decode("utf-8", errors="replace")
    raise CLIError(f"--data {file}: the file is empty")


def _separator(given: str | None, file: Path, first: str) -> str:
    if given is not None:
        aliases = {"\\t": "\t", "tab": "\t", "TAB": "\t", "space": " "}
        return aliases.get(given, given)
    if file.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    for sep in SEPARATORS:
        if sep in first:
            return sep
    raise CLIError(
        f"--data {file}: cannot tell the separator from the first line {first[:60]!r} (none of "
        f"{', '.join(repr(s) for s in SEPARATORS)}); pass --sep"
    )


def _columns(given: str | None, first: str, sep: str, label: str) -> tuple:
    """``(user, item, rating, timestamp)``: 0-based indices, header names, or None (no such column)."""
    if given is None:
        n_fields = len(first.split(sep))
        if n_fields < 2:
            raise CLIError(f"--data {label}: the first line has one field with --sep {sep!r}; pass --sep")
        return tuple(c if c < n_fields else None for c in range(4))
    parts = [part.strip() for part in given.split(",")]
    if not 2 <= len(parts) <= 4:
        raise CLIError(f"--columns {given!r}: give USER,ITEM[,RATING[,TIMESTAMP]], e.g. --columns 0,1,2,3")
    parts += ["-"] * (4 - len(parts))
    out = []
    for role, part in zip(_ROLES, parts, strict=True):
        if part in ("-", ""):
            if role in ("user", "item"):
                raise CLIError(f"--columns {given!r}: the {role} column is required")
            out.append(None)
        else:
            out.append(int(part) if part.isdigit() else part)
    return tuple(out)
