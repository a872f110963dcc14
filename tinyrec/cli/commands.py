"""The subcommands of the ``tinyrec`` command and their building blocks.

This module holds what each subcommand does: build a model from the registry and ``--set``,
load a data set (or your own file, :mod:`~tinyrec.cli.userdata`) and its split, fit with an epoch
log on stderr, record what the model was trained on (``model.provenance_``: the data, the split,
the seed) and check it when the model is evaluated or asked for recommendations, evaluate with the
protocols that suit the model, and print tables (or one JSON object) on stdout. Usage errors raise
:class:`~tinyrec.cli.CLIError`, which ``main`` turns into one line and exit status 2 (as every other
error: see :mod:`tinyrec.cli`).
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np

from ..data import movielens
from ..data.split import cold_items, cold_users, leave_one_out, random_holdout
from ..errors import TinyrecError
from ..evaluation import count_fitted_on, evaluate
from ..io import check_save_path, load
from ..models.persistence import describe_provenance
from . import registry as cli
from .registry import CLIError, ModelSpec
from .userdata import ReadOptions, read_path


# ---------------------------------------------------------------------- building blocks
def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _data_name(text: str) -> str:
    """A known data set's name (aliases resolved), or ``text`` itself: a path (see userdata)."""
    key = cli._ALIASES.get(text.lower(), text.lower())
    return key if key in cli.DATASETS else text


def _read_options(args) -> ReadOptions:
    """``--sep``, ``--columns`` and ``--header`` as given."""
    return ReadOptions(*(getattr(args, name, None) for name in ("sep", "columns", "header")))


def _model_spec(name: str) -> ModelSpec:
    if name.lower() not in cli.MODELS:
        raise CLIError(f"unknown model {name!r}; known: {', '.join(cli.MODELS)} (see `tinyrec train --help`)")
    return cli.MODELS[name.lower()]


def _parse_value(text: str):
    """``--set`` values: JSON numbers, true/false/null (or Python's True/False/None), else a string."""
    python = {"True": True, "False": False, "None": None}
    if text in python:
        return python[text]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parse_sets(pairs, spec: ModelSpec, model_name: str) -> dict:
    accepted = [p for p in inspect.signature(spec.cls).parameters if p != "self"]
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CLIError(f"--set {pair!r} is not key=value; write e.g. --set k=50")
        if key not in accepted:
            raise CLIError(
                f"{model_name} has no hyperparameter {key!r}; valid: {', '.join(accepted) or '(none)'}"
            )
        out[key] = _parse_value(value)
    return out


def build_model(name: str, *, epochs=None, seed=None, sets=()):
    """The registered model ``name`` with its defaults, ``--epochs``, ``--seed`` and ``--set`` applied."""
    spec = _model_spec(name)
    params = dict(spec.defaults)
    accepted = inspect.signature(spec.cls).parameters
    if seed is not None and "seed" in accepted:
        params["seed"] = seed
    if epochs is not None:
        if spec.epochs_param is None:
            raise CLIError(f"{name} is not trained in epochs; drop --epochs")
        params[spec.epochs_param] = epochs
    params.update(_parse_sets(sets, spec, name))
    try:
        return spec.cls(**params)
    except (ValueError, TypeError) as exc:
        raise CLIError(f"bad hyperparameter for {name}: {exc}") from None


def load_data(data_name: str, seed=None, read: ReadOptions | None = None):
    """The whole data set ``data_name``: a known one (``tinyrec datasets``) or a path (userdata)."""
    if data_name in cli.DATASETS:
        _say(f"loading {data_name} ...")
        return cli.DATASETS[data_name].load(seed)
    return read_path(data_name, read or ReadOptions(), _say)


