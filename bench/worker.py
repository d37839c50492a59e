"""Entry point of the fresh process that runs exactly one case (started by bench.runner).

Progress goes to stdout as JSON lines prefixed with PROGRESS_PREFIX; the record is written
atomically to --out. Framework log noise goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

from bench.conditions import parse_cores, pin
from bench.config import Case, RunSettings
from bench.training import train_case

PROGRESS_PREFIX = "@bench-progress "


def _emit(epoch: int, seconds: float, train_mae: float) -> None:
    payload = {"epoch": epoch, "seconds": seconds, "train_mae": train_mae}
    print(PROGRESS_PREFIX + json.dumps(payload), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("--framework", required=True)
    parser.add_argument("--mode", required=True)
    parser.add_argument("--device", required=True)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--trigger", required=True)
    parser.add_argument("--data-home")
    parser.add_argument("--out", required=True)
    parser.add_argument("--cores", help="pin to these cores first (e.g. 1 or 0-3)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    if args.cores:
        pin(tuple(sorted(parse_cores(args.cores))))  # before any framework starts its threads
    case = Case(args.framework, args.mode, args.device)
    settings = RunSettings(
        epochs=args.epochs, seed=args.seed, threads=args.threads, data_home=args.data_home
    )
    record = train_case(
        case,
        settings,
        run_id=args.run_id,
        trigger=args.trigger,
        on_epoch=_emit,
        repeat=args.repeat,
        repeats=args.repeats,
    )
    record.write(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
