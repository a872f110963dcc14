"""The Module / Parameter / RowGrad / Sequential contract."""

import numpy as np
import pytest

from tinyrec.errors import BackwardBeforeForwardError, ShapeError
from tinyrec.nn.module import Module, Parameter, RowGrad, Sequential


class Scale(Module):
    """y = w * x with a learnable vector w (a minimal layer for testing the contract)."""

    def __init__(self, dim, value=2.0):
        self.weight = Parameter(np.full(dim, value))
        self._x = None

    def forward(self, x):
        self._x = x
        return self.weight.data * x

    def backward(self, grad_output):
        x = self._require_cache("_x")
        self.weight.accumulate((grad_output * x).sum(axis=0))
        return grad_output * self.weight.data


class Net(Module):
    def __init__(self):
        self.first = Scale(3, 2.0)
        self.blocks = [Scale(3, 3.0), Scale(3, 4.0)]
        self.register_buffer("counter", np.zeros(1))


def test_named_parameters_order_and_dotted_names():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["first.weight", "blocks.0.weight", "blocks.1.weight"]
    assert list(dict(net.named_buffers())) == ["counter"]


def test_shared_parameter_listed_once():
    a = Scale(2)
    net = Sequential(a, a)
    assert len(list(net.parameters())) == 1


def test_sequential_forward_backward_chain_rule():
    net = Sequential(Scale(2, 2.0), Scale(2, 3.0))
    x = np.array([[1.0, 2.0]])
    np.testing.assert_array_equal(net(x), [[6.0, 12.0]])
    dx = net.backward(np.ones((1, 2)))
    np.testing.assert_array_equal(dx, [[6.0, 6.0]])
    # d(6x)/dw1 = 3x, d/dw2 = 2x
    np.testing.assert_array_equal(net[0].weight.grad, [3.0, 6.0])
    np.testing.assert_array_equal(net[1].weight.grad, [2.0, 4.0])
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "1.weight"]


def test_gradients_accumulate_until_zero_grad():
    layer = Scale(2)
    x = np.array([[1.0, 1.0]])
    for _ in range(2):
        layer(x)
        layer.backward(np.ones((1, 2)))
    np.testing.assert_array_equal(layer.weight.grad, [2.0, 2.0])
    layer.zero_grad()
    assert layer.weight.grad is None


def test_backward_before_forward_raises():
    with pytest.raises(BackwardBeforeForwardError, match="before forward"):
        Scale(2).backward(np.ones((1, 2)))


def test_state_dict_round_trip_and_errors():
    net = Net()
    state = net.state_dict()
    state["first.weight"][:] = 7.0  # a copy: the module is unchanged
    assert net.first.weight.data[0] == 2.0
    other = Net()
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.first.weight.data, [7.0, 7.0, 7.0])
    with pytest.raises(KeyError, match="missing"):
        other.load_state_dict({"first.weight": np.zeros(3)})
    bad = dict(state, **{"first.weight": np.zeros(4)})
    with pytest.raises(ShapeError, match="first.weight"):
        other.load_state_dict(bad)


def test_train_eval_switches_every_module():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_rowgrad_accumulation_sparse_and_dense():
    p = Parameter(np.zeros((5, 2)))
    p.accumulate(RowGrad.from_indices(np.array([1, 3, 1]), np.ones((3, 2))))
    assert isinstance(p.grad, RowGrad)
    np.testing.assert_array_equal(p.grad.rows, [1, 3])
    np.testing.assert_array_equal(p.grad.values, [[2.0, 2.0], [1.0, 1.0]])
    p.accumulate(RowGrad.from_indices(np.array([3, 4]), np.ones((2, 2))))
    np.testing.assert_array_equal(p.grad.rows, [1, 3, 4])
    np.testing.assert_array_equal(p.grad.values[1], [2.0, 2.0])
    p.accumulate(np.ones((5, 2)))  # sparse + dense -> dense
    expected = np.ones((5, 2))
    expected[1] += 2.0
    expected[3] += 2.0
    expected[4] += 1.0
    np.testing.assert_array_equal(p.grad, expected)


def test_accumulate_does_not_alias_incoming_gradient():
    p = Parameter(np.zeros(3))
    g = np.ones(3)
    p.accumulate(g)
    p.accumulate(g)
    np.testing.assert_array_equal(g, np.ones(3))


def test_accumulate_rejects_wrong_shape():
    p = Parameter(np.zeros((2, 3)))
    with pytest.raises(ShapeError):
        p.accumulate(np.zeros((3, 2)))


def test_rowgrad_from_empty_batch():
    grad = RowGrad.from_indices(np.zeros(0, dtype=np.int64), np.zeros((0, 3)))
    assert grad.rows.shape == (0,) and grad.values.shape == (0, 3)
