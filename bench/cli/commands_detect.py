"""Detection commands: `detect` (judge a run, exit 2 when it is red) and `ack` (accept a change,
list or withdraw acceptances).

bench.analysis is imported inside the handlers so `bench --help` stays fast.
"""

from __future__ import annotations

import argparse
from typing import Any

from bench.analysis.policy import DEFAULT_CONFIG
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
from bench.cli.output import print_rows
from bench.config import DEVICES, FRAMEWORK_MODES
from bench.measure import MIB

RED_EXIT = 2
FLAG_COLUMNS = [
    "label", "framework", "mode", "device", "metric", "value", "baseline_value", "unit",
    "change_pct", "z_score", "change_point_run_id",
]  # fmt: skip
ACK_COLUMNS = ["id", "framework", "mode", "device", "metric", "from_run_id", "note", "created_at"]


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
        type=positive(int),
        metavar="N",
        help="baseline size (default: 120, DetectionConfig.baseline_runs)",
    )
    detect.add_argument("--no-store", action="store_true", help="print only; write no flags")
    detect.set_defaults(handler=_detect)

    ack = subparsers.add_parser(
        "ack",
        help="accept an intended change: the baseline restarts at --from RUN",
        description="Record that a change in a series is intended, so detection judges later "
        "runs against the new level only: --framework, --mode, --metric, --from and --note are "
        "required. A metric is acknowledged once per run (a second time is refused: withdraw "
        "the first). Without arguments, or with --list, shows the acknowledgements with their "
        "ids; --withdraw ID deletes one, so detection judges the series against its old level "
        "again from the next `bench detect`.",
    )
    ack.add_argument("--framework", choices=sorted(FRAMEWORK_MODES))
    ack.add_argument("--mode", help=modes_help())
    ack.add_argument("--device", default="cpu", choices=DEVICES, help="(default: cpu)")
    add_metric_option(ack, list(DEFAULT_CONFIG.metrics), repeat=True)
    ack.add_argument("--from", dest="from_run", metavar="RUN", help="first run of the new level")
    ack.add_argument("--note", help="why the change is intended (required)")
    ack.add_argument("--list", action="store_true", help="show the acknowledgements")
    ack.add_argument(
        "--withdraw",
        type=_ack_id,
        metavar="ID",
        help="delete acknowledgement ID (see --list); detection stops honouring it",
    )
    add_format_option(ack)
    ack.set_defaults(handler=_ack)


def _ack_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an acknowledgement id: {text!r}") from None


@one_line_errors
@reads_warehouse
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
            rows = [_in_units(flag.to_dict()) for flag in result.flags]
            print_rows(rows, FLAG_COLUMNS, "table")
        print(result.verdict.headline())
    return RED_EXIT if result.verdict.red else 0


def _in_units(row: dict[str, Any]) -> dict[str, Any]:
    """A flag's row for the table: memory in MiB like every table, the unit in its own column."""
    metric = str(row["metric"])
    if metric.endswith("_bytes"):
        for name in ("value", "baseline_value"):
            row[name] = None if row[name] is None else row[name] / MIB
        row["unit"] = "MiB"
    elif metric.endswith("_seconds"):
        row["unit"] = "s"
    return row


@one_line_errors
@reads_warehouse
def _ack(args: argparse.Namespace) -> int:
    from bench.analysis import acknowledge, list_acknowledgements, withdraw_acknowledgement

    given = {
        "--framework": args.framework,
        "--mode": args.mode,
        "--metric": args.metric,
        "--from": args.from_run,
        "--note": (args.note or "").strip(),
    }
    if args.withdraw is not None:
        if args.list or any(given.values()):
            raise UserError("--withdraw ID takes no other option", exit_code=2)
        ack = withdraw_acknowledgement(args.withdraw)
        print(
            f"withdrew acknowledgement {args.withdraw}: {ack.case.name} {ack.metric} from run "
            f"{ack.from_run_id} ({ack.note!r}); detection judges against the old level again "
            "from the next `bench detect` (flags stored before stay until their run is judged "
            "again)"
        )
        return 0
    if args.list or not any(given.values()):
        print_rows([a.to_dict() for a in list_acknowledgements()], ACK_COLUMNS, args.format)
        return 0
    missing = [option for option, value in given.items() if not value]
    if missing:
        raise UserError(
            f"bench ack needs {', '.join(missing)} to acknowledge a change (--note WHY says why "
            "it is intended); --list shows the acknowledgements",
            exit_code=2,
        )
    case = checked_case(args.framework, args.mode, args.device)
    ids = acknowledge(case, args.metric, args.from_run, note=args.note)
    print(
        f"acknowledged {len(ids)} metric(s) of {case.name} from run {args.from_run} "
        f"(id {', '.join(map(str, ids))}; withdraw with `bench ack --withdraw ID`)"
    )
    return 0
