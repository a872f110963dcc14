"""``compare_with_torch`` copies weights either way, runs both modules, and reports every difference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import require_torch
from tinyrec import nn
from tinyrec.testing import compare_with_torch

pytestmark = pytest.mark.torch
RNG = np.random.default_rng(0)


def test_linear_both_directions_agree_to_round_off():
    torch = require_torch()
    x = RNG.standard_normal((5, 4))
    result = compare_with_torch(nn.Linear(4, 3), torch.nn.Linear(4, 3), x)  # torch's weights into tinyrec
    result.assert_close(1e-12)
    assert set(result.all()) == {"output0", "input0", "grad weight", "grad bias"}
    ours = nn.Linear(4, 3, dtype=np.float64, seed=1)
    theirs = torch.nn.Linear(4, 3)
    result = compare_with_torch(ours, theirs, x, copy="to_torch")
    np.testing.assert_array_equal(theirs.weight.detach().numpy(), ours.weight.data)
    result.assert_close(1e-12)
    assert "output0" in str(result) and result.max_difference < 1e-12


def test_recurrent_and_attention_layers_with_several_outputs():
    torch = require_torch()
    x = RNG.standard_normal((2, 5, 3))
    compare_with_torch(nn.LSTM(3, 4, num_layers=2), torch.nn.LSTM(3, 4, num_layers=2, batch_first=True), x
                       ).assert_close(1e-12)  # fmt: skip
    q, kv = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 5, 4))
    pad = np.zeros((2, 5), dtype=bool)
    pad[1, 3:] = True
    theirs = torch.nn.MultiheadAttention(4, 2, batch_first=True)
    masks = {"key_padding_mask": pad}
    result = compare_with_torch(nn.MultiheadAttention(4, 2), theirs, q, kv, kv, forward_kwargs=masks)
    result.assert_close(1e-12)
    assert {"output0", "output1", "input0", "input1"} <= set(result.all())  # key = value: one gradient


def test_buffers_and_torch_keyword_names():
    torch = require_torch()
    result = compare_with_torch(nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3), RNG.standard_normal((6, 3)))
    result.assert_close(1e-12)
    assert {"buffer running_mean", "buffer running_var"} <= set(result.all())
    x = RNG.standard_normal((2, 4, 4))
    block = nn.TransformerBlock(4, 2, 6, causal=True)
    torch_block = torch.nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True, norm_first=True)
    result = compare_with_torch(block, torch_block, x,
                                torch_kwargs={"src_mask": torch.from_numpy(nn.causal_mask(4))})  # fmt: skip
    result.assert_close(1e-12)


def test_a_difference_and_a_missing_parameter_are_reported():
    torch = require_torch()
    x = RNG.standard_normal((5, 4))
    ours, theirs = nn.Linear(4, 3, bias=False), torch.nn.Linear(4, 3, bias=False)
    result = compare_with_torch(ours, theirs, x)
    ours.weight.data[0, 0] += 1.0  # weights that no longer agree: copy=None compares them as they are
    result = compare_with_torch(ours, theirs, x, copy=None)
    with pytest.raises(AssertionError, match="output0 differs by"):
        result.assert_close()
    result = compare_with_torch(nn.Linear(4, 3, bias=False), torch.nn.Linear(4, 3), x, copy="to_torch")
    assert "parameter bias (torch only)" in result.missing
    with pytest.raises(AssertionError, match="bias"):
        result.assert_close()
    with pytest.raises(ValueError, match="copy="):
        compare_with_torch(nn.ReLU(), torch.nn.ReLU(), x, copy="sideways")
