"""Parameter, RowGrad, Module and Sequential: the contract every layer of tinyrec follows.

A module computes ``Y = f(X; θ)`` in :meth:`Module.forward`, caching what it needs, and in
:meth:`Module.backward` receives ``dY`` (the gradient of the loss with respect to its output) and

* returns ``dX`` (the gradient with respect to each input; a tuple when there are several, ``None``
  for integer inputs such as indices), and
* **adds** ``dθ`` to ``θ.grad`` for each of its parameters.

Gradients accumulate across ``backward`` calls until :meth:`Module.zero_grad`, as in PyTorch, so a
parameter used twice (a shared embedding) receives the sum of both contributions.

There is no autograd tape: a composite module writes its own ``backward``, calling its children's
``backward`` in the reverse order of ``forward`` and summing gradients where branches meet.

Where the checks are
--------------------
``forward`` and ``backward`` hold the math and nothing else. Bad input is caught at two doors:

* ``layer(x)`` (:meth:`Module.__call__`) checks the inputs against the layer's declared
  ``input_spec`` (:mod:`tinyrec.nn.spec`), then runs ``forward``. A composite calls
  ``child.forward(x)`` for the children it built, so a batch is checked once, where it enters.
* ``backward(dY)`` is wrapped once, when a subclass is defined (:meth:`Module.__init_subclass__`):
  the wrapper raises :class:`~tinyrec.errors.BackwardBeforeForwardError` before any ``forward``,
  and checks that each ``dY`` is an array of the shape and dtype of the output the last
  ``forward`` returned (a constant-time check; no pass over the data). A mistake inside a
  hand-written composite backward is therefore caught at the child it reaches, by name.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from ..errors import BackwardBeforeForwardError, DTypeError, IndexOutOfRangeError, ShapeError, TinyrecError
from ..kernels.embedding import index_span, sum_repeats
from ..validation import resolve_dtype
from .spec import check_inputs, check_row_gradient


class RowGrad:
    """A row-sparse gradient of a 2-D table: only the rows that a batch touched.

    Attributes
    ----------
    rows : (n,) int64, read-only
        Distinct row indices, sorted ascending.
    values : (n, dim) float
        ``values[j]`` is the gradient of row ``rows[j]``.

    The dense equivalent is ``G = zeros(table.shape); G[rows] = values``; :meth:`to_dense` builds
    it (for tests and small tables only: embedding tables never materialize it in training).

    :meth:`from_indices` builds one from any indices (repeats summed). ``RowGrad(rows, values)``
    takes rows that are already distinct and sorted, and checks that once: integers, strictly
    increasing, one row of ``values`` each. It keeps its own read-only int64 copy of ``rows``, so
    the optimizer's constant-time check of the first and last row bounds every row its kernels
    write, and ``values`` in the machine's byte order.

    **Summed at once, sorted when read.** :meth:`from_indices` sums the vectors of repeated indices
    in one pass, with a hash table instead of a sort (a Numba kernel,
    :func:`~tinyrec.kernels.embedding.sum_repeats`); the sums are arrays of the RowGrad's own, so
    the caller may reuse its arrays at once. Their rows are distinct but in the order they first
    occur in the batch (:attr:`unsorted`), and are sorted the first time ``rows`` or ``values`` is
    read. An optimizer's default step updates the unsorted rows as they are (one kernel, no sort);
    reading ``rows``/``values`` is the readable path, and gives the same result.
    """

    __slots__ = ("_rows", "_values", "_unsorted", "_span")

    def __init__(self, rows: np.ndarray, values: np.ndarray):
        rows, values = np.asarray(rows), np.asarray(values)
        if values.ndim != 2 or rows.shape != (values.shape[0],):
            raise ShapeError(
                f"RowGrad needs rows of shape (m,) and values of shape (m, dim); "
                f"got {rows.shape} and {values.shape}"
            )
        if rows.size and rows.dtype.kind not in "iu":
            raise DTypeError(f"RowGrad rows are row indices, integers; got dtype {rows.dtype}")
        rows = rows.astype(np.int64)  # a copy of its own, frozen below: the order checked here stays
        if np.any(rows[1:] <= rows[:-1]):
            raise IndexOutOfRangeError(_UNSORTED_ROWS.format(rows=rows if rows.size < 20 else "..."))
        self._init(rows, values.astype(values.dtype.newbyteorder("="), copy=False))

    def _init(self, rows: np.ndarray, values: np.ndarray) -> None:
        rows.flags.writeable = False
        self._rows, self._values, self._unsorted = rows, values, None
        self._span = (int(rows[0]), int(rows[-1])) if rows.size else None

    @property
    def rows(self) -> np.ndarray:
        if self._unsorted is not None:
            self._sort()
        return self._rows

    @property
    def values(self) -> np.ndarray:
        if self._unsorted is not None:
            self._sort()
        return self._values

    @property
    def unsorted(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(rows, values)`` summed but not yet sorted, or None once sorted (or built sorted).

        ``rows`` (read-only) are distinct, in the order they first occurred in the indices given
        to :meth:`from_indices`; ``values[j]`` is the summed gradient of ``rows[j]``.
        """
        return self._unsorted

    @property
    def dim(self) -> int:
        """The width of the table (the length of each gradient vector)."""
        return (self._values if self._unsorted is None else self._unsorted[1]).shape[1]

    @property
    def dtype(self) -> np.dtype:
        return (self._values if self._unsorted is None else self._unsorted[1]).dtype

    def span(self) -> tuple[int, int] | None:
        """The smallest and largest row, or None when there is none: bounds every row an update writes."""
        return self._span

    def _sort(self) -> None:
        """Put the summed rows in ascending order (the readable form)."""
        rows, values = self._unsorted
        order = np.argsort(rows)
        self._init(rows[order], values[order])

    @classmethod
    def from_indices(cls, indices: np.ndarray, values: np.ndarray) -> RowGrad:
        """Build a RowGrad from possibly repeated ``indices`` (ints >= 0): repeated rows are summed.

        ``values`` holds one gradient vector per index (``(*indices.shape, dim)``, or ``(n, dim)``).
        """
        indices, values = check_row_gradient(indices, values)  # flat int64 indices, (n, dim) values
        span = tuple(map(int, index_span(indices))) if indices.size else None
        if span is not None and span[0] < 0:
            raise IndexOutOfRangeError(
                f"RowGrad.from_indices got index {span[0]}; indices are rows of a table, 0 or more"
            )
        rows, summed = sum_repeats(indices, values)  # new arrays: nothing shared with the caller's
        rows.flags.writeable = False
        grad = cls.__new__(cls)
        grad._rows = grad._values = None
        grad._unsorted, grad._span = (rows, summed), span
        return grad

    def to_dense(self, shape: tuple[int, int]) -> np.ndarray:
        """The dense gradient array of ``shape`` (zeros outside ``rows``)."""
        dense = np.zeros(shape, dtype=self.values.dtype)
        dense[self.rows] = self.values  # rows are distinct, so plain assignment is exact
        return dense

    def __add__(self, other: RowGrad) -> RowGrad:
        """The sum of two row gradients of the same table (rows of both, repeats summed)."""
        a, b = self._unsorted or (self.rows, self.values), other._unsorted or (other.rows, other.values)
        return RowGrad.from_indices(np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]]))

    def __repr__(self) -> str:
        return f"RowGrad(rows={len(self.rows)}, dim={self.dim}, dtype={self.dtype})"


