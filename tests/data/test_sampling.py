"""Samplers: never a positive (of train or of excluded sets), seeded, candidates, batches."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.data import Interactions, leave_one_out, synthetic
from tinyrec.data.sampling import (
    NegativeSampler,
    bpr_triples,
    minibatches,
    pointwise_samples,
    sampled_candidates,
)
from tinyrec.errors import AllocationError, DataError, IndexOutOfRangeError, ShapeError
from tinyrec.evaluation import evaluate
from tinyrec.models import Popularity
from tinyrec.models.ncf import NeuMF


def positives_of(*tables):
    pos = {}
    for t in tables:
        for u, i in zip(t.users.tolist(), t.items.tolist(), strict=True):
            pos.setdefault(u, set()).add(i)
    return pos


@settings(max_examples=25)
@given(seed=st.integers(0, 10**6), method=st.sampled_from(["uniform", "popularity"]), n=st.integers(1, 5))
def test_sampler_never_returns_a_positive(seed, method, n):
    data = synthetic(30, 25, 200, seed=seed)
    train, test = leave_one_out(data)
    sampler = NegativeSampler(train, method, exclude=test, seed=seed)
    pos = positives_of(train, test)
    # users with something left to sample (a heavy synthetic user may own every item)
    ok = [u for u in range(30) if len(pos.get(u, ())) < 25]
    if method == "popularity":
        ok = [u for u in ok if set(train.items.tolist()) - pos.get(u, set())]
    users = np.random.default_rng(seed).choice(ok, 100)
    neg = sampler.sample(users, n)
    assert neg.shape == (100, n)
    for u, row in zip(users.tolist(), neg.tolist(), strict=True):
        assert not set(row) & pos.get(u, set())
    if method == "popularity":  # items never seen in train have weight 0
        assert set(neg.ravel().tolist()) <= set(train.items.tolist())
    again = NegativeSampler(train, method, exclude=test, seed=seed).sample(users, n)
    np.testing.assert_array_equal(again, neg)  # same seed, same draws


def test_successive_calls_differ_but_replay_with_the_seed():
    data = synthetic(20, 50, 200, seed=0)
    s1, s2 = NegativeSampler(data, seed=5), NegativeSampler(data, seed=5)
    a, b = s1.sample(data.users, 2), s1.sample(data.users, 2)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(s2.sample(data.users, 2), a)
    np.testing.assert_array_equal(s2.sample(data.users, 2), b)


class RecordingRandom:
    """Stands in for the sampler's generator: records the block sizes it is asked for."""

    def __init__(self, random):
        self.sizes, self._random = [], random

    def random(self, size):
        self.sizes.append(size)
        return self._random(size)


@pytest.mark.parametrize("method", ["uniform", "popularity"])
def test_sampler_draws_fresh_blocks_when_one_runs_out(method):
    # user 0 has every item but item 7 (about 60 candidates per negative); small blocks force many
    # refills, which must still give the same draws as uninterrupted rejection over the stream
    n_items = 60
    users = np.concatenate([np.zeros(n_items - 1, int), np.arange(1, n_items + 1)])
    items = np.concatenate([np.delete(np.arange(n_items), 7), np.arange(n_items)])
    data = Interactions(users, items, n_users=n_items + 2, n_items=n_items)
    batch = np.array([0, n_items + 1, 0, 0, n_items + 1] * 40)
    sampler = NegativeSampler(data, method, seed=3)
    sampler._MAX_BLOCK = 50
    sampler.rng = spy = RecordingRandom(sampler.rng.random)
    neg = sampler.sample(batch, 2)
    blocks = spy.sizes
    assert len(blocks) > 10 and max(blocks) == 50
    assert (neg[batch == 0] == 7).all()
    # the same seed replays the same draws; so does one call that never runs out
    again = NegativeSampler(data, method, seed=3)
    again._MAX_BLOCK = 50
    np.testing.assert_array_equal(again.sample(batch, 2), neg)
    stream = np.random.default_rng(3).random(sum(blocks))
    one = NegativeSampler(data, method, seed=0)
    one.rng = RecordingRandom(lambda size: stream)
    np.testing.assert_array_equal(one.sample(batch, 2), neg)


def test_block_size_covers_the_expected_candidates():
    # uniform over 10 items, user 0 owns 8: 5 candidates per negative on average
    data = Interactions(np.zeros(8, int), np.arange(8), n_users=2, n_items=10)
    sampler = NegativeSampler(data, seed=0)
    np.testing.assert_allclose(sampler._cost, [5.0, 1.0])
    size = sampler._block_size(np.array([0] * 100 + [1] * 50), 2)
    mean, sd = 2 * (100 * 5 + 50), np.sqrt(2 * 100 * (25 - 5))
    assert size == int(mean + 4 * sd + 16)