def load_split(data_name: str, split: str | None, task: str, seed, read: ReadOptions | None = None):
    """``(train, test, split)`` of a data set; the default split suits the model's task.

    ``loo`` holds out each user's latest interaction (a random one, drawn with ``seed``, when the data
    has no timestamps); ``holdout`` a random 20% (drawn with ``seed``); ``cold-users`` / ``cold-items``
    20% of the users / items with all their interactions (:func:`~tinyrec.data.split.cold_users`: a
    feature model scores them from their features); ``u1``..``ub`` are ML-100K's
    predefined folds.
    """
    if split is None:
        if task != "rating":
            split = "loo"
        else:
            split = "u1" if data_name == "ml-100k" else "holdout"
    if split not in cli.SPLITS:
        raise CLIError(f"unknown split {split!r}; use one of {', '.join(cli.SPLITS)}")
    if split not in ("loo", "holdout", "cold-users", "cold-items"):  # a predefined ML-100K fold
        if data_name != "ml-100k":
            raise CLIError(
                f"split {split!r} is a predefined ML-100K fold; use --data ml-100k, or --split loo/holdout"
            )
        _say(f"loading {data_name}, fold {split} ...")
        train, test = movielens("100k", fold=split)
        return train, test, split
    data = load_data(data_name, seed, read)
    seed = 0 if seed is None else seed
    if split == "loo":
        by = "time" if data.timestamps is not None else "random"
        if by == "random":
            _say(f"  no timestamps: leave-one-out holds out a random interaction of each user (seed {seed})")
        train, test = leave_one_out(data, by=by, seed=seed)
    else:
        try:
            if split in ("cold-users", "cold-items"):  # 20% of the users (items), with all their interactions
                train, test = (cold_users if split == "cold-users" else cold_items)(data, 0.2, seed=seed)
            else:
                train, test = random_holdout(data, 0.2, seed=seed)
        except TinyrecError as error:  # its fix names a Python argument; the command line holds out 20%
            raise CLIError(
                f"--split {split} holds out 20% of {data_name}, which leaves no usable test set here "
                f"({error}); use more data, or another --split"
            ) from error
    return train, test, split


_METRIC_KEYS = {
    "rating": ("rmse", "mae"),
    "sampled": ("hr@10", "ndcg@10", "mrr"),
    "full": ("hr@10", "ndcg@10", "recall@10", "precision@10", "map@10"),
}


#: the sampled protocol ranks each held-out item among this many unseen items
SAMPLED_NEGATIVES = 99


def evaluate_model(model, train, test, protocols, *, allow_seen: bool = False) -> dict:
    """``{protocol: {metric: value}}`` with exactly the keys of :data:`_METRIC_KEYS`.

    The sampled protocol is left out, with a line on stderr, when some test user has fewer than
    :data:`SAMPLED_NEGATIVES` items to draw negatives from (a small file of your own).
    """
    out = {}
    for protocol in protocols:
        fewest = _fewest_unseen(train, test) if protocol == "sampled" else SAMPLED_NEGATIVES
        if fewest < SAMPLED_NEGATIVES:
            _say(
                f"  sampled protocol left out: a test user has only {fewest} unseen items, fewer than its "
                f"{SAMPLED_NEGATIVES} negatives; full ranking is reported"
            )
            continue
        result = evaluate(model, test, train=train, protocol=protocol, k=10, n_negatives=SAMPLED_NEGATIVES,
                          allow_seen=allow_seen)  # fmt: skip
        raw = {str(k).lower(): v for k, v in result.items()}
        out[protocol] = {key: float(raw[key]) for key in _METRIC_KEYS[protocol]}
    return out


def _fewest_unseen(train, test) -> int:
    """The fewest items a test user has in neither train nor test (the sampled protocol's negatives)."""
    seen = np.diff(train.positives_csr()[0]) + np.diff(test.positives_csr()[0])  # disjoint in a split
    users = np.unique(test.users)
    return int(train.n_items - seen[users].max()) if len(users) else train.n_items


def protocols_for(model) -> tuple[str, ...]:
    return ("rating",) if getattr(model, "task", "rating") == "rating" else ("sampled", "full")


def _fit(model, train, label: str):
    """Fit with a progress line on stderr; return (seconds, seconds of each epoch).

    Models with a ``verbose`` option draw their own live progress line (the running loss, per
    batch for the networks, per epoch for the classic models); for the others (BaselineOnly's
    fast epochs) the epoch log is drawn once ``fit`` returns.
    """
    _say(f"fitting {label} on {len(train):,} interactions ...")
    live = hasattr(model, "verbose")
    if live:
        model.verbose = True
    start = time.perf_counter()
    try:
        model.fit(train)  # a progress line cut short by an error is ended by the bar itself
    finally:
        if live:
            model.verbose = False  # not saved as True in a model file
    seconds = time.perf_counter() - start
    history = getattr(model, "history_", {}) or {}
    key = next((k for k in ("loss", "train_loss", "train_rmse") if history.get(k)), None)
    epochs = history.get("epoch_seconds") or []
    every = max(1, len(epochs) // 10)  # at most about ten lines
    for e, secs in enumerate(epochs if not live else ()):  # the epoch log, drawn once fit returns
        if (e + 1) % every and e + 1 != len(epochs):
            continue
        bar = "#" * (20 * (e + 1) // len(epochs))
        value = f" {key} {history[key][e]:.4f}" if key and e < len(history[key]) else ""
        _say(f"  epoch {e + 1:>3}/{len(epochs)} [{bar:<20}]{value} ({1000 * secs:.1f} ms)")
    _say(f"  done in {seconds:.2f} s")
    return seconds, [float(s) for s in epochs]


def _jsonable(value):
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, int, float, str, type(None), list, dict)):
        return value
    return repr(value)


