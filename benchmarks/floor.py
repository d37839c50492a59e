"""The arithmetic floor of an epoch (bench.arithmetic_floor), measured alone on one core: its
FLOPs at the fastest one-thread float32 GEMM rate of the network's own GEMM shapes.
Run: python -m benchmarks.floor [--cores 1] [--json PATH]   (pins like benchmarks.bare_loops)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.arithmetic_floor import TRIES, Floor, as_json, measure_floor
from bench.conditions import cpu_case_cores, format_cores, parse_cores, pin


def read_floor_seconds(path: Path) -> float:
    """The floor's seconds from a file `--json` wrote."""
    return float(json.loads(path.read_text())["seconds"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.floor", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--cores", help="pin to these cores (default: a 1-thread CPU case's)")
    parser.add_argument("--tries", type=int, default=TRIES, help=f"default {TRIES}")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args = parser.parse_args(argv)
    cores = tuple(sorted(parse_cores(args.cores))) if args.cores else cpu_case_cores(1)
    pin(cores)
    floor = measure_floor(tries=args.tries)
    floor = Floor(floor.seconds, floor.flops, floor.gflops, floor.shape_gflops, cores)
    text = json.dumps(as_json(floor))
    if args.json:
        args.json.write_text(text + "\n")
    rates = ", ".join(f"{name} {rate:.1f}" for name, rate in floor.shape_gflops.items())
    print(
        f"floor {1e3 * floor.seconds:.2f} ms/epoch: {floor.flops.total / 1e6:.1f} MFLOP at "
        f"{floor.gflops:.1f} GFLOP/s on core(s) {format_cores(cores)} (GFLOP/s: {rates})",
        file=sys.stderr,
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
