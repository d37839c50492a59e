"""Shared CLI plumbing: one-line argument errors and user-facing failures."""

from __future__ import annotations

import argparse
import functools
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from bench.config import FRAMEWORK_MODES, Case

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


def positive(kind: type[int] | type[float]) -> Callable[[str], Any]:
    """An argparse type: a whole number of at least 1 (`int`) or a finite number above 0."""
    expected = "a whole number of at least 1" if kind is int else "a positive number"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not 0 < value < math.inf:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="output format (default: table)",
    )


def add_metric_option(
    parser: argparse.ArgumentParser,
    metrics: Sequence[str],
    *,
    default: str | None = None,
    repeat: bool = False,
) -> None:
    """--metric, one of `metrics` (listed in --help); `repeat`: may be given several times."""
    parser.add_argument(
        "--metric",
        choices=metrics,
        default=default,
        action="append" if repeat else "store",
        metavar="METRIC",
        help=f"{'(repeat for several) ' if repeat else ''}one of: {', '.join(metrics)}"
        + (f" (default: {default})" if default else ""),
    )


def modes_help() -> str:
    """Every framework's modes, for a --mode option's help."""
    return "; ".join(f"{fw}: {', '.join(modes)}" for fw, modes in FRAMEWORK_MODES.items())


def checked_case(framework: str, mode: str, device: str) -> Case:
    """The case named by --framework, --mode and --device; a mode the framework lacks is one
    line naming its modes, exit 2 (argparse has checked the framework and device)."""
    try:
        return Case(framework, mode, device)
    except ValueError as exc:
        raise UserError(str(exc), exit_code=2) from exc


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


def reads_warehouse(handler: Handler) -> Handler:
    """For a command that only reads: one line and exit 1 when there is no warehouse yet
    (bench.warehouse.require_warehouse), instead of creating an empty one where a mistyped
    BENCH_WAREHOUSE_URL points. Put it under one_line_errors."""

    @functools.wraps(handler)
    def wrapped(args: argparse.Namespace) -> int:
        from bench.warehouse import require_warehouse

        require_warehouse()
        return handler(args)

    return wrapped
