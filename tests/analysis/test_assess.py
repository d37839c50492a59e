"""Run-level findings without a database: status of the matrix, accuracy vs eager, flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.analysis import DetectionConfig, assess_run
from bench.analysis.assess import accuracy_flags, status_flags
from bench.config import Case
from bench.records import CaseResult

from .conftest import wobble

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EAGER = Case("torch", "eager", "cpu")


def result(
    run: int,
    case: Case = EAGER,
    *,
    status: str = "ok",
    steady: float = 0.5,
    mae: float = 0.4,
    scheduled: bool = True,
) -> CaseResult:
    metrics = {"steady_epoch_seconds": steady, "test_mae_30": mae} if status == "ok" else {}
    return CaseResult(
        f"r{run}", case, status=status, started_at=T0 + timedelta(days=run),
        scheduled=scheduled, fingerprint="fp", metrics=metrics,
    )  # fmt: skip


def test_failed_missing_and_newly_skipped_cases_are_flagged() -> None:
    results = [
        result(9, Case("torch", "eager", "cpu"), status="failed"),
        result(9, Case("torch", "eager", "gpu"), status="skipped"),  # skipped before too: quiet
        result(9, Case("torch", "compile", "gpu"), status="skipped"),  # ran before: newly skipped
    ]
    planned = {Case("torch", "eager", "cpu"), Case("torch", "eager", "gpu")}
    planned.add(Case("tensorflow", "xla", "cpu"))
    previous = {Case("torch", "eager", "gpu"): "skipped", Case("torch", "compile", "gpu"): "ok"}
    flags = status_flags("r9", results, planned=planned, previous_status=previous)
    found = {(f.case.name, f.label) for f in flags}
    assert found == {
        ("torch-eager-cpu", "failed"),
        ("torch-compile-gpu", "skipped"),
        ("tensorflow-xla-cpu", "missing"),
    }
    assert {f.metric for f in flags} == {"status"}


def test_compiled_mode_worse_than_eager_is_a_departure() -> None:
    results = [
        result(1, Case("torch", "eager", "cpu"), mae=0.40),
        result(1, Case("torch", "compile", "cpu"), mae=0.45),  # 12.5% worse
        result(1, Case("torch", "compile-max-autotune", "cpu"), mae=0.401),  # within tolerance
        result(1, Case("tensorflow", "xla", "cpu"), mae=0.9),  # no eager of its framework
    ]
    flags = accuracy_flags(results, DetectionConfig())
    assert [(f.case.mode, f.metric, f.label) for f in flags] == [
        ("compile", "accuracy_vs_eager:test_mae@30", "departure")
    ]
    assert round(flags[0].change_pct or 0, 1) == 12.5 and flags[0].baseline_value == 0.40


def test_assess_run_judges_each_metric_of_each_ok_case() -> None:
    case = Case("torch", "eager", "cpu")
    history = [result(i, case, steady=wobble(i, 0.5)) for i in range(30)]
    slow = [result(i, case, steady=wobble(i, 0.6)) for i in range(30, 32)]
    judged = result(32, case, steady=0.6)
    flags, count = assess_run("r32", [judged], {case: history + slow}, DetectionConfig())
    assert count == 2  # steady_epoch_seconds and test_mae_30
    [flag] = flags
    assert (flag.metric, flag.label, flag.change_point_run_id) == (
        "steady_epoch_seconds", "regression", "r30",
    )  # fmt: skip
    assert flag.environment_fingerprint == "fp" and flag.detector_version
    assert round(flag.change_pct or 0) == 20
