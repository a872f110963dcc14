"""examples/shop.py runs on MovieLens 100K and prints the cleaning report, the purchase model's
classification metrics, the ranking metrics and each customer's list with a reason per item."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import dataset_dir
from tests.test_tutorials import _env

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "examples" / "shop.py"


@pytest.mark.slow
@pytest.mark.realdata
def test_the_shop_example_prints_the_report_the_metrics_and_the_reasons():
    folder = dataset_dir("ml-100k", "u.data")
    args = ["--data", str(folder.parent), "--users", "2", "--top", "3", "--epochs", "2"]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for reason in ("missing user", "unreadable rating", "unknown item", "exact duplicate", "older duplicate"):
        assert re.search(rf"^{reason} .*\(-[\d,]+\)$", out, re.MULTILINE), f"no {reason!r} line:\n{out}"
    kept = re.search(r"^rows kept +([\d,]+) = ([\d,]+) read - ([\d,]+) removed$", out, re.MULTILINE)
    assert kept, out
    rows_kept, rows_read, _ = (int(g.replace(",", "")) for g in kept.groups())
    report = out.split("== cleaning report", 1)[1].split("\n\n", 1)[0]
    steps = [
        [int(g.replace(",", "")) for g in step]
        for step in re.findall(r"^\S.*? +([\d,]+) -> +([\d,]+)  \(-([\d,]+)\)$", report, re.MULTILINE)
    ]
    assert len(steps) == 12, report  # the ten reasons and the two kinds of duplicates
    assert steps[0][0] == rows_read and all(before - after == minus for before, after, minus in steps)
    # each step starts where the one before ended, and the removals add up to the rows not kept
    assert all(steps[k][0] == steps[k - 1][1] for k in range(1, len(steps)))
    assert rows_read - sum(minus for _, _, minus in steps) == rows_kept  # every row counted once
    assert "Warning" not in result.stderr, result.stderr  # align_records' warning: counted in the report
    assert re.search(
        r"accuracy 0\.\d{3}  precision 0\.\d{3}  recall 0\.\d{3}  f1 0\.\d{3}  roc_auc 0\.\d{3}", out
    )
    assert re.search(r"^bprmf +hr@10 0\.\d{3}  ndcg@10 0\.\d{3}$", out, re.MULTILINE), out
    lists = out.split("with reasons", 1)[1]
    assert len(re.findall(r"^customer ", lists, re.MULTILINE)) == 2
    reasons = re.findall(r"(because you liked .+|people like you \(.+\) liked this)$", lists, re.MULTILINE)
    assert len(reasons) == 2 * 3 + 3  # two customers' lists and the new customer's, 3 items each
    assert "people like you (25–34, student) liked this" in out.split("a new customer", 1)[1]


def test_the_shop_example_refuses_a_malformed_new_customer():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--new-customer", "age25"], cwd=REPO, env=_env(), capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "column=value" in result.stderr


def test_the_shop_example_refuses_an_unknown_column_of_the_new_customer_before_training():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--new-customer", "age=25,zip=10001"], cwd=REPO, env=_env(),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    assert "--new-customer names ['zip']; the customer columns are ['age', 'gender', 'occupation']" in (
        result.stderr
    )
    assert not result.stdout  # refused in the argument parsing: nothing loaded, nothing trained


def test_the_shop_example_says_where_the_data_is_missing_without_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--data", str(tmp_path)], cwd=REPO, env=_env(), capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"shop.py: ml-100k: {tmp_path} is missing u.data" in result.stderr
