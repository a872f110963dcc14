"""``tinyrec train sasrec|gru4rec|caser``: the --json contract, the live loss line, the model file that
``tinyrec evaluate`` and ``recommend`` read; a file without timestamps is one clear line, exit 2.

The data is a small file of time-stamped interactions written by the test (200 items, so that the
sampled protocol's 99 negatives fit), and the networks are small: each run takes about a second.
"""

import json
import re

import numpy as np
import pytest

from tinyrec.cli import MODELS, build_model
from tinyrec.models.sequential import Caser, GRU4Rec, SASRec

from .helpers import dataset_dir
from .test_cli import JSON_KEYS, METRIC_KEYS, assert_usage_error, run

#: small networks, so that two epochs take a moment
SMALL = {
    "sasrec": ["--set", "max_len=8", "--set", "dim=8", "--set", "batch_size=16"],
    "gru4rec": ["--set", "max_len=8", "--set", "dim=8", "--set", "hidden=8", "--set", "batch_size=16"],
    "caser": ["--set", "dim=8", "--set", "batch_size=64"],
}


def write_log(path, *, n_users=40, n_items=200, timestamps=True, seed=0):
    """A CSV of ``n_users`` users with 8 to 20 distinct items each, in time order (or no times)."""
    rng = np.random.default_rng(seed)
    lines = ["user,item,rating,timestamp" if timestamps else "user,item,rating"]
    for u in range(n_users):
        items = rng.choice(n_items, rng.integers(8, 21), replace=False)
        for t, i in enumerate(items):
            lines.append(f"{u},{i},1,{1_000 + t}" if timestamps else f"{u},{i},1")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_sequence_models_are_registered():
    for name, cls in (("sasrec", SASRec), ("gru4rec", GRU4Rec), ("caser", Caser)):
        assert MODELS[name].cls is cls and "(sequence)" in MODELS[name].summary
        assert build_model(name, epochs=3, seed=1).n_epochs == 3


@pytest.mark.parametrize("name", ["sasrec", "gru4rec", "caser"])
def test_train_json_live_loss_model_file_evaluate_recommend(capsys, tmp_path, name):
    data, path = write_log(tmp_path / "log.csv"), tmp_path / f"{name}.npz"
    status, out, err = run(capsys, "train", name, "--data", str(data), "--split", "loo", "--epochs", "2",
                           "--json", "--save", str(path), *SMALL[name])  # fmt: skip
    assert status == 0, err
    result = json.loads(out)  # one JSON object, nothing else on stdout
    assert set(result) == JSON_KEYS and result["model"] == name and result["split"] == "loo"
    assert set(result["metrics"]) == {"sampled", "full"}
    for protocol, values in result["metrics"].items():
        assert set(values) == METRIC_KEYS[protocol] and all(0 <= v <= 1 for v in values.values())
    assert len(result["epoch_seconds"]) == 2 and result["params"]["n_epochs"] == 2
    assert re.search(r"epoch 2/2 \[#+\] .*loss \d+\.\d{4}", err), err  # the live line with the loss
    assert path.is_file() and f"saved to {path}" in err

    # evaluate reads the data, split and seed the file records: the same numbers
    status, out, err = run(capsys, "evaluate", "--model", str(path), "--json")
    assert status == 0, err
    assert json.loads(out)["metrics"] == result["metrics"]

    # recommend reads the stored history of the user (raw id 7); none of its train items comes back
    status, out, err = run(capsys, "recommend", "--model", str(path), "--user", "7", "-k", "5")
    assert status == 0, err
    shown = [int(x) for x in re.findall(r"(?m)^ +\d +(\d+)  ", out)]
    assert len(shown) == 5
    seen = {int(line.split(",")[1]) for line in data.read_text().splitlines()[1:] if line.startswith("7,")}
    assert len(seen & set(shown)) <= 1  # at most the held-out test item, which is not in train


def test_recommend_from_a_history_given_on_the_command_line(capsys, tmp_path):
    """``--history`` (raw item ids, oldest first) replaces the stored history; without ``--user`` it is
    an anonymous session; an empty one gets the most popular items; other models refuse it."""
    data, path = write_log(tmp_path / "log.csv"), tmp_path / "gru.npz"
    status, _, err = run(capsys, "train", "gru4rec", "--data", str(data), "--epochs", "1",
                         "--save", str(path), *SMALL["gru4rec"])  # fmt: skip
    assert status == 0, err

    def top(*argv):
        status, out, err = run(capsys, "recommend", "--model", str(path), "-k", "5", *argv)
        assert status == 0, err
        return out.splitlines()[0], [int(x) for x in re.findall(r"(?m)^ +\d +(\d+)  ", out)]

    items = [int(line.split(",")[1]) for line in data.read_text().splitlines()[1:] if line.startswith("7,")]
    history = ",".join(str(i) for i in items[:6])
    title, session = top("--history", history)
    assert title.startswith("top-5 for a session after the history of 6 item(s) given (GRU4Rec)")
    assert len(session) == 5 and not set(session) & set(items[:6])  # the history given counts as seen
    _, as_user = top("--history", history, "--user", "3")  # user 3's history replaced by these six items
    assert not set(as_user) & set(items[:6])
    _, popular = top("--history", "")
    assert len(popular) == 5

    status, _, err = run(capsys, "recommend", "--model", str(path), "--history", "1,no-such-item")
    assert_usage_error(status, err, "no-such-item", "integers")
    status, _, err = run(capsys, "recommend", "--model", str(path), "--history", "1,999999")
    assert_usage_error(status, err, "'999999' is not in the model's data")
    status, _, err = run(capsys, "recommend", "--model", str(path))
    assert_usage_error(status, err, "--user", "--history")
    other = tmp_path / "pop.npz"
    status, _, err = run(capsys, "train", "popularity", "--data", str(data), "--save", str(other))
    assert status == 0, err
    status, _, err = run(capsys, "recommend", "--model", str(other), "--user", "3", "--history", "1,2")
    assert_usage_error(status, err, "--history needs a model that reads a history", "Popularity")


def test_data_without_timestamps_is_one_line_naming_the_fix(capsys, tmp_path):
    data = write_log(tmp_path / "untimed.csv", timestamps=False)
    status, _, err = run(capsys, "train", "gru4rec", "--data", str(data), "--epochs", "1", *SMALL["gru4rec"])
    assert_usage_error(status, err, "gru4rec reads each user's items in time order", "no timestamps",
                       "--columns USER,ITEM,RATING,TIMESTAMP")  # fmt: skip
    assert "fitting" not in err  # refused before training


@pytest.mark.slow
@pytest.mark.realdata
def test_the_issue_command_on_movielens(capsys, tmp_path):
    """``tinyrec train sasrec --data ml-100k --split loo --json`` (one epoch here), then evaluate."""
    dataset_dir("ml-100k", "u.data")
    path = tmp_path / "sasrec.npz"
    status, out, err = run(capsys, "train", "sasrec", "--data", "ml-100k", "--split", "loo", "--json",
                           "--epochs", "1", "--save", str(path))  # fmt: skip
    assert status == 0, err
    result = json.loads(out)
    assert result["data"] == "ml-100k" and result["params"]["max_len"] == 200
    assert "fitting sasrec on 99,057 interactions" in err and re.search(r"epoch 1/1 .*loss \d", err)
    status, out, err = run(capsys, "evaluate", "--model", str(path), "--json")
    assert status == 0 and json.loads(out)["metrics"] == result["metrics"], err