def test_popularity_sampling_follows_counts():
    # item j has j+1 interactions from users 1..; user 0 has item 0 only
    users = np.concatenate([[0], np.repeat(np.arange(1, 5), 1)])
    items = np.array([0, 1, 2, 3, 3])
    data = Interactions(users, items, n_users=6, n_items=4)
    neg = NegativeSampler(data, "popularity", seed=0).sample(np.full(40_000, 5), 1)  # user 5 has none
    freq = np.bincount(neg.ravel(), minlength=4) / neg.size
    np.testing.assert_allclose(freq, [1 / 5, 1 / 5, 1 / 5, 2 / 5], atol=0.01)
    neg = NegativeSampler(data, "popularity", alpha=0.0, seed=0).sample(np.full(40_000, 5), 1)
    np.testing.assert_allclose(np.bincount(neg.ravel(), minlength=4) / neg.size, 0.25, atol=0.01)


def test_bpr_triples_and_pointwise_samples():
    data = synthetic(20, 30, 150, seed=1)
    u, ip, ineg = bpr_triples(data, 3, seed=0)
    assert u.shape == ip.shape == ineg.shape == (450,)
    np.testing.assert_array_equal(u[::3], data.users)
    np.testing.assert_array_equal(ip[1::3], data.items)
    pos = positives_of(data)
    assert all(n not in pos[x] for x, n in zip(u.tolist(), ineg.tolist(), strict=True))
    users, items, labels = pointwise_samples(data, 4, seed=0)
    assert users.shape == items.shape == labels.shape == (750,)
    assert labels[:150].sum() == 150 and labels[150:].sum() == 0
    assert all(i not in pos[x] for x, i in zip(users[150:].tolist(), items[150:].tolist(), strict=True))


def test_sampled_candidates_protocol():
    data = synthetic(40, 120, 800, seed=2)
    train, test = leave_one_out(data)
    users, cand = sampled_candidates(train, test, 20, seed=3)
    assert cand.shape == (len(test), 21) and cand.dtype == np.int32
    np.testing.assert_array_equal(users, test.users)
    np.testing.assert_array_equal(cand[:, 0], test.items)
    pos = positives_of(train, test)
    for u, row in zip(users.tolist(), cand.tolist(), strict=True):
        assert len(set(row[1:])) == 20 and not set(row[1:]) & pos[u]
    _, again = sampled_candidates(train, test, 20, seed=3)
    np.testing.assert_array_equal(again, cand)
    _, other = sampled_candidates(train, test, 20, seed=4)
    assert not np.array_equal(other, cand)


def test_minibatches_cover_everything_once():
    a, b = np.arange(10), np.arange(10) * 2
    batches = list(minibatches(a, b, batch_size=4, seed=0))
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    seen = np.concatenate([x for x, _ in batches])
    assert sorted(seen.tolist()) == list(range(10)) and not np.array_equal(seen, a)
    assert all(np.array_equal(y, 2 * x) for x, y in batches)
    assert [len(x) for (x,) in minibatches(a, batch_size=4, drop_last=True)] == [4, 4]
    np.testing.assert_array_equal(
        np.concatenate([x for (x,) in minibatches(a, batch_size=3, shuffle=False)]), a
    )


# ------------------------------------------------------------------ bad input
def test_sampler_bad_input():
    data = Interactions([0, 0, 1], [0, 1, 0], n_items=2)  # user 0 has every item
    sampler = NegativeSampler(data, seed=0)
    with pytest.raises(DataError, match="every item"):
        sampler.sample([0], 1)
    assert sampler.sample([1], 2).tolist() == [[1, 1]]
    with pytest.raises(IndexOutOfRangeError):
        sampler.sample([2], 1)
    with pytest.raises(DataError, match="integer"):
        sampler.sample([0.5], 1)
    with pytest.raises(ValueError, match="n must"):
        sampler.sample([1], 0)
    with pytest.raises(ValueError, match="method"):
        NegativeSampler(data, "random")
    with pytest.raises(DataError, match="distinct"):
        sampler.sample_distinct([1], 2)
    with pytest.raises(DataError, match="index space"):
        sampled_candidates(data, Interactions([0], [0]), 1)
    with pytest.raises(DataError, match="lengths"):
        next(minibatches(np.arange(3), np.arange(4), batch_size=2))


def test_counts_and_alpha_must_be_numbers_of_the_right_kind():
    data = Interactions([0, 0, 1], [0, 1, 0], n_items=4)
    sampler = NegativeSampler(data, seed=0)
    for bad in (1.5, "2", None):  # were truncated by int(), or failed inside it
        with pytest.raises(ValueError, match="n must be a positive integer"):
            sampler.sample([1], bad)
        with pytest.raises(ValueError, match="n must be a positive integer"):
            sampler.sample_distinct([1], bad)
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            next(minibatches(np.arange(3), batch_size=bad))
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        NegativeSampler(data, "popularity", alpha="1")
    with pytest.raises(TypeError, match="test must be an Interactions"):
        sampled_candidates(data, [(0, 1)], 1)


