"""The ``tinyrec`` command: every subcommand, the --json contract, exit code 2 paths, quickstart."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import dataset_dir
from tinyrec.cli import MODELS, QUICKSTART_MODELS, build_model, commands, main
from tinyrec.limits import check_allocation, format_bytes
from tinyrec.validation import check_positive_int

REPO = Path(__file__).resolve().parents[1]
JSON_KEYS = {"model", "data", "split", "seed", "params", "metrics", "fit_seconds", "epoch_seconds"}
METRIC_KEYS = {
    "rating": {"rmse", "mae"},
    "sampled": {"hr@10", "ndcg@10", "mrr"},
    "full": {"hr@10", "ndcg@10", "recall@10", "precision@10", "map@10"},
}


def run(capsys, *argv):
    """``(exit status, stdout, stderr)`` of ``main(argv)``, argparse's SystemExit included."""
    try:
        status = main(list(argv))
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_usage_error(status, err, *words):
    assert status == 2
    lines = err.strip().splitlines()  # progress lines may precede the error, never follow it
    errors = [line for line in lines if "error" in line.lower()]
    assert errors == [lines[-1]] and lines[-1].startswith("tinyrec: error:"), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[-1]


def test_datasets_lists_the_embedded_set(capsys):
    status, out, _ = run(capsys, "datasets")
    assert status == 0
    lines = out.splitlines()
    at = next(k for k, line in enumerate(lines) if line.startswith("movietweetings"))
    assert " yes " in lines[at] and "movietweetings-100k.zip" in lines[at + 1]  # where, wrapped below
    assert "ml-100k" in out and "synthetic" in out and "--data PATH" in out
    assert max(len(line) for line in lines) <= 100  # a narrow table


def test_train_json_ranking_model_has_exactly_the_documented_keys(capsys):
    status, out, err = run(capsys, "train", "popularity", "--data", "movietweetings", "--json")
    assert status == 0
    result = json.loads(out)  # one JSON object, nothing else on stdout
    assert set(result) == JSON_KEYS
    assert result["model"] == "popularity" and result["data"] == "movietweetings" and result["split"] == "loo"
    assert result["seed"] == 0  # seeded by default
    assert {p: set(m) for p, m in result["metrics"].items()} == {
        p: METRIC_KEYS[p] for p in ("sampled", "full")
    }
    assert all(0.0 <= v <= 1.0 for m in result["metrics"].values() for v in m.values())
    assert result["params"] == {} and result["epoch_seconds"] == []
    assert "fitting popularity" in err  # progress goes to stderr


def test_train_json_rating_model_with_epochs_and_sets(capsys):
    argv = ["train", "biasedmf", "--data", "synthetic", "--epochs", "3", "--set", "n_factors=4",
            "--set", "lr_all=0.01", "--seed", "1", "--json"]  # fmt: skip
    status, out, err = run(capsys, *argv)
    assert status == 0
    result = json.loads(out)
    assert set(result) == JSON_KEYS
    assert set(result["metrics"]) == {"rating"} and set(result["metrics"]["rating"]) == METRIC_KEYS["rating"]
    assert result["split"] == "holdout" and result["seed"] == 1
    assert result["params"]["n_epochs"] == 3 and result["params"]["n_factors"] == 4
    assert result["params"]["lr_all"] == 0.01 and result["params"]["seed"] == 1
    assert len(result["epoch_seconds"]) == 3 and result["fit_seconds"] > 0
    # a progress line per epoch with the training RMSE (captured stderr is not a terminal: no redraws)
    assert re.search(r"(?m)^epoch 3/3 \[#{20}\] train_rmse \d\.\d{4}\n", err) and "\r" not in err
    assert result["params"]["verbose"] is False  # switched on for the fit only
    # the same seed gives the same numbers
    _, again, _ = run(capsys, *argv)
    assert json.loads(again)["metrics"] == result["metrics"]


