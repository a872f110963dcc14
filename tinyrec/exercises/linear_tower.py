"""Exercise of tutorial 06: a third NCF tower, the linear tower.

Task
----
Write ``LinearTower.backward``. The tower's ``forward`` (given) concatenates a user vector and an
item vector, each from its own ``Embedding`` table, with no product and no MLP::

    h = [p_u ; q_i]

In a NeuMF (:class:`tinyrec.models.ncf_net.NCFNet`) beside the GMF and MLP towers, it lets the
output layer add a user term and an item term, like the biases of biased MF. ``backward(dh)``
must send the gradient into the two tables; the network ignores what it returns (the ids have no
gradient), so ``None, None`` will do.

Shapes
------
``users, items : (batch,)`` integer ids; ``p_u, q_i : (batch, dim)``; ``h, dh : (batch, 2·dim)``.
Each table's ``backward`` takes a gradient of the shape its lookup returned, ``(batch, dim)``.

Math
----
The backward of a concatenation is a split: the columns of ``dh`` that came from ``p_u`` are the
gradient of ``p_u``, those that came from ``q_i`` the gradient of ``q_i``. A user (or item) that
appears twice in the batch receives the sum of its rows, which ``Embedding.backward`` does, and
gradients add up over ``backward`` calls until ``zero_grad``, which ``Embedding.backward`` also
does.

Checks
------
* ``user_table_gets_its_half``: the user table's gradient, repeated users summed;
* ``item_table_gets_its_half``: the item table's gradient, repeated items summed;
* ``gradients_accumulate``: a second ``backward`` adds to the tables' gradients;
* ``matches_central_differences_in_neumf``: :func:`tinyrec.gradcheck.check_module` on an
  ``NCFNet`` with a GMF tower, an MLP tower and the candidate, in float64.

``check(LinearTower)`` runs them all; ``tinyrec.exercises.show_solution("linear_tower")`` prints
the reference solution.
"""

from __future__ import annotations

import numpy as np

from ..gradcheck import check_module
from ..models.ncf_net import GMFTower, MLPTower, NCFNet
from ..nn import Embedding, Module
from .checking import describe_difference, expect, run_checks, worst_entry

NAME = "linear_tower"
TUTORIAL = "06_neural_cf"


# -- the stub: what the tutorial gives the student --------------------------------------------
class LinearTower(Module):
    def __init__(self, n_users, n_items, dim, *, dtype=np.float64, seed=None):
        rng = np.random.default_rng(seed)
        self.user_embedding = Embedding(n_users, dim, dtype=dtype, seed=rng)
        self.item_embedding = Embedding(n_items, dim, dtype=dtype, seed=rng)
        self.dim = dim
        self.out_features = 2 * dim

    def forward(self, users, items):
        return np.concatenate([self.user_embedding(users), self.item_embedding(items)], axis=1)

    def backward(self, grad_output):
        raise NotImplementedError("your turn: split grad_output (N, 2 * dim) and send each half to its table")


# -- the reference solution ---------------------------------------------------------------------
class SolutionLinearTower(LinearTower):
    """The concatenation's backward is a split.

    The first ``dim`` columns of ``dh`` belong to ``p_u``, the rest to ``q_i``; each Embedding sums
    its rows into its table (repeated ids included) and adds to the gradient it already holds.
    """

    def backward(self, grad_output):
        self.user_embedding.backward(grad_output[:, : self.dim])
        self.item_embedding.backward(grad_output[:, self.dim :])
        return None, None


STUB = LinearTower
SOLUTION = SolutionLinearTower
TUTORIAL_CODE = (LinearTower,)


# -- the checks -----------------------------------------------------------------------------------
N_USERS, N_ITEMS, DIM = 10, 12, 2
USERS = np.array([0, 3, 3, 9, 1, 0], dtype=np.int64)  # users 0 and 3 twice
ITEMS = np.array([2, 5, 11, 0, 5, 7], dtype=np.int64)  # item 5 twice


