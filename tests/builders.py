"""Result records built in code (no training), for every test that needs one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.config import EVAL_BUDGETS, Case
from bench.measure import MIB
from bench.records import EpochMetric, EvalMetric, Record

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)  # start of the first nightly run
CASE = ("torch", "eager", "cpu")
DATASET_SHA256 = "d" * 64


def nightly(n: int) -> datetime:
    """Start time of the n-th nightly run."""
    return T0 + timedelta(days=n)


def machine_environment(framework: str = "torch") -> dict[str, Any]:
    """What measure.py captures, for a fixed test machine (one fingerprint per framework)."""
    return {
        "python": "3.11.7",
        "cpu_model": "Test CPU",
        "cpu_count": 2,
        "framework": framework,
        "framework_version": "2.13.0",
        "threads": {"torch": 1, "omp": "1"},
        "gpu_name": None,
        "git_commit": "abc1234",
        "bench_version": "0.1.0",
    }


def make_record(
    run_id: str = "run-1",
    case: Case | tuple[str, str, str] = CASE,
    *,
    status: str = "ok",
    reason: str | None = None,
    trigger: str = "cli",
    started_at: datetime = T0,
    epochs: int = 30,
    steady: float | None = 0.5,
    epoch_seconds: Sequence[float] | None = None,
    train_mae: Sequence[float] | None = None,
    compile_seconds: float | None = None,
    total_seconds: float | None = None,
    eval_metrics: Sequence[EvalMetric] | None = None,
    peak_rss_bytes: int | None = 512 * MIB,
    environment: dict[str, Any] | None = None,
    dataset_sha256: str | None = DATASET_SHA256,
) -> Record:
    """A complete, plausible record; a test overrides only what it is about.

    Epoch times are `epoch_seconds`, else `epochs` epochs of `steady` s with a first epoch 3x as
    long; steady and compile time derive from them as in training, total time is their sum.
    With `epochs=0` there are no epoch rows and `steady`, `compile_seconds` and `total_seconds`
    are stored as given. Train MAE defaults to 1/epoch; evaluations to one per budget reached.
    A record that is not ok gets the reason "<status> on purpose" unless `reason` is given.
    """
    case = case if isinstance(case, Case) else Case(*case)
    if epoch_seconds is None:
        epoch_seconds = [steady * (3.0 if e == 1 else 1.0) for e in range(1, epochs + 1)]
    if train_mae is None:
        train_mae = [1.0 / e for e in range(1, len(epoch_seconds) + 1)]
    if eval_metrics is None:
        eval_metrics = [
            EvalMetric(epoch=b, test_mse=0.5 - b / 100, test_mae=0.5 - b / 200)
            for b in EVAL_BUDGETS
            if b <= len(epoch_seconds)
        ]
    record = Record(
        run_id=run_id,
        case=case,
        trigger=trigger,
        started_at=started_at.isoformat(),
        status=status,
        reason=reason if reason is not None or status == "ok" else f"{status} on purpose",
        epochs=[
            EpochMetric(epoch=e, seconds=s, train_mae=m)
            for e, (s, m) in enumerate(zip(epoch_seconds, train_mae, strict=True), start=1)
        ],
        peak_rss_bytes=peak_rss_bytes,
        eval=list(eval_metrics),
        dataset_sha256=dataset_sha256,
        environment=environment if environment is not None else machine_environment(case.framework),
    )
    if record.epochs:
        record.finalize_timing()
        record.total_seconds = sum(epoch_seconds)
    else:
        record.steady_epoch_seconds = steady
    if compile_seconds is not None:
        record.compile_seconds = compile_seconds
    if total_seconds is not None:
        record.total_seconds = total_seconds
    return record


def measured_conditions(
    cores: Sequence[int] = (1,),
    *,
    others_share: float = 0.01,
    steal_share: float = 0.0,
    load_before: Sequence[float] = (0.12, 0.30, 0.25),
    load_after: Sequence[float] = (1.02, 0.55, 0.33),
    governor: str | None = "performance",
    window_seconds: float = 20.0,
) -> dict[str, Any]:
    """What bench.conditions.CpuWatch.stop records for a case, plus the reference's details."""
    capacity = window_seconds * len(cores)
    return {
        "cores": list(cores),
        "load_before": list(load_before),
        "load_after": list(load_after),
        "governor": governor,
        "window_seconds": window_seconds,
        "own_cpu_seconds": round(capacity * 0.98, 3),
        "others_cpu_seconds": round(capacity * others_share, 3),
        "others_share": others_share,
        "steal_share": steal_share,
        "reference": {"gemm_seconds": 0.02, "gemm_gflops": 125.0, "python_loop_seconds": 0.025},
    }
