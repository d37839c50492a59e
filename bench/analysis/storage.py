"""The thin SQL side of detection: read a run and its series, write flags and acknowledgements.

Histories come in one query per judged run (a window function keeps each case's newest rows),
so detection costs a few queries however many metrics and runs there are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bench.analysis.assess import CaseKey, CaseResult, Flag
from bench.warehouse.models import ACKNOWLEDGEMENTS, FLAGS, RESULTS, RUNS
from bench.warehouse.store import upsertable_insert

FLAG_KEY = ("run_id", "framework", "mode", "device", "metric")


def run_info(conn: Connection, run_id: str) -> dict[str, Any]:
    """The run's row; LookupError naming the fix when it is not in the warehouse."""
    row = conn.execute(sa.select(RUNS).where(RUNS.c.run_id == run_id)).mappings().first()
    if row is None:
        raise LookupError(f"no run {run_id!r} in the warehouse; see `bench results` for run ids")
    return dict(row)


def run_results(conn: Connection, run_id: str, metrics: Sequence[str]) -> list[CaseResult]:
    query = _results_query(metrics).where(RESULTS.c.run_id == run_id)
    return [_case_result(row, metrics) for row in conn.execute(query).mappings()]


def histories(
    conn: Connection, judged: Sequence[CaseResult], metrics: Sequence[str], *, limit: int
) -> dict[CaseKey, list[CaseResult]]:
    """Per judged case: earlier results of its series (same fingerprint), oldest first.

    At most `limit` per case, started before the judged result (ties: smaller run id).
    """
    if not judged:
        return {}
    keys = [(*r.case, r.fingerprint) for r in judged]
    latest = max(r.started_at for r in judged)
    rank = (
        sa.func.row_number()
        .over(
            partition_by=(RESULTS.c.framework, RESULTS.c.mode, RESULTS.c.device),
            order_by=(RESULTS.c.started_at.desc(), RESULTS.c.run_id.desc()),
        )
        .label("rank")
    )
    inner = (
        _results_query(metrics)
        .add_columns(rank)
        .where(
            sa.tuple_(
                RESULTS.c.framework,
                RESULTS.c.mode,
                RESULTS.c.device,
                RESULTS.c.environment_fingerprint,
            ).in_(keys),
            RESULTS.c.started_at <= latest,
            RESULTS.c.run_id.not_in({r.run_id for r in judged}),
        )
        .subquery()
    )
    query = (
        sa.select(inner).where(inner.c.rank <= limit).order_by(inner.c.started_at, inner.c.run_id)
    )
    cut = {r.case: (r.started_at, r.run_id) for r in judged}
    found: dict[CaseKey, list[CaseResult]] = defaultdict(list)
    for row in conn.execute(query).mappings():
        result = _case_result(row, metrics)
        if (result.started_at, result.run_id) < cut[result.case]:
            found[result.case].append(result)
    return found


def previous_statuses(
    conn: Connection, run: dict[str, Any], cases: Iterable[CaseKey]
) -> dict[CaseKey, str]:
    """For these cases, the status in the newest earlier result (any fingerprint)."""
    cases = list(cases)
    if not cases:
        return {}
    columns = (RESULTS.c.framework, RESULTS.c.mode, RESULTS.c.device)
    rank = sa.func.row_number().over(
        partition_by=columns, order_by=(RESULTS.c.started_at.desc(), RESULTS.c.run_id.desc())
    )
    inner = (
        sa.select(*columns, RESULTS.c.status, rank.label("rank"))
        .where(
            sa.tuple_(*columns).in_(cases),
            RESULTS.c.started_at < run["started_at"],
            RESULTS.c.run_id != run["run_id"],
        )
        .subquery()
    )
    rows = conn.execute(sa.select(inner).where(inner.c.rank == 1))
    return {(r.framework, r.mode, r.device): r.status for r in rows}


def previous_scheduled_cases(conn: Connection, run: dict[str, Any]) -> set[CaseKey]:
    """The cases of the newest earlier scheduled run: the matrix a scheduled run should have."""
    previous = (
        sa.select(RUNS.c.run_id)
        .where(
            RUNS.c.trigger == "scheduled",
            RUNS.c.started_at < run["started_at"],
            sa.exists().where(RESULTS.c.run_id == RUNS.c.run_id),
        )
        .order_by(RUNS.c.started_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = sa.select(RESULTS.c.framework, RESULTS.c.mode, RESULTS.c.device).where(
        RESULTS.c.run_id == previous
    )
    return {(r.framework, r.mode, r.device) for r in conn.execute(query)}


def acknowledgement_starts(conn: Connection, before: datetime) -> dict[tuple[str, ...], datetime]:
    """(framework, mode, device, metric) -> start of the newest acknowledged level."""
    query = (
        sa.select(
            ACKNOWLEDGEMENTS.c.framework,
            ACKNOWLEDGEMENTS.c.mode,
            ACKNOWLEDGEMENTS.c.device,
            ACKNOWLEDGEMENTS.c.metric,
            sa.func.max(RUNS.c.started_at).label("since"),
        )
        .join(RUNS, RUNS.c.run_id == ACKNOWLEDGEMENTS.c.from_run_id)
        .where(RUNS.c.started_at <= before)
        .group_by(*(ACKNOWLEDGEMENTS.c[n] for n in ("framework", "mode", "device", "metric")))
    )
    return {(r.framework, r.mode, r.device, r.metric): _aware(r.since) for r in conn.execute(query)}


def write_flags(conn: Connection, run_id: str, flags: Iterable[Flag]) -> int:
    """Replace the run's flags: upsert on (run, case, metric), delete ones no longer found."""
    rows = [flag.to_row() for flag in flags]
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


def add_acknowledgement(conn: Connection, values: dict[str, Any]) -> None:
    run_info(conn, values["from_run_id"])
    conn.execute(sa.insert(ACKNOWLEDGEMENTS).values(**values))


def acknowledgements(conn: Connection) -> list[dict[str, Any]]:
    query = (
        sa.select(ACKNOWLEDGEMENTS, RUNS.c.started_at.label("from_started_at"))
        .join(RUNS, RUNS.c.run_id == ACKNOWLEDGEMENTS.c.from_run_id)
        .order_by(ACKNOWLEDGEMENTS.c.created_at, ACKNOWLEDGEMENTS.c.id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def flags_for_run(conn: Connection, run_id: str) -> list[dict[str, Any]]:
    query = sa.select(FLAGS).where(FLAGS.c.run_id == run_id).order_by(FLAGS.c.id)
    return [dict(row) for row in conn.execute(query).mappings()]


def _results_query(metrics: Sequence[str]) -> sa.Select[Any]:
    return sa.select(
        RESULTS.c.run_id,
        RESULTS.c.framework,
        RESULTS.c.mode,
        RESULTS.c.device,
        RESULTS.c.status,
        RESULTS.c.started_at,
        RESULTS.c.environment_fingerprint,
        RUNS.c.trigger,
        *(RESULTS.c[m] for m in metrics),
    ).join(RUNS, RUNS.c.run_id == RESULTS.c.run_id)


def _case_result(row: Any, metrics: Sequence[str]) -> CaseResult:
    return CaseResult(
        run_id=row["run_id"],
        framework=row["framework"],
        mode=row["mode"],
        device=row["device"],
        status=row["status"],
        started_at=_aware(row["started_at"]),
        scheduled=row["trigger"] == "scheduled",
        fingerprint=row["environment_fingerprint"],
        metrics={m: None if row[m] is None else float(row[m]) for m in metrics},
    )


def _aware(value: datetime) -> datetime:
    """Aware UTC whatever the driver returned (naive values are UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