def test_models_without_a_live_line_get_the_epoch_log_after_fit(capsys):
    status, _, err = run(capsys, "train", "baseline", "--data", "synthetic", "--set", "method=sgd")
    assert status == 0
    assert "epoch  20/20 [####################]" in err and "\r" not in err


def test_train_table_output(capsys):
    status, out, _ = run(capsys, "train", "itemknn", "--data", "synthetic", "--set", "k=10")
    assert status == 0
    assert "ItemKNN(k=10" in out and "rmse" in out and "mae" in out


@pytest.mark.realdata
def test_train_on_an_ml100k_fold(capsys):
    dataset_dir("ml-100k", "u1.base")
    status, out, _ = run(capsys, "train", "itemknn", "--data", "ml-100k", "--split", "u2", "--json")
    assert status == 0
    result = json.loads(out)
    assert result["split"] == "u2" and 0.85 < result["metrics"]["rating"]["rmse"] < 0.95


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "nosuchmodel", "--data", "synthetic"], ["nosuchmodel", "known:"]),
        (["train", "popularity", "--data", "nosuchdata"], ["nosuchdata", "tinyrec datasets"]),
        (["train", "itemknn", "--data", "synthetic", "--set", "colour=red"], ["colour", "valid:"]),
        (["train", "itemknn", "--data", "synthetic", "--set", "k"], ["key=value"]),
        (["train", "itemknn", "--data", "synthetic", "--set", "k=0"], ["k must be"]),
        (["train", "itemknn", "--data", "synthetic", "--epochs", "3"], ["--epochs"]),
        (["train", "itemknn", "--data", "movietweetings", "--split", "u1"], ["ML-100K", "--data ml-100k"]),
        (["train", "itemknn", "--data", "synthetic", "--split", "u9"], ["--split"]),
        (["train", "itemknn"], ["--data"]),
        (["evaluate", "--model", "no/such/file.npz", "--data", "synthetic"], ["no model file"]),
        (["recommend", "--model", "no/such/file.npz", "--user", "1"], ["no model file"]),
        (["nosuchcommand"], ["nosuchcommand"]),
        (["train", "popularity", "--data", "synthetic", "--seed", "-1"], ["--seed", "non-negative"]),
        (["quickstart", "--seed", "-3"], ["--seed", "non-negative"]),
        (["train", "popularity", "--data", "synthetic", "--save", "no/such/dir/m.npz"], ["does not exist"]),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, argv, words):
    status, _, err = run(capsys, *argv)
    assert_usage_error(status, err, *words)


def test_save_evaluate_recommend_why(capsys, tmp_path):
    path = tmp_path / "knn.npz"
    status, out, _ = run(
        capsys, "train", "itemknn", "--data", "movietweetings", "--save", str(path), "--json"
    )
    assert status == 0 and path.is_file()
    trained = json.loads(out)["metrics"]
    status, out, _ = run(capsys, "evaluate", "--model", str(path), "--data", "movietweetings", "--json")
    assert status == 0
    assert json.loads(out)["metrics"] == trained  # the same split, the same numbers
    status, out, _ = run(capsys, "recommend", "--model", str(path), "--user", "5373", "-k", "3", "--why")
    assert status == 0
    table = out.split("why")[0]
    titled = re.findall(r"^ +\d  .+ \(\d{4}\) \(\d{7}\) ", table, flags=re.M)  # "Title (year) (IMDb id)"
    assert len(titled) == 3
    assert out.count("why ") == 3 and out.count("neighbour item(s)") == 3  # one explanation per item
    # errors on a real model file
    status, _, err = run(capsys, "recommend", "--model", str(path), "--user", "nobody")
    assert_usage_error(status, err, "nobody")
    status, _, err = run(capsys, "evaluate", "--model", str(path), "--data", "synthetic")
    assert_usage_error(status, err, "not trained on synthetic")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(path.read_bytes()[:1000])
    status, _, err = run(capsys, "recommend", "--model", str(bad), "--user", "5373")
    assert_usage_error(status, err, "truncated")