_UNSORTED_ROWS = (
    "RowGrad rows must be distinct and sorted ascending, got {rows}; build it with "
    "RowGrad.from_indices(indices, values), which sorts the rows and sums the values of repeated ones"
)


class Parameter:
    """A learnable array: ``.data`` and its accumulated gradient ``.grad``.

    ``.grad`` is ``None`` (no gradient since the last :meth:`zero_grad`), a dense ndarray of
    ``data``'s shape, or a :class:`RowGrad` for embedding tables.
    """

    __slots__ = ("data", "grad")

    def __init__(self, data: np.ndarray):
        self.data = np.asarray(data)
        self.grad = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def accumulate(self, grad) -> None:
        """Add ``grad`` (dense array or RowGrad) to ``self.grad``."""
        if isinstance(grad, RowGrad):
            if (grad.dim,) != self.data.shape[1:]:
                raise ShapeError(f"RowGrad of dim {grad.dim} for a table of shape {self.shape}")
            if self.grad is None:
                self.grad = grad
            elif isinstance(self.grad, RowGrad):
                self.grad = self.grad + grad
            else:  # dense += sparse: rows are distinct, so fancy-index += is exact
                self.grad[grad.rows] += grad.values
            return
        if grad.shape != self.data.shape:
            raise ShapeError(f"gradient of shape {grad.shape} for a parameter of shape {self.shape}")
        if self.grad is None:
            self.grad = np.array(grad, dtype=self.data.dtype, copy=True)
        elif isinstance(self.grad, RowGrad):
            dense = self.grad.to_dense(self.data.shape)
            dense += grad
            self.grad = dense
        else:
            self.grad += grad

    def dense_grad(self) -> np.ndarray | None:
        """``.grad`` as a dense array (a RowGrad is expanded), or None."""
        if isinstance(self.grad, RowGrad):
            return self.grad.to_dense(self.data.shape)
        return self.grad

    def zero_grad(self) -> None:
        self.grad = None

    def cast(self, dtype) -> None:
        """Convert ``.data`` and ``.grad`` to ``dtype`` (used by :meth:`Module.to`)."""
        self.data = self.data.astype(dtype, copy=False)
        if isinstance(self.grad, RowGrad):
            self.grad = RowGrad(self.grad.rows, self.grad.values.astype(dtype, copy=False))
        elif self.grad is not None:
            self.grad = self.grad.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"


