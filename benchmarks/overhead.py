"""Harness overhead: each bench trainer against the bare loop of its mode, over several rounds,
and both against the epoch's arithmetic floor (benchmarks.floor) measured in the same rounds.

One sample per side is not enough (back-to-back single runs of torch eager gave trainer/bare
ratios from 1.05 to 1.48), so every round measures the floor, then runs, for every mode, both
sides in fresh processes pinned to the core CPU cases train on, the side that goes first
alternating round by round. Per mode: each side's median steady epoch time over the rounds with
its 95% interval (bench.uncertainty.repeats_interval over the per-round medians), the median of
the per-round ratios trainer/bare with its interval (repeats_interval again: the sides of a round
ran back to back, so the round's ratio cancels what the host did that minute), a verdict that
claims only what the interval supports, and whether the interval is under 1.2x (the issue's
target for every trainer). Against the floor: each side's per-round time / that round's floor,
with its interval, and for the whole-epoch modes whether it is within 10x (the issue's target).
Every round's values go to a JSON file, from which --summarize prints the tables again.
A round where either side ran under contention (bench.conditions) is left out of the summary,
both sides together, while at least 2 clean rounds remain (else every round is used, and the
table says so), as `bench matrix --repeats` leaves noisy repeats out.

Usage (bash benchmarks/overhead.sh passes its arguments here):
  .venv/bin/python -m benchmarks.overhead [--rounds 5] [--epochs 10] [--modes MODE ...]
                                          [--json PATH]
  .venv/bin/python -m benchmarks.overhead --summarize PATH     # the tables again from a JSON file
All 14 modes, 5 rounds, 10 epochs: about 30 minutes on the 2-core development machine
(estimated, not timed: a process costs 4-5 s of start-up, 2 rounds of jax-scan and
tensorflow-xla-epoch at 3 epochs took 36 s; torch's four compile modes add 10-30 s of
compilation per process and tensorflow eager 2.8 s per epoch, about 6 minutes a round).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import math
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from bench.arithmetic_floor import epoch_flops, floor_multiple
from bench.conditions import CoresError, CpuWatch, cpu_case_cores, format_cores
from bench.config import Case, RunSettings, state_dir
from bench.measure import base_environment, thread_env
from bench.records import utc_now_iso
from bench.repeats import interleaved
from bench.runner import run_case, worker_env
from bench.uncertainty import Estimate, repeats_interval
from benchmarks.bare_loops import MODES

SIDES = ("bare", "trainer")
SIDE_NAMES = {"bare": "bare loop", "trainer": "trainer"}
FLOOR = "floor"  # the mode and side of a round's floor measurement
MIN_CLEAN_ROUNDS = 2  # fewer clean rounds than this: noisy rounds are used too
OVERHEAD_TARGET = 1.2  # every trainer within 1.2x of its bare loop (issue 14)
FLOOR_TARGET = 10.0  # every whole-epoch mode within 10x of the floor on CPU (issue 14)
WHOLE_EPOCH_MODES = (
    "torch-compile-epoch",
    "tensorflow-function-epoch",
    "tensorflow-xla-epoch",
    "jax-scan",
)
REPO = Path(__file__).resolve().parents[1]


class Step(NamedTuple):
    """One process to run: a side of a mode in a round (rounds count from 1), or the floor."""

    round: int
    mode: str
    side: str


@dataclass(frozen=True)
class Sample:
    """What one process measured; steady_epoch_s is None when it produced no time (reason)."""

    round: int
    mode: str
    side: str
    steady_epoch_s: float | None
    epochs_s: tuple[float, ...] = ()
    noisy: str | None = None
    reason: str | None = None
    started_at: str = ""
    cores: tuple[int, ...] = ()  # where it ran: both sides of a mode must share them


@dataclass(frozen=True)
class ModeSummary:
    """One mode over its rounds: each side's estimate, the ratio trainer/bare and the verdict."""

    mode: str
    bare: Estimate | None
    trainer: Estimate | None
    ratio: float | None
    ratio_low: float | None
    ratio_high: float | None
    verdict: str
    target: str  # is trainer/bare under OVERHEAD_TARGET?
    round_ratios: tuple[float, ...]  # trainer/bare in each used round with a time on both sides
    rounds: int
    used_rounds: tuple[int, ...]
    noisy_rounds: tuple[int, ...]  # a side ran under contention (bench.conditions)
    failed_rounds: tuple[int, ...]  # a side produced no time
    bare_x_floor: Estimate | None = None  # per-round time / that round's floor
    trainer_x_floor: Estimate | None = None
    floor_target: str = ""  # is the trainer under FLOOR_TARGET floors? (whole-epoch modes)


