"""The peer detectors of benchmarks/detector_peers.py reproduce known answers on fixed series."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import ttest_ind_from_stats

from benchmarks.detection_sim import Scenario
from benchmarks.detector_peers import Scores, default_peers, evaluate, format_rows, main, tune
from benchmarks.peers import asv_steps, conbench, edivisive, hud


def noisy(levels: list[float], cv: float = 0.01, seed: int = 1) -> np.ndarray:
    return np.asarray(levels) * (1 + cv * np.random.default_rng(seed).normal(size=len(levels)))


def test_conbench_z_matches_a_hand_computed_series() -> None:
    history = np.array([10.0, 10.0, 10.0, 10.0, 12.0])
    # mean 10.4; residuals from the mean of the results before each: 0, 0, 0, 0, 2 -> std 0.894
    std = math.sqrt((4 * 0.4**2 + 1.6**2) / 4)
    assert conbench.lookback_z(history, 15.0) == pytest.approx((15.0 - 10.4) / std)
    assert conbench.lookback_z(history, 15.0) > conbench.THRESHOLD  # 5.14: a regression
    assert conbench.lookback_z(history, 14.0) < conbench.THRESHOLD  # 4.02: not


def test_conbench_leaves_a_one_result_outlier_out_but_not_a_step() -> None:
    values = np.array([1.0, 1.01] * 15)
    spiked = values.copy()
    spiked[20] = 2.0
    assert list(np.flatnonzero(conbench.outliers(spiked))) == [20]
    stepped = values.copy()
    stepped[20:] += 1.0
    assert not conbench.outliers(stepped).any()
    # without the outlier the distribution is the clean one: its z is the clean series' z
    assert conbench.lookback_z(spiked, 1.3) == pytest.approx(
        conbench.lookback_z(np.delete(spiked, 20), 1.3)
    )


def test_hud_fires_on_the_second_consecutive_violation_and_not_on_one() -> None:
    flat = [1.0] * 8
    peer = next(p for p in default_peers() if p.name == "hud")
    assert peer.alarms([*flat, 1.2, 1.2]) == [9]
    assert peer.alarms([*flat, 1.2, 1.0, 1.2]) == []
    assert hud.score(np.array([*flat, 1.2, 1.1]), 9) == pytest.approx(1.1)  # under 1.15


def test_asv_finds_a_clean_step_and_reports_it_as_recent() -> None:
    series = noisy([1.0] * 40 + [1.2] * 5)
    assert asv_steps.regression_starts(series) == [40]
    assert asv_steps.score(series, 44) >= asv_steps.THRESHOLD  # begins 4 runs back: recent
    assert asv_steps.score(series, 44, recent=3) == -1.0
    assert asv_steps.regression_starts(noisy([1.0] * 45)) == []


def test_e_divisive_finds_a_clean_step_and_its_t_test() -> None:
    series = noisy([1.0] * 60 + [1.1] * 30)
    assert edivisive.compute_change_points(series) == [60]
    assert edivisive.compute_change_points(noisy([1.0] * 90)) == []
    # the second shifted run already makes a significant change point (p far below 0.001)
    assert edivisive.score(series, 61) > 3.0 and edivisive.score(series, 59) == 0.0
    left, right = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    # Otava passes np.std (ddof 0) to scipy's ttest_ind_from_stats: pooled var 2/3, t = 4.5
    expected = ttest_ind_from_stats(2.0, math.sqrt(2 / 3), 3, 5.0, math.sqrt(2 / 3), 3).pvalue
    assert (
        edivisive.t_test_pvalue(left, right)
        == pytest.approx(expected)
        == pytest.approx(0.0108, abs=1e-4)
    )


def test_bench_labels_a_clean_10_percent_step_by_its_second_run() -> None:
    series = noisy([1.0] * 140 + [1.1] * 4)
    peer = next(p for p in default_peers() if p.name == "bench")
    assert peer.alarms(series, start=130)[:1] == [141]


def test_every_peer_catches_a_large_step_and_is_quiet_before_it() -> None:
    series = noisy([1.0] * 140 + [1.5] * 5)
    for peer in default_peers():
        alarms = peer.alarms(series, start=130)
        assert alarms and 140 <= alarms[0] <= 143, peer.name


def test_tuning_picks_the_most_sensitive_threshold_within_the_false_alarm_rate() -> None:
    noise = Scenario("noise cv=3%", 0.03, "noise", runs=4)
    scores = Scores("p", noise, 0, np.array([[1.0, 2.0, 3.0, 9.0], [0.0, 0.0, 0.0, 5.0]]), 0.0)
    assert tune([scores], (2.0, 4.0, 6.0, 10.0), target=1000 * 2 / 8) == 4.0
    assert tune([scores], (2.0, 4.0), target=0.0) == 4.0  # none meets it: the strictest
    step = Scenario("step +10% cv=3%", 0.03, "step", 0.1, runs=4)
    row = evaluate(Scores("p", step, 0, np.array([[0, 1, 0, 0], [0, 0, 0, 0.0]]), 0.001), 1.0)
    assert row.within == {1: 0.5, 2: 0.5, 3: 0.5} and row.median_delay == 1.0
    assert "| step +10% cv=3% | p | 1 | 50.0% |" in format_rows([row])


def test_the_command_prints_the_table_and_writes_json(tmp_path: Path, capsys) -> None:
    out = tmp_path / "peers.json"
    assert main(["--series", "1", "--peers", "bench,hud", "--json", str(out)]) == 0
    assert "| noise cv=1% | bench | 1 |" in capsys.readouterr().out
    rows = json.loads(out.read_text())
    assert {(r["peer"], r["tuned"]) for r in rows} == {
        ("bench", False),
        ("hud", False),
        ("hud", True),
    }
    with pytest.raises(SystemExit):
        main(["--peers", "nobody"])
