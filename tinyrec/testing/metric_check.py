"""``check_metric``: which of tinyrec's conventions another library's ranking metric follows.

Libraries agree on what NDCG@k or MAP@k measures and differ on a few choices: how equal scores are
ordered, what a user with no relevant item scores, what average precision is divided by, the gain
of a graded item. tinyrec makes each choice an argument of its metrics (:mod:`tinyrec.metrics`), so
a function from another library can be run on small cases designed to tell the choices apart and
compared with every combination of them:

================  ============================================================================
``ties``          ``"pessimistic"``, ``"optimistic"``, ``"average"``, ``"column order"`` (equal
                  scores by column, the lower first: a stable sort), ``"reverse column order"``
                  (the higher first: trec_eval's order of document ids named as :func:`to_run`
                  names them)
``empty``         ``"nan"`` (a user with no relevant item is left out of the mean), ``"zero"``
``denominator``   average precision only: ``"min(k,n_rel)"``, ``"n_rel"``, ``"hits"``
``gain``          NDCG only: ``"linear"``, ``"exponential"``
================  ============================================================================

The cases (:func:`conformance_cases`): tie groups straddling position ``k``, a user with no
relevant item, more relevant items than ``k``, a list shorter than ``k`` and, for NDCG, graded
relevance. Every score is positive and every candidate is scored (some libraries treat a score
of 0 or less as "not retrieved").

Example::

    from tinyrec.testing import check_metric

    def theirs(scores, relevance, k):          # (n_users, n_candidates) float64 arrays
        return [their_ap(s, r, top_k=k) for s, r in zip(scores, relevance)]

    report = check_metric(theirs, "map", k=3)
    print(report)   # the settings it matches, or the case and user where it matches none
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import metrics

#: metric name -> tinyrec function (``map`` and ``average_precision`` are one function)
METRICS = {
    "hit_rate": metrics.hit_rate,
    "precision": metrics.precision,
    "recall": metrics.recall,
    "ndcg": metrics.ndcg,
    "map": metrics.average_precision,
    "average_precision": metrics.average_precision,
    "mrr": metrics.mrr,
}
TIE_RULES = ("pessimistic", "optimistic", "average", "column order", "reverse column order")


@dataclass(frozen=True)
class MetricCase:
    """One conformance case: ``scores`` and ``relevance`` ``(n_users, n_candidates)``, what it tests."""

    name: str
    scores: np.ndarray
    relevance: np.ndarray
    what: str


def _grouped_scores(groups: list[int]) -> np.ndarray:
    """Positive, decreasing scores for consecutive groups of the given sizes (equal within a group)."""
    return np.repeat(1.0 - np.arange(len(groups)) / (len(groups) + 1.0), groups)


def _ties_case(cut: int) -> MetricCase:
    """Four users whose tie groups hold relevant items, one group straddling position ``cut``."""
    width = max(8, cut + 3)
    start = max(cut - 2, 0)  # a group of three at positions start+1 .. start+3, around the cut
    around = [1] * start + [3] + [1] * (width - start - 3)
    # a group of three at the top, then (room permitting) a group of four from position start+1 on
    if start >= 3:
        two_groups = [3] + [1] * (start - 3) + [4] + [1] * (width - start - 4)
    else:
        two_groups = [3] + [1] * (width - 3)
    rows = [
        (around, [0, start, width - 1]),  # one relevant item above, one in the group
        (around, [start + 1, start + 2, width - 1]),  # two in the group
        ([width], [1, width - 2]),  # everything tied
        (two_groups, [1, start + 1, start + 3]),
    ]
    scores = np.array([_grouped_scores(groups) for groups, _ in rows])
    relevance = np.zeros(scores.shape)
    for u, (_, relevant) in enumerate(rows):
        relevance[u, relevant] = 1.0
    return MetricCase("ties", scores, relevance, "groups of equal scores holding relevant items, one "
                      "straddling position k")  # fmt: skip


def conformance_cases(k: int | None, *, graded: bool = False) -> list[MetricCase]:
    """The cases :func:`check_metric` runs, for a cut-off ``k`` (``None``: the whole list)."""
    rng = np.random.default_rng(18)
    width = 8 if k is None else max(8, k + 3)
    free_s = rng.permutation(np.arange(1, 5 * width + 1)).reshape(5, width) / (5.0 * width)  # distinct
    free_r = (rng.random((5, width)) < 0.4).astype(np.float64)
    free_r[0] = 1.0
    free_r[0, -2] = 0.0  # more relevant items than k
    free_r[1] = 0.0
    free_r[1, np.argmin(free_s[1])] = 1.0  # one, ranked last
    free_r[2:, np.argmax(free_s[2:], axis=1)] = 0.0
    free_r[2:, 0] = 1.0
    empty_r = free_r[:3].copy()
    empty_r[1] = 0.0
    cases = [
        MetricCase("no ties", free_s, free_r, "distinct scores; more relevant items than k"),
        _ties_case(width if k is None else k),
        MetricCase("no relevant item", free_s[:3], empty_r, "user 1 has no relevant item"),
    ]
    if k is not None and k >= 2:
        short = max(1, k - 2)
        relevance = free_r[:2, :short].copy()
        relevance[:, 0] = 1.0
        what = f"{short} candidates, k = {k}"
        cases.append(MetricCase("k beyond the list", free_s[:2, :short], relevance, what))
    if graded:
        grades = (rng.integers(0, 4, (4, width)) * (rng.random((4, width)) < 0.6)).astype(np.float64)
        grades[:, 0] = np.maximum(grades[:, 0], 1.0)
        cases.append(MetricCase("graded", free_s[:4], grades, "grades 0 to 3"))
    return cases


def _settings(metric: str) -> list[dict]:
    axes = {"ties": TIE_RULES, "empty": ("nan", "zero")}
    if metric in ("map", "average_precision"):
        axes["denominator"] = ("min(k,n_rel)", "n_rel", "hits")
    if metric == "ndcg":
        axes["gain"] = ("linear", "exponential")
    return [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())]


def _tinyrec(metric: str, case: MetricCase, k, setting: dict) -> np.ndarray:
    """tinyrec's per-user values of ``metric`` on ``case`` under ``setting`` (NaN: left out)."""
    kwargs = dict(setting)
    n = case.scores.shape[1]
    kwargs["ties"] = {"column order": np.arange(n), "reverse column order": -np.arange(n)}.get(
        setting["ties"], setting["ties"]
    )
    return METRICS[metric](case.scores, case.relevance, k, per_user=True, **kwargs)


