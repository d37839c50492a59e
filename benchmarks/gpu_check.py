"""The GPU check: every torch GPU mode in its own process, asserted, in one call on a lent GPU.

    bash scripts/gpu_check.sh --prepare   # here: build .gpu_check/ (it travels), print the call
    bash scripts/gpu_check.sh             # on the GPU machine: records + summary.md in $OUT
    bash scripts/gpu_check.sh --dry-run   # here: the same end to end with the device forced to cpu

This module runs the steps one after another, each in its own process (bench.runner.run_case),
and writes the records and summary.md, rewritten after every step so that a run cut short still
brings back what it measured. gpu_check_plan says what runs and what is asserted,
gpu_check_prepare builds the folder that travels. Nothing here imports torch, SQLAlchemy or
Airflow (the GPU machine has no SQLAlchemy or Airflow).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import RunSettings
from bench.measure import MIB
from bench.records import Record
from bench.runner import run_case
from bench.serialize import write_atomic
from benchmarks.gpu_check_plan import (
    DRY_RUN_LIMITS,
    EPOCHS,
    GPU_LIMITS,
    NOT_CHECKABLE,
    Assertion,
    Step,
    assess,
    plan,
)
from benchmarks.gpu_check_prepare import (
    DATA_DIR,
    DATA_FILE,
    MANIFEST,
    REPO,
    TRAVEL_DIR,
    PrepareError,
    default_data_home,
    prepare,
)

SUMMARY = "summary.md"
MIN_CASE_S = 15  # no step starts with less of the budget left


class CheckError(Exception):
    """The check cannot start (e.g. the travel folder is missing); the message says what to do."""


@dataclass
class Progress:
    run_id: str
    dry_run: bool
    steps: list[Step]
    results: dict[Step, Record | None]
    process_seconds: dict[Step, float]
    manifest: dict[str, Any]
    started: float
    note: str = ""


def run_check(*, dry_run: bool, travel_dir: Path, out_dir: Path | None) -> int:
    """Run every step, assert, write records and summary.md.

    Returns 0 when no claim failed, 1 when one did, 2 when there is no GPU to check.
    """
    data_home = travel_dir / DATA_DIR
    if not (data_home / DATA_FILE).is_file():
        raise CheckError(
            f"{data_home / DATA_FILE} not found: run `bash scripts/gpu_check.sh --prepare` "
            f"where the dataset is and carry {travel_dir}"
        )
    manifest_path = travel_dir / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_id = f"gpu-check-{'dry-' if dry_run else ''}{stamp}"
    out = out_dir or Path(os.environ.get("OUT") or REPO / "artifacts" / run_id)
    out.mkdir(parents=True, exist_ok=True)
    steps = plan(dry_run=dry_run)
    limits = DRY_RUN_LIMITS if dry_run else GPU_LIMITS
    settings = RunSettings.from_env(epochs=EPOCHS, data_home=str(data_home))
    progress = Progress(
        run_id, dry_run, steps, dict.fromkeys(steps), {}, manifest, time.monotonic()
    )
    print(f"{run_id}: {len(steps)} steps, {EPOCHS} epochs each; output in {out}", flush=True)
    for number, step in enumerate(steps, start=1):
        left = limits.budget_s - (time.monotonic() - progress.started)
        if left < MIN_CASE_S:
            print(f"[{number}/{len(steps)}] {step.label}: not started, time budget spent")
            continue
        timeout = min(limits.case_s, left)
        began = time.monotonic()
        step_settings = dataclasses.replace(
            settings, timeout_seconds=timeout, extra_env=step.hook_env
        )
        record = run_case(step.case, step_settings, run_id=run_id, trigger="manual")
        progress.results[step] = record
        progress.process_seconds[step] = time.monotonic() - began
        if not step.probe:
            record.write(out / f"{step.case.name}.json")
        print(f"[{number}/{len(steps)}] {_line(step, record, progress)}", flush=True)
        if not dry_run and number == 1 and record.status == "skipped":
            progress.note = (
                f"No GPU here ({record.reason}); nothing else was run. Without a GPU, run "
                "`bash scripts/gpu_check.sh --dry-run`."
            )
            break
        write_atomic(out / SUMMARY, summary(progress, None))
    assertions = assess(progress.results, dry_run=dry_run)
    text = summary(progress, assertions)
    write_atomic(out / SUMMARY, text)
    print(text)
    if progress.note:
        return 2
    return 1 if any(a.outcome == "fail" for a in assertions) else 0


def _line(step: Step, record: Record, progress: Progress) -> str:
    if record.status != "ok":
        return f"{step.label}: {record.status}: {record.reason}"
    return (
        f"{step.label}: ok, steady {record.steady_epoch_seconds:.4f} s/epoch, compile "
        f"{record.compile_seconds:.1f} s, peak device {_mib(record.peak_device_bytes)} MiB "
        f"({progress.process_seconds[step]:.0f} s)"
    )


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / MIB:.1f}"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def gpu_driver() -> str:
    """GPU name, driver version and memory from nvidia-smi, else the kernel module's version."""
    query = ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]
    try:
        out = subprocess.run(query, capture_output=True, text=True, timeout=30, check=True)
        return out.stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    try:
        return Path("/proc/driver/nvidia/version").read_text().splitlines()[0].strip()
    except (OSError, IndexError):
        return "unknown (no nvidia-smi, no /proc/driver/nvidia/version)"


