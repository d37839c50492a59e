"""benchmarks.overhead: the order of the rounds, and what the summary claims from given numbers,
against the bare loops and against the floor."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from bench.conditions import cpu_case_cores
from bench.config import FRAMEWORK_MODES, Case, RunSettings
from bench.uncertainty import Estimate, repeats_interval
from benchmarks.bare_loops import MODES
from benchmarks.overhead import (
    FLOOR,
    WHOLE_EPOCH_MODES,
    Sample,
    Step,
    against_target,
    case_of,
    floor_estimate,
    floor_table,
    format_table,
    main,
    measure_bare,
    measure_floor,
    measure_trainer,
    print_tables,
    report,
    run_order,
    run_steps,
    samples_from_report,
    summarize,
    targets,
    verdict,
)


def samples(
    mode: str, bare: Sequence[float | None], trainer: Sequence[float | None]
) -> list[Sample]:
    """Samples of one mode, round r of each side from the lists' r-th values."""
    return [
        Sample(r, mode, side, t)
        for side, times in (("bare", bare), ("trainer", trainer))
        for r, t in enumerate(times, start=1)
    ]


def floors(*seconds: float) -> list[Sample]:
    """The floor measured in rounds 1, 2, ... with these seconds."""
    return [Sample(r, FLOOR, FLOOR, s) for r, s in enumerate(seconds, start=1)]


def test_every_cpu_mode_of_every_framework_has_a_bare_loop_named_for_its_case() -> None:
    cases = {Case(fw, mode, "cpu") for fw, modes in FRAMEWORK_MODES.items() for mode in modes}
    assert {case_of(key) for key in MODES} == cases
    assert len(MODES) == len(cases)
    assert set(WHOLE_EPOCH_MODES) <= set(MODES)


def test_each_round_measures_the_floor_first() -> None:
    steps = run_order(["jax-scan"], 2)
    assert [s for s in steps if s.mode == FLOOR] == [Step(1, FLOOR, FLOOR), Step(2, FLOOR, FLOOR)]
    assert steps[0] == Step(1, FLOOR, FLOOR) and steps[3] == Step(2, FLOOR, FLOOR)


def test_each_round_runs_every_mode_and_alternates_which_side_goes_first() -> None:
    assert run_order(["torch-eager", "tensorflow-function"], 3, floor=False) == [
        Step(1, "torch-eager", "bare"),
        Step(1, "torch-eager", "trainer"),
        Step(1, "tensorflow-function", "bare"),
        Step(1, "tensorflow-function", "trainer"),
        Step(2, "torch-eager", "trainer"),
        Step(2, "torch-eager", "bare"),
        Step(2, "tensorflow-function", "trainer"),
        Step(2, "tensorflow-function", "bare"),
        Step(3, "torch-eager", "bare"),
        Step(3, "torch-eager", "trainer"),
        Step(3, "tensorflow-function", "bare"),
        Step(3, "tensorflow-function", "trainer"),
    ]


def test_run_order_rejects_zero_rounds() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run_order(["torch-eager"], 0)


def test_run_steps_measures_in_order_and_reports_each_sample() -> None:
    seen: list[Sample] = []
    steps = run_order(["torch-eager"], 2)
    got = run_steps(steps, lambda step: Sample(*step, 0.1), on_sample=seen.append)
    assert [Step(s.round, s.mode, s.side) for s in got] == steps
    assert seen == got


def test_interval_holding_1_is_no_measurable_difference() -> None:
    bare, trainer = [0.080, 0.078, 0.083, 0.079, 0.081], [0.082, 0.077, 0.084, 0.080, 0.079]
    (summary,) = summarize(samples("torch-eager", bare, trainer))
    assert summary.bare == repeats_interval(bare)
    assert summary.trainer == repeats_interval(trainer)
    per_round = [t / b for b, t in zip(bare, trainer, strict=True)]
    assert summary.round_ratios == pytest.approx(per_round)
    paired = repeats_interval(per_round)  # the median per-round ratio, t interval on its logs
    assert (summary.ratio, summary.ratio_low, summary.ratio_high) == pytest.approx(
        (paired.value, paired.low, paired.high)
    )
    assert summary.ratio_low < 1 < summary.ratio_high  # type: ignore[operator]
    assert summary.verdict == "no measurable difference (the interval holds 1)"
    assert (summary.rounds, summary.used_rounds, summary.noisy_rounds) == (5, (1, 2, 3, 4, 5), ())


