"""Saving and loading: the front door (``tinyrec.save``/``model.save``, ``tinyrec.load``).

A model file is one ``.npz`` of arrays plus a JSON header, no pickle, written atomically
(:mod:`tinyrec.modelfile`, the container). It holds one of two kinds of things:

* a **fitted recommender**: what it stores, and how it is rebuilt, is
  :mod:`tinyrec.models.persistence`; :func:`load` finds the class a file names among the concrete
  models of :mod:`tinyrec.models.registry`, never by importing a name the file gives;
* a **layer** of :mod:`tinyrec.nn`, or a ``Sequential`` of layers (a *layer file*, header field
  ``"kind": "module"``): its class, its constructor arguments and its mode in the header's
  ``module`` section, its ``state_dict`` as the arrays. ``tinyrec.save(nn.Linear(4, 3), path)``
  writes one; :func:`load` rebuilds the layer from the classes of :data:`LAYER_CLASSES` only.

A model file is untrusted input (downloaded, shared, handed in): :func:`load` checks it against
the declared schema of format version 2 before it reads an array or builds anything, and refuses,
with :class:`~tinyrec.errors.ModelFileError` naming what is wrong, a file of another format
version, a truncated or corrupt file, a header field of the wrong type, a member whose ``.npy``
header disagrees with the file's header, a class that is not a registered concrete tinyrec model,
hyperparameters the class refuses, and arrays that disagree with each other or break what the
model relies on (sizes that do not match ``n_users_``/``n_items_``, index lists out of range or out
of order, NaN or infinite weights), so an edited file fails at load, not later. A file whose arrays
would take more memory than :mod:`tinyrec.limits` allows raises
:class:`~tinyrec.errors.AllocationError` instead (a ValueError and a MemoryError, naming the size
and ``TINYREC_MAX_BYTES``), before anything is allocated. Files of format version 1 (written by
tinyrec before the schema) load as before. See docs/security.md.

A layer file gets the same checks: its arguments are refused unless the class takes them, and the
shapes of its weights are computed from those arguments by arithmetic (:func:`state_shapes`) and
compared with the stored ones, and bounded, **before** the layer is built; then the constructor
checks the arguments, and the stored dtypes must be the layer's. A layer that its constructor
arguments cannot rebuild (a class of your own, a layer changed after it was built) is refused at
saving with an error saying to save its ``state_dict`` instead.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

from . import nn
from .errors import ArgumentTypeError, ModelFileError
from .limits import check_bytes
from .modelfile import (
    FORMAT_VERSION,
    HEADER_KEY,
    Json,
    ListOf,
    MapOf,
    Node,
    Record,
    Text,
    check_save_path,
    new_header,
    read_npz,
    to_json,
    write_npz,
)
from .models.base import Recommender
from .models.persistence import SECTIONS, restore, save_model
from .models.registry import model_class

__all__ = ["FORMAT_VERSION", "HEADER_KEY", "LAYER_CLASSES", "check_save_path", "load", "save"]


def save(obj, path) -> Path:
    """Write a fitted recommender (``model.save(path)`` does the same) or a layer to ``path``.

    ``obj`` is a fitted :class:`~tinyrec.models.Recommender`, or a layer of :mod:`tinyrec.nn`
    (``Linear``, ``GRU``, ...) or a ``Sequential`` of them: its constructor arguments, mode
    (``training``) and ``state_dict`` are stored. Returns the path.

    Raises
    ------
    ArgumentTypeError
        ``obj`` is neither, or a layer its constructor arguments cannot rebuild (a class of your own):
        the message says to save its ``state_dict`` instead.
    ModelFileWriteError
        The disk refused (a ModelFileError and an OSError, naming the path and the cause); the file
        at ``path``, if any, is then unchanged.
    """
    if isinstance(obj, Recommender):
        return save_model(obj, path)
    record = describe_module(obj)
    path = check_save_path(path)
    state = obj.state_dict()
    header = new_header(
        kind="module",
        module=record,
        arrays={name: {"shape": list(a.shape), "dtype": a.dtype.str} for name, a in state.items()},
    )
    write_npz(path, header, state)
    return path


def load(path):
    """Read a file written by :func:`save` (``tinyrec.load``): a fitted recommender, or a layer.

    Raises
    ------
    ModelFileError
        The file is missing, truncated or corrupt, of another format version, names a class that
        is not a concrete tinyrec model or layer, or holds a header, hyperparameters (constructor
        arguments) or arrays that do not fit the schema, the class or each other.
    AllocationError
        The file's arrays would take more memory than tinyrec's bound (``TINYREC_MAX_BYTES``).
    """
    header, arrays = read_npz(path, {"model": SECTIONS, "module": MODULE_SECTIONS})
    if header.get("kind") == "module":
        return _restore_module(header["module"], arrays, path)
    cls = model_class(header["model_class"])
    if cls is None:
        raise ModelFileError(
            f"{path}: model_class {header['model_class']!r} is not a tinyrec model in this version "
            f"(known: tinyrec.models.registry.MODEL_CLASSES); load it with the tinyrec version that saved it"
        )
    return restore(cls, header, arrays, path)


# -- layer files ------------------------------------------------------------------------------------
#: The classes a layer file may name (by these names): every layer :mod:`tinyrec.nn` exports.
LAYER_CLASSES = {
    name: cls
    for name in nn.__all__
    if isinstance(cls := getattr(nn, name), type) and issubclass(cls, nn.Module) and cls is not nn.Module
}
_MAX_DEPTH = 32  # Sequentials inside Sequentials


class _Flag(Node):
    expected = "true or false"

    def accepts(self, value) -> bool:
        return isinstance(value, bool)


#: One layer in the header: its class, constructor arguments and mode; a Sequential's layers in turn.
MODULE_RECORD = Record(
    {
        "class": Text("the name of a layer of tinyrec.nn", pattern="[A-Za-z0-9]{1,64}"),
        "args": MapOf(Json(), expected="a mapping of constructor arguments to JSON values"),
        "training": _Flag(),
    },
    what="layer fields",
)
MODULE_RECORD.optional["layers"] = ListOf(MODULE_RECORD, max_length=10_000)
#: A layer file's sections of the header (the container's own fields are tinyrec.modelfile's).
MODULE_SECTIONS = Record({"kind": Text(), "module": MODULE_RECORD}, what="sections")

# arguments a layer does not keep under their own name: how to read them back from the layer
_ARGUMENT_READERS = {
    nn.MultiheadAttention: {"bias": lambda m: m.in_proj_bias is not None},
    nn.TransformerBlock: {"num_heads": lambda m: m.self_attn.num_heads, "dropout": lambda m: m.dropout.p},
}


def _cannot_save(layer, why: str) -> ArgumentTypeError:
    return ArgumentTypeError(
        f"tinyrec.save cannot store a {type(layer).__name__}: {why}. Save its state_dict instead, "
        f"np.savez(path, **layer.state_dict()), and rebuild the layer in your code before "
        f"layer.load_state_dict(dict(np.load(path)))"
    )


def describe_module(layer) -> dict:
    """The header record of ``layer``: ``{"class", "args", "training"}`` (and ``"layers"`` for a
    Sequential), checked by rebuilding the layer from it. Raises ArgumentTypeError when that fails."""
    cls = type(layer)
    if not isinstance(layer, nn.Module) or LAYER_CLASSES.get(cls.__name__) is not cls:
        if isinstance(layer, nn.Module) or hasattr(layer, "state_dict"):
            raise _cannot_save(layer, "it is not a layer of tinyrec.nn, which is all a layer file may name")
        raise ArgumentTypeError(
            f"tinyrec.save saves a fitted recommender or a tinyrec.nn layer, got {cls.__name__}"
        )
    record = {"class": cls.__name__, "args": _arguments(layer), "training": bool(layer.training)}
    if cls is nn.Sequential:
        record["layers"] = [describe_module(child) for child in layer.layers]
    shapes = {name: tuple(a.shape) for name, a in layer.state_dict().items()}
    if state_shapes(record) != shapes:
        raise _cannot_save(layer, f"its weights {shapes} are not those its arguments {record['args']} give")
    rebuilt = build_module(record)
    if _configuration(rebuilt) != _configuration(layer):
        raise _cannot_save(layer, "its constructor arguments do not rebuild it (was it changed after it was "
                                  "built?)")
    return record


def _arguments(layer) -> dict:
    """The constructor arguments of ``layer`` (but ``seed``), read back from its attributes, as JSON."""
    readers = _ARGUMENT_READERS.get(type(layer), {})
    args = {}
    for name, parameter in inspect.signature(type(layer)).parameters.items():
        if name == "seed" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if name in readers:
            value = readers[name](layer)
        elif name in vars(layer):
            value = vars(layer)[name]
        else:
            raise _cannot_save(layer, f"its constructor argument {name!r} is not kept as an attribute")
        if name == "bias" and (value is None or isinstance(value, nn.Parameter)):
            value = value is not None  # the bias Parameter, or None: was bias=True given?
        args[name] = to_json(value, name)
    return args


def _configuration(layer) -> list:
    """Every public plain attribute of every submodule: what a rebuilt layer must share with the original."""
    plain = (bool, int, float, str, tuple, np.dtype, type(None))
    kept = lambda k, v: not k.startswith("_") and k != "training" and isinstance(v, plain)  # noqa: E731
    return [(type(m).__name__, {k: v for k, v in vars(m).items() if kept(k, v)}) for m in layer.modules()]


def build_module(record: dict, where: str = "the record"):
    """The layer a header record describes, built by its class's constructor (arguments checked there).

    Only the classes of :data:`LAYER_CLASSES` are built; a constructor's refusal becomes a
    ModelFileError naming ``where``. Also used by the reference vectors (:mod:`tinyrec.testing`).
    """
    cls = LAYER_CLASSES.get(record["class"])
    if cls is None:
        raise ModelFileError(
            f"{where}: {record['class']!r} is not a layer of tinyrec.nn in this version (known: "
            f"{', '.join(sorted(LAYER_CLASSES))})"
        )
    taken = {n for n in inspect.signature(cls).parameters if n != "seed"}
    unknown = sorted(set(record["args"]) - taken)
    if unknown:
        raise ModelFileError(f"{where}: {cls.__name__} does not take the arguments {unknown}")
    if ("layers" in record) != (cls is nn.Sequential):
        raise ModelFileError(f"{where}: a Sequential lists its 'layers', and no other layer does "
                             f"({cls.__name__})")
    try:
        if cls is nn.Sequential:  # each layer in its own mode (a frozen BatchNorm in a training network)
            layer = cls(*(build_module(child, where) for child in record["layers"]))
            layer.training = record.get("training", True)
            return layer
        layer = cls(**record["args"])
    except (TypeError, ValueError) as exc:  # a constructor's checks (tinyrec errors are both kinds)
        raise ModelFileError(f"{where}: the arguments of {cls.__name__} are refused: {exc}") from exc
    return layer.train(record.get("training", True))


def _restore_module(record: dict, arrays: dict, path):
    """The layer of a layer file, its weights checked against its arguments before it is built."""

    def records(r, depth=1):
        if depth > _MAX_DEPTH:
            raise ModelFileError(f"{path}: its Sequentials are nested more than {_MAX_DEPTH} deep")
        yield r
        for child in r.get("layers", []):
            yield from records(child, depth + 1)

    for r in records(record):
        if r["class"] not in LAYER_CLASSES:
            raise ModelFileError(f"{path}: {r['class']!r} is not a layer of tinyrec.nn in this version "
                                 f"(known: {', '.join(sorted(LAYER_CLASSES))})")  # fmt: skip
    try:
        wanted = state_shapes(record)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ModelFileError(f"{path}: the arguments of its {record['class']} are refused: {exc}") from exc
    stored = {name: a.shape for name, a in arrays.items()}
    if wanted != stored:
        raise ModelFileError(
            f"{path}: the arrays {sorted(stored)} are not the weights of a {record['class']} with these "
            f"arguments ({sorted(wanted)}, shapes {list(wanted.values())}); the file is corrupt or was edited"
        )
    check_bytes(sum(a.nbytes for a in arrays.values()), f"{path}: the {record['class']} to build")
    layer = build_module(record, str(path))
    for name, value in layer.state_dict().items():
        if arrays[name].dtype != value.dtype:
            raise ModelFileError(
                f"{path}: array {name!r} is {arrays[name].dtype} but the layer computes in {value.dtype}; "
                f"the file is corrupt or was edited"
            )
        if value.dtype.kind == "f" and not np.all(np.isfinite(arrays[name])):
            raise ModelFileError(f"{path}: array {name!r} holds NaN or infinite values")
    layer.load_state_dict(arrays)
    return layer


# -- the weights a layer's arguments imply, without building it --------------------------------------
def _size(args: dict, name: str, default=None) -> int:
    """A size argument: an int >= 1 (a file may hold anything; the constructor checks the rest later)."""
    value = args.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}={value!r} is not a positive int")
    return value


def _sizes(args: dict, name: str, d: int) -> tuple[int, ...]:
    value = args.get(name)
    values = [value] * d if isinstance(value, int) else value
    if not isinstance(values, list) or len(values) != d:
        raise ValueError(f"{name}={value!r} is not {d} positive ints")
    return tuple(_size({name: v}, name) for v in values)


def _linear(inp: int, out: int, bias: bool, prefix: str = "") -> dict:
    return {f"{prefix}weight": (out, inp), **({f"{prefix}bias": (out,)} if bias else {})}


def _attention(dim: int, bias: bool, prefix: str = "") -> dict:
    shapes = {f"{prefix}in_proj_weight": (3 * dim, dim)}
    if bias:
        shapes[f"{prefix}in_proj_bias"] = (3 * dim,)
    return shapes | _linear(dim, dim, bias, f"{prefix}out_proj.")


def _recurrent(args: dict, gates: int) -> dict:
    hidden, shapes = _size(args, "hidden_size"), {}
    for k in range(_size(args, "num_layers", 1)):
        rows, inputs = gates * hidden, _size(args, "input_size") if k == 0 else hidden
        shapes |= {f"weight_ih_l{k}": (rows, inputs), f"weight_hh_l{k}": (rows, hidden)}
        if args.get("bias", True):
            shapes |= {f"bias_ih_l{k}": (rows,), f"bias_hh_l{k}": (rows,)}
    return shapes


def _layer_norm(args: dict, prefix: str = "") -> dict:
    value = args.get("normalized_shape")
    shape = _sizes(args, "normalized_shape", 1 if isinstance(value, int) else len(value or [0]))
    if not args.get("elementwise_affine", True):
        return {}
    return {f"{prefix}weight": shape, **({f"{prefix}bias": shape} if args.get("bias", True) else {})}


def _batch_norm(args: dict) -> dict:
    c = (_size(args, "num_features"),)
    shapes = {"weight": c, "bias": c} if args.get("affine", True) else {}
    if args.get("track_running_stats", True):
        shapes |= {"running_mean": c, "running_var": c, "num_batches_tracked": ()}
    return shapes


def _conv(args: dict, d: int) -> dict:
    out = _size(args, "out_channels")
    weight = (out, _size(args, "in_channels"), *_sizes(args, "kernel_size", d))
    return {"weight": weight, **({"bias": (out,)} if args.get("bias", True) else {})}


def _transformer(args: dict) -> dict:
    dim = _size(args, "dim")
    ffn = dim if args.get("ffn_dim") is None else _size(args, "ffn_dim")
    norms = {f"norm{j}.{w}": (dim,) for j in (1, 2) for w in ("weight", "bias")}
    return _attention(dim, True, "self_attn.") | _linear(dim, ffn, True, "linear1.") | _linear(
        ffn, dim, True, "linear2.") | norms  # fmt: skip


#: class name -> the shapes of its state_dict from its arguments; the layers not listed have none
_STATE_SHAPES = {
    "Linear": lambda a: _linear(_size(a, "in_features"), _size(a, "out_features"), a.get("bias", True)),
    "Embedding": lambda a: {"weight": (_size(a, "num_embeddings"), _size(a, "embedding_dim"))},
    "EmbeddingBag": lambda a: {"weight": (_size(a, "num_embeddings"), _size(a, "embedding_dim"))},
    "PositionalEmbedding": lambda a: {"weight": (_size(a, "max_len"), _size(a, "dim"))},
    "Conv1d": lambda a: _conv(a, 1),
    "Conv2d": lambda a: _conv(a, 2),
    "LayerNorm": _layer_norm,
    "BatchNorm1d": _batch_norm,
    "RNN": lambda a: _recurrent(a, 1),
    "GRU": lambda a: _recurrent(a, 3),
    "LSTM": lambda a: _recurrent(a, 4),
    "MultiheadAttention": lambda a: _attention(_size(a, "embed_dim"), a.get("bias", True)),
    "TransformerBlock": _transformer,
}  # fmt: skip


def state_shapes(record: dict) -> dict[str, tuple[int, ...]]:
    """``{name: shape}`` of the ``state_dict`` of the layer ``record`` describes, by arithmetic only.

    Raises ValueError for a size argument that is not a positive int.
    """
    if record["class"] == "Sequential":
        shapes = {}
        for i, child in enumerate(record.get("layers", [])):
            shapes |= {f"{i}.{name}": shape for name, shape in state_shapes(child).items()}
        return shapes
    return _STATE_SHAPES.get(record["class"], lambda a: {})(record["args"])
