"""Issue 15 (the commands): what a first-time user hit in the `bench` commands.

A closed pipe ended in a traceback, a mistyped warehouse URL became a new empty warehouse (and a
`mysql://` one a traceback), units and choices differed between commands, a wrong framework
read as "no results", `ingest` did not say what it replaced, the progress bar counted start-up
as epoch time, and the local run started GPU tasks on hosts without a GPU.
"""

from __future__ import annotations

import argparse
import configparser
import csv
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from bench import host_devices as devices
from bench.cli import build_parser, main
from bench.cli.commands_run import STARTING, _progress
from bench.config import Case
from bench.measure import MIB
from bench.warehouse import results_for_run, store_record
from tests.builders import make_record, nightly

REPO = Path(__file__).resolve().parents[2]
READERS = [
    ["results"],
    ["results", "--format", "csv"],
    ["report"],
    ["history", "--framework", "torch", "--mode", "eager"],
    ["compare", "a", "b"],
    ["sql", "SELECT 1"],
    ["detect"],
    ["detect", "--no-store"],
    ["ack", "--list"],
]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_info:  # argparse
        code = int(exit_info.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.fixture
def stored(warehouse_url: str) -> str:
    """Two nights of two cases, the first with a memory series that grew."""
    for night in (0, 1):
        for case in (("torch", "eager", "cpu"), ("tensorflow", "function", "cpu")):
            record = make_record(
                f"n{night}", case, started_at=nightly(night), peak_rss_bytes=(500 + night) * MIB
            )
            store_record(record, url=warehouse_url)
    return warehouse_url


# --- a pipe whose reader has gone ------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["results", "--format", "csv"],
        ["sql", "SELECT * FROM epoch_metrics"],
        ["history", "--framework", "torch", "--mode", "eager"],
    ],
)
def test_output_into_a_closed_pipe_ends_quietly(
    stored: str, argv: list[str], tmp_path: Path
) -> None:
    """`bench results --format csv | head -1`: the reader is gone before bench writes."""
    env = {**os.environ, "BENCH_WAREHOUSE_URL": stored, "BENCH_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # like `head` after its lines: every write of bench now fails
    _, err = proc.communicate(timeout=120)
    assert err == "", err  # no traceback, no "Exception ignored ... BrokenPipeError"
    assert proc.returncode == 141  # what a shell shows for a tool ended by SIGPIPE


def test_a_pipe_closed_part_way_ends_quietly(stored: str, tmp_path: Path) -> None:
    """More output than a pipe holds, its reader leaving after one line (`| head -1`)."""
    env = {**os.environ, "BENCH_WAREHOUSE_URL": stored, "BENCH_HOME": str(tmp_path)}
    query = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000) "
    script = 'set -o pipefail; "$1" -m bench sql "$2" --max-rows 50000 --format csv | head -1'
    done = subprocess.run(
        ["bash", "-c", script, "bash", sys.executable, query + "SELECT i FROM n"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout == "i\n"
    assert done.stderr == "", done.stderr
    assert done.returncode == 141


# --- no warehouse, or another database --------------------------------------------------------


@pytest.mark.parametrize("argv", READERS, ids=" ".join)
def test_a_reader_never_creates_a_warehouse(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    folder = tmp_path / "mistyped"
    url = f"sqlite:///{folder / 'w.db'}"
    monkeypatch.setenv("BENCH_WAREHOUSE_URL", url)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "home"))
    code, out, err = run(argv, capsys)
    assert code == 1 and out == ""
    assert f"no warehouse at {url}; run `bench db upgrade` or a benchmark first" in one_line(err)
    assert not folder.exists()


@pytest.mark.postgres
def test_a_reader_never_creates_the_schema_on_postgres(
    pg_database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    monkeypatch.setenv("BENCH_WAREHOUSE_URL", pg_database)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    for argv in (["results"], ["sql", "SELECT 1"], ["ack", "--list"]):
        code, _, err = run(argv, capsys)
        assert code == 1 and "no warehouse at postgresql+psycopg://" in one_line(err), argv
    engine = sa.create_engine(pg_database)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    assert run(["db", "upgrade"], capsys)[0] == 0  # a writer creates it
    code, _, err = run(["results"], capsys)
    assert code == 1 and "has no results yet" in one_line(err)


@pytest.mark.parametrize("argv", [["results"], ["db", "upgrade"], ["sql", "SELECT 1"]])
@pytest.mark.parametrize("url", ["mysql://bench:hunter2@db/bench", "not a url at all"])
def test_another_database_is_one_line_naming_the_supported_urls(
    argv: list[str], url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    monkeypatch.setenv("BENCH_WAREHOUSE_URL", url)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    code, out, err = run(argv, capsys)
    assert code == 1 and out == ""
    assert "sqlite:///PATH or postgresql+psycopg://" in one_line(err)
    assert "hunter2" not in err


def test_a_run_into_an_unsupported_url_keeps_its_record(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bench.warehouse import store_or_spool

    monkeypatch.setenv("BENCH_WAREHOUSE_URL", "mysql://bench:hunter2@db/bench")
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    spooled = store_or_spool(make_record())
    assert spooled is not None and spooled.exists()


# --- units, choices, descriptions, version -----------------------------------------------------


def test_history_shows_memory_in_mib_with_the_unit_in_the_column(stored: str, capsys) -> None:
    argv = ["history", "--framework", "torch", "--mode", "eager", "--metric", "peak_rss_bytes"]
    code, out, _ = run(argv, capsys)
    header, _, *lines = out.splitlines()
    assert code == 0 and "peak_rss_mib" in header.split() and "peak_rss_bytes" not in header
    end = header.index("peak_rss_mib") + len("peak_rss_mib")  # numbers are right-aligned
    assert [line[:end].split()[-1] for line in lines] == ["500", "501"]
    code, out, _ = run([*argv, "--format", "csv"], capsys)  # exact, in the unit of its name
    assert [int(r["peak_rss_bytes"]) for r in csv.DictReader(io.StringIO(out))] == [
        500 * MIB,
        501 * MIB,
    ]


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every command and sub-command, by its full name (`db upgrade`)."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[name] = sub
                found.update({f"{name} {k}": v for k, v in subparsers(sub).items()})
    return found


@pytest.mark.parametrize("name", sorted(subparsers(build_parser())))
def test_every_command_has_a_description(name: str, capsys) -> None:
    code, out, _ = run([*name.split(), "--help"], capsys)
    usage, description = out.split("\n\n")[:2]
    assert code == 0 and usage.startswith("usage: bench")
    assert description.strip() and not description.startswith(("options:", "positional")), out


@pytest.mark.parametrize(
    "argv, listed",
    [
        (["history", "--help"], ["steady_epoch_seconds", "peak_rss_bytes", "test_mae_30"]),
        (["ack", "--help"], ["steady_epoch_seconds", "peak_device_bytes", "test_mse_10"]),
    ],
)
def test_metric_choices_are_in_the_help(argv: list[str], listed: list[str], capsys) -> None:
    code, out, _ = run(argv, capsys)
    assert code == 0
    text = " ".join(out.split())
    assert all(name in text for name in listed), out


def test_version(capsys) -> None:
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip() == "bench 0.1.0"


@pytest.mark.parametrize(
    "argv, named",
    [
        (["history", "--framework", "pytorch", "--mode", "eager"], ["jax", "tensorflow", "torch"]),
        (["history", "--framework", "torch", "--mode", "eager", "--device", "tpu"], ["cpu", "gpu"]),
        (["history", "--framework", "torch", "--mode", "xla"], ["eager, compile, compile-"]),
        (["history", "--framework", "torch", "--mode", "eager", "--metric", "x"], ["peak_rss"]),
        (["ack", "--framework", "pytorch", "--mode", "eager"], ["jax", "tensorflow", "torch"]),
    ],
)
def test_a_wrong_case_names_the_choices_and_exits_2(
    stored: str, argv: list[str], named: list[str], capsys
) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert all(name in one_line(err) for name in named), err


# --- ingest ------------------------------------------------------------------------------------


def test_ingest_says_how_many_records_were_new_and_replaced(
    warehouse_url: str, tmp_path: Path, capsys
) -> None:
    first = make_record("r1").write(tmp_path / "a" / "r1.json")
    code, out, _ = run(["ingest", str(first)], capsys)
    assert code == 0 and "stored 1 record(s)" in out and ": 1 new, 0 replaced" in out
    second = make_record("r2", ("tensorflow", "eager", "cpu")).write(tmp_path / "a" / "r2.json")
    code, out, _ = run(["ingest", str(tmp_path / "a")], capsys)
    assert code == 0 and ": 1 new, 1 replaced" in out and second.exists()
    code, out, _ = run(["ingest", str(tmp_path / "a")], capsys)  # idempotent
    assert ": 0 new, 2 replaced" in out
    assert len(results_for_run("r1", warehouse_url)) == 1
    assert store_record(make_record("r3"), url=warehouse_url) is True
    assert store_record(make_record("r3"), url=warehouse_url) is False


# --- the progress bar --------------------------------------------------------------------------


def test_the_progress_bar_says_starting_then_each_epochs_own_seconds(capsys) -> None:
    on_epoch, bar = _progress(Case("torch", "eager", "cpu"), 3, quiet=False)
    assert on_epoch is not None
    assert STARTING in capsys.readouterr().err
    on_epoch(1, 2.5, 0.9)
    on_epoch(2, 0.125, 0.7)
    err = capsys.readouterr().err
    bar.close()  # type: ignore[attr-defined]
    assert "epoch 1: 2.500 s with warm-up, train MAE 0.9000" in err
    assert "epoch 2: 0.125 s, train MAE 0.7000" in err
    assert "s/it" not in err and "it/s" not in err and "epoch/s" not in err
    assert "s/epoch" not in err  # tqdm's wall rate would count the worker's start-up


# --- devices of the local run ------------------------------------------------------------------


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A host whose NVIDIA driver folder is `tmp_path/gpus`, without nvidia-smi."""
    folder = tmp_path / "gpus"
    monkeypatch.setattr(devices, "NVIDIA_GPUS", folder)
    monkeypatch.setattr(devices.shutil, "which", lambda name: None)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    devices.has_gpu.cache_clear()
    yield folder  # type: ignore[misc]
    devices.has_gpu.cache_clear()


def test_auto_is_cpu_without_a_gpu_and_both_with_one(
    host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert devices.resolve_devices("auto") == ["cpu"]
    (host / "0000:01:00.0").mkdir(parents=True)
    devices.has_gpu.cache_clear()
    assert devices.resolve_devices("auto") == ["cpu", "gpu"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    devices.has_gpu.cache_clear()
    assert devices.resolve_devices("auto") == ["cpu"]
    assert devices.resolve_devices(" cpu, gpu ") == ["cpu", "gpu"]
    with pytest.raises(ValueError, match="use auto or a comma-separated list of cpu, gpu"):
        devices.resolve_devices("cpu,tpu")


def test_nvidia_smi_answers_where_the_driver_folder_is_missing(
    host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[Any] = []

    def smi(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        answers.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "GPU 0: NVIDIA H100 (UUID: GPU-x)\n", "")

    monkeypatch.setattr(devices.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    monkeypatch.setattr(devices.subprocess, "run", smi)
    assert devices.has_gpu() and answers == [["/usr/bin/nvidia-smi", "-L"]]


def test_the_local_run_detects_devices_and_the_cluster_keeps_both() -> None:
    config = configparser.ConfigParser(interpolation=None)
    config.read(REPO / "airflow.cfg")
    assert config["bench"]["devices"] == "auto"
    compose = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
    environment = compose["x-airflow-common"]["environment"]
    assert environment["AIRFLOW__BENCH__DEVICES"] == "${BENCH_DEVICES:-cpu,gpu}"
    dag = (REPO / "dags" / "bench_nightly.py").read_text()
    assert "import torch" not in dag and "resolve_devices(" in dag