def run_order(modes: Sequence[str], rounds: int, *, floor: bool = True) -> list[Step]:
    """Rounds outermost, each round's floor first, then every mode, the side that goes first
    alternating from round to round (bench.repeats.interleaved over the two sides)."""
    by_round: dict[int, list[str]] = {}
    for side, round_ in interleaved(SIDES, rounds):
        by_round.setdefault(round_, []).append(side)
    steps = []
    for r, sides in by_round.items():
        if floor:
            steps.append(Step(r, FLOOR, FLOOR))
        steps += [Step(r, m, side) for m in modes for side in sides]
    return steps


def run_steps(
    steps: Sequence[Step],
    measure: Callable[[Step], Sample],
    *,
    on_sample: Callable[[Sample], None] | None = None,
) -> list[Sample]:
    """Measure every step in order; a failed process yields a Sample without a time."""
    samples = []
    for step in steps:
        sample = measure(step)
        samples.append(sample)
        if on_sample:
            on_sample(sample)
    return samples


def verdict(ratio: Estimate | None, missing: Sequence[str] = ()) -> str:
    """What the ratio trainer/bare supports: a difference only when its interval excludes 1."""
    if missing:
        return f"no result: no time from the {' or the '.join(SIDE_NAMES[s] for s in missing)}"
    if ratio is None or not ratio.has_interval:
        return "no interval: needs 2 or more rounds with a time on each side"
    assert ratio.low is not None and ratio.high is not None
    low, high = ratio.low, ratio.high
    if low <= 1 <= high:
        return "no measurable difference (the interval holds 1)"
    if low > 1 and high < 2:
        return f"slower, within {_pct_up(high - 1)}% of the bare loop"
    if low > 1:
        return f"slower: {low:.2f}x to {high:.2f}x the bare loop's time"
    return f"faster than the bare loop by {_pct_down(1 - high)}% to {_pct_up(1 - low)}%"


def against_target(estimate: Estimate | None, limit: float) -> str:
    """Whether a ratio is under `limit`, claimed only when its interval is on one side."""
    if estimate is None:
        return "no result"
    if not estimate.has_interval:
        return f"no interval (one round: {estimate.value:.2f}x)"
    assert estimate.low is not None and estimate.high is not None
    if estimate.high < limit:
        return f"met: under {limit:g}x"
    if estimate.low > limit:
        return f"missed: over {limit:g}x"
    return f"cannot tell: the interval holds {limit:g}x"


def summarize(samples: Sequence[Sample]) -> list[ModeSummary]:
    """One summary per mode, in the order the modes first appear (the floor is no mode)."""
    modes = list(dict.fromkeys(s.mode for s in samples if s.mode != FLOOR))
    floors = {s.round: s.steady_epoch_s for s in samples if s.mode == FLOOR and s.steady_epoch_s}
    return [_summarize_mode(mode, [s for s in samples if s.mode == mode], floors) for mode in modes]


def floor_estimate(samples: Sequence[Sample]) -> Estimate | None:
    """The floor over the rounds: the median with its interval (None: never measured)."""
    times = [s.steady_epoch_s for s in samples if s.mode == FLOOR and s.steady_epoch_s]
    return repeats_interval(times) if times else None