def summary(progress: Progress, assertions: list[Assertion] | None) -> str:
    """summary.md: verdict, machine, one row per case and probe, every assertion."""
    results = progress.results
    done = sum(r is not None for r in results.values())
    if assertions is None:
        verdict = f"IN PROGRESS ({done} of {len(results)} steps done)"
    else:
        verdict = "FAIL" if any(a.outcome == "fail" for a in assertions) else "PASS"
    wall = time.monotonic() - progress.started
    lines = [f"# GPU check {progress.run_id}: {verdict}", ""]
    if progress.dry_run:
        lines += ["Dry run: the device is forced to cpu; the GPU-only claims are skipped.", ""]
    if progress.note:
        lines += [progress.note, ""]
    lines += [
        f"{EPOCHS} epochs per case, each in its own process (bench.runner.run_case), "
        f"wall time {wall:.0f} s. `bench ingest` this folder to store the cases as run "
        f"{progress.run_id}; the probes (check hooks) are kept out of the warehouse.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in _machine(progress)),
        "",
        "## Cases",
        "",
        "| case | status | epoch 1 s | steady s/epoch | compile s | peak device MiB "
        "| peak RSS MiB | test MSE | test MAE | compiled graphs | cudagraph skips | process s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for step in progress.steps:
        record = results[step]
        seconds = _num(progress.process_seconds.get(step), 0)
        if record is None or record.status != "ok":
            status = "not run" if record is None else f"{record.status}: {record.reason}"
            lines.append(f"| {step.label} | {_cell(status)} |" + " |" * 10)
        else:
            final = record.test_metrics_at(EPOCHS)
            env = record.environment
            lines.append(
                f"| {step.label} | ok | {record.epochs[0].seconds:.3f} "
                f"| {_num(record.steady_epoch_seconds, 4)} | {_num(record.compile_seconds, 2)} "
                f"| {_mib(record.peak_device_bytes)} | {_mib(record.peak_rss_bytes)} "
                f"| {_num(final.test_mse if final else None, 4)} "
                f"| {_num(final.test_mae if final else None, 4)} "
                f"| {env.get('compiled_graphs', '-')} | {env.get('cudagraph_skips', '-')} "
                f"| {seconds} |"
            )
    lines += ["", "## Assertions", ""]
    if assertions is None:
        lines.append("(written when every step has run)")
    else:
        lines += [f"- **{a.outcome.upper()}** {a.claim}: {a.detail}" for a in assertions]
    lines += ["", "Not checked on this machine:"]
    lines += [f"- {fw}: {why}" for fw, why in NOT_CHECKABLE.items()]
    probes = [r for s, r in results.items() if s.probe and r is not None]
    if probes:
        lines += ["", "## Probe records (not for the warehouse)", "", "```json"]
        lines += [json.dumps(r.to_dict(), sort_keys=True) for r in probes]
        lines.append("```")
    return "\n".join(lines) + "\n"


def _machine(progress: Progress) -> list[tuple[str, str]]:
    ok = [r for r in progress.results.values() if r is not None and r.status == "ok"]
    device = [r for r in ok if r.case.device == "gpu"] or ok
    env = device[0].environment if device else {}
    manifest = progress.manifest
    state = "dirty working tree" if manifest.get("dirty") else "clean working tree"
    cache = os.environ.get("BENCH_COMPILE_CACHE")
    rows = [
        ("GPU (name, driver, memory)", "none (dry run)" if progress.dry_run else gpu_driver()),
        ("CUDA (torch build)", str(env.get("cuda_version") or "-")),
        ("torch", str(env.get("framework_version") or "-")),
        ("Python", str(env.get("python") or "-")),
        ("CPU", f"{env.get('cpu_model') or '-'}, {env.get('cpu_count') or '-'} cores"),
        ("threads per case", json.dumps(env.get("threads") or {}, sort_keys=True)),
        ("host", str(env.get("hostname") or "-")),
        ("commit", f"{manifest.get('commit') or '-'} ({state}, prepared {manifest.get('at')})"),
        ("compile cache", f"warm ({cache})" if cache else "cold, one per case"),
    ]
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/gpu_check.sh",
        description="Every torch GPU mode for 3 epochs, each in its own process, plus torch "
        "eager on the CPU and two probes (100 MiB device ballast, extra synchronize); asserts "
        "and writes the records and summary.md. Exit 0: no claim failed; 1: one did; 2: it "
        "could not start (no prepared folder, no GPU).",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--prepare",
        action="store_true",
        help="here: build the folder that travels and print the device run call to paste",
    )
    which.add_argument(
        "--dry-run",
        action="store_true",
        help="the whole check with the device forced to cpu; GPU-only claims are skipped",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=REPO / TRAVEL_DIR,
        help=f"the folder that travels (default: {TRAVEL_DIR} in the checkout)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="folder for the records and summary.md (default: $OUT, else artifacts/RUN_ID)",
    )
    parser.add_argument(
        "--data-home",
        type=Path,
        help="--prepare: folder holding cal_housing_py3.pkz (default: BENCH_DATA_HOME, "
        "else ../shared/data/scikit_learn_data)",
    )
    args = parser.parse_args(argv)
    try:
        if args.prepare:
            data_home = args.data_home or default_data_home(REPO)
            print(prepare(args.dir, data_home=data_home, repo=REPO))
            return 0
        return run_check(dry_run=args.dry_run, travel_dir=args.dir, out_dir=args.out)
    except (PrepareError, CheckError) as exc:
        print(f"gpu_check: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
