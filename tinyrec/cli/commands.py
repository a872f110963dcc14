"""The subcommands of the ``tinyrec`` command and their building blocks.

This module holds what each subcommand does: build a model from the registry and ``--set``,
load a data set and its split, fit with an epoch log on stderr, evaluate with the protocols that
suit the model, and print tables (or one JSON object) on stdout. Usage errors raise
:class:`~tinyrec.cli.CLIError`, which ``main`` turns into one line and exit status 2 (as every other
error: see :mod:`tinyrec.cli`).
"""

from __future__ import annotations

import inspect
import json
import sys
import time

import numpy as np

from ..data import movielens
from ..data.split import leave_one_out, random_holdout
from ..errors import TinyrecError
from ..evaluation import evaluate
from ..io import check_save_path, load
from . import registry as cli
from .registry import CLIError, ModelSpec


# ---------------------------------------------------------------------- building blocks
def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _dataset(name: str) -> str:
    key = cli._ALIASES.get(name.lower(), name.lower())
    if key not in cli.DATASETS:
        raise CLIError(
            f"unknown data set {name!r}; known: {', '.join(cli.DATASETS)} (see `tinyrec datasets`)"
        )
    return key


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


def load_split(data_name: str, split: str | None, task: str, seed):
    """``(train, test, split)`` of a data set; the default split suits the model's task."""
    key = _dataset(data_name)
    if split is None:
        split = (
            "u1" if (key == "ml-100k" and task == "rating") else ("holdout" if task == "rating" else "loo")
        )
    if split not in cli.SPLITS:
        raise CLIError(f"unknown split {split!r}; use one of {', '.join(cli.SPLITS)}")
    if split not in ("loo", "holdout"):  # a predefined ML-100K fold
        if key != "ml-100k":
            raise CLIError(
                f"split {split!r} is a predefined ML-100K fold; use --data ml-100k, or --split loo/holdout"
            )
        _say(f"loading {key}, fold {split} ...")
        train, test = movielens("100k", fold=split)
        return train, test, split
    _say(f"loading {key} ...")
    data = cli.DATASETS[key].load(seed)
    if split == "loo":
        train, test = leave_one_out(data, by="time")
    else:
        train, test = random_holdout(data, 0.2, seed=0 if seed is None else seed)
    return train, test, split


_METRIC_KEYS = {
    "rating": ("rmse", "mae"),
    "sampled": ("hr@10", "ndcg@10", "mrr"),
    "full": ("hr@10", "ndcg@10", "recall@10", "precision@10", "map@10"),
}


def evaluate_model(model, train, test, protocols) -> dict:
    """``{protocol: {metric: value}}`` with exactly the keys of :data:`_METRIC_KEYS`."""
    out = {}
    for protocol in protocols:
        raw = {
            str(k).lower(): v for k, v in evaluate(model, test, train=train, protocol=protocol, k=10).items()
        }
        out[protocol] = {key: float(raw[key]) for key in _METRIC_KEYS[protocol]}
    return out


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


def _titles_for(model, data_name: str | None):
    """A function item index -> "title (raw id)" from the data set the model was trained on, or None.

    With ``--data`` that data set is used; otherwise the locally available ones are tried and the
    one whose raw item ids equal the model's is taken.
    """
    names = (
        [_dataset(data_name)]
        if data_name
        else [n for n, s in cli.DATASETS.items() if n != "synthetic" and s.locate()[0]]
    )
    for name in names:
        try:
            data = cli.DATASETS[name].load(0)
        except TinyrecError:
            continue
        if data.n_items == model.n_items_ and np.array_equal(data.item_ids, model.item_ids_):
            if data.titles is None:
                return None
            return lambda j: f"{data.titles[j]} ({data.item_ids[j]})"
    return None


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


# ---------------------------------------------------------------------- subcommands
def cmd_datasets(args) -> int:
    """``tinyrec datasets``: each known data set, whether it is found locally, and where."""
    rows = []
    for name, spec in cli.DATASETS.items():
        found, where = spec.locate()
        rows.append((name, "yes" if found else "no", where, spec.summary))
    print(_table(("data set", "local", "where", "what"), rows))
    return 0


