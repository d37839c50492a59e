"""The `bench` command as users call it: help, bad arguments, JSON output, storing, spooling."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli import build_parser, main

README = Path(__file__).resolve().parents[2] / "README.md"


def bench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)  # type: ignore[arg-type]


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in ("run", "matrix", "validate"):
        assert re.search(rf"^\s+{name}\s", out, re.M), name


@pytest.mark.parametrize("name", subcommands())
def test_every_command_has_help_and_is_documented(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    assert "usage: bench" in capsys.readouterr().out
    assert f"bench {name}" in README.read_text(), f"README does not document `bench {name}`"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "--framework", "torch", "--mode", "xla"], "unknown torch mode 'xla'"),
        (["run", "--framework", "mxnet", "--mode", "eager"], "invalid choice: 'mxnet'"),
        (["run", "--framework", "jax", "--mode", "eager"], "unknown jax mode 'eager'"),
        (["run", "--framework", "torch", "--mode", "eager", "--epochs", "0"], "at least 1"),
        (["run", "--framework", "torch", "--mode", "eager", "--epochs", "ten"], "a whole number"),
        (["detect", "--baseline-runs", "0"], "at least 1, got '0'"),
        (["report", "--history", "x"], "at least 1, got 'x'"),
        (["run", "--framework", "torch", "--mode", "eager", "--device", "tpu"], "invalid choice"),
        (["matrix", "--framework", "torch", "--mode", "function"], "unknown mode 'function'"),
        (["matrix", "--threads", "-1"], "at least 1"),
        (["matrix", "--repeats", "0"], "at least 1"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        code = main(argv)
        raise SystemExit(code)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1, err


@pytest.mark.integration
def test_run_prints_table_and_writes_json(tmp_path: Path, data_home: Path) -> None:
    out = tmp_path / "rec.json"
    result = bench(
        "run", "--framework", "torch", "--mode", "eager", "--epochs", "2", "--json", str(out),
        "--no-store", "--quiet", env={"BENCH_DATA_HOME": str(data_home)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert re.search(r"^epoch\s+seconds\s+train_mae$", result.stdout, re.M)
    assert re.search(r"^\s+2\s+\d", result.stdout, re.M)
    assert "steady epoch" in result.stdout and "test after epoch 2" in result.stdout
    assert "caveat: 1 steady epoch(s) from one process" in result.stdout
    assert re.search(r"^\s+cores\s+\d", result.stdout, re.M), "the case's pinned core"
    record = json.loads(out.read_text())
    assert len(record["environment"]["cores"]) == 1 and record["reference_seconds"] > 0
    assert {"others_share", "load_before", "reference"} <= set(record["conditions"])
    assert record["status"] == "ok" and len(record["epochs"]) == 2
    assert record["case"] == {"framework": "torch", "mode": "eager", "device": "cpu"}


@pytest.mark.integration
def test_run_stores_in_the_default_warehouse(tmp_path: Path, data_home: Path) -> None:
    env = {"BENCH_DATA_HOME": str(data_home), "BENCH_HOME": str(tmp_path)}
    env_no_url = {k: v for k, v in os.environ.items() if k != "BENCH_WAREHOUSE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--framework", "torch", "--mode", "eager",
         "--epochs", "2", "--run-id", "cli-store-test", "--quiet", "--note", "two epochs"],
        capture_output=True, text=True, env={**env_no_url, **env}, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "stored in the warehouse: sqlite" in result.stdout
    results = bench("results", "--run", "cli-store-test", "--format", "json", env=env)
    assert result.returncode == 0, results.stderr
    rows = json.loads(results.stdout)
    assert [(r["framework"], r["mode"], r["device"]) for r in rows] == [("torch", "eager", "cpu")]
    # A 2-epoch run reaches no 10/20/30 budget: its last evaluation, epochs and note still show.
    [row] = rows
    assert (row["epochs_completed"], row["eval_epoch"], row["test_mae_10"]) == (2, 2, None)
    assert row["test_mse"] > 0 and row["test_mae"] > 0 and row["note"] == "two epochs"
    listed = bench("runs", "--last", "1", "--format", "json", env=env)
    assert listed.returncode == 0, listed.stderr
    [run] = json.loads(listed.stdout)
    assert (run["run_id"], run["ok"], run["failed"]) == ("cli-store-test", 1, 0)
    assert run["note"] == "two epochs"


@pytest.mark.integration
def test_unreachable_warehouse_keeps_the_record(tmp_path: Path, data_home: Path) -> None:
    env = {
        "BENCH_DATA_HOME": str(data_home),
        "BENCH_HOME": str(tmp_path),
        "BENCH_WAREHOUSE_URL": "postgresql+psycopg://bench:s3cret@127.0.0.1:1/nowhere",
    }
    result = bench(
        "run", "--framework", "torch", "--mode", "eager", "--epochs", "2",
        "--run-id", "lost-db", "--quiet", env=env,
    )  # fmt: skip
    assert result.returncode == 1
    assert "s3cret" not in result.stderr and "127.0.0.1:1" in result.stderr
    kept = list((tmp_path / "spool").glob("lost-db-*.json"))
    assert len(kept) == 1
    assert json.loads(kept[0].read_text())["status"] == "ok"
    assert "bench ingest" in result.stderr


@pytest.mark.integration
def test_matrix_compares_cases_and_skips_gpu(tmp_path: Path, data_home: Path) -> None:
    result = bench(
        "matrix", "--framework", "torch", "--mode", "eager", "--epochs", "2",
        "--json-dir", str(tmp_path), "--no-store", "--quiet",
        env={"BENCH_DATA_HOME": str(data_home)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "steady_s" in lines["case"] and "speedup" in lines["case"]
    cpu = dict(zip(lines["case"].split(), lines["torch-eager-cpu"].split(), strict=False))
    assert cpu["status"] == "ok" and float(cpu["speedup"]) == 1.0
    assert float(cpu["steady_s"]) > 0 and float(cpu["test_mae"]) > 0
    assert "skipped" in lines["torch-eager-gpu"] and "no CUDA GPU" in lines["torch-eager-gpu"]
    names = sorted(p.name for p in tmp_path.glob("*.json"))
    assert names == ["torch-eager-cpu.json", "torch-eager-gpu.json"]


@pytest.mark.integration
def test_matrix_repeats_each_case_in_fresh_processes_and_summarizes(
    tmp_path: Path, data_home: Path
) -> None:
    result = bench(
        "matrix", "--framework", "torch", "--mode", "eager", "--device", "cpu", "--epochs", "8",
        "--repeats", "2", "--json-dir", str(tmp_path), "--no-store", "--quiet",
        env={"BENCH_DATA_HOME": str(data_home)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "torch-eager-cpu repeat 2/2: ok" in result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    row = dict(zip(lines["case"].split(), lines["torch-eager-cpu"].split(), strict=False))
    assert row["repeats"] == "2"
    low, high = map(float, row["ci95_s"].split("-"))
    assert low <= float(row["steady_s"]) <= high
    records = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("*.json"))]
    assert [(r["repeat"], r["repeats"]) for r in records] == [(1, 2), (2, 2)]
    pids = {r["environment"].get("hostname") for r in records}
    assert len(pids) == 1 and records[0]["started_at"] <= records[1]["started_at"]