def _table(header, rows) -> str:
    """Plain-text table: numeric columns right-aligned, text columns left-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(str(h))] + [len(r[j]) for r in cells]) for j, h in enumerate(header)]

    def numeric(j):
        return all(r[j].lstrip("+-").replace(".", "", 1).isdigit() or r[j] == "-" for r in cells)

    right = [bool(cells) and numeric(j) for j in range(len(header))]

    def line(row):
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True))

    lines = [line([str(h) for h in header]), "  ".join("-" * w for w in widths)]
    return "\n".join(text.rstrip() for text in lines + [line(r) for r in cells])


def _metric_rows(metrics: dict):
    return [
        (protocol, name, f"{value:.4f}")
        for protocol, values in metrics.items()
        for name, value in values.items()
    ]


def _same_ids(model, data) -> bool:
    """Whether ``data`` has the model's index space: the same raw user and item ids, in order."""
    return all(
        len(ours) == len(theirs) and np.array_equal(ours, theirs)
        for ours, theirs in ((model.user_ids_, data.user_ids), (model.item_ids_, data.item_ids))
    )


def _titled(data):
    """A function item index -> "title (raw id)" from ``data``'s titles, or None when it has none."""
    if data.titles is None:
        return None
    return lambda j: f"{data.titles[j]} ({data.item_ids[j]})"


def _recorded_read(recorded: dict | None, data_name: str, read: ReadOptions) -> ReadOptions:
    """The read options: those given, else, for the data the model was trained on, those it records."""
    if read.given() or not recorded or _data_name(recorded.get("data") or "") != data_name:
        return read
    return ReadOptions(**recorded.get("read", {}))


def _item_names(model, args, path):
    """A function item index -> how ``recommend`` names it: a title when the data has titles.

    ``--data`` must have the model's ids (else refused, or with ``--allow-mismatch`` raw ids and a
    warning). Without it, the data set the model file records is used when it is found locally; a
    file without provenance tries the local data sets whose ids are the model's, as before.
    """

    def raw(j):
        return str(model.item_ids_[j])

    recorded = getattr(model, "provenance_", None)
    if args.data is not None:
        data_name = _data_name(args.data)
        data = load_data(data_name, 0, _recorded_read(recorded, data_name, _read_options(args)))
        if _same_ids(model, data):
            return _titled(data) or raw
        problem = (
            f"--data {args.data}: {path} was trained on {describe_provenance(recorded)}, and its "
            f"{model.n_users_:,} user and {model.n_items_:,} item ids are not those of {data_name} "
            f"({data.n_users:,} users, {data.n_items:,} items)"
        )
        if not args.allow_mismatch:
            raise CLIError(
                f"{problem}; pass the data it was trained on (or leave --data out: the recorded one is "
                f"used), or --allow-mismatch to show the model's raw item ids"
            )
        warnings.warn(f"{problem}; showing its raw item ids (--allow-mismatch)", UserWarning, stacklevel=2)
        return raw
    if recorded is not None:
        name = _data_name(recorded.get("data") or "")
        known = name in cli.DATASETS and name != "synthetic" and cli.DATASETS[name].locate()[0]
        if not (known or Path(name).is_dir()):  # a user's file has no titles: not read again
            return raw
        candidates = [name]
    else:
        candidates = [n for n, s in cli.DATASETS.items() if n != "synthetic" and s.locate()[0]]
    for name in candidates:
        try:
            data = load_data(name, 0, _recorded_read(recorded, name, ReadOptions()))
        except (TinyrecError, CLIError):
            continue
        if _same_ids(model, data):
            return _titled(data) or raw
    return raw


