"""The bench_nightly DAG's task bodies: one plain function per task, no Airflow in here.

Each function is a transaction against the warehouse keyed by the DAG run id, so a retried or
cleared task replaces its rows instead of adding more. Heavy modules (frameworks, Great
Expectations, SQLAlchemy models) are imported inside the functions: the DAG file imports this
module at parse time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bench.config import Case, RunSettings, all_cases

if TYPE_CHECKING:
    from bench.records import Record

__all__ = [
    "CaseFailed",
    "DatasetInvalid",
    "NotStored",
    "RunFailed",
    "judge_run",
    "pool_for",
    "plan_cases",
    "queue_for",
    "summarize_run",
    "train_and_store",
    "trigger_for",
    "validate_and_record",
]

log = logging.getLogger(__name__)


class DatasetInvalid(RuntimeError):
    """The dataset failed validation; nothing may be trained on it."""


class CaseFailed(RuntimeError):
    """A case ended `failed`; its record is already stored, a retry replaces it."""


class NotStored(RuntimeError):
    """The warehouse did not take a trained record; the message says why and where it is kept."""


class RunFailed(RuntimeError):
    """The run is red (bench.analysis.verdict): the message gives the reasons."""


def pool_for(device: str) -> str:
    """The Airflow pool that bounds how many `device` cases run at once (see pools.json)."""
    return f"bench_{device}"


def queue_for(device: str) -> str:
    """The Celery queue whose workers have `device` (a `gpu` worker has the CUDA builds)."""
    return device


def trigger_for(run_type: str) -> str:
    """The warehouse trigger of a DAG run type: the nightly schedule, or a person."""
    return "scheduled" if run_type == "scheduled" else "manual"


def validate_and_record(
    run_id: str,
    *,
    trigger: str,
    started_at: datetime | str | None = None,
    note: str | None = None,
    data_home: str | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """Register the run (with its note), validate the dataset, store the outcome; DatasetInvalid
    if it failed."""
    from bench.data.validation import format_report, validate_dataset
    from bench.records import check_run_id
    from bench.warehouse import ensure_run, store_validation

    check_run_id(run_id)
    ensure_run(run_id, trigger=trigger, started_at=started_at, note=note, url=url)
    if note:
        log.info("run %s note: %s", run_id, note)
    report = validate_dataset(data_home=data_home)
    store_validation(run_id, report, url=url)
    text = format_report(report)
    if not report.success:
        raise DatasetInvalid(f"dataset validation failed, no case will be trained:\n{text}")
    log.info("%s", text)
    return {
        "run_id": run_id,
        "success": report.success,
        "dataset_sha256": report.dataset_sha256,
        "evaluated_expectations": report.statistics.get("evaluated_expectations"),
    }


def plan_cases(
    device: str,
    *,
    frameworks: Iterable[str] | None = None,
    modes: Iterable[str] | None = None,
    devices: Iterable[str] | None = None,
    repeats: int = 1,
) -> list[dict[str, Any]]:
    """The selected cases on `device`, each `repeats` times in interleaved order (round robin,
    rotated each repeat; bench.repeats), as plain dicts with `name`, `label`, `repeat` and
    `repeats` (empty if none selected). The pool runs them in this order.

    Raises ValueError naming the choices when the selection is unknown or selects nothing.
    """
    from bench.repeats import interleaved

    cases = [case for case in _select(frameworks, modes, devices) if case.device == device]
    log.info(
        "%d %s case(s) x %d repeat(s): %s",
        len(cases), device, repeats, ", ".join(c.name for c in cases) or "none",
    )  # fmt: skip
    return [
        {
            **case.as_dict(),
            "name": case.name,
            "label": case.name if repeats == 1 else f"{case.name} #{repeat}",
            "repeat": repeat,
            "repeats": repeats,
        }
        for case, repeat in interleaved(cases, repeats)
    ]


def train_and_store(
    case: Mapping[str, Any],
    *,
    run_id: str,
    trigger: str,
    epochs: int,
    data_home: str | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """Train one repeat of a case in its own process, upsert it and the case's summary; raise
    CaseFailed if it failed, NotStored (the record kept in the spool) if the warehouse refused it.

    Returns a small summary for XCom. A skipped case (e.g. no GPU on this worker) is a success.
    """
    from bench.data.validation import DATA_VALIDATION_KEY
    from bench.records import check_run_id
    from bench.runner import run_case

    check_run_id(run_id)  # before training: a result that cannot be stored is lost work
    selected = Case(case["framework"], case["mode"], case["device"])
    settings = RunSettings.from_env(epochs=epochs, data_home=data_home)

    def on_epoch(epoch: int, seconds: float, train_mae: float) -> None:
        log.info(
            "%s epoch %d/%d: %.4f s, train MAE %.4f",
            selected.name, epoch, settings.epochs, seconds, train_mae,
        )  # fmt: skip

    repeat, repeats = int(case.get("repeat", 1)), int(case.get("repeats", 1))
    record = run_case(
        selected,
        settings,
        run_id=run_id,
        trigger=trigger,
        on_epoch=on_epoch,
        repeat=repeat,
        repeats=repeats,
    )
    # The DAG trains only after its validate task passed (the gate in bench_nightly).
    record.environment[DATA_VALIDATION_KEY] = "passed"
    _store_or_keep(record, url=url, trigger=trigger)
    summary = {
        "case": selected.name,
        "repeat": repeat,
        "repeats": repeats,
        "status": record.status,
        "noisy": record.noisy,
        "reason": record.reason,
        "epochs_completed": len(record.epochs),
        "steady_epoch_seconds": record.steady_epoch_seconds,
        "hostname": record.environment.get("hostname"),
        "cores": record.environment.get("cores"),
    }
    log.info(
        "%s repeat %d/%d: %s%s",
        selected.name, repeat, repeats, record.status,
        f" ({record.reason})" if record.reason else "",
    )  # fmt: skip
    if record.noisy:
        log.warning("%s repeat %d is noisy: %s", selected.name, repeat, record.noisy)
    if record.status == "failed":
        raise CaseFailed(
            f"{selected.name} failed: {record.reason}; its result is stored and a retry replaces it"
        )
    return summary


def _store_or_keep(record: Record, *, url: str | None, trigger: str) -> None:
    """Store the record; on any failure keep it (the spool, else this task's log) and raise
    NotStored, one line saying why and where it is kept."""
    from bench.warehouse import spool_dir, spool_record
    from bench.warehouse.store import try_store

    reason = try_store(record, url=url, trigger=trigger)
    if reason is None:
        return
    label = f"{record.case.name} repeat {record.repeat}/{record.repeats}"
    try:
        path = spool_record(record)
        where = f"kept in {path}; load it later with `bench ingest {path.parent}`"
    except OSError as exc:
        log.error("record of %s, kept only here: %s", label, record.to_json())  # last resort
        where = (
            f"the spool {spool_dir()} cannot be written either ({exc.strerror or exc}); "
            "the record's JSON is in this task's log"
        )
    raise NotStored(f"{label} not stored: {reason}; {where}")


def summarize_run(
    run_id: str,
    *,
    trigger: str,
    frameworks: Iterable[str] | None = None,
    modes: Iterable[str] | None = None,
    devices: Iterable[str] | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """Close the run and report its failed, skipped and missing cases (never raises for them).

    The selection is the run's (as for plan_cases); a selected case with no stored result is
    `missing`: validation failed, or its task died before storing.
    """
    from bench.warehouse import ensure_run, finish_run, results_for_run

    expected = [case.name for case in _select(frameworks, modes, devices)]
    ensure_run(run_id, trigger=trigger, url=url)
    finish_run(run_id, url=url)
    rows = results_for_run(run_id, url=url)
    by_status: dict[str, list[dict[str, Any]]] = {"ok": [], "skipped": [], "failed": []}
    for row in rows:
        name = Case(row["framework"], row["mode"], row["device"]).name
        by_status[row["status"]].append({"case": name, "reason": row["reason"]})
    stored = {entry["case"] for entries in by_status.values() for entry in entries}
    missing = sorted(set(expected) - stored)
    log.info(
        "run %s: %d ok, %d skipped, %d failed, %d missing",
        run_id, len(by_status["ok"]), len(by_status["skipped"]), len(by_status["failed"]),
        len(missing),
    )  # fmt: skip
    for status in ("failed", "skipped"):
        for entry in by_status[status]:
            log.warning("%s %s: %s", status, entry["case"], entry["reason"])
    for name in missing:
        log.warning("missing %s: no result stored (validation failed or the task died)", name)
    return {
        "run_id": run_id,
        "ok": [entry["case"] for entry in by_status["ok"]],
        "skipped": by_status["skipped"],
        "failed": by_status["failed"],
        "missing": missing,
    }


def judge_run(
    run_id: str,
    *,
    trigger: str,
    frameworks: Iterable[str] | None = None,
    modes: Iterable[str] | None = None,
    devices: Iterable[str] | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """The run's last step: close it, judge it against history, write its report, alert.

    It decides the run's state (the DAG's final task fails the run when it fails): RunFailed
    when the run's verdict is red, the same verdict `bench detect` exits 2 on: a regression,
    or a planned case that failed or has no result (validation failed, a task died).
    Everything is stored first, so a red run still has flags and report.
    """
    from bench.analysis import alert, detect_regressions
    from bench.reports import report_dir, write_report
    from bench.warehouse import NotFound

    summary = summarize_run(
        run_id, trigger=trigger, frameworks=frameworks, modes=modes, devices=devices, url=url
    )
    planned = [case.as_dict() for case in _select(frameworks, modes, devices)]
    result = detect_regressions(run_id, url=url, expected_cases=planned)
    try:
        index = write_report(run_id, report_dir(run_id), url=url)
        summary["report"] = str(index)
        log.info("report of run %s: %s", run_id, index)
    except NotFound as exc:  # nothing to report, e.g. validation failed before training
        log.warning("no report for run %s: %s", run_id, exc)
    alert(result)
    summary["detection"] = result.to_dict()
    verdict = result.verdict
    if verdict.red:
        raise RunFailed("\n  ".join([verdict.headline(), *verdict.reasons()]))
    return summary


def _select(
    frameworks: Iterable[str] | None, modes: Iterable[str] | None, devices: Iterable[str] | None
) -> list[Case]:
    """The matrix filtered by a selection; an empty or absent filter selects everything."""
    cases = all_cases(
        frameworks=list(frameworks or ()) or None,
        modes=list(modes or ()) or None,
        devices=list(devices or ()) or None,
    )
    if not cases:
        raise ValueError("no case matches the selected frameworks, modes and devices")
    return cases