def _backward(cls, seed, calls=1):
    """A tower run forward on the batch, then backward ``calls`` times with one ``dh``."""
    tower = cls(N_USERS, N_ITEMS, DIM, seed=seed)
    tower(USERS, ITEMS)
    dh = np.random.default_rng(seed + 100).standard_normal((len(USERS), 2 * DIM))
    for _ in range(calls):
        tower.backward(dh)
    return tower, dh


def _summed(ids, rows, n):
    out = np.zeros((n, rows.shape[1]))
    np.add.at(out, ids, rows)
    return out


def _table_gets_its_half(cls, which):
    tower, dh = _backward(cls, seed=1)
    first, second = slice(0, DIM), slice(DIM, 2 * DIM)  # the columns of p_u, then of q_i
    mine, other = (first, second) if which == "user" else (second, first)
    ids, n = (USERS, N_USERS) if which == "user" else (ITEMS, N_ITEMS)
    table = tower.user_embedding if which == "user" else tower.item_embedding
    grad = table.weight.dense_grad()
    expect(
        grad is not None,
        f"the {which} table received no gradient. Hint: backward must call "
        f"self.{which}_embedding.backward with its part of grad_output",
    )
    expected = _summed(ids, dh[:, mine], n)
    if np.allclose(grad, expected, rtol=1e-12, atol=1e-12):
        return
    if np.allclose(grad, _summed(ids, dh[:, other], n)):
        raise AssertionError(
            f"the {which} table got the columns of grad_output that belong to the other vector. Hint: "
            f"h = [p_u ; q_i], in that order"
        )
    raise AssertionError(
        f"the {which} table's gradient is wrong: {describe_difference(grad, expected)}. Hint: the "
        f"backward of a concatenation gives each part the columns it filled in forward"
    )


def user_table_gets_its_half(cls):
    _table_gets_its_half(cls, "user")


def item_table_gets_its_half(cls):
    _table_gets_its_half(cls, "item")


def gradients_accumulate(cls):
    once, _ = _backward(cls, seed=2, calls=1)
    twice, _ = _backward(cls, seed=2, calls=2)
    for name in ("user_embedding", "item_embedding"):
        g1 = getattr(once, name).weight.dense_grad()
        g2 = getattr(twice, name).weight.dense_grad()
        expect(g1 is not None and g2 is not None, f"the table {name} received no gradient")
        expect(
            np.allclose(g2, 2 * g1, rtol=1e-12, atol=1e-12),
            f"after two backward calls, {name}'s gradient is not twice that of one call: gradients must "
            f"add up until zero_grad. Hint: let {name}.backward accumulate instead of setting .grad",
        )


def matches_central_differences_in_neumf(cls):
    net = NCFNet(
        {
            "gmf": GMFTower(N_USERS, N_ITEMS, 3, init_std=0.5, dtype=np.float64, seed=0),
            "mlp": MLPTower(N_USERS, N_ITEMS, (4, 3), init_std=0.5, dtype=np.float64, seed=1),
            "linear": cls(N_USERS, N_ITEMS, DIM, seed=2),
        },
        N_USERS,
        N_ITEMS,
        dtype=np.float64,
        seed=3,
    )
    report = check_module(net, USERS, ITEMS)
    if report.problems:  # named by gradcheck: an overwritten or missing gradient, a mutated dY, ...
        named = "; ".join(f"{name}: {what}" for name, what in report.problems.items())
        raise AssertionError(f"in a NeuMF with your tower as the third one, gradcheck found: {named}")
    if not report.ok(1e-6):
        worst = worst_entry(report)
        raise AssertionError(
            f"in a NeuMF with your tower as the third one, the gradient of {worst} disagrees with "
            f"central differences (relative error {report.errors[worst]:.2e}; a right backward gives "
            f"about 1e-10).\n{report}"
        )


CHECKS = (
    user_table_gets_its_half,
    item_table_gets_its_half,
    gradients_accumulate,
    matches_central_differences_in_neumf,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a class like ``LinearTower``)."""
    return run_checks(NAME, candidate, CHECKS)
