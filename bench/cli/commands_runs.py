"""`bench runs`: the newest runs, one line each; and one run's epochs (`bench results --epochs`).

bench.warehouse is imported inside the handlers so `bench --help` stays fast.
"""

from __future__ import annotations

import argparse
from typing import Any

from bench.cli.common import (
    UserError,
    add_format_option,
    one_line_errors,
    positive,
    reads_warehouse,
)
from bench.cli.output import print_rows

DEFAULT_LAST = 20
VERDICT_NOTE = (
    "verdict: red when a case failed or detection flagged the run (blocking: a regression, "
    "drift, departure, failed or missing case; `bench detect --run ID` lists them)"
)


def register(subparsers: Any) -> None:
    runs = subparsers.add_parser(
        "runs",
        help="the newest runs: trigger, start, cases ok/skipped/failed, verdict and note",
        description="List the newest runs in the warehouse, oldest first: how each was "
        "triggered, when it started, how many cases ended ok, skipped and failed, its verdict "
        "and its note.",
    )
    runs.add_argument(
        "--last", type=positive(int), default=DEFAULT_LAST, metavar="N",
        help=f"the newest N runs (default: {DEFAULT_LAST})",
    )  # fmt: skip
    add_format_option(runs)
    runs.set_defaults(handler=_runs)


@one_line_errors
@reads_warehouse
def _runs(args: argparse.Namespace) -> int:
    from bench.warehouse import list_runs, mask_url, warehouse_url
    from bench.warehouse.queries import RUN_LIST_COLUMNS

    rows = list_runs(last=args.last)
    if not rows:
        raise UserError(
            f"the warehouse at {mask_url(warehouse_url())} has no runs yet; "
            "store some with `bench run` or `bench ingest FILE`"
        )
    print_rows(rows, RUN_LIST_COLUMNS, args.format)
    if args.format == "table":
        print(VERDICT_NOTE)
    return 0


def print_epochs(run_id: str, fmt: str) -> int:
    """`bench results --epochs`: every epoch of every case of the run."""
    from bench.warehouse import epochs_for_run
    from bench.warehouse.queries import EPOCH_COLUMNS

    rows = epochs_for_run(run_id)
    if not rows:
        raise UserError(
            f"no epochs for run {run_id!r} in the warehouse (no such run, or no case trained); "
            "`bench runs` lists the runs"
        )
    if fmt == "table":
        print(f"run {run_id}: every epoch; test_mse and test_mae where the test set was evaluated")
    print_rows(rows, EPOCH_COLUMNS, fmt)
    return 0
