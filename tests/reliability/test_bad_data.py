"""Issue 13: bad data never trains silently. A corrupt sklearn cache is one line, not a traceback;
`bench run` and `bench matrix` refuse data that `bench validate` rejects unless told otherwise,
and the record says what the data was. Every case works on a modified copy of the real data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pytest

from bench.cli import main
from bench.data.loading import CACHE_FILE
from bench.data.validation import DATA_VALIDATION_KEY
from bench.warehouse.engine import reset_engines
from bench.warehouse.queries import read_only_query

LATITUDE = 7  # column of the cached array (sklearn reorders the raw file; see shared/data)


def bench(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=600,
    )


@pytest.fixture
def data_copy(tmp_path: Path, data_home: Path) -> Path:
    """A private copy of the sklearn data folder, to corrupt."""
    return Path(shutil.copytree(data_home, tmp_path / "scikit_learn_data"))


@pytest.fixture
def drifted(data_copy: Path) -> Path:
    """The real cache with every Latitude moved 20 degrees north (out of California)."""
    cache = data_copy / CACHE_FILE
    array = np.array(joblib.load(cache))
    array[:, LATITUDE] += 20.0
    joblib.dump(array, cache, compress=6)
    return data_copy


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A private warehouse and spool (BENCH_HOME) for this test, also for subprocesses."""
    env = {
        "BENCH_HOME": str(tmp_path / "home"),
        "BENCH_WAREHOUSE_URL": f"sqlite:///{tmp_path / 'warehouse.db'}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env
    reset_engines()


def stored_results(env: dict[str, str]) -> list[tuple[object, ...]]:
    if not Path(env["BENCH_WAREHOUSE_URL"].removeprefix("sqlite:///")).exists():
        return []
    _, rows = read_only_query(
        "SELECT status, environment FROM benchmark_results", env["BENCH_WAREHOUSE_URL"]
    )
    return rows


def spooled(env: dict[str, str]) -> list[Path]:
    return list(Path(env["BENCH_HOME"]).glob("spool/*.json"))


@pytest.mark.parametrize("cut", ["garbage", "truncated"])
def test_corrupt_cache_is_one_line_without_traceback(data_copy: Path, cut: str) -> None:
    cache = data_copy / CACHE_FILE
    good = cache.read_bytes()
    cache.write_bytes(b"\x00garbage, not joblib\n" * 50 if cut == "garbage" else good[:-1000])
    result = bench("validate", "--data-home", str(data_copy), env={})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"bench validate: error: the dataset cache {cache} is corrupt")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "delete it" in result.stderr


@pytest.mark.parametrize("command", ["run", "matrix"])
def test_run_and_matrix_refuse_invalid_data_and_store_nothing(
    drifted: Path, home: dict[str, str], command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [command, "--framework", "torch", "--mode", "eager", "--epochs", "1", "--quiet",
         "--data-home", str(drifted), "--run-id", "drifted"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"bench {command}: error: the dataset failed validation: Latitude:")
    assert "--allow-invalid-data" in err and err.count("\n") == 1
    assert stored_results(home) == [] and spooled(home) == []


def test_corrupt_cache_stops_run_before_training(
    data_copy: Path, home: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    (data_copy / CACHE_FILE).write_bytes(b"not a cache")
    code = main(
        ["run", "--framework", "torch", "--mode", "eager", "--epochs", "1", "--quiet",
         "--data-home", str(data_copy), "--allow-invalid-data"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "is corrupt" in err
    assert stored_results(home) == [] and spooled(home) == []


@pytest.mark.integration
def test_allow_invalid_data_trains_and_the_record_says_so(
    drifted: Path, home: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "record.json"
    result = bench(
        "run", "--framework", "torch", "--mode", "eager", "--epochs", "1", "--quiet",
        "--data-home", str(drifted), "--run-id", "drifted-allowed", "--allow-invalid-data",
        "--json", str(out), env=home,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "training anyway (--allow-invalid-data): Latitude:" in result.stderr
    record = json.loads(out.read_text())
    assert record["status"] == "ok"
    verdict = record["environment"][DATA_VALIDATION_KEY]
    assert verdict.startswith("failed: Latitude:") and "--allow-invalid-data" in verdict
    [(status, environment)] = stored_results(home)
    if isinstance(environment, str):
        environment = json.loads(environment)
    assert status == "ok" and environment[DATA_VALIDATION_KEY] == verdict
