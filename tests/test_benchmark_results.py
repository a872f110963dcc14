"""benchmarks/make_results.py on small results files written here (never on real results): the page
carries each figure, the previous figure and the change; leaves out what was not measured; and is
the same page for the same inputs. No timing is asserted."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    """benchmarks/record.py and make_results.py as modules (benchmarks/ is not a package)."""
    saved_path, saved_record = list(sys.path), sys.modules.get("record")
    sys.path.insert(0, str(BENCHMARKS))
    try:
        modules = {}
        for name in ("record", "make_results"):
            spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            modules[name] = module
        yield modules
    finally:
        sys.path[:] = saved_path
        sys.modules.pop("make_results", None)
        if saved_record is None:
            sys.modules.pop("record", None)
        else:
            sys.modules["record"] = saved_record


def run_info(date: str, commit: str = "0123456789abcdef") -> dict:
    return {
        "date_utc": date,
        "seconds": 75.0,
        "tinyrec": "0.1.0",
        "git_commit": commit,
        "git_modified": False,
        "python": "3.11.7",
        "packages": {"numpy": "2.0.0", "torch": "2.3.0"},
        "platform": "Linux-test",
        "cpu_model": "Test CPU 9000",
        "cpu_count": 2,
        "cpus_usable": 2,
        "memory_gb": 8.0,
        "load_average_1min": [0.25, 1.5],
        "threads": {
            "env": {"OMP_NUM_THREADS": "1"},
            "numba": 2,
            "numba_threading_layer": "not started",
            "threadpools": [{"prefix": "libopenblas", "num_threads": 1}],
            "torch": 1,
        },
    }


def alpha(date: str, step_us: float, ratio: float, hr: float) -> dict:
    table = "Alpha protocol: one step, median µs"
    return {
        "schema": "tinyrec-benchmark/1",
        "script": "bench_alpha",
        "command": "python benchmarks/bench_alpha.py",
        "quick": False,
        "run": run_info(date),
        "summary": [
            {"table": table, "what": "step vs torch", "value": step_us, "unit": "µs",
             "reference": "torch SparseAdam", "reference_value": step_us * ratio, "ratio": ratio,
             "better": "lower"},
            {"table": table, "what": "kernel alone", "value": 0.2, "unit": "s", "better": "lower"},
            {"table": table, "what": "never measured", "value": None, "unit": "s"},
            {"table": table, "what": "no unit", "value": 7.0},
            {"table": "Alpha accuracy", "model": "ModelX", "metric": "HR@10", "value": hr, "std": 0.0061,
             "seeds": 5, "reference": "torch twin", "reference_value": 0.585, "reference_std": 0.007,
             "better": "higher"},
        ],
        "details": {"anything": [1, 2, 3]},
    }  # fmt: skip


def beta(date: str) -> dict:
    return {
        "schema": "tinyrec-benchmark/1",
        "script": "bench_beta",
        "command": "python benchmarks/bench_beta.py",
        "quick": False,
        "run": run_info(date, "fedcba9876543210"),
        "summary": [{"model": "PopModel", "metric": "RMSE", "value": 0.9457, "better": "lower"}],
        "details": {},
    }


def write(folder: Path, name: str, data: dict) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(data))


def generate(bench, results: Path, page: Path) -> str:
    bench["make_results"].main(["--results", str(results), "--out", str(page)])
    return page.read_text()


def line_of(text: str, start: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith(start)]
    assert len(lines) == 1, (start, lines)
    return lines[0]


def test_first_page_carries_each_figure_and_leaves_out_the_rest(bench, tmp_path):
    results, page = tmp_path / "results", tmp_path / "RESULTS.md"
    write(results, "bench_alpha", alpha("2030-01-01T10:00:00Z", 300.0, 5.0, 0.5912))
    write(results, "bench_beta", beta("2030-01-01T11:00:00Z"))
    quick = alpha("2030-01-01T12:00:00Z", 123.456, 9.0, 0.1111) | {"quick": True}
    write(results, "bench_alpha_quick", quick)  # a --quick run: never shown
    write(results, "bench_old", {"rows": [{"task": "old layout", "seconds": 4.56}]})  # not this schema
    text = generate(bench, results, page)

    assert "## bench_alpha" in text and "## bench_beta" in text and "bench_old" not in text
    assert "`python benchmarks/bench_alpha.py`" in text
    assert "2030-01-01T10:00:00Z" in text and "Test CPU 9000" in text
    assert "OMP_NUM_THREADS=1" in text and "torch 1" in text and "libopenblas 1" in text
    step = line_of(text, "| step vs torch |")
    assert "300.0 µs" in step and "torch SparseAdam: 1,500 µs" in step and "5.00×" in step
    alone = line_of(text, "| kernel alone |")
    assert "0.2000 s" in alone and "×" not in alone  # no reference: no ratio is made up
    hr = line_of(text, "| ModelX | HR@10 |")
    assert "0.5912" in hr and "0.0061" in hr and "| 5 |" in hr and "torch twin: 0.5850 ± 0.0070" in hr
    assert "0.9457" in line_of(text, "| PopModel | RMSE |")
    assert "never measured" not in text and "no unit" not in text  # no value, or no unit: left out
    assert "123.4" not in text and "0.1111" not in text  # the quick run
    assert text.count("previous figures: none") == 2 and "| previous |" not in text


def test_next_page_shows_the_previous_figure_and_the_change(bench, tmp_path):
    results, page = tmp_path / "results", tmp_path / "RESULTS.md"
    write(results, "bench_alpha", alpha("2030-01-01T10:00:00Z", 300.0, 5.0, 0.5912))
    write(results, "bench_beta", beta("2030-01-01T11:00:00Z"))
    first = generate(bench, results, page)
    first_block = bench["make_results"].read_block(page)

    write(results, "bench_alpha", alpha("2030-02-01T10:00:00Z", 330.0, 4.0, 0.6012))  # a later run
    (results / "bench_beta.json").unlink()  # a script without results this time: its last run stays
    text = generate(bench, results, page)

    def section(page_text: str, script: str) -> str:
        return page_text.split(f"\n## {script}\n", 1)[1].split("\n## ", 1)[0].split("<!--", 1)[0]

    assert section(text, "bench_beta") == section(first, "bench_beta")  # word for word
    assert "0.9457" in line_of(text, "| PopModel | RMSE |")
    assert line_of(text, "| [bench_beta](#bench_beta) |") == line_of(first, "| [bench_beta](#bench_beta) |")
    stored = bench["make_results"].read_block(page)
    assert stored["bench_beta"] == first_block["bench_beta"]  # README's block can still quote it
    assert "PopModel | RMSE" in stored["bench_beta"]["rows"]

    assert "previous figures: the run of 2030-01-01T10:00:00Z (commit 0123456789, on Test CPU 9000" in text
    step = line_of(text, "| step vs torch |")
    assert "330.0 µs" in step and "4.00×" in step  # this run
    assert "| 5.00× | -20.0% (worse) |" in step  # the previous ratio, and the change of the ratio
    assert line_of(text, "| kernel alone |").endswith("| 0.2000 s | 0.0% |")  # no ratio: the value
    hr = line_of(text, "| ModelX | HR@10 |")
    assert "0.6012" in hr and hr.endswith("| 0.5912 | +0.0100 (better) |")

    # the same results again: the same page (this run is not compared with itself)
    assert generate(bench, results, page) == text
    # and a row whose key is new has no previous figure
    renamed = alpha("2030-03-01T10:00:00Z", 330.0, 4.0, 0.6012)
    renamed["summary"][0]["what"] = "step vs torch, new protocol"
    write(results, "bench_alpha", renamed)
    text = generate(bench, results, page)
    assert line_of(text, "| step vs torch, new protocol |").endswith("| – | new row |")


def test_the_page_depends_only_on_its_inputs(bench, tmp_path):
    make = bench["make_results"]
    runs = {"bench_alpha": alpha("2030-01-01T10:00:00Z", 300.0, 5.0, 0.5912)}
    runs["bench_alpha"]["summary"] = make.measured_rows(runs["bench_alpha"]["summary"])
    rows = {"step vs torch": {"value": 250.0, "unit": "µs", "ratio": 6.0}}
    old = {"bench_alpha": {"run": {"date_utc": "2029-12-01T00:00:00Z", "git_commit": None}, "rows": rows}}
    first, _ = make.render(runs, old)
    second, _ = make.render(json.loads(json.dumps(runs)), json.loads(json.dumps(old)))
    assert first == second
    assert "| 6.00× | -16.7% (worse) |" in line_of(first, "| step vs torch |")


def test_a_file_written_by_record_is_read_back(bench, tmp_path, capsys):
    record, make = bench["record"], bench["make_results"]
    results = tmp_path / "results"
    run = record.Run("bench_gamma", [])
    run.speed("step", 2.0, "ms", reference="torch", reference_value=3.0)
    run.speed("not measured", float("nan"), "ms")
    run.accuracy("M", "NDCG@10", 0.25, std=0.01, seeds=3)
    run.write({"raw": 1}, results / "bench_gamma.json")
    quick = record.Run("bench_gamma", ["--quick"], quick=True)
    quick.speed("step", 9.0, "ms")
    quick.write({}, results / "bench_gamma_quick.json")
    capsys.readouterr()

    runs = make.load_runs(results)
    assert list(runs) == ["bench_gamma"]
    rows = runs["bench_gamma"]["summary"]
    assert [record.row_key(r) for r in rows] == ["step", "M | NDCG@10"]
    assert rows[0]["ratio"] == pytest.approx(1.5)  # the reference's time over tinyrec's
    with pytest.raises(ValueError, match="two summary rows"):
        run.speed("step", 1.0, "ms")


def test_a_key_with_dashes_survives_the_comment_it_is_stored_in(bench, tmp_path):
    results, page = tmp_path / "results", tmp_path / "RESULTS.md"
    first = alpha("2030-01-01T10:00:00Z", 300.0, 5.0, 0.5912)
    first["summary"][0]["what"] = "step --> torch"
    write(results, "bench_alpha", first)
    generate(bench, results, page)
    later = alpha("2030-02-01T10:00:00Z", 150.0, 10.0, 0.5912)
    later["summary"][0]["what"] = "step --> torch"
    write(results, "bench_alpha", later)
    text = generate(bench, results, page)
    assert line_of(text, "| step --> torch |").endswith("| 5.00× | +100.0% (better) |")
    assert text.count("-->") == 2  # the row's own text, and the end of the stored figures


def test_readme_block_quotes_the_page_and_leaves_out_what_it_lacks(bench, tmp_path, monkeypatch):
    make = bench["make_results"]
    results, page, readme = tmp_path / "results", tmp_path / "RESULTS.md", tmp_path / "README.md"
    write(results, "bench_alpha", alpha("2030-01-01T10:00:00Z", 300.0, 5.0, 0.5912))
    readme.write_text(f"# title\n\n{make.README_START}\nstale figures\n{make.README_END}\n\nafter\n")
    monkeypatch.setattr(make, "README_SPEED", [("bench_alpha", "step vs torch", "one step"),
                                               ("bench_gamma", "never run", "absent")])  # fmt: skip
    monkeypatch.setattr(make, "README_ACCURACY", [("bench_alpha", "ModelX | HR@10", "Model X")])
    make.main(["--results", str(results), "--out", str(page), "--readme", str(readme)])
    text = readme.read_text()
    assert "stale figures" not in text and text.startswith("# title\n") and text.endswith("\nafter\n")
    row = "| Model X | HR@10 | 0.5912 ± 0.0061 (5 seeds) | torch twin: 0.5850 ± 0.0070 | `bench_alpha` |"
    assert row in text
    assert "| one step | 300.0 µs | torch SparseAdam: 1,500 µs | 5.00× | `bench_alpha` |" in text
    assert "absent" not in text
    # the block is a function of the page alone: regenerating from the page gives the same lines
    assert make.readme_block(make.read_block(page)) in text


def test_readme_without_markers_is_refused(bench):
    make = bench["make_results"]
    with pytest.raises(ValueError, match="markers"):
        make.replace_readme("# no markers here\n", "x")


def test_the_readme_quotes_the_tracked_results_page(bench):
    """README.md's figures are the ones make_results.py generated from benchmarks/RESULTS.md."""
    make = bench["make_results"]
    root = BENCHMARKS.parent
    readme = (root / "README.md").read_text()
    expected = make.replace_readme(readme, make.readme_block(make.read_block(BENCHMARKS / "RESULTS.md")))
    assert readme == expected, "README's figures differ from RESULTS.md: run benchmarks/make_results.py"


