"""Writes: every result lands exactly once, whole or not at all.

A record is one repeat of a case. It goes in one transaction with what it changes: its row in
result_repeats, upserted on (run_id, framework, mode, device, repeat), and the case's summary
over its stored repeats (bench.repeats.summarize) with the summary's epochs, upserted on
(run_id, framework, mode, device). A retried task replaces its rows instead of adding any, and
a writer killed mid-way leaves nothing behind (the database rolls its transaction back).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bench.config import EVAL_BUDGETS, TRIGGERS, state_dir
from bench.records import Acknowledgement, Flag, Record, ValidationReport, check_run_id
from bench.repeats import summarize
from bench.serialize import finite, json_safe
from bench.warehouse.engine import (
    NotFound,
    WarehouseError,
    connect,
    get_engine,
    mask_url,
    short_reason,
    warehouse_url,
)
from bench.warehouse.migrate import upgrade
from bench.warehouse.models import (
    ACKNOWLEDGEMENTS,
    EPOCHS,
    FLAGS,
    REPEATS,
    RESULTS,
    RUNS,
    VALIDATIONS,
)
from bench.warehouse.runs import case_filter, case_of, from_row, read_run

runs, results, epochs, validations = RUNS, RESULTS, EPOCHS, VALIDATIONS
RESULT_KEY = ("run_id", "framework", "mode", "device")
REPEAT_KEY = (*RESULT_KEY, "repeat")
FLAG_KEY = ("run_id", "framework", "mode", "device", "metric")
# Spool file names stay well under the 255-byte limit of a file name, whatever the run id.
MAX_SPOOL_NAME = 200


def store_record(record: Record, *, url: str | None = None, trigger: str | None = None) -> bool:
    """Upsert the record's run (if missing), then its result and epochs in one transaction.

    trigger: this option, else the record's own, else "cli". True when the record is new,
    False when it replaced the stored one of its run, case and repeat (storing it again changes
    nothing else). Raises WarehouseUnavailable when the database cannot be reached (see
    store_or_spool to keep the record instead).
    """
    upgrade(url)
    with connect(get_engine(url), write=True) as conn:
        new = not _repeat_stored(conn, record)
        write_record(conn, record, trigger=trigger)
    return new


def _repeat_stored(conn: Connection, record: Record) -> bool:
    """Whether the record's run, case and repeat already has a row in result_repeats."""
    key = {"run_id": record.run_id, **record.case.as_dict(), "repeat": record.repeat}
    query = sa.select(REPEATS.c.id).where(*(REPEATS.c[k] == v for k, v in key.items()))
    return conn.execute(query.limit(1)).first() is not None


def write_record(conn: Connection, record: Record, *, trigger: str | None = None) -> int:
    """The statements of store_record inside the caller's transaction; returns the result id."""
    check_run_id(record.run_id)
    if record.repeat < 1:
        raise ValueError(
            f"{record.case.name}: a summary (repeat 0) cannot be stored; store its repeats"
        )
    _insert_run_if_missing(
        conn,
        run_id=record.run_id,
        trigger=_check_trigger(trigger or record.trigger or "cli"),
        started_at=parse_time(record.started_at),
        dataset_sha256=record.dataset_sha256,
        code_version=code_version(record.environment),
        note=record.note,
    )
    # Writers of one run take turns: each summary must see every repeat committed before it.
    conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == record.run_id).with_for_update())
    _write_repeat(conn, record)
    summary = summarize(read_repeats(conn, record.run_id, record.case.as_dict()))
    row = result_row(summary)
    statement = upsertable_insert(conn, results).values(row)
    statement = statement.on_conflict_do_update(
        index_elements=list(RESULT_KEY),
        set_={name: statement.excluded[name] for name in row if name not in RESULT_KEY},
    ).returning(results.c.id)
    result_id: int = conn.execute(statement).scalar_one()
    conn.execute(sa.delete(epochs).where(epochs.c.result_id == result_id))
    if summary.epochs:
        conn.execute(
            sa.insert(epochs),
            [
                {
                    "result_id": result_id,
                    "epoch": e.epoch,
                    "seconds": finite(e.seconds),
                    "train_mae": finite(e.train_mae),
                }
                for e in summary.epochs
            ],
        )
    return result_id


