"""Detection commands: `detect` (judge a run, exit 2 when it is red) and `ack` (accept a change).

bench.analysis is imported inside the handlers so `bench --help` stays fast.
"""

from __future__ import annotations

import argparse
from typing import Any

from bench.cli.common import UserError, add_format_option, one_line_errors
from bench.cli.output import print_rows

RED_EXIT = 2
FLAG_COLUMNS = [
    "label", "framework", "mode", "device", "metric", "value", "baseline_value", "change_pct",
    "z_score", "change_point_run_id",
]  # fmt: skip
ACK_COLUMNS = ["framework", "mode", "device", "metric", "from_run_id", "note", "created_at"]


def register(subparsers: Any) -> None:
    detect = subparsers.add_parser(
        "detect",
        help="judge a run against history and store its regression flags (exit 2 when red)",
        description="Judge every series of the run (framework, mode, device, environment) "
        "against a robust baseline of its earlier scheduled runs, plus failed, missing and newly "
        "skipped cases and compiled modes whose accuracy departs from eager. Stores the flags in "
        "regression_flags and prints them. Exit status: 2 when the run is red (a regression, drift "
        "or accuracy departure, or a failed or missing case: the verdict the bench_nightly DAG "
        "gives), 0 otherwise, 1 on errors.",
    )
    detect.add_argument("--run", metavar="ID", help="run id (default: the latest run)")
    detect.add_argument(
        "--format", choices=("table", "json"), default="table", help="(default: table)"
    )
    detect.add_argument(
        "--include-manual",
        action="store_true",
        help="let manual runs into the baselines (default: scheduled runs only)",
    )
    detect.add_argument(
        "--include-noisy",
        action="store_true",
        help="let results measured under contention (noisy) into the baselines (default: not)",
    )
    detect.add_argument(
        "--baseline-runs",
        type=int,
        metavar="N",
        help="baseline size (default: 120, DetectionConfig.baseline_runs)",
    )
    detect.add_argument("--no-store", action="store_true", help="print only; write no flags")
    detect.set_defaults(handler=_detect)

    ack = subparsers.add_parser(
        "ack",
        help="accept an intended change: the baseline restarts at --from RUN",
        description="Record that a change in a series is intended, so detection judges later "
        "runs against the new level only. Without arguments, or with --list, shows the "
        "acknowledgements.",
    )
    ack.add_argument("--framework")
    ack.add_argument("--mode")
    ack.add_argument("--device", default="cpu", help="(default: cpu)")
    ack.add_argument(
        "--metric",
        action="append",
        metavar="X",
        help="a metric, e.g. steady_epoch_seconds (repeat for several)",
    )
    ack.add_argument("--from", dest="from_run", metavar="RUN", help="first run of the new level")
    ack.add_argument("--note", default="", help="why the change is intended")
    ack.add_argument("--list", action="store_true", help="show the acknowledgements")
    add_format_option(ack)
    ack.set_defaults(handler=_ack)


@one_line_errors
def _detect(args: argparse.Namespace) -> int:
    from bench.analysis import DEFAULT_CONFIG, detect_regressions
    from bench.serialize import to_json

    lookback = None
    if args.baseline_runs:
        lookback = max(DEFAULT_CONFIG.drift_lookback, args.baseline_runs + 30)
    config = DEFAULT_CONFIG.with_options(
        include_manual=args.include_manual or None,
        include_noisy=args.include_noisy or None,
        baseline_runs=args.baseline_runs,
        drift_lookback=lookback,
    )
    result = detect_regressions(args.run, config=config, store=not args.no_store)
    if args.format == "json":
        print(to_json(result.to_dict()))
    else:
        print(result.summary().splitlines()[0])
        if result.flags:
            rows = [flag.to_dict() for flag in result.flags]
            print_rows(rows, FLAG_COLUMNS, "table")
        print(result.verdict.headline())
    return RED_EXIT if result.verdict.red else 0


@one_line_errors
def _ack(args: argparse.Namespace) -> int:
    from bench.analysis import acknowledge, list_acknowledgements
    from bench.config import Case

    given = [args.framework, args.mode, args.metric, args.from_run]
    if args.list or not any(given):
        print_rows([a.to_dict() for a in list_acknowledgements()], ACK_COLUMNS, args.format)
        return 0
    if not all(given):
        raise UserError("bench ack needs --framework, --mode, --metric and --from RUN (or --list)")
    case = Case(args.framework, args.mode, args.device)
    note = args.note or "acknowledged with bench ack"
    count = acknowledge(case, args.metric, args.from_run, note=note)
    print(f"acknowledged {count} metric(s) of {case.name} from run {args.from_run}")
    return 0
