"""Exercise of tutorial 07: SASRec's training row of one user, every position's next item.

Task
----
Write ``my_next_item_pairs(items, max_len, padding_id)``. ``items`` is one user's history, oldest
first. A next-item model reads the history one position at a time and, at every position, must
predict the item that came next. Return two rows of length ``max_len``:

* ``inputs``: the items the model reads, ``items[:-1]`` (the last item has nothing after it);
* ``targets``: at each position, the item that follows the input there, ``items[1:]``;

both keeping their **most recent** ``max_len`` entries (a longer history drops its oldest), and
both **left-padded** with ``padding_id`` (the latest input in the last column, as SASRec reads it).
A history of one item has no next item: both rows are all padding.

Shapes
------
``items : (n,)`` int array, ``n >= 1``; ``max_len >= 1``; returns ``(inputs, targets)``, two
``(max_len,)`` int arrays.

Math
----
With ``s_1 … s_n`` the history and ``m = min(n − 1, max_len)`` real positions::

    inputs  = [pad] * (max_len − m) + [s_{n−m}, …, s_{n−1}]
    targets = [pad] * (max_len − m) + [s_{n−m+1}, …, s_n]

so ``targets[c]`` is the item after ``inputs[c]``, and the padding is at the same places in both.
:meth:`tinyrec.data.sequences.Sequences.next_item_examples` builds these rows for every user at once.

Checks
------
* ``returns_two_rows``: two integer arrays of length ``max_len``;
* ``each_target_is_the_next_item``: a short history, worked out by hand;
* ``padding_on_the_left``: the latest input in the last column, padding first, in both rows;
* ``keeps_the_most_recent_items``: a history longer than ``max_len`` drops its oldest items;
* ``one_item_gives_only_padding``: nothing to predict;
* ``matches_tinyrec_on_random_histories``: the rows of ``Sequences.next_item_examples``;
* ``items_are_not_modified``.

``check(my_next_item_pairs)`` runs them all; ``tinyrec.exercises.show_solution("next_item_pairs")``
prints the reference solution.
"""

from __future__ import annotations

import numpy as np

from ..data.sequences import Sequences
from .checking import expect, run_checks

NAME = "next_item_pairs"
TUTORIAL = "07_sequence_recommenders"


# -- the stub: what the tutorial gives the student --------------------------------------------
def my_next_item_pairs(items, max_len, padding_id):
    """``(inputs, targets)``: one user's items and their next items, last ``max_len``, left-padded."""
    raise NotImplementedError("your turn: inputs are items[:-1], targets items[1:], each cut and left-padded")


# -- the reference solution ---------------------------------------------------------------------
def solution_next_item_pairs(items, max_len, padding_id):
    """Shift by one, keep the last ``max_len``, fill the front with padding.

    ``items[:-1]`` and ``items[1:]`` line up an input with its next item; slicing both with
    ``[-max_len:]`` keeps the same (most recent) positions of each; one padding block of the
    same length goes in front of both.
    """
    items = np.asarray(items)
    inputs, targets = items[:-1][-max_len:], items[1:][-max_len:]
    pad = np.full(max_len - len(inputs), padding_id, dtype=np.int64)
    return np.concatenate([pad, inputs]).astype(np.int64), np.concatenate([pad, targets]).astype(np.int64)


STUB = my_next_item_pairs
SOLUTION = solution_next_item_pairs
TUTORIAL_CODE = (my_next_item_pairs,)


# -- the checks -----------------------------------------------------------------------------------
PAD = 99


def _rows(fn, items, max_len, padding_id=PAD):
    """The candidate's two rows, as int64 arrays; anything else stops here."""
    out = fn(np.array(items, dtype=np.int64), max_len, padding_id)
    expect(
        isinstance(out, tuple) and len(out) == 2,
        f"return two rows (inputs, targets), got {type(out).__name__}",
    )
    inputs, targets = (np.asarray(row) for row in out)
    for name, row in (("inputs", inputs), ("targets", targets)):
        expect(row.shape == (max_len,), f"{name} must have shape (max_len,) = ({max_len},), got {row.shape}")
        expect(row.dtype.kind in "iu", f"{name} must hold item ids (integers), got dtype {row.dtype}")
    return inputs, targets