def format_table(summaries: Sequence[ModeSummary]) -> str:
    lines = [
        "| case | rounds | bare loop s/epoch (95% CI) | bench trainer s/epoch (95% CI) "
        f"| trainer/bare (95% CI) | verdict | within {OVERHEAD_TARGET:g}x |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for s in summaries:
        ratio = "-" if s.ratio is None else f"{s.ratio:.2f}"
        if s.ratio_low is not None and s.ratio_high is not None:
            ratio += f" ({s.ratio_low:.2f}-{s.ratio_high:.2f})"
        lines.append(
            f"| {s.mode}-cpu | {_rounds(s)} | {_estimate(s.bare)} | {_estimate(s.trainer)} "
            f"| {ratio} | {s.verdict} | {s.target} |"
        )
    return "\n".join(lines)


def floor_table(summaries: Sequence[ModeSummary], floor: Estimate | None) -> str:
    """Each side as a multiple of the floor; the 10x target for the whole-epoch modes."""
    flops = epoch_flops().total
    if floor is None:
        head = "floor: not measured"
    else:
        head = (
            f"floor: {_estimate(floor, 1e3)} ms/epoch over {floor.samples} round(s): "
            f"{flops / 1e6:.1f} MFLOP at {flops / floor.value / 1e9:.1f} GFLOP/s "
            "(benchmarks/floor.py)"
        )
    lines = [
        head,
        "",
        "| case | bare loop x floor (95% CI) | bench trainer x floor (95% CI) "
        f"| trainer within {FLOOR_TARGET:g}x of the floor |",
        "|---|---:|---:|---|",
    ]
    for s in summaries:
        target = s.floor_target or "- (not a whole-epoch mode)"
        lines.append(
            f"| {s.mode}-cpu | {_multiple(s.bare_x_floor)} | {_multiple(s.trainer_x_floor)} "
            f"| {target} |"
        )
    return "\n".join(lines)


def targets(summaries: Sequence[ModeSummary]) -> str:
    """One line per target of issue 14: which modes met it, missed it, or cannot tell."""
    overhead = _by_outcome([(s.mode, s.target) for s in summaries])
    whole = _by_outcome([(s.mode, s.floor_target) for s in summaries if s.floor_target])
    return (
        f"Every trainer within {OVERHEAD_TARGET:g}x of its bare loop: {overhead}\n"
        f"Every whole-epoch mode within {FLOOR_TARGET:g}x of the floor: {whole or 'none run'}"
    )


def print_tables(samples: Sequence[Sample]) -> None:
    summaries = summarize(samples)
    print(format_table(summaries))
    print()
    print(floor_table(summaries, floor_estimate(samples)))
    print()
    print(targets(summaries))


def report(samples: Sequence[Sample], **context: Any) -> dict[str, Any]:
    """The JSON document: the run's context, every sample, and the summary they give."""
    return {
        **context,
        "samples": [asdict(s) for s in samples],
        "summary": [asdict(s) for s in summarize(samples)],
    }


def samples_from_report(data: dict[str, Any]) -> list[Sample]:
    return [
        Sample(**{**s, "epochs_s": tuple(s["epochs_s"]), "cores": tuple(s["cores"])})
        for s in data["samples"]
    ]


def measure_bare(step: Step, settings: RunSettings, cores: tuple[int, ...]) -> Sample:
    """benchmarks.bare_loops in a fresh process on `cores`, environment as the trainer's worker."""
    cmd = [sys.executable, "-m", "benchmarks.bare_loops", step.mode]
    cmd += ["--epochs", str(settings.epochs), "--cores", format_cores(cores)]
    return _measure_process(step, cmd, settings, cores)


def measure_floor(step: Step, settings: RunSettings, cores: tuple[int, ...]) -> Sample:
    """benchmarks.floor in a fresh process on `cores`: the round's floor as its steady time."""
    cmd = [sys.executable, "-m", "benchmarks.floor", "--cores", format_cores(cores)]
    return _measure_process(step, cmd, settings, cores)


def _measure_process(
    step: Step, cmd: list[str], settings: RunSettings, cores: tuple[int, ...]
) -> Sample:
    """Run `cmd` watched on `cores`; its last stdout line is JSON with its time and cores."""
    started = utc_now_iso()
    with tempfile.TemporaryDirectory(prefix=f"{step.side}-{step.mode}-") as tmp:
        cache = os.environ.get("BENCH_COMPILE_CACHE") or str(Path(tmp) / "inductor")
        watch = CpuWatch(cores)
        watch.start()
        try:
            proc = subprocess.run(
                cmd, cwd=REPO, env=worker_env(settings, cache), capture_output=True, text=True,
                timeout=settings.timeout_seconds, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            why = f"timed out after {settings.timeout_seconds:g} s"
            return Sample(*step, None, reason=why, started_at=started)
        _, noisy = watch.stop()
    if proc.returncode != 0:
        last = next((ln for ln in reversed(proc.stderr.splitlines()) if ln.strip()), "")
        why = f"exited with code {proc.returncode}; last stderr line: {last}"
        return Sample(*step, None, reason=why, started_at=started)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    seconds = result["seconds"] if step.side == FLOOR else result["steady_epoch_s"]
    epochs, ran_on = tuple(result.get("epochs_s", ())), tuple(result["cores"])
    return Sample(*step, seconds, epochs, noisy, None, started, ran_on)


def case_of(mode: str) -> Case:
    """The CPU case a bare loop's key names: `<framework>-<mode>`."""
    framework, _, framework_mode = mode.partition("-")
    return Case(framework, framework_mode, "cpu")


def measure_trainer(step: Step, settings: RunSettings, *, run_id: str, rounds: int) -> Sample:
    """The product's trainer (bench.runner.run_case: a fresh worker that pins itself)."""
    record = run_case(
        case_of(step.mode), settings, run_id=run_id, repeat=step.round, repeats=rounds
    )
    if record.status != "ok" or record.steady_epoch_seconds is None:
        reason = f"{record.status}: {record.reason}"
        return Sample(*step, None, reason=reason, started_at=record.started_at)
    epochs = tuple(e.seconds for e in record.epochs)
    ran_on = tuple(record.environment.get("cores") or ())
    return Sample(
        *step, record.steady_epoch_seconds, epochs, record.noisy, None, record.started_at, ran_on
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.overhead", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per process (default 10)")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--json", type=Path, help="default: $BENCH_HOME/overhead/<time>.json")
    parser.add_argument("--summarize", type=Path, metavar="JSON", help="print a saved run's table")
    args = parser.parse_args(argv)
    if args.summarize:
        print_tables(samples_from_report(json.loads(args.summarize.read_text())))
        return 0
    if args.rounds < 1 or args.epochs < 2:
        parser.error("--rounds must be at least 1 and --epochs at least 2 (a steady epoch)")
    settings = RunSettings.from_env(epochs=args.epochs, threads=1)
    try:
        cores = cpu_case_cores(settings.threads)
    except CoresError as exc:
        print(exc, file=sys.stderr)
        return 1
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.json or state_dir() / "overhead" / f"{stamp}.json"
    run_id = f"overhead-{uuid.uuid4().hex[:12]}"

    def measure(step: Step) -> Sample:
        if step.side == FLOOR:
            return measure_floor(step, settings, cores)
        if step.side == "bare":
            return measure_bare(step, settings, cores)
        return measure_trainer(step, settings, run_id=run_id, rounds=args.rounds)

    context = {
        "command": " ".join(["python -m benchmarks.overhead", *(argv or sys.argv[1:])]),
        "started_at": utc_now_iso(),
        "rounds": args.rounds,
        "epochs": args.epochs,
        "cores": list(cores),
        "floor_flops": epoch_flops()._asdict(),
        "load_before": list(os.getloadavg()),
        "environment": {**base_environment(seed=settings.seed, threads=thread_env(1)), **_pkgs()},
    }
    samples = run_steps(run_order(args.modes, args.rounds), measure, on_sample=_progress)
    context.update(finished_at=utc_now_iso(), load_after=list(os.getloadavg()))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report(samples, **context), indent=1) + "\n")
    print_tables(samples)
    print(f"\n{args.rounds} rounds x {args.epochs} epochs on core(s) {format_cores(cores)}; "
          f"every round's values: {out}")  # fmt: skip
    return 1 if any(s.steady_epoch_s is None for s in samples) else 0