def _write_repeat(conn: Connection, record: Record) -> None:
    row = {
        "run_id": record.run_id,
        **record.case.as_dict(),
        "repeat": record.repeat,
        "started_at": parse_time(record.started_at),
        "status": record.status,
        "reason": record.reason,
        **{name: finite(getattr(record, name)) for name in _REPEAT_NUMBERS},
        "peak_rss_bytes": record.peak_rss_bytes,
        "noisy": record.noisy,
        "record": json_safe(record.to_dict()),
        "stored_at": datetime.now(UTC),
    }
    statement = upsertable_insert(conn, REPEATS).values(row)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=list(REPEAT_KEY),
            set_={name: statement.excluded[name] for name in row if name not in REPEAT_KEY},
        )
    )


_REPEAT_NUMBERS = (
    "steady_epoch_seconds",
    "compile_seconds",
    "total_seconds",
    "steady_ci_low",
    "steady_ci_high",
    "steady_cv",
    "reference_seconds",
)


def read_repeats(conn: Connection, run_id: str, case: dict[str, str]) -> list[Record]:
    """The stored repeats of one case in one run, in repeat order."""
    query = (
        sa.select(REPEATS.c.record)
        .where(REPEATS.c.run_id == run_id, *(REPEATS.c[k] == v for k, v in case.items()))
        .order_by(REPEATS.c.repeat)
    )
    return [Record.from_dict(data) for data in conn.execute(query).scalars()]


def result_row(record: Record) -> dict[str, Any]:
    """The benchmark_results columns for one record (non-finite numbers become NULL)."""
    row: dict[str, Any] = {
        "run_id": record.run_id,
        **record.case.as_dict(),
        "started_at": parse_time(record.started_at),
        "status": record.status,
        "reason": record.reason,
        "epochs_completed": len(record.epochs),
        "compile_seconds": finite(record.compile_seconds),
        "steady_epoch_seconds": finite(record.steady_epoch_seconds),
        "steady_ci_low": finite(record.steady_ci_low),
        "steady_ci_high": finite(record.steady_ci_high),
        "steady_cv": finite(record.steady_cv),
        "repeats": record.repeats,
        "noisy": record.noisy,
        "reference_seconds": finite(record.reference_seconds),
        "conditions": json_safe(record.conditions),
        "total_seconds": finite(record.total_seconds),
        "peak_rss_bytes": record.peak_rss_bytes,
        "peak_device_bytes": record.peak_device_bytes,
        "eval_metrics": json_safe([vars(e) for e in record.eval]),
        "dataset_sha256": record.dataset_sha256,
        "framework_version": _text(record.environment.get("framework_version")),
        "environment_fingerprint": record.environment_fingerprint,
        "environment": json_safe(record.environment),
        "schema_version": record.schema_version,
        "stored_at": datetime.now(UTC),
    }
    for budget in EVAL_BUDGETS:
        metrics = record.test_metrics_at(budget)
        row[f"test_mse_{budget}"] = finite(metrics.test_mse) if metrics else None
        row[f"test_mae_{budget}"] = finite(metrics.test_mae) if metrics else None
    final = record.final_eval
    row["eval_epoch"] = final.epoch if final else None
    row["test_mse"] = finite(final.test_mse) if final else None
    row["test_mae"] = finite(final.test_mae) if final else None
    return row


def ensure_run(
    run_id: str,
    *,
    trigger: str,
    started_at: datetime | str | None = None,
    dataset_sha256: str | None = None,
    code_version: str | None = None,
    note: str | None = None,
    url: str | None = None,
) -> None:
    """Create the run row if it is missing; an existing run only gets its empty fields filled.

    note: why the run was made (the DAG's Param `note`); empty means none."""
    upgrade(url)
    with connect(get_engine(url), write=True) as conn:
        _insert_run_if_missing(
            conn,
            run_id=run_id,
            trigger=_check_trigger(trigger),
            started_at=parse_time(started_at) if started_at else datetime.now(UTC),
            dataset_sha256=dataset_sha256,
            code_version=code_version,
            note=note or None,
        )


def finish_run(
    run_id: str, *, finished_at: datetime | str | None = None, url: str | None = None
) -> None:
    """Record when the run ended; NotFound if the warehouse has no such run."""
    upgrade(url)
    when = parse_time(finished_at) if finished_at else datetime.now(UTC)
    with connect(get_engine(url), write=True) as conn:
        done = conn.execute(sa.update(runs).where(runs.c.run_id == run_id).values(finished_at=when))
        if done.rowcount == 0:
            raise NotFound(f"no run {run_id!r} in the warehouse; create it with ensure_run")


