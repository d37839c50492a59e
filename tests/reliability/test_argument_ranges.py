"""Issue 13: a seed, timeout or thread count out of range is refused before anything trains:
one line naming the flag or variable and the valid range, exit 2, nothing stored or spooled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import pipeline
from bench.config import MAX_SEED, MAX_TIMEOUT_SECONDS, RunSettings

RUN = ("run", "--framework", "torch", "--mode", "eager", "--epochs", "1", "--quiet")
MATRIX = ("matrix", "--framework", "torch", "--device", "cpu", "--epochs", "1", "--quiet")


def bench(*args: str, home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        env={**base, "BENCH_HOME": str(home), **env},
        timeout=120,
    )


def assert_refused(result: subprocess.CompletedProcess[str], *words: str, home: Path) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert not home.exists() or not any(home.iterdir()), "nothing stored, nothing spooled"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-5", "1e12", "soon"])
@pytest.mark.parametrize("command", [RUN, MATRIX], ids=["run", "matrix"])
def test_a_case_timeout_out_of_range_is_refused(
    value: str, command: tuple[str, ...], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    result = bench(*command, home=home, env={"BENCH_CASE_TIMEOUT": value})
    assert_refused(result, "BENCH_CASE_TIMEOUT", "above 0", repr(value), home=home)


@pytest.mark.parametrize("value", ["-1", str(MAX_SEED + 1), "forty-two", "1.5"])
def test_a_seed_out_of_range_is_refused(value: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = bench(*RUN, "--seed", value, home=home, env={})
    assert_refused(result, "--seed", f"0 to {MAX_SEED}", home=home)


@pytest.mark.parametrize("value", ["two", "1.5"])
def test_a_thread_count_that_is_no_whole_number_is_refused(value: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = bench(*RUN, home=home, env={"BENCH_THREADS": value})
    assert_refused(result, "BENCH_THREADS", "at least 1", home=home)


def test_the_edges_of_each_range_are_accepted_and_one_past_them_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BENCH_CASE_TIMEOUT", str(MAX_TIMEOUT_SECONDS))
    settings = RunSettings.from_env(seed=MAX_SEED)
    assert (settings.seed, settings.timeout_seconds) == (MAX_SEED, MAX_TIMEOUT_SECONDS)
    assert RunSettings(seed=0, timeout_seconds=0.5).timeout_seconds == 0.5
    monkeypatch.setenv("BENCH_CASE_TIMEOUT", str(MAX_TIMEOUT_SECONDS + 1))
    with pytest.raises(ValueError, match="BENCH_CASE_TIMEOUT"):
        RunSettings.from_env()


@pytest.mark.parametrize(
    "field, value",
    [("seed", -1), ("seed", MAX_SEED + 1), ("timeout_seconds", float("nan")),
     ("timeout_seconds", float("inf")), ("timeout_seconds", 0.0)],
)  # fmt: skip
def test_run_settings_refuse_values_out_of_range(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"{field} must be") as caught:
        RunSettings(**{field: value})  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)


def test_the_dag_training_task_refuses_a_nan_timeout_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_CASE_TIMEOUT", "nan")
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    case = {"framework": "torch", "mode": "eager", "device": "cpu", "name": "torch-eager-cpu"}
    with pytest.raises(ValueError, match="BENCH_CASE_TIMEOUT must be .* above 0"):
        pipeline.train_and_store(case, run_id="r1", trigger="manual", epochs=1, url=url)
    assert not (tmp_path / "warehouse.db").exists() and not (tmp_path / "home").exists()
