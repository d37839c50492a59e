"""Interleaved order of repeats and a case's summary over them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.config import Case
from bench.records import Record
from bench.repeats import interleaved, summaries, summarize
from tests import builders


def repeat(k: int, steady: float, *, noisy: str | None = None, status: str = "ok") -> Record:
    record = builders.make_record(
        "r1", builders.CASE, steady=steady, status=status, epochs=3,
        reason=None if status == "ok" else "boom",
    )  # fmt: skip
    return replace(
        record, repeat=k, repeats=3, noisy=noisy, reference_seconds=0.01 * k,
        peak_rss_bytes=100 * k,
    )  # fmt: skip


def test_interleaved_is_round_robin_rotated_each_repeat() -> None:
    assert interleaved(["a", "b", "c"], 3) == [
        ("a", 1), ("b", 1), ("c", 1),
        ("b", 2), ("c", 2), ("a", 2),
        ("c", 3), ("a", 3), ("b", 3),
    ]  # fmt: skip
    assert interleaved(["a"], 2) == [("a", 1), ("a", 2)]
    with pytest.raises(ValueError, match="at least 1"):
        interleaved(["a"], 0)


def test_summary_is_the_median_over_repeats_with_an_interval_across_processes() -> None:
    summary = summarize([repeat(1, 0.50), repeat(2, 0.40), repeat(3, 0.45)])
    assert summary.steady_epoch_seconds == 0.45
    assert summary.repeats == 3 and summary.repeat == 0
    assert summary.steady_ci_low is not None and summary.steady_ci_low < 0.40
    assert summary.steady_ci_high is not None and summary.steady_ci_high > 0.50
    assert summary.peak_rss_bytes == 300, "peak memory is the largest repeat's"
    assert summary.reference_seconds == pytest.approx(0.02)
    assert summary.conditions["repeats_used"] == [1, 2, 3]


def test_noisy_repeats_are_left_out_while_a_clean_one_exists() -> None:
    summary = summarize([repeat(1, 0.40), repeat(2, 0.90, noisy="others 40%"), repeat(3, 0.44)])
    assert summary.steady_epoch_seconds == pytest.approx(0.42)
    assert summary.noisy is None
    assert summary.conditions["repeats_noisy"] == [2]
    every = summarize([repeat(1, 0.4, noisy="x"), repeat(2, 0.5, noisy="y")])
    assert every.noisy is not None and "all 2 repeats noisy" in every.noisy


def test_a_failed_repeat_fails_the_case_and_names_itself() -> None:
    summary = summarize([repeat(1, 0.4), repeat(2, 0.4, status="failed")])
    assert summary.status == "failed"
    assert summary.reason == "repeat 2 of 3: boom"


def test_one_repeat_is_its_own_summary() -> None:
    only = repeat(1, 0.4)
    summary = summarize([only])
    assert summary.steady_epoch_seconds == only.steady_epoch_seconds
    assert (summary.steady_ci_low, summary.steady_ci_high) == (
        only.steady_ci_low,
        only.steady_ci_high,
    )


def test_summaries_groups_by_case_in_first_seen_order() -> None:
    other = replace(repeat(1, 0.2), case=Case("tensorflow", "eager", "cpu"))
    found = summaries([repeat(1, 0.4), other, repeat(2, 0.5)])
    assert [s.case.framework for s in found] == ["torch", "tensorflow"]
    assert found[0].repeats == 2
