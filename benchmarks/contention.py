"""Does the noise guard see contention, and does pinning keep it away? (BENCHMARKS.md)

Runs one CPU case ROUNDS times under each of three conditions, interleaved round by round:
idle, a busy loop pinned to the case's own core, and a busy loop pinned to another core. Each
run is a fresh process through bench.runner (pinned to BENCH_CPU_CORES, default the last core).
Reports how often each condition was marked noisy, and the steady time under the other-core hog
against idle (median over runs with its 95% interval, and the ratio's interval).

    python -m benchmarks.contention [--rounds 20] [--epochs 10] [--only idle other] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.conditions import allowed_cores, cpu_case_cores
from bench.config import Case, RunSettings
from bench.reports import formatting as fmt
from bench.runner import run_case
from bench.uncertainty import repeats_interval

CONDITIONS = ("idle", "hog on its core", "hog on another core")


@contextmanager
def hog(core: int | None) -> Iterator[None]:
    """A pure-Python busy loop pinned to `core`, in its own session; nothing for None."""
    if core is None:
        yield
        return
    code = f"import os; os.sched_setaffinity(0, {{{core}}})\nwhile True: pass"
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.contention")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--framework", default="torch")
    parser.add_argument("--mode", default="eager")
    parser.add_argument(
        "--only", nargs="+", choices=["idle", "own", "other"], help="run only these conditions"
    )
    parser.add_argument("--json", type=Path, help="write every run's numbers here")
    args = parser.parse_args(argv)
    short = dict(zip(("idle", "own", "other"), CONDITIONS, strict=True))
    conditions = tuple(short[c] for c in args.only) if args.only else CONDITIONS
    case_core = cpu_case_cores(1)[0]
    others = sorted(allowed_cores() - {case_core})
    if not others:
        raise SystemExit("needs two cores: one for the case, one for the other-core hog")
    hog_core = {"idle": None, "hog on its core": case_core, "hog on another core": others[0]}
    settings = RunSettings.from_env(epochs=args.epochs)
    case = Case(args.framework, args.mode, "cpu")
    runs: list[dict[str, Any]] = []
    for round_ in range(args.rounds):
        shift = round_ % len(conditions)
        for condition in conditions[shift:] + conditions[:shift]:
            with hog(hog_core[condition]):
                record = run_case(case, settings, run_id=f"contention-{round_}")
            runs.append(
                {
                    "round": round_,
                    "condition": condition,
                    "status": record.status,
                    "steady": record.steady_epoch_seconds,
                    "noisy": record.noisy,
                    "others_share": record.conditions.get("others_share"),
                    "cores": record.environment.get("cores"),
                }
            )
            print(json.dumps(runs[-1]), file=sys.stderr)
    print(f"{case.name}, {args.epochs} epochs, {args.rounds} rounds, case on core {case_core}")
    print(f"{'condition':22} {'noisy':>8} {'others share (median)':>22} {'steady s (95% CI)':>28}")
    steady = {}
    for condition in conditions:
        mine = [r for r in runs if r["condition"] == condition and r["status"] == "ok"]
        marked = sum(1 for r in mine if r["noisy"])
        shares = sorted(r["others_share"] or 0.0 for r in mine)
        steady[condition] = repeats_interval([r["steady"] for r in mine])
        est = steady[condition]
        print(
            f"{condition:22} {marked:>4}/{len(mine):<3} {shares[len(shares) // 2]:>22.3f} "
            f"{est.value:>10.4f} ({fmt.interval(est.low, est.high)})"
        )
    if {"idle", "hog on another core"} <= set(conditions):
        # Paired: the two ran back to back in each round, so the round's ratio cancels the
        # host's minute (the median per-round ratio with a t interval on its logs).
        by_round: dict[int, dict[str, float]] = {}
        for r in runs:
            if r["status"] == "ok":
                by_round.setdefault(r["round"], {})[r["condition"]] = r["steady"]
        ratios = [
            v["hog on another core"] / v["idle"]
            for v in by_round.values()
            if "idle" in v and "hog on another core" in v
        ]
        paired = repeats_interval(ratios)
        print(
            f"other-core hog / idle steady time, median per-round ratio: {paired.value:.3f} "
            f"(95% interval {fmt.interval(paired.low, paired.high)})"
        )
    if args.json:
        meta = {"case": case.name, "epochs": args.epochs, "cpu_count": os.cpu_count()}
        args.json.write_text(json.dumps({**meta, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
