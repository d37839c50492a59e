"""Shared CLI plumbing: one-line argument errors and user-facing failures."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from typing import NoReturn

Handler = Callable[[argparse.Namespace], int]


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


def one_line_errors(handler: Handler) -> Handler:
    """Warehouse errors (NotFound included) and value errors become UserError: one line,
    exit 1, no traceback. Anything else is a bug and shows its traceback."""

    @functools.wraps(handler)
    def wrapped(args: argparse.Namespace) -> int:
        import sqlalchemy.exc

        from bench.warehouse import WarehouseError
        from bench.warehouse.engine import short_reason

        try:
            return handler(args)
        except (WarehouseError, ValueError) as exc:
            raise UserError(str(exc)) from exc
        except sqlalchemy.exc.SQLAlchemyError as exc:
            raise UserError(f"warehouse error: {short_reason(exc)}") from exc

    return wrapped