def _user_index(model, raw: str) -> int:
    ids = model.user_ids_
    if ids.dtype.kind in "iu":
        try:
            key = int(raw)
        except ValueError:
            raise CLIError(f"--user {raw!r}: this model's user ids are integers") from None
    else:
        key = raw
    found = np.flatnonzero(ids == key)
    if len(found) == 0:
        raise CLIError(
            f"user {raw!r} is not in the model's data (ids run {ids[0]} .. {ids[-1]}); pass a known raw id"
        )
    return int(found[0])


def _item_indices(model, text: str) -> list[int]:
    """The model's item indices of ``--history``: raw item ids separated by commas (empty: none)."""
    ids = model.item_ids_
    out = []
    for raw in (part.strip() for part in text.split(",")):
        if not raw:
            continue
        key = raw
        if ids.dtype.kind in "iu":
            try:
                key = int(raw)
            except ValueError:
                raise CLIError(f"--history item {raw!r}: this model's item ids are integers") from None
        found = np.flatnonzero(ids == key)
        if len(found) == 0:
            raise CLIError(f"--history item {raw!r} is not in the model's data; pass raw item ids it knows")
        out.append(int(found[0]))
    return out


def _feature_record(text: str) -> dict:
    """``--features age=25,gender=F``: ``{"age": "25", "gender": "F"}`` (the model's encoders read the
    numbers; an unknown category goes to the "unknown" slot, a column the model does not use is refused)."""
    record = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        column, sep, value = part.partition("=")
        if not sep or not column.strip():
            raise CLIError(
                f"--features takes COLUMN=VALUE pairs separated by commas (age=25,gender=F); got {part!r}"
            )
        if column.strip() in record:
            raise CLIError(f"--features gives {column.strip()!r} twice; give each column once")
        record[column.strip()] = value.strip()
    return record


# ---------------------------------------------------------------------- subcommands
#: ``tinyrec datasets`` fits this many columns
DATASETS_WIDTH = 100


def cmd_datasets(args) -> int:
    """``tinyrec datasets``: each known data set, whether it is found locally, and where.

    A narrow table (at most :data:`DATASETS_WIDTH` columns): the description and the location are
    wrapped under the name, a long path shortened (``~`` for the home folder).
    """
    name_width = max(len(name) for name in cli.DATASETS)
    indent = name_width + 2 + len("local") + 2
    wrap = textwrap.TextWrapper(width=DATASETS_WIDTH, initial_indent=" " * indent,
                                subsequent_indent=" " * indent, break_on_hyphens=False)  # fmt: skip
    lines = [f"{'data set':<{name_width}}  local  what, and where", "-" * DATASETS_WIDTH]
    for name, spec in cli.DATASETS.items():
        found, where = spec.locate()
        what = wrap.fill(spec.summary).lstrip()
        lines.append(f"{name:<{name_width}}  {'yes' if found else 'no':<5}  {what}")
        lines.append(wrap.fill(_short_location(where, DATASETS_WIDTH - indent)))
    lines.append("")
    lines.append(
        textwrap.fill(
            "Your own data: --data PATH, a CSV/TSV file (--sep, --columns) or a folder; see README, "
            "'Your own data', or `tinyrec train --help`.",
            width=DATASETS_WIDTH,
        )
    )
    print("\n".join(lines))
    return 0


def _short_location(where: str, width: int) -> str:
    """``where`` with the home folder as ``~``, the package folder as ``<tinyrec>``, cut to ``width``."""
    package = str(Path(__file__).resolve().parents[1])
    where = where.replace(package, "<tinyrec>").replace(str(Path.home()), "~")
    if len(where) <= width:
        return where
    head, sep, tail = where.partition(": ")  # "embedded: /long/path" keeps its label
    if not sep:
        head, tail = "", where
    keep = width - len(head) - len(sep) - 3
    return f"{head}{sep}...{tail[-keep:]}" if keep > 10 else where[: width - 3] + "..."


def _report(args, model, label, data_name, split, seed, metrics, fit_seconds, epoch_seconds) -> None:
    if args.json:
        params = {k: _jsonable(v) for k, v in model.get_params().items()}
        print(
            json.dumps(
                {
                    "model": label,
                    "data": data_name,
                    "split": split,
                    "seed": seed,
                    "params": params,
                    "metrics": metrics,
                    "fit_seconds": fit_seconds,
                    "epoch_seconds": epoch_seconds,
                }
            )
        )
        return
    print(f"{model!r}\ndata {data_name}, split {split}, seed {seed}")
    print(_table(("protocol", "metric", "value"), _metric_rows(metrics)))


