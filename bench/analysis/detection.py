"""`detect_regressions`: judge one run against its history, store the flags, return them.

Called by `bench detect` and by the last task of the bench_nightly DAG. Reads in a few queries
(bench.warehouse.histories), judges with the pure functions of bench.analysis.assess, then
replaces the run's rows in regression_flags in one transaction (running it twice leaves the
same rows).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.analysis.assess import assess_run
from bench.analysis.policy import (
    DEFAULT_CONFIG,
    DETECTOR_VERSION,
    REFERENCE_METRIC,
    DetectionConfig,
)
from bench.analysis.verdict import Verdict, run_verdict
from bench.config import Case
from bench.records import FLAG_LABELS, Flag


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
    def verdict(self) -> Verdict:
        """Red when a flag is blocking: `bench detect` exits 2, the DAG run fails, alerts go out."""
        return run_verdict(self.run_id, self.flags)

    def counts(self) -> dict[str, int]:
        found = Counter(f.label for f in self.flags)
        return {label: found[label] for label in FLAG_LABELS if found[label]}

    def summary(self) -> str:
        """One line of counts, then one line per blocking flag (the first few)."""
        counts = ", ".join(f"{n} {label}" for label, n in self.counts().items()) or "no flags"
        lines = [f"run {self.run_id}: {counts} ({self.series_judged} series judged)"]
        return "\n".join(lines + ["  " + reason for reason in self.verdict.reasons()])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (XCom, webhook): the verdict, counts, the flags and the summary."""
        return {
            "run_id": self.run_id,
            "trigger": self.trigger,
            "red": self.verdict.red,
            "counts": self.counts(),
            "series_judged": self.series_judged,
            "seconds": round(self.seconds, 3),
            "detector_version": self.detector_version,
            "summary": self.summary(),
            "flags": [flag.to_dict() for flag in self.flags],
        }


def detect_regressions(
    run_id: str | None = None,
    *,
    url: str | None = None,
    config: DetectionConfig | None = None,
    expected_cases: Iterable[Case | Mapping[str, str]] | None = None,
    store: bool = True,
) -> DetectionResult:
    """Judge `run_id` (default: the latest run with results), store its flags, return them.

    expected_cases: the planned matrix (cases, or dicts with framework, mode, device);
    default: the cases of the previous scheduled run when this run is scheduled, else none.
    Raises WarehouseUnavailable when the database is down, NotFound for an unknown run.
    """
    from bench.warehouse import NotFound, get_engine, histories, latest_run_id, upgrade
    from bench.warehouse.engine import connect
    from bench.warehouse.models import METRIC_COLUMNS
    from bench.warehouse.runs import read_run
    from bench.warehouse.store import write_flags

    started = time.perf_counter()
    config = config or DEFAULT_CONFIG
    upgrade(url)
    engine = get_engine(url)
    run_id = run_id or latest_run_id(url)
    if run_id is None:
        raise NotFound("the warehouse has no results yet; nothing to judge")
    # The reference workload is read, not judged: it tells a slower machine from slower code.
    metrics = [m for m in config.metrics if m in METRIC_COLUMNS] + [REFERENCE_METRIC]
    with connect(engine) as conn:
        run = read_run(conn, run_id)
        results = histories.run_results(conn, run_id, metrics)
        limit = 2 * (config.drift_lookback + config.confirm_runs)
        earlier = histories.histories(conn, results, metrics, limit=limit)
        skipped = [r.case for r in results if r.status == "skipped"]
        previous = histories.previous_statuses(conn, run, skipped)
        if expected_cases is not None:
            planned = {_case(case) for case in expected_cases}
        elif run.trigger == "scheduled":
            planned = histories.previous_scheduled_cases(conn, run)
        else:
            planned = set()
        acknowledged = histories.acknowledgement_starts(conn, run.started_at)
    flags, judged = assess_run(
        run_id,
        results,
        earlier,
        config,
        planned=planned,
        previous_status=previous,
        acknowledged=acknowledged,
    )
    if store:
        with connect(engine, write=True) as conn:
            write_flags(conn, run_id, flags)
    return DetectionResult(run_id, run.trigger, flags, judged, time.perf_counter() - started)


def _case(case: Case | Mapping[str, str]) -> Case:
    if isinstance(case, Case):
        return case
    return Case(case["framework"], case["mode"], case["device"])
