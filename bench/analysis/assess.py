"""What one run is judged on, as flags: every series' metrics, the matrix, compiled vs eager.

Pure: the inputs are bench.records.CaseResult values (read by bench.warehouse.histories); the
output is the list of flags to store. A series is (framework, mode, device, environment
fingerprint): results from another machine or framework version are never compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from bench.analysis.changepoints import Drift, find_drift, last_change_point
from bench.analysis.decision import Judgement, Point, decide, series_stream, split_window
from bench.analysis.host_speed import machine_slowdown, over_reference, point
from bench.analysis.policy import (
    ACCURACY_METRICS,
    DETECTOR_VERSION,
    TIME_METRICS,
    DetectionConfig,
    MetricPolicy,
)
from bench.config import Case
from bench.records import STATUS_METRIC, CaseResult, Flag

SHIFT_LABELS = frozenset({"regression", "suspected", "improvement"})
# Labels that say "worse": a noisy run downgrades them, a slower machine explains them.
WORSE_LABELS = frozenset({"regression", "drift", "suspected"})


class SeriesJudgement(NamedTuple):
    """The judged run's label and, when the per-run rule saw no shift, a slow drift."""

    stream: list[Point]  # the runs looked at, oldest first, the judged one last
    judgement: Judgement
    drift: Drift | None


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
    baseline, window = split_window(values, config)
    judgement = decide(baseline, window, policy, config)
    if judgement.label in SHIFT_LABELS:
        return judgement, None
    return judgement, find_drift(values, policy, config, localize=localize)


def judge_series(
    points: Sequence[Point],
    policy: MetricPolicy,
    config: DetectionConfig,
    *,
    since: datetime | None = None,
    localize: bool = True,
) -> SeriesJudgement | None:
    """Judge the last point against the eligible earlier ones; None when it has no value
    (a failed or skipped case). `since`: an acknowledgement restarts the baseline there."""
    if not points or points[-1].value is None:
        return None
    stream = series_stream(points, config, since=since)
    values = [p.value for p in stream if p.value is not None]
    judgement, drift = judge_values(values, policy, config, localize=localize)
    return SeriesJudgement(stream, judgement, drift)


def metric_flag(
    judged: CaseResult,
    metric: str,
    history: Sequence[CaseResult],
    config: DetectionConfig,
    since: datetime | None = None,
) -> Flag | None:
    """The flag for one metric of the judged result (history: its series, oldest first).

    A time is judged over the run's reference workload (bench.analysis.host_speed) once the
    series has min_history such runs; a worse time that the reference shares is `machine`, and
    measured under contention it is only `suspected`.
    """
    raw = [point(r, metric) for r in history] + [point(judged, metric)]
    if metric not in TIME_METRICS:
        return _metric_flag(judged, metric, raw, config, since)
    usual = over_reference(history, judged, metric) if config.over_reference else None
    flag = None
    if usual is not None:
        points, tonight = usual
        flag = _metric_flag(judged, metric, points, config, since, scale=tonight)
        if flag is not None and flag.label == "insufficient":
            usual = flag = None  # too few runs with a reference yet: judge the time itself
    if usual is None:
        flag = _metric_flag(judged, metric, raw, config, since)
        if flag is not None and flag.label in WORSE_LABELS:
            return _blame(judged, history, flag, flag, config, since)
        return flag

    def time_itself() -> Flag | None:  # the flag of the time, not over the reference
        return _metric_flag(judged, metric, raw, config, since)

    if flag is not None and flag.label in WORSE_LABELS:
        return _blame(judged, history, flag, time_itself(), config, since)
    if flag is not None and flag.label == "improvement":
        # faster than the host's speed says: only when the time itself is faster too (a slower
        # reference alone does not make the code faster)
        same = time_itself()
        return flag if same is not None and same.label == "improvement" else None
    if machine_slowdown(judged, history, 0.0, config, since):
        # the code kept pace with the host: a worse time is the machine's
        same = time_itself()
        if same is not None and same.label in WORSE_LABELS:
            return _blame(judged, history, same, same, config, since)
    return flag


def _blame(
    judged: CaseResult,
    history: Sequence[CaseResult],
    flag: Flag,
    raw: Flag | None,
    config: DetectionConfig,
    since: datetime | None,
) -> Flag:
    """A worse time: the machine's when the reference slowed with the time itself (`raw`, the
    flag of the time not over the reference), only suspected when measured under contention."""
    if (
        raw is not None
        and raw.label in WORSE_LABELS
        and raw.change_pct is not None
        and machine_slowdown(judged, history, raw.change_pct / 100, config, since)
    ):
        return replace(raw, label="machine")
    if judged.noisy and flag.label != "suspected":
        return replace(flag, label="suspected")
    return flag


