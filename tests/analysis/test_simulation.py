"""The simulation behind BENCHMARKS.md, on a reduced sample: what the defaults achieve."""

from __future__ import annotations

from bench.analysis.simulation import Scenario, format_outcomes, simulate, targets_met


def test_defaults_keep_false_alarms_under_1_per_1000_and_catch_steps() -> None:
    scenarios = [
        Scenario("noise cv=3%", 0.03, "noise", runs=150),
        Scenario("noise cv=5%", 0.05, "noise", runs=150),
        Scenario("step +10% cv=3%", 0.03, "step", 0.10),
        Scenario("step +20% cv=3%", 0.03, "step", 0.20),
        Scenario("drift +20%/100 runs cv=3%", 0.03, "drift", 0.2, runs=120),
    ]
    noise3, noise5, step10, step20, drift = simulate(series=60, seed=7, scenarios=scenarios)
    assert noise3.judged_runs == 60 * 150
    # target 2 holds: at most 1 false regression per 1000 series-runs of noise with outliers
    assert noise3.false_per_1000 <= 1.0 and noise5.false_per_1000 <= 1.5
    # target 1 is not met (89% at 1000 series, see BENCHMARKS.md) without breaking target 2;
    # these are the levels the defaults reach, with room for sampling noise
    assert step10.detected_by_3rd >= 0.75 and step10.detected_ever >= 0.9
    assert step20.detected_by_3rd >= 0.85 and step20.detected_ever == 1.0
    assert drift.detected_ever >= 0.95
    assert targets_met([noise3, step10]) == {"detection": False, "false_alarms": True}
    assert "| step +10% cv=3% |" in format_outcomes([noise3, step10])


def test_simulation_is_deterministic() -> None:
    scenarios = [Scenario("step +10% cv=3%", 0.03, "step", 0.10, runs=4)]
    first = simulate(series=20, seed=3, scenarios=scenarios)
    assert first == simulate(series=20, seed=3, scenarios=scenarios)
