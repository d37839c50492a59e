"""`bench run` (one case) and `bench matrix` (many cases), each case in its own process."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.cli.common import UserError, positive
from bench.cli.keeping import Keeper
from bench.cli.tables import print_comparison
from bench.conditions import CoresError, cpu_case_cores
from bench.config import (
    DEVICES,
    FRAMEWORK_MODES,
    MAX_SEED,
    TRIGGERS,
    Case,
    RunSettings,
    all_cases,
    check_seed,
)
from bench.data.validation import DATA_VALIDATION_KEY
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
        "--repeats", type=positive(int), default=1, metavar="N",
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


def _seed(text: str) -> int:
    try:
        return check_seed(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--epochs", type=positive(int), default=30, help="epoch budget (default: 30, "
        "which also yields the 10 and 20 epoch test metrics)"
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=_seed, default=42,
        help=f"split, init and shuffle seed, 0 to {MAX_SEED} (default 42)",
    )  # fmt: skip
    parser.add_argument(
        "--threads", type=positive(int), default=None,
        help="intra-op threads per case (default: BENCH_THREADS or 1)",
    )  # fmt: skip
    parser.add_argument("--data-home", help="sklearn data_home (default: BENCH_DATA_HOME)")
    parser.add_argument("--run-id", help="group results under this run id (default: a new id)")
    parser.add_argument(
        "--note", metavar="TEXT",
        help="why this run was made; kept with the run (bench runs, bench results, the report)",
    )  # fmt: skip
    parser.add_argument("--trigger", choices=TRIGGERS, default="cli", help=argparse.SUPPRESS)
    parser.add_argument(
        "--no-store", action="store_true", help="do not write the record to the warehouse"
    )
    parser.add_argument(
        "--allow-invalid-data", action="store_true",
        help="train even when the dataset fails validation (the record says so)",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _settings(args: argparse.Namespace) -> RunSettings:
    try:
        settings = RunSettings.from_env(
            epochs=args.epochs, seed=args.seed, threads=args.threads, data_home=args.data_home
        )
    except ValueError as exc:
        raise UserError(str(exc), exit_code=2) from exc  # names the variable and its range
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


def _check_data(settings: RunSettings, *, allow_invalid: bool) -> str:
    """Validate the data once, here, before any case trains; the verdict each record carries."""
    from bench.data.loading import DatasetUnavailable
    from bench.data.validation import summarize_failures, validate_dataset, validation_verdict

    try:
        report = validate_dataset(data_home=settings.data_home)
    except DatasetUnavailable as exc:
        raise UserError(str(exc), exit_code=2) from exc
    if report.success:
        return validation_verdict(report)
    failed = summarize_failures(report)
    if not allow_invalid:
        home = f" --data-home {settings.data_home}" if settings.data_home else ""
        raise UserError(
            f"the dataset failed validation: {failed}; fix the data (`bench validate{home}` "
            "shows every failure) or pass --allow-invalid-data to train on it anyway",
            exit_code=2,
        )
    print(f"bench: warning: training anyway (--allow-invalid-data): {failed}", file=sys.stderr)
    return f"{validation_verdict(report)} (trained anyway: --allow-invalid-data)"


# The progress bar: no tqdm rate, which would count the worker's start-up as epoch time.
BAR_FORMAT = "{desc}: {n_fmt}/{total_fmt} epochs |{bar}| {elapsed}{postfix}"
STARTING = "starting worker (loading the framework and data)"


def _progress(case: Case, epochs: int, quiet: bool) -> tuple[EpochCallback | None, object]:
    """A tqdm bar over epochs on stderr; returns (callback, bar). It says "starting worker"
    until the first epoch ends, then each epoch's own measured seconds."""
    if quiet:
        return None, None
    from tqdm import tqdm

    bar = tqdm(
        total=epochs, desc=case.name, file=sys.stderr, leave=False, bar_format=BAR_FORMAT,
        postfix=STARTING, mininterval=0,  # every epoch shows: there are at most a few hundred
    )  # fmt: skip

    def on_epoch(epoch: int, seconds: float, train_mae: float) -> None:
        warm_up = " with warm-up" if epoch == 1 else ""
        bar.set_postfix_str(
            f"epoch {epoch}: {seconds:.3f} s{warm_up}, train MAE {train_mae:.4f}", refresh=False
        )
        bar.update(1)

    return on_epoch, bar


def _run(args: argparse.Namespace) -> int:
    try:
        case = Case(args.framework, args.mode, args.device)
    except ValueError as exc:
        raise UserError(str(exc), exit_code=2) from exc
    settings = _settings(args)
    run_id = _run_id(args)
    data_validation = _check_data(settings, allow_invalid=args.allow_invalid_data)
    on_epoch, bar = _progress(case, settings.epochs, args.quiet)
    record = run_case(case, settings, run_id=run_id, trigger=args.trigger, on_epoch=on_epoch)
    record.environment[DATA_VALIDATION_KEY] = data_validation
    record.note = args.note or None
    if bar is not None:
        bar.close()  # type: ignore[attr-defined]
    keeper = Keeper(store=not args.no_store)
    keeper.keep(record, args.json)  # first: nothing after training may lose the record
    from bench.cli.tables import print_epoch_table, print_summary

    print_epoch_table(record)
    print_summary(record)
    keeper.report()
    return 1 if record.status == "failed" else 0


def _matrix(args: argparse.Namespace) -> int:
    try:
        cases = all_cases(frameworks=args.framework, modes=args.mode, devices=args.device)
    except ValueError as exc:
        raise UserError(str(exc), exit_code=2) from exc
    if not cases:
        raise UserError("no case matches these --framework/--mode/--device filters", exit_code=2)
    settings = _settings(args)
    run_id = _run_id(args)
    data_validation = _check_data(settings, allow_invalid=args.allow_invalid_data)
    bars: list[object] = []
    keeper = Keeper(store=not args.no_store)

    def start(case: Case) -> EpochCallback | None:
        on_epoch, bar = _progress(case, settings.epochs, args.quiet)
        bars.append(bar)
        return on_epoch

    def end(record: Record) -> None:
        record.environment[DATA_VALIDATION_KEY] = data_validation
        record.note = args.note or None
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
        suffix = f"-r{record.repeat}" if args.repeats > 1 else ""
        path = args.json_dir / f"{record.case.name}{suffix}.json" if args.json_dir else None
        keeper.keep(record, path)  # as each case ends: a later failure cannot lose it

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
    keeper.report()
    return 1 if any(r.status == "failed" for r in records) else 0
