"""What `bench run` and `bench matrix` print: per-epoch table, summary, comparison table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.cli.output import format_table
from bench.measure import MIB
from bench.records import Record
from bench.reports import formatting as fmt
from bench.uncertainty import MIN_STEADY_EPOCHS


def print_epoch_table(record: Record) -> None:
    rows = [
        {"epoch": e.epoch, "seconds": e.seconds, "train_mae": e.train_mae} for e in record.epochs
    ]
    if rows:
        print(format_table(rows, ["epoch", "seconds", "train_mae"]))


def print_summary(record: Record) -> None:
    print(f"\n{record.case.name}  run {record.run_id}  status {record.status}")
    if record.reason:
        print(f"  reason: {record.reason}")
    if record.status != "ok":
        return
    lines = [
        ("epoch 1 (with compile/warm-up)", _s(record.epochs[0].seconds)),
        ("steady epoch (median of 2..N)", _s(record.steady_epoch_seconds)),
        ("  95% interval (order statistics)", _interval(record)),
        ("  coefficient of variation", fmt.cv(record.steady_cv)),
        ("compile / warm-up beyond steady", _s(record.compile_seconds)),
        ("total training", _s(record.total_seconds)),
        ("peak RSS", _mib(record.peak_rss_bytes)),
        ("peak device memory", _mib(record.peak_device_bytes)),
    ]
    lines += [
        (f"test after epoch {m.epoch}", f"MSE {m.test_mse:.4f}  MAE {m.test_mae:.4f}")
        for m in record.eval
    ]
    lines += [
        ("cores", ",".join(str(c) for c in record.environment.get("cores") or []) or "-"),
        ("reference workload", _s(record.reference_seconds)),
        ("steady / reference", fmt.ratio(record.vs_reference)),
        ("conditions", record.noisy and f"noisy: {record.noisy}" or "no contention seen"),
    ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"  {key.ljust(width)}  {value}")
    if record.steady_epochs < MIN_STEADY_EPOCHS:
        print(
            f"  caveat: {record.steady_epochs} steady epoch(s) from one process; use at least "
            f"{MIN_STEADY_EPOCHS + 2} epochs for an interval, or `bench matrix --repeats`"
        )


def comparison_rows(records: Sequence[Record]) -> list[dict[str, Any]]:
    """One row per case; speedup = the baseline's steady time / this case's (the framework's
    eager mode, JAX's jit step; same device)."""
    from bench.reports.narrative import speedups  # the report's definition, imported when used

    found = {s.case: s for s in speedups(records)}
    rows = []
    for r in records:
        final = r.final_eval
        steady = r.steady_epoch_seconds
        is_eager = r.case == r.case.baseline and r.status == "ok" and steady
        speedup = found.get(r.case)
        rows.append(
            {
                "case": r.case.name,
                "status": r.status,
                "epochs": len(r.epochs),
                "steady_s": steady,
                "ci95_s": fmt.interval(r.steady_ci_low, r.steady_ci_high),
                "cv": fmt.cv(r.steady_cv),
                "repeats": r.repeats,
                "compile_s": r.compile_seconds,
                "speedup": 1.0 if is_eager else (speedup.factor if speedup else None),
                "speedup_ci95": _speedup_interval(speedup) if speedup else None,
                "peak_rss_mib": r.peak_rss_bytes / MIB if r.peak_rss_bytes else None,
                "peak_dev_mib": r.peak_device_bytes / MIB if r.peak_device_bytes else None,
                "test_mse": final.test_mse if final else None,
                "test_mae": final.test_mae if final else None,
                "at_epoch": final.epoch if final else None,
                "vs_ref": r.vs_reference,
                "noisy": r.noisy,
                "reason": r.reason,
            }
        )
    return rows


COMPARISON_COLUMNS = [
    "case", "status", "epochs", "steady_s", "ci95_s", "cv", "repeats", "compile_s", "speedup",
    "speedup_ci95", "peak_rss_mib", "peak_dev_mib", "test_mse", "test_mae", "at_epoch",
    "vs_ref", "noisy", "reason",
]  # fmt: skip


def print_comparison(records: Sequence[Record]) -> None:
    print(format_table(comparison_rows(records), COMPARISON_COLUMNS))
    print(
        "speedup: the baseline's steady time (eager; JAX: jit) / the case's; speedup_ci95 is "
        "its 95% interval, "
        "'no measurable difference' when that interval includes 1. vs_ref: steady time / "
        "reference workload time (bench.calibration)."
    )
    from bench.reports.narrative import caveat

    noted = caveat([r for r in records if r.status == "ok"])
    if noted:
        print(f"caveat: {noted.text}")


def _speedup_interval(speedup: Any) -> str:
    if speedup.claim in ("same", "unknown"):
        return fmt.claim(speedup.claim)
    return fmt.ratio_interval(speedup.interval)


def _interval(record: Record) -> str:
    if record.steady_ci_low is None:
        return f"- (needs at least {MIN_STEADY_EPOCHS + 1} steady epochs)"
    return f"{fmt.interval(record.steady_ci_low, record.steady_ci_high)} s"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f} s"


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / MIB:.1f} MiB"
