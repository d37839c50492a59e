"""benchmarks.noise_sample: real runs in idle and loaded blocks, appended and resumable."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from benchmarks.noise_sample import condition_of, main, recorded_rounds

pytestmark = pytest.mark.integration


def test_blocks_alternate_idle_then_loaded() -> None:
    assert [condition_of(r, 2) for r in range(6)] == [
        "idle",
        "idle",
        "load",
        "load",
        "idle",
        "idle",
    ]


def test_resuming_a_file_with_other_columns_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "old.csv"
    out.write_text("round,condition,steady_s\n0,idle,0.03\n")
    with pytest.raises(SystemExit):
        main(["--rounds", "2", "--resume", "--out", str(out)])
    with pytest.raises(ValueError, match="other columns"):
        recorded_rounds(out)
    assert out.read_text() == "round,condition,steady_s\n0,idle,0.03\n"  # left as it was


def test_records_real_runs_under_both_conditions_and_resumes(
    data_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_DATA_HOME", str(data_home))
    out = tmp_path / "sample.csv"
    args = ["--block", "1", "--cases", "torch/eager", "--epochs", "3", "--out", str(out)]
    assert main(["--rounds", "2", *args]) == 0
    with pytest.raises(SystemExit):  # never appends to a recording by accident
        main(["--rounds", "3", *args])
    assert main(["--rounds", "3", "--resume", *args]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [(r["round"], r["condition"], r["status"]) for r in rows] == [
        ("0", "idle", "ok"), ("1", "load", "ok"), ("2", "idle", "ok"),
    ]  # fmt: skip
    assert recorded_rounds(out) == 3
    assert all(float(r["steady_s"]) > 0 and r["epochs"] == "3" for r in rows)
    # the busy loop really kept the other core busy through the loaded round (how busy that
    # core was in the idle rounds depends on whatever else this machine runs)
    assert float(rows[1]["neighbour_busy"]) > 0.9
