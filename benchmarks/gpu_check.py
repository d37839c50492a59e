"""The GPU check: every checkable mode on the GPU, each in its own process, asserted, in one call.

    bash scripts/gpu_check.sh --prepare   # here: build .gpu_check/ (it travels), print the call
    bash scripts/gpu_check.sh             # on the GPU machine: records.jsonl + summary.md in $OUT
    bash scripts/gpu_check.sh --dry-run   # here: the same end to end with the device forced to cpu

This module runs the steps one after another, each in its own process (bench.runner.run_case),
and writes the stored records (one bundle, one record per line) and summary.md, rewritten after
every step so that a run cut short still brings back what it measured. gpu_check_plan says what
runs, gpu_check_claims what is asserted, gpu_check_prepare builds the folder that travels.
Nothing here imports torch, SQLAlchemy or Airflow (the GPU machine has no SQLAlchemy or Airflow).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
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
from bench.serialize import to_json, write_atomic
from benchmarks.gpu_check_claims import (
    SYNC_RATIO_LIMIT,
    Assertion,
    assess,
    graphs,
    ratio_estimate,
    sync_rounds,
)
from benchmarks.gpu_check_plan import (
    DRY_RUN_LIMITS,
    EPOCHS,
    GPU_LIMITS,
    NOT_CHECKABLE,
    PROBE_CASE,
    RECORDS,
    SUMMARY,
    SYNC_EPOCHS,
    Step,
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

MIN_CASE_S = 15  # no step starts with less of the budget left
COMPILE_CACHE_ENV = "TORCHINDUCTOR_CACHE_DIR"


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
    compile_cache: str = ""  # how the steps share torch's compile cache, for the summary


def run_check(*, dry_run: bool, travel_dir: Path, out_dir: Path | None) -> int:
    """Run every step, assert, write records.jsonl and summary.md.

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
    progress = Progress(
        run_id, dry_run, steps, dict.fromkeys(steps), {}, manifest, time.monotonic()
    )
    epochs = f"{EPOCHS} epochs each ({SYNC_EPOCHS} in the sync rounds)"
    print(f"{run_id}: {len(steps)} steps, {epochs}; output in {out}", flush=True)
    with tempfile.TemporaryDirectory(prefix="gpu-check-inductor-") as shared:
        _run_steps(progress, out, data_home=data_home, shared_cache=shared)
    assertions = assess(progress.results, dry_run=dry_run)
    text = summary(progress, assertions)
    write_atomic(out / SUMMARY, text)
    print(text)
    if progress.note:
        return 2
    return 1 if any(a.outcome == "fail" for a in assertions) else 0


def _run_steps(progress: Progress, out: Path, *, data_home: Path, shared_cache: str) -> None:
    """Each step in its own process, in plan order, until the budget is spent; the records and
    summary.md are rewritten after every step."""
    limits = DRY_RUN_LIMITS if progress.dry_run else GPU_LIMITS
    settings = RunSettings.from_env(epochs=EPOCHS, data_home=str(data_home))
    warm = os.environ.get("BENCH_COMPILE_CACHE")
    sync_name = next(s.case.name for s in progress.steps if s.shares_cache)
    progress.compile_cache = (
        f"warm: BENCH_COMPILE_CACHE ({warm}), shared by every step"
        if warm
        else f"cold, one per case, except that {sync_name} and its sync rounds share one (its "
        "first compile is cold, the rounds' repeats find it warm)"
    )
    steps = progress.steps
    for number, step in enumerate(steps, start=1):
        left = limits.budget_s - (time.monotonic() - progress.started)
        if left < MIN_CASE_S:
            print(f"[{number}/{len(steps)}] {step.label}: not started, time budget spent")
            continue
        step_settings = dataclasses.replace(
            settings,
            epochs=step.epochs,
            timeout_seconds=min(limits.case_s, left),
            extra_env=step_env(step, shared_cache=shared_cache),
        )
        began = time.monotonic()
        record = run_case(step.case, step_settings, run_id=progress.run_id, trigger="manual")
        progress.results[step] = record
        progress.process_seconds[step] = time.monotonic() - began
        if step.stored:
            write_atomic(out / RECORDS, records_bundle(progress))
        print(f"[{number}/{len(steps)}] {_line(step, record, progress)}", flush=True)
        if not progress.dry_run and number == 1 and record.status == "skipped":
            progress.note = (
                f"No GPU here ({record.reason}); nothing else was run. Without a GPU, run "
                "`bash scripts/gpu_check.sh --dry-run`."
            )
            return
        write_atomic(out / SUMMARY, summary(progress, None))


def step_env(step: Step, *, shared_cache: str) -> dict[str, str]:
    """The worker's extra variables: the hooks (set or off), and for the sync probe's mode and
    its rounds one shared compile cache, so that only its first compile is cold (unless
    BENCH_COMPILE_CACHE already names one cache for every step)."""
    env = dict(step.hook_env)
    if step.shares_cache and not os.environ.get("BENCH_COMPILE_CACHE"):
        env[COMPILE_CACHE_ENV] = shared_cache
    return env


