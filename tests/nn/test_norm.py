"""Tests of tinyrec.nn.norm: LayerNorm and BatchNorm1d."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tinyrec.errors import BackwardBeforeForwardError, DTypeError, ShapeError
from tinyrec.gradcheck import check_module
from tinyrec.nn.norm import BatchNorm1d, LayerNorm

# -- LayerNorm ------------------------------------------------------------------------------------


def test_layernorm_hand_computed():
    ln = LayerNorm(3, eps=0.0 + 1e-12, dtype=np.float64)
    ln.weight.data[...] = [1.0, 2.0, 3.0]
    ln.bias.data[...] = [0.0, 1.0, 0.0]
    # x = [1, 2, 3]: μ = 2, σ² = 2/3, X̂ = [−1, 0, 1] · sqrt(3/2)
    y = ln(np.array([[1.0, 2.0, 3.0]]))
    s = np.sqrt(1.5)
    np.testing.assert_allclose(y, [[-s, 1.0, 3 * s]], rtol=1e-10)
    # dY = [1, 0, 0]: g = [1, 0, 0], mean g = 1/3, mean g X̂ = −s/3
    # dX = r (g − 1/3 − X̂ (−s/3)) with r = s, X̂ = [−s, 0, s]
    dx = ln.backward(np.array([[1.0, 0.0, 0.0]]))
    xhat = np.array([-s, 0, s])
    np.testing.assert_allclose(dx[0], s * (np.array([1.0, 0, 0]) - 1 / 3 + xhat * s / 3), rtol=1e-10)
    np.testing.assert_allclose(ln.weight.grad, [-s, 0, 0], rtol=1e-10)
    np.testing.assert_allclose(ln.bias.grad, [1.0, 0, 0])


def test_layernorm_output_is_standardized_over_the_trailing_shape():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5)) * 3 + 2
    y = LayerNorm((3, 5), dtype=np.float64)(x)
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(1, 2)), 1, rtol=1e-4)  # eps makes it slightly below 1
    y_last = LayerNorm(5, dtype=np.float64)(x)
    np.testing.assert_allclose(y_last.mean(axis=2), 0, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    lead=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    normalized=st.lists(st.integers(2, 4), min_size=1, max_size=2),
    affine=st.booleans(),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_layernorm_gradcheck(lead, normalized, affine, bias, seed):
    # dX of one row lies in a (D − 2)-dimensional subspace (orthogonal to 1 and to X̂): with D <= 3
    # it can be ~0 by chance (D = 2: exactly O(eps)), and a relative error of round-off noise is
    # meaningless. Hence D >= 4, and dY drawn from another seed than X (seed + 1).
    assume(np.prod(normalized) >= 4)
    rng = np.random.default_rng(seed)
    ln = LayerNorm(tuple(normalized), elementwise_affine=affine, bias=bias, dtype=np.float64)
    for p in ln.parameters():  # move γ, β away from 1, 0 so their gradients are exercised
        p.data[...] = rng.standard_normal(p.shape)
    x = rng.standard_normal((*lead, *normalized))
    check_module(ln, x, seed=seed + 1).assert_ok(1e-6)


def test_layernorm_parameters_and_errors():
    assert [n for n, _ in LayerNorm(4).named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in LayerNorm(4, bias=False).named_parameters()] == ["weight"]
    assert list(LayerNorm(4, elementwise_affine=False).parameters()) == []
    ln = LayerNorm((2, 3))
    with pytest.raises(ShapeError, match=r"last 2 dimension\(s\) are \(2, 3\)"):
        ln(np.zeros((4, 3, 2), dtype=np.float32))
    with pytest.raises(ShapeError):
        ln(np.zeros((3,), dtype=np.float32))
    with pytest.raises(DTypeError):
        ln(np.zeros((4, 2, 3)))
    with pytest.raises(BackwardBeforeForwardError):
        ln.backward(np.zeros((4, 2, 3), dtype=np.float32))
    ln(np.zeros((4, 2, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match="grad_output of shape"):
        ln.backward(np.zeros((4, 2, 2), dtype=np.float32))
    with pytest.raises(ShapeError, match="normalized_shape"):
        LayerNorm(0)
    with pytest.raises(ValueError, match="eps"):
        LayerNorm(3, eps=0.0)


# -- BatchNorm1d ----------------------------------------------------------------------------------


def test_batchnorm_running_statistics_hand_computed():
    bn = BatchNorm1d(1, momentum=0.1, dtype=np.float64)
    x = np.array([[1.0], [3.0]])  # mean 2, biased var 1, unbiased var 2
    y = bn(x)
    np.testing.assert_allclose(y[:, 0], np.array([-1.0, 1.0]) / np.sqrt(1 + 1e-5))
    np.testing.assert_allclose(bn.running_mean, [0.9 * 0 + 0.1 * 2])
    np.testing.assert_allclose(bn.running_var, [0.9 * 1 + 0.1 * 2])
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    y_eval = bn(np.array([[0.2]]))  # eval: (x − running_mean) / sqrt(running_var + eps), batch of 1 fine
    np.testing.assert_allclose(y_eval, [[0.0]], atol=1e-15)
    assert int(bn.num_batches_tracked) == 1  # eval does not update


def test_batchnorm_cumulative_average_when_momentum_is_none():
    rng = np.random.default_rng(0)
    bn = BatchNorm1d(3, momentum=None, dtype=np.float64)
    batches = [rng.standard_normal((5, 3, 4)) + i for i in range(3)]
    for b in batches:
        bn(b)
    np.testing.assert_allclose(bn.running_mean, np.mean([b.mean(axis=(0, 2)) for b in batches], axis=0))
    np.testing.assert_allclose(bn.running_var, np.mean([b.var(axis=(0, 2), ddof=1) for b in batches], axis=0))


def test_batchnorm_training_output_is_standardized_per_channel():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 3, 6)) * np.array([1.0, 5.0, 0.1])[:, None] + 4
    y = BatchNorm1d(3, dtype=np.float64)(x)
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2)), 1, rtol=1e-2)


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(2, 5),
    channels=st.integers(1, 3),
    length=st.one_of(st.none(), st.integers(1, 4)),
    mode=st.sampled_from(["train", "eval", "no-running-stats-eval"]),
    affine=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_batchnorm_gradcheck(batch, channels, length, mode, affine, seed):
    assume(batch * (length or 1) >= 4)  # m >= 4 values per channel, as in test_layernorm_gradcheck
    rng = np.random.default_rng(seed)
    tracked = mode != "no-running-stats-eval"
    bn = BatchNorm1d(channels, affine=affine, track_running_stats=tracked, dtype=np.float64)
    for p in bn.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    if bn.track_running_stats:
        bn.running_mean[...] = rng.standard_normal(channels)
        bn.running_var[...] = rng.uniform(0.5, 2.0, channels)
    if mode != "train":
        bn.eval()
    shape = (batch, channels) if length is None else (batch, channels, length)
    check_module(bn, rng.standard_normal(shape), seed=seed + 1).assert_ok(1e-6)


def test_batchnorm_without_running_stats_has_no_buffers_and_uses_batch_statistics_in_eval():
    bn = BatchNorm1d(2, track_running_stats=False, dtype=np.float64)
    assert bn.running_mean is None and bn.state_dict().keys() == {"weight", "bias"}
    x = np.random.default_rng(0).standard_normal((5, 2)) + 3
    np.testing.assert_allclose(bn.eval()(x), bn.train()(x))


def test_batchnorm_state_dict_round_trip():
    bn = BatchNorm1d(3, dtype=np.float64)
    bn(np.random.default_rng(0).standard_normal((4, 3)))
    state = bn.state_dict()
    assert set(state) == {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
    fresh = BatchNorm1d(3, dtype=np.float64)
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.running_var, bn.running_var)
    assert int(fresh.num_batches_tracked) == 1


def test_batchnorm_errors():
    bn = BatchNorm1d(3)
    with pytest.raises(ShapeError, match=r"\(batch, 3\) or \(batch, 3, length\)"):
        bn(np.zeros((4, 2), dtype=np.float32))
    with pytest.raises(ShapeError):
        bn(np.zeros((4,), dtype=np.float32))
    with pytest.raises(ShapeError, match="more than 1 value per channel"):
        bn(np.zeros((1, 3), dtype=np.float32))
    bn(np.zeros((1, 3, 2), dtype=np.float32))  # 2 values per channel: fine
    with pytest.raises(DTypeError):
        bn(np.zeros((4, 3)))
    with pytest.raises(BackwardBeforeForwardError):
        BatchNorm1d(3).backward(np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="num_features must be a positive integer"):
        BatchNorm1d(0)
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm1d(3, momentum=1.5)


@pytest.mark.parametrize("build", [lambda eps: LayerNorm(3, eps=eps), lambda eps: BatchNorm1d(3, eps=eps)])
@pytest.mark.parametrize("bad", [math.inf, math.nan, None, 0.0, -1e-5, "1e-5", True])
def test_eps_must_be_a_finite_positive_number(build, bad):
    # torch accepts eps=inf (an all-zero output) and eps=None failed with a raw TypeError
    with pytest.raises(ValueError, match=r"eps must be a finite number > 0, got"):
        build(bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, "0.1", True, -0.1])
def test_batchnorm_momentum_must_be_a_number_in_0_1_or_none(bad):
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0.0, 1.0\], got"):
        BatchNorm1d(3, momentum=bad)
