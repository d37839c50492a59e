"""What one run is judged on, as flags: every series' metrics, the matrix, compiled vs eager.

Pure: the inputs are bench.records.CaseResult values (read by bench.warehouse.histories); the
output is the list of flags to store. A series is (framework, mode, device, environment
fingerprint): results from another machine or framework version are never compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import NamedTuple

from bench.analysis.changepoints import Drift, find_drift, last_change_point
from bench.analysis.decision import Judgement, Point, decide, series_stream, split_window
from bench.analysis.host_speed import (
    host_points,
    machine_slowdown,
    over_reference,
    over_run,
    point,
    relative_levels,
    run_factors,
)
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
    run_factor: Mapping[str, float] | None = None,
) -> Flag | None:
    """The flag for one metric of the judged result (history: its series, oldest first).

    A time is judged over the run's reference workload (bench.analysis.host_speed) once the
    series has min_history such runs, and then over `run_factor` (per run id, how much slower
    the run's other cases were; assess_run computes it) once it has min_history runs with
    one. A worse time that the reference or the rest of the run shares is `machine`; measured
    under contention it is only `suspected`.
    """
    raw = [point(r, metric) for r in history] + [point(judged, metric)]
    if metric not in TIME_METRICS:
        return _metric_flag(judged, metric, raw, config, since)
    # the time itself, at the reference's speed, beyond the run's movement: each basis corrects
    # the one before it for more of the host; the last with enough runs decides
    bases: list[tuple[list[Point], float]] = [(raw, 1.0)]
    if config.over_reference and (usual := over_reference(history, judged, metric)) is not None:
        bases.append(usual)
    factors = run_factor or {}
    factor = factors.get(judged.run_id)
    run_wide = factor is not None
    if factor is not None:
        points, scale = bases[-1]
        bases.append((over_run(points, factors), scale * factor))

    @cache
    def flag_of(basis: int) -> Flag | None:  # judged only when needed
        points, scale = bases[basis]
        return _metric_flag(judged, metric, points, config, since, scale=scale)

    last = len(bases) - 1
    while last > 0 and (early := flag_of(last)) is not None and early.label == "insufficient":
        last -= 1  # the run-wide basis first, if there is one
        run_wide = False
    flag = flag_of(last)
    if last == 0:
        if flag is not None and flag.label in WORSE_LABELS:
            return _blame(judged, history, flag, flag, config, since)
        return flag
    if flag is not None and flag.label in WORSE_LABELS:
        return _blame(judged, history, flag, flag_of(0), config, since)
    # with run_wide, the basis before it is the time at the host's speed
    if run_wide and (host := flag_of(last - 1)) is not None and host.label in WORSE_LABELS:
        return replace(host, label="machine")  # the rest of the run slowed with it
    if flag is not None and flag.label == "improvement":
        # faster than the host's speed says: only when the time itself is faster too (a slower
        # host alone does not make the code faster)
        same = flag_of(0)
        return flag if same is not None and same.label == "improvement" else None
    if machine_slowdown(judged, history, 0.0, config, since):
        # the code kept pace with the slower reference: a worse time is the machine's
        same = flag_of(0)
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
    shared = run_wide_factors(results, histories, config) if config.over_run else {}
    judged = 0
    for result in results:
        if result.status != "ok":
            continue
        for metric in config.metrics:
            if result.metrics.get(metric) is None:
                continue
            judged += 1
            since = (acknowledged or {}).get((result.case, metric))
            history = histories.get(result.case, ())
            factor = shared.get((result.case, metric))
            flag = metric_flag(result, metric, history, config, since, factor)
            if flag is not None:
                flags.append(flag)
    return flags + accuracy_flags(results, config), judged


def run_wide_factors(
    results: Sequence[CaseResult],
    histories: Mapping[Case, Sequence[CaseResult]],
    config: DetectionConfig,
) -> dict[tuple[Case, str], dict[str, float]]:
    """Per case and time metric, the run-wide factor of each run (bench.analysis.host_speed.
    run_factors) over the run's other ok cases on the same device, each at the host's speed."""
    ok = [r for r in results if r.status == "ok"]
    levels = {
        (r.case, metric): relative_levels(
            {
                p.run_id: p.value
                for p in host_points(r, histories.get(r.case, ()), metric, config)
                if p.value is not None
            },
            recent=config.baseline_runs + config.confirm_runs,
        )
        for r in ok
        for metric in TIME_METRICS
        if r.metrics.get(metric) is not None
    }
    return {
        (case, metric): run_factors(
            level
            for (other, name), level in levels.items()
            if name == metric and other != case and other.device == case.device
        )
        for case, metric in levels
    }
