"""Runs and qrels (TREC files, ranx-style dicts, ragged lists) as the dense matrices the metrics take.

Information-retrieval tools describe a ranking as a **run**, each query's retrieved documents with
their scores, and the truth as **qrels**, each query's judged documents with their relevance grade:

* ranx and pytrec_eval take nested dicts, ``{query: {doc: score}}`` and ``{query: {doc: grade}}``;
* trec_eval reads files: a run line is ``query Q0 doc rank score tag`` (the rank is ignored: the
  score orders), a qrels line ``query iteration doc grade``;
* a recommender's output is often ragged lists: each user's ranked items, without scores, and each
  user's held-out items.

:func:`from_run` turns any of them into a :class:`RunMatrices`: one row per query, one column per
document of that query (its retrieved documents, then its relevant documents the run did not
retrieve), padded to the longest row. Padding is ``-inf`` with relevance 0 (not a candidate); a
relevant document the run did not retrieve is ``-inf`` with its grade, which the metrics count as a
miss with ``unretrieved="miss"``: it is in ``n_rel`` and the ideal DCG, never in the list, as in
trec_eval and ranx. So::

    m = from_run("run.txt", "qrels.txt")
    metrics.ndcg(m.scores, m.relevance, 10, ties=m.trec_ties, empty="zero", unretrieved="miss")

gives trec_eval's ``ndcg_cut_10`` (docs/metrics.md has the settings of every library).
:func:`to_run` and :func:`to_qrels` go the other way, to hand a matrix to another library.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ..errors import DataError, NonFiniteError, ShapeError
from ..limits import check_allocation, check_bytes

__all__ = ["RunMatrices", "from_run", "read_trec_run", "read_trec_qrels", "to_run", "to_qrels"]

QUERIES = ("run", "qrels")


class RunMatrices(NamedTuple):
    """A run and its qrels as matrices: row ``q`` is query ``query_ids[q]``.

    scores : (n_queries, width) float64
        The run's scores; ``-inf`` for a relevant document the run did not retrieve and for padding.
    relevance : (n_queries, width) float64
        Each column's grade from the qrels (0 when not judged or judged irrelevant).
    query_ids : list of str
        The queries, in the order of the rows.
    doc_ids : (n_queries, width) object
        Each column's document id; ``None`` for padding.
    trec_ties : (n_queries, width) float64
        trec_eval's tie order as keys for ``ties=``: equal scores ranked by document id, the greatest
        first (``strcmp`` order, descending); padding last.
    """

    scores: np.ndarray
    relevance: np.ndarray
    query_ids: list
    doc_ids: np.ndarray
    trec_ties: np.ndarray


def _source_name(source) -> str:
    return os.fspath(source) if isinstance(source, (str, os.PathLike)) else "the dict"


def _lines(path, n_fields: int, what: str, example: str):
    """``(line_number, fields)`` of each non-blank line of a whitespace-separated text file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"no {what} file at {path!r}")
    check_bytes(os.path.getsize(path), f"the {what} file {path}")
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError(f"{path}, line {number}: not UTF-8 text") from None
            fields = line.split()
            if not fields:
                continue
            if len(fields) != n_fields:
                raise DataError(
                    f"{path}, line {number}: {len(fields)} fields where a {what} line has {n_fields} "
                    f"({example}): {line.strip()[:80]!r}"
                )
            yield number, fields


