"""Noisy results stay out of baselines; a slower machine is told apart from slower code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.analysis import DetectionConfig
from bench.analysis.assess import metric_flag
from bench.config import Case
from bench.records import BLOCKING_LABELS, CaseResult

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
