"""The Module / Parameter / RowGrad / Sequential contract."""

import numpy as np
import pytest

from tinyrec.errors import BackwardBeforeForwardError, DTypeError, IndexOutOfRangeError, ShapeError
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
        self.weight.accumulate((grad_output * self._x).sum(axis=0))
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


@pytest.mark.parametrize("rows", [[0, 7, 3], [2, 2], [5, 1]])
def test_a_hand_built_rowgrad_needs_distinct_sorted_rows(rows):
    """A middle row out of order would escape the optimizer's check of the first and last rows."""
    with pytest.raises(IndexOutOfRangeError, match=r"distinct and sorted ascending.*RowGrad\.from_indices"):
        RowGrad(np.array(rows), np.ones((len(rows), 2)))


@pytest.mark.parametrize("rows", [np.array([0.0, 1.5]), np.array([True, False]), np.array(["0", "1"])])
def test_a_hand_built_rowgrad_needs_integer_rows(rows):
    with pytest.raises(DTypeError, match="RowGrad rows are row indices, integers"):
        RowGrad(rows, np.ones((2, 2)))
    with pytest.raises(ShapeError, match=r"rows of shape \(m,\) and values of shape \(m, dim\)"):
        RowGrad(np.array([[0, 1]]), np.ones((2, 2)))


def test_a_rowgrad_keeps_its_own_read_only_rows_and_native_values():
    rows, values = np.array([1, 4], dtype=">i8"), np.arange(4.0).reshape(2, 2).astype(">f4")
    grad = RowGrad(rows, values)
    assert grad.rows.dtype == np.int64 and grad.values.dtype == np.float32  # native byte order
    np.testing.assert_array_equal(grad.rows, [1, 4])
    np.testing.assert_array_equal(grad.values, values)
    rows[0] = 9  # the caller's array: the RowGrad does not follow it
    assert grad.rows[0] == 1
    with pytest.raises(ValueError, match="read-only"):
        grad.rows[0] = 9
    with pytest.raises(AttributeError):
        grad.rows = np.array([0, 9])
    assert not RowGrad.from_indices(np.array([3, 1, 3]), np.ones((3, 2))).rows.flags.writeable


def test_a_byte_swapped_rowgrad_updates_a_table_as_the_native_one_does():
    """After a native step in the same process (a stale compiled version would be hit)."""
    from tinyrec.optim import SGD, Adagrad, Adam

    rng = np.random.default_rng(0)
    rows, values = np.array([0, 2, 3]), rng.standard_normal((3, 2)).astype(np.float32)
    for make in (SGD, Adam, Adagrad):
        tables = []
        for r, v in ((rows, values), (rows.astype(">i8"), values.astype(">f4"))):
            table = Parameter(np.ones((4, 2), dtype=np.float32))
            opt = make([table], lr=0.1)
            table.grad = RowGrad(r, v)
            opt.step()
            tables.append(table.data)
        np.testing.assert_array_equal(tables[0], tables[1])


def test_from_indices_sums_at_once_into_arrays_of_its_own():
    """The caller may reuse its arrays before the optimizer's step; swapped bytes are made native."""
    from tinyrec.optim import Adam

    tables = []
    for fused in (True, False):
        indices, values = np.array([3, 1, 3], dtype=">i8"), np.arange(6.0).reshape(3, 2).astype(">f4")
        grad = RowGrad.from_indices(indices, values)
        rows, summed = grad.unsorted  # summed, in the order the rows first occur; native bytes
        np.testing.assert_array_equal(rows, [3, 1])
        assert summed.dtype == np.float32 and not rows.flags.writeable
        indices[0], values[1] = 0, 99.0  # the caller's arrays change: the RowGrad does not follow
        table = Parameter(np.ones((4, 2), dtype=np.float32))
        table.grad = grad
        Adam([table], lr=0.1, fused=fused).step()
        tables.append(table.data)
    expected = Parameter(np.ones((4, 2), dtype=np.float32))
    expected.grad = RowGrad(np.array([1, 3]), np.array([[2.0, 3.0], [4.0, 6.0]], dtype=np.float32))
    Adam([expected], lr=0.1).step()
    np.testing.assert_array_equal(tables[0], expected.data)
    np.testing.assert_array_equal(tables[1], expected.data)


