"""benchmarks.real_noise and detector_peers --real-noise: recorded noise as series, steps on it."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from benchmarks.detection_sim import Scenario
from benchmarks.detector_peers import default_peers, main, over_the_run, warehouse_seconds
from benchmarks.noise_sample import COLUMNS
from benchmarks.real_noise import (
    block_bootstrap,
    case_of,
    load_factors,
    real_scenarios,
    robust_cv,
    series_maker,
)


def write_sample(path: Path, times: dict[str, list[float]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, restval="")
        writer.writeheader()
        for name, values in times.items():
            framework, mode = name.split("/")
            for i, value in enumerate(values):
                writer.writerow(
                    {
                        "round": i,
                        "framework": framework,
                        "mode": mode,
                        "status": "ok",
                        "steady_s": value,
                    }  # fmt: skip
                )
        writer.writerow({"round": 99, "framework": "jax", "mode": "jit", "status": "failed"})
    return path


def test_factors_are_each_cases_times_over_its_median_in_order(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "s.csv", {"torch/eager": [2.0, 4.0, 3.0], "jax/jit": [1.0]})
    factors = load_factors(path)
    assert set(factors) == {"torch/eager", "jax/jit"}  # the failed run is left out
    np.testing.assert_allclose(factors["torch/eager"], [2 / 3, 4 / 3, 1.0])
    assert robust_cv(np.array([0.9, 1.0, 1.1])) == pytest.approx(1.4826 * 0.1)


def test_an_empty_sample_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no ok run"):
        load_factors(write_sample(tmp_path / "s.csv", {}))


def test_block_bootstrap_keeps_runs_of_consecutive_recorded_values() -> None:
    values = np.arange(100.0)
    rows = block_bootstrap(np.random.default_rng(0), values, 50, 35, block=10)
    assert rows.shape == (50, 35)
    for row in rows:
        for start in (0, 10, 20, 30):
            block = row[start : start + 10]
            # consecutive recorded values, wrapping past the end
            assert np.all(np.diff(block) % 100 == 1)
    assert len({row[0] for row in rows}) > 10  # blocks start anywhere


def test_real_scenarios_put_their_step_on_their_own_cases_noise() -> None:
    factors = {"torch/eager": np.full(30, 1.0), "jax/jit": np.linspace(0.9, 1.1, 30)}
    scenarios = real_scenarios(factors)
    assert [s.name for s in scenarios[:4]] == [
        "real torch/eager noise", "real torch/eager step +5%", "real torch/eager step +10%",
        "real torch/eager step +20%",
    ]  # fmt: skip
    assert case_of(scenarios[5]) == "jax/jit"
    make = series_maker(factors)
    step = Scenario("real torch/eager step +10%", 0.0, "step", 0.10, runs=5)
    values, change_at = make(np.random.default_rng(0), step, 3, 0.05, 20)
    assert change_at == 20 and values.shape == (3, 25)
    np.testing.assert_allclose(values[:, :20], 1.0)  # flat recorded noise, no synthetic outliers
    np.testing.assert_allclose(values[:, 20:], 1.1)


def test_the_command_runs_on_a_recorded_sample(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(1)
    path = write_sample(tmp_path / "s.csv", {"torch/eager": list(1 + 0.01 * rng.normal(size=60))})
    assert main(["--series", "2", "--peers", "bench,hud", "--real-noise", str(path)]) == 0
    out = capsys.readouterr().out
    assert "| real torch/eager noise | bench | 1 | - | - | - |" in out
    assert "| real torch/eager step +20% | bench | 1 |" in out
    assert "real noise from" in out and "(60 runs, blocks of 10 runs)" in out
    argv = ["--series", "2", "--peers", "bench", "--real-noise", str(path), "--repeats", "5"]
    assert main(argv) == 0
    assert "(60 runs, nights = median of 5 runs, blocks of 10 runs)" in capsys.readouterr().out
    assert main([*argv, "--spacing", "5"]) == 0
    assert "nights = median of 5 runs 5 apart" in capsys.readouterr().out


def test_with_repeats_a_night_is_benchs_summary_of_consecutive_runs(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, restval="")
        writer.writeheader()
        for i, (steady, noisy) in enumerate(((1, ""), (5, ""), (2, ""), (3, ""), (100, "load"),
                                             (4, ""))):  # fmt: skip
            writer.writerow(
                {
                    "round": i,
                    "framework": "torch",
                    "mode": "eager",
                    "status": "ok",
                    "steady_s": steady,
                    "noisy": noisy,
                }  # fmt: skip
            )
    # windows of 3: median 2, 3; then the noisy 100 is left out as bench.repeats does: 2.5, 3.5
    nights = np.array([2.0, 3.0, 2.5, 3.5])
    factors = load_factors(path, repeats=3)["torch/eager"]
    np.testing.assert_allclose(factors, nights / np.median(nights))
    with pytest.raises(ValueError, match="fewer than 7 repeats"):
        load_factors(path, repeats=7)
    # repeats 2 runs apart, as a longer matrix spaces them: [1, 2], [5, 3], [2, noisy], [3, 4]
    nights = np.array([1.5, 4.0, 2.0, 3.5])
    factors = load_factors(path, repeats=2, spacing=2)["torch/eager"]
    np.testing.assert_allclose(factors, nights / np.median(nights))


def test_nights_in_a_block_follow_each_other_without_sharing_runs() -> None:
    # summaries of 5 runs starting at every run: consecutive nights start 5 runs apart
    make = series_maker({"torch/eager": np.arange(100.0)}, block=10, repeats=5)
    noise = Scenario("real torch/eager noise", 0.0, "noise", runs=20)
    values, _ = make(np.random.default_rng(0), noise, 30, 0.05, 0)
    for row in values:
        for start in range(0, 20, 2):  # a block of 10 runs is 2 nights
            assert (row[start + 1] - row[start]) % 100 == 5
    # 5 repeats 2 runs apart: a night takes 10 runs, the next starts after them
    make = series_maker({"torch/eager": np.arange(100.0)}, block=20, repeats=5, spacing=2)
    values, _ = make(np.random.default_rng(0), noise, 30, 0.05, 0)
    assert all((row[1] - row[0]) % 100 == 10 for row in values)


def test_an_unreadable_sample_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    old = write_sample(tmp_path / "old.csv", {"torch/eager": [1.0]})
    for argv in (["--real-noise", str(tmp_path / "absent.csv")],
                 ["--real-noise", str(old), "--per-reference"],
                 ["--real-noise", str(old), "--repeats", "5"]):  # fmt: skip
        with pytest.raises(SystemExit) as exit_:
            main(["--series", "1", "--peers", "bench", *argv])
        assert exit_.value.code == 2
        assert "cannot read the noise sample" in capsys.readouterr().err


def test_warehouse_timing_times_every_peer_on_the_latest_night() -> None:
    peers = [p for p in default_peers() if p.name in ("bench", "hud", "asv")]
    seconds = warehouse_seconds(peers, series=3, runs=200)
    assert set(seconds) == {"bench", "hud", "asv", "asv, whole history"}
    assert all(s > 0 for s in seconds.values())


def test_per_reference_divides_by_the_hosts_speed_and_needs_it(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, restval="")
        writer.writeheader()
        for steady, reference in ((2.0, 1.0), (4.0, 2.0), (3.0, 1.0)):
            writer.writerow(
                {
                    "framework": "torch",
                    "mode": "eager",
                    "status": "ok",
                    "steady_s": steady,
                    "reference_s": reference,
                }  # fmt: skip
            )
    # 2/1, 4/2, 3/1 over their median 2: the host's slow second run cancels out
    np.testing.assert_allclose(load_factors(path, per_reference=True)["torch/eager"], [1, 1, 1.5])
    old = write_sample(tmp_path / "old.csv", {"torch/eager": [1.0]})
    with pytest.raises(ValueError, match="without a positive reference_s"):
        load_factors(old, per_reference=True)
    zero = tmp_path / "zero.csv"
    with zero.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, restval="")
        writer.writeheader()
        writer.writerow({"framework": "torch", "mode": "eager", "status": "ok",
                         "steady_s": 2.0, "reference_s": 0})  # fmt: skip
    with pytest.raises(ValueError, match="without a positive reference_s"):
        load_factors(zero, per_reference=True)


def test_joint_rows_draw_every_case_from_the_scenarios_rounds(tmp_path: Path) -> None:
    factors = {"torch/eager": np.arange(1.0, 101.0), "jax/jit": np.arange(1001.0, 1101.0)}
    step = Scenario("real jax/jit step +10%", 0.0, "step", 0.10, runs=5)
    alone, _ = series_maker(factors)(np.random.default_rng(3), step, 4, 0.05, 20)
    values, change_at = series_maker(factors, joint=True)(
        np.random.default_rng(3), step, 4, 0.05, 20
    )
    assert values.shape == (4, 2, 25) and change_at == 20
    np.testing.assert_allclose(values[:, 0], alone)  # the scenario's own row, as drawn alone
    # the other case at the very same rounds, without the step
    np.testing.assert_allclose(values[:, 1], values[:, 0] / np.where(
        np.arange(25) >= 20, 1.1, 1.0) - 1000)  # fmt: skip
    # a sample whose cases ran in different rounds cannot be drawn jointly
    path = write_sample(tmp_path / "s.csv", {"torch/eager": [1.0, 2.0], "jax/jit": [1.0]})
    with pytest.raises(ValueError, match="different rounds"):
        load_factors(path, joint=True)


def test_bench_calls_a_slowdown_the_other_cases_share_the_machines() -> None:
    rng = np.random.default_rng(5)
    flat = 1 + 0.01 * rng.normal(size=(3, 140))
    moved = flat.copy()
    moved[:, 130:] *= 1.10  # every case +10% from run 130
    alone = flat.copy()
    alone[0, 130:] *= 1.10  # only the judged case
    bench, hud = (next(p for p in default_peers() if p.name == name) for name in ("bench", "hud"))
    assert bench.alarms(alone, start=130) and bench.alarms(alone[0], start=130)
    assert not bench.alarms(moved, start=130)  # over the run-wide factor: `machine`, no alarm
    assert bench.alarms(moved[0], start=130)  # without the other cases it is one
    assert hud.alarms(moved, start=130) == hud.alarms(moved[0], start=130)  # reads its own
    np.testing.assert_allclose(over_the_run(moved[:2]), moved[0])  # one other case: too few


def test_the_command_draws_cases_jointly(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(2)
    times = {name: list(1 + 0.01 * rng.normal(size=60)) for name in ("torch/eager", "jax/jit")}
    path = write_sample(tmp_path / "s.csv", times)
    argv = ["--series", "2", "--peers", "bench,hud", "--real-noise", str(path), "--joint"]
    assert main(argv) == 0
    assert "blocks of 10 runs, cases drawn jointly)" in capsys.readouterr().out
