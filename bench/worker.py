"""Entry point of the fresh process that runs exactly one case (started by bench.runner).

Progress goes to stdout as JSON lines prefixed with PROGRESS_PREFIX; the record is written
atomically to --out. Framework log noise goes to stderr. The worker dies with the process that
started it, however that one ends (on Linux the kernel kills it, even after a SIGKILL).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import sys

from bench.config import Case, RunSettings

PROGRESS_PREFIX = "@bench-progress "
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies (a no-op elsewhere)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def _emit(epoch: int, seconds: float, train_mae: float) -> None:
    payload = {"epoch": epoch, "seconds": seconds, "train_mae": train_mae}
    print(PROGRESS_PREFIX + json.dumps(payload), flush=True)


def main(argv: list[str] | None = None) -> int:
    die_with_parent()  # first: a parent killed from here on takes this worker with it
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
    parser.add_argument("--parent-pid", type=int, help="exit at once unless this is the parent")
    args = parser.parse_args(argv)
    if args.parent_pid is not None and os.getppid() != args.parent_pid:
        # The parent died before die_with_parent() took effect: nobody wants this case now.
        print("bench worker: the process that started it is gone; not training", file=sys.stderr)
        return 1
    from bench.conditions import parse_cores, pin
    from bench.training import train_case

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