def records_bundle(progress: Progress) -> str:
    """records.jsonl: every stored step's record so far, one per line (what `bench ingest`
    reads); probes and sync-round repeats stay in summary.md."""
    return "".join(
        to_json(record.to_dict(), indent=None) + "\n"
        for step, record in progress.results.items()
        if step.stored and record is not None
    )


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
    """summary.md: verdict, machine, one row per step, the sync rounds, every assertion, and the
    records kept out of the warehouse."""
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
        f"{EPOCHS} epochs per case ({SYNC_EPOCHS} in the sync rounds), each in its own process "
        f"(bench.runner.run_case), in the order below, wall time {wall:.0f} s. `bench ingest` "
        f"this folder to store the cases ({RECORDS}) as run {progress.run_id}; the probes and "
        "the sync rounds' repeats are kept out of the warehouse (below).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in _machine(progress)),
        "",
        "## Steps",
        "",
        "| step | status | epoch 1 s | steady s/epoch | compile s | peak device MiB "
        "| peak RSS MiB | test MSE | test MAE | graphs | cudagraph skips | process s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for step in progress.steps:
        lines.append(_row(step, results[step], progress.process_seconds.get(step)))
    lines += ["", *_sync_section(progress), "", "## Assertions", ""]
    if assertions is None:
        lines.append("(written when every step has run)")
    else:
        lines += [f"- **{a.outcome.upper()}** {a.claim}: {a.detail}" for a in assertions]
    lines += ["", "Not checked on this machine:"]
    lines += [f"- {fw}: {why}" for fw, why in NOT_CHECKABLE.items()]
    extra = [r for s, r in results.items() if not s.stored and r is not None]
    if extra:
        lines += ["", "## Probe and repeat records (not for the warehouse)", "", "```json"]
        lines += [json.dumps(r.to_dict(), sort_keys=True) for r in extra]
        lines.append("```")
    return "\n".join(lines) + "\n"


def _row(step: Step, record: Record | None, seconds: float | None) -> str:
    if record is None or record.status != "ok":
        status = "not run" if record is None else f"{record.status}: {record.reason}"
        return f"| {step.label} | {_cell(status)} |" + " |" * 9 + f" {_num(seconds, 0)} |"
    final = record.test_metrics_at(step.epochs)
    env = record.environment
    return (
        f"| {step.label} | ok | {record.epochs[0].seconds:.3f} "
        f"| {_num(record.steady_epoch_seconds, 4)} | {_num(record.compile_seconds, 2)} "
        f"| {_mib(record.peak_device_bytes)} | {_mib(record.peak_rss_bytes)} "
        f"| {_num(final.test_mse if final else None, 4)} "
        f"| {_num(final.test_mae if final else None, 4)} "
        f"| {graphs(step.case, record)} | {env.get('cudagraph_skips', '-')} "
        f"| {_num(seconds, 0)} |"
    )


def _sync_section(progress: Progress) -> list[str]:
    """The sync probe's rounds: each side's steady time, the per-round ratio, their median."""
    rounds = sync_rounds(progress.results)
    lines = [
        f"## Sync rounds ({PROBE_CASE['sync'][1]}, with / without the extra synchronize)",
        "",
        "| round | first | without s/epoch | with s/epoch | with / without |",
        "|---:|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r.round} | {r.first} | {_num(r.without_s, 4)} | {_num(r.with_s, 4)} "
        f"| {_num(r.ratio, 3)} |"
        for r in rounds
    ]
    estimate = ratio_estimate(rounds)
    if estimate is None:
        lines += ["", "No round has an ok record on both sides yet."]
    else:
        interval = (
            f"95% interval {estimate.low:.3f}-{estimate.high:.3f}"
            if estimate.has_interval
            else "no interval (fewer than 2 complete rounds)"
        )
        lines += [
            "",
            f"Median ratio {estimate.value:.3f} over {estimate.samples} round(s), {interval} "
            f"(bench.uncertainty.repeats_interval); agreement needs the interval within "
            f"{1 / SYNC_RATIO_LIMIT:.2f}-{SYNC_RATIO_LIMIT}x.",
        ]
    return lines


def _machine(progress: Progress) -> list[tuple[str, str]]:
    ok = [r for r in progress.results.values() if r is not None and r.status == "ok"]
    device = [r for r in ok if r.case.device == "gpu"] or ok

    def env_of(framework: str) -> dict[str, Any]:
        found = [r for r in device if r.case.framework == framework]
        return found[0].environment if found else {}

    torch, jax = env_of("torch"), env_of("jax")
    manifest = progress.manifest
    state = "dirty working tree" if manifest.get("dirty") else "clean working tree"
    return [
        ("GPU (name, driver, memory)", "none (dry run)" if progress.dry_run else gpu_driver()),
        ("CUDA (torch build)", str(torch.get("cuda_version") or "-")),
        ("torch", str(torch.get("framework_version") or "-")),
        ("JAX (jaxlib, optax)", _jax_versions(jax)),
        ("Python", str(torch.get("python") or jax.get("python") or "-")),
        ("CPU", f"{torch.get('cpu_model') or '-'}, {torch.get('cpu_count') or '-'} cores"),
        ("threads per case", json.dumps(torch.get("threads") or {}, sort_keys=True)),
        ("host", str(torch.get("hostname") or "-")),
        ("commit", f"{manifest.get('commit') or '-'} ({state}, prepared {manifest.get('at')})"),
        ("compile cache", progress.compile_cache or "-"),
    ]


def _jax_versions(env: dict[str, Any]) -> str:
    if not env:
        return "-"
    versions = (env.get(k) for k in ("framework_version", "jaxlib_version", "optax_version"))
    return "{} ({}, {})".format(*versions)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/gpu_check.sh",
        description="Every torch and JAX mode on the GPU for 3 epochs, each in its own process, "
        "plus torch eager on the CPU and two probes (100 MiB device ballast; an extra "
        "synchronize, in rounds); asserts and writes records.jsonl and summary.md. Exit 0: no "
        "claim failed; 1: one did; 2: it could not start (no prepared folder, no GPU).",
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
        help="folder for records.jsonl and summary.md (default: $OUT, else artifacts/RUN_ID)",
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