def store_validation(run_id: str, report: ValidationReport, *, url: str | None = None) -> None:
    """Upsert the run's dataset validation (one per run) and set the run's validation outcome."""
    upgrade(url)
    stats = report.statistics
    row = {
        "run_id": run_id,
        "success": report.success,
        "evaluated_expectations": stats.get("evaluated_expectations"),
        "unsuccessful_expectations": stats.get("unsuccessful_expectations", len(report.failures)),
        "statistics": json_safe(stats),
        "failures": json_safe([vars(f) for f in report.failures]),
        "dataset_sha256": report.dataset_sha256,
        "source": report.source,
        "validated_at": parse_time(report.validated_at),
    }
    with connect(get_engine(url), write=True) as conn:
        outcome = "passed" if report.success else "failed"
        done = conn.execute(
            sa.update(runs).where(runs.c.run_id == run_id).values(validation_outcome=outcome)
        )
        if done.rowcount == 0:
            raise NotFound(f"no run {run_id!r} in the warehouse; create it with ensure_run")
        if report.dataset_sha256:
            conn.execute(
                sa.update(runs)
                .where(runs.c.run_id == run_id, runs.c.dataset_sha256.is_(None))
                .values(dataset_sha256=report.dataset_sha256)
            )
        statement = upsertable_insert(conn, validations).values(row)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["run_id"],
                set_={name: statement.excluded[name] for name in row if name != "run_id"},
            )
        )


def write_flags(conn: Connection, run_id: str, flags: Iterable[Flag]) -> int:
    """Replace the run's flags: upsert on (run, case, metric), delete ones no longer found."""
    rows = [_flag_row(flag) for flag in flags]
    keep = {tuple(row[k] for k in FLAG_KEY) for row in rows}
    existing = conn.execute(sa.select(*(FLAGS.c[k] for k in FLAG_KEY), FLAGS.c.id).where(
        FLAGS.c.run_id == run_id
    ))  # fmt: skip
    stale = [row.id for row in existing if tuple(row[:5]) not in keep]
    if stale:
        conn.execute(sa.delete(FLAGS).where(FLAGS.c.id.in_(stale)))
    if rows:
        now = datetime.now(UTC)
        statement = upsertable_insert(conn, FLAGS)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=list(FLAG_KEY),
                set_={
                    name: statement.excluded[name]
                    for name in (*rows[0], "created_at")
                    if name not in FLAG_KEY
                },
            ),
            [{**row, "created_at": now} for row in rows],
        )
    return len(rows)


def add_acknowledgement(conn: Connection, ack: Acknowledgement) -> int:
    """Store one acknowledgement; its id. NotFound when its first run is not in the warehouse;
    ValueError when the case's metric is already acknowledged from that run: one decision per
    level, changed by withdrawing it (delete_acknowledgement) and acknowledging again."""
    read_run(conn, ack.from_run_id)
    # Acknowledgements from one run take turns, so two at once cannot both pass the check.
    conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == ack.from_run_id).with_for_update())
    same = sa.select(ACKNOWLEDGEMENTS.c.id, ACKNOWLEDGEMENTS.c.note).where(
        case_filter(ACKNOWLEDGEMENTS, ack.case),
        ACKNOWLEDGEMENTS.c.metric == ack.metric,
        ACKNOWLEDGEMENTS.c.from_run_id == ack.from_run_id,
    )
    existing = conn.execute(same.limit(1)).first()
    if existing is not None:
        raise ValueError(
            f"{ack.case.name} {ack.metric} is already acknowledged from run {ack.from_run_id} "
            f"(acknowledgement {existing.id}: {existing.note!r}); nothing was stored. To change "
            f"it, withdraw it first: bench ack --withdraw {existing.id}"
        )
    values = {k: v for k, v in ack.to_dict().items() if k != "id"}
    statement = sa.insert(ACKNOWLEDGEMENTS).values(**values).returning(ACKNOWLEDGEMENTS.c.id)
    ack_id: int = conn.execute(statement).scalar_one()
    return ack_id


