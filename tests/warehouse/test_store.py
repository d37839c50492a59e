"""Writes: round trip, exactly-once upserts, runs, validations, and keeping records safe."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bench.records import Record, ValidationFailure, ValidationReport
from bench.warehouse import (
    NotFound,
    WarehouseUnavailable,
    ensure_run,
    finish_run,
    get_engine,
    results_for_run,
    spool_dir,
    spool_record,
    store_or_spool,
    store_record,
    store_validation,
)

UNREACHABLE = "postgresql+psycopg://u:secret@127.0.0.1:1/x"


def rows(url: str, sql: str, **params: object) -> list[dict]:
    with get_engine(url).connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]


def count(url: str, table: str) -> int:
    return rows(url, f"SELECT count(*) AS n FROM {table}")[0]["n"]


def test_round_trip_keeps_every_field(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    record = record_factory()
    store_record(record, url=warehouse_url)

    [run] = rows(warehouse_url, "SELECT * FROM benchmark_runs")
    assert (run["run_id"], run["trigger"], run["code_version"]) == ("run-1", "cli", "abc1234")
    assert run["dataset_sha256"] == record.dataset_sha256
    [result] = results_for_run("run-1", warehouse_url)
    assert result["started_at"] == datetime.fromisoformat(record.started_at)
    assert result["started_at"].tzinfo is not None
    for field in ("status", "steady_epoch_seconds", "compile_seconds", "total_seconds"):
        assert result[field] == getattr(record, field)
    assert result["peak_rss_bytes"] == record.peak_rss_bytes
    assert (result["test_mse_20"], result["test_mae_30"]) == (0.3, 0.35)
    assert result["environment_fingerprint"] == record.environment_fingerprint
    assert result["framework_version"] == "2.13.0"
    [stored] = rows(warehouse_url, "SELECT environment, eval_metrics FROM benchmark_results")
    environment = stored["environment"]
    if isinstance(environment, str):  # SQLite hands JSON back as text through plain SQL
        environment, stored["eval_metrics"] = (
            json.loads(environment),
            json.loads(stored["eval_metrics"]),
        )
    assert environment == record.environment
    assert [e["epoch"] for e in stored["eval_metrics"]] == [10, 20, 30]
    epochs = rows(
        warehouse_url, "SELECT epoch, seconds, train_mae FROM epoch_metrics ORDER BY epoch"
    )
    assert [(e["epoch"], e["seconds"], e["train_mae"]) for e in epochs] == [
        (e.epoch, e.seconds, e.train_mae) for e in record.epochs
    ]


def test_storing_again_replaces_the_result_and_its_epochs(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    store_record(record_factory(epochs=30, steady=0.5), url=warehouse_url)
    store_record(record_factory(epochs=30, steady=0.5), url=warehouse_url)
    retried = record_factory(epochs=12, steady=0.7, status="failed")
    store_record(retried, url=warehouse_url)

    assert count(warehouse_url, "benchmark_runs") == 1
    [result] = results_for_run("run-1", warehouse_url)
    assert (result["status"], result["epochs_completed"]) == ("failed", 12)
    assert result["steady_epoch_seconds"] == pytest.approx(0.7)
    assert result["test_mae_30"] is None
    assert count(warehouse_url, "epoch_metrics") == 12


def test_cases_of_one_run_share_the_run_row(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    for case in [
        ("torch", "eager", "cpu"),
        ("torch", "compile", "cpu"),
        ("tensorflow", "xla", "gpu"),
    ]:
        store_record(record_factory(case=case), url=warehouse_url)
    assert count(warehouse_url, "benchmark_runs") == 1
    assert count(warehouse_url, "benchmark_results") == 3
    assert count(warehouse_url, "epoch_metrics") == 90


def test_trigger_option_beats_the_record_and_defaults_to_cli(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    store_record(record_factory("a", trigger="manual"), url=warehouse_url)
    store_record(record_factory("b", trigger="manual"), url=warehouse_url, trigger="scheduled")
    triggers = rows(warehouse_url, "SELECT run_id, trigger FROM benchmark_runs ORDER BY run_id")
    assert [r["trigger"] for r in triggers] == ["manual", "scheduled"]
    with pytest.raises(ValueError, match="unknown trigger 'nightly'"):
        store_record(record_factory("c"), url=warehouse_url, trigger="nightly")


def test_non_finite_numbers_are_stored_as_null(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    record = record_factory(epochs=2)
    record.epochs[1].train_mae = math.nan
    record.total_seconds = math.inf
    record.environment["odd"] = math.nan
    store_record(record, url=warehouse_url)
    [result] = results_for_run("run-1", warehouse_url)
    assert result["total_seconds"] is None
    epochs = rows(warehouse_url, "SELECT train_mae FROM epoch_metrics ORDER BY epoch")
    assert epochs[1]["train_mae"] is None


def test_ensure_and_finish_run(warehouse_url: str, record_factory: Callable[..., Record]) -> None:
    start = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    ensure_run("dag-1", trigger="scheduled", started_at=start, url=warehouse_url)
    ensure_run("dag-1", trigger="manual", code_version="v2", url=warehouse_url)  # fills only
    store_record(record_factory("dag-1"), url=warehouse_url)
    finish_run("dag-1", finished_at="2026-11-02T03:00:00+00:00", url=warehouse_url)

    [run] = rows(warehouse_url, "SELECT * FROM benchmark_runs")
    assert (run["trigger"], run["code_version"]) == ("scheduled", "v2")
    assert run["dataset_sha256"] == "d" * 64
    with pytest.raises(NotFound, match="no run 'nope'"):
        finish_run("nope", url=warehouse_url)


def test_store_validation_is_idempotent_and_sets_the_outcome(warehouse_url: str) -> None:
    ensure_run("dag-1", trigger="scheduled", url=warehouse_url)
    failure = ValidationFailure("expect_column_values_to_not_be_null", "MedInc", 3, [None])
    failed = ValidationReport(False, {"evaluated_expectations": 15}, [failure], "e" * 64)
    store_validation("dag-1", failed, url=warehouse_url)
    store_validation("dag-1", failed, url=warehouse_url)
    [row] = rows(warehouse_url, "SELECT * FROM dataset_validations")
    assert (row["success"], row["unsuccessful_expectations"]) in [(False, 1), (0, 1)]
    failures = row["failures"] if isinstance(row["failures"], list) else json.loads(row["failures"])
    assert failures[0]["column"] == "MedInc"
    assert rows(warehouse_url, "SELECT validation_outcome FROM benchmark_runs")[0] == {
        "validation_outcome": "failed"
    }

    store_validation("dag-1", ValidationReport(True, {}, []), url=warehouse_url)
    assert count(warehouse_url, "dataset_validations") == 1
    assert rows(warehouse_url, "SELECT validation_outcome FROM benchmark_runs")[0] == {
        "validation_outcome": "passed"
    }
    with pytest.raises(NotFound):
        store_validation("nope", failed, url=warehouse_url)


def test_unreachable_database_is_one_line_with_the_password_masked(
    record_factory: Callable[..., Record],
) -> None:
    with pytest.raises(WarehouseUnavailable) as caught:
        store_record(record_factory(), url=UNREACHABLE)
    message = str(caught.value)
    assert "\n" not in message
    assert "postgresql+psycopg://u:***@127.0.0.1:1/x" in message
    assert "secret" not in message
    assert "BENCH_WAREHOUSE_URL" in message


def test_store_or_spool_keeps_the_record_when_the_database_is_down(
    tmp_path, monkeypatch: pytest.MonkeyPatch, record_factory: Callable[..., Record]
) -> None:
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    record = record_factory("scheduled__2026-11-01T02:00:00+00:00")
    path = store_or_spool(record, url=UNREACHABLE)
    assert path is not None and path.parent == spool_dir()
    assert Record.read(path).to_dict() == record.to_dict()


def test_each_repeat_of_a_case_is_spooled_to_its_own_file(
    tmp_path, monkeypatch: pytest.MonkeyPatch, record_factory: Callable[..., Record]
) -> None:
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    paths = {
        store_or_spool(replace(record_factory("r1"), repeat=k, repeats=2), url=UNREACHABLE)
        for k in (1, 2)
    }
    assert len(paths) == 2 and all(p is not None and p.exists() for p in paths)
    assert sorted(Record.read(p).repeat for p in paths if p) == [1, 2]


def test_run_ids_that_differ_never_share_a_spool_file(
    tmp_path, monkeypatch: pytest.MonkeyPatch, record_factory: Callable[..., Record]
) -> None:
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    paths = [spool_record(record_factory(run_id)) for run_id in ("a:b", "a_b", "a+b")]
    assert len(set(paths)) == 3
    assert sorted(Record.read(p).run_id for p in paths) == ["a+b", "a:b", "a_b"]


def test_a_record_with_an_unusable_run_id_is_refused_in_one_line(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    with pytest.raises(ValueError, match=r"run id '\.\.' is not usable"):
        store_record(record_factory(".."), url=warehouse_url)


def test_store_or_spool_returns_none_when_stored(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    assert store_or_spool(record_factory(), url=warehouse_url) is None
    assert not spool_dir().exists()