def _metric_flag(
    judged: CaseResult,
    metric: str,
    points: Sequence[Point],
    config: DetectionConfig,
    since: datetime | None,
    *,
    scale: float = 1.0,
) -> Flag | None:
    """The flag of the series `points` (the judged run last); `scale` turns its values into the
    metric's unit (the judged run's reference, for a time over the reference)."""
    judged_series = judge_series(points, config.policy(metric), config, since=since)
    if judged_series is None:
        return None
    stream, judgement, drift = judged_series
    if drift is not None:
        return _flag(
            judged,
            metric,
            judgement,
            scale,
            label="drift",
            baseline_value=drift.reference.centre,
            change=drift.change,
            z=drift.z,
            change_point=stream[drift.start_index].run_id,
        )
    if judgement.label not in SHIFT_LABELS:
        return None if judgement.label == "ok" else _flag(judged, metric, judgement, scale)
    change_point = None
    index = last_change_point([p.value for p in stream if p.value is not None], config)
    if index is not None:
        change_point = stream[index].run_id
    return _flag(judged, metric, judgement, scale, change_point=change_point)


def status_flags(
    run_id: str,
    results: Iterable[CaseResult],
    *,
    planned: Iterable[Case],
    previous_status: Mapping[Case, str],
) -> list[Flag]:
    """Failed cases, planned cases without a result, and cases skipped now but not before."""
    flags = []
    seen: set[Case] = set()
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
            flags.append(new_flag(run_id, result.case, STATUS_METRIC, label, result.fingerprint))
    for case in sorted(set(planned) - seen):
        flags.append(new_flag(run_id, case, STATUS_METRIC, "missing"))
    return flags


def accuracy_flags(results: Iterable[CaseResult], config: DetectionConfig) -> list[Flag]:
    """Modes whose test error is worse than their baseline's (bench.config.BASELINE_MODES: eager,
    JAX's jit step; same framework, device, run)."""
    ok = {r.case: r for r in results if r.status == "ok"}
    flags = []
    for case, result in sorted(ok.items()):
        eager = ok.get(case.baseline)
        if case == case.baseline or eager is None:
            continue
        for metric in ACCURACY_METRICS:
            value, reference = result.metrics.get(metric), eager.metrics.get(metric)
            if value is None or not reference:
                continue
            change = value / reference - 1
            if change > config.accuracy_tolerance:
                kind, budget = metric.removeprefix("test_").rsplit("_", 1)
                flags.append(
                    new_flag(
                        result.run_id,
                        case,
                        f"accuracy_vs_eager:test_{kind}@{budget}",
                        "departure",
                        result.fingerprint,
                        baseline_value=reference,
                        value=value,
                        change_pct=100 * change,
                    )
                )
    return flags


def new_flag(
    run_id: str,
    case: Case,
    metric: str,
    label: str,
    fingerprint: str | None = None,
    **numbers: float | str | None,
) -> Flag:
    """A flag of this detector version; `numbers` are the optional numeric fields."""
    return Flag(
        run_id=run_id,
        case=case,
        metric=metric,
        label=label,
        detector_version=DETECTOR_VERSION,
        environment_fingerprint=fingerprint,
        **numbers,  # type: ignore[arg-type]
    )


def _flag(
    judged: CaseResult,
    metric: str,
    judgement: Judgement,
    scale: float = 1.0,
    *,
    label: str | None = None,
    baseline_value: float | None = None,
    change: float | None = None,
    z: float | None = None,
    change_point: str | None = None,
) -> Flag:
    if baseline_value is None and judgement.baseline is not None:
        baseline_value = judgement.baseline.centre
    return new_flag(
        judged.run_id,
        judged.case,
        metric,
        label or judgement.label,
        judged.fingerprint,
        baseline_value=None if baseline_value is None else baseline_value * scale,
        value=judgement.value * scale,
        change_pct=100 * change if change is not None else judgement.change_pct,
        z_score=z if z is not None else judgement.z,
        change_point_run_id=change_point,
    )


def assess_run(
    run_id: str,
    results: Sequence[CaseResult],
    histories: Mapping[Case, Sequence[CaseResult]],
    config: DetectionConfig,
    *,
    planned: Iterable[Case] = (),
    previous_status: Mapping[Case, str] | None = None,
    acknowledged: Mapping[tuple[Case, str], datetime] | None = None,
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
            since = (acknowledged or {}).get((result.case, metric))
            flag = metric_flag(result, metric, histories.get(result.case, ()), config, since)
            if flag is not None:
                flags.append(flag)
    return flags + accuracy_flags(results, config), judged
