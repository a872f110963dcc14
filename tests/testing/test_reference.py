"""Golden vectors: what a set holds, that it re-checks with zero difference where it was exported,
that tampering is reported, that the epoch cases are the models' own epochs, and the command."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import zipfile

import numpy as np
import pytest

import tinyrec
from tinyrec import losses, optim
from tinyrec.cli.reference import add_reference_parser
from tinyrec.data import Interactions
from tinyrec.errors import DataError
from tinyrec.io import LAYER_CLASSES
from tinyrec.models import BPRMF, BiasedMF
from tinyrec.testing import check_reference, export_reference
from tinyrec.testing.reference import SCHEMA_VERSION, all_cases
from tinyrec.testing.reference.epochs import BIASED_MF, BPR, ITEMS, RATINGS, USERS


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("set")
    export_reference(folder)
    return folder, json.loads((folder / "manifest.json").read_text())


@pytest.fixture
def copy_of(exported, tmp_path):
    """A copy of the exported set, to damage."""
    folder, _ = exported
    for path in folder.rglob("*"):
        if path.is_file():
            target = tmp_path / path.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    return tmp_path


def _arrays(path):
    with np.load(path, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _rewrite(path, arrays):
    np.savez(path, **arrays)  # (the name ends in .npz: np.savez adds no suffix)


def test_the_set_rechecks_with_zero_difference_on_the_machine_that_exported_it(exported):
    folder, manifest = exported
    report = check_reference(folder)
    assert report.ok, str(report)
    assert len(report.results) == len(manifest["cases"]) == len(all_cases())
    assert report.largest_difference == 0.0
    assert all(r.largest_difference == 0.0 and r.worst_ratio == 0.0 for r in report.results)
    assert f"{len(all_cases())} of {len(all_cases())} cases match" in str(report)


def test_an_export_writes_the_same_bytes_every_time(exported, tmp_path):
    folder, manifest = exported
    export_reference(tmp_path)
    again = json.loads((tmp_path / "manifest.json").read_text())
    assert again == manifest
    for case in manifest["cases"]:
        assert (tmp_path / case["file"]).read_bytes() == (folder / case["file"]).read_bytes(), case["id"]


def test_the_manifest_describes_every_file_and_array(exported):
    folder, manifest = exported
    assert manifest["format"] == "tinyrec-reference" and manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["tinyrec_version"] == tinyrec.__version__ and manifest["numpy_version"] == np.__version__
    conventions = {"files", "layers", "losses", "optimizers", "metrics", "comparison"}
    assert conventions <= set(manifest["conventions"])
    for case in manifest["cases"]:
        path = folder / case["file"]
        assert case["file"] == f"{case['id']}.npz" and case["id"] == f"{case['kind']}/{case['name']}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == case["sha256"]
        assert set(case["tolerance"]) == {"rtol", "atol", "why"} and 0 < case["tolerance"]["rtol"] <= 1e-11
        arrays = _arrays(path)
        assert set(arrays) == set(case["inputs"]) | set(case["expected"]), case["id"]
        for name, spec in {**case["inputs"], **case["expected"]}.items():
            a = arrays[name]
            assert spec["shape"] == list(a.shape) and spec["dtype"] == a.dtype.str and spec["meaning"], name
            assert a.dtype.str in ("<f8", "<i8", "|b1"), f"{case['id']} {name} is {a.dtype}"
        assert case["expected"], case["id"]


def test_every_layer_loss_and_optimizer_has_cases(exported):
    _, manifest = exported
    targets = {case["target"] for case in manifest["cases"]}
    assert {f"tinyrec.nn.{name}" for name in LAYER_CLASSES} <= targets
    assert {f"tinyrec.losses.{name}" for name in losses.__all__ if name != "Loss"} <= targets
    for name in ("SGD", "Adam", "AdamW", "Adagrad"):
        assert f"tinyrec.optim.{name}" in targets
    optimizers = [c for c in manifest["cases"] if c["kind"] == "optimizer" and "steps.0" in c["expected"]]
    lazy = [c for c in optimizers if "rows.0" in c["inputs"]]
    assert {c["target"] for c in lazy} == {f"tinyrec.optim.{n}" for n in ("SGD", "Adam", "AdamW", "Adagrad")}
    decays = [bool(c["args"].get("weight_decay")) for c in lazy]
    assert any(decays) and not all(decays)
    assert all(c["expected"]["steps.0"]["shape"][0] >= 5 for c in optimizers)  # several steps
    assert {c["id"] for c in manifest["cases"] if c["kind"] == "epoch"} == {"epoch/BiasedMF", "epoch/BPRMF"}
    assert "tinyrec.optim.clip_grad_norm_" in targets and optim.clip_grad_norm_


def test_metric_cases_hold_ties_and_a_user_with_no_relevant_item(exported):
    folder, manifest = exported
    ranking = [c for c in manifest["cases"] if c["kind"] == "metric" and "per_user" in c["expected"]]
    assert {c["args"]["ties"] for c in ranking} == {"pessimistic", "optimistic", "average"}
    for case in ranking:
        arrays = _arrays(folder / case["file"])
        rows = arrays["scores"]
        assert any(len(np.unique(r[np.isfinite(r)])) < np.isfinite(r).sum() for r in rows)  # ties
        assert np.all(arrays["relevance"][4] == 0) and np.isnan(arrays["per_user"][4])  # no relevant item
        assert np.isfinite(arrays["mean"]) and np.isneginf(rows).any()
    by_ties = {c["args"]["ties"]: _arrays(folder / c["file"])["mean"] for c in ranking if
               c["target"].endswith(".hit_rate")}  # fmt: skip
    assert by_ties["pessimistic"] <= by_ties["average"] <= by_ties["optimistic"]
    assert by_ties["pessimistic"] < by_ties["optimistic"]  # the ties matter in this data


def test_the_epoch_cases_are_the_models_own_first_epoch(exported):
    folder, _ = exported
    mf = BiasedMF(n_epochs=1, **BIASED_MF).fit(Interactions(USERS, ITEMS, RATINGS))
    arrays = _arrays(folder / "epoch/BiasedMF.npz")
    for name in ("P", "Q", "bu", "bi"):
        np.testing.assert_array_equal(getattr(mf, f"{name}_"), arrays[f"final.{name}"], err_msg=name)
    assert mf.history_["train_rmse"][0] == pytest.approx(np.sqrt(arrays["sse"] / len(RATINGS)), rel=1e-15)
    bpr = BPRMF(n_epochs=1, **BPR).fit(Interactions(USERS, ITEMS))
    arrays = _arrays(folder / "epoch/BPRMF.npz")
    for name in ("P", "Q", "bi"):
        np.testing.assert_array_equal(getattr(bpr, f"{name}_"), arrays[f"final.{name}"], err_msg=name)
    assert bpr.history_["loss"][0] == pytest.approx(arrays["loss"] / len(arrays["users"]), rel=1e-15)
    assert not np.array_equal(arrays["final.P"], arrays["initial.P"])  # the epoch moved the tables


def test_a_changed_expected_value_is_reported(copy_of):
    path = copy_of / "layer/Linear.npz"
    arrays = _arrays(path)
    arrays["grad.weight"][0, 0] += 1e-9
    _rewrite(path, arrays)
    report = check_reference(copy_of)
    assert not report.ok
    (failure,) = report.failures
    assert failure.id == "layer/Linear" and failure.status == "failed"
    assert any("SHA-256 is not the manifest's" in p for p in failure.problems)
    assert any(p.startswith("grad.weight differs by up to 1e-09") for p in failure.problems)


def test_an_edited_input_with_a_matching_checksum_fails_its_recomputation(copy_of):
    path = copy_of / "optimizer/Adam-lazy.npz"
    arrays = _arrays(path)
    arrays["values.0"][2, 3] *= 1.5
    _rewrite(path, arrays)
    manifest = json.loads((copy_of / "manifest.json").read_text())
    case = next(c for c in manifest["cases"] if c["id"] == "optimizer/Adam-lazy")
    case["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()  # a careful forger
    (copy_of / "manifest.json").write_text(json.dumps(manifest))
    (failure,) = check_reference(copy_of).failures
    assert failure.id == "optimizer/Adam-lazy" and any("steps.0 differs" in p for p in failure.problems)


def test_a_loosened_tolerance_missing_file_unknown_case_and_stray_file_are_reported(copy_of):
    manifest = json.loads((copy_of / "manifest.json").read_text())
    manifest["cases"][0]["tolerance"]["rtol"] = 1.0
    dropped = manifest["cases"].pop(1)["id"]
    manifest["cases"].append({**manifest["cases"][2], "id": "layer/NoSuchLayer"})
    (copy_of / "manifest.json").write_text(json.dumps(manifest))
    (copy_of / "metric/mse.npz").unlink()
    (copy_of / "loss/extra.npz").write_bytes(b"")
    by_id = {r.id: r for r in check_reference(copy_of).failures}
    assert "the manifest's tolerance" in by_id[manifest["cases"][0]["id"]].problems[0]
    assert by_id[dropped].status == "missing"
    assert by_id["layer/NoSuchLayer"].status == "unknown"
    assert any("is missing" in p for p in by_id["metric/mse"].problems)
    assert by_id["loss/extra.npz"].problems == ["a case file the manifest does not list"]


def test_a_hostile_case_file_is_refused_not_read(copy_of):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("input.0.npy", b"\0" * (32 << 20))  # 32 MB of zeros: a few kB compressed
    (copy_of / "layer/ReLU.npz").write_bytes(buffer.getvalue())
    np.save(copy_of / "a.npy", np.array([object()], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(copy_of / "layer/Tanh.npz", "w") as zf:
        zf.write(copy_of / "a.npy", "input.0.npy")
    by_id = {r.id: r for r in check_reference(copy_of).failures}
    assert "not the .npy arrays of a reference case" in " ".join(by_id["layer/ReLU"].problems)
    assert "could not be re-computed" in " ".join(by_id["layer/Tanh"].problems)


def test_a_folder_without_a_manifest_or_of_another_schema_is_an_error(tmp_path, copy_of):
    with pytest.raises(DataError, match="no reference manifest"):
        check_reference(tmp_path / "empty")
    manifest = json.loads((copy_of / "manifest.json").read_text())
    (copy_of / "manifest.json").write_text(json.dumps({**manifest, "schema_version": 99}))
    with pytest.raises(DataError, match="schema version 99"):
        check_reference(copy_of)
    (copy_of / "manifest.json").write_text("[1, 2")
    with pytest.raises(DataError, match="not valid JSON"):
        check_reference(copy_of)


# -- the command ------------------------------------------------------------------------------------
def _run(argv, capsys):
    parser = argparse.ArgumentParser(prog="tinyrec")
    add_reference_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    status = args.func(args)
    return status, capsys.readouterr().out


def test_the_command_exports_and_checks_with_json(tmp_path, capsys):
    status, out = _run(["reference", "export", str(tmp_path), "--json"], capsys)
    summary = json.loads(out)
    assert status == 0 and summary["cases"] == len(all_cases())
    assert summary["schema_version"] == SCHEMA_VERSION
    assert summary["by_kind"]["epoch"] == 2
    status, out = _run(["reference", "check", str(tmp_path), "--json"], capsys)
    result = json.loads(out)
    assert status == 0 and result["ok"] and result["failed"] == 0 and result["largest_difference"] == 0.0
    arrays = _arrays(tmp_path / "loss/BCELoss.npz")
    arrays["value"] = arrays["value"] + 1.0
    _rewrite(tmp_path / "loss/BCELoss.npz", arrays)
    status, out = _run(["reference", "check", str(tmp_path)], capsys)
    assert status == 1 and "failed   loss/BCELoss" in out


def test_the_command_through_main(tmp_path, capsys):
    from tinyrec.cli import build_parser, main

    try:
        build_parser().parse_args(["reference", "check", str(tmp_path)])
    except SystemExit:
        pytest.skip("tinyrec/cli/parser.py does not wire `tinyrec reference` yet")
    assert main(["reference", "export", str(tmp_path)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["reference", "check", str(tmp_path)]) == 0
    assert main(["reference", "check", str(tmp_path / "nowhere")]) == 2
    assert "no reference manifest" in capsys.readouterr().err
