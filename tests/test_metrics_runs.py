"""tinyrec.metrics.runs: a TREC run file, a ranx-style dict and ragged lists give the metrics of the
equivalent matrices.

A matrix (scores with ``-inf`` non-candidates, graded relevance, a user with no relevant item, ties)
goes out as a run and qrels (``to_run``/``to_qrels``), as TREC files, and comes back through
``from_run``: every ranking metric, under every tie rule and both ``empty`` conventions, must be the
matrix's. The tie rules other than an explicit order do not depend on the order of the columns;
trec_eval's order (``trec_ties``) is the matrix's reversed columns for ``to_run``'s ids.
"""

import numpy as np
import pytest

from tinyrec import metrics
from tinyrec.errors import DataError, NonFiniteError

K_VALUES = (1, 3, 7, None)


def _matrix(seed: int):
    rng = np.random.default_rng(seed)
    scores = rng.integers(1, 5, (6, 9)) / 4.0  # ties in every row
    relevance = rng.integers(0, 3, (6, 9)) * (rng.random((6, 9)) < 0.5).astype(np.float64)
    scores[rng.random((6, 9)) < 0.2] = -np.inf  # non-candidates ...
    relevance[np.isneginf(scores)] = 0.0  # ... are never relevant
    relevance[2] = 0.0  # a user with no relevant item
    relevance[3, np.flatnonzero(np.isfinite(scores[3]))[0]] = 1.0
    return scores, relevance


def _every_metric(scores, relevance, k, ties, empty):
    """Every ranking metric per user; precision only with a cut-off (with ``k=None`` it divides by
    the matrix's width, which padding changes: a run's matrix is as wide as its longest query)."""
    common = {"ties": ties, "empty": empty, "per_user": True, "unretrieved": "miss"}
    functions = {"hr": metrics.hit_rate, "recall": metrics.recall, "ndcg": metrics.ndcg, "mrr": metrics.mrr}
    out = {name: fn(scores, relevance, k, **common) for name, fn in functions.items()}
    if k is not None:
        out["precision"] = metrics.precision(scores, relevance, k, **common)
    for denominator in ("min(k,n_rel)", "n_rel", "hits"):
        out["map " + denominator] = metrics.map(scores, relevance, k, denominator=denominator, **common)
    out["ndcg exp"] = metrics.ndcg(scores, relevance, k, gain="exponential", **common)
    return out


def _write_trec(folder, run: dict, qrels: dict):
    """``run`` and ``qrels`` as TREC files, the run's lines shuffled (the score orders, not the line)."""
    lines = [f"{q} Q0 {d} 0 {s!r} tag" for q, docs in run.items() for d, s in docs.items()]
    order = np.random.default_rng(0).permutation(len(lines))
    (folder / "run.txt").write_text("\n".join(lines[j] for j in order) + "\n")
    (folder / "qrels.txt").write_text(
        "".join(f"{q} 0 {d} {g}\n" for q, docs in qrels.items() for d, g in docs.items())
    )
    return folder / "run.txt", folder / "qrels.txt"


@pytest.mark.parametrize("seed", range(4))
def test_a_trec_file_and_a_dict_give_the_metrics_of_the_matrices(seed, tmp_path):
    scores, relevance = _matrix(seed)
    # zero grades kept: a query with no relevant document is judged, so it is evaluated (trec_eval)
    run, qrels = metrics.to_run(scores), metrics.to_qrels(relevance, keep_zero=True)
    files = _write_trec(tmp_path, run, qrels)
    from_dict, from_files = metrics.from_run(run, qrels), metrics.from_run(*files)
    assert from_dict.query_ids == [f"q{u}" for u in range(len(scores))]
    assert sorted(from_files.query_ids) == from_dict.query_ids
    rows = [from_files.query_ids.index(q) for q in from_dict.query_ids]  # the file's query order
    for k in K_VALUES:
        for empty in ("nan", "zero"):
            for ties in ("pessimistic", "optimistic", "average"):
                want = _every_metric(scores, relevance, k, ties, empty)
                for m, pick in ((from_dict, slice(None)), (from_files, rows)):
                    got = _every_metric(m.scores[pick], m.relevance[pick], k, ties, empty)
                    for name in want:
                        np.testing.assert_allclose(got[name], want[name], rtol=0, atol=1e-12, err_msg=name)
            # trec_eval's order: equal scores by document id, descending = the columns reversed
            want = _every_metric(scores, relevance, k, -np.arange(scores.shape[1]), empty)
            got = _every_metric(from_dict.scores, from_dict.relevance, k, from_dict.trec_ties, empty)
            for name in want:
                np.testing.assert_allclose(got[name], want[name], rtol=0, atol=1e-12, err_msg=name)


