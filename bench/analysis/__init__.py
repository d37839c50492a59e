"""Regression detection: judge each run against its history and say what changed.

Layers, one way: pure functions over plain values (baseline, decision, changepoints, assess,
policy), then the thin warehouse side (storage) and the entry points: `detect_regressions`
(bench detect, the DAG's last task), `alert`, and `acknowledge` (bench ack). See
docs/detection.md for the rules and BENCHMARKS.md for how well they work.
"""

from __future__ import annotations

from bench.analysis.acknowledgements import acknowledge, list_acknowledgements
from bench.analysis.alerting import WEBHOOK_ENV, alert
from bench.analysis.baseline import Baseline, robust_baseline
from bench.analysis.changepoints import Drift, change_points, find_drift
from bench.analysis.decision import Judgement, Point, decide, judge_series, violates
from bench.analysis.detection import DetectionResult, RegressionFound, detect_regressions
from bench.analysis.assess import CaseResult, Flag, assess_run, judge_values
from bench.analysis.policy import (
    BLOCKING_LABELS,
    DEFAULT_CONFIG,
    DETECTOR_VERSION,
    LABELS,
    METRIC_POLICIES,
    DetectionConfig,
    MetricPolicy,
)

__all__ = [
    "BLOCKING_LABELS",
    "DEFAULT_CONFIG",
    "DETECTOR_VERSION",
    "LABELS",
    "METRIC_POLICIES",
    "WEBHOOK_ENV",
    "Baseline",
    "CaseResult",
    "DetectionConfig",
    "DetectionResult",
    "Drift",
    "Flag",
    "Judgement",
    "MetricPolicy",
    "Point",
    "RegressionFound",
    "acknowledge",
    "alert",
    "assess_run",
    "change_points",
    "decide",
    "detect_regressions",
    "find_drift",
    "judge_series",
    "judge_values",
    "list_acknowledgements",
    "robust_baseline",
    "violates",
]
