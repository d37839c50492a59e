"""The final evaluation and the run's note as columns (r0004): stored, read, backfilled."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import command

from bench.records import EvalMetric, Record
from bench.warehouse import (
    ensure_run,
    get_engine,
    latest_results,
    read_only_query,
    results_for_run,
    series_history,
    store_record,
    upgrade,
)
from bench.warehouse.engine import connect
from bench.warehouse.migrate import alembic_config, current_revision, forget_upgrades
from tests.builders import T0, nightly

TWO_EPOCHS = [EvalMetric(epoch=2, test_mse=0.61, test_mae=0.57)]


def short_run(factory: Callable[..., Record], run_id: str = "short", **values: Any) -> Record:
    """What `make run` stores: 2 epochs, evaluated once, after epoch 2 (no 10/20/30 budget)."""
    return factory(run_id, epochs=2, eval_metrics=TWO_EPOCHS, **values)


def test_a_short_run_stores_its_final_evaluation(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    store_record(short_run(record_factory), url=warehouse_url)
    [row] = results_for_run("short", warehouse_url)
    assert (row["eval_epoch"], row["test_mse"], row["test_mae"]) == (2, 0.61, 0.57)
    assert row["test_mae_10"] is None and row["epochs_completed"] == 2


def test_the_final_evaluation_is_the_greatest_epoch(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    evals = [EvalMetric(30, 0.30, 0.40), EvalMetric(10, 0.50, 0.60), EvalMetric(20, 0.4, 0.5)]
    store_record(record_factory("long", eval_metrics=evals), url=warehouse_url)
    store_record(record_factory("none", eval_metrics=[]), url=warehouse_url)
    [long] = results_for_run("long", warehouse_url)
    assert (long["eval_epoch"], long["test_mse"], long["test_mae"]) == (30, 0.30, 0.40)
    [none] = results_for_run("none", warehouse_url)
    assert (none["eval_epoch"], none["test_mse"], none["test_mae"]) == (None, None, None)


def test_views_and_reads_carry_epochs_final_evaluation_and_note(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    ensure_run(
        "n0", trigger="manual", started_at=nightly(0), note="try the new kernel", url=warehouse_url
    )
    store_record(short_run(record_factory, "n0", started_at=nightly(0)), url=warehouse_url)
    [latest] = latest_results(warehouse_url)
    assert (latest["eval_epoch"], latest["test_mse"], latest["test_mae"]) == (2, 0.61, 0.57)
    assert latest["note"] == "try the new kernel"
    [point] = series_history("torch", "eager", "cpu", url=warehouse_url)
    assert point["epochs_completed"] == 2 and point["note"] == "try the new kernel"
    assert (point["eval_epoch"], point["test_mse"], point["test_mae"]) == (2, 0.61, 0.57)
    for view in ("latest_results", "series_history"):
        names, _ = read_only_query(f"SELECT * FROM {view}", url=warehouse_url)
        assert {"epochs_completed", "eval_epoch", "test_mse", "test_mae", "note"} <= set(names)


def test_a_note_fills_an_empty_one_and_never_replaces_it(
    warehouse_url: str, record_factory: Callable[..., Record]
) -> None:
    ensure_run("r", trigger="manual", note="", url=warehouse_url)
    store_record(record_factory("r", eval_metrics=[]), url=warehouse_url)  # no note
    assert results_for_run("r", warehouse_url)[0]["note"] is None
    record = record_factory("r", ("torch", "compile", "cpu"))
    record.note = "first"
    store_record(record, url=warehouse_url)
    record.note = "second"
    store_record(record, url=warehouse_url)
    assert {row["note"] for row in results_for_run("r", warehouse_url)} == {"first"}
    assert Record.from_dict(json.loads(record.to_json())).note == "second"  # kept in the record


def migrate(url: str, target: str, *, down: bool = False) -> None:
    with connect(get_engine(url), write=True) as conn:
        (command.downgrade if down else command.upgrade)(alembic_config(conn), target)
    forget_upgrades()


OLD_EVALS = {
    "budgets": [
        {"epoch": 10, "test_mse": 0.5, "test_mae": 0.55},
        {"epoch": 30, "test_mse": 0.3, "test_mae": 0.35},
        {"epoch": 20, "test_mse": 0.4, "test_mae": 0.45},
    ],
    "short": [{"epoch": 2, "test_mse": 0.61, "test_mae": None}],
    "none": [],
    "unreadable": ["x", 3, {"epoch": "late", "test_mse": 1.0}, {"test_mae": 1.0}],
}


def test_r0004_backfills_old_results_from_their_evaluations(warehouse_url: str) -> None:
    migrate(warehouse_url, "r0003")
    engine = get_engine(warehouse_url)
    with connect(engine, write=True) as conn:
        runs = sa.Table("benchmark_runs", sa.MetaData(), autoload_with=conn)
        results = sa.Table("benchmark_results", sa.MetaData(), autoload_with=conn)
        conn.execute(
            sa.insert(runs).values(run_id="old", trigger="cli", started_at=T0, created_at=T0)
        )
        for mode, evals in OLD_EVALS.items():  # rows as r0003 wrote them (JSON columns reflected)
            conn.execute(
                sa.insert(results).values(
                    run_id="old", framework="torch", mode=mode, device="cpu", started_at=T0,
                    status="ok", epochs_completed=30, environment_fingerprint="f",
                    environment={}, schema_version=1, stored_at=T0, eval_metrics=evals,
                )
            )  # fmt: skip
    upgrade(warehouse_url)
    rows = {row["mode"]: row for row in results_for_run("old", warehouse_url)}
    final = {mode: (r["eval_epoch"], r["test_mse"], r["test_mae"]) for mode, r in rows.items()}
    assert final == {
        "budgets": (30, 0.3, 0.35),
        "short": (2, 0.61, None),
        "none": (None, None, None),
        "unreadable": (None, None, None),
    }
    assert all(r["note"] is None for r in rows.values())
    names, values = read_only_query(
        "SELECT mode, eval_epoch, test_mae FROM latest_results ORDER BY mode", url=warehouse_url
    )
    assert values[0] == ("budgets", 30, 0.35)

    migrate(warehouse_url, "r0003", down=True)  # and back: every result is still there
    with connect(engine) as conn:
        assert current_revision(conn) == "r0003"
        assert conn.execute(sa.text("SELECT count(*) FROM benchmark_results")).scalar_one() == 4
        columns = {c["name"] for c in sa.inspect(conn).get_columns("benchmark_results")}
        assert "test_mse" not in columns and "eval_epoch" not in columns
        conn.execute(sa.text("SELECT test_mae_30 FROM latest_results")).all()
