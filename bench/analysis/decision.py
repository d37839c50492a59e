"""The per-run decision: one series' latest run against its robust baseline.

A run *violates* when it is beyond z_threshold spreads AND beyond the metric's minimum practical
change. `regression` needs joint evidence from the latest `confirm_runs` runs: after setting
aside a run far beyond the window's median (a one-night outlier), the rest must be consistent,
the median run clearly out, and their pooled z must pass `joint_z`. Pure functions over plain
values; no database here.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bench.analysis.baseline import Baseline, robust_baseline
from bench.analysis.policy import DetectionConfig, MetricPolicy


@dataclass(frozen=True)
class Point:
    """One run of a series: its value (None when the case did not end `ok`) and trigger."""

    run_id: str
    value: float | None
    scheduled: bool = True
    started_at: datetime | None = None


@dataclass(frozen=True)
class Judgement:
    """The label of the latest run of a series, with the numbers that led to it."""

    label: str
    value: float
    baseline: Baseline | None = None
    change: float | None = None  # relative to the baseline centre
    z: float | None = None
    pooled_z: float | None = None  # joint evidence of the window, when it decided
    window_run_ids: tuple[str, ...] = ()

    @property
    def change_pct(self) -> float | None:
        return None if self.change is None or not math.isfinite(self.change) else 100 * self.change


def violates(
    baseline: Baseline, value: float, policy: MetricPolicy, z_threshold: float, direction: int = 1
) -> bool:
    """Beyond the z threshold AND the practical change, in `direction` (+1 worse, -1 better)."""
    change = direction * baseline.change(value)
    return (
        direction * baseline.z(value) >= z_threshold
        and change >= policy.min_change
        and direction * (value - baseline.centre) >= policy.min_abs_change
    )


def joint_evidence(
    baseline: Baseline,
    window: Sequence[float],
    policy: MetricPolicy,
    config: DetectionConfig,
    direction: int = 1,
) -> float | None:
    """The window's pooled z when it jointly shows a shift in `direction`, else None.

    Measured from the window's median run: a run more than outlier_z spreads beyond it is set
    aside as a one-night outlier; a run more than consistent_z spreads short of it makes the
    window inconsistent (two outliers around a normal night, or a step still under way). The
    median run must be median_min_z out and the latest latest_min_z out (two of three runs
    agree), and the mean of the kept runs must pass joint_z (pooled: mean z x sqrt(n)) and the
    practical change.
    """
    zs = [direction * baseline.z(v) for v in window]
    middle = statistics.median(zs)
    if (
        min(zs) < middle - config.consistent_z
        or middle < config.median_min_z
        or zs[-1] < config.latest_min_z
    ):
        return None
    kept = [i for i, z in enumerate(zs) if z - middle <= config.outlier_z]
    mean_value = sum(window[i] for i in kept) / len(kept)
    pooled = sum(zs[i] for i in kept) / math.sqrt(len(kept))
    if pooled >= config.joint_z and violates(baseline, mean_value, policy, -math.inf, direction):
        return pooled
    return None


def decide(
    baseline_values: Sequence[float],
    window: Sequence[float],
    policy: MetricPolicy,
    config: DetectionConfig,
    *,
    window_run_ids: tuple[str, ...] = (),
) -> Judgement:
    """Label the last value of `window` (oldest first) against `baseline_values`."""
    value = window[-1]
    if len(baseline_values) < config.min_history:
        return Judgement("insufficient", value, window_run_ids=window_run_ids)
    baseline = robust_baseline(
        baseline_values, floor_fraction=config.spread_floor, trim=config.spread_trim
    )
    label, pooled = "ok", None
    if (pooled := joint_evidence(baseline, window, policy, config, 1)) is not None:
        label = "regression"
    elif violates(baseline, value, policy, config.z_threshold, 1):
        label = "suspected"
    elif (pooled := joint_evidence(baseline, window, policy, config, -1)) is not None:
        label = "improvement"
    return Judgement(
        label,
        value,
        baseline=baseline,
        change=baseline.change(value),
        z=baseline.z(value),
        pooled_z=pooled,
        window_run_ids=window_run_ids,
    )


def series_stream(
    points: Sequence[Point], config: DetectionConfig, *, since: datetime | None = None
) -> list[Point]:
    """The runs detection looks at: eligible earlier runs with a value, then the judged one.

    Eligible: scheduled runs (any run with include_manual) started at or after `since` (an
    acknowledgement restarts the baseline there). The last point is judged whatever its
    trigger; a manual run never enters a baseline unless asked.
    """
    *earlier, judged = points
    usable = [
        p
        for p in earlier
        if p.value is not None
        and (p.scheduled or config.include_manual)
        and (since is None or p.started_at is None or p.started_at >= since)
    ]
    return usable + [judged]


def split_history(
    points: Sequence[Point], config: DetectionConfig, *, since: datetime | None = None
) -> tuple[list[Point], list[Point]]:
    """(baseline, window) of the last point: the latest confirm_runs runs of its stream are
    the window, the baseline_runs before them the baseline."""
    stream = series_stream(points, config, since=since)
    cut = max(len(stream) - config.confirm_runs, 0)
    return stream[:cut][-config.baseline_runs :], stream[cut:]


def judge_series(
    points: Sequence[Point],
    policy: MetricPolicy,
    config: DetectionConfig,
    *,
    since: datetime | None = None,
) -> Judgement | None:
    """The latest point's judgement; None when it has no value (failed or missing case)."""
    if not points or points[-1].value is None:
        return None
    baseline, window = split_history(points, config, since=since)
    return decide(
        [p.value for p in baseline if p.value is not None],
        [p.value for p in window if p.value is not None],
        policy,
        config,
        window_run_ids=tuple(p.run_id for p in window),
    )