def _number(text: str, path: str, number: int, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{path}, line {number}: the {what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise NonFiniteError(f"{path}, line {number}: the {what} is {text}; it must be finite")
    return value


def read_trec_run(path) -> dict:
    """A TREC run file as ``{query: {doc: score}}`` (insertion order: the file's).

    Each line is ``query Q0 doc rank score tag`` (whitespace-separated, six fields); the rank
    column is ignored, as trec_eval ignores it. A document listed twice for one query is an error.
    """
    run: dict = {}
    for number, (query, _, doc, _, score, _) in _lines(path, 6, "run", "query Q0 doc rank score tag"):
        docs = run.setdefault(query, {})
        if doc in docs:
            raise DataError(
                f"{os.fspath(path)}, line {number}: document {doc!r} is listed twice for query {query!r}"
            )
        docs[doc] = _number(score, os.fspath(path), number, "score")
    return run


def read_trec_qrels(path) -> dict:
    """A TREC qrels file as ``{query: {doc: grade}}``: lines ``query iteration doc grade`` (four
    fields, the iteration ignored); a document judged twice for one query keeps its last grade."""
    qrels: dict = {}
    for number, (query, _, doc, grade) in _lines(path, 4, "qrels", "query iteration doc grade"):
        qrels.setdefault(query, {})[doc] = _number(grade, os.fspath(path), number, "grade")
    return qrels


def _as_mapping(value, what: str, source: str) -> dict:
    """A run or qrels as ``{query: entries}``: a mapping as it is, a sequence of rows by row index."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (list, tuple)):
        return dict(enumerate(value))
    raise DataError(
        f"the {what} must be a file path, a mapping {{query: ...}} or a list with one entry per query, "
        f"got {type(value).__name__}"
    )


def _ranked(entries, query, source: str) -> dict:
    """One query's run entries as ``{doc: score}``: a mapping of scores, or documents in rank order
    (then the score of position ``p`` is ``−p``, so the given order is the ranking)."""
    if isinstance(entries, Mapping):
        scores = {}
        for doc, score in entries.items():
            if not isinstance(score, numbers.Real) or isinstance(score, bool):
                raise DataError(
                    f"{source}: query {query!r}, document {doc!r} has score {score!r}: not a number"
                )
            if not math.isfinite(score):
                raise NonFiniteError(f"{source}: query {query!r}, document {doc!r} has score {score}")
            scores[doc] = float(score)
        return scores
    docs = _doc_list(entries, query, source, "run", ordered=True)
    if len(set(docs)) != len(docs):
        raise DataError(f"{source}: query {query!r} lists a document twice")
    return {doc: -float(p) for p, doc in enumerate(docs, start=1)}


def _graded(entries, query, source: str) -> dict:
    """One query's judgments as ``{doc: grade}``: a mapping of grades (negative grades are 0, as
    trec_eval reads them), or a collection of relevant documents (grade 1 each)."""
    if isinstance(entries, Mapping):
        grades = {}
        for doc, grade in entries.items():
            if not isinstance(grade, numbers.Real) or isinstance(grade, bool) or not math.isfinite(grade):
                raise DataError(
                    f"{source}: query {query!r}, document {doc!r} has grade {grade!r}: not a number"
                )
            grades[doc] = max(float(grade), 0.0)
        return grades
    return dict.fromkeys(_doc_list(entries, query, source, "qrels", ordered=False), 1.0)


def _doc_list(entries, query, source: str, what: str, *, ordered: bool) -> list:
    """One query's documents given as a list (tuple, 1-D array; a set too when ``not ordered``)."""
    kinds = (list, tuple, np.ndarray) if ordered else (list, tuple, np.ndarray, set, frozenset)
    docs = np.asarray(entries).tolist() if isinstance(entries, np.ndarray) else entries
    if not isinstance(entries, kinds) or any(not isinstance(d, (str, numbers.Integral)) for d in docs):
        raise DataError(
            f"{source}: query {query!r} has {what} entry {entries!r:.60}; give {{doc: number}} or a list of "
            f"document ids (str or int){', in rank order' if ordered else ''}"
        )
    return list(docs)


def _trec_keys(docs: list) -> np.ndarray:
    """Tie keys of one row's documents: 0 for the greatest id (as text), 1 for the next, ..."""
    names = [str(d) for d in docs]
    order = sorted(range(len(names)), key=lambda j: names[j].encode("utf-8"), reverse=True)
    keys = np.empty(len(names))
    keys[order] = np.arange(len(names))
    return keys


def from_run(run, qrels, *, queries: str = "run") -> RunMatrices:
    """A run and its qrels as the matrices the ranking metrics take.

    Parameters
    ----------
    run : path, mapping or list
        A TREC run file (:func:`read_trec_run`); ``{query: {doc: score}}`` (ranx, pytrec_eval);
        ``{query: [doc, ...]}`` with each query's documents in rank order (no scores); or a list of
        such entries, one per query (query ``i`` is the ``i``-th: ragged lists of recommendations).
    qrels : path, mapping or list
        A TREC qrels file (:func:`read_trec_qrels`); ``{query: {doc: grade}}``; ``{query: [doc, ...]}``
        (each listed document relevant, grade 1); or a list, one entry per query. Grades are
        numbers, negative ones read as 0; ``> 0`` is relevant.
    queries : {"run", "qrels"}
        The rows: ``"run"`` (default), the run's queries that have judgments (trec_eval's default;
        a query with judgments but no relevant document stays, and scores 0 under ``empty="zero"``);
        ``"qrels"``, every judged query, those absent from the run with nothing retrieved (trec_eval
        ``-c``; ranx needs the run and the qrels to have the same queries).

    Returns
    -------
    RunMatrices
        Row ``q``: the run's documents of query ``q`` in the run's order, then its relevant documents
        the run lacks (score ``-inf``, their grade), then padding (``-inf``, 0).

    Notes
    -----
    Call the metrics with ``unretrieved="miss"`` (a relevant document the run lacks is a miss, as in
    trec_eval and ranx), and ``ties=m.trec_ties`` for trec_eval's tie order.
    """
    if queries not in QUERIES:
        raise ValueError(f"queries={queries!r} is not one of {QUERIES}")
    run_source, qrels_source = _source_name(run), _source_name(qrels)
    if isinstance(run, (str, os.PathLike)):
        run = read_trec_run(run)
    if isinstance(qrels, (str, os.PathLike)):
        qrels = read_trec_qrels(qrels)
    run, qrels = _as_mapping(run, "run", run_source), _as_mapping(qrels, "qrels", qrels_source)
    rows = [q for q in run if q in qrels] if queries == "run" else list(qrels)
    if not rows:
        raise DataError(
            f"the run and the qrels have no query in common (run: {len(run)} queries, qrels: {len(qrels)}); "
            "check that both use the same query ids (as the same type: '1' is not 1)"
        )
    ranked = [_ranked(run.get(q, {}), q, run_source) for q in rows]
    graded = [_graded(qrels[q], q, qrels_source) for q in rows]
    # each row: the retrieved documents, then the relevant ones the run lacks
    docs = [list(r) + [d for d, g in j.items() if g > 0 and d not in r]
            for r, j in zip(ranked, graded, strict=True)]  # fmt: skip
    width = max(1, max(len(d) for d in docs))
    check_allocation((len(rows), width), np.float64, "the run's matrices (n_queries x the longest row)")
    scores = np.full((len(rows), width), -np.inf)
    relevance = np.zeros((len(rows), width))
    doc_ids = np.full((len(rows), width), None, dtype=object)
    trec_ties = np.tile(np.arange(width, dtype=np.float64), (len(rows), 1))  # padding: any order, last
    for q, (row, r, j) in enumerate(zip(docs, ranked, graded, strict=True)):
        n = len(row)
        scores[q, : len(r)] = list(r.values())
        relevance[q, :n] = [j.get(d, 0.0) for d in row]
        doc_ids[q, :n] = row
        trec_ties[q, :n] = _trec_keys(row)
    return RunMatrices(scores, relevance, rows, doc_ids, trec_ties)


def _column_names(n: int) -> list[str]:
    """``d0 .. d{n-1}`` zero-padded (``d07``), so that their text order is their column order."""
    digits = len(str(max(n - 1, 0)))
    return [f"d{j:0{digits}d}" for j in range(n)]


def _matrix(values, name: str) -> np.ndarray:
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{name} must be a 2-D array of numbers (n_queries, n_candidates)") from None
    if values.ndim != 2:
        raise ShapeError(f"{name} must be 2-D (n_queries, n_candidates), got shape {values.shape}")
    if np.isnan(values).any():
        raise NonFiniteError(f"{name} holds NaN; a missing entry is -inf in scores, 0 in relevance")
    return values


def to_run(scores, *, doc_ids=None, query_ids=None) -> dict:
    """A score matrix as a ranx/pytrec_eval run ``{query: {doc: score}}`` (``-inf`` entries left out).

    ``query_ids`` default to ``"q0", "q1", ...`` and ``doc_ids`` (one list for every row) to
    ``"d0", "d1", ...`` zero-padded, so that the documents' text order is their column order:
    trec_eval's tie order (ids descending) is then the columns in decreasing order.
    """
    scores = _matrix(scores, "scores")
    docs = _column_names(scores.shape[1]) if doc_ids is None else list(doc_ids)
    names = [f"q{i}" for i in range(scores.shape[0])] if query_ids is None else list(query_ids)
    if len(docs) != scores.shape[1] or len(names) != scores.shape[0]:
        raise ShapeError(f"{len(names)} query ids and {len(docs)} doc ids for scores of shape {scores.shape}")
    return {q: {d: float(s) for d, s in zip(docs, row, strict=True) if s != -np.inf}
            for q, row in zip(names, scores, strict=True)}  # fmt: skip


def to_qrels(relevance, *, doc_ids=None, query_ids=None, keep_zero: bool = False) -> dict:
    """A relevance matrix as qrels ``{query: {doc: grade}}``, ids as in :func:`to_run`; grades are
    ints when they are whole numbers. Zero grades are left out unless ``keep_zero``."""
    relevance = _matrix(relevance, "relevance")
    docs = _column_names(relevance.shape[1]) if doc_ids is None else list(doc_ids)
    names = [f"q{i}" for i in range(relevance.shape[0])] if query_ids is None else list(query_ids)
    if len(docs) != relevance.shape[1] or len(names) != relevance.shape[0]:
        raise ShapeError(
            f"{len(names)} query ids, {len(docs)} doc ids for relevance of shape {relevance.shape}"
        )

    def grade(g):
        return int(g) if float(g).is_integer() else float(g)

    return {q: {d: grade(g) for d, g in zip(docs, row, strict=True) if keep_zero or g != 0}
            for q, row in zip(names, relevance, strict=True)}  # fmt: skip