def test_popularity_sampler_refuses_users_owning_all_mass():
    data = Interactions([0, 0, 1], [0, 1, 0], n_items=3)  # item 2 has weight 0; user 0 owns 0 and 1
    with pytest.raises(DataError, match="every item"):
        NegativeSampler(data, "popularity", seed=0).sample([0], 1)
    assert NegativeSampler(data, "uniform", seed=0).sample([0], 3).tolist() == [[2, 2, 2]]


def test_exclude_must_hold_interactions():
    data = Interactions([0, 0, 1], [0, 1, 0], n_items=4)
    for bad in ([1], 5, "test"):
        with pytest.raises(TypeError, match="exclude must be an Interactions or a list of them"):
            NegativeSampler(data, exclude=bad)
    # a tuple is accepted, and its tables' positives are avoided: test holds item 2 for user 0
    test = data.rebuild(users=[0], items=[2], ratings=None, timestamps=None)
    assert test.same_index_space(data)
    draws = NegativeSampler(data, exclude=(test,), seed=0).sample([0] * 500, 4)
    assert np.all(draws == 3)


def test_sample_sizes_empty_and_too_large():
    data = Interactions([0, 0, 1], [0, 1, 0], n_items=4)
    sampler = NegativeSampler(data, seed=0)
    for empty in ([], np.array([], dtype=np.int64)):  # an empty list is no users, not float64
        out = sampler.sample(empty, 3)
        assert out.shape == (0, 3) and out.dtype == np.int32
        assert sampler.sample_distinct(empty, 2).shape == (0, 2)
    with pytest.raises(ValueError, match=r"would draw 1,000,000,000,000 negatives.*in batches"):
        sampler.sample([1], 10**12)  # was a MemoryError


def test_minibatches_accept_lists_and_refuse_scalars():
    # a list indexed by an index array raised "only integer scalar arrays can be converted..."
    batches = list(minibatches([1, 2, 3], ["a", "b", "c"], batch_size=2, seed=0))
    assert [len(x) for x, _ in batches] == [2, 1]
    assert sorted(np.concatenate([x for x, _ in batches]).tolist()) == [1, 2, 3]
    assert all(isinstance(x, np.ndarray) for batch in batches for x in batch)
    # len() of a 0-D array raised "len() of unsized object"
    with pytest.raises(ShapeError, match=r"array 0 is a scalar \(3\), not an array of rows.*at least 1-D"):
        next(minibatches(np.array(3), batch_size=2))
    with pytest.raises(ShapeError, match=r"array 1 is a scalar \(5\)"):
        next(minibatches([1, 2], 5, batch_size=2))
    with pytest.raises(DataError, match=r"array 0 has 3 rows, array 1 has 2\); they must be aligned"):
        next(minibatches([1, 2, 3], [[1, 2], [3, 4]], batch_size=2))
    ((x, y),) = minibatches(np.arange(2), np.ones((2, 3)), batch_size=4)  # 2-D arrays: rows
    assert y.shape == (2, 3)


# ------------------------------------------------------------------ errors name the argument the user wrote
@pytest.mark.parametrize("bad", [0, -1, 1.5, None])
def test_every_path_to_the_sampler_names_n_negatives(bad):
    data = Interactions([0, 0, 1, 2], [0, 1, 0, 2], n_items=5)
    test = data.rebuild(users=[1], items=[3], ratings=None, timestamps=None)
    calls = [
        lambda: bpr_triples(data, bad),
        lambda: pointwise_samples(data, n_negatives=bad),
        lambda: sampled_candidates(data, test, bad),
        lambda: evaluate(Popularity().fit(data), test, train=data, protocol="sampled", n_negatives=bad),
        lambda: NeuMF(n_negatives=bad),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="n_negatives must be a positive integer") as info:
            call()  # the sampler's own argument is n: "n must be ..." named what the user did not write
        assert "n must" not in str(info.value)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        NegativeSampler(data, seed=0).sample([1], bad)  # there, n is the user's word


def test_too_many_negatives_are_refused_before_allocating(monkeypatch):
    data = Interactions([0, 0, 1, 2], [0, 1, 0, 2], n_items=5)
    for call in (lambda: bpr_triples(data, 10**12), lambda: pointwise_samples(data, 10**12)):
        with pytest.raises(ValueError, match=r"10{12} negatives for each of 4 rows would draw 4,000,000"):
            call()
    monkeypatch.setenv("TINYREC_MAX_BYTES", "1K")
    with pytest.raises(AllocationError, match=r"1000 negatives for each of 4 rows .* TINYREC_MAX_BYTES"):
        bpr_triples(data, 1000)
    with pytest.raises(AllocationError, match="TINYREC_MAX_BYTES"):
        NegativeSampler(data, seed=0).sample([1] * 300, 1)
    with pytest.raises(AllocationError, match="distinct negatives for each of 300 rows"):
        NegativeSampler(data, seed=0).sample_distinct([1] * 300, 2)