def returns_two_rows(fn):
    _rows(fn, [3, 1, 4, 1, 5], 4)


def each_target_is_the_next_item(fn):
    inputs, targets = _rows(fn, [3, 1, 4, 5], 3)
    expect(inputs.tolist() == [3, 1, 4], f"for items [3, 1, 4, 5] and max_len 3, inputs must be [3, 1, 4] "
           f"(every item but the last), got {inputs.tolist()}")  # fmt: skip
    if targets.tolist() == inputs.tolist():
        raise AssertionError(
            "targets equal inputs: a model would learn to predict the item it just read. Hint: the target at "
            "a position is the item that comes next, items[1:]"
        )
    expect(targets.tolist() == [1, 4, 5], f"targets must be [1, 4, 5], the item after each input; got "
           f"{targets.tolist()}")  # fmt: skip


def padding_on_the_left(fn):
    inputs, targets = _rows(fn, [7, 8, 9], 5)
    if inputs.tolist() == [7, 8, PAD, PAD, PAD]:
        raise AssertionError("the padding is on the right: SASRec reads the latest item in the last column. "
                             "Hint: put the padding in front")  # fmt: skip
    expect(inputs.tolist() == [PAD, PAD, PAD, 7, 8] and targets.tolist() == [PAD, PAD, PAD, 8, 9],
           f"for items [7, 8, 9], max_len 5 and padding {PAD}: expected inputs [{PAD}, {PAD}, {PAD}, 7, 8] "
           f"and targets [{PAD}, {PAD}, {PAD}, 8, 9], got {inputs.tolist()} and "
           f"{targets.tolist()}")  # fmt: skip


def keeps_the_most_recent_items(fn):
    inputs, targets = _rows(fn, [10, 11, 12, 13, 14, 15], 3)
    if inputs.tolist() == [10, 11, 12]:
        raise AssertionError("the oldest items were kept: a long history must keep its most recent ones. "
                             "Hint: slice from the end, [-max_len:]")  # fmt: skip
    expect(inputs.tolist() == [12, 13, 14] and targets.tolist() == [13, 14, 15],
           f"for items 10 … 15 and max_len 3: expected inputs [12, 13, 14] and targets [13, 14, 15], got "
           f"{inputs.tolist()} and {targets.tolist()}")  # fmt: skip


def one_item_gives_only_padding(fn):
    inputs, targets = _rows(fn, [42], 3)
    expect(inputs.tolist() == [PAD] * 3 and targets.tolist() == [PAD] * 3,
           f"a history of one item has nothing to predict: both rows are padding; got {inputs.tolist()} and "
           f"{targets.tolist()}")  # fmt: skip


def matches_tinyrec_on_random_histories(fn):
    rng = np.random.default_rng(7)
    for _ in range(30):
        n, max_len = int(rng.integers(2, 12)), int(rng.integers(1, 8))
        items = rng.integers(0, 20, n)
        seqs = Sequences(np.array([0, n]), items, n_items=20)
        _, want_inputs, want_targets = seqs.next_item_examples(max_len, padding_id=PAD)
        inputs, targets = _rows(fn, items, max_len)
        expect(np.array_equal(inputs, want_inputs[0]) and np.array_equal(targets, want_targets[0]),
               f"for items {items.tolist()} and max_len {max_len}: expected {want_inputs[0].tolist()} and "
               f"{want_targets[0].tolist()}, got {inputs.tolist()} and {targets.tolist()}")  # fmt: skip


def items_are_not_modified(fn):
    items = np.array([5, 6, 7, 8], dtype=np.int64)
    kept = items.copy()
    fn(items, 2, PAD)
    expect(np.array_equal(items, kept), "the function changed the items it was given; work on a copy")


CHECKS = (
    returns_two_rows,
    each_target_is_the_next_item,
    padding_on_the_left,
    keeps_the_most_recent_items,
    one_item_gives_only_padding,
    matches_tinyrec_on_random_histories,
    items_are_not_modified,
)


def check(candidate):
    """Run every check of this exercise on ``candidate`` (a function like ``my_next_item_pairs``)."""
    return run_checks(NAME, candidate, CHECKS)
