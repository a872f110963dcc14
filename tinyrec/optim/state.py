"""Saving and loading an optimizer's state, in torch's ``state_dict`` layout.

::

    {"type": "Adam",
     "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), ..., "params": [0, 1]}, ...],
     "state": {0: {"step": 3, "exp_avg": array, "exp_avg_sq": array}, ...}}

Each saved group holds its hyperparameters and, under ``"params"``, the ids of its parameters:
their positions in the optimizer's order (group after group). ``state[i]`` belongs to the parameter
with id ``i`` and holds numbers (``step``) and copies of arrays; a parameter not yet updated has no
entry. A dict saved before parameter groups existed holds one ``"hyperparameters"`` dict instead of
``"param_groups"``; it is still read.

:func:`load` reads a dict against this layout (declared below with the nodes of
:mod:`tinyrec.optim.spec`), then matches it to the optimizer: its type, its groups' sizes, each id
listed once, each state entry for a listed id, holding what the optimizer needs.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from .spec import Array, Count, DictOf, Equal, Id, ListOf, Record, check_layout

_GROUPS = ListOf(
    Record(
        "a dict with a 'params' list of parameter ids (as state_dict() saves it)",
        required={"params": ListOf(Id(), "a list of parameter ids (as state_dict() saves it)")},
    ),
    "a list of dicts, one per parameter group (as state_dict() saves it)",
)
_STATE = DictOf(Id(), None, "a dict {parameter id: {name: value}} (as state_dict() saves it)")


def _state_dict(name: str) -> Record:
    """The layout of a state_dict of the optimizer class ``name`` (its groups and state apart)."""
    return Record(
        "the dict a tinyrec optimizer's state_dict() returns (a torch optimizer's state_dict has no "
        "'type' entry, and other hyperparameter names)",
        required={"type": Equal(name, f"the state_dict() of a {name}")},
    )


def _parameter_state(data: np.ndarray) -> Record:
    """The layout of one parameter's saved state: ``step`` and arrays of the parameter's shape."""
    return Record(
        "a dict {name: value} (as state_dict() saves it)",
        optional={"step": Count()},
        rest=Array(data.shape, data.dtype),
    )


def save(optimizer) -> dict:
    """``optimizer``'s state in the layout above (arrays copied)."""
    groups, start = [], 0
    for group in optimizer.param_groups:
        n = len(group["params"])
        hyper = {k: v for k, v in group.items() if k != "params"}
        groups.append({**hyper, "params": list(range(start, start + n))})
        start += n
    state = {
        i: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
        for i, s in enumerate(optimizer.state)
        if s
    }
    return {"type": type(optimizer).__name__, "param_groups": groups, "state": state}


def load(optimizer, state_dict) -> tuple[list[dict], list[dict]]:
    """Read ``state_dict`` for ``optimizer``: each group's hyperparameters and each parameter's state.

    Returns them checked and copied, without changing ``optimizer``; raises naming the entry at
    fault.
    """
    name = type(optimizer).__name__
    saved = check_layout(_state_dict(name), state_dict, "state_dict")
    groups = saved.get("param_groups")
    if groups is None and isinstance(saved.get("hyperparameters"), dict):  # the layout before groups
        if len(optimizer.param_groups) != 1:
            raise ValueError("an old state_dict (one 'hyperparameters' dict) fits one parameter group only")
        groups = [{**saved["hyperparameters"], "params": list(range(len(optimizer.params)))}]
    groups = check_layout(_GROUPS, groups, "state_dict['param_groups']")
    sizes = [len(g["params"]) for g in optimizer.param_groups]
    saved_sizes = [len(g["params"]) for g in groups]
    if saved_sizes != sizes:
        raise ValueError(
            f"state_dict has parameter groups of sizes {saved_sizes}, but the optimizer's groups "
            f"have sizes {sizes}"
        )
    pairs = zip(optimizer.param_groups, groups, strict=True)
    hypers = [optimizer._checked({**group, **saved_group}) for group, saved_group in pairs]
    ids = [pid for g in groups for pid in g["params"]]
    position = {pid: i for i, pid in enumerate(ids)}  # saved id -> index in optimizer.params
    if len(position) != len(ids):
        twice = next(pid for pid, n in Counter(ids).items() if n > 1)
        raise ValueError(f"parameter id {twice} appears twice in state_dict['param_groups']; list each once")
    hyper_of = [hyper for hyper, g in zip(hypers, groups, strict=True) for _ in g["params"]]
    states: list[dict] = [{} for _ in optimizer.params]
    for pid, entry in check_layout(_STATE, saved.get("state", {}), "state_dict['state']").items():
        if pid not in position:
            raise KeyError(f"state_dict has state for parameter {pid}, which none of its groups lists")
        i, where = position[pid], f"state_dict['state'][{pid!r}]"
        state = check_layout(_parameter_state(optimizer.params[i].data), entry, where)
        missing = [k for k in optimizer._state_keys(hyper_of[i]) if k not in state]
        if state and missing:
            raise ValueError(
                f"{where} lacks {missing}, which {name} needs with these hyperparameters; "
                "load the unchanged state_dict() of an optimizer with the same options"
            )
        states[i] = state
    return hypers, states
