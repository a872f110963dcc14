"""``compare_with_torch``: a tinyrec layer and a torch module, same weights, same inputs, same ``dY``.

The two modules are brought to the same weights through the state dict (torch's into tinyrec's,
or tinyrec's into torch's: tinyrec's layers use torch's parameter names), converted to float64,
run forward on the same inputs, and backward from the same ``dY`` (torch: ``Σ Y ⊙ dY`` is
back-propagated). The :class:`TorchComparison` holds the largest absolute difference of each
output, each float input's gradient, each parameter's gradient and each buffer after the forward
(BatchNorm's running statistics). torch is imported here, inside the function, never by the rest
of tinyrec.

Example::

    import torch
    from tinyrec import nn
    from tinyrec.testing import compare_with_torch
    result = compare_with_torch(nn.GRU(4, 5), torch.nn.GRU(4, 5, batch_first=True), x)
    print(result)                 # one line per compared array
    result.assert_close(1e-10)    # AssertionError naming the arrays that differ more
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentTypeError
from ..gradcheck import _flatten, _like, dense_grad, named_parameters_of, run_backward


@dataclass
class TorchComparison:
    """Largest absolute differences, tinyrec against torch, by array (``inf``: shapes or NaNs differ).

    ``outputs`` (``output0``, ...), ``input_grads`` (``input0``, ...), ``param_grads`` and ``buffers``
    (by name); ``missing`` names what one side has and the other has not.
    """

    outputs: dict[str, float] = field(default_factory=dict)
    input_grads: dict[str, float] = field(default_factory=dict)
    param_grads: dict[str, float] = field(default_factory=dict)
    buffers: dict[str, float] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def all(self) -> dict[str, float]:
        """Every compared array and its difference, outputs first."""
        return {**self.outputs, **self.input_grads, **{f"grad {k}": v for k, v in self.param_grads.items()},
                **{f"buffer {k}": v for k, v in self.buffers.items()}}  # fmt: skip

    @property
    def max_difference(self) -> float:
        return max(self.all().values(), default=0.0)

    def assert_close(self, atol: float = 1e-10) -> None:
        """Raise AssertionError naming each array that differs by more than ``atol``, or is missing."""
        far = {k: v for k, v in self.all().items() if not v <= atol}
        if far or self.missing:
            named = [f"{k} differs by {v:.3g}" for k, v in far.items()] + [f"{m}" for m in self.missing]
            raise AssertionError(f"tinyrec and torch differ (tolerance {atol:.0e}): " + "; ".join(named))

    def __str__(self) -> str:
        items = self.all()
        width = max([len(k) for k in items] + [5])
        lines = [f"{'array':<{width}}  largest |tinyrec - torch|"]
        lines += [f"{k:<{width}}  {v:.3e}" for k, v in items.items()]
        lines += [f"missing: {m}" for m in self.missing]
        return "\n".join(lines)


def _difference(ours, theirs) -> float:
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape or not np.array_equal(np.isnan(ours), np.isnan(theirs)):
        return float("inf")
    return float(np.nanmax(np.abs(ours - theirs), initial=0.0))


def compare_with_torch(
    layer,
    torch_module,
    *inputs,
    forward_kwargs: dict | None = None,
    torch_kwargs: dict | None = None,
    grad_output=None,
    copy: str | None = "from_torch",
    seed: int = 0,
) -> TorchComparison:
    """Run ``layer`` and ``torch_module`` on the same weights, inputs and ``dY``; compare everything.

    Parameters
    ----------
    layer : a tinyrec layer (or any object with forward, backward, parameters())
    torch_module : torch.nn.Module
        Both are converted to float64 in place (``layer.to``, ``torch_module.double()``).
    *inputs : arrays
        Float arrays become float64 tensors that require gradients (an array given several times
        becomes one tensor); integer and boolean arrays are passed as they are.
    forward_kwargs : dict, optional
        Keyword arguments of ``layer``'s forward (masks); torch gets the same, as tensors, unless
        ``torch_kwargs`` gives its own (``src_mask=`` for a TransformerEncoderLayer, say).
    grad_output : array or tuple of arrays, optional
        ``dY``, one per output; by default seeded standard normals.
    copy : {"from_torch", "to_torch", None}
        Copy the weights (and buffers) from torch's ``state_dict`` into ``layer``, from ``layer``'s
        into torch, or not at all (they already agree).

    Returns
    -------
    TorchComparison
    """
    import torch

    if copy not in ("from_torch", "to_torch", None):
        raise ArgumentTypeError(f"copy={copy!r}: use 'from_torch', 'to_torch' or None")
    if hasattr(layer, "to"):
        layer.to(np.float64)
    torch_module.double()
    # not strict: a name one side lacks is reported below, in ``missing``
    if copy == "from_torch":
        state = {k: v.detach().cpu().numpy() for k, v in torch_module.state_dict().items()}
        layer.load_state_dict(state, strict=False)
    elif copy == "to_torch":
        state = {k: torch.from_numpy(np.array(v)) for k, v in layer.state_dict().items()}
        torch_module.load_state_dict(state, strict=False)

    tensors: dict[int, object] = {}

    def tensor(x):
        if not isinstance(x, np.ndarray):
            return x
        if x.dtype.kind == "f":
            return tensors.setdefault(id(x), torch.tensor(x.astype(np.float64), requires_grad=True))
        return torch.from_numpy(np.array(x))

    is_float = [isinstance(x, np.ndarray) and x.dtype.kind == "f" for x in inputs]
    floats = {id(x): x.astype(np.float64) for x, f in zip(inputs, is_float, strict=True) if f}
    inputs = tuple(floats.get(id(x), x) for x in inputs)  # an array given twice stays one array
    forward_kwargs = forward_kwargs or {}
    theirs_kwargs = forward_kwargs if torch_kwargs is None else torch_kwargs
    theirs_kwargs = {k: tensor(v) for k, v in theirs_kwargs.items()}
    ours = layer(*inputs, **forward_kwargs) if callable(layer) else layer.forward(*inputs, **forward_kwargs)
    theirs = torch_module(*(tensor(x) for x in inputs), **theirs_kwargs)
    result = TorchComparison()
    leaves, t_leaves = _flatten(ours), _flatten(theirs)
    if len(leaves) != len(t_leaves):
        result.missing.append(f"tinyrec returns {len(leaves)} outputs, torch {len(t_leaves)}")
    rng = np.random.default_rng(seed)
    if grad_output is None:
        grad_output = _like(ours, lambda y: None if y is None else rng.standard_normal(np.shape(y)))
    total = 0
    for i, (y, t, g) in enumerate(zip(leaves, t_leaves, _flatten(grad_output), strict=False)):
        if y is None or t is None:
            continue
        result.outputs[f"output{i}"] = _difference(y, t.detach().numpy())
        total = total + (t * torch.from_numpy(np.asarray(g, dtype=np.float64))).sum()
    total.backward()
    grads = run_backward(layer, ours, grad_output)
    for i, x in enumerate(inputs):
        if not (isinstance(x, np.ndarray) and x.dtype.kind == "f") or any(x is y for y in inputs[:i]):
            continue
        mine = [g for g, y in zip(grads, inputs, strict=False) if y is x and g is not None]
        result.input_grads[f"input{i}"] = _difference(sum(mine), tensors[id(x)].grad.numpy())
    mine = {name: dense_grad(p) for name, p in named_parameters_of(layer)}
    torch_params = dict(torch_module.named_parameters())
    for name in sorted(set(mine) | set(torch_params)):
        if name not in mine or name not in torch_params:
            result.missing.append(f"parameter {name} ({'torch' if name in torch_params else 'tinyrec'} only)")
            continue
        grad = torch_params[name].grad
        result.param_grads[name] = _difference(
            np.zeros(torch_params[name].shape) if mine[name] is None else mine[name],
            np.zeros(torch_params[name].shape) if grad is None else grad.to_dense().numpy(),
        )
    state, torch_buffers = layer.state_dict(), dict(torch_module.named_buffers())
    for name in sorted(set(torch_buffers) & set(state)):
        result.buffers[name] = _difference(state[name], torch_buffers[name].numpy())
    return result


__all__ = ["TorchComparison", "compare_with_torch"]
