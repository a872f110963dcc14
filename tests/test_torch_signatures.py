"""A call written for torch means the same thing here, or fails: positional arguments line up.

For every class that tinyrec.nn, tinyrec.losses and tinyrec.optim share (by name) with torch, the
arguments tinyrec accepts by position, in ``__init__`` and ``forward``, must be the first
positional arguments of torch's, in the same order. Anything else is keyword-only, so a torch
call that passes more by position raises a TypeError instead of silently setting another option.
A few argument names differ only for readability (``x`` for ``input``, ``h0`` for ``hx``);
their positions still match.
"""

import inspect

import pytest

import tinyrec.losses
import tinyrec.nn
import tinyrec.optim
from tests.helpers import require_torch

pytestmark = pytest.mark.torch

# tinyrec's name -> torch's name, where only the spelling differs
ALIASES = {"x": "input", "indices": "input", "prediction": "input", "h0": "hx", "state": "hx"}

# torch declares these constructors as (*args, **kwargs); their documented order:
TORCH_RNN_ORDER = {
    "RNN": ["input_size", "hidden_size", "num_layers", "nonlinearity", "bias", "batch_first", "dropout"],
    "GRU": ["input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional"],
    "LSTM": ["input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional"],
}


def _positional(function) -> list[str]:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [n for n, p in inspect.signature(function).parameters.items() if p.kind in kinds]
    return [ALIASES.get(n, n) for n in names if n != "self"]


def _shared_classes(torch):
    for ours_module, theirs_module in (
        (tinyrec.nn, torch.nn),
        (tinyrec.losses, torch.nn),
        (tinyrec.optim, torch.optim),
    ):
        for name in sorted(getattr(ours_module, "__all__", dir(ours_module))):
            ours = getattr(ours_module, name)
            if isinstance(ours, type) and isinstance(getattr(theirs_module, name, None), type):
                if name != "Parameter":  # a tensor subclass in torch, a plain holder here
                    yield name, ours, getattr(theirs_module, name)


def test_positional_arguments_are_a_prefix_of_torchs():
    torch = require_torch()
    checked, mismatches = 0, []
    for name, ours, theirs in _shared_classes(torch):
        theirs_init = TORCH_RNN_ORDER.get(name) or _positional(theirs.__init__)
        pairs = [("__init__", _positional(ours.__init__), theirs_init)]
        if hasattr(ours, "forward") and hasattr(theirs, "forward"):
            pairs.append(("forward", _positional(ours.forward), _positional(theirs.forward)))
        for method, ours_args, theirs_args in pairs:
            checked += 1
            if ours_args != theirs_args[: len(ours_args)]:
                mismatches.append(f"{name}.{method}: tinyrec {ours_args}, torch {theirs_args}")
    assert checked > 40  # the walk found the layers, losses and optimizers
    assert not mismatches, "\n".join(mismatches)


def test_a_torch_style_positional_call_fails_instead_of_changing_meaning():
    require_torch()
    p = tinyrec.nn.Parameter([1.0])
    # torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov)
    sgd = tinyrec.optim.SGD([p], 0.1, 0.9, 0.0, 0.5)
    assert sgd.param_groups[0]["weight_decay"] == 0.5 and sgd.param_groups[0]["nesterov"] is False
    with pytest.raises(TypeError):
        tinyrec.nn.AvgPool1d(3, 2, 1, False)  # torch's fourth argument is ceil_mode
    with pytest.raises(TypeError):
        tinyrec.nn.MultiheadAttention(4, 2, 0.0, True, False)  # torch's fifth is add_bias_kv
