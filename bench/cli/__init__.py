"""The `bench` command. Each subcommand lives in its own module with a `register(subparsers)`."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

import bench
from bench.cli import (
    commands_detect,
    commands_report,
    commands_run,
    commands_runs,
    commands_validate,
    commands_warehouse,
)
from bench.cli.common import BenchArgumentParser, UserError

# Modules that add subcommands; each has register(subparsers).
COMMAND_MODULES = [
    commands_run,
    commands_validate,
    commands_warehouse,
    commands_runs,
    commands_report,
    commands_detect,
]


def build_parser() -> argparse.ArgumentParser:
    parser = BenchArgumentParser(
        prog="bench",
        description="Benchmark one small regression network in PyTorch and TensorFlow "
        "(eager and compiled, CPU and GPU) and keep the results in a metrics warehouse.",
    )
    parser.add_argument("--version", action="version", version=f"bench {bench.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=BenchArgumentParser)
    sub.required = True
    for module in COMMAND_MODULES:
        module.register(sub)
    _describe_commands(parser)
    return parser


def _describe_commands(parser: argparse.ArgumentParser) -> None:
    """Give every command without a description its one-line help as one, so `bench X --help`
    always says what X does."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, command in action.choices.items():
                if not command.description and helps.get(name):
                    text = str(helps[name])
                    command.description = f"{text[0].upper()}{text[1:]}."
                _describe_commands(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status. Output into a pipe whose reader has gone (`| head`)
    ends quietly, as Unix tools do."""
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not in a message at exit
    except BrokenPipeError:
        return _reader_gone()


def _run(argv: Sequence[str] | None) -> int:
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


def _reader_gone() -> int:
    """Stop writing to a pipe nobody reads: stdout goes to devnull so the flush at exit cannot
    fail again (Python's documented recipe); the status a shell shows for SIGPIPE."""
    with contextlib.suppress(OSError, ValueError):  # stdout is not a file (tests capture it)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
