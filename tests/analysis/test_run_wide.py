"""A time is judged over the run-wide factor too: a slowdown that most of the run's other
cases share is the machine's, not the code's (bench.analysis.host_speed, assess)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.analysis import DetectionConfig
from bench.analysis.assess import assess_run
from bench.analysis.decision import Point
from bench.analysis.host_speed import over_run, relative_levels, run_factors
from bench.config import Case
from bench.records import CaseResult

from .conftest import wobble

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEADY = "steady_epoch_seconds"
TORCH = Case("torch", "eager", "cpu")
TF = Case("tensorflow", "function", "cpu")
JAX = Case("jax", "jit", "cpu")
JAX_GPU = Case("jax", "jit", "gpu")


def result(case: Case, run: int, steady: float, reference: float = 0.05) -> CaseResult:
    return CaseResult(
        f"r{run:03d}", case, status="ok", started_at=T0 + timedelta(days=run), scheduled=True,
        fingerprint="fp", metrics={STEADY: steady, "reference_seconds": reference},
    )  # fmt: skip


def judge_run(levels: dict[Case, float], config: DetectionConfig | None = None) -> dict[Case, str]:
    """30 quiet nights of every case, then 3 nights at its level with the reference unmoved (a
    slow stretch it does not see); the last night's steady-time label per case ('ok': none)."""
    histories: dict[Case, list[CaseResult]] = {}
    tonight = []
    for k, (case, level) in enumerate(levels.items()):
        runs = [result(case, i, wobble(i + 3 * k)) for i in range(30)]
        runs += [result(case, 30 + i, wobble(i + 3 * k, level)) for i in range(3)]
        *histories[case], judged = runs
        tonight.append(judged)
    flags, _ = assess_run("r032", tonight, histories, config or DetectionConfig())
    labels: dict[Case, str] = dict.fromkeys(levels, "ok")
    labels.update({f.case: f.label for f in flags if f.metric == STEADY})
    return labels


def test_a_slowdown_the_whole_run_shares_is_the_machine_and_not_blocking() -> None:
    labels = judge_run({TORCH: 1.10, TF: 1.08, JAX: 1.09})
    assert labels == {TORCH: "machine", TF: "machine", JAX: "machine"}


def test_one_case_slower_alone_is_a_regression() -> None:
    assert judge_run({TORCH: 1.10, TF: 1.0, JAX: 1.0}) == {
        TORCH: "regression", TF: "ok", JAX: "ok"
    }  # fmt: skip


def test_a_case_slower_than_the_runs_movement_is_a_regression_beyond_it() -> None:
    # the others +10%: torch's +30% is +18% beyond them; tf and jax are the machine's (with
    # torch among their two others their factor is 1.2, so they look faster than the run)
    labels = judge_run({TORCH: 1.30, TF: 1.10, JAX: 1.10})
    assert labels == {TORCH: "regression", TF: "machine", JAX: "machine"}


def test_without_enough_other_cases_on_the_device_the_reference_decides() -> None:
    assert judge_run({TORCH: 1.10, TF: 1.10})[TORCH] == "regression"  # one other case
    labels = judge_run({TORCH: 1.10, TF: 1.10, JAX_GPU: 1.10})
    assert labels[TORCH] == "regression"  # the GPU case ran on another device
    # without the reference, the run-wide factor applies to the time itself
    stretch = {TORCH: 1.10, TF: 1.08, JAX: 1.09}
    assert set(judge_run(stretch, DetectionConfig(over_reference=False)).values()) == {"machine"}
    # over_run=False: each series alone, as robust-lr-6 judged it
    assert set(judge_run(stretch, DetectionConfig(over_run=False)).values()) == {"regression"}


def test_run_factors_are_the_median_of_the_other_cases_relative_levels() -> None:
    torch = relative_levels({"a": 2.0, "b": 2.0, "c": 2.4})  # median 2.0
    assert torch == {"a": 1.0, "b": 1.0, "c": pytest.approx(1.2)}
    tf = relative_levels({"a": 1.0, "b": 1.0, "c": 1.1})
    jax = relative_levels({"b": 3.0, "c": 3.0})
    factors = run_factors([torch, tf, jax])
    assert factors == {"a": 1.0, "b": 1.0, "c": pytest.approx(1.1)}  # a has only 2 cases
    assert run_factors([torch]) == {}  # one case is too few
    assert relative_levels({}) == {} and relative_levels({"a": 0.0}) == {}
    points = [Point("a", 2.0), Point("c", 2.2), Point("z", 1.0), Point("b", None)]
    assert [p.value for p in over_run(points, factors)] == [2.0, pytest.approx(2.0), None, None]


def test_a_recent_centre_keeps_an_old_change_from_moving_the_runs_median() -> None:
    # a case 25% slower since run 7 of 10: over all its runs it reads 1.25 now, over its 3
    # latest 1.0, as the cases that did not change do
    values = {f"r{i}": 1.0 if i < 7 else 1.25 for i in range(10)}
    assert relative_levels(values)["r9"] == pytest.approx(1.25)
    assert relative_levels(values, recent=3)["r9"] == pytest.approx(1.0)
    assert relative_levels(values, recent=3)["r0"] == pytest.approx(0.8)
