"""Change points on fixed series: a step's first run, a drift's start, drifts the rule misses."""

from __future__ import annotations

from bench.analysis import DetectionConfig, MetricPolicy, change_points, find_drift, judge_values
from bench.analysis.changepoints import drift_start, last_change_point

from .conftest import wobble

TIME = MetricPolicy(min_change=0.05)
CONFIG = DetectionConfig()


def test_step_is_found_at_its_first_run() -> None:
    values = [wobble(i) for i in range(40)] + [wobble(i, 1.15) for i in range(40, 50)]
    assert change_points(values) == [40]
    assert last_change_point(values, CONFIG) == 40
    flat = [wobble(i) for i in range(50)]
    assert change_points(flat) == []
    assert last_change_point(flat, CONFIG) is None


def test_step_with_an_outlier_is_found_at_its_first_run() -> None:
    values = [wobble(i) for i in range(40)] + [wobble(i, 1.15) for i in range(40, 45)]
    values[20] = 1.8
    assert change_points(values)[-1] == 40


def test_drift_start_is_the_knee_of_the_ramp() -> None:
    values = [wobble(i) for i in range(50)] + [
        wobble(i, 1 + 0.005 * (i - 49)) for i in range(50, 90)
    ]
    assert abs(drift_start(values) - 50) <= 3


def test_slow_drift_missed_by_the_per_run_rule_is_a_drift() -> None:
    # +0.25% per run: the rolling baseline follows it, so no single night looks like a step
    values = [wobble(i) for i in range(60)] + [
        wobble(i, 1 + 0.0025 * (i - 59)) for i in range(60, 160)
    ]
    judgement, drift = judge_values(values, TIME, CONFIG)
    assert judgement.label in ("ok", "suspected")
    assert drift is not None
    assert drift.change > 2 * TIME.min_change
    start = len(values) - CONFIG.drift_lookback
    assert abs(drift.start_index - 60) <= 6 and drift.start_index >= start
    flat = [wobble(i) for i in range(160)]
    assert find_drift(flat, TIME, CONFIG) is None
    assert find_drift(values[:35], TIME, CONFIG) is None  # too short to tell