def test_interval_above_1_claims_only_its_upper_bound() -> None:
    bare, trainer = [0.100, 0.101, 0.099, 0.100, 0.100], [0.105, 0.106, 0.104, 0.105, 0.105]
    (summary,) = summarize(samples("torch-eager", bare, trainer))
    assert 1 < summary.ratio_low < summary.ratio_high < 1.08  # type: ignore[operator]
    assert summary.verdict == "slower, within 6% of the bare loop"
    assert format_table([summary]).splitlines()[2] == (
        "| torch-eager-cpu | 5 | 0.1000 (0.0991-0.1009) | 0.1050 (0.1041-0.1059) "
        "| 1.05 (1.05-1.05) | slower, within 6% of the bare loop | met: under 1.2x |"
    )


@pytest.mark.parametrize(
    ("ratio", "missing", "expected"),
    [
        (Estimate(1.0, 0.9, 1.1), (), "no measurable difference"),
        (Estimate(1.1, 1.05, 1.16), (), "slower, within 16% of the"),
        (Estimate(3.0, 2.76, 3.26), (), "slower: 2.76x to 3.26x the bare"),
        (Estimate(0.6, 0.55, 0.66), (), "faster than the bare loop by 34% to 45%"),
        (Estimate(1.0), (), "no interval: needs 2 or more rounds"),
        (None, ("trainer",), "no result: no time from the trainer"),
        (None, ("bare", "trainer"), "no result: no time from the bare loop or the trainer"),
    ],
)
def test_verdict(ratio: Estimate | None, missing: tuple[str, ...], expected: str) -> None:
    assert verdict(ratio, missing).startswith(expected)


@pytest.mark.parametrize(
    ("estimate", "limit", "expected"),
    [
        (Estimate(1.1, 1.05, 1.16), 1.2, "met: under 1.2x"),
        (Estimate(1.3, 1.25, 1.4), 1.2, "missed: over 1.2x"),
        (Estimate(1.2, 1.1, 1.3), 1.2, "cannot tell: the interval holds 1.2x"),
        (Estimate(3.0, 2.0, 4.5), 10.0, "met: under 10x"),
        (Estimate(9.0, 8.0, 10.5), 10.0, "cannot tell: the interval holds 10x"),
        (Estimate(12.0), 10.0, "no interval (one round: 12.00x)"),
        (None, 10.0, "no result"),
    ],
)
def test_a_target_is_met_or_missed_only_when_the_interval_is_on_one_side(
    estimate: Estimate | None, limit: float, expected: str
) -> None:
    assert against_target(estimate, limit) == expected


def test_each_side_is_a_multiple_of_its_own_rounds_floor() -> None:
    bare, trainer = [0.0022, 0.0024, 0.0021], [0.0025, 0.0026, 0.0024]
    got = floors(0.0011, 0.0012, 0.0010) + samples("jax-scan", bare, trainer)
    (summary,) = summarize(got)  # the floor is no mode
    assert summary.trainer_x_floor == repeats_interval(
        [0.0025 / 0.0011, 0.0026 / 0.0012, 0.0024 / 0.0010]
    )
    assert summary.bare_x_floor == repeats_interval(
        [0.0022 / 0.0011, 0.0024 / 0.0012, 0.0021 / 0.0010]
    )
    assert summary.floor_target == "met: under 10x"
    assert floor_estimate(got) == repeats_interval([0.0011, 0.0012, 0.0010])


def test_the_floor_target_is_judged_for_whole_epoch_modes_only() -> None:
    got = floors(0.001, 0.001, 0.001)
    got += samples("torch-compile-epoch", [0.020, 0.021, 0.022], [0.021, 0.022, 0.023])
    got += samples("torch-eager", [0.080, 0.081, 0.079], [0.082, 0.083, 0.081])
    epoch, eager = summarize(got)
    assert epoch.floor_target == "missed: over 10x"
    assert eager.floor_target == "" and eager.trainer_x_floor is not None
    table = floor_table([epoch, eager], floor_estimate(got)).splitlines()
    assert table[0].startswith("floor: 1.0000 (1.0000-1.0000) ms/epoch over 3 round(s): 93.2 MFLOP")
    assert table[4].startswith("| torch-compile-epoch-cpu | 21.0 (") and "missed" in table[4]
    assert table[5].endswith("| - (not a whole-epoch mode) |")
    assert targets([epoch, eager]) == (
        "Every trainer within 1.2x of its bare loop: met by torch-compile-epoch, torch-eager\n"
        "Every whole-epoch mode within 10x of the floor: missed by torch-compile-epoch"
    )


def test_without_a_floor_the_multiples_are_missing_not_wrong() -> None:
    (summary,) = summarize(samples("jax-scan", [0.002, 0.0021], [0.0022, 0.0023]))
    assert summary.trainer_x_floor is None and summary.floor_target == "no result"
    assert floor_table([summary], None).splitlines()[0] == "floor: not measured"


