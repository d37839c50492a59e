"""benchmarks/pooled_tuning.py: scores kept on disk, one threshold for several recordings, and
paired tests of a peer's lead over bench."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.detection_sim import Scenario
from benchmarks.detector_peers import caught_within, default_peers, tuned_thresholds
from benchmarks.detector_peers import main as peers_main
from benchmarks.peer_scores import Scores, load_scores, save_scores
from benchmarks.pooled_tuning import (
    holm,
    leads,
    main,
    mcnemar,
)

NOISE = Scenario("noise", 0.01, "noise", runs=4)
STEP = Scenario("step +5%", 0.01, "step", 0.05, runs=4)
PEERS = [p for p in default_peers() if p.name in {"bench", "conbench"}]


def table(conbench_noise: float, *, bench_hits: int = 5, conbench_hits: int = 8):
    """10 series: bench never alarms on noise; conbench's noise scores all equal
    `conbench_noise`; on the step, the first `*_hits` series alarm on the step run."""
    quiet = np.zeros((10, 4))
    bench_step, conbench_step = quiet.copy(), np.full((10, 4), 2.0)
    bench_step[:bench_hits, 0] = 1.0
    conbench_step[:conbench_hits, 0] = 9.0
    return {
        "bench": [Scores("bench", NOISE, 0, quiet, 0.0), Scores("bench", STEP, 0, bench_step, 0.0)],
        "conbench": [
            Scores("conbench", NOISE, 0, np.full((10, 4), conbench_noise), 0.0),
            Scores("conbench", STEP, 0, conbench_step, 0.0),
        ],
    }


def test_scores_survive_the_round_trip(tmp_path) -> None:
    saved = table(2.0)
    save_scores(tmp_path / "a.npz", saved, source="made here")
    loaded, source = load_scores(tmp_path / "a.npz")
    assert source == "made here"
    assert list(loaded) == ["bench", "conbench"]
    for name, all_ in saved.items():
        for mine, theirs in zip(all_, loaded[name], strict=True):
            assert theirs.scenario == mine.scenario
            np.testing.assert_array_equal(theirs.values, mine.values)


def test_one_threshold_for_all_is_as_strict_as_the_wildest_recording() -> None:
    tame, wild = table(2.0), table(7.0)
    assert tuned_thresholds([tame], PEERS) == {"conbench": 3.0}  # the grid's most sensitive
    assert tuned_thresholds([wild], PEERS) == {"conbench": 8.0}
    assert tuned_thresholds([tame, wild], PEERS) == {"conbench": 8.0}


def test_a_lead_is_counted_on_the_same_series() -> None:
    found = leads("tame", table(2.0), {"conbench": 3.0})
    assert [(x.within, x.peer_only, x.bench_only) for x in found] == [
        (1, 3, 0),
        (2, 3, 0),
        (3, 3, 0),
    ]
    assert found[0].peer_share == 0.8 and found[0].bench_share == 0.5
    assert found[0].p == pytest.approx(0.25)  # 3 discordant series, all one way: 2 x 0.5**3
    assert leads("tame", table(2.0, bench_hits=8), {"conbench": 3.0}) == []


def test_caught_within_counts_the_step_run_and_the_runs_after() -> None:
    scores = Scores("x", STEP, 0, np.array([[0, 0, 1, 0], [0, 0, 0, 1.0]]), 0.0)
    assert caught_within(scores, 1.0, 1).tolist() == [False, False]
    assert caught_within(scores, 1.0, 2).tolist() == [True, False]
    assert caught_within(scores, 1.0, 3).tolist() == [True, True]


def test_mcnemar_and_holm_known_answers() -> None:
    ten = np.ones(10, dtype=bool)
    assert mcnemar(~ten, ten) == (0, 10, pytest.approx(2 * 0.5**10))
    half = np.arange(10) < 5
    assert mcnemar(half, ~half) == (5, 5, pytest.approx(1.0))
    assert mcnemar(ten, ten) == (0, 0, 1.0)
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_main_reports_both_tunings_from_real_detector_peers_scores(tmp_path, capsys) -> None:
    args = ["--series", "3", "--peers", "bench,conbench", "--real-noise"]
    sample = str(Path(__file__).parents[2] / "benchmarks/data/noise_sample_reference.csv")
    assert peers_main([*args, sample, "--per-reference", "--scores", str(tmp_path / "r.npz")]) == 0
    capsys.readouterr()
    assert main([str(tmp_path / "r.npz")]) == 0
    out = capsys.readouterr().out
    assert "| conbench |" in out and "one for all" in out
    assert "real torch/eager step +5%" in out


def test_main_refuses_a_file_without_bench(tmp_path, capsys) -> None:
    save_scores(tmp_path / "x.npz", {"conbench": table(2.0)["conbench"]}, source="-")
    with pytest.raises(SystemExit):
        main([str(tmp_path / "x.npz")])
    assert "no bench scores" in capsys.readouterr().err


def test_exact_tuning_finds_the_threshold_between_grid_steps() -> None:
    # bench raises 2 alarms in 40 noise runs (50 per 1000); conbench's noise scores are spread
    # out, so its grid (3, 4, ...) stops at 8 but 2 alarms allow anything above its third-highest
    tame = table(2.0)
    tame["bench"][0].values[0, :2] = 1.0
    tame["conbench"][0].values[:] = np.linspace(0.0, 7.5, 40).reshape(10, 4)
    assert tuned_thresholds([tame], PEERS) == {"conbench": 8.0}
    exact = tuned_thresholds([tame], PEERS, exact=True)["conbench"]
    assert 7.1 < exact < 7.2  # just above 7.115, the third-highest score
    assert (tame["conbench"][0].values >= exact).sum() == 2