def test_recommend_why_with_matrix_factorization(capsys, tmp_path):
    path = tmp_path / "mf.npz"
    assert (
        run(capsys, "train", "biasedmf", "--data", "synthetic", "--epochs", "2", "--save", str(path))[0] == 0
    )
    status, out, _ = run(capsys, "recommend", "--model", str(path), "--user", "3", "-k", "2", "--why")
    assert status == 0
    assert out.count("why ") == 2 and "factor" in out
    # the explanation names the user by the raw id given, never by its dense index
    assert out.count("for user 3: predicted") == 2 and not re.search(r"^user \d+, item \d+", out, flags=re.M)


def test_recommend_why_needs_a_model_with_explain(capsys, tmp_path):
    path = tmp_path / "pop.npz"
    assert run(capsys, "train", "popularity", "--data", "synthetic", "--save", str(path))[0] == 0
    status, out, _ = run(capsys, "recommend", "--model", str(path), "--user", "0", "-k", "2")
    assert status == 0 and "rank" in out
    status, _, err = run(capsys, "recommend", "--model", str(path), "--user", "0", "--why")
    assert_usage_error(status, err, "explain")


@pytest.mark.parametrize(
    "command", [[], ["datasets"], ["train"], ["evaluate"], ["recommend"], ["quickstart"]]
)
def test_help_has_examples(capsys, command):
    status, out, _ = run(capsys, *command, "--help")
    assert status == 0
    assert "example" in out and "tinyrec " in out


def test_registries():
    for name in QUICKSTART_MODELS:
        assert name in MODELS
    for name, spec in MODELS.items():  # every registered model builds with its defaults
        model = build_model(name, seed=0)
        assert isinstance(model, spec.cls)
    assert build_model("itemknn-implicit").task == "ranking"


@pytest.mark.slow
def test_quickstart_as_python_m():
    # how long it takes is measured by benchmarks/bench_knn.py, not asserted here (shared machines)
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    command = [sys.executable, "-m", "tinyrec", "quickstart"]
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "movietweetings" in out and "synthetic" not in out
    for name in QUICKSTART_MODELS:
        assert name in out
    assert "top-10 from" in out
    top = out.split("top-10 from")[1].splitlines()[1:11]
    assert len(top) == 10 and all(line.strip().split(".")[0].strip().isdigit() for line in top)
    assert sum(line.rstrip().endswith(")") for line in top) == 10  # titles end in "(year)"
    assert "MIT" in out
    assert "quickstart finished" in proc.stderr


def test_quickstart_falls_back_to_synthetic_data_named_as_such(capsys, monkeypatch):
    from tinyrec.cli import registry as cli

    spec = cli.DATASETS["movietweetings"]
    monkeypatch.setitem(
        cli.DATASETS, "movietweetings", cli.DataSpec(spec.load, spec.summary, lambda: (False, ""))
    )
    monkeypatch.setattr(cli, "QUICKSTART_MODELS", ["popularity"])
    status, out, err = run(capsys, "quickstart")
    assert status == 0
    assert "data: synthetic (generated, not real ratings)" in out and "SYNTHETIC" in err
    assert np.all([name != "movietweetings" for name in out.split()])


def test_missing_data_file_exits_2(capsys, monkeypatch, tmp_path):
    (tmp_path / "ml-100k").mkdir()  # a data folder without its files
    monkeypatch.setenv("TINYREC_DATA", str(tmp_path))
    monkeypatch.setenv("TINYREC_CACHE", str(tmp_path / "cache"))
    status, _, err = run(capsys, "train", "popularity", "--data", "ml-100k")
    assert_usage_error(status, err, "missing", "u.data")


# ------------------------------------------------------------------ every error: one line, exit 2
def _saved_model(capsys, tmp_path, name="popularity"):
    path = tmp_path / f"{name}.npz"
    assert run(capsys, "train", name, "--data", "synthetic", "--save", str(path))[0] == 0
    return path