def _summarize_mode(
    mode: str, samples: Sequence[Sample], floors: dict[int, float] | None = None
) -> ModeSummary:
    rounds = sorted({s.round for s in samples})
    noisy = sorted({s.round for s in samples if s.noisy})
    clean = [r for r in rounds if r not in noisy]
    used = clean if len(clean) >= MIN_CLEAN_ROUNDS else rounds
    times = {
        side: {s.round: s.steady_epoch_s for s in samples if s.side == side and s.round in used}
        for side in SIDES
    }
    timed = {side: [t for t in times[side].values() if t is not None] for side in SIDES}
    bare, trainer = (repeats_interval(timed[side]) if timed[side] else None for side in SIDES)
    pairs = [(t, times["bare"].get(r)) for r, t in sorted(times["trainer"].items())]
    round_ratios = tuple(t / b for t, b in pairs if t and b)
    ratio = repeats_interval(round_ratios) if round_ratios else None
    missing = [side for side in SIDES if not timed[side]]
    x_floor = {side: _x_floor(times[side], floors or {}) for side in SIDES}
    return ModeSummary(
        mode=mode,
        bare=bare,
        trainer=trainer,
        ratio=ratio.value if ratio else None,
        ratio_low=ratio.low if ratio else None,
        ratio_high=ratio.high if ratio else None,
        verdict=verdict(ratio, missing),
        target=against_target(ratio, OVERHEAD_TARGET),
        round_ratios=round_ratios,
        rounds=len(rounds),
        used_rounds=tuple(used),
        noisy_rounds=tuple(noisy),
        failed_rounds=tuple(sorted({s.round for s in samples if s.steady_epoch_s is None})),
        bare_x_floor=x_floor["bare"],
        trainer_x_floor=x_floor["trainer"],
        floor_target=(
            against_target(x_floor["trainer"], FLOOR_TARGET) if mode in WHOLE_EPOCH_MODES else ""
        ),
    )


