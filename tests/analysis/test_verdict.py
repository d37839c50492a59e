"""The run verdict: one rule, red on any blocking flag, and failed records count when unflagged."""

from __future__ import annotations

from bench.analysis import DETECTOR_VERSION, DetectionResult, run_verdict
from bench.config import Case
from bench.records import BLOCKING_LABELS, FLAG_LABELS, Flag
from tests import builders

EAGER, COMPILE = Case("torch", "eager", "cpu"), Case("torch", "compile", "cpu")


def flag(label: str, case: Case = EAGER, metric: str = "steady_epoch_seconds") -> Flag:
    return Flag(
        run_id="r1", case=case, metric=metric, label=label, detector_version=DETECTOR_VERSION
    )


def test_each_blocking_label_and_only_those_turn_the_run_red() -> None:
    for label in FLAG_LABELS:
        assert run_verdict("r1", [flag(label)]).red == (label in BLOCKING_LABELS), label
    assert {"regression", "drift", "departure", "failed", "missing"} == BLOCKING_LABELS
    assert not run_verdict("r1", []).red


def test_reasons_are_most_severe_first_and_bounded() -> None:
    flags = [flag("missing", COMPILE, "status"), flag("suspected"), flag("regression")]
    verdict = run_verdict("r1", flags)
    assert [f.label for f in verdict.blocking] == ["regression", "missing"]
    assert verdict.reasons()[0].startswith("regression torch-eager-cpu steady_epoch_seconds")
    assert verdict.headline() == "run r1 is red: 2 blocking flag(s)"
    many = run_verdict("r1", [flag("failed", Case("torch", m, "cpu"), "status")
                              for m in ("eager", "compile", "compile-max-autotune")])  # fmt: skip
    assert many.reasons(limit=2)[-1].startswith("... and 1 more")


def test_a_failed_record_is_red_even_before_detection_flagged_it() -> None:
    failed = builders.make_record("r1", COMPILE, status="failed", reason="boom", epochs=0)
    verdict = run_verdict("r1", [], [failed, builders.make_record("r1", EAGER)])
    assert verdict.red and [f.case for f in verdict.blocking] == [COMPILE]
    # once detection flagged it, it is not counted twice
    assert len(run_verdict("r1", [flag("failed", COMPILE, "status")], [failed]).blocking) == 1


def test_detection_result_exposes_the_same_verdict() -> None:
    result = DetectionResult("r1", "scheduled", [flag("failed", COMPILE, "status")])
    assert result.verdict == run_verdict("r1", result.flags)
    assert result.to_dict()["red"] is True
    assert "failed torch-compile-cpu status" in result.summary()