@dataclass
class Mismatch:
    """Where a setting and the function disagree: the case, the user (None: the mean), both values."""

    case: str
    user: int | None
    got: float
    expected: float


@dataclass
class MetricReport:
    """What :func:`check_metric` found: every setting of tinyrec that matches on every case
    (``matches``), or the closest one and where it differs (``closest``, ``mismatches``)."""

    metric: str
    k: int | None
    per_user: bool  # the function returned one value per user (else: the mean)
    matches: list[dict]
    closest: dict | None = None
    mismatches: list[Mismatch] = field(default_factory=list)
    between: bool = False  # where it differs, its values lie between the pessimistic and optimistic ones
    error: str | None = None  # the function raised on a case

    @property
    def ok(self) -> bool:
        return bool(self.matches)

    def __str__(self) -> str:
        k = "the whole list" if self.k is None else f"k = {self.k}"
        head = f"check_metric({self.metric}, {k}):"
        if self.error:
            return f"{head} the function raised {self.error}"
        if self.matches:
            lines = [f"{head} matches tinyrec.metrics.{self.metric} on every case with"]
            lines += ["  " + ", ".join(f"{n}={v!r}" for n, v in s.items()) for s in self.matches]
            return "\n".join(lines)
        settings = ", ".join(f"{n}={v!r}" for n, v in (self.closest or {}).items())
        lines = [f"{head} matches no setting; the closest is {settings}, which differs at"]
        for m in self.mismatches[:8]:
            who = "the mean" if m.user is None else f"user {m.user}"
            lines.append(f"  case {m.case!r}, {who}: got {m.got!r}, tinyrec gives {m.expected!r}")
        if self.between:
            lines.append("  every value it gives lies between tinyrec's pessimistic and optimistic ones: "
                         "its tie order is another one (implementation-defined?)")  # fmt: skip
        return "\n".join(lines)


