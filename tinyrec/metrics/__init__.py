"""Metrics with their exact definitions: ranking at k, rating error, classification, catalogue.

Recommender libraries disagree on what NDCG@10 or HR@10 means; these functions are meant as a
reference, so every number can be reproduced from the definitions below and in each function.

Conventions shared by the ranking metrics
-----------------------------------------
**Arguments.** ``metric(scores, relevance, k, *, ties="pessimistic", per_user=False, empty="nan",
unretrieved="error")`` (and ``denominator=`` for average precision, ``gain=`` for NDCG):
``scores : (n_users, n_candidates)`` (any real numbers; higher ranks first) and
``relevance : (n_users, n_candidates)`` (0/1, or grades >= 0 for NDCG; ``> 0`` means relevant).
Row ``u`` is user ``u``'s candidate list; any library's scores can be passed in. ``k`` is the
cut-off (the length of the recommended list); ``k=None`` means the whole row.

**Non-candidates.** A score of ``-inf`` marks a column that is not a candidate for that user
(e.g. an item seen in training under the full-ranking protocol): it never enters a list in front
of a finite score and must have relevance 0 (enforced, unless ``unretrieved="miss"``). NaN and ``+inf``
scores are errors.

**Positions.** Position ``p = 1, 2, ...`` in decreasing order of score. Ties between equal scores
are resolved by ``ties``:

* ``"pessimistic"`` (default): among equal scores, relevant items come *last* (for graded
  relevance, in increasing relevance). A constant model then scores the minimum, not the chance
  level: an item tied with the held-out item ranks above it. Every metric here takes its
  *minimum* over all orders of the tied items.
* ``"optimistic"``: relevant items first (decreasing relevance): every metric's *maximum*.
* ``"average"``: the exact expected value of the metric over all orders of the tied items, each
  equally likely (computed in closed form, not sampled; it is what a model with a random
  tie-breaker scores on average).
* an array of keys, ``(n_candidates,)`` or ``(n_users, n_candidates)``: an order the caller gives,
  the smaller key first among equal scores (trec_eval's, document ids descending, is
  :func:`from_run`'s ``trec_ties``).

The lists compared by :func:`catalog_coverage` come from :func:`top_k`, whose ties go to the lower
column index (relevance is unknown to a recommender).

**Users with no relevant item** (no column with relevance > 0): every ranking metric is undefined
for them (IDCG = 0, recall's denominator = 0, no first relevant item). They are **excluded from
the mean**, and ``per_user=True`` returns NaN in their place. The same rule holds for every ranking
metric, so the users averaged are the same for all. When no user has a relevant item, the mean is
NaN. AUC needs an irrelevant candidate too: users without one are treated the same way (NaN, left
out of the mean). NaN rather than an error, because an evaluation averages over many users and
some of them may fall in these cases (:func:`roc_auc`, one number for one list of labels, raises
instead; scikit-learn 1.9's ``roc_auc_score`` returns NaN with a warning). With ``empty="zero"``
such a user scores 0 and is averaged with the others (scikit-learn, trec_eval, torchmetrics).

**Other libraries' conventions** are options (:mod:`._conventions`): ``empty`` above; average
precision's ``denominator`` (``"min(k,n_rel)"``, ``"n_rel"``, ``"hits"``); a tie order; and
``unretrieved="miss"``, which takes a relevant item scored ``-inf`` for one the ranking left out (a
TREC run lists its top documents only). docs/metrics.md's table says which settings reproduce
scikit-learn, ranx, trec_eval, torchmetrics, RecBole, Surprise and implicit, and where none can;
:func:`from_run` reads runs and qrels (TREC files, ranx-style dicts, ragged lists) as matrices.

**Averaging.** ``per_user=False`` returns the unweighted mean of the per-user values over the
users kept above (each user weighs 1, however many relevant items it has); ``per_user=True``
returns the ``(n_users,)`` float64 array.

Definitions at k, for one user (``rel(p)`` the relevance at position p, ``rel_bin = [rel > 0]``,
``n_rel`` the number of relevant candidates, ``hits@k = Σ_{p≤k} rel_bin(p)``):

=========================  ====================================================================
``hit_rate``   (HR@k)      ``[hits@k ≥ 1]``
``precision``  (P@k)       ``hits@k / k``
``recall``     (R@k)       ``hits@k / n_rel``
``ndcg``       (NDCG@k)    ``DCG@k / IDCG@k``; ``DCG@k = Σ_{p≤k} g(rel(p)) / log2(p+1)``, ``g(x) = x``
                           (or ``2^x − 1``, grades <= 1000); IDCG@k: the same sum over the relevance sorted
                           decreasingly (this user's best possible list)
``average_precision``      ``(1/min(k, n_rel)) Σ_{p≤k} (hits@p / p) · rel_bin(p)`` (or ``1/n_rel``,
                           ``1/hits@k``: ``denominator``); ``map`` is the same
``mrr``        (MRR@k)     ``1/p*`` for the first relevant position ``p* ≤ k``, else 0
``auc``                    fraction of (relevant, irrelevant) pairs ordered correctly (no k)
=========================  ====================================================================

Rating errors (:mod:`.rating`), classification metrics (:mod:`.classification`) and catalogue
coverage / novelty (:mod:`.catalog`) state their own definitions.
"""

from .catalog import catalog_coverage, novelty
from .classification import accuracy, log_loss, precision_recall_f1, roc_auc
from .ranking import (
    auc,
    average_precision,
    hit_rate,
    map,
    mrr,
    ndcg,
    precision,
    ranking_metrics,
    recall,
    top_k,
)
from .rating import mae, mse, rmse
from .runs import RunMatrices, from_run, read_trec_qrels, read_trec_run, to_qrels, to_run

__all__ = [
    "hit_rate",
    "ndcg",
    "precision",
    "recall",
    "average_precision",
    "map",
    "mrr",
    "auc",
    "ranking_metrics",
    "top_k",
    "catalog_coverage",
    "novelty",
    "mse",
    "rmse",
    "mae",
    "accuracy",
    "precision_recall_f1",
    "log_loss",
    "roc_auc",
    "RunMatrices",
    "from_run",
    "read_trec_run",
    "read_trec_qrels",
    "to_run",
    "to_qrels",
]
