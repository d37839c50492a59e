"""The warehouse reads behind reports and the dashboard; routes and renderers only call these.

The warehouse's own queries (latest run, series, comparison) are used where they answer the
question; the rest are SQLAlchemy Core selects on the warehouse models, read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bench.config import Case
from bench.records import EpochMetric, EvalMetric, Record, ValidationFailure, ValidationReport
from bench.reports.snapshot import (
    ALERT_LABELS,
    Acknowledgement,
    Flag,
    RunInfo,
    RunSnapshot,
    SeriesHistory,
    SeriesPoint,
    acknowledge,
)
from bench.warehouse import (
    compare_runs,
    get_engine,
    latest_results,
    latest_run_id,
    series_history,
    upgrade,
)
from bench.warehouse.engine import connect
from bench.warehouse.models import ACKNOWLEDGEMENTS, EPOCHS, FLAGS, RESULTS, RUNS, VALIDATIONS

__all__ = [
    "compare",
    "latest_run_id",
    "open_flags",
    "recent_runs",
    "run_snapshot",
    "series",
    "series_cases",
]

# Budgets tried, in order, for a series' test MAE: the longest one the runs reached.
TEST_MAE_METRICS: tuple[str, ...] = ("test_mae_30", "test_mae_20", "test_mae_10")


@contextmanager
def _reading(url: str | None) -> Iterator[Connection]:
    upgrade(url)
    with connect(get_engine(url)) as conn:
        yield conn


def run_snapshot(run_id: str | None = None, *, url: str | None = None) -> RunSnapshot:
    """Everything about one run (default: the latest with results); LookupError if none."""
    run_id = run_id or latest_run_id(url)
    if run_id is None:
        raise LookupError(
            "the warehouse has no results yet; run `bench matrix` or the bench_nightly DAG first"
        )
    with _reading(url) as conn:
        info = _run_info(conn, run_id)
        records = _records(conn, run_id)
        if info is None or not records:
            raise LookupError(f"no results for run {run_id!r} in the warehouse")
        validation = _validation(conn, run_id)
        flags = _flags(conn, FLAGS.c.run_id == run_id)
    return RunSnapshot(run=info, records=records, validation=validation, flags=flags)


def recent_runs(limit: int = 50, *, url: str | None = None) -> list[RunInfo]:
    """The newest runs that have results, newest first (for run pickers)."""
    has_results = sa.exists().where(RESULTS.c.run_id == RUNS.c.run_id)
    query = (
        sa.select(RUNS)
        .where(has_results)
        .order_by(RUNS.c.started_at.desc(), RUNS.c.run_id.desc())
        .limit(limit)
    )
    with _reading(url) as conn:
        return [_to_run_info(row) for row in conn.execute(query).mappings()]


def series_cases(*, url: str | None = None) -> list[Case]:
    """Every case the warehouse has a result for, in framework, mode, device order."""
    return [Case(r["framework"], r["mode"], r["device"]) for r in latest_results(url)]


def series(case: Case, *, last: int = 30, url: str | None = None) -> SeriesHistory:
    """The case's last `last` runs: steady epoch time, peak memory and test MAE, with flags."""
    steady = _history(case, "steady_epoch_seconds", last, url)
    memory = {row["run_id"]: row["value"] for row in _history(case, "peak_rss_bytes", last, url)}
    mae_metric, mae = TEST_MAE_METRICS[0], {}
    for name in TEST_MAE_METRICS:
        values = {row["run_id"]: row["value"] for row in _history(case, name, last, url)}
        if any(v is not None for v in values.values()):
            mae_metric, mae = name, values
            break
    points = [
        SeriesPoint(
            run_id=row["run_id"],
            started_at=row["started_at"],
            status=row["status"],
            steady_epoch_seconds=row["value"],
            peak_rss_bytes=memory.get(row["run_id"]),
            test_mae=mae.get(row["run_id"]),
        )
        for row in steady
    ]
    run_ids = [p.run_id for p in points]
    with _reading(url) as conn:
        flags = _flags(conn, _case_filter(FLAGS, case), FLAGS.c.run_id.in_(run_ids))
        acks = _acknowledgements(conn, [case])
    return SeriesHistory(
        case=case, points=points, test_mae_metric=mae_metric, flags=flags, acknowledgements=acks
    )