# -- the wrappers that Module.__init_subclass__ puts around forward and backward ---------------


class _Output(NamedTuple):
    """The shape and dtype of one output array of the last ``forward``."""

    shape: tuple
    dtype: np.dtype


def _describe(output):
    """``output``'s structure with each array replaced by its :class:`_Output` (None elsewhere)."""
    if isinstance(output, np.ndarray):
        return _Output(output.shape, output.dtype)
    if isinstance(output, (tuple, list)):
        return tuple(_describe(item) for item in output)
    return None


def _remember_output(forward):
    """``forward``, keeping a description of what it returned for the gradient check."""

    @functools.wraps(forward)
    def remembering_forward(self, *inputs, **kwargs):
        output = forward(self, *inputs, **kwargs)
        if type(self).forward is remembering_forward:  # the outermost forward (not a super() call)
            self._last_output = _describe(output)
        return output

    return remembering_forward


def _check_gradients(backward):
    """``backward``, first checking each gradient against the output the last forward returned.

    A gradient argument whose default is None may be None (no gradient flows into that output,
    as RNN's ``grad_h_n``); inside a tuple (LSTM's ``(dh_n, dc_n)``) each part may be None too.
    """
    parameters = list(inspect.signature(backward).parameters.values())[1:]
    names = [p.name for p in parameters]
    may_be_none = [p.default is None for p in parameters]

    @functools.wraps(backward)
    def checked_backward(self, *grads, **named):
        if type(self).backward is checked_backward:  # the outermost backward (not a super() call)
            last = self.__dict__.get("_last_output", _NOT_RUN)
            if last is _NOT_RUN:
                raise BackwardBeforeForwardError(
                    f"{type(self).__name__}.backward called before forward; call forward first"
                )
            outputs = last if isinstance(last, tuple) and not isinstance(last, _Output) else (last,)
            given = list(grads) + [named[n] for n in names[len(grads):] if n in named]
            for i, (grad, output) in enumerate(zip(given, outputs, strict=False)):
                name = names[i] if i < len(names) else f"gradient {i}"
                _check_gradient(self, name, grad, output, i < len(names) and may_be_none[i])
        return backward(self, *grads, **named)

    return checked_backward


_NOT_RUN = object()


