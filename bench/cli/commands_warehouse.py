"""Warehouse commands: `db upgrade`, `ingest`, `results`, `history`, `compare`, `sql`.

Every database failure (unreachable, refused query, unknown run) is one line and exit 1;
bench.warehouse is imported inside the handlers so `bench --help` stays fast.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.cli.commands_runs import print_epochs
from bench.cli.common import (
    UserError,
    add_format_option,
    add_metric_option,
    checked_case,
    modes_help,
    one_line_errors,
    positive,
    reads_warehouse,
)
from bench.cli.output import bytes_as_mib, print_rows
from bench.config import DEVICES, FRAMEWORK_MODES, TRIGGERS
from bench.measure import MIB
from bench.warehouse.models import METRIC_COLUMNS

if TYPE_CHECKING:
    from bench.records import Record

# `bench sql`'s bounds: an analyst's query stops after this long, and prints at most this many rows.
SQL_TIMEOUT_S = 30.0
SQL_MAX_ROWS = 10_000
# A bundle of records (the GPU check's records.jsonl): one record, as JSON, per line.
BUNDLE_SUFFIX = ".jsonl"


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="manage the warehouse database (schema migrations)")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", parser_class=type(db))
    db_sub.required = True
    upgrade = db_sub.add_parser("upgrade", help="create or migrate the warehouse schema")
    upgrade.set_defaults(handler=_db_upgrade)

    ingest = subparsers.add_parser(
        "ingest", help="store record files (from `bench run --json` or the spool) in the warehouse"
    )
    ingest.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="record JSON files, .jsonl bundles (one record per line) or folders of either",
    )
    ingest.add_argument(
        "--trigger", choices=TRIGGERS, help="run trigger (default: the record's, else cli)"
    )
    ingest.set_defaults(handler=_ingest)

    results = subparsers.add_parser("results", help="one run's results (default: the latest run)")
    which = results.add_mutually_exclusive_group()
    which.add_argument("--run", metavar="ID", help="run id (default: the latest run)")
    which.add_argument(
        "--latest-per-case",
        action="store_true",
        help="each case's most recent result instead of one run (the latest_results view)",
    )
    results.add_argument(
        "--epochs",
        action="store_true",
        help="every epoch of each case instead of the summary: seconds, train MAE, and test "
        "MSE and MAE where the test set was evaluated",
    )
    add_format_option(results)
    results.set_defaults(handler=_results)

    history = subparsers.add_parser("history", help="one case's metric over runs")
    history.add_argument("--framework", required=True, choices=sorted(FRAMEWORK_MODES))
    history.add_argument("--mode", required=True, help=modes_help())
    history.add_argument("--device", default="cpu", choices=DEVICES, help="(default: cpu)")
    add_metric_option(history, METRIC_COLUMNS, default="steady_epoch_seconds")
    history.add_argument("--last", type=positive(int), metavar="N", help="only the newest N runs")
    add_format_option(history)
    history.set_defaults(handler=_history)

    compare = subparsers.add_parser(
        "compare", help="per-case ratios of run B to run A, and what differs between the runs"
    )
    compare.add_argument("run_a", metavar="RUN_A")
    compare.add_argument("run_b", metavar="RUN_B")
    compare.add_argument(
        "--allow-different-budgets",
        action="store_true",
        help="compare even when the runs trained different numbers of epochs (refused otherwise)",
    )
    add_format_option(compare)
    compare.set_defaults(handler=_compare)

    sql = subparsers.add_parser("sql", help="run a read-only SQL query on the warehouse")
    sql.add_argument(
        "query", metavar="QUERY", help='e.g. "SELECT * FROM latest_results"; - = stdin'
    )
    sql.add_argument(
        "--timeout",
        type=positive(float),
        default=SQL_TIMEOUT_S,
        metavar="SECONDS",
        help=f"stop the query after this long (default: {SQL_TIMEOUT_S:g})",
    )
    sql.add_argument(
        "--max-rows",
        type=positive(int),
        default=SQL_MAX_ROWS,
        metavar="N",
        help=f"print at most N rows, saying when the output was cut (default: {SQL_MAX_ROWS})",
    )
    add_format_option(sql)
    sql.set_defaults(handler=_sql)


@one_line_errors
def _db_upgrade(args: argparse.Namespace) -> int:
    from bench.warehouse import mask_url, upgrade, warehouse_url
    from bench.warehouse.engine import READ_URL_ENV, reader_role
    from bench.warehouse.migrate import grant_read_access

    revision = upgrade()
    print(f"warehouse at {mask_url(warehouse_url())} is at schema revision {revision} (newest)")
    role = reader_role()
    if role is None:
        return 0
    if grant_read_access():
        print(f"read-only role {role} may SELECT the warehouse (bench sql and the dashboard)")
    else:
        print(
            f"bench db upgrade: warning: the read-only role {role} does not exist and this role "
            f"may not create it, so `bench sql` will refuse to run: create it (CREATE ROLE "
            f"{role} LOGIN) or point {READ_URL_ENV} at a role that may only SELECT, then run "
            "`bench db upgrade` again",
            file=sys.stderr,
        )
    return 0


@one_line_errors
def _ingest(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from bench.warehouse import mask_url, spool_dir, store_record, upgrade, warehouse_url
    from bench.warehouse.engine import short_reason

    paths = _record_files(args.files)
    upgrade()  # fail once, before reading anything, when the database is down
    spool = spool_dir().resolve()
    stored, replaced, unspooled = 0, 0, 0
    bad = {"file": 0, "line": 0}  # what could not be read or stored: files, lines of a bundle
    for path in paths:
        all_stored = True
        for where, kind, read in _records_in(path):
            # A bad file or line is listed and skipped; every good one is still loaded. A
            # database that goes away (WarehouseUnavailable) still stops the command.
            try:
                new = store_record(read(), trigger=args.trigger)
            except (OSError, ValueError, TypeError, KeyError) as exc:
                reason = str(exc)
            except sa.exc.StatementError as exc:
                if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
                    raise  # the database, not the file
                reason = short_reason(exc)
            else:
                stored += 1
                replaced += not new
                continue
            print(f"bench ingest: error: {where}: {reason}", file=sys.stderr)
            bad[kind] += 1
            all_stored = False
        if all_stored and path.resolve().parent == spool:
            path.unlink()
            unspooled += 1
    note = f" ({unspooled} removed from the spool)" if unspooled else ""
    print(
        f"stored {stored} record(s) in {mask_url(warehouse_url())}: {stored - replaced} new, "
        f"{replaced} replaced (same run, case and repeat){note}"
    )
    if any(bad.values()):
        parts = [f"{bad['file']} file(s)"] if bad["file"] else []
        if bad["line"]:
            parts.append(f"{bad['line']} line(s) of {BUNDLE_SUFFIX} bundles")
        what = " and ".join(parts)
        raise UserError(
            f"{what} could not be read or stored as records (listed above); the others were stored"
        )
    return 0


def _record_files(names: Sequence[str]) -> list[Path]:
    paths: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            paths.extend(sorted([*path.glob("*.json"), *path.glob(f"*{BUNDLE_SUFFIX}")]))
        elif path.exists():
            paths.append(path)
        else:
            raise UserError(f"no such file: {name}")
    return paths


def _records_in(path: Path) -> Iterator[tuple[str, str, Callable[[], Record]]]:
    """(where, "file" or "line", read) for each record in a file: the file itself, or each line
    of a bundle (where: `path:N`; blank lines skipped). A bundle that cannot be read is one bad
    file."""
    from bench.records import Record

    if path.suffix != BUNDLE_SUFFIX:
        yield str(path), "file", functools.partial(Record.read, path)
        return
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        yield str(path), "file", functools.partial(_raise, exc)
        return
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield f"{path}:{number}", "line", functools.partial(_record_from_line, line)


def _record_from_line(line: str) -> Record:
    from bench.records import Record

    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"not a bench record: a JSON {type(data).__name__}, not an object")
    return Record.from_dict(data)


def _raise(exc: Exception) -> Record:
    raise exc


SUMMARY_COLUMNS = [
    "framework", "mode", "device", "status", "epochs", "steady_epoch_seconds", "ci95_s", "cv",
    "repeats", "vs_ref", "noisy", "compile_seconds", "total_seconds", "peak_rss_mib",
    "peak_device_mib", "eval_epoch", "test_mse", "test_mae", "test_mae_10", "test_mae_20",
    "test_mae_30", "note", "reason",
]  # fmt: skip
# Table columns left out when no row has a value (a 2-epoch run reaches no 10/20/30 budget).
OPTIONAL_COLUMNS = ("test_mae_10", "test_mae_20", "test_mae_30", "note")
NOISY_NOTE = (
    "noisy: other processes or CPU steal disturbed the measurement "
    "(--format csv or json gives the reason)"
)


@one_line_errors
@reads_warehouse
def _results(args: argparse.Namespace) -> int:
    from bench.records import vs_reference
    from bench.reports import formatting as fmt
    from bench.warehouse import (
        latest_results,
        latest_run_id,
        mask_url,
        results_for_run,
        warehouse_url,
    )
    from bench.warehouse.queries import RESULT_COLUMNS

    if args.latest_per_case:
        if args.epochs:
            raise UserError(
                "--epochs lists one run's epochs: pass --run ID (default: the latest run), "
                "not --latest-per-case",
                exit_code=2,
            )
        rows, title = latest_results(), "latest result of each case"
    else:
        run_id = args.run or latest_run_id()
        if run_id is None:
            raise UserError(
                f"the warehouse at {mask_url(warehouse_url())} has no results yet; "
                "store some with `bench run` or `bench ingest FILE`"
            )
        if args.epochs:
            return print_epochs(run_id, args.format)
        rows, title = results_for_run(run_id), f"run {run_id}"
    if not rows:
        raise UserError(
            f"no results for run {args.run!r} in the warehouse at {mask_url(warehouse_url())}"
        )
    for row in rows:
        row["vs_ref"] = vs_reference(row["steady_epoch_seconds"], row["reference_seconds"])
    if args.format != "table":
        print_rows(rows, [*RESULT_COLUMNS, "vs_ref"], args.format)
        return 0
    for row in rows:
        for unit in ("rss", "device"):
            value = row.get(f"peak_{unit}_bytes")
            row[f"peak_{unit}_mib"] = value / MIB if value is not None else None
        row["ci95_s"] = fmt.interval(row["steady_ci_low"], row["steady_ci_high"])
        row["cv"] = fmt.cv(row["steady_cv"])
        row["noisy"] = "yes" if row["noisy"] else None
        row["epochs"] = row["epochs_completed"]
    print(f"{title} ({len(rows)} results)")
    if not args.latest_per_case:  # one run, one note: above the table
        if rows[0]["note"]:
            print(f"note: {rows[0]['note']}")
        for row in rows:
            row["note"] = None
    print_rows(rows, _filled(rows, SUMMARY_COLUMNS), "table")
    print(
        "ci95_s: 95% interval of the steady epoch time; vs_ref: steady / reference workload; "
        "test_mse, test_mae: the last test evaluation, after epoch eval_epoch (MAE in "
        "100,000 USD, MSE in its square)"
    )
    if any(row["noisy"] for row in rows):
        print(NOISY_NOTE)
    return 0


@one_line_errors
@reads_warehouse
def _history(args: argparse.Namespace) -> int:
    from bench.warehouse import series_history
    from bench.warehouse.queries import SERIES_COLUMNS

    checked_case(args.framework, args.mode, args.device)
    rows = series_history(
        args.framework, args.mode, args.device, metric=args.metric, last=args.last
    )
    if not rows:
        raise UserError(f"no {args.framework} {args.mode} {args.device} results in the warehouse")
    for row in rows:
        row[args.metric] = row.pop("value")
    columns = [args.metric if c == "value" else c for c in SERIES_COLUMNS]
    if args.format == "table":
        for row in rows:
            row["epochs"] = row["epochs_completed"]
        columns = _filled(rows, ["epochs" if c == "epochs_completed" else c for c in columns])
    if args.format == "table" and args.metric.endswith("_bytes"):
        columns = [bytes_as_mib(rows, c) if c == args.metric else c for c in columns]
    print_rows(rows, columns, args.format)
    return 0


def _filled(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[str]:
    """`columns` without those of OPTIONAL_COLUMNS that no row has a value for."""
    return [
        c for c in columns if c not in OPTIONAL_COLUMNS or any(r.get(c) is not None for r in rows)
    ]


COMPARE_TABLE_COLUMNS = [
    "framework", "mode", "device", "status_a", "status_b", "steady_epoch_seconds_a",
    "steady_epoch_seconds_b", "steady_epoch_seconds_ratio", "ratio_ci95", "verdict",
    "compile_seconds_ratio", "total_seconds_ratio", "peak_rss_bytes_ratio", "test_mae_30_ratio",
    "same_environment", "noisy",
]  # fmt: skip


@one_line_errors
@reads_warehouse
def _compare(args: argparse.Namespace) -> int:
    from bench.reports import formatting as fmt
    from bench.warehouse import compare_runs
    from bench.warehouse.queries import BUDGET

    run_a, run_b = args.run_a, args.run_b
    rows = compare_runs(run_a, run_b)
    differences = _run_differences(rows)
    if BUDGET in differences and not args.allow_different_budgets:
        budget_a, budget_b = differences[BUDGET]
        raise UserError(
            f"run {run_a} trained {budget_a} epochs and run {run_b} {budget_b}: a ratio across "
            "different epoch budgets compares different work; pass --allow-different-budgets "
            "to compare anyway",
            exit_code=2,
        )
    notes = sys.stdout if args.format == "table" else sys.stderr  # keep csv/json parseable
    for what, (in_a, in_b) in differences.items():
        print(f"{what} differs: {in_a} in {run_a}; {in_b} in {run_b}", file=notes)
    if args.format != "table":
        print_rows(rows, list(rows[0]), args.format)
        return 0
    for row in rows:
        low, high = row["steady_epoch_seconds_ratio_low"], row["steady_epoch_seconds_ratio_high"]
        row["ratio_ci95"] = fmt.ratio_interval(None if low is None else (low, high))
        noisy = [side for side in ("a", "b") if row[f"noisy_{side}"]]
        row["noisy"] = ",".join(side.upper() for side in noisy) or None
    print(
        f"ratios are {run_b} / {run_a} (above 1: B is slower or larger); verdict: steady time, "
        "slower or faster only when ratio_ci95 (95% interval) excludes 1"
    )
    print_rows(rows, COMPARE_TABLE_COLUMNS, "table")
    if any(row["noisy"] for row in rows):
        print(NOISY_NOTE)
    return 0


def _run_differences(rows: Sequence[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """What differs between the runs over their common cases: {what: (in A, in B)}, as text."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for row in rows:
        for what, values in row["differences"].items():
            for seen, value in zip(found.setdefault(what, (set(), set())), values, strict=True):
                seen.add(
                    json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value)
                )
    return {what: (_listed(a), _listed(b)) for what, (a, b) in found.items()}


def _listed(values: set[str]) -> str:
    return ", ".join(sorted(values, key=lambda v: (int(v) if v.isdigit() else 0, v)))


@one_line_errors
def _sql(args: argparse.Namespace) -> int:
    from bench.warehouse import read_only_query

    query = sys.stdin.read() if args.query == "-" else args.query
    names, values = read_only_query(query, timeout_s=args.timeout, max_rows=args.max_rows)
    columns = _unique(names)
    shown = values[: args.max_rows]
    print_rows([dict(zip(columns, row, strict=True)) for row in shown], columns, args.format)
    if len(values) > len(shown):
        notes = sys.stdout if args.format == "table" else sys.stderr  # keep csv/json parseable
        print(
            f"output cut at {args.max_rows} rows; pass --max-rows N for more, or narrow the query",
            file=notes,
        )
    return 0


def _unique(names: Sequence[str]) -> list[str]:
    """Column names made distinct (`SELECT 1, 1` would otherwise collapse into one key)."""
    unique: list[str] = []
    for name in names:
        candidate, n = name, 1
        while candidate in unique:
            n += 1
            candidate = f"{name}_{n}"
        unique.append(candidate)
    return unique
