"""The warehouse commands, in-process through bench.cli.main and once as a real process."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.cli import main
from bench.records import Record
from bench.warehouse import results_for_run, spool_dir, store_record
from tests.builders import nightly

UNREACHABLE = "postgresql+psycopg://u:secret@127.0.0.1:1/x"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def two_runs(warehouse_url: str, record_factory: Callable[..., Record]) -> str:
    for n, steady in ((0, 0.5), (1, 0.6)):
        for case in (("torch", "eager", "cpu"), ("tensorflow", "function", "cpu")):
            record = record_factory(f"n{n}", case, started_at=nightly(n), steady=steady)
            store_record(record, url=warehouse_url)
    return warehouse_url


def test_db_upgrade(warehouse_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["db", "upgrade"], capsys)
    assert code == 0 and "schema revision" in out


def test_ingest_is_idempotent_and_takes_the_trigger_option(
    warehouse_url: str, record_factory: Callable[..., Record], tmp_path: Path, capsys
) -> None:
    path = record_factory("r1", trigger="manual").write(tmp_path / "r1.json")
    assert run(["ingest", str(path)], capsys)[0] == 0
    assert run(["ingest", "--trigger", "scheduled", str(path)], capsys)[0] == 0
    assert len(results_for_run("r1", warehouse_url)) == 1
    code, out, _ = run(["sql", "SELECT trigger FROM benchmark_runs", "--format", "csv"], capsys)
    assert out.splitlines() == ["trigger", "manual"]  # the first ingest created the run

    path2 = record_factory("r2", trigger="manual").write(tmp_path / "r2.json")
    run(["ingest", "--trigger", "scheduled", str(path2)], capsys)
    code, out, _ = run(["sql", "SELECT trigger FROM benchmark_runs WHERE run_id = 'r2'"], capsys)
    assert "scheduled" in out


def test_ingest_reports_unreadable_files_and_stores_the_rest(
    warehouse_url: str, record_factory: Callable[..., Record], tmp_path: Path, capsys
) -> None:
    good = record_factory("r1").write(tmp_path / "good.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, out, err = run(["ingest", str(bad), str(good)], capsys)
    assert code == 1
    assert "stored 1 record(s)" in out
    assert "bad.json" in err and "1 file(s) could not be read" in err
    assert run(["ingest", str(tmp_path / "missing.json")], capsys)[0] == 1


def test_ingest_of_a_folder_loads_every_good_record_and_lists_the_bad_ones(
    warehouse_url: str, record_factory: Callable[..., Record], tmp_path: Path, capsys
) -> None:
    for n in range(9):
        record_factory(f"good{n}").write(tmp_path / f"{n + 1}-good.json")
    bad = json.loads(record_factory("bad").to_json())
    bad["steady_epoch_seconds"] = "fast"  # a number that is not one
    (tmp_path / "0-bad.json").write_text(json.dumps(bad))  # sorted first
    huge = json.loads(record_factory("huge").to_json())
    huge["peak_rss_bytes"] = 10**30
    (tmp_path / "5-huge.json").write_text(json.dumps(huge))
    code, out, err = run(["ingest", str(tmp_path)], capsys)
    assert code == 1
    assert "stored 9 record(s)" in out
    assert "0-bad.json: record field steady_epoch_seconds: 'fast' is not a number" in err
    assert "5-huge.json: record field peak_rss_bytes" in err
    assert "Traceback" not in err
    assert err.strip().endswith("2 file(s) could not be read or stored as records (listed "
                                "above); the others were stored")  # fmt: skip
    stored = {r["run_id"] for n in range(9) for r in results_for_run(f"good{n}", warehouse_url)}
    assert stored == {f"good{n}" for n in range(9)}


@pytest.mark.parametrize("run_id", ["..", "a/b", "x" * 251, "", ".hidden", "a b"])
def test_a_bad_run_id_is_refused_before_training(
    run_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--framework", "torch", "--mode", "eager", "--run-id", run_id, "--no-store"]
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert "is not usable: 1-250 characters" in err and len(err.strip().splitlines()) == 1


def test_spooled_records_are_ingested_and_leave_the_spool(
    warehouse_url: str, record_factory: Callable[..., Record], capsys
) -> None:
    spooled = record_factory("r1").write(spool_dir() / "r1.json")
    code, out, _ = run(["ingest", str(spool_dir())], capsys)
    assert code == 0 and "1 removed from the spool" in out
    assert not spooled.exists()
    assert len(results_for_run("r1", warehouse_url)) == 1


def test_results_defaults_to_the_latest_run(two_runs: str, capsys) -> None:
    code, out, _ = run(["results"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "run n1 (2 results)"
    assert lines[1].split()[:4] == ["framework", "mode", "device", "status"]
    assert any(line.split()[:2] == ["torch", "eager"] and "0.6" in line for line in lines)

    code, out, _ = run(["results", "--run", "n0", "--format", "json"], capsys)
    rows = json.loads(out)
    assert {r["run_id"] for r in rows} == {"n0"} and rows[0]["steady_epoch_seconds"] == 0.5

    code, out, _ = run(["results", "--latest-per-case", "--format", "csv"], capsys)
    assert {row["run_id"] for row in csv.DictReader(io.StringIO(out))} == {"n1"}


def test_results_on_an_empty_warehouse_or_unknown_run(warehouse_url: str, capsys) -> None:
    code, _, err = run(["results"], capsys)  # no warehouse yet: a reader creates none
    assert code == 1 and "no warehouse at" in err and len(err.splitlines()) == 1
    assert run(["db", "upgrade"], capsys)[0] == 0
    code, _, err = run(["results"], capsys)
    assert code == 1 and "has no results yet" in err and len(err.splitlines()) == 1
    code, _, err = run(["results", "--run", "nope"], capsys)
    assert code == 1 and "no results for run 'nope'" in err


def test_history(two_runs: str, capsys) -> None:
    argv = ["history", "--framework", "torch", "--mode", "eager", "--device", "cpu"]
    code, out, _ = run([*argv, "--format", "json"], capsys)
    series = json.loads(out)
    assert [(s["run_id"], s["steady_epoch_seconds"]) for s in series] == [("n0", 0.5), ("n1", 0.6)]
    code, out, _ = run([*argv, "--last", "1", "--metric", "test_mae_30", "--format", "csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["run_id"], float(r["test_mae_30"])) for r in rows] == [("n1", 0.35)]
    with pytest.raises(SystemExit) as exit_info:  # --metric's choices are in --help
        run([*argv, "--metric", "bogus"], capsys)
    assert exit_info.value.code == 2 and "invalid choice: 'bogus'" in capsys.readouterr().err


def test_compare(two_runs: str, capsys) -> None:
    code, out, _ = run(["compare", "n0", "n1", "--format", "json"], capsys)
    rows = json.loads(out)
    assert [r["steady_epoch_seconds_ratio"] for r in rows] == pytest.approx([1.2, 1.2])
    code, out, _ = run(["compare", "n0", "n1"], capsys)
    assert code == 0 and "ratios are n1 / n0" in out and "1.2" in out
    code, _, err = run(["compare", "n0", "zzz"], capsys)
    assert code == 1 and "zzz" in err


def test_sql_read_and_refused_write(two_runs: str, capsys) -> None:
    code, out, _ = run(
        ["sql", "SELECT count(*) AS n FROM epoch_metrics", "--format", "json"], capsys
    )
    assert json.loads(out) == [{"n": 120}]
    code, out, err = run(["sql", "DELETE FROM epoch_metrics"], capsys)
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    code, out, _ = run(
        ["sql", "SELECT count(*) AS n FROM epoch_metrics", "--format", "csv"], capsys
    )
    assert out.splitlines() == ["n", "120"]


@pytest.mark.parametrize(
    "argv",
    [
        ["db", "upgrade"],
        ["results"],
        ["history", "--framework", "torch", "--mode", "eager"],
        ["compare", "a", "b"],
        ["sql", "SELECT 1"],
    ],
)
def test_unreachable_database_is_one_masked_line(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    monkeypatch.setenv("BENCH_WAREHOUSE_URL", UNREACHABLE)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    code, out, err = run(argv, capsys)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1
    assert "u:***@127.0.0.1:1/x" in err and "secret" not in err
    assert "BENCH_WAREHOUSE_URL" in err


def test_ingest_with_the_database_down_keeps_the_file(
    record_factory: Callable[..., Record], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    monkeypatch.setenv("BENCH_WAREHOUSE_URL", UNREACHABLE)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    path = record_factory().write(spool_dir() / "r.json")
    code, _, err = run(["ingest", str(path)], capsys)
    assert code == 1 and len(err.splitlines()) == 1 and path.exists()


def test_as_a_real_process(two_runs: str, tmp_path: Path) -> None:
    env = {**os.environ, "BENCH_WAREHOUSE_URL": two_runs, "BENCH_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "results", "--format", "csv"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert [r["run_id"] for r in csv.DictReader(io.StringIO(done.stdout))] == ["n1", "n1"]
    bad = subprocess.run(
        [sys.executable, "-m", "bench", "sql", "SELECT 1"],
        env={**env, "BENCH_WAREHOUSE_URL": UNREACHABLE},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert len(bad.stderr.splitlines()) == 1 and "***" in bad.stderr
