"""Reads: the questions people ask of the warehouse, answered from the documented views.

Going through the views (latest_results, series_history) means psql and BI users get the same
answers as the CLI. Analysts' own SELECTs go through `read_only_query` (bench.warehouse.readonly,
re-exported here).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.records import BLOCKING_LABELS, STATUSES
from bench.uncertainty import (
    NO_DIFFERENCE,
    TOO_FEW_SAMPLES,
    Estimate,
    ratio_interval,
    speed_verdict,
    steady_estimate,
)
from bench.warehouse.engine import NotFound, connect, get_engine
from bench.warehouse.migrate import upgrade
from bench.warehouse.models import (
    EPOCHS,
    FINAL_EVAL_COLUMNS,
    FLAGS,
    METRIC_COLUMNS,
    RESULTS,
    RUNS,
    LatestResultsView,
    SeriesHistoryView,
)
from bench.warehouse.readonly import QueryError as QueryError
from bench.warehouse.readonly import read_only_query as read_only_query

runs, results = RUNS, RESULTS

# What results_for_run returns per case, in this order.
RESULT_COLUMNS: tuple[str, ...] = (
    "run_id",
    "framework",
    "mode",
    "device",
    "status",
    "reason",
    "started_at",
    "epochs_completed",
    *METRIC_COLUMNS,
    *FINAL_EVAL_COLUMNS,
    "framework_version",
    "environment_fingerprint",
    "steady_ci_low",
    "steady_ci_high",
    "steady_cv",
    "repeats",
    "noisy",
    "note",  # the run's
)
SERIES_COLUMNS: tuple[str, ...] = (
    "run_id",
    "started_at",
    "trigger",
    "status",
    "epochs_completed",
    "value",
    *FINAL_EVAL_COLUMNS,
    "environment_fingerprint",
    "framework_version",
    "code_version",
    "note",
)
# What list_runs returns per run, in this order (one count per status).
RUN_LIST_COLUMNS: tuple[str, ...] = (
    "run_id",
    "trigger",
    "started_at",
    *STATUSES,
    "blocking",
    "verdict",
    "note",
)
# What epochs_for_run returns per epoch: the test metrics where the epoch was evaluated.
EPOCH_COLUMNS: tuple[str, ...] = (
    "framework",
    "mode",
    "device",
    "epoch",
    "seconds",
    "train_mae",
    "test_mse",
    "test_mae",
)
# compare_runs reports these metrics side by side, with the ratio B / A.
COMPARED_METRICS: tuple[str, ...] = (
    "steady_epoch_seconds",
    "compile_seconds",
    "total_seconds",
    "peak_rss_bytes",
    "test_mae_30",
)
# compare_runs also gives these columns of A and B side by side (`<column>_a`, `<column>_b`).
COMPARED_COLUMNS: tuple[str, ...] = (
    "epochs_completed",
    "repeats",
    "steady_ci_low",
    "steady_ci_high",
    "steady_cv",
    "noisy",
)
# compare_runs' verdict on B's steady time against A's (bench.uncertainty.speed_verdict).
VERDICTS: dict[str, str] = {
    "slower": "slower",
    "faster": "faster",
    "same": NO_DIFFERENCE,
    "unknown": TOO_FEW_SAMPLES,
}
# The difference (see compare_runs) across which a ratio is refused unless asked for.
BUDGET = "epoch budget"


def _engine(url: str | None) -> Engine:
    upgrade(url)
    return get_engine(url)


def latest_run_id(url: str | None = None) -> str | None:
    """The most recently started run that has at least one result, or None."""
    has_results = sa.exists().where(results.c.run_id == runs.c.run_id)
    query = (
        sa.select(runs.c.run_id)
        .where(has_results)
        .order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
        .limit(1)
    )
    with connect(_engine(url)) as conn:
        return conn.execute(query).scalar_one_or_none()


def results_for_run(run_id: str, url: str | None = None) -> list[dict[str, Any]]:
    """One dict per case of the run (RESULT_COLUMNS), ordered by framework, mode, device."""
    return _results(run_id, RESULT_COLUMNS, url)


def _results(run_id: str, columns: Sequence[str], url: str | None) -> list[dict[str, Any]]:
    """`columns` of the run's results; a name that is not a result column is the run's."""
    query = (
        sa.select(*(results.c[n] if n in results.c else runs.c[n] for n in columns))
        .join(runs, runs.c.run_id == results.c.run_id)
        .where(results.c.run_id == run_id)
        .order_by(results.c.framework, results.c.mode, results.c.device)
    )
    with connect(_engine(url)) as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def latest_results(url: str | None = None) -> list[dict[str, Any]]:
    """Per case, the result of its most recent run (the `latest_results` view)."""
    view = LatestResultsView
    query = sa.select(*(view.c[name] for name in RESULT_COLUMNS)).order_by(
        view.c.framework, view.c.mode, view.c.device
    )
    with connect(_engine(url)) as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def epochs_for_run(run_id: str, url: str | None = None) -> list[dict[str, Any]]:
    """Every epoch of every case of the run (EPOCH_COLUMNS), by case then epoch; test MSE and
    MAE on the epochs that were evaluated, else None."""
    query = (
        sa.select(*(results.c[n] for n in ("id", "framework", "mode", "device", "eval_metrics")))
        .where(results.c.run_id == run_id)
        .order_by(results.c.framework, results.c.mode, results.c.device)
    )
    with connect(_engine(url)) as conn:
        cases = conn.execute(query).mappings().all()
        epochs = conn.execute(
            sa.select(EPOCHS)
            .where(EPOCHS.c.result_id.in_([case["id"] for case in cases]))
            .order_by(EPOCHS.c.result_id, EPOCHS.c.epoch)
        ).mappings()
        by_result: dict[int, list[Any]] = {}
        for epoch in epochs:
            by_result.setdefault(epoch["result_id"], []).append(epoch)
    rows = []
    for case in cases:
        tested = {e.get("epoch"): e for e in case["eval_metrics"] or [] if isinstance(e, dict)}
        for epoch in by_result.get(case["id"], []):
            test = tested.get(epoch["epoch"], {})
            rows.append(
                {
                    **{name: case[name] for name in ("framework", "mode", "device")},
                    **{name: epoch[name] for name in ("epoch", "seconds", "train_mae")},
                    "test_mse": test.get("test_mse"),
                    "test_mae": test.get("test_mae"),
                }
            )
    return rows


def list_runs(*, last: int = 20, url: str | None = None) -> list[dict[str, Any]]:
    """The newest `last` runs, oldest first (RUN_LIST_COLUMNS): how many cases ended ok, skipped
    and failed, how many blocking flags detection wrote, and the verdict (bench.analysis.verdict's
    rule: red when a flag is blocking or a case failed, else green), with the run's note."""
    if last < 1:
        raise ValueError(f"last must be at least 1, got {last}")
    counted = sa.select(
        results.c.run_id,
        *(
            sa.func.sum(sa.case((results.c.status == status, 1), else_=0)).label(status)
            for status in STATUSES
        ),
    ).group_by(results.c.run_id).subquery()  # fmt: skip
    flagged = (
        sa.select(FLAGS.c.run_id, sa.func.count().label("blocking"))
        .where(FLAGS.c.label.in_(sorted(BLOCKING_LABELS)))
        .group_by(FLAGS.c.run_id)
        .subquery()
    )
    query = (
        sa.select(
            runs.c.run_id,
            runs.c.trigger,
            runs.c.started_at,
            *(sa.func.coalesce(counted.c[status], 0).label(status) for status in STATUSES),
            sa.func.coalesce(flagged.c.blocking, 0).label("blocking"),
            runs.c.note,
        )
        .outerjoin(counted, counted.c.run_id == runs.c.run_id)
        .outerjoin(flagged, flagged.c.run_id == runs.c.run_id)
        .order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
        .limit(last)
    )
    with connect(_engine(url)) as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    for row in rows:
        row["verdict"] = "red" if row["blocking"] or row["failed"] else "green"
    return [{name: row[name] for name in RUN_LIST_COLUMNS} for row in rows[::-1]]


