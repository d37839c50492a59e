"""Whole runs read back as bench.records types: the run row, its records, validation and flags.

Reports and the dashboard read through these (and detection reads a run's row); each takes an
open connection so one page is read in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bench.config import Case
from bench.records import (
    Acknowledgement,
    EpochMetric,
    EvalMetric,
    Flag,
    Record,
    RunInfo,
    ValidationFailure,
    ValidationReport,
    with_acknowledgements,
)
from bench.warehouse.engine import NotFound
from bench.warehouse.models import ACKNOWLEDGEMENTS, EPOCHS, FLAGS, RESULTS, RUNS, VALIDATIONS

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def read_run(conn: Connection, run_id: str) -> RunInfo:
    """The run's row; NotFound naming the fix when the warehouse has no such run."""
    row = conn.execute(sa.select(RUNS).where(RUNS.c.run_id == run_id)).mappings().first()
    if row is None:
        raise NotFound(f"no run {run_id!r} in the warehouse; see `bench results` for run ids")
    return from_row(RunInfo, row)


def recent_runs(conn: Connection, limit: int = 50) -> list[RunInfo]:
    """The newest runs that have results, newest first."""
    has_results = sa.exists().where(RESULTS.c.run_id == RUNS.c.run_id)
    query = (
        sa.select(RUNS)
        .where(has_results)
        .order_by(RUNS.c.started_at.desc(), RUNS.c.run_id.desc())
        .limit(limit)
    )
    return [from_row(RunInfo, row) for row in conn.execute(query).mappings()]


def read_records(conn: Connection, run_id: str) -> list[Record]:
    """The run's results rebuilt as records, with their epochs and every evaluation."""
    rows = (
        conn.execute(
            sa.select(RESULTS)
            .where(RESULTS.c.run_id == run_id)
            .order_by(RESULTS.c.framework, RESULTS.c.mode, RESULTS.c.device)
        )
        .mappings()
        .all()
    )
    epochs: dict[int, list[EpochMetric]] = {}
    if rows:
        query = (
            sa.select(EPOCHS)
            .where(EPOCHS.c.result_id.in_([row["id"] for row in rows]))
            .order_by(EPOCHS.c.result_id, EPOCHS.c.epoch)
        )
        for e in conn.execute(query).mappings():
            epochs.setdefault(e["result_id"], []).append(
                EpochMetric(epoch=e["epoch"], seconds=e["seconds"], train_mae=e["train_mae"])
            )
    return [
        Record(
            run_id=row["run_id"],
            case=case_of(row),
            started_at=row["started_at"].isoformat(),
            status=row["status"],
            reason=row["reason"],
            epochs=epochs.get(row["id"], []),
            compile_seconds=row["compile_seconds"],
            steady_epoch_seconds=row["steady_epoch_seconds"],
            steady_ci_low=row["steady_ci_low"],
            steady_ci_high=row["steady_ci_high"],
            steady_cv=row["steady_cv"],
            total_seconds=row["total_seconds"],
            peak_rss_bytes=row["peak_rss_bytes"],
            peak_device_bytes=row["peak_device_bytes"],
            eval=[EvalMetric(**e) for e in row["eval_metrics"] or []],
            dataset_sha256=row["dataset_sha256"],
            environment=row["environment"] or {},
            repeats=row["repeats"],
            repeat=0 if row["repeats"] > 1 else 1,
            reference_seconds=row["reference_seconds"],
            conditions=row["conditions"] or {},
            noisy=row["noisy"],
            schema_version=row["schema_version"],
        )
        for row in rows
    ]


def read_validation(conn: Connection, run_id: str) -> ValidationReport | None:
    query = sa.select(VALIDATIONS).where(VALIDATIONS.c.run_id == run_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    statistics = dict(row["statistics"] or {})
    statistics.setdefault("evaluated_expectations", row["evaluated_expectations"])
    statistics.setdefault("unsuccessful_expectations", row["unsuccessful_expectations"])
    return ValidationReport(
        success=bool(row["success"]),
        statistics=statistics,
        failures=[ValidationFailure(**f) for f in row["failures"] or []],
        dataset_sha256=row["dataset_sha256"],
        source=row["source"],
        validated_at=row["validated_at"].isoformat(),
    )


def read_flags(
    conn: Connection,
    *,
    run_ids: Iterable[str] | None = None,
    case: Case | None = None,
    labels: Iterable[str] | None = None,
    limit: int | None = None,
) -> list[Flag]:
    """Flags of these runs, case and labels (None: any), newest run first, each with the
    acknowledgement that covers it."""
    where = []
    if run_ids is not None:
        where.append(FLAGS.c.run_id.in_(list(run_ids)))
    if case is not None:
        where.append(case_filter(FLAGS, case))
    if labels is not None:
        where.append(FLAGS.c.label.in_(list(labels)))
    query = (
        sa.select(FLAGS)
        .join(RUNS, RUNS.c.run_id == FLAGS.c.run_id)
        .where(*where)
        .order_by(RUNS.c.started_at.desc(), FLAGS.c.framework, FLAGS.c.mode, FLAGS.c.device)
        .limit(limit)
    )
    rows = conn.execute(query).mappings()
    flags = [from_row(Flag, row, case=case_of(row)) for row in rows]
    cases = sorted({f.case for f in flags})
    return with_acknowledgements(flags, read_acknowledgements(conn, cases)) if cases else flags


def read_acknowledgements(
    conn: Connection, cases: Iterable[Case] | None = None
) -> list[Acknowledgement]:
    """Acknowledgements of these cases (None: all), oldest first."""
    query = sa.select(ACKNOWLEDGEMENTS).order_by(
        ACKNOWLEDGEMENTS.c.created_at, ACKNOWLEDGEMENTS.c.id
    )
    if cases is not None:
        conditions = [case_filter(ACKNOWLEDGEMENTS, case) for case in cases]
        if not conditions:
            return []
        query = query.where(sa.or_(*conditions))
    rows = conn.execute(query).mappings()
    return [from_row(Acknowledgement, row, case=case_of(row)) for row in rows]


def case_filter(table: sa.Table, case: Case) -> Any:
    """WHERE clause for one case's rows of a table with framework, mode and device columns."""
    return sa.and_(
        table.c.framework == case.framework,
        table.c.mode == case.mode,
        table.c.device == case.device,
    )


def case_of(row: Any) -> Case:
    return Case(row["framework"], row["mode"], row["device"])


def from_row(cls: type[T], row: Any, **values: Any) -> T:
    """A record type from the row's columns of the same names, plus `values`."""
    names = [f.name for f in fields(cls) if f.name not in values and f.name in row]
    return cls(**{name: row[name] for name in names}, **values)
