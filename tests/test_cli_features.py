"""The ``tinyrec`` command and the feature models: train on cold splits, recommend for a new user."""

import json

import numpy as np
import pytest

from tests.helpers import dataset_dir
from tests.test_cli import assert_usage_error, run
from tinyrec.cli import MODELS, commands
from tinyrec.cli.commands import CLIError
from tinyrec.models import FM, FeatureMLP, GroupPopularity


def test_the_feature_models_are_registered():
    assert MODELS["fm"].cls is FM and MODELS["featuremlp"].cls is FeatureMLP
    assert MODELS["fm-bpr"].defaults == {"loss": "bpr"} and MODELS["grouppopularity"].cls is GroupPopularity


def test_features_are_parsed_as_column_value_pairs():
    assert commands._feature_record("age=25, gender=F,occupation=student,") == {
        "age": "25", "gender": "F", "occupation": "student"}  # fmt: skip
    with pytest.raises(CLIError, match="COLUMN=VALUE pairs"):
        commands._feature_record("age25")
    with pytest.raises(CLIError, match="'age' twice"):
        commands._feature_record("age=25,age=30")


@pytest.mark.realdata
@pytest.mark.parametrize("split", ["cold-users", "cold-items"])
def test_train_fm_on_a_cold_split_then_recommend_for_a_new_user(capsys, tmp_path, split):
    dataset_dir("ml-100k", "u.data")
    path = tmp_path / "fm.npz"
    status, out, _ = run(capsys, "train", "fm", "--data", "ml-100k", "--split", split, "--epochs", "1",
                         "--save", str(path), "--json")  # fmt: skip
    assert status == 0
    result = json.loads(out)
    assert result["split"] == split and 0.8 < result["metrics"]["rating"]["rmse"] < 1.3
    status, out, _ = run(capsys, "recommend", "--model", str(path), "--features",
                         "age=25,gender=F,occupation=student", "-k", "3", "--why")  # fmt: skip
    assert status == 0
    assert "top-3 for a new user with age=25,gender=F,occupation=student (FM)" in out
    assert out.count("why ") == 3 and "global bias w_0" in out
    status, _, err = run(capsys, "recommend", "--model", str(path), "--features", "height=180")
    assert_usage_error(status, err, "height", "does not use")
    status, out, err = run(capsys, "recommend", "--model", str(path), "--features", "occupation=astronaut")
    assert status == 0 and "top-10 for a new user" in out
    assert "note: occupation 'astronaut' never occurred in training: scored as an unknown occupation" in err


@pytest.mark.realdata
def test_readme_s_ranking_fm_for_cold_users_trains_with_balanced_users_and_recommends(capsys, tmp_path):
    dataset_dir("ml-100k", "u.data")
    path = tmp_path / "fm-rank.npz"
    status, out, _ = run(capsys, "train", "fm", "--data", "ml-100k", "--split", "cold-users",
                         "--set", "loss=softmax", "--set", "use_ids=item", "--set", "user_balance=0.75",
                         "--epochs", "1", "--save", str(path), "--json")  # fmt: skip
    assert status == 0
    result = json.loads(out)
    assert result["params"]["user_balance"] == 0.75 and result["params"]["loss"] == "softmax"
    assert 0.3 < result["metrics"]["sampled"]["hr@10"] <= 1.0  # a ranking, scored as one
    status, out, _ = run(capsys, "recommend", "--model", str(path), "--features", "age=25,occupation=student")
    assert status == 0 and "top-10 for a new user" in out


@pytest.mark.realdata
def test_recommend_features_with_a_model_that_reads_none_is_refused(capsys, tmp_path):
    dataset_dir("ml-100k", "u.data")
    path = tmp_path / "pop.npz"
    assert run(capsys, "train", "popularity", "--data", "ml-100k", "--save", str(path))[0] == 0
    status, _, err = run(capsys, "recommend", "--model", str(path), "--features", "age=25")
    assert_usage_error(status, err, "--features needs a model that reads features")


@pytest.mark.realdata
def test_group_popularity_recommends_for_a_group(capsys, tmp_path):
    dataset_dir("ml-100k", "u.data")
    path = tmp_path / "groups.npz"
    assert run(capsys, "train", "grouppopularity", "--data", "ml-100k", "--split", "cold-users",
               "--save", str(path))[0] == 0  # fmt: skip
    outs = []
    for who in ("age=22,gender=F", "age=60,gender=M"):
        status, out, _ = run(capsys, "recommend", "--model", str(path), "--features", who, "-k", "5")
        assert status == 0
        outs.append(out.splitlines()[3:])
    assert outs[0] != outs[1] and np.all([len(o) == 5 for o in outs])