def test_ragged_lists_are_padded_and_unretrieved_items_are_misses():
    """Each user's ranked recommendations (no scores) and held-out items, as lists of lists."""
    recommended = [["a", "b", "c"], ["d"], [], ["e", "f"]]
    held_out = [["b", "z"], ["d"], ["y"], []]
    m = metrics.from_run(recommended, held_out)
    assert m.query_ids == [0, 1, 2, 3] and m.scores.shape == (4, 4)  # 3 recommended + 1 held-out missing
    assert m.doc_ids[0].tolist() == ["a", "b", "c", "z"] and m.doc_ids[1].tolist() == ["d", None, None, None]
    np.testing.assert_array_equal(m.scores[0], [-1.0, -2.0, -3.0, -np.inf])  # ranks as scores
    np.testing.assert_array_equal(m.relevance[0], [0, 1, 0, 1])
    np.testing.assert_array_equal(m.relevance[2], [1, 0, 0, 0])  # "y" not recommended: a miss
    args = (m.scores, m.relevance, 3)
    kwargs = {"per_user": True, "unretrieved": "miss"}
    np.testing.assert_array_equal(metrics.hit_rate(*args, **kwargs), [1, 1, 0, np.nan])
    np.testing.assert_array_equal(metrics.recall(*args, **kwargs), [0.5, 1, 0, np.nan])
    np.testing.assert_array_equal(metrics.precision(*args, **kwargs), [1 / 3, 1 / 3, 0, np.nan])
    np.testing.assert_array_equal(metrics.mrr(*args, **kwargs), [0.5, 1, 0, np.nan])
    ideal = 1 + 1 / np.log2(3)  # "b" and "z" at positions 1 and 2
    np.testing.assert_allclose(metrics.ndcg(*args, **kwargs), [1 / np.log2(3) / ideal, 1, 0, np.nan])
    with pytest.raises(DataError, match="unretrieved='miss'"):
        metrics.hit_rate(*args)  # a relevant item at -inf is an error unless it is declared a miss


def test_queries_qrels_keeps_every_judged_query():
    run = {"q1": {"a": 2.0, "b": 1.0}}
    qrels = {"q1": {"b": 1}, "q2": {"c": 1}, "q3": {"a": 0}}
    assert metrics.from_run(run, qrels).query_ids == ["q1"]
    m = metrics.from_run(run, qrels, queries="qrels")
    assert m.query_ids == ["q1", "q2", "q3"]
    hr = metrics.hit_rate(m.scores, m.relevance, 2, per_user=True, unretrieved="miss", empty="zero")
    np.testing.assert_array_equal(hr, [1.0, 0.0, 0.0])


def test_round_trip_keeps_ids_and_grades():
    scores, relevance = np.array([[0.5, -np.inf, 0.25]]), np.array([[2.0, 0.0, 0.5]])
    run = metrics.to_run(scores, doc_ids=["x", "y", "z"], query_ids=["alice"])
    assert run == {"alice": {"x": 0.5, "z": 0.25}}
    qrels = metrics.to_qrels(relevance, doc_ids=["x", "y", "z"], query_ids=["alice"])
    assert qrels == {"alice": {"x": 2, "z": 0.5}} and isinstance(qrels["alice"]["x"], int)
    assert metrics.to_qrels(relevance, keep_zero=True)["q0"] == {"d0": 2, "d1": 0, "d2": 0.5}


def test_bad_files_and_dicts_are_named(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("q1 Q0 d1 1 0.5 tag\nq1 Q0 d2 2 0.4\n")
    with pytest.raises(DataError, match=r"bad.txt, line 2: 5 fields where a run line has 6"):
        metrics.read_trec_run(bad)
    bad.write_text("q1 Q0 d1 1 high tag\n")
    with pytest.raises(DataError, match="line 1: the score 'high' is not a number"):
        metrics.read_trec_run(bad)
    bad.write_text("q1 Q0 d1 1 nan tag\n")
    with pytest.raises(NonFiniteError, match="must be finite"):
        metrics.read_trec_run(bad)
    bad.write_text("q1 Q0 d1 1 0.5 tag\nq1 Q0 d1 2 0.4 tag\n")
    with pytest.raises(DataError, match="'d1' is listed twice for query 'q1'"):
        metrics.read_trec_run(bad)
    bad.write_bytes(b"q1 0 d1 \xff\n")
    with pytest.raises(DataError, match="line 1: not UTF-8"):
        metrics.read_trec_qrels(bad)
    with pytest.raises(DataError, match="no run file"):
        metrics.read_trec_run(tmp_path / "absent.txt")
    with pytest.raises(DataError, match="no query in common .* '1' is not 1"):
        metrics.from_run({"1": {"a": 1.0}}, {1: {"a": 1}})
    with pytest.raises(NonFiniteError, match="document 'a' has score inf"):
        metrics.from_run({"q": {"a": float("inf")}}, {"q": {"a": 1}})
    with pytest.raises(DataError, match="has score 'high': not a number"):
        metrics.from_run({"q": {"a": "high"}}, {"q": {"a": 1}})
    with pytest.raises(DataError, match="lists a document twice"):
        metrics.from_run({"q": ["a", "a"]}, {"q": ["a"]})
    with pytest.raises(DataError, match="a file path, a mapping"):
        metrics.from_run(42, {"q": ["a"]})
    with pytest.raises(ValueError, match="queries='all'"):
        metrics.from_run({"q": ["a"]}, {"q": ["a"]}, queries="all")
    with pytest.raises(DataError, match="query 'q' has run entry 5; give"):
        metrics.from_run({"q": 5}, {"q": ["a"]})  # a bare number is neither a mapping nor a list
    with pytest.raises(DataError, match="query 'q' has qrels entry 'abc'"):
        metrics.from_run({"q": ["a"]}, {"q": "abc"})  # a string would be read as documents a, b, c
    with pytest.raises(DataError, match="has run entry"):
        metrics.from_run({"q": [["a"], ["b"]]}, {"q": ["a"]})  # unhashable documents
    with pytest.raises(NonFiniteError, match="scores holds NaN"):
        metrics.to_run([[np.nan, 1.0]])
    with pytest.raises(NonFiniteError, match="relevance holds NaN"):
        metrics.to_qrels([[np.nan, 1.0]])
