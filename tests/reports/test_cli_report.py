"""`bench report` as users call it: default folder, --out, one-line errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli import main
from tests.reports.sample_warehouse import RUNS, Sample


@pytest.fixture
def warehouse_env(sample: Sample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BENCH_WAREHOUSE_URL", sample.url)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_report_of_the_latest_run_goes_to_the_bench_home(
    warehouse_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--history", "3"]) == 0
    out = capsys.readouterr().out
    index = warehouse_env / "reports" / "scheduled__2026-11-05T02_00_00_00_00" / "index.html"
    assert out == f"report of run {RUNS[-1]}: {index}\n"
    assert index.is_file() and (index.parent / "figures" / "timing.png").is_file()


def test_report_of_a_chosen_run_into_a_chosen_folder(
    warehouse_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--run", RUNS[0], "--out", str(tmp_path / "r")]) == 0
    assert capsys.readouterr().out.endswith(f"{tmp_path / 'r' / 'index.html'}\n")
    assert f"Benchmark report: run {RUNS[0]}" in (tmp_path / "r" / "index.html").read_text()


def test_unknown_run_is_one_line_and_exit_1(
    warehouse_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--run", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bench report: error: no run 'nope' in the warehouse; ")
    assert err.count("\n") == 1


def test_a_bug_in_the_report_is_not_passed_off_as_a_user_error(
    warehouse_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A KeyError is a bug, not a missing run: its traceback must reach the user."""

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("speedups")

    monkeypatch.setattr("bench.reports.write_report", broken)
    with pytest.raises(KeyError, match="speedups"):
        main(["report", "--run", RUNS[0]])
    assert "error:" not in capsys.readouterr().err


def test_empty_warehouse_is_one_line_and_exit_1(tmp_path: Path) -> None:
    def bench(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bench", *argv],
            capture_output=True,
            text=True,
            env={"BENCH_WAREHOUSE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "PATH": ""},
            timeout=120,
        )

    done = bench("report")  # no warehouse yet: the report creates none
    assert done.returncode == 1 and not (tmp_path / "empty.db").exists()
    assert re.fullmatch(r"bench report: error: no warehouse at sqlite:///.*\n", done.stderr)
    assert bench("db", "upgrade").returncode == 0
    done = bench("report")
    assert done.returncode == 1
    assert re.fullmatch(r"bench report: error: the warehouse has no results yet; .*\n", done.stderr)
