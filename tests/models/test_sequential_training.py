"""The sequence models' training sets and sampled losses (tinyrec/models/sequential/training.py)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.data.sequences import Sequences
from tinyrec.gradcheck import check_loss
from tinyrec.models.sequential.training import CandidateBPRLoss, NextItemBatches, WindowBatches, sampled_bce

from .contract import implicit_toy


def _positives(train):
    return {u: set(train.positives(u).tolist()) for u in range(train.n_users)}


@settings(max_examples=10)
@given(st.integers(0, 100), st.sampled_from(["left", "right"]), st.integers(0, 3))
def test_next_item_batches_cover_every_user_once_with_true_targets_and_true_negatives(seed, side, n_neg):
    train, _ = implicit_toy()
    pad = train.n_items
    users, inputs, targets = Sequences.from_interactions(train).next_item_examples(6, side=side)
    batches = NextItemBatches(train, users, inputs, targets, 7, n_negatives=n_neg, padding_id=pad, seed=seed)
    positives = _positives(train)
    owner = {
        tuple(row): int(u) for u, row in zip(users, inputs, strict=True)
    }  # each user's row (all distinct)
    assert len(owner) == len(users)
    full_targets = dict(zip(users.tolist(), targets, strict=True))

    def targets_of(seq, user_of):  # the true next items at the real positions, row-major
        return np.concatenate([full_targets[u][full_targets[u] != pad] for u in user_of])

    for _ in range(2):  # two epochs: fresh order and negatives, every row once each
        seen_rows = 0
        for inputs_b, target in batches.epoch():
            seq = inputs_b[0]
            real = seq != pad
            assert real.any(axis=0).all(), "a column of padding only was kept"
            if n_neg == 0:
                assert target.shape == (real.sum(),) and np.all(target < pad)
            else:
                candidates = inputs_b[1]
                assert candidates.shape == (real.sum(), 1 + n_neg)
                assert np.all(target[:, 0] == 1) and np.all(target[:, 1:] == 0)
                row_of = np.repeat(np.arange(len(seq)), real.sum(axis=1))  # the batch row of each position
                user_of = [owner[tuple(_pad_to(row, inputs.shape[1], pad, side))] for row in seq]
                np.testing.assert_array_equal(candidates[:, 0], targets_of(seq, user_of))
                for m, r in enumerate(row_of):
                    assert not set(candidates[m, 1:].tolist()) & positives[user_of[r]]
            seen_rows += len(seq)
        assert seen_rows == len(users)


def _pad_to(row, width, pad, side):
    """A trimmed row back at its full width."""
    fill = np.full(width - len(row), pad)
    return np.concatenate([fill, row]) if side == "left" else np.concatenate([row, fill])


def test_window_batches_hold_targets_then_negatives_never_positives():
    train, _ = implicit_toy()
    users, inputs, targets = Sequences.from_interactions(train).windows(3, 2)
    batches = WindowBatches(train, users, inputs, targets, 16, n_negatives=2, seed=0)
    positives = _positives(train)
    total = 0
    for (b_users, _, candidates), labels in batches.epoch():
        assert candidates.shape == (len(b_users), 2 + 4) and labels.shape == candidates.shape
        assert np.all(labels[:, :2] == 1) and np.all(labels[:, 2:] == 0)
        for u, row in zip(b_users.tolist(), candidates, strict=True):
            assert set(row[:2].tolist()) <= positives[u] and not set(row[2:].tolist()) & positives[u]
        total += len(b_users)
    assert total == len(users)


def test_sampled_bce_is_a_mean_over_positives_plus_a_mean_over_negatives():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((5, 2 + 6))
    labels = np.zeros_like(logits)
    labels[:, :2] = 1
    loss = sampled_bce(2, 6)
    expected = np.mean(np.log1p(np.exp(-logits[:, :2]))) + np.mean(np.log1p(np.exp(logits[:, 2:])))
    np.testing.assert_allclose(loss.forward(logits, labels), expected, rtol=1e-12)
    check_loss(loss, logits, labels).assert_ok(1e-6)


def test_candidate_bpr_is_bpr_between_column_zero_and_each_negative():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((4, 1 + 3))
    loss = CandidateBPRLoss()
    expected = np.mean(np.log1p(np.exp(-(logits[:, :1] - logits[:, 1:]))))
    np.testing.assert_allclose(loss.forward(logits, np.zeros_like(logits)), expected, rtol=1e-12)
    check_loss(loss, logits, np.zeros_like(logits)).assert_ok(1e-6)


def test_a_user_who_saw_every_item_gives_no_row_to_sample_for():
    """No negative exists for such a user: its rows are left out instead of stopping the epoch."""
    from tinyrec.data import Interactions

    items = np.array([0, 1, 2, 3, 0, 2])
    data = Interactions(np.array([0, 0, 0, 0, 1, 1]), items, None, np.arange(6), n_items=4)
    users, inputs, targets = Sequences.from_interactions(data).next_item_examples(3)
    batches = NextItemBatches(data, users, inputs, targets, 4, n_negatives=1, padding_id=4, seed=0)
    ((seq, candidates), _) = next(iter(batches.epoch()))
    assert len(seq) == 1 and candidates[0, 0] == 2 and candidates[0, 1] in (1, 3)
    w_users, w_inputs, w_targets = Sequences.from_interactions(data).windows(1, 1)
    windows = WindowBatches(data, w_users, w_inputs, w_targets, 8, n_negatives=1, seed=0)
    ((b_users, _, _), _) = next(iter(windows.epoch()))
    assert set(b_users.tolist()) == {1}