def cmd_train(args) -> int:
    """``tinyrec train``: build, fit, evaluate (protocols that suit the model), optionally save.

    The model file records what it was trained on (data, split, seed and how a file was read), so
    that ``tinyrec evaluate`` and ``recommend`` can check it and reuse it.
    """
    model = build_model(args.model, epochs=args.epochs, seed=args.seed, sets=args.set)
    if args.save:
        check_save_path(args.save)  # before training, so a bad path does not cost the fit
    data_name, read = _data_name(args.data), _read_options(args)
    train, test, split = load_split(data_name, args.split, model.task, args.seed, read)
    if _model_spec(args.model).needs_timestamps and train.timestamps is None:
        raise CLIError(
            f"{args.model} reads each user's items in time order, and {data_name} has no timestamps; use "
            f"data with a timestamp column (your own file: --columns USER,ITEM,RATING,TIMESTAMP)"
        )
    fit_seconds, epoch_seconds = _fit(model, train, args.model)
    model.provenance_.update(data=data_name, split=split, seed=args.seed)
    if read.given():
        model.provenance_["read"] = read.as_record()
    _say("evaluating ...")
    metrics = evaluate_model(model, train, test, protocols_for(model))
    if args.save:
        _say(f"saved to {_save(model, args.save)}")
    _report(args, model, args.model.lower(), data_name, split, args.seed, metrics, fit_seconds, epoch_seconds)
    return 0


def _save(model, path):
    """``model.save(path)``; an OSError the system raised without the path (a full disk) names it."""
    try:
        return model.save(path)
    except OSError as exc:
        raise CLIError(
            f"could not save the model to {path}: {exc.strerror or exc}; the model was trained but not "
            f"saved: make room on that disk (or fix its permissions), or pass another --save path"
        ) from exc


def _load_model(path):
    return load(path)


def _evaluation_setup(args, recorded: dict | None):
    """``(data name, split, seed, read options)`` for ``tinyrec evaluate``: those given, else those the
    model file records for its data (the data, split and seed it was trained with), else the defaults."""
    recorded = recorded or {}
    if args.data is None:
        if not recorded.get("data"):
            raise CLIError(
                f"{args.model} does not record the data it was trained on: pass --data (and the --split "
                f"and --seed it was trained with)"
            )
        data_name = _data_name(recorded["data"])
    else:
        data_name = _data_name(args.data)
    same = bool(recorded) and _data_name(recorded.get("data") or "") == data_name
    split = args.split
    if split is None and same and recorded.get("split") in cli.SPLITS:
        split = recorded["split"]
    seed = args.seed
    if seed is None:
        seed = recorded["seed"] if same and recorded.get("seed") is not None else 0
    return data_name, split, seed, _recorded_read(recorded, data_name, _read_options(args))


def _check_provenance(args, model, train, test, data_name: str, split: str, seed: int) -> None:
    """Refuse (or, with ``--allow-mismatch``, warn) when ``train`` is not what the model was trained on.

    The model file records the fingerprint of its training interactions; the training part of the
    split asked for must have the same. A file without provenance was warned about when loaded.
    """
    recorded = getattr(model, "provenance_", None)
    if recorded is None or recorded["fingerprint"] == train.fingerprint():
        return
    leaked = count_fitted_on(model, test)
    problem = (
        f"{args.model} was trained on {describe_provenance(recorded)}, but the training part of "
        f"{data_name}, split {split}, seed {seed} is other data ({len(train):,} interactions, another "
        f"fingerprint)"
    )
    if leaked:
        problem += (
            f"; {leaked:,} of its {len(test):,} test interactions are among those the model was trained "
            f"on, so the figures would be leaked"
        )
    if args.allow_mismatch:
        warnings.warn(f"{problem}; evaluating anyway (--allow-mismatch)", UserWarning, stacklevel=2)
        return
    raise CLIError(
        f"{problem}. Pass the --data, --split and --seed it was trained with (or leave them out: evaluate "
        f"then uses those the file records), or --allow-mismatch to evaluate anyway"
    )


