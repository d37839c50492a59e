"""Findings are pure functions of records: small hand-made runs, exact sentences and numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.config import Case
from bench.measure import MIB
from bench.records import (
    Acknowledgement,
    EvalMetric,
    Flag,
    Record,
    RunInfo,
    with_acknowledgements,
)
from bench.reports.narrative import Speedup, findings, speedups
from bench.reports.snapshot import RunSnapshot
from bench.reports.workload import environment_summary
from tests.builders import make_record

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def record(
    framework: str,
    mode: str,
    steady: float | None,
    *,
    compile_s: float | None = 0.1,
    rss_mib: int = 500,
    mae: float | None = 0.38,
    status: str = "ok",
    device: str = "cpu",
    spread: float | None = 0.02,
) -> Record:
    """A record whose steady time has a 95% interval of +-`spread` (None: no interval)."""
    low = high = cv = None
    if steady is not None and spread is not None:
        low, high, cv = steady * (1 - spread), steady * (1 + spread), spread / 2
    return Record(
        run_id="run-1",
        case=Case(framework, mode, device),
        status=status,
        reason=None if status == "ok" else "no CUDA device",
        steady_epoch_seconds=steady,
        steady_ci_low=low,
        steady_ci_high=high,
        steady_cv=cv,
        compile_seconds=compile_s,
        peak_rss_bytes=rss_mib * MIB,
        eval=[EvalMetric(30, 0.3, mae)] if mae is not None else [],
    )


def snapshot(records: list[Record], flags: list[Flag] | None = None) -> RunSnapshot:
    return RunSnapshot(RunInfo("run-1", "scheduled", T0), records, flags=flags or [])


def texts(records: list[Record], topic: str) -> list[str]:
    return [f.text for f in findings(snapshot(records)) if f.topic == topic]


def test_speedup_is_eager_time_over_compiled_time_of_the_same_framework_and_device() -> None:
    runs = [
        record("tensorflow", "eager", 10.5),
        record("tensorflow", "function", 0.525),
        record("tensorflow", "xla", 0.5, device="gpu"),  # no gpu eager: no speedup
        record("torch", "compile", 0.4),  # no torch eager: no speedup
    ]
    (only,) = speedups(runs)
    assert only.case == Case("tensorflow", "function", "cpu")
    assert only.factor == pytest.approx(20.0)


def test_faster_slower_and_same_speed_sentences_cite_both_times() -> None:
    runs = [
        record("tensorflow", "eager", 10.5),
        record("tensorflow", "function", 0.525),
        record("torch", "eager", 0.52),
        record("torch", "compile-max-autotune", 0.65),
        record("torch", "compile", 0.50),
    ]
    speed = texts(runs, "speed")
    assert (
        "tf.function trains 20x faster than TensorFlow eager on cpu "
        "(steady epoch 0.5250 s vs 10.5000 s; 95% interval 19x-21x)." in speed
    )
    assert (
        "torch.compile max-autotune is slower than PyTorch eager on cpu for this model: "
        "1.25x the time per steady epoch (0.6500 s vs 0.5200 s; 95% interval 1.20x-1.30x)." in speed
    )
    assert (
        "No measurable difference between torch.compile and PyTorch eager on cpu (0.5000 s vs "
        "0.5200 s per steady epoch; the factor's 95% interval 1.00x-1.08x includes 1)." in speed
    )
    assert (
        "Fastest on cpu: torch.compile at 0.5000 s per steady epoch, 21x faster than the "
        "slowest, TensorFlow eager (10.5000 s)." in speed
    )
    assert (
        "In eager mode on cpu, PyTorch trains 20x faster than TensorFlow "
        "(0.5200 s vs 10.5000 s per steady epoch)." in speed
    )


def test_a_factor_is_claimed_only_when_its_interval_excludes_1() -> None:
    eager = record("torch", "eager", 0.50)
    runs = [
        eager,
        record("torch", "compile", 0.49),  # 1.02x, interval 0.98x-1.06x: holds 1
        record("torch", "compile-max-autotune", 0.40),  # 1.25x, interval 1.20x-1.30x
    ]
    same, faster = speedups(runs)
    assert same.claim == "same" and same.interval is not None
    assert same.interval[0] < 1 < same.interval[1]
    assert faster.claim == "faster" and faster.interval is not None and faster.interval[0] > 1
    speed = texts(runs, "speed")
    assert (
        "No measurable difference between torch.compile and PyTorch eager on cpu (0.4900 s vs "
        "0.5000 s per steady epoch; the factor's 95% interval 0.98x-1.06x includes 1)." in speed
    )
    assert (
        "torch.compile max-autotune trains 1.25x faster than PyTorch eager on cpu (steady epoch "
        "0.4000 s vs 0.5000 s; 95% interval 1.20x-1.30x)." in speed
    )
    assert not any("torch.compile trains" in t or "torch.compile is slower" in t for t in speed)


def test_without_intervals_nothing_is_claimed_and_the_caveat_says_why() -> None:
    runs = [
        make_record(case=("torch", "eager", "cpu"), epochs=2, steady=0.5),
        make_record(case=("torch", "compile", "cpu"), epochs=2, steady=0.25),
    ]
    (s,) = speedups(runs)
    assert (s.claim, s.interval) == ("unknown", None)
    assert texts(runs, "speed")[0] == (
        "torch.compile measured 0.2500 s vs 0.5000 s per steady epoch against PyTorch eager on "
        "cpu: too few samples to say which is faster."
    )
    assert texts(runs, "compile") == [
        "torch.compile on cpu spends 0.5000 s compiling and warming up; too few samples to tell "
        "whether it pays back."
    ]
    (caveat,) = texts(runs, "caveat")
    assert caveat.startswith("2 case(s) measured 1 steady epoch(s) in a single process")
    assert "Run at least 7 epochs, or repeats, to compare them." in caveat


def test_no_caveat_when_every_time_has_an_interval() -> None:
    runs = [make_record(case=("torch", "eager", "cpu"), epochs=30, steady=0.5)]
    assert runs[0].steady is not None and runs[0].steady.has_interval
    assert texts(runs, "caveat") == []


def test_noisy_cases_are_named_with_their_reason_in_a_caveat() -> None:
    quiet = make_record(case=("torch", "eager", "cpu"), epochs=30, steady=0.5)
    noisy = make_record(case=("torch", "compile", "cpu"), epochs=30, steady=0.4)
    noisy.noisy = "other processes used 40% of core(s) 1 (2.00 s)"
    (text,) = texts([quiet, noisy], "caveat")
    assert text.startswith("1 case(s) measured under contention")
    assert "torch-compile-cpu (other processes used 40% of core(s) 1 (2.00 s))" in text
    assert texts([quiet], "caveat") == []


def test_compile_time_break_even() -> None:
    faster = Speedup(Case("torch", "compile", "cpu"), 0.5, 0.4, compile_seconds=30.0)
    assert faster.break_even_epochs == 300
    slower = Speedup(Case("torch", "compile", "cpu"), 0.5, 0.6, compile_seconds=30.0)
    assert slower.break_even_epochs is None
    runs = [record("torch", "eager", 0.5), record("torch", "compile", 0.4, compile_s=30.0)]
    (text,) = texts(runs, "compile")
    assert text == (
        "torch.compile on cpu spends 30.0000 s compiling and warming up (PyTorch eager: "
        "0.1000 s); saving 0.1000 s per epoch, it breaks even after 299 epoch(s)."
    )


def test_break_even_counts_the_baselines_own_compile() -> None:
    """JAX's baseline (the jit step) compiles longer than its scan epoch: ahead from epoch 1."""
    runs = [
        record("jax", "jit", 0.0354, compile_s=0.67),
        record("jax", "scan", 0.0023, compile_s=0.49),
    ]
    (text,) = texts(runs, "compile")
    assert text.endswith(
        "(JAX jit step: 0.6700 s); saving 0.0331 s per epoch, it breaks even after 1 epoch(s)."
    )


