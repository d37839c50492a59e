"""What `bench run` and `bench matrix` print: per-epoch table, summary, comparison table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.cli.output import format_table
from bench.measure import MIB
from bench.records import Record


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
        ("compile / warm-up beyond steady", _s(record.compile_seconds)),
        ("total training", _s(record.total_seconds)),
        ("peak RSS", _mib(record.peak_rss_bytes)),
        ("peak device memory", _mib(record.peak_device_bytes)),
    ]
    lines += [
        (f"test after epoch {m.epoch}", f"MSE {m.test_mse:.4f}  MAE {m.test_mae:.4f}")
        for m in record.eval
    ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"  {key.ljust(width)}  {value}")


def comparison_rows(records: Sequence[Record]) -> list[dict[str, Any]]:
    """One row per case; speedup = eager steady time / this case's, same framework and device."""
    from bench.reports.narrative import speedups  # the report's definition, imported when used

    factors = {s.case: s.factor for s in speedups(records)}
    rows = []
    for r in records:
        final = r.eval[-1] if r.eval else None
        steady = r.steady_epoch_seconds
        is_eager = r.case.mode == "eager" and r.status == "ok" and steady
        rows.append(
            {
                "case": r.case.name,
                "status": r.status,
                "steady_s": steady,
                "compile_s": r.compile_seconds,
                "speedup": 1.0 if is_eager else factors.get(r.case),
                "peak_rss_mib": r.peak_rss_bytes / MIB if r.peak_rss_bytes else None,
                "peak_dev_mib": r.peak_device_bytes / MIB if r.peak_device_bytes else None,
                "test_mse": final.test_mse if final else None,
                "test_mae": final.test_mae if final else None,
                "at_epoch": final.epoch if final else None,
                "reason": r.reason,
            }
        )
    return rows


COMPARISON_COLUMNS = [
    "case", "status", "steady_s", "compile_s", "speedup", "peak_rss_mib", "peak_dev_mib",
    "test_mse", "test_mae", "at_epoch", "reason",
]  # fmt: skip


def print_comparison(records: Sequence[Record]) -> None:
    print(format_table(comparison_rows(records), COMPARISON_COLUMNS))


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f} s"


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / MIB:.1f} MiB"
