"""Real subprocess training of every CPU case, the skipped GPU path and the failed paths."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from bench.config import Case, RunSettings, all_cases
from bench.records import Record
from bench.runner import run_case

pytestmark = pytest.mark.integration

CPU_CASES = all_cases(devices=["cpu"])


def assert_complete(record: Record, epochs: int) -> None:
    data = json.loads(record.to_json())
    assert data["status"] == "ok", data["reason"]
    assert [e["epoch"] for e in data["epochs"]] == list(range(1, epochs + 1))
    for epoch in data["epochs"]:
        assert epoch["seconds"] > 0 and math.isfinite(epoch["train_mae"])
    assert data["steady_epoch_seconds"] > 0 and data["compile_seconds"] >= 0
    assert data["total_seconds"] == pytest.approx(sum(e["seconds"] for e in data["epochs"]))
    assert data["peak_rss_bytes"] > 100 * 2**20  # a framework process, not a toy number
    assert data["peak_device_bytes"] is None  # CPU
    assert [m["epoch"] for m in data["eval"]] == [epochs]
    assert 0 < data["eval"][0]["test_mae"] < 2 and 0 < data["eval"][0]["test_mse"] < 5
    assert len(data["dataset_sha256"]) == 64
    env = data["environment"]
    assert env["framework"] == record.case.framework and env["framework_version"]
    assert env["threads"]["intra_op"] == 1 and env["threads"]["omp_num_threads"] == "1"
    assert env["cpu_model"] and env["cpu_count"] and env["hostname"] and env["seed"] == 42
    assert data["trigger"] == "cli" and data["started_at"].endswith("+00:00")
    # Graph modes trace or compile once for the whole run: no retracing per batch or epoch.
    if env["framework"] in ("tensorflow", "jax") and record.case.mode != "eager":
        assert env["traces"] == 1
    if env["framework"] == "torch" and record.case.mode not in ("eager", "dataloader"):
        assert env["compiled_graphs"] == 1


@pytest.mark.parametrize("case", CPU_CASES, ids=lambda c: c.name)
def test_every_cpu_case_produces_a_complete_record(case: Case, settings: RunSettings) -> None:
    record = run_case(case, settings, run_id="test-run")
    assert record.case == case and record.run_id == "test-run"
    assert_complete(record, epochs=2)


@pytest.mark.parametrize("framework", ["torch", "tensorflow"])
def test_gpu_case_is_skipped_with_reason_here(framework: str, settings: RunSettings) -> None:
    record = run_case(Case(framework, "eager", "gpu"), settings, run_id="test-run")
    assert record.status == "skipped"
    assert "GPU" in record.reason and not record.epochs
    assert record.peak_rss_bytes is None and record.steady_epoch_seconds is None


def test_corrupt_dataset_fails_the_case(settings: RunSettings, tmp_path: Path) -> None:
    (tmp_path / "cal_housing_py3.pkz").write_bytes(b"not a joblib file")
    bad = dataclasses.replace(settings, data_home=str(tmp_path))
    record = run_case(Case("torch", "eager", "cpu"), bad, run_id="test-run")
    assert record.status == "failed" and record.reason
    assert not record.epochs


def test_hung_worker_is_killed_and_recorded_as_failed(settings: RunSettings) -> None:
    slow = dataclasses.replace(settings, epochs=30, timeout_seconds=3)
    record = run_case(Case("tensorflow", "eager", "cpu"), slow, run_id="test-run")
    assert record.status == "failed"
    assert "timed out after 3 s" in record.reason


def test_progress_reaches_the_parent(settings: RunSettings) -> None:
    seen: list[tuple[int, float, float]] = []
    record = run_case(
        Case("torch", "eager", "cpu"), settings, run_id="r", on_epoch=lambda *a: seen.append(a)
    )
    assert [s[0] for s in seen] == [1, 2]
    assert [s[2] for s in seen] == [e.train_mae for e in record.epochs]
