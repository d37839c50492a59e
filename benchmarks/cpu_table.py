"""Markdown table of a matrix run's records (the BENCHMARKS.md figures).

Usage:
  bench matrix --device cpu --epochs 30 --no-store --json-dir DIR
  python benchmarks/cpu_table.py DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.records import Record


def row(record: Record) -> str:
    steady = [e.seconds for e in record.epochs[1:]]
    evals = " / ".join(
        f"{m.test_mse:.3f}, {m.test_mae:.3f}" for m in record.eval if m.epoch in (10, 20, 30)
    )
    return (
        f"| {record.case.name} | {record.epochs[0].seconds:.3f} | "
        f"{record.steady_epoch_seconds:.4f} | {min(steady):.4f}-{max(steady):.4f} | "
        f"{(record.peak_rss_bytes or 0) / 2**20:.0f} | {evals} |"
    )


def main(directory: str) -> None:
    records = sorted((Record.read(p) for p in Path(directory).glob("*.json")), key=lambda r: r.case)
    print(
        "| case | epoch 1 s | steady s/epoch (median) | steady range | peak RSS MiB "
        "| test MSE, MAE at 10 / 20 / 30 |"
    )
    print("|---|---:|---:|---:|---:|---|")
    for record in records:
        if record.status == "ok":
            print(row(record))
        else:
            print(f"| {record.case.name} | {record.status}: {record.reason} | | | | |")


if __name__ == "__main__":
    main(sys.argv[1])
