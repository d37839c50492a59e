"""`bench report`: the static HTML report of a run (tables, findings, PNG figures).

bench.reports is imported inside the handler so `bench --help` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.cli.common import UserError, one_line_errors, positive, reads_warehouse


def register(subparsers: Any) -> None:
    report = subparsers.add_parser(
        "report", help="write the HTML report of a run (default: the latest) with its figures"
    )
    report.add_argument("--run", metavar="ID", help="run id (default: the latest run)")
    report.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        help="folder for index.html and figures/ (default: $BENCH_HOME/reports/RUN_ID)",
    )
    report.add_argument(
        "--history",
        type=positive(int),
        default=30,
        metavar="N",
        help="runs of each series in the history section (default: 30)",
    )
    report.set_defaults(handler=_report)


@one_line_errors
@reads_warehouse
def _report(args: argparse.Namespace) -> int:
    from bench.reports import report_dir, write_report
    from bench.warehouse import NotFound, latest_run_id

    run_id = args.run or latest_run_id()
    if run_id is None:
        raise NotFound(
            "the warehouse has no results yet; run `bench matrix` or the bench_nightly DAG"
        )
    try:
        index = write_report(run_id, args.out or report_dir(run_id), history=args.history)
    except OSError as exc:
        raise UserError(f"cannot write the report: {exc}; pass --out a writable folder") from exc
    print(f"report of run {run_id}: {index}")
    return 0
