"""The host's speed in time metrics: judge a time over the run's reference workload.

The reference workload (bench.calibration: a fixed GEMM burst and Python loop) is timed on the
case's cores just before it trains, so it measures how fast the host was for that run. The
host's speed drifts, in every case at once (BENCHMARKS.md, "On this machine's real noise"):
judged raw, a slow stretch of nights looks like a step. Judged over the reference, it does not,
and a shift that the reference shares is the machine's (`machine`), not the code's.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime

from bench.analysis.decision import Point, series_stream
from bench.analysis.policy import REFERENCE_METRIC, TIME_METRICS, DetectionConfig
from bench.records import CaseResult, vs_reference

# Earlier reference values needed before a time shift can be blamed on the machine.
MIN_REFERENCE_HISTORY = 3


def point(result: CaseResult, metric: str) -> Point:
    """One run of the series `metric` (no value unless the case ended `ok`)."""
    value = result.metrics.get(metric) if result.status == "ok" else None
    return Point(result.run_id, value, result.scheduled, result.started_at, result.noisy)


def over_reference(
    history: Sequence[CaseResult], judged: CaseResult, metric: str
) -> tuple[list[Point], float] | None:
    """The series of `metric` over each run's reference time, and the judged run's reference
    (a value over the reference x it is in seconds again); None when the judged run has no
    reference. Runs without one drop out of the series."""
    tonight = judged.metrics.get(REFERENCE_METRIC)
    if not tonight:
        return None
    points = []
    for result in [*history, judged]:
        raw = point(result, metric)
        ratio = vs_reference(raw.value, result.metrics.get(REFERENCE_METRIC))
        points.append(Point(raw.run_id, ratio, raw.scheduled, raw.started_at, raw.noisy))
    return points, tonight


def machine_slowdown(
    judged: CaseResult,
    history: Sequence[CaseResult],
    change: float,
    config: DetectionConfig,
    since: datetime | None = None,
) -> bool:
    """Did the reference workload slow down with the case (by machine_share x its change, and
    by the time metrics' practical change) against the median of its earlier eligible runs?"""
    points = [point(r, REFERENCE_METRIC) for r in history] + [point(judged, REFERENCE_METRIC)]
    if points[-1].value is None:
        return False
    *earlier, now = series_stream(points, config, since=since)
    values = [p.value for p in earlier if p.value is not None][-config.baseline_runs :]
    if len(values) < MIN_REFERENCE_HISTORY or now.value is None:
        return False
    reference_change = now.value / statistics.median(values) - 1
    policy = config.policy(TIME_METRICS[0])
    return reference_change >= max(policy.min_change, config.machine_share * change)
