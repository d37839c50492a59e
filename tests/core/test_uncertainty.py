"""Intervals of a median, across repeats, and what a ratio of two may claim."""

from __future__ import annotations

import math
import random

import pytest

from bench.uncertainty import (
    Estimate,
    difference,
    median_interval,
    ratio_interval,
    repeats_interval,
    speed_verdict,
)


def test_median_interval_needs_six_values_for_95_percent() -> None:
    assert not median_interval([1.0, 2.0, 3.0, 4.0, 5.0]).has_interval
    six = median_interval([6.0, 1.0, 5.0, 2.0, 4.0, 3.0])
    assert (six.value, six.low, six.high, six.samples) == (3.5, 1.0, 6.0, 6)


def test_median_interval_ranks_follow_the_binomial_distribution() -> None:
    # n = 29 (a 30-epoch run): ranks 9 and 21 give 95.7% coverage, ranks 10 and 20 only 93.9%.
    est = median_interval([float(v) for v in range(1, 30)])
    assert (est.low, est.value, est.high) == (9.0, 15.0, 21.0)


def test_median_interval_covers_the_true_median_about_95_percent_of_the_time() -> None:
    rng = random.Random(7)
    trials, hits = 2000, 0
    for _ in range(trials):
        est = median_interval([rng.lognormvariate(0.0, 0.2) for _ in range(29)])
        assert est.low is not None and est.high is not None
        hits += est.low <= 1.0 <= est.high  # the lognormal's median is exp(0) = 1
    assert 0.94 <= hits / trials <= 0.985


def test_cv_is_the_relative_standard_deviation() -> None:
    est = median_interval([0.9, 1.0, 1.1])
    assert est.cv == pytest.approx(0.1)


def test_repeats_interval_is_a_t_interval_on_the_logs() -> None:
    medians = [1.0, 1.1, 1.05]
    est = repeats_interval(medians)
    logs = [math.log(m) for m in medians]
    mean = sum(logs) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / 2)
    half = 4.302652729911275 * sd / math.sqrt(3)  # t(0.975, 2)
    assert est.value == 1.05
    assert est.low == pytest.approx(math.exp(mean - half))
    assert est.high == pytest.approx(math.exp(mean + half))
    assert repeats_interval([1.0]).has_interval is False


def test_a_difference_is_claimed_only_when_the_ratio_interval_excludes_one() -> None:
    fast = Estimate(1.0, 0.95, 1.05)
    slow = Estimate(2.0, 1.9, 2.1)
    close = Estimate(1.02, 0.97, 1.08)
    assert ratio_interval(slow, fast) == pytest.approx((1.9 / 1.05, 2.1 / 0.95))
    assert difference(slow, fast) == "higher"
    assert difference(fast, slow) == "lower"
    assert difference(fast, close) == "same"
    assert difference(fast, Estimate(2.0)) == "unknown"
    assert Estimate(2.0, 1.8, 2.2).half_width_pct == pytest.approx(10.0)


def test_speed_verdict_reads_a_time_against_another() -> None:
    fast, slow = Estimate(1.0, 0.95, 1.05), Estimate(2.0, 1.9, 2.1)
    assert (speed_verdict(fast, slow), speed_verdict(slow, fast)) == ("faster", "slower")
    assert speed_verdict(fast, Estimate(1.02, 0.97, 1.08)) == "same"
    assert speed_verdict(fast, None) == speed_verdict(fast, Estimate(2.0)) == "unknown"