def test_memory_and_accuracy_findings_name_the_extremes() -> None:
    runs = [
        record("torch", "eager", 0.5, rss_mib=400, mae=0.3750),
        record("tensorflow", "xla", 0.1, rss_mib=1200, mae=0.3790),
    ]
    memory = texts(runs, "memory")
    assert memory[0] == (
        "Peak memory ranges from 400.0 MiB (PyTorch eager on cpu) to 1200.0 MiB "
        "(tf.function with XLA on cpu)."
    )
    assert "800.0 MiB more than the leanest" in memory[1]
    (accuracy,) = texts(runs, "accuracy")
    assert accuracy == (
        "After 30 epochs test MAE ranges from 0.3750 (PyTorch eager on cpu) to 0.3790 "
        "(tf.function with XLA on cpu): a spread of 0.0040 across 2 cases."
    )


def test_skipped_and_failed_cases_are_reported_with_their_reason() -> None:
    runs = [record("torch", "eager", None, status="skipped", device="gpu", mae=None)]
    assert texts(runs, "status") == [
        "No case finished ok: there is nothing to compare.",
        "1 case(s) skipped: torch-eager-gpu (no CUDA device).",
    ]
    assert texts(runs, "speed") == []


def test_a_lone_finished_case_is_reported_with_what_it_measured() -> None:
    """The comparisons need two cases; one finished case is still a finding, not silence."""
    runs = [
        record("torch", "eager", 0.3, compile_s=0.2, rss_mib=430),
        record("torch", "eager", None, status="skipped", device="gpu", mae=None),
    ]
    assert texts(runs, "status") == [
        "One case finished, PyTorch eager on cpu: 0.3000 s per steady epoch, "
        "0.2000 s of compile and warm-up, peak RSS 430.0 MiB, test MAE 0.3800 after 30 "
        "epoch(s). No other case finished, so nothing is compared.",
        "1 case(s) skipped: torch-eager-gpu (no CUDA device).",
    ]


