"""The `bench` command. Each subcommand lives in its own module with a `register(subparsers)`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bench.cli import (
    commands_detect,
    commands_report,
    commands_run,
    commands_validate,
    commands_warehouse,
)
from bench.cli.common import BenchArgumentParser, UserError

# Modules that add subcommands; each has register(subparsers).
COMMAND_MODULES = [
    commands_run,
    commands_validate,
    commands_warehouse,
    commands_report,
    commands_detect,
]


def build_parser() -> argparse.ArgumentParser:
    parser = BenchArgumentParser(
        prog="bench",
        description="Benchmark one small regression network in PyTorch and TensorFlow "
        "(eager and compiled, CPU and GPU) and keep the results in a metrics warehouse.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=BenchArgumentParser)
    sub.required = True
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except UserError as exc:
        print(f"bench {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"bench {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
