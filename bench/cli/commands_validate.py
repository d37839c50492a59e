"""`bench validate`: run the Great Expectations suite on the dataset before trusting a benchmark."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.cli.common import UserError
from bench.serialize import to_json, write_atomic


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check the California Housing data with Great Expectations",
        description="Validate the dataset (columns, dtypes, nulls, row count, finite value "
        "ranges, duplicates, income-value correlation). Exit 0 when every expectation passes, "
        "1 when any fails. `bench run` and `bench matrix` run the same checks before training.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--csv", metavar="PATH", help="validate this CSV export instead")
    source.add_argument(
        "--data-home",
        metavar="DIR",
        help="sklearn data folder holding cal_housing_py3.pkz (default: $BENCH_DATA_HOME)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON here")
    parser.set_defaults(handler=validate_command)


def validate_command(args: argparse.Namespace) -> int:
    """Print the report; 0 when valid, 1 when any expectation failed."""
    from bench.data.loading import DatasetUnavailable
    from bench.data.validation import format_report, validate_dataset

    try:
        report = validate_dataset(data_home=args.data_home, csv_path=args.csv)
    except DatasetUnavailable as exc:
        raise UserError(str(exc)) from exc
    print(format_report(report))
    if args.json:
        _write_json(Path(args.json), report.to_dict())
    return 0 if report.success else 1


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic write so a reader never sees half a report."""
    try:
        write_atomic(path, to_json(data) + "\n")
    except OSError as exc:
        raise UserError(
            f"cannot write the JSON report to {path} ({exc.strerror or exc}); "
            "pass --json a writable file path"
        ) from exc