def test_a_noisy_round_is_left_out_on_both_sides_while_2_clean_rounds_remain() -> None:
    bare, trainer = [0.080, 0.150, 0.079, 0.081], [0.082, 0.300, 0.080, 0.081]
    got = samples("torch-eager", bare, trainer)
    got[5] = Sample(2, "torch-eager", "trainer", 0.300, noisy="other processes used 60%")
    (summary,) = summarize(got)
    assert summary.used_rounds == (1, 3, 4) and summary.noisy_rounds == (2,)
    assert summary.bare == repeats_interval([0.080, 0.079, 0.081])
    assert summary.trainer == repeats_interval([0.082, 0.080, 0.081])
    assert len(summary.round_ratios) == 3
    assert "| torch-eager-cpu | 3 of 4 (1 noisy left out) | 0.0800 (" in format_table([summary])


def test_noisy_rounds_are_kept_with_fewer_than_2_clean_and_failures_are_counted() -> None:
    got = samples("tensorflow-xla", [0.09, None], [0.08, 0.085])
    got[3] = Sample(2, "tensorflow-xla", "trainer", 0.085, noisy="other processes used 30%")
    (summary,) = summarize(got)
    assert (summary.used_rounds, summary.noisy_rounds, summary.failed_rounds) == (
        (1, 2),
        (2,),
        (2,),
    )
    assert summary.bare == Estimate(0.09, samples=1)
    assert summary.trainer == repeats_interval([0.08, 0.085])
    assert summary.ratio_low is None
    assert summary.round_ratios == pytest.approx([0.08 / 0.09])
    assert summary.verdict.startswith("no interval")
    row = "| tensorflow-xla-cpu | 2 (1 noisy, kept: 1 clean, 1 failed) | 0.0900 | "
    assert row in format_table([summary])


def test_json_report_recomputes_the_same_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    got = floors(0.0011, 0.0012, 0.0011)
    got += samples("torch-eager", [0.08, 0.079, 0.081], [0.09, 0.088, 0.091])
    got += samples("tensorflow-function", [0.13, 0.12, 0.125], [0.11, 0.112, 0.109])
    path = tmp_path / "overhead.json"
    path.write_text(json.dumps(report(got, rounds=3, epochs=10)))
    data = json.loads(path.read_text())
    assert data["rounds"] == 3 and len(data["samples"]) == 15
    assert summarize(samples_from_report(data)) == summarize(got)
    assert data["summary"][0]["trainer"]["value"] == pytest.approx(0.09)
    assert data["summary"][0]["trainer_x_floor"]["value"] == pytest.approx(0.09 / 0.0011)

    assert main(["--summarize", str(path)]) == 0
    printed = capsys.readouterr().out
    print_tables(got)
    assert printed == capsys.readouterr().out
    assert printed.startswith(format_table(summarize(got)))
    assert floor_table(summarize(got), floor_estimate(got)) in printed


def test_a_run_without_a_steady_epoch_is_refused() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--epochs", "1"])
    assert exc.value.code == 2


@pytest.mark.integration
def test_both_sides_train_on_the_cpu_cases_core(data_home: Path, tmp_path: Path) -> None:
    settings = RunSettings(epochs=2, threads=1, data_home=str(data_home))
    cores = cpu_case_cores(1)
    bare = measure_bare(Step(1, "torch-eager", "bare"), settings, cores)
    trainer = measure_trainer(
        Step(1, "torch-eager", "trainer"), settings, run_id="test-overhead", rounds=1
    )
    for sample in (bare, trainer):
        assert sample.reason is None and sample.steady_epoch_s and len(sample.epochs_s) == 2
        assert sample.cores == cores


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["jax-scan", "torch-dataloader"])
def test_a_new_bare_loop_runs_two_epochs_in_plausible_time(data_home: Path, mode: str) -> None:
    settings = RunSettings(epochs=2, threads=1, data_home=str(data_home), timeout_seconds=120)
    cores = cpu_case_cores(1)
    sample = measure_bare(Step(1, mode, "bare"), settings, cores)
    assert sample.reason is None and len(sample.epochs_s) == 2 and sample.cores == cores
    first, steady = sample.epochs_s
    # jax-scan's steady epoch ~2 ms, the DataLoader's ~0.1 s; the first compiles (~1 s).
    assert 0.0002 < steady < 2.0 and steady == sample.steady_epoch_s
    assert 0 < first < 60


@pytest.mark.integration
def test_the_floor_is_measured_in_its_own_pinned_process(data_home: Path) -> None:
    settings = RunSettings(epochs=2, threads=1, data_home=str(data_home))
    cores = cpu_case_cores(1)
    sample = measure_floor(Step(1, FLOOR, FLOOR), settings, cores)
    assert sample.reason is None and sample.cores == cores
    # 93.2 MFLOP at 1 to 1000 GFLOP/s
    assert sample.steady_epoch_s is not None and 0.0000932 < sample.steady_epoch_s < 0.0932
