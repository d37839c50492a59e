"""Regression detection: judge each run against its history and say what changed.

Layers, one way: pure functions over bench.records types (baseline, decision, changepoints,
assess, verdict, policy), then the entry points that read and write through bench.warehouse:
`detect_regressions` (bench detect, the DAG's last task), `alert`, and `acknowledge`
(bench ack). See docs/detection.md for the rules and BENCHMARKS.md for how well they work.
"""

from __future__ import annotations

from bench.analysis.acknowledgements import (
    acknowledge,
    list_acknowledgements,
    withdraw_acknowledgement,
)
from bench.analysis.alerting import WEBHOOK_ENV, alert
from bench.analysis.assess import SeriesJudgement, assess_run, judge_series, judge_values
from bench.analysis.baseline import Baseline, robust_baseline
from bench.analysis.changepoints import Drift, change_points, find_drift
from bench.analysis.decision import Judgement, Point, decide, violates
from bench.analysis.detection import DetectionResult, detect_regressions
from bench.analysis.policy import (
    DEFAULT_CONFIG,
    DETECTOR_VERSION,
    METRIC_POLICIES,
    DetectionConfig,
    MetricPolicy,
)
from bench.analysis.verdict import Verdict, run_verdict

__all__ = [
    "DEFAULT_CONFIG",
    "DETECTOR_VERSION",
    "METRIC_POLICIES",
    "WEBHOOK_ENV",
    "Baseline",
    "DetectionConfig",
    "DetectionResult",
    "Drift",
    "Judgement",
    "MetricPolicy",
    "Point",
    "SeriesJudgement",
    "Verdict",
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
    "run_verdict",
    "violates",
    "withdraw_acknowledgement",
]