def series_history(
    framework: str,
    mode: str,
    device: str,
    *,
    metric: str = "steady_epoch_seconds",
    last: int | None = None,
    url: str | None = None,
) -> list[dict[str, Any]]:
    """One case's metric over runs, oldest first (SERIES_COLUMNS); `last` keeps the newest N."""
    if metric not in METRIC_COLUMNS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRIC_COLUMNS)}")
    if last is not None and last < 1:
        raise ValueError(f"last must be at least 1, got {last}")
    view = SeriesHistoryView
    columns = [
        view.c[name] if name != "value" else view.c[metric].label("value")
        for name in SERIES_COLUMNS
    ]
    query = (
        sa.select(*columns)
        .where(view.c.framework == framework, view.c.mode == mode, view.c.device == device)
        .order_by(view.c.started_at.desc(), view.c.run_id.desc())
        .limit(last)
    )
    with connect(_engine(url)) as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    return rows[::-1]


def compare_runs(run_a: str, run_b: str, url: str | None = None) -> list[dict[str, Any]]:
    """Per case in either run: each metric of A and B and the ratio B / A (>1: B is larger).

    Also COMPARED_COLUMNS of A and B; the steady ratio's 95% interval
    (`steady_epoch_seconds_ratio_low`/`_high`) and `verdict` (VERDICTS; None unless both are
    ok); and `differences`, {what: [value in A, value in B]} for whatever differs between the
    two results that a ratio assumes equal (BUDGET, dataset, environment, repeats).
    """
    found = {}
    for run_id in (run_a, run_b):
        found[run_id] = _results(run_id, (*RESULT_COLUMNS, "dataset_sha256", "environment"), url)
        if not found[run_id]:
            raise NotFound(f"no results for run {run_id!r} in the warehouse; see `bench results`")
    by_case = [{_case(row): row for row in found[run_id]} for run_id in (run_a, run_b)]
    compared = []
    for case in sorted(set(by_case[0]) | set(by_case[1])):
        a, b = by_case[0].get(case, {}), by_case[1].get(case, {})
        row: dict[str, Any] = dict(zip(("framework", "mode", "device"), case, strict=True))
        row["status_a"], row["status_b"] = a.get("status"), b.get("status")
        for metric in COMPARED_METRICS:
            value_a, value_b = a.get(metric), b.get(metric)
            row[f"{metric}_a"], row[f"{metric}_b"] = value_a, value_b
            row[f"{metric}_ratio"] = value_b / value_a if value_a and value_b is not None else None
        fingerprints = a.get("environment_fingerprint"), b.get("environment_fingerprint")
        row["same_environment"] = (
            None if None in fingerprints else fingerprints[0] == fingerprints[1]
        )
        for column in COMPARED_COLUMNS:
            row[f"{column}_a"], row[f"{column}_b"] = a.get(column), b.get(column)
        row.update(_steady_verdict(a, b))
        row["differences"] = _differences(a, b) if a and b else {}
        compared.append(row)
    return compared