def _check_gradient(layer, name: str, grad, output, optional: bool) -> None:
    """Raise unless ``grad`` fits ``output`` (an :class:`_Output`, a tuple of them, or None)."""
    where = f"{type(layer).__name__}.backward"
    if grad is None:
        if optional or output is None:
            return
        raise DTypeError(f"{where} needs {name} as a numpy array, got None")
    if output is None:
        raise ShapeError(f"{where} got {name}, but the last forward returned no such output; pass None")
    if isinstance(output, tuple) and not isinstance(output, _Output):
        if not isinstance(grad, (tuple, list)) or len(grad) != len(output):
            raise ShapeError(
                f"{where}: {name} must be a tuple of {len(output)} arrays (or None), like the output the "
                f"last forward returned"
            )
        for j, (part, out) in enumerate(zip(grad, output, strict=True)):
            _check_gradient(layer, f"{name}[{j}]", part, out, True)
        return
    if not isinstance(grad, np.ndarray):
        raise DTypeError(f"{where} needs {name} as a numpy array, got {type(grad).__name__}")
    if grad.dtype != output.dtype:
        raise DTypeError(
            f"{where} got {name} of dtype {grad.dtype} but the layer computes in {output.dtype}; "
            f"cast it with .astype(np.{output.dtype.name})"
        )
    if grad.shape != output.shape:
        raise ShapeError(
            f"{where} got {name} of shape {grad.shape}, but the last forward returned shape "
            f"{output.shape}; they must match"
        )


