"""The per-run rule on small fixed series: baseline math, floors, violations and labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.analysis import (
    DetectionConfig,
    MetricPolicy,
    Point,
    decide,
    judge_series,
    robust_baseline,
    violates,
)
from bench.analysis.decision import series_stream, split_window

TIME = MetricPolicy(min_change=0.05)
CONFIG = DetectionConfig()
# 20 runs around 100 with a +-2 wobble: median 100, MAD 1 -> spread 1.4826.
FLAT = [100.0, 102, 99, 101, 98, 100, 100, 101, 99, 102, 98, 100, 101, 99, 100, 100, 101, 99,
        102, 98]  # fmt: skip


def test_baseline_is_median_and_scaled_mad() -> None:
    baseline = robust_baseline([1, 2, 3, 4, 100], floor_fraction=0.0)
    assert baseline.centre == 3
    assert baseline.spread == pytest.approx(1.4826 * 1)  # |deviations| 2 1 0 1 97 -> MAD 1
    assert baseline.count == 5
    assert baseline.z(6) == pytest.approx(3 / 1.4826)
    assert baseline.change(3.3) == pytest.approx(0.1)


def test_trimmed_spread_ignores_outlier_nights_and_estimates_the_noise() -> None:
    baseline = robust_baseline([1, 2, 3, 4, 100], floor_fraction=0.0, trim=3.0)
    assert baseline.centre == 3
    # 100 is beyond 3 x 1.4826 of the median: the spread is that of 1..4 about 3, made unbiased
    assert baseline.spread == pytest.approx((6 / 3) ** 0.5 / 0.98658, rel=1e-4)
    assert robust_baseline([2.0] * 12, floor_fraction=0.005, trim=3.0).spread == pytest.approx(0.01)


def test_spread_is_floored_when_runs_are_identical() -> None:
    baseline = robust_baseline([2.0] * 12, floor_fraction=0.005)
    assert baseline.spread == pytest.approx(0.01)
    assert robust_baseline([0.0] * 12, floor_fraction=0.005).spread > 0


def test_violation_needs_both_z_and_practical_change() -> None:
    tight = robust_baseline(FLAT, floor_fraction=0.005)  # spread 1.48
    assert violates(tight, 106, TIME, 3.0)  # +6%, z 4
    assert not violates(tight, 104, TIME, 3.0)  # z 2.7 and +4%: neither
    noisy = robust_baseline([100, 80, 120, 90, 110, 100, 85, 115, 95, 105], floor_fraction=0.005)
    assert not violates(noisy, 110, TIME, 3.0)  # +10% but within the noise
    assert violates(tight, 94, TIME, 3.0, direction=-1)
    assert not violates(tight, 106, MetricPolicy(0.05, min_abs_change=10), 3.0)


def test_regression_needs_joint_evidence_one_late_run_is_suspected() -> None:
    assert decide(FLAT, [100, 101, 107], TIME, CONFIG).label == "suspected"
    # the two latest runs both clearly out (spread 1.3): joint evidence
    assert decide(FLAT, [100, 108, 109], TIME, CONFIG).label == "regression"
    judgement = decide(FLAT, [107, 108, 109], TIME, CONFIG)
    assert judgement.label == "regression"
    assert judgement.change_pct == pytest.approx(9.0)
    assert judgement.evidence is not None and judgement.evidence >= CONFIG.evidence_threshold
    # runs just at the practical change add up; below it nothing is a regression
    assert decide(FLAT, [105, 105, 105], TIME, CONFIG).label == "regression"
    assert decide(FLAT, [104, 104, 104], TIME, CONFIG).label == "ok"
    # the window's median run must be beyond the practical change
    assert decide(FLAT, [104, 104.5, 112], TIME, CONFIG).label == "suspected"


def test_on_a_precise_series_a_median_below_the_practical_change_suffices() -> None:
    precise = MetricPolicy(min_change=0.05, precise_change=0.03)
    # FLAT's trimmed spread is 1.32%: the median must be precise_z (3) spreads out, +3.95%
    assert decide(FLAT, [104.2] * 3, precise, CONFIG).label == "regression"
    assert decide(FLAT, [103.8] * 3, precise, CONFIG).label == "ok"
    assert decide(FLAT, [104.2] * 3, TIME, CONFIG).label == "ok"  # no precise_change: +5%
    assert decide(FLAT, [104.6] * 3, precise, CONFIG.with_options(precise_z=4.0)).label == "ok"
    # spread 0.5% (the floor): 3 spreads is 1.5%, so precise_change (3%) is the gate
    tight = [100 + (v - 100) / 4 for v in FLAT]
    assert decide(tight, [103.2] * 3, precise, CONFIG).label == "regression"
    assert decide(tight, [102.8] * 3, precise, CONFIG).label == "ok"
    assert decide(tight, [96.8] * 3, precise, CONFIG).label == "improvement"
    # ... and a step may start inside the window at the design shift: +4% by its second run
    assert decide(tight, [100.0, 104.0, 104.5], precise, CONFIG).label == "regression"
    imprecise = CONFIG.with_options(precise_z=30.0)  # 5% is 10 spreads, under 30: not precise
    assert decide(tight, [100.0, 104.0, 104.5], precise, imprecise).label == "ok"


def test_one_night_outliers_are_not_a_regression() -> None:
    # a spike two runs ago, then normal runs
    assert decide(FLAT, [160, 100, 101], TIME, CONFIG).label == "ok"
    # two spikes and a normal latest run: a normal run refutes a shift
    assert decide(FLAT, [150, 170, 100], TIME, CONFIG).label == "ok"
    # two different spikes after a normal night: no single shift explains them
    assert decide(FLAT, [100, 150, 170], TIME, CONFIG).label == "suspected"
    # a spike in a shifted window does not hide the shift
    assert decide(FLAT, [108, 109, 170], TIME, CONFIG).label == "regression"
    assert decide(FLAT, [107, 170, 108], TIME, CONFIG).label == "regression"


def test_one_night_alone_is_never_a_regression() -> None:
    for spike in [100 + step / 4 for step in range(1, 2000)]:
        for window in ([100, 101, spike], [spike, 99, 100], [101, spike, 100]):
            assert decide(FLAT, window, TIME, CONFIG).label != "regression", window


def test_large_steps_are_regressions_not_three_outliers() -> None:
    for window in ([150, 151, 152], [300, 300, 300], [200, 190, 210]):
        judgement = decide(FLAT, window, TIME, CONFIG)
        assert judgement.label == "regression", window
        assert judgement.evidence is not None and judgement.evidence >= CONFIG.evidence_threshold


def test_improvement_is_symmetric() -> None:
    assert decide(FLAT, [92, 91, 90], TIME, CONFIG).label == "improvement"
    assert decide(FLAT, [95, 95, 95], TIME, CONFIG).label == "improvement"
    assert decide(FLAT, [100, 100, 91], TIME, CONFIG).label == "ok"


def test_under_ten_baseline_runs_is_insufficient() -> None:
    assert decide(FLAT[:9], [130, 130, 130], TIME, CONFIG).label == "insufficient"
    assert decide(FLAT[:10], [130, 130, 130], TIME, CONFIG).label == "regression"


def _points(values: list[float], *, manual: set[int] = frozenset()) -> list[Point]:  # type: ignore[assignment]
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Point(f"r{i}", v, scheduled=i not in manual, started_at=t0 + timedelta(days=i))
        for i, v in enumerate(values)
    ]


def test_manual_runs_are_judged_but_never_in_the_baseline() -> None:
    values = FLAT + [100.0, 101.0, 100.0]
    manual = {3, 7, 21}
    baseline, window = split_window(series_stream(_points(values, manual=manual), CONFIG), CONFIG)
    assert not {p.run_id for p in baseline + window[:-1]} & {f"r{i}" for i in manual}
    assert window[-1].run_id == "r22"
    # with include_manual they count
    with_manual = DetectionConfig(include_manual=True)
    baseline, _ = split_window(series_stream(_points(values, manual=manual), with_manual), CONFIG)
    assert "r3" in {p.run_id for p in baseline}
    # a slow manual run is judged against the scheduled baseline
    slow = _points(FLAT + [109.0, 108.0, 110.0], manual={22})
    judged = judge_series(slow, TIME, CONFIG)
    assert judged is not None and judged.judgement.label == "regression"


def test_missing_values_are_skipped_and_a_failed_latest_is_not_judged() -> None:
    points = _points(FLAT + [100.0])
    points[5] = Point("r5", None, started_at=points[5].started_at)
    baseline, _ = split_window(series_stream(points, CONFIG), CONFIG)
    assert "r5" not in {p.run_id for p in baseline}
    assert judge_series(points[:-1] + [Point("r99", None)], TIME, CONFIG) is None


def test_acknowledgement_restarts_the_baseline() -> None:
    values = FLAT + [110.0, 111, 109, 110, 111, 109, 110, 110, 111, 109, 110, 110, 111, 109, 110]
    points = _points(values)
    judged = judge_series(points, TIME, CONFIG)
    assert judged is not None and judged.judgement.label == "regression"
    since = points[len(FLAT)].started_at
    judged = judge_series(points, TIME, CONFIG, since=since)
    assert judged is not None and judged.judgement.label == "ok"
    baseline = judged.judgement.baseline
    assert baseline is not None and baseline.centre == pytest.approx(110)
    # right after the acknowledgement there is not enough new history yet
    early = judge_series(points[: len(FLAT) + 5], TIME, CONFIG, since=since)
    assert early is not None and early.judgement.label == "insufficient"


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="min_history"):
        DetectionConfig(min_history=200)
    with pytest.raises(ValueError, match="design_factor"):
        DetectionConfig(design_factor=0)
    with pytest.raises(ValueError, match="inside_shift_cap"):
        DetectionConfig(inside_shift_cap=-1)
    with pytest.raises(ValueError, match="precise_z"):
        DetectionConfig(precise_z=0)
    with pytest.raises(ValueError, match="rare_shift_penalty"):
        DetectionConfig(rare_shift_penalty=0)
    with pytest.raises(ValueError, match="precise_change"):
        MetricPolicy(0.05, precise_change=0.06)
    with pytest.raises(ValueError, match="sustained_runs"):
        DetectionConfig(sustained_runs=1)
    with pytest.raises(ValueError, match="sustained_z"):
        DetectionConfig(sustained_z=0)
    with pytest.raises(ValueError, match="outlier_pair_rate"):
        DetectionConfig(outlier_pair_rate=-0.1)
    with pytest.raises(ValueError, match="no detection policy"):
        CONFIG.policy("nonsense")
    assert CONFIG.with_options(baseline_runs=None, include_manual=True).include_manual


def test_a_large_step_inside_the_window_needs_a_series_without_outlier_nights() -> None:
    # +25% on the window's last two runs: beyond inside_shift_cap x the practical change (+22.5%)
    window = [100.0, 125.0, 125.5]
    quiet = FLAT * 6  # 120 runs, none an outlier night
    assert decide(quiet, window, TIME, CONFIG).label == "regression"
    # three outlier nights (+40%, +60%, +50%) in 120 runs: the two runs may be two more
    bumpy = quiet[:-3] + [140.0, 160.0, 150.0]
    assert decide(bumpy, window, TIME, CONFIG).label != "regression"
    # two are allowed at the default outlier_pair_rate; none at 0, the cap of robust-lr-5
    assert decide(quiet[:-2] + [140.0, 160.0], window, TIME, CONFIG).label == "regression"
    # a short history says too little: 20 runs without an outlier night are not enough
    assert decide(FLAT, window, TIME, CONFIG).label != "regression"
    strict = DetectionConfig(outlier_pair_rate=0)
    assert decide(quiet, window, TIME, strict).label != "regression"
    # the next run at the new level decides either way
    assert decide(bumpy, [125.0, 125.5, 124.5], TIME, CONFIG).label == "regression"


def test_fitting_a_shift_costs_less_on_a_series_without_outlier_nights() -> None:
    # 4.4% noise, no outlier night in 120 runs; a +15% step on the window's last two runs, after
    # a run below the level that refutes the +5% design shift: the fitted +15% (3.4 spreads)
    # pays rare_shift_penalty (4.5), not large_shift_penalty (9)
    quiet = [100 + 3.4 * (v - 100) for v in FLAT] * 6
    window = [95.0, 116.0, 114.0]
    assert decide(quiet, window, TIME, CONFIG).label == "regression"
    assert decide(quiet, window, TIME, CONFIG.with_options(rare_shift_penalty=9.0)).label == (
        "suspected"  # robust-lr-8's penalty
    )
    # three outlier nights in 120 runs: two high runs may be two more, so the full penalty
    bumpy = quiet[:-3] + [140.0, 160.0, 150.0]
    assert decide(bumpy, window, TIME, CONFIG).label == "suspected"


def test_without_outlier_nights_a_precise_series_gates_on_the_last_two_runs() -> None:
    # 1.3% noise, no outlier night in 120 runs: a +5% step on the window's 2nd run leaves its
    # 1st at the old level, so the window's median is the lower step run (+2.5%, under the
    # gate of 3 spreads, +3.9%); the last two runs' median (+4.25%) clears it
    precise = MetricPolicy(min_change=0.05, precise_change=0.03)
    quiet = FLAT * 6
    window = [100.0, 106.0, 102.5]
    assert decide(quiet, window, precise, CONFIG).label == "regression"
    # where outlier nights are not rare, or the series is not precise: the window's median
    assert decide(quiet, window, precise, CONFIG.with_options(outlier_pair_rate=0)).label == "ok"
    assert decide(quiet, window, precise, CONFIG.with_options(precise_z=1e9)).label == "ok"


def test_without_outlier_nights_four_runs_that_stayed_up_are_a_regression() -> None:
    # 1.3% noise, no outlier night in 120 runs: +3.5% on the latest 4 runs. The window's median
    # misses the precise gate (3 spreads, +3.95%), but the 4 runs' lower half is 2.6 spreads out
    # (sustained_z 1.75) and their median beyond precise_change (3%)
    precise = MetricPolicy(min_change=0.05, precise_change=0.03)
    quiet = FLAT * 6
    assert decide(quiet, [103.5] * 3, precise, CONFIG).label == "ok"  # 3 runs up, 1 at the level
    judgement = decide(quiet + [103.5], [103.5] * 3, precise, CONFIG)
    assert judgement.label == "regression"
    assert decide(quiet + [96.5], [96.5] * 3, precise, CONFIG).label == "improvement"
    # off, without precise_change (the gate is the practical change, +5%), or with outlier nights
    assert decide(quiet + [103.5], [103.5] * 3, precise, CONFIG.with_options(
        sustained_runs=0)).label == "ok"  # fmt: skip
    assert decide(quiet + [103.5], [103.5] * 3, TIME, CONFIG).label == "ok"
    bumpy = quiet[:-3] + [140.0, 160.0, 150.0]
    assert decide(bumpy + [103.5], [103.5] * 3, precise, CONFIG).label == "ok"
    # two outlier nights among the 4 runs leave their lower half at the level
    for window in ([150.0, 101.0, 170.0], [101.0, 150.0, 170.0]):
        assert decide(quiet + [100.0], window, precise, CONFIG).label != "regression"