def _steady_estimate(row: dict[str, Any]) -> Estimate | None:
    """A result row's steady epoch time with its interval (as Record.steady); None unless ok."""
    value = row.get("steady_epoch_seconds")
    if row.get("status") != "ok" or value is None:
        return None
    return steady_estimate(
        value,
        row.get("steady_ci_low"),
        row.get("steady_ci_high"),
        row.get("steady_cv"),
        repeats=row.get("repeats") or 1,
        epochs=row.get("epochs_completed") or 0,
    )


def _steady_verdict(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    estimate_a, estimate_b = _steady_estimate(a), _steady_estimate(b)
    if estimate_a is None or estimate_b is None:
        interval, verdict = None, None
    else:
        interval = ratio_interval(estimate_b, estimate_a)
        verdict = VERDICTS[speed_verdict(estimate_b, estimate_a)]
    low, high = interval or (None, None)
    return {
        "steady_epoch_seconds_ratio_low": low,
        "steady_epoch_seconds_ratio_high": high,
        "verdict": verdict,
    }


def _differences(a: dict[str, Any], b: dict[str, Any]) -> dict[str, list[Any]]:
    """What differs between two results of one case; a value unknown on either side is skipped."""
    aspects_a, aspects_b = _aspects(a), _aspects(b)
    return {
        what: [aspects_a[what], aspects_b[what]]
        for what in aspects_a
        if None not in (aspects_a[what], aspects_b[what]) and aspects_a[what] != aspects_b[what]
    }


def _aspects(row: dict[str, Any]) -> dict[str, Any]:
    """What a ratio of two results assumes equal, read from one result (None: not known)."""
    environment = row.get("environment") or {}
    version = row.get("framework_version")
    return {
        BUDGET: row["epochs_completed"] if row["status"] == "ok" else None,
        "dataset": row.get("dataset_sha256"),
        "environment fingerprint": row.get("environment_fingerprint"),
        "cpu model": environment.get("cpu_model"),
        "gpu": (environment.get("gpu_name") or "none") if "gpu_name" in environment else None,
        "framework version": f"{row['framework']} {version}" if version else None,
        "threads": environment.get("threads"),
        "hostname": environment.get("hostname"),
        "repeats": row.get("repeats"),
    }


def _case(row: dict[str, Any]) -> tuple[str, str, str]:
    return row["framework"], row["mode"], row["device"]
