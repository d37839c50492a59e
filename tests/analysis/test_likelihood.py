"""The outlier-robust likelihood ratio behind joint evidence, on hand-made z values."""

from __future__ import annotations

import math

import pytest

from bench.analysis.likelihood import log_likelihood_ratio, shift_evidence

OUTLIER_Z = 4.5


def llr(zs: list[float], level: float, relative_spread: float = 0.0) -> float:
    return log_likelihood_ratio(zs, level, outlier_z=OUTLIER_Z, relative_spread=relative_spread)


def test_normal_runs_follow_the_gaussian_ratio() -> None:
    # away from the outlier density: m*z - m^2/2 per run
    assert llr([2.0], 3.0) == pytest.approx(3 * 2 - 4.5, rel=1e-3)
    assert llr([3.0, 3.0], 3.0) == pytest.approx(2 * 4.5, rel=1e-2)


def test_a_huge_run_counts_as_an_outlier_under_both_hypotheses() -> None:
    assert llr([40.0], 3.0) == pytest.approx(0.0, abs=1e-9)
    # one run's evidence is bounded: a single night cannot carry a shift alone
    assert max(llr([z / 10], 3.0) for z in range(0, 400)) <= OUTLIER_Z**2 / 2 + math.log(2)


def test_a_run_below_the_shifted_level_refutes_it() -> None:
    # outliers are slowdowns: nothing explains a normal run under a large shift
    assert llr([0.0], 30.0) < -400
    assert llr([30.0, 30.0, 0.0], 30.0) < 0


def test_relative_noise_widens_a_large_shift() -> None:
    # +100% at 3% noise: level 33 spreads, runs spread by ~2 x 1 spread
    runs = [31.0, 35.5, 36.0]
    assert llr(runs, 34.0, relative_spread=0.03) > llr(runs, 34.0)


def test_shift_evidence_uses_the_design_shift_or_a_fitted_larger_one() -> None:
    options = {"outlier_z": OUTLIER_Z, "large_shift_penalty": 9.0}
    evidence, level = shift_evidence([3.5, 4.0, 4.5], 4.0, **options)
    assert level == 4.0 and evidence == pytest.approx(llr([3.5, 4.0, 4.5], 4.0))
    evidence, level = shift_evidence([30.0, 31.0, 32.0], 4.0, **options)
    assert level == pytest.approx(31.0)
    assert evidence == pytest.approx(llr([30.0, 31.0, 32.0], 31.0) - 9.0)
    # improvements: the same, downwards
    evidence, level = shift_evidence([-4.0, -4.0, -4.0], 4.0, direction=-1, **options)
    assert level == -4.0 and evidence > 20


def test_a_step_inside_the_window_is_scored_on_its_shifted_runs() -> None:
    # 1% noise, +10% step on the window's 2nd run: design 5 spreads, runs at 10 (issue 16)
    options = {"outlier_z": OUTLIER_Z, "large_shift_penalty": 9.0, "relative_spread": 0.01}
    window = [0.0, 10.0, 10.5]
    evidence, _ = shift_evidence(window, 5.0, **options)
    assert evidence < 0  # robust-lr-4: the old-level run refutes it, the others look like outliers
    evidence, level = shift_evidence(window, 5.0, inside_cap=4.5, **options)
    assert level == pytest.approx(10.25)
    assert evidence == pytest.approx(llr([10.0, 10.5], 10.25, 0.01) - 9.0) and evidence > 5
    # beyond inside_cap x design, two runs may be two outlier nights: the next run decides
    assert shift_evidence([0.0, 30.0, 30.5], 5.0, inside_cap=4.5, **options)[0] < 0
    # one shifted run alone is never a step inside the window
    assert shift_evidence([0.0, 0.0, 10.0], 5.0, inside_cap=4.5, **options)[0] < 0
    # ... unless the series makes no outlier nights (issue 16: +20% steps within one run)
    window = [0.0, 30.0, 30.5]
    assert shift_evidence(window, 5.0, inside_cap=4.5, uncapped=True, **options)[0] > 5
    assert shift_evidence(window, 5.0, inside_cap=4.5, uncapped=False, **options)[0] < 0


def test_on_a_precise_series_the_design_shift_is_also_tried_from_inside_the_window() -> None:
    # 1% noise, +5% step on the window's 2nd run: no size to fit, so no penalty but log 2 for
    # trying the shift from the 2nd run as well as the 1st (issue 16: +5% steps within one run)
    options = {"outlier_z": OUTLIER_Z, "large_shift_penalty": 9.0, "relative_spread": 0.01}
    window = [-1.0, 4.0, 4.5]
    assert shift_evidence(window, 5.0, inside_cap=4.5, **options)[0] < 5  # the old-level run
    evidence, level = shift_evidence(window, 5.0, inside_cap=4.5, inside_design=True, **options)
    assert level == 5.0
    assert evidence == pytest.approx(llr([4.0, 4.5], 5.0) - math.log(2)) and evidence > 5
    # a run back at the old level after the step refutes it
    low = [-1.0, 4.0, 0.5]
    assert shift_evidence(low, 5.0, inside_cap=4.5, inside_design=True, **options)[0] < 0
    # off with the step inside the window
    assert shift_evidence(window, 5.0, inside_cap=0.0, inside_design=True, **options)[0] < 5