def _rewrite_header(path, out, change):
    """A copy of the model file at ``path`` with ``change(header)`` applied to its JSON header."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    header = change(json.loads(arrays.pop("__header__").tobytes().decode("utf-8")))
    blob = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    with open(out, "wb") as f:
        np.savez(f, __header__=blob, **arrays)
    return out


def _replace_strings(value, old, new):
    if isinstance(value, dict):
        return {k: _replace_strings(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_strings(v, old, new) for v in value]
    return new if value == old else value


def test_crafted_model_files_are_one_line_never_a_traceback(capsys, tmp_path, monkeypatch):
    path = _saved_model(capsys, tmp_path)
    called = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a) or 0)
    crafted = {
        "truncated": tmp_path / "truncated.npz",
        "text": tmp_path / "text.npz",
        "npy": tmp_path / "array.npz",
        "os.system": _rewrite_header(
            path, tmp_path / "system.npz",
            lambda h: _replace_strings(h, "tinyrec.models.popularity.Popularity", "os.system"),
        ),
    }  # fmt: skip
    crafted["truncated"].write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    crafted["text"].write_text("user,item,rating\n1,2,3\n")
    with open(crafted["npy"], "wb") as f:
        np.save(f, np.arange(3))
    assert "os.system" in crafted["os.system"].read_bytes().decode("latin-1")
    for what, bad in crafted.items():
        for argv in (["recommend", "--model", str(bad), "--user", "0"],
                     ["evaluate", "--model", str(bad), "--data", "synthetic"]):  # fmt: skip
            status, out, err = run(capsys, *argv)
            assert_usage_error(status, err, str(bad))
            assert "bug" not in err, (what, err)  # a bad file is the input's fault, not tinyrec's
            assert out == ""
    assert called == []


def test_a_full_disk_during_save_is_one_line_naming_the_path(capsys, tmp_path, monkeypatch):
    def full_disk(file, *args, **kwargs):
        file.write(b"PK\x03\x04 partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full_disk)
    path = tmp_path / "model.npz"
    status, _, err = run(capsys, "train", "popularity", "--data", "synthetic", "--save", str(path))
    assert_usage_error(status, err, str(path), "No space left on device")
    assert not path.exists() and list(tmp_path.iterdir()) == []  # no partial file, at the target or beside


def _raise_in_load_split(monkeypatch, make):
    """Make ``tinyrec train`` fail with ``make()``'s exception once the data are being loaded."""

    def fail(*args, **kwargs):
        raise make()

    monkeypatch.setattr(commands, "load_split", fail)


TRAIN = ["train", "popularity", "--data", "synthetic"]


def test_memory_errors_are_one_line_with_the_size(capsys, monkeypatch):
    numpy_says = "Unable to allocate 7.28 TiB for an array with shape (1000000, 1000000) and data type f8"
    _raise_in_load_split(monkeypatch, lambda: MemoryError(numpy_says))
    status, _, err = run(capsys, *TRAIN)
    assert_usage_error(status, err, "out of memory", "7.28 TiB", "TINYREC_MAX_BYTES")
    _raise_in_load_split(monkeypatch, MemoryError)  # a bare one: says the size is not known
    status, _, err = run(capsys, *TRAIN)
    assert_usage_error(status, err, "out of memory", "size not given", "TINYREC_MAX_BYTES")
    # tinyrec's own bound: AllocationError says how much was asked and how to raise the bound
    too_big = _caught(lambda: check_allocation((10**6, 10**6), "f8", "a test"))
    _raise_in_load_split(monkeypatch, lambda: too_big)
    status, _, err = run(capsys, *TRAIN)
    assert_usage_error(status, err, "a test of shape (1000000, 1000000) would take 7.3 TiB", "MAX_BYTES=64G")


def _caught(call):
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError("no error")


def test_os_errors_name_the_path(capsys, monkeypatch):
    _raise_in_load_split(monkeypatch, lambda: PermissionError(13, "Permission denied", "/data/ratings.csv"))
    status, _, err = run(capsys, *TRAIN)
    assert_usage_error(status, err, "/data/ratings.csv: Permission denied")


