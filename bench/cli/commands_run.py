"""`bench run` (one case) and `bench matrix` (many cases), each case in its own process."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.cli.common import UserError
from bench.cli.tables import print_comparison
from bench.conditions import CoresError, cpu_case_cores
from bench.config import DEVICES, FRAMEWORK_MODES, TRIGGERS, Case, RunSettings, all_cases
from bench.records import Record, check_run_id
from bench.repeats import summaries
from bench.runner import new_run_id, run_case, run_matrix
from bench.training import EpochCallback

ALL_MODES = sorted({m for modes in FRAMEWORK_MODES.values() for m in modes})


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run",
        help="train one case in a fresh process and print its per-epoch table",
        description="Train one case (framework x mode x device) in a fresh process with pinned "
        "threads; print the per-epoch table and a summary; store the record in the warehouse.",
    )
    run.add_argument("--framework", required=True, choices=sorted(FRAMEWORK_MODES))
    run.add_argument("--mode", required=True, help=_modes_help())
    run.add_argument("--device", default="cpu", choices=DEVICES, help="default: cpu")
    _common_options(run)
    run.add_argument("--json", type=Path, metavar="PATH", help="write the record as JSON here")
    run.set_defaults(handler=_run)

    matrix = sub.add_parser(
        "matrix",
        help="run many cases one after another and print a comparison table",
        description="Run every selected case, each in its own process, and compare them: steady "
        "epoch time, compile time, speedup over eager of the same framework and device, peak "
        "memory, test MSE and MAE. Without filters: the whole matrix (GPU cases are skipped "
        "where no GPU is visible).",
    )
    matrix.add_argument(
        "--framework", action="extend", nargs="+", choices=sorted(FRAMEWORK_MODES), default=None
    )
    matrix.add_argument(
        "--mode", action="extend", nargs="+", choices=ALL_MODES, default=None, help=_modes_help()
    )
    matrix.add_argument("--device", action="extend", nargs="+", choices=DEVICES, default=None)
    _common_options(matrix)
    matrix.add_argument(
        "--repeats", type=_positive_int, default=1, metavar="N",
        help="run every case N times, each a fresh process, interleaved (round robin over the "
        "cases, rotated each repeat); the table shows each case's median over its repeats with "
        "a 95%% interval across processes (default: 1)",
    )  # fmt: skip
    matrix.add_argument(
        "--json-dir", type=Path, metavar="DIR",
        help="write one JSON record per case and repeat (CASE.json, or CASE-rK.json with repeats)",
    )  # fmt: skip
    matrix.set_defaults(handler=_matrix)


def _modes_help() -> str:
    return "; ".join(f"{fw}: {', '.join(modes)}" for fw, modes in FRAMEWORK_MODES.items())


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--epochs", type=_positive_int, default=30, help="epoch budget (default: 30, "
        "which also yields the 10 and 20 epoch test metrics)"
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=42, help="split, init and shuffle seed (default 42)"
    )
    parser.add_argument(
        "--threads", type=_positive_int, default=None,
        help="intra-op threads per case (default: BENCH_THREADS or 1)",
    )  # fmt: skip
    parser.add_argument("--data-home", help="sklearn data_home (default: BENCH_DATA_HOME)")
    parser.add_argument("--run-id", help="group results under this run id (default: a new id)")
    parser.add_argument("--trigger", choices=TRIGGERS, default="cli", help=argparse.SUPPRESS)
    parser.add_argument(
        "--no-store", action="store_true", help="do not write the record to the warehouse"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _settings(args: argparse.Namespace) -> RunSettings:
    try:
        settings = RunSettings.from_env(
            epochs=args.epochs, seed=args.seed, threads=args.threads, data_home=args.data_home
        )
    except ValueError as exc:
        raise UserError(f"{exc}; check BENCH_THREADS / BENCH_CASE_TIMEOUT", exit_code=2) from exc
    try:
        cpu_case_cores(settings.threads)
    except CoresError as exc:
        raise UserError(str(exc), exit_code=2) from exc
    return settings


def _run_id(args: argparse.Namespace) -> str:
    """--run-id checked before anything trains (it names spool files and report folders)."""
    try:
        return new_run_id() if args.run_id is None else check_run_id(args.run_id)
    except ValueError as exc:
        raise UserError(str(exc), exit_code=2) from exc


def _progress(case: Case, epochs: int, quiet: bool) -> tuple[EpochCallback | None, object]:
    """A tqdm bar over epochs on stderr; returns (callback, bar)."""
    if quiet:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=epochs, desc=case.name, unit="epoch", file=sys.stderr, leave=False)

    def on_epoch(epoch: int, seconds: float, train_mae: float) -> None:
        bar.set_postfix(s=f"{seconds:.3f}", mae=f"{train_mae:.4f}", refresh=False)
        bar.update(1)

    return on_epoch, bar


def _run(args: argparse.Namespace) -> int:
    try:
        case = Case(args.framework, args.mode, args.device)
    except ValueError as exc:
        raise UserError(str(exc), exit_code=2) from exc
    settings = _settings(args)
    run_id = _run_id(args)
    on_epoch, bar = _progress(case, settings.epochs, args.quiet)
    record = run_case(case, settings, run_id=run_id, trigger=args.trigger, on_epoch=on_epoch)
    if bar is not None:
        bar.close()  # type: ignore[attr-defined]
    from bench.cli.tables import print_epoch_table, print_summary

    print_epoch_table(record)
    print_summary(record)
    if args.json:
        record.write(args.json)
        print(f"record written to {args.json}")
    stored = _store([record], args)
    return 1 if record.status == "failed" or not stored else 0


def _matrix(args: argparse.Namespace) -> int:
    try:
        cases = all_cases(frameworks=args.framework, modes=args.mode, devices=args.device)
    except ValueError as exc:
        raise UserError(str(exc), exit_code=2) from exc
    if not cases:
        raise UserError("no case matches these --framework/--mode/--device filters", exit_code=2)
    settings = _settings(args)
    run_id = _run_id(args)
    bars: list[object] = []

    def start(case: Case) -> EpochCallback | None:
        on_epoch, bar = _progress(case, settings.epochs, args.quiet)
        bars.append(bar)
        return on_epoch

    def end(record: Record) -> None:
        bar = bars.pop() if bars else None
        if bar is not None:
            bar.close()  # type: ignore[attr-defined]
        line = f"{record.case.name}: {record.status}"
        if args.repeats > 1:
            line = f"{record.case.name} repeat {record.repeat}/{args.repeats}: {record.status}"
        if record.steady_epoch_seconds is not None:
            line += f", steady {record.steady_epoch_seconds:.4f} s/epoch"
        if record.noisy:
            line += f", noisy: {record.noisy}"
        print(line + (f" ({record.reason})" if record.reason else ""), file=sys.stderr)
        if args.json_dir:
            suffix = f"-r{record.repeat}" if args.repeats > 1 else ""
            record.write(args.json_dir / f"{record.case.name}{suffix}.json")

    print(
        f"run {run_id}: {len(cases)} case(s) x {args.repeats} repeat(s), "
        f"{settings.epochs} epoch(s) each",
        file=sys.stderr,
    )
    records = run_matrix(
        cases,
        settings,
        run_id=run_id,
        trigger=args.trigger,
        on_case_start=start,
        on_case_end=end,
        repeats=args.repeats,
    )
    print_comparison(summaries(records))
    stored = _store(records, args)
    failed = any(r.status == "failed" for r in records)
    return 1 if failed or not stored else 0


def _store(records: list[Record], args: argparse.Namespace) -> bool:
    """Write records to the warehouse; when it is unreachable keep them on disk, say how to load."""
    if args.no_store:
        return True
    from bench.warehouse import (
        WarehouseUnavailable,
        mask_url,
        spool_record,
        store_record,
        warehouse_url,
    )

    error: WarehouseUnavailable | None = None
    kept: list[Path] = []
    for record in records:
        try:
            store_record(record)
        except WarehouseUnavailable as exc:
            error = exc
            kept.append(spool_record(record))
    if error is not None:
        print(f"bench: error: {error}", file=sys.stderr)
        print(
            f"bench: {len(kept)} record(s) kept in {kept[0].parent}; load them later with "
            f"`bench ingest {kept[0].parent}`",
            file=sys.stderr,
        )
        return False
    print(f"stored in the warehouse: {mask_url(warehouse_url())}")
    return True
