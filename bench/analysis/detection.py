"""`detect_regressions`: judge one run against its history, store the flags, return them.

Called by `bench detect` and by the last task of the bench_nightly DAG. Reads in a few queries,
judges with the pure functions of bench.analysis.assess, then replaces the run's rows in
regression_flags in one transaction (running it twice leaves the same rows).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.analysis.assess import CaseKey, Flag, assess_run
from bench.analysis.policy import (
    BLOCKING_LABELS,
    DEFAULT_CONFIG,
    DETECTOR_VERSION,
    LABELS,
    DetectionConfig,
)

SUMMARY_LINES = 10


class RegressionFound(RuntimeError):
    """The run has a regression; the message is the readable summary."""


@dataclass
class DetectionResult:
    """What detection found for one run."""

    run_id: str
    trigger: str
    flags: list[Flag] = field(default_factory=list)
    series_judged: int = 0
    seconds: float = 0.0
    detector_version: str = DETECTOR_VERSION

    @property
    def blocking(self) -> list[Flag]:
        return [f for f in self.flags if f.label in BLOCKING_LABELS]

    @property
    def has_regression(self) -> bool:
        """True when a flag is `regression`, `drift` or `departure`: exit 2, the DAG fails."""
        return bool(self.blocking)

    def counts(self) -> dict[str, int]:
        found = Counter(f.label for f in self.flags)
        return {label: found[label] for label in LABELS if found[label]}

    def summary(self) -> str:
        """One line of counts, then one line per blocking flag (the first few)."""
        counts = ", ".join(f"{n} {label}" for label, n in self.counts().items()) or "no flags"
        lines = [f"run {self.run_id}: {counts} ({self.series_judged} series judged)"]
        for flag in self.blocking[:SUMMARY_LINES]:
            lines.append("  " + describe(flag))
        if len(self.blocking) > SUMMARY_LINES:
            lines.append(f"  ... and {len(self.blocking) - SUMMARY_LINES} more (bench detect)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (XCom, webhook): counts, the flags and the summary."""
        return {
            "run_id": self.run_id,
            "trigger": self.trigger,
            "has_regression": self.has_regression,
            "counts": self.counts(),
            "series_judged": self.series_judged,
            "seconds": round(self.seconds, 3),
            "detector_version": self.detector_version,
            "summary": self.summary(),
            "flags": [flag.to_row() for flag in self.flags],
        }

    def raise_for_regression(self) -> None:
        if self.has_regression:
            raise RegressionFound(self.summary())


def describe(flag: Flag) -> str:
    """e.g. `regression torch-compile-cpu steady_epoch_seconds: 0.52 vs 0.46 (+13.0%, z 6.2)`."""
    case = f"{flag.framework}-{flag.mode}-{flag.device}"
    text = f"{flag.label} {case} {flag.metric}"
    if flag.value is not None and flag.baseline_value is not None:
        text += f": {flag.value:.4g} vs {flag.baseline_value:.4g}"
    details = []
    if flag.change_pct is not None:
        details.append(f"{flag.change_pct:+.1f}%")
    if flag.z_score is not None:
        details.append(f"z {flag.z_score:.1f}")
    if flag.change_point_run_id:
        details.append(f"since run {flag.change_point_run_id}")
    return text + (f" ({', '.join(details)})" if details else "")


def detect_regressions(
    run_id: str | None = None,
    *,
    url: str | None = None,
    config: DetectionConfig | None = None,
    expected_cases: Iterable[CaseKey | Mapping[str, str]] | None = None,
    store: bool = True,
) -> DetectionResult:
    """Judge `run_id` (default: the latest run with results), store its flags, return them.

    expected_cases: the planned matrix (case tuples or dicts with framework, mode, device);
    default: the cases of the previous scheduled run when this run is scheduled, else none.
    Raises WarehouseUnavailable when the database is down, LookupError for an unknown run.
    """
    from bench.analysis import storage
    from bench.warehouse import get_engine, latest_run_id, upgrade
    from bench.warehouse.engine import connect
    from bench.warehouse.models import METRIC_COLUMNS

    started = time.perf_counter()
    config = config or DEFAULT_CONFIG
    upgrade(url)
    engine = get_engine(url)
    run_id = run_id or latest_run_id(url)
    if run_id is None:
        raise LookupError("the warehouse has no results yet; nothing to judge")
    metrics = [m for m in config.metrics if m in METRIC_COLUMNS]
    with connect(engine) as conn:
        run = storage.run_info(conn, run_id)
        results = storage.run_results(conn, run_id, metrics)
        limit = 2 * (config.drift_lookback + config.confirm_runs)
        histories = storage.histories(conn, results, metrics, limit=limit)
        skipped = [r.case for r in results if r.status == "skipped"]
        previous = storage.previous_statuses(conn, run, skipped)
        if expected_cases is not None:
            planned = {_case_key(case) for case in expected_cases}
        elif run["trigger"] == "scheduled":
            planned = storage.previous_scheduled_cases(conn, run)
        else:
            planned = set()
        acknowledged = storage.acknowledgement_starts(conn, run["started_at"])
    flags, judged = assess_run(
        run_id,
        results,
        histories,
        config,
        planned=planned,
        previous_status=previous,
        acknowledged=acknowledged,
    )
    if store:
        with connect(engine, write=True) as conn:
            storage.write_flags(conn, run_id, flags)
    return DetectionResult(run_id, run["trigger"], flags, judged, time.perf_counter() - started)


def _case_key(case: CaseKey | Mapping[str, str]) -> CaseKey:
    if isinstance(case, Mapping):
        return (case["framework"], case["mode"], case["device"])
    framework, mode, device = case
    return (framework, mode, device)
