"""Record real nightly-style noise on this machine (issue 16): short runs of a few CPU cases, each
a fresh process through bench.runner, round after round, in blocks that alternate between an
idle machine and a bounded background load (a busy loop pinned to another core,
benchmarks.contention.hog). Each row also says how busy the other cores were
(`neighbour_busy`), so the idle blocks' own disturbances show. Rows are appended to a CSV as they
finish, so a stopped recording keeps what it had and `--resume` carries on;
benchmarks/detector_peers.py `--real-noise` reads it.

    python -m benchmarks.noise_sample [--rounds 200] [--block 10] [--epochs 10] [--resume]
        [--cases torch/eager,tensorflow/function,jax/jit] [--out benchmarks/data/noise_sample.csv]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.conditions import CpuWatch, allowed_cores, cpu_case_cores
from bench.config import Case, RunSettings
from bench.records import Record
from bench.runner import run_case
from benchmarks.contention import hog

DEFAULT_OUT = Path(__file__).parent / "data" / "noise_sample.csv"
DEFAULT_CASES = "torch/eager,tensorflow/function,jax/jit"
CONDITIONS = ("idle", "load")  # load: a busy loop on another core than the case's
COLUMNS = (
    "round", "condition", "started_at", "framework", "mode", "epochs", "status", "steady_s",
    "steady_cv", "compile_s", "total_s", "peak_rss_mib", "others_share", "neighbour_busy",
    "load1", "noisy", "commit", "reference_s",
)  # fmt: skip


def condition_of(round_: int, block: int) -> str:
    """Blocks of `block` rounds, idle first, then loaded, and so on."""
    return CONDITIONS[(round_ // block) % len(CONDITIONS)]


def row_of(
    record: Record, round_: int, condition: str, commit: str, neighbour: dict[str, Any]
) -> dict[str, Any]:
    """One CSV row; `neighbour`: CpuWatch conditions of the cores the case did not run on."""
    load = record.conditions.get("load_before") or [None]
    rss = record.peak_rss_bytes
    return {
        "round": round_,
        "condition": condition,
        "started_at": record.started_at,
        "framework": record.case.framework,
        "mode": record.case.mode,
        "epochs": len(record.epochs),
        "status": record.status,
        "steady_s": _num(record.steady_epoch_seconds),
        "steady_cv": _num(record.steady_cv),
        "compile_s": _num(record.compile_seconds),
        "total_s": _num(record.total_seconds),
        "peak_rss_mib": "" if rss is None else f"{rss / 2**20:.1f}",
        "others_share": _num(record.conditions.get("others_share")),
        "neighbour_busy": _num(neighbour.get("others_share")),
        "load1": _num(load[0]),
        "noisy": record.noisy or "",
        "commit": commit,
        "reference_s": _num(record.reference_seconds),  # the host's speed (bench.calibration)
    }


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def parse_cases(text: str) -> list[Case]:
    cases = []
    for item in text.split(","):
        framework, _, mode = item.strip().partition("/")
        cases.append(Case(framework, mode, "cpu"))
    return cases


def recorded_rounds(path: Path) -> int:
    """How many rounds the file already holds (the next round's number); ValueError when its
    columns are not the ones this version writes."""
    if not path.exists():
        return 0
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is not None and reader.fieldnames != list(COLUMNS):
            raise ValueError(f"{path} has other columns than this version writes; start a new file")
        rounds = [int(row["round"]) for row in reader]
    return max(rounds) + 1 if rounds else 0


def _commit() -> str:
    found = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return found.stdout.strip() or "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.noise_sample", description=__doc__)
    parser.add_argument(
        "--rounds", type=int, default=200, help="rounds in all, each runs every case"
    )
    parser.add_argument("--block", type=int, default=10, help="rounds per idle or loaded block")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--cases", default=DEFAULT_CASES, help="framework/mode, comma-separated")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--resume", action="store_true", help="append to --out after its rounds")
    args = parser.parse_args(argv)
    cases = parse_cases(args.cases)
    case_core = cpu_case_cores(1)[0]
    others = sorted(allowed_cores() - {case_core})
    if not others:
        parser.error("needs two cores: one for the cases, one for the background load")
    if args.out.exists() and not args.resume:
        parser.error(f"{args.out} exists; pass --resume to add to it or remove it")
    try:
        first = recorded_rounds(args.out)
    except ValueError as exc:
        parser.error(str(exc))
    settings = RunSettings.from_env(epochs=args.epochs)
    commit = _commit()
    new_file = not args.out.exists() or args.out.stat().st_size == 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        if new_file:
            writer.writeheader()
        for round_ in range(first, args.rounds):
            condition = condition_of(round_, args.block)
            shift = round_ % len(cases)  # each case takes each place in the round in turn
            with hog(others[0] if condition == "load" else None):
                for case in cases[shift:] + cases[:shift]:
                    watch = CpuWatch(tuple(others), subtract_own=False)
                    watch.start()
                    record = run_case(case, settings, run_id=f"noise-{round_}")
                    writer.writerow(row_of(record, round_, condition, commit, watch.stop()[0]))
                    handle.flush()
            print(f"round {round_ + 1}/{args.rounds} ({condition}) done", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