def test_to_double_float_convert_parameters_buffers_and_gradients():
    from tinyrec.nn import Linear, ReLU

    net = Sequential(Linear(3, 4, seed=0), ReLU(), Linear(4, 1, seed=1))
    weight = net[0].weight  # the Parameter object survives the conversion, as in torch
    net(np.ones((2, 3), dtype=np.float32))
    net.backward(np.ones((2, 1), dtype=np.float32))
    assert net.double() is net
    assert weight is net[0].weight and weight.data.dtype == np.float64 and weight.grad.dtype == np.float64
    assert net[0].dtype == np.float64
    y = net(np.ones((2, 3)))  # float64 in, no dtype given to the ReLU
    assert y.dtype == np.float64
    net.float()
    assert all(p.data.dtype == np.float32 for p in net.parameters())
    with pytest.raises(DTypeError, match=r"\.double\(\)"):
        net(np.ones((2, 3)))  # a float32 layer refuses float64 and says how to convert it
    with pytest.raises(DTypeError, match="np.float64"):
        net.to(np.int64)


def test_to_converts_float_buffers_only():
    net = Net()
    net.register_buffer("steps", np.zeros(1, dtype=np.int64))
    net.to(np.float32)
    assert net.counter.dtype == np.float32 and net.steps.dtype == np.int64


def test_sequential_checks_its_input_once_and_names_a_layer_that_does_not_fit():
    from tinyrec.nn import Linear, ReLU

    net = Sequential(Linear(4, 3, seed=0), ReLU(), Linear(5, 2, seed=1))
    with pytest.raises(ShapeError, match="in_features=4"):  # the first layer's spec
        net(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"Sequential layer 2, Linear\(in_features=5"):
        net(np.ones((2, 4), dtype=np.float32))


def test_a_wrong_gradient_inside_a_composite_backward_is_named_at_the_child():
    class Wrong(Module):
        def __init__(self):
            self.inner = Scale(3)

        def forward(self, x):
            return self.inner.forward(x).sum(axis=1)

        def backward(self, grad_output):
            return self.inner.backward(grad_output)  # forgot to broadcast dY back to (n, 3)

    net = Wrong()
    net(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"Scale.backward got grad_output of shape \(2,\).*\(2, 3\)"):
        net.backward(np.ones(2))


def test_backward_of_a_subclass_calling_super_checks_once():
    class Doubled(Scale):
        def forward(self, x):
            return 2 * super().forward(x)

        def backward(self, grad_output):
            return super().backward(2 * grad_output)

    layer = Doubled(2)
    np.testing.assert_array_equal(layer(np.ones((1, 2))), [[4.0, 4.0]])
    np.testing.assert_array_equal(layer.backward(np.ones((1, 2))), [[4.0, 4.0]])
    with pytest.raises(ShapeError):
        layer.backward(np.ones((1, 3)))


def test_from_indices_refuses_a_negative_index_by_name():
    with pytest.raises(IndexOutOfRangeError, match=r"got index -2; indices are rows of a table"):
        RowGrad.from_indices(np.array([3, -2, 0]), np.ones((3, 2)))


@pytest.mark.parametrize(
    "indices, values, error, words",
    [
        (np.array([1, 2, 3]), np.ones((2, 4)), ShapeError, "one gradient vector per index"),
        (np.array([1, 2]), np.float64(3.0), ShapeError, "one gradient vector per index"),
        (np.array([1.5, 2.0]), np.ones((2, 4)), DTypeError, "integer indices"),
        (np.array(["a", "b"]), np.ones((2, 4)), DTypeError, "integer indices"),
        (np.array([1, 2]), np.ones((2, 4), dtype=complex), DTypeError, "real gradients"),
    ],
    ids=["fewer vectors", "a scalar", "float indices", "text indices", "complex values"],
)
def test_from_indices_names_what_is_wrong_with_its_arrays(indices, values, error, words):
    with pytest.raises(error, match=words):
        RowGrad.from_indices(indices, values)


def test_from_indices_takes_half_precision_and_ids_of_any_shape():
    grad = RowGrad.from_indices(np.array([[3, 1], [3, 0]]), np.ones((2, 2, 4), dtype=np.float16))
    np.testing.assert_array_equal(grad.rows, [0, 1, 3])
    np.testing.assert_array_equal(grad.values, [[1.0] * 4, [1.0] * 4, [2.0] * 4])
    assert grad.values.dtype == np.float64  # summed in 64 bits: the kernels take float32 or float64
