"""The per-run decision: one series' latest run against its robust baseline.

A run *violates* when it is beyond z_threshold spreads AND beyond the metric's minimum practical
change. `regression` needs joint evidence from the latest `confirm_runs` runs: a likelihood ratio
that is robust to one-night outliers (bench.analysis.likelihood) must pass `evidence_threshold`
and the window's median run must be beyond the practical change; on a series without outlier
nights, a shift sustained over the latest `sustained_runs` runs also makes a `regression`
(`sustained_shift`). Pure functions over plain values; no database here.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from bench.analysis.baseline import Baseline, robust_baseline
from bench.analysis.likelihood import shift_evidence
from bench.analysis.policy import DetectionConfig, MetricPolicy

T = TypeVar("T")


@dataclass(frozen=True)
class Point:
    """One run of a series: its value (None when the case did not end `ok`) and trigger."""

    run_id: str
    value: float | None
    scheduled: bool = True
    started_at: datetime | None = None
    noisy: bool = False


@dataclass(frozen=True)
class Judgement:
    """The label of the latest run of a series, with the numbers that led to it."""

    label: str
    value: float
    baseline: Baseline | None = None
    change: float | None = None  # relative to the baseline centre
    z: float | None = None
    evidence: float | None = None  # the window's log-likelihood ratio, when it decided
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
    history: Sequence[float] = (),
) -> float | None:
    """The window's evidence (a log-likelihood ratio) when it jointly shows a shift in
    `direction`, else None.

    The shift tested is design_factor x the practical change (see bench.analysis.likelihood;
    on a precise series, whose practical change is precise_z spreads or more, it is also tried
    from inside the window); a larger, fitted shift costs large_shift_penalty, or
    rare_shift_penalty where two outlier nights in a row are too rare to pass for a step
    (`rare_outliers`, which also lifts the inside-window cap); the evidence must reach
    evidence_threshold and the window's median run must itself be beyond the practical change,
    or beyond the policy's precise_change when it is also precise_z spreads out (`median_gate`);
    on a precise series without outlier nights the median of the window's last two runs may
    clear it instead.
    """
    practical = max(policy.min_change * abs(baseline.centre), policy.min_abs_change)
    precise = practical >= config.precise_z * baseline.spread
    rare = rare_outliers(baseline, history, config, direction)
    evidence, _ = shift_evidence(
        [baseline.z(v) for v in window],
        config.design_factor * practical / baseline.spread,
        direction=direction,
        outlier_z=config.outlier_z,
        large_shift_penalty=config.rare_shift_penalty if rare else config.large_shift_penalty,
        relative_spread=baseline.spread / abs(baseline.centre) if baseline.centre else 0.0,
        inside_cap=config.inside_shift_cap,
        uncapped=rare,
        inside_design=precise,
    )
    middle = statistics.median(window)
    if precise and rare:  # a step on the window's 2nd run leaves its 1st at the old level
        middle = max(middle, statistics.median(window[-2:]), key=lambda v: direction * v)
    if evidence >= config.evidence_threshold and violates(
        baseline, middle, median_gate(baseline, policy, config, precise), -math.inf, direction
    ):
        return evidence
    return None


def median_gate(
    baseline: Baseline, policy: MetricPolicy, config: DetectionConfig, precise: bool
) -> MetricPolicy:
    """The change the window's median must clear: min_change, or on a precise series (see
    joint_evidence) precise_z spreads, but at least precise_change. A step of exactly min_change
    has a median beyond min_change only half the time; on a precise series a smaller median is
    already many spreads out."""
    if not precise or policy.precise_change is None or baseline.centre == 0:
        return policy
    spreads = config.precise_z * baseline.spread / abs(baseline.centre)
    return replace(policy, min_change=max(policy.precise_change, spreads), precise_change=None)


def sustained_shift(
    baseline_values: Sequence[float],
    window: Sequence[float],
    policy: MetricPolicy,
    config: DetectionConfig,
) -> int:
    """The direction (+1 worse, -1 better) in which the latest `sustained_runs` runs (the
    window and the runs just before it) moved together against the baseline before them, else
    0: the lower half of their z values in that direction must average `sustained_z` or more,
    and their median must clear the practical change, or the policy's precise_change where it
    has one; only on a series without outlier nights (`rare_outliers`, over the runs before the
    window, as joint_evidence counts them). At most one direction can pass. The window's test
    asks its median to clear the practical change, which a step of exactly that size does only
    half the time; four runs that all stayed up say more than their median, and their lower
    half ignores two outlier nights among them."""
    count = config.sustained_runs
    stream = [*baseline_values, *window]
    if not count or len(stream) - count < config.min_history:
        return 0
    history, runs = stream[:-count], stream[-count:]
    baseline = robust_baseline(history, floor_fraction=config.spread_floor, trim=config.spread_trim)
    zs = sorted(baseline.z(v) for v in runs)
    change = policy.min_change if policy.precise_change is None else policy.precise_change
    gate = replace(policy, min_change=change)
    middle = statistics.median(runs)
    for direction, lower in ((1, zs[: count // 2]), (-1, [-z for z in zs[::-1][: count // 2]])):
        if (
            statistics.fmean(lower) >= config.sustained_z
            and violates(baseline, middle, gate, -math.inf, direction)
            # outlier nights counted as joint_evidence counts them, up to the window
            and rare_outliers(baseline, baseline_values, config, direction)
        ):
            return direction
    return 0


def rare_outliers(
    baseline: Baseline, history: Sequence[float], config: DetectionConfig, direction: int = 1
) -> bool:
    """Two outlier nights in a row are too rare here to pass for a step: with k of the n
    baseline runs outlier_z spreads or more out in `direction`, the chance that two given runs
    are both outliers, (k+1)(k+2) / ((n+2)(n+3)) (the mean of rate^2 under a uniform prior on
    the outlier rate), is at most outlier_pair_rate. At the default 0.001: k <= 2 of 120 runs,
    none of 43."""
    far = sum(direction * baseline.z(v) >= config.outlier_z for v in history)
    n = len(history)
    return (far + 1) * (far + 2) <= config.outlier_pair_rate * (n + 2) * (n + 3)


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
    label, evidence = "ok", None
    sustained = sustained_shift(baseline_values, window, policy, config)
    if (
        evidence := joint_evidence(baseline, window, policy, config, 1, baseline_values)
    ) is not None or sustained == 1:
        label = "regression"
    elif violates(baseline, value, policy, config.z_threshold, 1):
        label = "suspected"
    elif (
        evidence := joint_evidence(baseline, window, policy, config, -1, baseline_values)
    ) is not None or sustained == -1:
        label = "improvement"
    return Judgement(
        label,
        value,
        baseline=baseline,
        change=baseline.change(value),
        z=baseline.z(value),
        evidence=evidence,
        window_run_ids=window_run_ids,
    )


def series_stream(
    points: Sequence[Point], config: DetectionConfig, *, since: datetime | None = None
) -> list[Point]:
    """The runs detection looks at: eligible earlier runs with a value, then the judged one.

    Eligible: scheduled runs (any run with include_manual) not measured under contention (any
    with include_noisy) started at or after `since` (an acknowledgement restarts the baseline
    there). The last point is judged whatever its trigger; a manual or noisy run never enters a
    baseline unless asked.
    """
    *earlier, judged = points
    usable = [
        p
        for p in earlier
        if p.value is not None
        and (p.scheduled or config.include_manual)
        and (not p.noisy or config.include_noisy)
        and (since is None or p.started_at is None or p.started_at >= since)
    ]
    return usable + [judged]


def split_window(values: Sequence[T], config: DetectionConfig) -> tuple[list[T], list[T]]:
    """(baseline, window) of a stream, oldest first: its latest confirm_runs runs are the
    window, the baseline_runs before them the baseline."""
    cut = max(len(values) - config.confirm_runs, 0)
    return list(values[:cut][-config.baseline_runs :]), list(values[cut:])
