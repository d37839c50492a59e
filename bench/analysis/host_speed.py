"""The host's speed in time metrics: judge a time over the run's reference workload.

The reference workload (bench.calibration: a fixed GEMM burst and Python loop) is timed on the
case's cores just before it trains, so it measures how fast the host was for that run. The
host's speed drifts, in every case at once (BENCHMARKS.md, "On this machine's real noise"):
judged raw, a slow stretch of nights looks like a step. Judged over the reference, it does not,
and a shift that the reference shares is the machine's (`machine`), not the code's.

The reference misses some slow stretches (BENCHMARKS.md, "A fourth recording"), but they still
move most of the run's cases at once, which a code change rarely does. So a time is also judged
over the run-wide factor: how much slower than usual the run's other cases on the same device
were (run_factors), and a shift that the rest of the run shares is `machine` too.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from bench.analysis.decision import Point, series_stream
from bench.analysis.policy import REFERENCE_METRIC, TIME_METRICS, DetectionConfig
from bench.records import CaseResult, vs_reference

# Earlier reference values needed before a time shift can be blamed on the machine.
MIN_REFERENCE_HISTORY = 3
# Other cases of a run (same device) needed for its run-wide factor.
MIN_RUN_CASES = 2


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


def host_points(
    judged: CaseResult, history: Sequence[CaseResult], metric: str, config: DetectionConfig
) -> list[Point]:
    """The time at the host's speed: over the reference where the judged run has one (and
    config.over_reference), else the time itself."""
    if config.over_reference and (usual := over_reference(history, judged, metric)) is not None:
        return usual[0]
    return [point(r, metric) for r in [*history, judged]]


def relative_levels(values: Mapping[str, float], *, recent: int | None = None) -> dict[str, float]:
    """Each run's value (by run id, oldest first) over the median of the `recent` latest ones
    (all by default): 1.05 = 5% above usual. A recent centre keeps every case of a run near 1
    however far an old change moved it, so one case's change moves their median little."""
    latest = list(values.values())[-recent:] if recent else list(values.values())
    centre = statistics.median(latest) if latest else 0.0
    return {run: v / centre for run, v in values.items()} if centre > 0 else {}


def run_factors(
    levels: Iterable[Mapping[str, float]], *, least: int = MIN_RUN_CASES
) -> dict[str, float]:
    """Per run, the median of the cases' relative levels in it (relative_levels, one mapping
    per case): how much slower than usual the run's cases were. Runs with fewer than `least`
    cases get none."""
    by_run: dict[str, list[float]] = {}
    for case in levels:
        for run, level in case.items():
            by_run.setdefault(run, []).append(level)
    return {run: statistics.median(v) for run, v in by_run.items() if len(v) >= least}


def over_run(points: Sequence[Point], factors: Mapping[str, float]) -> list[Point]:
    """The series over each run's run-wide factor; runs without one drop out."""
    return [
        replace(
            p,
            value=None
            if p.value is None or p.run_id not in factors
            else p.value / factors[p.run_id],
        )
        for p in points
    ]