def delete_acknowledgement(conn: Connection, ack_id: int) -> Acknowledgement:
    """Delete one acknowledgement (detection stops honouring it) and return what it was;
    NotFound when there is no such id."""
    statement = (
        sa.delete(ACKNOWLEDGEMENTS)
        .where(ACKNOWLEDGEMENTS.c.id == ack_id)
        .returning(*ACKNOWLEDGEMENTS.c)
    )
    row = conn.execute(statement).mappings().first()
    if row is None:
        raise NotFound(f"no acknowledgement {ack_id}; `bench ack --list` shows them with their ids")
    return from_row(Acknowledgement, row, case=case_of(row))


def _flag_row(flag: Flag) -> dict[str, Any]:
    """The regression_flags columns of a flag (created_at is set when written)."""
    return {k: v for k, v in flag.to_dict().items() if k in FLAGS.c and k != "created_at"}


def spool_dir() -> Path:
    """Where records that could not be stored wait for `bench ingest`."""
    return state_dir() / "spool"


def try_store(record: Record, *, url: str | None = None, trigger: str | None = None) -> str | None:
    """store_record that reports instead of raising: None when stored, else why not in one line.

    Any failure counts (database down, a corrupt or newer schema, a value it refuses, a full
    disk): the caller keeps the record. Nothing of it was stored (one transaction).
    """
    try:
        store_record(record, url=url, trigger=trigger)
    except WarehouseError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - whatever it was, the record must be kept
        where = mask_url(url or warehouse_url())
        kind = "" if isinstance(exc, sa.exc.SQLAlchemyError) else f"{type(exc).__name__}: "
        return f"cannot store in the warehouse at {where}: {kind}{short_reason(exc)}"
    return None


def store_or_spool(
    record: Record, *, url: str | None = None, trigger: str | None = None
) -> Path | None:
    """Store the record; if that fails for any reason (try_store), keep its JSON in the spool.

    Returns None when stored, else the spooled file (callers tell the user). Prints nothing;
    OSError when the spool cannot be written either.
    """
    return None if try_store(record, url=url, trigger=trigger) is None else spool_record(record)


def spool_record(record: Record) -> Path:
    """Keep the record's JSON in the spool folder (as `<run id>-<case>[-r<repeat>].json`) for
    `bench ingest`; repeats of one case get one file each. A run id changed or shortened to be
    a file name gets a hash of the original, so `a:b` and `a/b` never share a file."""
    suffix = f"-r{record.repeat}" if record.repeats > 1 else ""
    tail = f"-{record.case.name}{suffix}"
    run = re.sub(r"[^A-Za-z0-9._-]+", "_", record.run_id)
    name = run + tail
    if run != record.run_id or len(name) > MAX_SPOOL_NAME:
        digest = hashlib.sha256(f"{record.run_id}{tail}".encode()).hexdigest()[:8]
        name = f"{run[: MAX_SPOOL_NAME - len(tail)]}{tail}-{digest}"
    return record.write(spool_dir() / f"{name}.json")


def parse_time(value: datetime | str) -> datetime:
    """ISO-8601 text or a datetime, as an aware UTC datetime (naive input is taken as UTC)."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def code_version(environment: dict[str, Any]) -> str | None:
    """The git commit when known, else the bench version."""
    return _text(environment.get("git_commit") or environment.get("bench_version"))


def _insert_run_if_missing(conn: Connection, *, run_id: str, **values: Any) -> None:
    statement = upsertable_insert(conn, runs).values(
        run_id=run_id, created_at=datetime.now(UTC), **values
    )
    conn.execute(statement.on_conflict_do_nothing(index_elements=["run_id"]))
    for column in ("dataset_sha256", "code_version", "note"):
        if values.get(column):
            # Only matching rows are locked, so concurrent writers of one run rarely wait here.
            conn.execute(
                sa.update(runs)
                .where(runs.c.run_id == run_id, runs.c[column].is_(None))
                .values({column: values[column]})
            )


def upsertable_insert(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both SQLite and PostgreSQL have it)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(
        f"the warehouse supports SQLite and PostgreSQL, not {conn.dialect.name}"
    )


def _check_trigger(trigger: str) -> str:
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}; choose one of {', '.join(TRIGGERS)}")
    return trigger


def _text(value: object) -> str | None:
    return None if value is None else str(value)