def _report(args, model, label, data_name, split, metrics, fit_seconds, epoch_seconds) -> None:
    if args.json:
        params = {k: _jsonable(v) for k, v in model.get_params().items()}
        print(
            json.dumps(
                {
                    "model": label,
                    "data": data_name,
                    "split": split,
                    "params": params,
                    "metrics": metrics,
                    "fit_seconds": fit_seconds,
                    "epoch_seconds": epoch_seconds,
                }
            )
        )
        return
    print(f"{model!r}\ndata {data_name}, split {split}")
    print(_table(("protocol", "metric", "value"), _metric_rows(metrics)))


def cmd_train(args) -> int:
    """``tinyrec train``: build, fit, evaluate (protocols that suit the model), optionally save."""
    model = build_model(args.model, epochs=args.epochs, seed=args.seed, sets=args.set)
    if args.save:
        check_save_path(args.save)  # before training, so a bad path does not cost the fit
    data_name = _dataset(args.data)
    train, test, split = load_split(data_name, args.split, model.task, args.seed)
    fit_seconds, epoch_seconds = _fit(model, train, args.model)
    _say("evaluating ...")
    metrics = evaluate_model(model, train, test, protocols_for(model))
    if args.save:
        _say(f"saved to {_save(model, args.save)}")
    _report(args, model, args.model.lower(), data_name, split, metrics, fit_seconds, epoch_seconds)
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


def cmd_evaluate(args) -> int:
    """``tinyrec evaluate``: a saved model on the test part of a split of the data it was trained on."""
    model = _load_model(args.model)
    data_name = _dataset(args.data)
    train, test, split = load_split(data_name, args.split, model.task, args.seed)
    if train.n_items != model.n_items_ or not np.array_equal(train.item_ids, model.item_ids_):
        raise CLIError(
            f"{args.model} was not trained on {data_name} (its items differ); "
            "pass the data set it was trained on"
        )
    metrics = evaluate_model(model, train, test, protocols_for(model))
    _report(args, model, type(model).__name__, data_name, split, metrics, None, [])
    return 0


def cmd_recommend(args) -> int:
    """``tinyrec recommend``: a user's top-k from a saved model, with titles and ``--why``."""
    model = _load_model(args.model)
    user = _user_index(model, args.user)
    if not 1 <= args.k <= model.n_items_:
        raise CLIError(f"-k must be between 1 and {model.n_items_}")
    explain = getattr(model, "explain", None)
    if args.why and explain is None:
        raise CLIError(
            f"--why needs a model with explain() (ItemKNN, UserKNN, BiasedMF); "
            f"{type(model).__name__} has none"
        )
    name_of = _titles_for(model, args.data) or (lambda j: str(model.item_ids_[j]))
    items, scores = model.recommend(np.array([user]), k=args.k)
    rows = [
        (r + 1, name_of(j), f"{s:.3f}")
        for r, (j, s) in enumerate(zip(items[0], scores[0], strict=True))
        if j >= 0
    ]
    print(f"top-{args.k} for user {args.user} ({type(model).__name__}):")
    print(_table(("rank", "item", "score"), rows))
    if args.why:
        for j in items[0][items[0] >= 0]:
            ex = explain(user, int(j), top=3)
            print()
            # the header names the user and item by raw id and title, not by dense index
            header = f"why {name_of(j)} for user {args.user}"
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


def cmd_quickstart(args) -> int:
    """``tinyrec quickstart``: compare the quick-start models on one split; show one user's top-10."""
    start = time.perf_counter()
    data_name = _dataset(args.data)
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
    print(
        f"split: leave-one-out by latest timestamp, {len(test):,} test users; "
        f"{len(scored):,} of them (drawn with the seed) are scored below\n"
    )
    rows, fitted = [], {}
    for name in cli.QUICKSTART_MODELS:
        model = build_model(name, seed=args.seed)
        fit_seconds, _ = _fit(model, train, name)
        protocols = ("sampled", "full") + (("rating",) if model.task == "rating" else ())
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
            ("model", "HR@10 sampled", "NDCG@10 sampled", "HR@10 full", "NDCG@10 full", "RMSE", "fit s"), rows
        )
    )
    print("sampled: the held-out item ranked among 99 random unseen items; full: among all unseen items")
    rating_models = [name for name in fitted if fitted[name][0].task == "rating"]
    if rating_models:
        print(
            f"{', '.join(rating_models)}: a rating model (it has an RMSE), ranked here by predicted rating; "
            "a high predicted rating for a film few people saw is not what they watch next, so it ranks "
            "poorly: use a ranking model (bprmf, neumf) for top-N lists"
        )
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