def _x_floor(times: dict[int, float | None], floors: dict[int, float]) -> Estimate | None:
    """Each round's time / the same round's floor, summarized over the rounds."""
    multiples = [floor_multiple(t, floors[r]) for r, t in times.items() if t and r in floors]
    return repeats_interval(multiples) if multiples else None


def _by_outcome(outcomes: Sequence[tuple[str, str]]) -> str:
    """'met by a, b; missed by c; cannot tell for d' from (mode, target verdict) pairs."""
    groups: dict[str, list[str]] = {}
    for mode, outcome in outcomes:
        key = outcome.split(":")[0].split(" (")[0]
        groups.setdefault(key, []).append(mode)
    words = {"met": "met by", "missed": "missed by", "cannot tell": "cannot tell for"}
    return "; ".join(f"{words.get(k, k + ' for')} {', '.join(m)}" for k, m in groups.items())


def _rounds(s: ModeSummary) -> str:
    """'5', '3 of 5 (2 noisy left out)', '5 (4 noisy, kept: 1 clean)', '... 1 failed'."""
    notes = []
    if s.noisy_rounds and len(s.used_rounds) < s.rounds:
        notes.append(f"{len(s.noisy_rounds)} noisy left out")
    elif s.noisy_rounds:
        notes.append(f"{len(s.noisy_rounds)} noisy, kept: {s.rounds - len(s.noisy_rounds)} clean")
    if s.failed_rounds:
        notes.append(f"{len(s.failed_rounds)} failed")
    used = f"{len(s.used_rounds)} of {s.rounds}" if len(s.used_rounds) < s.rounds else str(s.rounds)
    return f"{used} ({', '.join(notes)})" if notes else used


def _estimate(e: Estimate | None, scale: float = 1.0) -> str:
    if e is None:
        return "-"
    if e.low is None or e.high is None:
        return f"{scale * e.value:.4f}"
    return f"{scale * e.value:.4f} ({scale * e.low:.4f}-{scale * e.high:.4f})"


def _multiple(e: Estimate | None) -> str:
    if e is None:
        return "-"
    if e.low is None or e.high is None:
        return f"{e.value:.1f}"
    return f"{e.value:.1f} ({e.low:.1f}-{e.high:.1f})"


def _pct_up(fraction: float) -> int:
    return math.ceil(round(100 * fraction, 6))


def _pct_down(fraction: float) -> int:
    return math.floor(round(100 * fraction, 6))


def _progress(sample: Sample) -> None:
    value = f"{sample.steady_epoch_s:.4f} s/epoch" if sample.steady_epoch_s else sample.reason
    noisy = f" (noisy: {sample.noisy})" if sample.noisy else ""
    what = FLOOR if sample.side == FLOOR else f"{sample.mode} {sample.side}"
    print(f"round {sample.round} {what}: {value}{noisy}", file=sys.stderr)


def _pkgs() -> dict[str, str]:
    """Installed framework versions, read without importing the frameworks."""
    found = {}
    for name in ("torch", "tensorflow", "tensorflow-cpu", "jax", "jaxlib", "optax", "numpy"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[name] = importlib.metadata.version(name)
    return found


if __name__ == "__main__":
    sys.exit(main())
