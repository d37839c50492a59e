"""The simulation behind BENCHMARKS.md, on a reduced sample: what the defaults achieve."""

from __future__ import annotations

from benchmarks.detection_sim import Scenario, format_outcomes, simulate, targets_met


def test_defaults_keep_false_alarms_under_1_per_1000_and_catch_steps() -> None:
    scenarios = [
        Scenario("noise cv=3%", 0.03, "noise", runs=150),
        Scenario("noise cv=5%", 0.05, "noise", runs=150),
        Scenario("step +10% cv=3%", 0.03, "step", 0.10),
        Scenario("step +20% cv=3%", 0.03, "step", 0.20),
        Scenario("step +100% cv=3%", 0.03, "step", 1.00),
        Scenario("drift +20%/100 runs cv=3%", 0.03, "drift", 0.2, runs=120),
    ]
    noise3, noise5, step10, step20, step100, drift = simulate(
        series=100, seed=7, scenarios=scenarios
    )
    assert noise3.judged_runs == 100 * 150
    # the published run (1000 series, BENCHMARKS.md) meets both targets; a sample of 100
    # series is noisier, so these bounds leave room for sampling noise
    assert noise3.false_per_1000 <= 1.5 and noise5.false_per_1000 <= 1.5
    assert step10.detected_by_3rd >= 0.85 and step10.detected_ever == 1.0
    assert step20.detected_by_3rd >= 0.95 and step100.detected_by_3rd >= 0.95
    assert drift.detected_ever >= 0.95
    assert targets_met([noise3, step10])["false_alarms"] is (noise3.false_per_1000 <= 1.0)
    assert "| step +10% cv=3% |" in format_outcomes([noise3, step10])


def test_simulation_is_deterministic() -> None:
    scenarios = [Scenario("step +10% cv=3%", 0.03, "step", 0.10, runs=4)]
    first = simulate(series=20, seed=3, scenarios=scenarios)
    assert first == simulate(series=20, seed=3, scenarios=scenarios)


def test_less_noise_never_delays_a_verdict() -> None:
    """Issue 16: at 1% noise, +5%, +10% and +20% steps are labelled by the step's second run at
    least as often as at 3% noise (robust-lr-4: +10% and +20% 4.9% and 4.1% against 58.1% and
    15.8%; robust-lr-7: +5% 22% against 9%)."""
    scenarios = [
        Scenario(f"step +{size:.0%} cv={cv:.0%}", cv, "step", size, runs=2)
        for size in (0.05, 0.10, 0.20)
        for cv in (0.01, 0.03)
    ]
    outcomes = simulate(series=1000, seed=16, scenarios=scenarios)
    for clean, noisy in zip(outcomes[::2], outcomes[1::2], strict=True):
        assert clean.detected_by_2nd >= noisy.detected_by_2nd, clean.scenario
        # a 5- to 20-sigma step is neither read as outlier nights nor held back by the +5%
        # practical change: most are caught by the second run
        assert clean.detected_by_2nd >= 0.85, clean.scenario