def cmd_evaluate(args) -> int:
    """``tinyrec evaluate``: a saved model on the test part of the split it was trained on.

    ``--data``, ``--split`` and ``--seed`` default to those the model file records; a split whose
    training part is not the model's training data is refused (``--allow-mismatch``: a warning).
    """
    model = _load_model(args.model)
    data_name, split, seed, read = _evaluation_setup(args, getattr(model, "provenance_", None))
    train, test, split = load_split(data_name, split, model.task, seed, read)
    if not _same_ids(model, train):
        raise CLIError(
            f"{args.model} was not trained on {data_name} (its users or items differ); "
            "pass the data set it was trained on"
        )
    _check_provenance(args, model, train, test, data_name, split, seed)
    metrics = evaluate_model(model, train, test, protocols_for(model), allow_seen=args.allow_mismatch)
    _report(args, model, type(model).__name__, data_name, split, seed, metrics, None, [])
    return 0


def cmd_recommend(args) -> int:
    """``tinyrec recommend``: a user's top-k from a saved model, with titles and ``--why``."""
    model = _load_model(args.model)
    features = getattr(args, "features", None)
    if args.user is None and args.history is None and features is None:
        raise CLIError(
            "give --user RAW_ID (or, with a sequence model, --history ITEM,... for a session; with a feature "
            "model, --features COLUMN=VALUE,... for a new user)"
        )
    user = None if args.user is None else _user_index(model, args.user)
    history = None if args.history is None else [_item_indices(model, args.history)]
    if features is not None:
        if not model.uses_features:
            raise CLIError(
                f"--features needs a model that reads features (fm, fm-bpr, featuremlp, grouppopularity); "
                f"{type(model).__name__} scores from what it learnt in training: leave --features out"
            )
        features = [_feature_record(features)]
    if history is not None and not model.uses_history:
        raise CLIError(
            f"--history needs a model that reads a history (the sequence models: sasrec, gru4rec, caser); "
            f"{type(model).__name__} scores from what it learnt in training: leave --history out"
        )
    if not 1 <= args.k <= model.n_items_:
        raise CLIError(f"-k must be between 1 and {model.n_items_}")
    explain = getattr(model, "explain", None)
    if args.why and explain is None:
        raise CLIError(
            f"--why needs a model with explain() (ItemKNN, UserKNN, BiasedMF); "
            f"{type(model).__name__} has none"
        )
    name_of = _item_names(model, args, args.model)
    users = None if user is None else np.array([user])
    items, scores = model.recommend(users, k=args.k, history=history, features=features)
    if features is not None:  # say which values were read as "unknown" (a typo looks the same)
        for column, values in model.encoders_["user"].unseen(features).items():
            print(f"note: {column} {', '.join(map(repr, values))} never occurred in training: "
                  f"scored as an unknown {column}", file=sys.stderr)  # fmt: skip
    rows = [
        (r + 1, name_of(j), f"{s:.3f}")
        for r, (j, s) in enumerate(zip(items[0], scores[0], strict=True))
        if j >= 0
    ]
    after = "" if history is None else f" after the history of {len(history[0])} item(s) given"
    who = "a session" if user is None else f"user {args.user}"
    if features is not None:
        who = f"{'a new user' if user is None else who} with {args.features}"
    print(f"top-{args.k} for {who}{after} ({type(model).__name__}):")
    print(_table(("rank", "item", "score"), rows))
    if args.why:
        for j in items[0][items[0] >= 0]:
            given = {} if features is None else {"features": features[0]}
            ex = explain(user, int(j), top=3, **given)
            print()
            # the header names the user and item by raw id and title, not by dense index
            header = f"why {name_of(j)} for {who}"
            if hasattr(ex, "n_used"):  # KNN: the neighbours are named by title too
                print(ex.table(names=name_of, header=header))
            else:
                print(ex.table(header=header))
    return 0


def _some_users(test, n: int, seed):
    """The test interactions of at most ``n`` distinct test users, drawn with ``seed``."""
    users = np.unique(test.users)
    if len(users) <= n:
        return test
    chosen = np.random.default_rng(seed).choice(users, size=n, replace=False)
    return test.subset(np.isin(test.users, chosen))


def _jit_disabled() -> bool:
    """Whether Numba's compiler is switched off (``NUMBA_DISABLE_JIT`` set to a non-zero integer)."""
    try:
        return int(os.environ.get("NUMBA_DISABLE_JIT", "0") or 0) != 0
    except ValueError:  # Numba ignores a value that is not an integer, with a warning
        return False


