"""The warehouse reads behind reports and the dashboard; routes and renderers only call these.

Each groups what bench.warehouse reads (as bench.records types) into the report's values;
there is no SQL here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection

from bench.config import EVAL_BUDGETS, Case
from bench.records import ALERT_LABELS, Flag, RunInfo
from bench.reports.snapshot import RunSnapshot, SeriesHistory, SeriesPoint
from bench.warehouse import (
    NotFound,
    compare_runs,
    get_engine,
    latest_results,
    latest_run_id,
    series_history,
    upgrade,
)
from bench.warehouse import runs as warehouse_runs
from bench.warehouse.engine import connect

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
TEST_MAE_METRICS: tuple[str, ...] = tuple(f"test_mae_{b}" for b in sorted(EVAL_BUDGETS)[::-1])


@contextmanager
def _reading(url: str | None) -> Iterator[Connection]:
    upgrade(url)
    with connect(get_engine(url)) as conn:
        yield conn


def run_snapshot(run_id: str | None = None, *, url: str | None = None) -> RunSnapshot:
    """Everything about one run (default: the latest with results); NotFound if none."""
    run_id = run_id or latest_run_id(url)
    if run_id is None:
        raise NotFound(
            "the warehouse has no results yet; run `bench matrix` or the bench_nightly DAG first"
        )
    with _reading(url) as conn:
        info = warehouse_runs.read_run(conn, run_id)
        records = warehouse_runs.read_records(conn, run_id)
        if not records:
            raise NotFound(f"no results for run {run_id!r} in the warehouse; see `bench results`")
        validation = warehouse_runs.read_validation(conn, run_id)
        flags = warehouse_runs.read_flags(conn, run_ids=[run_id])
    return RunSnapshot(run=info, records=records, validation=validation, flags=flags)


def recent_runs(limit: int = 50, *, url: str | None = None) -> list[RunInfo]:
    """The newest runs that have results, newest first (for run pickers)."""
    with _reading(url) as conn:
        return warehouse_runs.recent_runs(conn, limit)


def series_cases(*, url: str | None = None) -> list[Case]:
    """Every case the warehouse has a result for, in framework, mode, device order."""
    return [warehouse_runs.case_of(row) for row in latest_results(url)]


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
        flags = warehouse_runs.read_flags(conn, run_ids=run_ids, case=case)
        acks = warehouse_runs.read_acknowledgements(conn, [case])
    return SeriesHistory(
        case=case, points=points, test_mae_metric=mae_metric, flags=flags, acknowledgements=acks
    )


def open_flags(*, limit: int = 200, url: str | None = None) -> list[Flag]:
    """Alerts (ALERT_LABELS) nobody has acknowledged, newest run first."""
    with _reading(url) as conn:
        flags = warehouse_runs.read_flags(conn, labels=ALERT_LABELS, limit=limit)
    return [f for f in flags if f.is_open]


def compare(run_a: str, run_b: str, *, url: str | None = None) -> list[dict[str, Any]]:
    """Per case, metrics of runs A and B and the ratio B / A (the warehouse's comparison)."""
    return compare_runs(run_a, run_b, url)


def _history(case: Case, metric: str, last: int, url: str | None) -> list[dict[str, Any]]:
    return series_history(case.framework, case.mode, case.device, metric=metric, last=last, url=url)