def open_flags(*, limit: int = 200, url: str | None = None) -> list[Flag]:
    """Alerts (ALERT_LABELS) nobody has acknowledged, newest run first."""
    with _reading(url) as conn:
        flags = _flags(conn, FLAGS.c.label.in_(ALERT_LABELS), limit=limit)
    return [f for f in flags if f.is_open]


def compare(run_a: str, run_b: str, *, url: str | None = None) -> list[dict[str, Any]]:
    """Per case, metrics of runs A and B and the ratio B / A (the warehouse's comparison)."""
    return compare_runs(run_a, run_b, url)


def _history(case: Case, metric: str, last: int, url: str | None) -> list[dict[str, Any]]:
    return series_history(case.framework, case.mode, case.device, metric=metric, last=last, url=url)


def _run_info(conn: Connection, run_id: str) -> RunInfo | None:
    row = conn.execute(sa.select(RUNS).where(RUNS.c.run_id == run_id)).mappings().first()
    return _to_run_info(row) if row else None


def _to_run_info(row: Any) -> RunInfo:
    return RunInfo(
        run_id=row["run_id"],
        trigger=row["trigger"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        dataset_sha256=row["dataset_sha256"],
        validation_outcome=row["validation_outcome"],
        code_version=row["code_version"],
    )


def _records(conn: Connection, run_id: str) -> list[Record]:
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
            case=Case(row["framework"], row["mode"], row["device"]),
            started_at=row["started_at"].isoformat(),
            status=row["status"],
            reason=row["reason"],
            epochs=epochs.get(row["id"], []),
            compile_seconds=row["compile_seconds"],
            steady_epoch_seconds=row["steady_epoch_seconds"],
            total_seconds=row["total_seconds"],
            peak_rss_bytes=row["peak_rss_bytes"],
            peak_device_bytes=row["peak_device_bytes"],
            eval=[EvalMetric(**e) for e in row["eval_metrics"] or []],
            dataset_sha256=row["dataset_sha256"],
            environment=row["environment"] or {},
            schema_version=row["schema_version"],
        )
        for row in rows
    ]


def _validation(conn: Connection, run_id: str) -> ValidationReport | None:
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


def _flags(conn: Connection, *where: Any, limit: int | None = None) -> list[Flag]:
    """Flags matching `where`, newest run first, each with the acknowledgement that covers it."""
    query = (
        sa.select(FLAGS)
        .join(RUNS, RUNS.c.run_id == FLAGS.c.run_id)
        .where(*where)
        .order_by(RUNS.c.started_at.desc(), FLAGS.c.framework, FLAGS.c.mode, FLAGS.c.device)
        .limit(limit)
    )
    flags = [
        Flag(
            run_id=row["run_id"],
            case=Case(row["framework"], row["mode"], row["device"]),
            metric=row["metric"],
            label=row["label"],
            value=row["value"],
            baseline_value=row["baseline_value"],
            change_pct=row["change_pct"],
            z_score=row["z_score"],
            detector_version=row["detector_version"],
            change_point_run_id=row["change_point_run_id"],
            created_at=row["created_at"],
        )
        for row in conn.execute(query).mappings()
    ]
    cases = sorted({f.case for f in flags})
    return acknowledge(flags, _acknowledgements(conn, cases)) if cases else flags


def _acknowledgements(conn: Connection, cases: Iterable[Case]) -> list[Acknowledgement]:
    conditions = [_case_filter(ACKNOWLEDGEMENTS, case) for case in cases]
    if not conditions:
        return []
    query = (
        sa.select(ACKNOWLEDGEMENTS)
        .where(sa.or_(*conditions))
        .order_by(ACKNOWLEDGEMENTS.c.created_at)
    )
    return [
        Acknowledgement(
            case=Case(row["framework"], row["mode"], row["device"]),
            metric=row["metric"],
            from_run_id=row["from_run_id"],
            note=row["note"],
            created_at=row["created_at"],
        )
        for row in conn.execute(query).mappings()
    ]


def _case_filter(table: sa.Table, case: Case) -> Any:
    return sa.and_(
        table.c.framework == case.framework,
        table.c.mode == case.mode,
        table.c.device == case.device,
    )