def test_errors_tinyrec_did_not_check_are_reported_as_probable_bugs(capsys, monkeypatch):
    # a ValueError from a tinyrec check: the input's fault, its message alone
    _raise_in_load_split(monkeypatch, lambda: _caught(lambda: check_positive_int(0, "n_widgets")))
    status, _, err = run(capsys, *TRAIN)
    assert_usage_error(status, err, "n_widgets must be a positive integer")
    assert "bug" not in err
    # errors no check raised: NumPy's own ValueError, an IndexError, a TypeError inside a tinyrec line
    bugs = {
        "ValueError: operands could not be broadcast": lambda: _caught(lambda: np.zeros(3) + np.zeros(4)),
        "IndexError: boom": lambda: IndexError("boom"),
        "TypeError: '>=' not supported": lambda: _caught(lambda: format_bytes("many")),  # in a tinyrec line
    }
    for words, make in bugs.items():
        _raise_in_load_split(monkeypatch, make)
        status, _, err = run(capsys, *TRAIN)
        assert_usage_error(status, err, words, "probably a bug in tinyrec", "--traceback", "TRACEBACK=1")


def test_traceback_option_and_variable_show_the_traceback(capsys, monkeypatch):
    _raise_in_load_split(monkeypatch, lambda: IndexError("boom"))
    for argv in (["--traceback", *TRAIN], [*TRAIN, "--traceback"]):
        status, _, err = run(capsys, *argv)
        assert status == 2 and "Traceback (most recent call last)" in err
        assert err.rstrip().endswith("IndexError: boom") and "probably a bug" not in err
    monkeypatch.setenv("TINYREC_TRACEBACK", "1")
    status, _, err = run(capsys, *TRAIN)
    assert status == 2 and "Traceback (most recent call last)" in err
    monkeypatch.setenv("TINYREC_TRACEBACK", "0")
    status, _, err = run(capsys, *TRAIN)
    assert_usage_error(status, err, "IndexError: boom")


def test_an_interrupt_exits_130(capsys, monkeypatch):
    _raise_in_load_split(monkeypatch, KeyboardInterrupt)
    status, _, err = run(capsys, *TRAIN)
    assert status == 130 and err.strip().splitlines()[-1] == "tinyrec: interrupted"
    assert "Traceback" not in err


