"""Markdown tables of a matrix run's records (the BENCHMARKS.md figures).

Usage:
  bench matrix --device cpu --epochs 30 [--repeats N] --no-store --json-dir DIR
  python -m benchmarks.cpu_table DIR                 # one row per case (its summary)
  python -m benchmarks.cpu_table DIR --repeats WALL  # what 1..N repeats buy: interval widths,
                                                     # and wall time from the run's WALL seconds
"x floor": each case's steady time over the median of the floors its records measured
(bench.arithmetic_floor, every CPU case before it trains), or over FLOOR:
  python -m benchmarks.floor --json FLOOR            # the floor alone, in the same session
  python -m benchmarks.cpu_table DIR --floor FLOOR
(FLOOR outside DIR: every *.json in DIR is read as a record.)

With repeats, a case's row is its summary over them (bench.repeats.summarize); the within-process
columns are the medians over repeats of each process's own interval half-width and CV.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.arithmetic_floor import FLOOR_KEY, floor_multiple
from bench.records import Record
from bench.repeats import summaries
from bench.uncertainty import repeats_interval
from benchmarks.floor import read_floor_seconds


def row(summary: Record, repeats: Sequence[Record], floor_s: float | None = None) -> str:
    evals = " / ".join(
        f"{m.test_mse:.3f}, {m.test_mae:.3f}" for m in summary.eval if m.epoch in (10, 20, 30)
    )
    first = statistics.median(r.epochs[0].seconds for r in repeats)
    within = _median([_half_width(r) for r in repeats])
    cv = _median([100 * r.steady_cv for r in repeats if r.steady_cv is not None])
    across = _half_width(summary) if len(repeats) > 1 else None
    steady = summary.steady_epoch_seconds or 0.0
    x_floor = f"{floor_multiple(steady, floor_s):.1f} | " if floor_s else ""
    return (
        f"| {summary.case.name} | {first:.3f} | {steady:.4f} | {x_floor}"
        f"{_pct(cv)} | {_pct(within)} | {len(repeats)} | {_pct(across)} | "
        f"{sum(1 for r in repeats if r.noisy)} | "
        f"{(summary.peak_rss_bytes or 0) / 2**20:.0f} | {evals} |"
    )


def case_table(records: Sequence[Record], *, floor_s: float | None = None) -> str:
    """One row per case; with `floor_s` (benchmarks.floor) also its steady time in floors."""
    x_floor = ["x floor"] if floor_s else []
    columns = [
        "case", "epoch 1 s", "steady s/epoch", *x_floor, "CV (one process)",
        "95% CI +- (one process)", "repeats", "95% CI +- (across repeats)", "noisy",
        "peak RSS MiB", "test MSE, MAE at 10 / 20 / 30",
    ]  # fmt: skip
    lines = [
        "| " + " | ".join(columns) + " |",
        "|---|" + "---:|" * (len(columns) - 2) + "---|",
    ]
    for summary in sorted(summaries(records), key=lambda r: r.case):
        mine = [r for r in records if r.case == summary.case]
        if summary.status == "ok":
            lines.append(row(summary, mine, floor_s))
        else:
            empty = " |" * (len(columns) - 2)
            lines.append(f"| {summary.case.name} | {summary.status}: {summary.reason} |{empty}")
    return "\n".join(lines)


def repeats_table(records: Sequence[Record], wall_seconds: float) -> str:
    """Interval half-width (median and worst case) and wall time for the first 1..N repeats."""
    cases = sorted({r.case for r in records if r.status == "ok"})
    most = max(r.repeat for r in records)
    per_repeat = wall_seconds / most
    lines = [
        "| repeats | wall time (matrix) | 95% CI +- median over cases | worst case |",
        "|---:|---:|---:|---:|",
    ]
    for count in range(1, most + 1):
        known = []
        for case in cases:
            used = [r for r in records if r.case == case and r.repeat <= count]
            if count == 1:  # one process: its own interval over epochs 2..N
                width = _half_width(used[0])
            else:
                width = repeats_interval([r.steady_epoch_seconds or 0 for r in used]).half_width_pct
            if width is not None:
                known.append(width)
        lines.append(
            f"| {count} | {count * per_repeat / 60:.1f} min | "
            f"{_pct(statistics.median(known) if known else None)} | "
            f"{_pct(max(known) if known else None)} |"
        )
    return "\n".join(lines)


def _half_width(record: Record) -> float | None:
    steady = record.steady
    return steady.half_width_pct if steady else None


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cpu_table")
    parser.add_argument("directory", type=Path)
    parser.add_argument(
        "--repeats", type=float, metavar="WALL", help="the run's wall seconds: repeats table"
    )
    parser.add_argument(
        "--floor",
        type=Path,
        metavar="JSON",
        help="the floor `python -m benchmarks.floor` wrote (default: the median of the floors "
        "the records measured)",
    )
    args = parser.parse_args(argv)
    records = [Record.read(p) for p in sorted(args.directory.glob("*.json"))]
    if not records:
        raise SystemExit(f"no records in {args.directory}")
    recorded = [r.environment.get(FLOOR_KEY) for r in records]
    floor_s = read_floor_seconds(args.floor) if args.floor else _median(recorded)
    if floor_s is not None:
        where = (
            args.floor
            or f"median of the floors {sum(v is not None for v in recorded)} records measured"
        )
        print(f"floor: {1e3 * floor_s:.2f} ms/epoch ({where})\n")
    print(case_table(records, floor_s=floor_s))
    if args.repeats:
        print()
        print(repeats_table(records, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