class Module:
    """Base class of every layer and network.

    Subclasses implement ``forward(*inputs)`` and ``backward(grad_output)``, and declare their
    inputs in ``input_spec`` (see :mod:`tinyrec.nn.spec`). Parameters, child modules and buffers
    are found by walking the instance's attributes in the order they were assigned, so
    ``named_parameters()`` has a stable order (``mlp.0.weight``). Lists and tuples of modules are
    walked too (named ``name.0``, ``name.1``, ...).

    Buffers (non-learnable state saved with the model, like BatchNorm's running mean) are
    declared by :meth:`register_buffer`.
    """

    training: bool = True
    #: What ``__call__`` checks before ``forward``: a tuple of :class:`~tinyrec.nn.spec.Floats` /
    #: :class:`~tinyrec.nn.spec.Ids`, one per input. Empty: nothing is checked.
    input_spec: tuple = ()

    # -- the two methods every layer writes ---------------------------------------------------
    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, grad_output):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    # -- the public doors: checked input, checked gradient ------------------------------------
    def __call__(self, *inputs, **kwargs):
        """Check the inputs against the layer's spec (:meth:`check_inputs`), then run ``forward``."""
        inputs = self.check_inputs(*inputs, **kwargs)
        return self.forward(*inputs, **kwargs)

    def check_inputs(self, *inputs, **kwargs) -> tuple:
        """Raise a clear error for inputs ``forward`` cannot take; return them (ids as int64).

        The default applies ``input_spec``. A layer whose inputs must agree with each other
        overrides this, calls ``super().check_inputs(...)`` and adds those rules.
        """
        return check_inputs(self, inputs, kwargs)

    def __init_subclass__(cls, **kwargs):
        """Wrap the ``forward`` and ``backward`` a subclass defines (see the module docstring)."""
        super().__init_subclass__(**kwargs)
        if "forward" in vars(cls):
            cls.forward = _remember_output(vars(cls)["forward"])
        if "backward" in vars(cls):
            cls.backward = _check_gradients(vars(cls)["backward"])

    # -- traversal ----------------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Module) for v in value):
                for i, child in enumerate(value):
                    yield f"{name}.{i}", child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def modules(self) -> Iterator[Module]:
        """This module and every descendant, depth first."""
        yield self
        for child in self.children():
            yield from child.modules()

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted_name, Parameter)`` for this module and its children; shared ones once."""
        seen: set[int] = set()
        for name, param in self._named_parameters_all(prefix):
            if id(param) not in seen:
                seen.add(id(param))
                yield name, param

    def _named_parameters_all(self, prefix: str):
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child._named_parameters_all(prefix + name + ".")

    def parameters(self) -> Iterator[Parameter]:
        for _, param in self.named_parameters():
            yield param

    def register_buffer(self, name: str, array: np.ndarray) -> None:
        """Declare ``self.<name>`` as a buffer: saved in ``state_dict`` but not learned."""
        buffers = self.__dict__.setdefault("_buffer_names", [])
        if name not in buffers:
            buffers.append(name)
        setattr(self, name, array)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for name in self.__dict__.get("_buffer_names", []):
            yield prefix + name, getattr(self, name)
        for name, child in self.named_children():
            yield from child.named_buffers(prefix + name + ".")

    # -- training state -----------------------------------------------------------------------
    def zero_grad(self) -> None:
        for param in self.parameters():
            param.zero_grad()

    def train(self, mode: bool = True) -> Module:
        """Switch this module and its children to training mode (Dropout active)."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode (Dropout is the identity, BatchNorm uses running stats)."""
        return self.train(False)

    def to(self, dtype) -> Module:
        """Convert every parameter, float buffer and gradient to ``dtype`` (float32 or float64).

        As ``torch.nn.Module.to(dtype)``: the Parameter objects stay the same (their ``.data`` is
        replaced), so build the optimizer after converting. Returns ``self``.
        """
        dtype = resolve_dtype(dtype)
        for module in self.modules():
            if "dtype" in vars(module):
                module.dtype = dtype
            for value in vars(module).values():
                if isinstance(value, Parameter):
                    value.cast(dtype)
            for name in module.__dict__.get("_buffer_names", []):
                buffer = getattr(module, name)
                if buffer.dtype.kind == "f":
                    setattr(module, name, buffer.astype(dtype))
        return self

    def double(self) -> Module:
        """``self.to(np.float64)``, as torch's ``Module.double()``."""
        return self.to(np.float64)

    def float(self) -> Module:
        """``self.to(np.float32)``, as torch's ``Module.float()``."""
        return self.to(np.float32)

    # -- saving -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """A plain dict of copies of every parameter and buffer, keyed by dotted name."""
        state = {name: param.data.copy() for name, param in self.named_parameters()}
        state.update({name: np.array(buf, copy=True) for name, buf in self.named_buffers()})
        return state

    def load_state_dict(self, state: dict[str, np.ndarray], strict: bool = True) -> None:
        """Copy arrays from ``state`` into the parameters and buffers of the same name.

        Shapes must match exactly; values are cast to each parameter's dtype. With ``strict``,
        missing and unexpected keys raise a KeyError listing them.
        """
        params = dict(self.named_parameters())
        buffers = dict(self.named_buffers())
        expected = set(params) | set(buffers)
        if strict:
            missing = sorted(expected - set(state))
            unexpected = sorted(set(state) - expected)
            if missing or unexpected:
                raise KeyError(f"state_dict mismatch: missing {missing}, unexpected {unexpected}")
        for name, value in state.items():
            if name not in expected:
                continue
            value = np.asarray(value)
            target = params[name].data if name in params else buffers[name]
            if value.shape != target.shape:
                raise ShapeError(f"{name}: state has shape {value.shape}, module has {target.shape}")
            # write in place so that optimizers holding the Parameter keep seeing it
            target[...] = value.astype(target.dtype, copy=False)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, child in children:
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        return "\n".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied one after another: ``Y = f_n(...f_2(f_1(X)))``.

    ``backward`` runs the chain rule in reverse: ``dX = f_1'(...f_n'(dY))``. Children are named
    ``"0"``, ``"1"``, ... as in ``torch.nn.Sequential``.

    The input is checked once, against the first layer's spec; the layers then run unchecked. A
    chain whose sizes do not fit (``Linear(4, 3)`` then ``Linear(5, 2)``) raises a ShapeError
    naming the layer that could not take its input.
    """

    def __init__(self, *modules: Module):
        for m in modules:
            if not isinstance(m, Module):
                raise TypeError(f"Sequential takes Modules, got {type(m).__name__}")
        self.layers = list(modules)

    def named_children(self):
        for i, module in enumerate(self.layers):
            yield str(i), module

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def check_inputs(self, *inputs, **kwargs) -> tuple:
        return self.layers[0].check_inputs(*inputs, **kwargs) if self.layers else inputs

    def forward(self, x):
        for i, module in enumerate(self.layers):
            try:
                x = module.forward(x)
            except (ValueError, TypeError) as exc:
                if isinstance(exc, TinyrecError):
                    raise
                raise ShapeError(f"Sequential layer {i}, {module!r}, cannot take an input of shape "
                                 f"{np.shape(x)}: {exc}") from exc
        return x

    def backward(self, grad_output):
        grad = grad_output
        for module in reversed(self.layers):
            grad = module.backward(grad)
        return grad