def test_skipped_cases_are_grouped_by_reason() -> None:
    runs = [
        record("torch", "eager", 0.5),
        record("torch", "eager", None, status="skipped", device="gpu", mae=None),
        record("jax", "jit", None, status="skipped", device="gpu", mae=None),
    ]
    assert texts(runs, "status")[-1] == (
        "2 case(s) skipped: torch-eager-gpu, jax-jit-gpu (no CUDA device)."
    )


def flag(
    created: datetime, metric: str = "steady_epoch_seconds", label: str = "regression"
) -> Flag:
    return Flag(
        run_id="run-1",
        case=Case("torch", "compile", "cpu"),
        metric=metric,
        label=label,
        detector_version="v1",
        value=0.6,
        baseline_value=0.45,
        change_pct=33.3,
        z_score=8.0,
        created_at=created,
    )


def ack(created: datetime, metric: str = "steady_epoch_seconds") -> Acknowledgement:
    return Acknowledgement(Case("torch", "compile", "cpu"), metric, "run-1", "accepted", created)


def test_an_acknowledgement_covers_earlier_flags_of_its_case_and_metric_only() -> None:
    early, late = flag(T0), flag(T0 + timedelta(days=2))
    other_metric = flag(T0, metric="peak_rss_bytes")
    marked = with_acknowledgements([early, late, other_metric], [ack(T0 + timedelta(days=1))])
    assert [f.is_open for f in marked] == [False, True, True]
    assert not flag(T0, label="improvement").is_open


def test_flags_of_the_run_are_a_finding() -> None:
    (text,) = [f.text for f in findings(snapshot([], flags=[flag(T0)])) if f.topic == "regressions"]
    assert text == (
        "1 flag(s) on this run: torch-compile-cpu steady epoch (s) regression 0.6000 vs "
        "baseline 0.4500 (+33.3%)."
    )


def test_environment_summary_lists_values_that_differ_by_case() -> None:
    a, b = record("torch", "eager", 0.5), record("tensorflow", "eager", 10.0)
    a.environment = {"python": "3.11.7", "framework": "torch", "framework_version": "2.13.0"}
    b.environment = {"python": "3.11.7", "framework": "tensorflow", "framework_version": "2.21.0"}
    assert environment_summary([a, b]) == [
        ("python", "3.11.7"),
        ("frameworks", "tensorflow 2.21.0, torch 2.13.0"),
    ]