def test_help_documents_the_error_handling(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    assert "--traceback" in out and "TINYREC_TRACEBACK=1" in out and "status 2" in out and "bug" in out


# ------------------------------------------------------------------ your own data, seeds, provenance
EXAMPLE = REPO / "examples" / "my_ratings.csv"  # README's "Your own data" uses this file


def test_train_and_evaluate_your_own_csv_with_string_ids(capsys, tmp_path):
    path = tmp_path / "mine.npz"
    status, out, err = run(capsys, "train", "biasedmf", "--data", str(EXAMPLE), "--save", str(path), "--json")
    assert status == 0, err
    trained = json.loads(out)
    assert trained["data"] == str(EXAMPLE) and trained["split"] == "holdout" and trained["seed"] == 0
    assert "ids read as text" in err and "245 interactions, 24 users, 20 items" in err
    assert 0 < trained["metrics"]["rating"]["rmse"] < 2
    # evaluate reads the data, split and seed the model file records: the same numbers
    status, out, err = run(capsys, "evaluate", "--model", str(path), "--json")
    assert status == 0, err
    assert json.loads(out)["metrics"] == trained["metrics"] and "warning" not in err
    status, out, _ = run(capsys, "recommend", "--model", str(path), "--user", "ana", "-k", "3")
    assert status == 0 and len(re.findall(r"(?m)^ +\d  tt\d{7} ", out)) == 3  # the raw text ids
    # a ranking model on a file this small: full ranking only (too few items for 99 sampled negatives)
    status, out, err = run(capsys, "train", "bprmf", "--data", str(EXAMPLE), "--json")
    assert status == 0 and set(json.loads(out)["metrics"]) == {"full"} and "sampled protocol left out" in err


def test_your_own_file_read_options(capsys, tmp_path):
    tsv = tmp_path / "clicks.tsv"  # no header, integer ids, item first, no rating, a timestamp
    rows = [(item, user, 1_700_000_000 + 60 * k) for k, (user, item) in
            enumerate((u, (u * 7 + j) % 30) for u in range(12) for j in range(6))]  # fmt: skip
    tsv.write_text("".join(f"{i}\t{u}\t{t}\n" for i, u, t in rows))
    status, out, err = run(capsys, "train", "popularity", "--data", str(tsv), "--columns", "1,0,-,2",
                           "--json")  # fmt: skip
    assert status == 0, err
    assert "separator '\\t', columns user=1 item=0 timestamp=2" in err and "ids read as integers" in err
    assert "implicit feedback" in err and json.loads(out)["split"] == "loo"
    csv = tmp_path / "named.csv"  # columns by header name; no timestamps: leave-one-out draws
    csv.write_text("who;what;stars\n" + "".join(f"u{u};m{(u + j) % 9};{1 + j % 5}\n" for u in range(10)
                                                  for j in range(5)))  # fmt: skip
    status, out, err = run(capsys, "train", "popularity", "--data", str(csv), "--columns", "who,what,stars")
    assert status == 0, err
    assert "separator ';'" in err and "no timestamps: leave-one-out holds out a random interaction" in err
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "ratings.csv").write_text(csv.read_text())
    status, _, err = run(capsys, "train", "popularity", "--data", str(folder), "--header", "yes",
                         "--columns", "0,1,2")  # fmt: skip
    assert status == 0, err
    (folder / "more.csv").write_text("x")
    (folder / "ratings.csv").rename(folder / "old.csv")
    for argv, words in [
        (["--data", str(folder)], ["cannot tell which file", "more.csv"]),
        (["--data", str(tsv), "--sep", ","], ["one field", "--sep"]),
        (["--data", str(csv), "--columns", "who"], ["USER,ITEM"]),
        (["--data", str(csv), "--columns", "who,nope"], ["no column named 'nope'", "--columns"]),
        (["--data", str(csv), "--split", "u1"], ["ML-100K"]),
    ]:
        status, _, err = run(capsys, "train", "popularity", *argv)
        assert_usage_error(status, err, *words)


def test_the_same_command_twice_gives_the_same_numbers_and_recommendations(capsys, tmp_path):
    for model in ("biasedmf", "bprmf"):  # seeded by default (seed 0), no --seed given
        runs = []
        for k in range(2):
            path = tmp_path / f"{model}{k}.npz"
            status, out, _ = run(capsys, "train", model, "--data", "synthetic", "--epochs", "3",
                                 "--save", str(path), "--json")  # fmt: skip
            assert status == 0
            result = json.loads(out)
            status, top, _ = run(capsys, "recommend", "--model", str(path), "--user", "7", "-k", "5")
            assert status == 0
            runs.append((result["metrics"], result["params"], result["seed"], top))
        assert runs[0] == runs[1]
    status, out, _ = run(capsys, "train", "bprmf", "--data", "synthetic", "--epochs", "3")
    assert status == 0 and "seed=0" in out and "data synthetic, split loo, seed 0" in out


