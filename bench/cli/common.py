"""Shared CLI plumbing: one-line argument errors and user-facing failures."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit code 1 unless stated."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class BenchArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (and exit 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        sys.exit(2)


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="output format (default: table)",
    )
