"""What detection reads: a run's results and the earlier results of each of its series.

Histories come in one query per judged run (a window function keeps each case's newest rows),
so detection costs a few queries however many metrics and runs there are. Rows come back as
bench.records.CaseResult.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bench.config import Case
from bench.records import CaseResult, RunInfo
from bench.warehouse.models import ACKNOWLEDGEMENTS, RESULTS, RUNS
from bench.warehouse.runs import case_of
from bench.warehouse.store import parse_time

CASE_COLUMNS = (RESULTS.c.framework, RESULTS.c.mode, RESULTS.c.device)


def run_results(conn: Connection, run_id: str, metrics: Sequence[str]) -> list[CaseResult]:
    query = _results_query(metrics).where(RESULTS.c.run_id == run_id)
    return [_case_result(row, metrics) for row in conn.execute(query).mappings()]


def histories(
    conn: Connection, judged: Sequence[CaseResult], metrics: Sequence[str], *, limit: int
) -> dict[Case, list[CaseResult]]:
    """Per judged case: earlier results of its series (same fingerprint), oldest first.

    At most `limit` per case, started before the judged result (ties: smaller run id).
    """
    if not judged:
        return {}
    keys = [(*r.case.as_dict().values(), r.fingerprint) for r in judged]
    latest = max(r.started_at for r in judged)
    rank = (
        sa.func.row_number()
        .over(
            partition_by=CASE_COLUMNS,
            order_by=(RESULTS.c.started_at.desc(), RESULTS.c.run_id.desc()),
        )
        .label("rank")
    )
    inner = (
        _results_query(metrics)
        .add_columns(rank)
        .where(
            sa.tuple_(*CASE_COLUMNS, RESULTS.c.environment_fingerprint).in_(keys),
            RESULTS.c.started_at <= latest,
            RESULTS.c.run_id.not_in({r.run_id for r in judged}),
        )
        .subquery()
    )
    query = (
        sa.select(inner).where(inner.c.rank <= limit).order_by(inner.c.started_at, inner.c.run_id)
    )
    cut = {r.case: (r.started_at, r.run_id) for r in judged}
    found: dict[Case, list[CaseResult]] = defaultdict(list)
    for row in conn.execute(query).mappings():
        result = _case_result(row, metrics)
        if (result.started_at, result.run_id) < cut[result.case]:
            found[result.case].append(result)
    return found


def previous_statuses(conn: Connection, run: RunInfo, cases: Iterable[Case]) -> dict[Case, str]:
    """For these cases, the status in the newest earlier result (any fingerprint)."""
    keys = [tuple(case.as_dict().values()) for case in cases]
    if not keys:
        return {}
    rank = sa.func.row_number().over(
        partition_by=CASE_COLUMNS, order_by=(RESULTS.c.started_at.desc(), RESULTS.c.run_id.desc())
    )
    inner = (
        sa.select(*CASE_COLUMNS, RESULTS.c.status, rank.label("rank"))
        .where(
            sa.tuple_(*CASE_COLUMNS).in_(keys),
            RESULTS.c.started_at < run.started_at,
            RESULTS.c.run_id != run.run_id,
        )
        .subquery()
    )
    rows = conn.execute(sa.select(inner).where(inner.c.rank == 1)).mappings()
    return {case_of(row): row["status"] for row in rows}


def previous_scheduled_cases(conn: Connection, run: RunInfo) -> set[Case]:
    """The cases of the newest earlier scheduled run: the matrix a scheduled run should have."""
    previous = (
        sa.select(RUNS.c.run_id)
        .where(
            RUNS.c.trigger == "scheduled",
            RUNS.c.started_at < run.started_at,
            sa.exists().where(RESULTS.c.run_id == RUNS.c.run_id),
        )
        .order_by(RUNS.c.started_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = sa.select(*CASE_COLUMNS).where(RESULTS.c.run_id == previous)
    return {case_of(row) for row in conn.execute(query).mappings()}


def acknowledgement_starts(conn: Connection, before: datetime) -> dict[tuple[Case, str], datetime]:
    """(case, metric) -> start of the newest acknowledged level."""
    columns = [ACKNOWLEDGEMENTS.c[n] for n in ("framework", "mode", "device", "metric")]
    query = (
        sa.select(*columns, sa.func.max(RUNS.c.started_at).label("since"))
        .join(RUNS, RUNS.c.run_id == ACKNOWLEDGEMENTS.c.from_run_id)
        .where(RUNS.c.started_at <= before)
        .group_by(*columns)
    )
    return {
        (case_of(row), row["metric"]): parse_time(row["since"])
        for row in conn.execute(query).mappings()
    }


def _results_query(metrics: Sequence[str]) -> sa.Select[Any]:
    return sa.select(
        RESULTS.c.run_id,
        *CASE_COLUMNS,
        RESULTS.c.status,
        RESULTS.c.started_at,
        RESULTS.c.environment_fingerprint,
        RESULTS.c.noisy,
        RUNS.c.trigger,
        *(RESULTS.c[m] for m in metrics),
    ).join(RUNS, RUNS.c.run_id == RESULTS.c.run_id)


def _case_result(row: Any, metrics: Sequence[str]) -> CaseResult:
    return CaseResult(
        run_id=row["run_id"],
        case=case_of(row),
        status=row["status"],
        started_at=parse_time(row["started_at"]),
        scheduled=row["trigger"] == "scheduled",
        fingerprint=row["environment_fingerprint"],
        metrics={m: None if row[m] is None else float(row[m]) for m in metrics},
        noisy=row["noisy"] is not None,
    )