def cmd_quickstart(args) -> int:
    """``tinyrec quickstart``: compare the quick-start models on one split; show one user's top-10."""
    start = time.perf_counter()
    data_name = _data_name(args.data)
    if data_name == "movietweetings" and not cli.DATASETS[data_name].locate()[0]:
        _say("the embedded data set is missing from this installation: using SYNTHETIC data instead")
        data_name = "synthetic"
    train, test, _ = load_split(data_name, "loo", "ranking", args.seed)
    label = "synthetic (generated, not real ratings)" if data_name == "synthetic" else data_name
    print(
        f"data: {label}: {len(train) + len(test):,} interactions, "
        f"{train.n_users:,} users, {train.n_items:,} items"
    )
    scored = _some_users(test, cli.QUICKSTART_TEST_USERS, args.seed)
    held_out = "latest timestamp" if train.timestamps is not None else "a random interaction"
    print(
        f"split: leave-one-out by {held_out}, {len(test):,} test users; {len(scored):,} of them "
        f"(drawn with seed {args.seed}, which also seeds the models) are scored below\n"
    )
    lowest = float(min(train.ratings.min(), test.ratings.min()))
    highest = float(max(train.ratings.max(), test.ratings.max()))
    rows, fitted = [], {}
    for name in cli.QUICKSTART_MODELS:
        model = build_model(name, seed=args.seed)
        fit_seconds, _ = _fit(model, train, name)
        protocols = ("sampled", "full") + (("rating",) if model.task == "rating" else ())
        _say(f"  evaluating {name} ({', '.join(protocols)}) ...")
        m = evaluate_model(model, train, scored, protocols)
        rmse = f"{m['rating']['rmse']:.3f}" if "rating" in m else "-"
        rows.append(
            (
                name,
                f"{m['sampled']['hr@10']:.3f}",
                f"{m['sampled']['ndcg@10']:.3f}",
                f"{m['full']['hr@10']:.3f}",
                f"{m['full']['ndcg@10']:.3f}",
                rmse,
                f"{fit_seconds:.2f}",
            )
        )
        fitted[name] = (model, m["sampled"]["ndcg@10"])
    print(
        _table(
            ("model", "HR@10 sampled", "NDCG@10 sampled", "HR@10 full", "NDCG@10 full",
             f"RMSE ({lowest:g}-{highest:g})", "fit s"),
            rows,
        )
    )
    print(
        f"sampled: the held-out item ranked among {SAMPLED_NEGATIVES} random unseen items; full: among all "
        f"unseen items"
    )
    print(f"RMSE: on the data's rating scale, {lowest:g} to {highest:g}")
    rating_models = [name for name in fitted if fitted[name][0].task == "rating"]
    if rating_models:
        print(
            f"{', '.join(rating_models)}: a rating model (it has an RMSE), ranked here by predicted rating; "
            "a high predicted rating for a film few people saw is not what they watch next, so it ranks "
            "poorly: use a ranking model (bprmf, neumf) for top-N lists"
        )
    if _jit_disabled():
        print("fit s: NUMBA_DISABLE_JIT is set: every kernel runs as plain Python (minutes, not seconds)\n")
    else:
        print("fit s includes Numba's one-time compilation on a machine's first run\n")
    best = max(fitted, key=lambda n: fitted[n][1])
    model = fitted[best][0]
    counts = train.user_counts()
    active = np.flatnonzero(counts >= 20)
    user = int(active[np.argsort(counts[active], kind="stable")[len(active) // 2]]) if len(active) else 0
    titles = train.titles
    name_of = (lambda j: f"{titles[j]}") if titles is not None else (lambda j: f"item {train.item_ids[j]}")
    indptr, rated, ratings = train.to_csr()
    span = slice(indptr[user], indptr[user + 1])
    liked = rated[span][np.argsort(-ratings[span], kind="stable")][:5]  # the user's highest-rated items
    print(
        f"user {train.user_ids[user]} rated {span.stop - span.start} items, the highest: "
        + "; ".join(name_of(j) for j in liked)
    )
    items, _ = model.recommend(np.array([user]), k=10)
    print(f"top-10 from {best} (the best sampled NDCG@10 above):")
    for r, j in enumerate(items[0][items[0] >= 0]):
        print(f"  {r + 1:>2}. {name_of(j)}")
    if data_name == "movietweetings":
        print("\nData: MovieTweetings (Dooms et al., CrowdRec 2013), MIT licence; see tinyrec/data/embedded/")
    _say(f"quickstart finished in {time.perf_counter() - start:.1f} s")
    return 0