def test_evaluating_on_another_split_is_refused_unless_allowed(capsys, tmp_path):
    path = tmp_path / "mf.npz"
    argv = ["train", "biasedmf", "--data", "synthetic", "--epochs", "2", "--save", str(path)]
    assert run(capsys, *argv)[0] == 0
    status, _, err = run(capsys, "evaluate", "--model", str(path), "--seed", "1")  # another holdout draw
    words = ["trained on synthetic, split holdout, seed 0", "split holdout, seed 1 is other",
             "so the figures would be leaked", "--allow-mismatch"]  # fmt: skip
    assert_usage_error(status, err, *words)
    status, out, err = run(capsys, "evaluate", "--model", str(path), "--seed", "1", "--allow-mismatch")
    assert status == 0 and "rmse" in out
    warned = [line for line in err.splitlines() if line.startswith("tinyrec: warning:")]
    assert len(warned) == 2 and "evaluating anyway (--allow-mismatch)" in warned[0]
    status, _, err = run(capsys, "recommend", "--model", str(path), "--user", "3", "--data", "movietweetings")
    assert_usage_error(status, err, "trained on synthetic", "not those of movietweetings", "--allow-mismatch")
    status, out, err = run(capsys, "recommend", "--model", str(path), "--user", "3",
                           "--data", "movietweetings", "--allow-mismatch")  # fmt: skip
    assert status == 0 and "top-10 for user 3" in out and "tinyrec: warning: --data movietweetings" in err


@pytest.mark.realdata
def test_a_model_of_ml100k_fold_u1_is_refused_on_fold_u2(capsys, tmp_path):
    dataset_dir("ml-100k", "u2.base")
    path = tmp_path / "u1.npz"
    assert run(capsys, "train", "baseline", "--data", "ml-100k", "--split", "u1", "--save", str(path))[0] == 0
    status, _, err = run(capsys, "evaluate", "--model", str(path), "--split", "u2")
    assert_usage_error(status, err, "split u1", "split u2", "20,000 of its 20,000 test interactions")
    status, out, _ = run(capsys, "evaluate", "--model", str(path), "--json")  # the recorded split
    assert status == 0 and json.loads(out)["split"] == "u1"


def test_a_model_file_without_provenance_warns_and_needs_data(capsys, tmp_path):
    path = _saved_model(capsys, tmp_path)
    old = _rewrite_header(path, tmp_path / "old.npz", lambda h: {k: h[k] for k in h if k != "provenance"})
    status, _, err = run(capsys, "evaluate", "--model", str(old))
    assert_usage_error(status, err, "does not record the data", "--data")
    assert "tinyrec: warning:" in err and "saved without its provenance" in err
    status, out, err = run(capsys, "evaluate", "--model", str(old), "--data", "synthetic")
    assert status == 0 and "hr@10" in out and err.count("tinyrec: warning:") == 1


def test_version_and_threads(capsys):
    from tinyrec import threads
    from tinyrec.version import __version__

    status, out, _ = run(capsys, "--version")
    assert status == 0 and out.startswith(f"tinyrec {__version__} (numpy ") and "numba" in out
    seen = []
    original = threads.set_threads

    def spy(n):
        seen.append(n)
        original(n)

    try:
        threads.set_threads = spy
        from tinyrec import cli as cli_package

        cli_package.set_threads = spy
        for argv in (["--threads", "1", *TRAIN], [*TRAIN, "--threads", "1"]):
            assert run(capsys, *argv)[0] == 0
    finally:
        cli_package.set_threads = original
        threads.set_threads = original
    assert seen == [1, None, 1, None]  # set for the command, then back to the defaults
    assert threads.blas_threads() in (1, None)
    status, _, err = run(capsys, "--threads", "0", *TRAIN)
    assert_usage_error(status, err, "--threads must be a positive integer")


def test_quickstart_names_the_rating_scale_and_the_jit_note(capsys, monkeypatch):
    from tinyrec.cli import registry as cli

    monkeypatch.setattr(cli, "QUICKSTART_MODELS", ["popularity", "baseline"])
    status, out, _ = run(capsys, "quickstart")
    assert status == 0 and "RMSE (0-10)" in out and "rating scale, 0 to 10" in out
    assert "includes Numba's one-time compilation" in out
    monkeypatch.setenv("NUMBA_DISABLE_JIT", "1")  # (Numba is loaded already: only the note changes)
    status, out, _ = run(capsys, "quickstart")
    assert status == 0 and "compilation" not in out and "NUMBA_DISABLE_JIT is set" in out
