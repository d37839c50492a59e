"""What one run is judged on, as flags: every series' metrics, the matrix, compiled vs eager.

Pure: the inputs are plain results (read from the warehouse by bench.analysis.storage); the
output is the list of flags to store. A series is (framework, mode, device, environment
fingerprint): results from another machine or framework version are never compared.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from bench.analysis.changepoints import Drift, find_drift, last_change_point
from bench.analysis.decision import Judgement, Point, decide, series_stream
from bench.analysis.policy import (
    ACCURACY_METRICS,
    DETECTOR_VERSION,
    STATUS_METRIC,
    DetectionConfig,
    MetricPolicy,
)

CaseKey = tuple[str, str, str]


@dataclass(frozen=True)
class CaseResult:
    """One case's result in one run, as detection needs it."""

    run_id: str
    framework: str
    mode: str
    device: str
    status: str
    started_at: datetime
    scheduled: bool
    fingerprint: str | None = None
    metrics: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def case(self) -> CaseKey:
        return (self.framework, self.mode, self.device)


@dataclass(frozen=True)
class Flag:
    """One row of regression_flags."""

    run_id: str
    framework: str
    mode: str
    device: str
    metric: str
    label: str
    environment_fingerprint: str | None = None
    baseline_value: float | None = None
    value: float | None = None
    change_pct: float | None = None
    z_score: float | None = None
    change_point_run_id: str | None = None
    detector_version: str = DETECTOR_VERSION

    def to_row(self) -> dict[str, object]:
        return {k: _finite(v) for k, v in asdict(self).items()}


SHIFT_LABELS = frozenset({"regression", "suspected", "improvement"})


def judge_values(
    values: Sequence[float],
    policy: MetricPolicy,
    config: DetectionConfig,
    *,
    localize: bool = True,
) -> tuple[Judgement, Drift | None]:
    """The latest value's judgement and, when the per-run rule saw no shift, a slow drift.

    values: the series' stream (see series_stream), oldest first, the judged run last.
    """
    cut = max(len(values) - config.confirm_runs, 0)
    judgement = decide(values[:cut][-config.baseline_runs :], values[cut:], policy, config)
    if judgement.label in SHIFT_LABELS:
        return judgement, None
    return judgement, find_drift(values, policy, config, localize=localize)


def metric_flag(
    judged: CaseResult,
    metric: str,
    history: Sequence[CaseResult],
    config: DetectionConfig,
    since: datetime | None = None,
) -> Flag | None:
    """The flag for one metric of the judged result (history: its series, oldest first)."""
    points = [_point(r, metric) for r in history] + [_point(judged, metric)]
    if points[-1].value is None:
        return None
    policy = config.policy(metric)
    stream = series_stream(points, config, since=since)
    values = [p.value for p in stream if p.value is not None]
    judgement, drift = judge_values(values, policy, config)
    if drift is not None:
        return _flag(
            judged,
            metric,
            judgement,
            label="drift",
            baseline_value=drift.reference.centre,
            change=drift.change,
            z=drift.z,
            change_point=stream[drift.start_index].run_id,
        )
    if judgement.label not in SHIFT_LABELS:
        return None if judgement.label == "ok" else _flag(judged, metric, judgement)
    change_point = None
    index = last_change_point(values, config)
    if index is not None:
        change_point = stream[index].run_id
    return _flag(judged, metric, judgement, change_point=change_point)


def status_flags(
    run_id: str,
    results: Iterable[CaseResult],
    *,
    planned: Iterable[CaseKey],
    previous_status: Mapping[CaseKey, str],
) -> list[Flag]:
    """Failed cases, planned cases without a result, and cases skipped now but not before."""
    flags = []
    seen: set[CaseKey] = set()
    for result in results:
        seen.add(result.case)
        label = None
        if result.status == "failed":
            label = "failed"
        elif (
            result.status == "skipped" and previous_status.get(result.case, "skipped") != "skipped"
        ):
            label = "skipped"
        if label:
            flags.append(Flag(run_id, *result.case, STATUS_METRIC, label, result.fingerprint))
    for case in sorted(set(planned) - seen):
        flags.append(Flag(run_id, *case, STATUS_METRIC, "missing"))
    return flags


def accuracy_flags(results: Iterable[CaseResult], config: DetectionConfig) -> list[Flag]:
    """Compiled modes whose test error is worse than eager's (same framework, device, run)."""
    ok = {r.case: r for r in results if r.status == "ok"}
    flags = []
    for (framework, mode, device), result in sorted(ok.items()):
        eager = ok.get((framework, "eager", device))
        if mode == "eager" or eager is None:
            continue
        for metric in ACCURACY_METRICS:
            value, reference = result.metrics.get(metric), eager.metrics.get(metric)
            if value is None or not reference:
                continue
            change = value / reference - 1
            if change > config.accuracy_tolerance:
                kind, budget = metric.removeprefix("test_").rsplit("_", 1)
                flags.append(
                    Flag(
                        result.run_id,
                        framework,
                        mode,
                        device,
                        f"accuracy_vs_eager:test_{kind}@{budget}",
                        "departure",
                        result.fingerprint,
                        reference,
                        value,
                        100 * change,
                    )  # fmt: skip
                )
    return flags


def _point(result: CaseResult, metric: str) -> Point:
    value = result.metrics.get(metric) if result.status == "ok" else None
    return Point(result.run_id, value, result.scheduled, result.started_at)


def _flag(
    judged: CaseResult,
    metric: str,
    judgement: Judgement,
    *,
    label: str | None = None,
    baseline_value: float | None = None,
    change: float | None = None,
    z: float | None = None,
    change_point: str | None = None,
) -> Flag:
    baseline = judgement.baseline
    return Flag(
        judged.run_id,
        judged.framework,
        judged.mode,
        judged.device,
        metric,
        label or judgement.label,
        judged.fingerprint,
        baseline_value if baseline_value is not None else (baseline.centre if baseline else None),
        judgement.value,
        100 * change if change is not None else judgement.change_pct,
        z if z is not None else judgement.z,
        change_point,
    )


def _finite(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def assess_run(
    run_id: str,
    results: Sequence[CaseResult],
    histories: Mapping[CaseKey, Sequence[CaseResult]],
    config: DetectionConfig,
    *,
    planned: Iterable[CaseKey] = (),
    previous_status: Mapping[CaseKey, str] | None = None,
    acknowledged: Mapping[tuple[str, ...], datetime] | None = None,
) -> tuple[list[Flag], int]:
    """Every flag of one run, and how many metric series were judged."""
    flags = status_flags(run_id, results, planned=planned, previous_status=previous_status or {})
    judged = 0
    for result in results:
        if result.status != "ok":
            continue
        for metric in config.metrics:
            if result.metrics.get(metric) is None:
                continue
            judged += 1
            since = (acknowledged or {}).get((*result.case, metric))
            flag = metric_flag(result, metric, histories.get(result.case, ()), config, since)
            if flag is not None:
                flags.append(flag)
    return flags + accuracy_flags(results, config), judged
