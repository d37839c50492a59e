"""Noisy results stay out of baselines; a slower machine is told apart from slower code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.analysis import DetectionConfig
from bench.analysis.assess import metric_flag
from bench.config import Case
from bench.records import BLOCKING_LABELS, CaseResult, Flag

from .conftest import wobble

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CASE = Case("torch", "eager", "cpu")
METRIC = "steady_epoch_seconds"


def result(
    run: int, steady: float, reference: float | None = 0.05, *, noisy: bool = False
) -> CaseResult:
    return CaseResult(
        f"r{run:03d}", CASE, status="ok", started_at=T0 + timedelta(days=run), scheduled=True,
        fingerprint="fp", metrics={METRIC: steady, "reference_seconds": reference}, noisy=noisy,
    )  # fmt: skip


def series(
    steps: int, *, case_level: float, reference_level: float, after: int = 30
) -> list[CaseResult]:
    """`after` quiet nights at 1.0 / 0.05, then `steps` nights at the given levels."""
    quiet = [result(i, wobble(i), wobble(i + 3, 0.05)) for i in range(after)]
    moved = [
        result(after + i, wobble(i, case_level), wobble(i + 5, reference_level))
        for i in range(steps)
    ]
    return quiet + moved


def judge(results: list[CaseResult], config: DetectionConfig | None = None) -> str | None:
    *history, judged = results
    flag = metric_flag(judged, METRIC, history, config or DetectionConfig())
    return None if flag is None else flag.label


def test_code_slower_and_reference_unchanged_is_a_regression() -> None:
    assert judge(series(3, case_level=1.3, reference_level=0.05)) == "regression"


def test_case_and_reference_slower_together_is_the_machine_and_not_blocking() -> None:
    label = judge(series(3, case_level=1.3, reference_level=0.065))  # both +30%
    assert label == "machine"
    assert label not in BLOCKING_LABELS


def test_a_reference_that_moved_far_less_than_the_case_still_blames_the_code() -> None:
    # case +50%, reference +10%: below machine_share (0.5) x the case's change
    assert judge(series(3, case_level=1.5, reference_level=0.055)) == "regression"


def test_without_reference_history_a_shift_stays_a_regression() -> None:
    results = [result(i, wobble(i), None) for i in range(30)]
    results += [result(30 + i, wobble(i, 1.3), 0.065) for i in range(3)]
    assert judge(results) == "regression"


def test_noisy_results_stay_out_of_the_baseline() -> None:
    # 12 clean nights at 1.0, then 30 noisy nights at 1.3, then 3 clean nights at 1.3: with the
    # noisy nights in the baseline the shift is absorbed; without them it is a regression.
    clean = [result(i, wobble(i)) for i in range(12)]
    noisy = [result(12 + i, wobble(i, 1.3), noisy=True) for i in range(30)]
    latest = [result(42 + i, wobble(i, 1.3)) for i in range(3)]
    assert judge(clean + noisy + latest) == "regression"
    assert judge(clean + noisy + latest, DetectionConfig(include_noisy=True)) != "regression"


def test_a_noisy_judged_result_is_only_suspected() -> None:
    results = series(3, case_level=1.3, reference_level=0.05)
    *history, judged = results
    noisy = CaseResult(**{**vars(judged), "noisy": True})
    flag = metric_flag(noisy, METRIC, history, DetectionConfig())
    assert flag is not None and flag.label == "suspected"


@pytest.mark.parametrize("share", [0.5, 0.9])
def test_machine_share_is_configuration(share: float) -> None:
    # case +30%, reference +20%: machine at share 0.5 (20 >= 15), code at 0.9 (20 < 27)
    label = judge(
        series(3, case_level=1.3, reference_level=0.06), DetectionConfig(machine_share=share)
    )
    assert label == ("machine" if share == 0.5 else "regression")


def flag_of(results: list[CaseResult], config: DetectionConfig | None = None) -> Flag | None:
    *history, judged = results
    return metric_flag(judged, METRIC, history, config or DetectionConfig())


def test_a_host_a_little_slower_is_neither_a_regression_nor_the_machine() -> None:
    # case +8%, reference +3.5%: the host moved, too little to blame it (`machine` needs 5%)
    results = series(3, case_level=1.08, reference_level=0.05175)
    assert judge(results) is None
    # judged on the time alone, the same runs are a regression
    assert judge(results, DetectionConfig(over_reference=False)) == "regression"


def test_a_regression_a_faster_host_hides_is_found_with_tonights_numbers() -> None:
    # the time did not move, but the host got 12% faster: at its usual speed, +13.6%
    results = series(3, case_level=1.0, reference_level=0.044)
    flag = flag_of(results)
    assert flag is not None and flag.label == "regression"
    judged = results[-1]
    assert flag.value == pytest.approx(judged.metrics[METRIC])  # the time as measured
    # the baseline is what the case used to take on tonight's (faster) host
    tonight = judged.metrics["reference_seconds"]
    assert tonight and flag.baseline_value == pytest.approx(tonight / 0.05, rel=0.03)
    assert flag.baseline_value is not None and flag.change_pct is not None
    assert flag.change_pct == pytest.approx(100 * (flag.value / flag.baseline_value - 1))
    assert 8 < flag.change_pct < 16  # 0.05 / 0.044 = +13.6%, less this night's 2% wobble
    assert judge(results, DetectionConfig(over_reference=False)) is None


def test_a_slower_reference_alone_is_no_improvement() -> None:
    # the host got 20% slower and the case kept its time: over the reference it looks faster,
    # but the time itself did not improve
    results = series(3, case_level=1.0, reference_level=0.06)
    assert judge(results) is None
    faster = series(3, case_level=0.8, reference_level=0.05)
    assert judge(faster) == "improvement"


def test_too_few_runs_with_a_reference_judge_the_time_itself() -> None:
    # 30 nights without a reference, then 3 with one: over the reference the series would be
    # `insufficient`; the time itself has a baseline and shows the step
    results = [result(i, wobble(i), None) for i in range(30)]
    results += [result(30 + i, wobble(i, 1.3), 0.05) for i in range(3)]
    assert judge(results) == "regression"