def test_a_damaged_figures_block_keeps_the_sections_and_drop_retires_one(bench, tmp_path):
    make = bench["make_results"]
    results, page = tmp_path / "results", tmp_path / "RESULTS.md"
    write(results, "bench_alpha", alpha("2030-01-01T10:00:00Z", 300.0, 5.0, 0.5912))
    write(results, "bench_beta", beta("2030-01-01T11:00:00Z"))
    first = generate(bench, results, page)
    (results / "bench_beta.json").unlink()

    def section(page_text: str, script: str) -> str:
        return page_text.split(f"\n## {script}\n", 1)[1].split("\n## ", 1)[0].split("<!--", 1)[0]

    start = first.index(make.BLOCK_START)
    page.write_text(first[:start] + make.BLOCK_START + "\n{not json\n-->\n")
    damaged = generate(bench, results, page)
    assert section(damaged, "bench_beta") == section(first, "bench_beta")  # the section stays
    assert "bench_beta" not in make.read_block(page)  # its figures are lost: README cannot quote them
    make.main(["--results", str(results), "--out", str(page), "--drop", "bench_beta"])
    assert "## bench_beta" not in page.read_text() and "## bench_alpha" in page.read_text()
    with pytest.raises(SystemExit):
        make.main(["--results", str(results), "--out", str(page), "--drop", "bench_nothing"])