def _agree(got, expected, tolerance: float) -> np.ndarray:
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    both_nan = np.isnan(got) & np.isnan(expected)
    close = np.abs(got - expected) <= tolerance * np.maximum(1.0, np.abs(expected))
    return both_nan | close


def check_metric(fn: Callable, metric: str, k: int | None = None, *, tolerance: float = 1e-9) -> MetricReport:
    """Run ``fn(scores, relevance, k)`` on the conformance cases and say which setting it matches.

    Parameters
    ----------
    fn : callable
        ``fn(scores, relevance, k)`` with ``(n_users, n_candidates)`` float64 arrays, returning the
        metric of each user ``(n_users,)`` (NaN where it leaves a user out) or their mean.
    metric : str
        One of ``"hit_rate"``, ``"precision"``, ``"recall"``, ``"ndcg"``, ``"map"`` (or
        ``"average_precision"``), ``"mrr"``.
    k : int or None
        The cut-off ``fn`` is checked at.
    tolerance : float
        A match is ``|got − expected| ≤ tolerance · max(1, |expected|)``: absolute for the metrics'
        values in ``[0, 1]`` (``1e-9``; a library computing in float32 needs ``1e-6``).

    Returns
    -------
    MetricReport
        ``report.matches`` lists every setting (``ties``, ``empty``, and ``denominator`` or ``gain``)
        under which tinyrec gives ``fn``'s values on every case; ``print(report)`` says it in words.
    """
    if metric not in METRICS:
        raise ValueError(f"metric={metric!r} is not one of {sorted(METRICS)}")
    cases = conformance_cases(k, graded=metric == "ndcg")
    outputs, per_user = {}, True
    for case in cases:
        try:
            out = np.asarray(fn(case.scores.copy(), case.relevance.copy(), k), dtype=np.float64)
        except Exception as exc:  # the report names it: a library that refuses a case is a finding
            error = f"{type(exc).__name__}: {exc} on case {case.name!r}"
            return MetricReport(metric, k, False, [], error=error)
        if out.shape not in ((), (case.scores.shape[0],)):
            raise ValueError(f"fn returned shape {out.shape} on case {case.name!r}; expected () or "
                             f"({case.scores.shape[0]},)")  # fmt: skip
        per_user &= out.ndim == 1
        outputs[case.name] = out
    results = []
    for setting in _settings(metric):
        misses = []
        for case in cases:
            expected = _tinyrec(metric, case, k, setting)
            got = outputs[case.name]
            if got.ndim == 0:
                kept = expected[~np.isnan(expected)]
                mean = kept.mean() if kept.size else np.nan
                if not _agree(got, mean, tolerance):
                    misses.append(Mismatch(case.name, None, float(got), float(mean)))
            else:
                for u in np.flatnonzero(~_agree(got, expected, tolerance)):
                    misses.append(Mismatch(case.name, int(u), float(got[u]), float(expected[u])))
        results.append((setting, misses))
    matches = [s for s, m in results if not m]
    report = MetricReport(metric, k, per_user, matches)
    if not matches:
        report.closest, report.mismatches = min(results, key=lambda r: len(r[1]))
        report.between = _between(outputs, cases, metric, k, report.closest, tolerance)
    return report


def _between(outputs, cases, metric, k, setting, tolerance) -> bool:
    """Whether every per-user value lies within tinyrec's pessimistic and optimistic values."""
    for case in cases:
        got = outputs[case.name]
        if got.ndim == 0:
            return False
        low = _tinyrec(metric, case, k, {**setting, "ties": "pessimistic"})
        high = _tinyrec(metric, case, k, {**setting, "ties": "optimistic"})
        low, high = np.minimum(low, high), np.maximum(low, high)
        slack = tolerance * np.maximum(1.0, np.abs(high))
        defined = ~np.isnan(low)
        below = got[defined] < low[defined] - slack[defined]
        above = got[defined] > high[defined] + slack[defined]
        if below.any() or above.any():
            return False
    return True
