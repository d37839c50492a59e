"""bench's detector against the rules of the systems users would otherwise pick, on the same
simulated series (issue 16; benchmarks/detection_sim.py's scenarios and seeds).

Peers (benchmarks/peers/): Conbench's lookback z-score, the PyTorch HUD compile dashboard's
rule, asv's `step_detect`, Apache Otava's E-divisive with t-tests, and bench's own rule with its
shipped defaults. Each is judged at every run, as a nightly job would run it; a peer's alarm is
its score reaching its threshold, so each is also re-tuned (a threshold sweep on the noise-only
scenarios) to bench's false-alarm rate, comparing power at equal false alarms.
Run: .venv/bin/python -m benchmarks.detector_peers [--series 100] [--seed 20261101] [--json PATH]
     [--peers bench,hud] [--outlier-rate 0.05] [--real-noise CSV [--per-reference]
     [--repeats N [--spacing S]] [--joint]] [--warehouse-timing] [--scores PATH.npz]
`--real-noise`: the same on this machine's recorded noise (benchmarks/real_noise.py); with
`--repeats 5` each night is the summary of 5 recorded runs, as a nightly with 5 repeats stores it
(`--spacing 5`: runs 5 apart, as far apart as the shipped matrix runs a case's repeats);
`--joint` draws the other recorded cases from the same rounds, so bench judges each time over
the run-wide factor as it does in a nightly run; the peers read one series.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from bench.analysis.host_speed import relative_levels, run_factors
from bench.analysis.policy import TIME, DetectionConfig
from bench.cli.common import positive
from bench.records import BLOCKING_LABELS
from benchmarks.detection_sim import (
    OUTLIER_RATE,
    WARMUP,
    Scenario,
    default_scenarios,
    label_at,
    make_series,
)
from benchmarks.peer_scores import Scores, Table, save_scores
from benchmarks.peers import asv_steps, conbench, edivisive, hud
from benchmarks.real_noise import (
    BLOCK,
    SeriesMaker,
    load_factors,
    night_span,
    real_scenarios,
    series_maker,
)

Score = Callable[[np.ndarray, int], float]


@dataclass(frozen=True)
class Peer:
    """A detector: `score(values, t)` judges run t from runs 0..t; it alarms when the score
    reaches `threshold`. `grid`: the thresholds tried when re-tuning it."""

    name: str
    follows: str
    score: Score
    threshold: float
    grid: tuple[float, ...] = ()
    prepare: Callable[[np.ndarray], np.ndarray] | None = None  # reads the run's other cases

    def alarms(
        self,
        series: Sequence[float] | np.ndarray,
        *,
        start: int = 0,
        threshold: float | None = None,
    ) -> list[int]:
        """The run indices (from `start` on) at which this detector raises an alarm; given the
        run's other cases too (rows of (cases, runs), its own first), what `prepare` makes."""
        values = np.asarray(series, dtype=float)
        if values.ndim == 2:
            values = self.prepare(values) if self.prepare else values[0]
        limit = self.threshold if threshold is None else threshold
        return [t for t in range(start, len(values)) if self.score(values, t) >= limit]


def bench_score(config: DetectionConfig | None = None) -> Score:
    """1 when bench's rule gives run t a blocking label (`regression`, `drift`), else 0."""
    config = config or DetectionConfig()

    def score(values: np.ndarray, t: int) -> float:
        return float(label_at(values, t, TIME, config) in BLOCKING_LABELS)

    return score


def over_the_run(rows: np.ndarray) -> np.ndarray:
    """A series over its run-wide factor, as bench.analysis.assess judges a time: `rows` are
    (cases, runs), the judged case first; run i's factor is the median of the other cases'
    relative levels in it (bench.analysis.host_speed.run_factors; centred on the whole row,
    where bench centres on its recent runs: the other cases here carry no change, so both
    centres are their usual level up to noise). Over fewer than
    MIN_RUN_CASES other cases the series stays as it is. A blocking label on it is blocking in
    bench; a time worse only before it is `machine`, never blocking."""
    own, *others = np.atleast_2d(rows)
    factors = run_factors(relative_levels(dict(enumerate(row.tolist()))) for row in others)
    if len(factors) < len(own):
        return own
    return own / np.array([factors[i] for i in range(len(own))])


def default_peers(config: DetectionConfig | None = None) -> list[Peer]:
    return [
        Peer(
            "bench",
            "bench.analysis, shipped defaults",
            bench_score(config),
            1.0,
            prepare=over_the_run,
        ),
        Peer(
            "conbench",
            "Conbench lookback z (window 100, outliers out), z > 5; reimplemented",
            conbench.score,
            conbench.THRESHOLD,
            (3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 50.0, 75.0, 100.0, 150.0, 200.0),
        ),
        Peer(
            "hud",
            "PyTorch HUD: 2 latest runs >= 1.15 x median of 7 before; reimplemented",
            hud.score,
            hud.THRESHOLD,
            (
                1.03,
                1.05,
                1.07,
                1.1,
                1.12,
                1.15,
                1.2,
                1.25,
                1.3,
                1.4,
                1.5,
                1.6,
                1.7,
                1.8,
                1.9,
                2.0,
                2.5,
            ),
        ),
        Peer(
            "asv",
            "asv.step_detect (asv package), 5% threshold; new step in the last 10 runs",
            asv_steps.score,
            asv_steps.THRESHOLD,
            asv_steps.GRID,
        ),
        Peer(
            "otava",
            "E-divisive + t-test (Otava's algorithm), window 50, p <= 0.001; reimplemented",
            edivisive.score,
            -math.log10(edivisive.MAX_PVALUE),
            (2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 15.0, 20.0),
        ),
    ]


@dataclass
class Row:
    """One detector on one scenario at one threshold."""

    peer: str
    scenario: str
    threshold: float
    tuned: bool
    series: int
    within: dict[int, float] = field(default_factory=dict)  # k: share alarmed by step run + k
    median_delay: float | None = None
    false_alarms: int = 0
    false_runs: int = 0
    seconds_per_run: float = 0.0
    noise: bool = False  # a noise-only scenario: no step to catch

    @property
    def false_per_1000(self) -> float:
        return 1000 * self.false_alarms / max(self.false_runs, 1)


def score_scenario(
    peer: Peer,
    scenario: Scenario,
    number: int,
    *,
    series: int,
    seed: int,
    warmup: int,
    outlier_rate: float = OUTLIER_RATE,
    make: SeriesMaker = make_series,
) -> Scores:
    """Scores at every judged run, on the very series `make` (by default detection_sim's)
    draws for this scenario."""
    rng = np.random.default_rng([seed, number])
    values, change_at = make(rng, scenario, series, outlier_rate, warmup)
    started = time.perf_counter()
    if values.ndim == 3:  # joint rows: a peer reads its own series, or prepares it from all
        values = np.array([peer.prepare(row) if peer.prepare else row[0] for row in values])
    grid = np.array([[peer.score(row, t) for t in range(change_at, len(row))] for row in values])
    elapsed = time.perf_counter() - started
    return Scores(peer.name, scenario, 0, grid, elapsed / max(grid.size, 1))


WITHIN = (1, 2, 3)  # runs after the step run that still count as catching it


def caught_within(scores: Scores, threshold: float, within: int) -> np.ndarray:
    """Per series: an alarm on the step run or one of the `within` runs after it."""
    start = scores.change_at
    return (scores.values[:, start : start + within + 1] >= threshold).any(axis=1)


def evaluate(scores: Scores, threshold: float, *, tuned: bool = False) -> Row:
    alarms = scores.values >= threshold
    scenario = scores.scenario
    row = Row(scores.peer, scenario.name, threshold, tuned, len(alarms))
    row.seconds_per_run = scores.seconds_per_run
    row.noise = scenario.kind == "noise"
    first = [int(np.argmax(a)) for a in alarms if a.any()]
    for k in WITHIN:
        row.within[k] = int(caught_within(scores, threshold, k).sum()) / max(len(alarms), 1)
    if first and scenario.kind != "noise":
        row.median_delay = float(np.median(first))
    if scenario.kind == "noise" or scenario.size < 0:
        row.false_alarms, row.false_runs = int(alarms.sum()), alarms.size
    return row


def tune(noise: Sequence[Scores], grid: Sequence[float], target: float) -> float:
    """The most sensitive threshold of `grid` whose false alarms over all noise scenarios
    together are at most `target` per 1000 series-runs (the strictest one if none is)."""
    ordered = sorted(grid)
    for threshold in ordered:
        if false_rate(noise, threshold) <= target:
            return threshold
    return ordered[-1]


def score_table(
    peers: Sequence[Peer],
    *,
    series: int = 100,
    seed: int = 20261101,
    scenarios: Sequence[Scenario] | None = None,
    config: DetectionConfig | None = None,
    outlier_rate: float = OUTLIER_RATE,
    make: SeriesMaker = make_series,
) -> Table:
    """Every peer's scores on every scenario, all peers on the very same series."""
    config = config or DetectionConfig()
    warmup = max(WARMUP, config.baseline_runs + config.confirm_runs + 7)
    scenarios = list(scenarios or default_scenarios())
    return {
        peer.name: [
            score_scenario(
                peer,
                s,
                n,
                series=series,
                seed=seed,
                warmup=warmup,
                outlier_rate=outlier_rate,
                make=make,
            )
            for n, s in enumerate(scenarios)
        ]
        for peer in peers
    }


def false_rate(noise: Sequence[Scores], threshold: float) -> float:
    """Alarms per 1000 series-runs over these noise-only scenarios together."""
    runs = sum(s.values.size for s in noise)
    return 1000 * sum(int((s.values >= threshold).sum()) for s in noise) / max(runs, 1)


def exact_threshold(noise: Sequence[Scores], target: float) -> float:
    """The most sensitive threshold of any value whose false alarms over these noise-only
    scenarios together are at most `target` per 1000 series-runs."""
    scores = np.concatenate([s.values.ravel() for s in noise])
    scores = np.sort(scores[~np.isnan(scores)])[::-1]
    allowed = int(target * sum(s.values.size for s in noise) / 1000)
    if allowed >= len(scores):
        return -math.inf
    return float(np.nextafter(scores[allowed], math.inf))


def tuned_thresholds(
    tables: Sequence[Table], peers: Sequence[Peer], *, exact: bool = False
) -> dict[str, float]:
    """Per peer with a grid: the most sensitive threshold of its grid (`exact`: of any value)
    whose false alarms over all the tables' noise-only scenarios together are at most bench's
    over the same (none without bench)."""
    noise = {
        p.name: [s for t in tables for s in t.get(p.name, []) if s.scenario.kind == "noise"]
        for p in peers
    }
    if not noise.get("bench"):
        return {}
    target = false_rate(noise["bench"], 1.0)
    return {
        p.name: exact_threshold(noise[p.name], target)
        if exact
        else tune(noise[p.name], p.grid, target)
        for p in peers
        if p.name != "bench" and p.grid and noise[p.name]
    }


def rows_of(table: Table, peers: Sequence[Peer]) -> list[Row]:
    """Every peer at its documented threshold, then re-tuned to bench's false-alarm rate on
    this table's noise-only scenarios."""
    rows = [evaluate(s, peer.threshold) for peer in peers for s in table[peer.name]]
    for name, threshold in tuned_thresholds([table], peers).items():
        rows += [evaluate(s, threshold, tuned=True) for s in table[name]]
    return rows


def format_rows(rows: Sequence[Row]) -> str:
    lines = [
        "| scenario | detector | threshold | within 1 | within 2 | within 3 | median delay "
        "| false /1000 runs | ms / run |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    order = {name: i for i, name in enumerate(dict.fromkeys(r.scenario for r in rows))}
    for row in sorted(rows, key=lambda r: (order[r.scenario], r.tuned)):
        noise = row.noise
        name = f"{row.peer} (tuned)" if row.tuned else row.peer
        hits = ["-"] * 3 if noise else [f"{row.within[k]:.1%}" for k in (1, 2, 3)]
        delay = "-" if row.median_delay is None else f"{row.median_delay:g}"
        false = f"{row.false_per_1000:.2f} ({row.false_alarms})" if row.false_runs else "-"
        lines.append(
            f"| {row.scenario} | {name} | {row.threshold:g} | {' | '.join(hits)} | {delay} "
            f"| {false} | {1000 * row.seconds_per_run:.2f} |"
        )
    return "\n".join(lines)


def warehouse_seconds(
    peers: Sequence[Peer], *, series: int = 620, runs: int = 3652, seed: int = 20261101
) -> dict[str, float]:
    """Per peer, the seconds to judge the latest night of a 10-year x 60-case warehouse: its
    `series` histories (bench detect judged 620) of `runs` nightly runs, noise at CV 3%. Each
    peer reads the window it uses here; asv itself fits the whole history, timed on 20 of the
    series and scaled up ("asv, whole history")."""
    noise = Scenario("warehouse", 0.03, "noise", runs=runs - WARMUP)
    values, _ = make_series(np.random.default_rng(seed), noise, series, OUTLIER_RATE, WARMUP)
    seconds = {}
    for peer in peers:
        started = time.perf_counter()
        for row in values:
            peer.score(row, len(row) - 1)
        seconds[peer.name] = time.perf_counter() - started
        if peer.name == "asv":
            started = time.perf_counter()
            for row in values[:20]:
                asv_steps.regression_starts(row)
            whole = time.perf_counter() - started
            seconds["asv, whole history"] = whole * len(values) / min(20, len(values))
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.detector_peers", description=__doc__
    )
    parser.add_argument("--series", type=int, default=100, help="series per scenario")
    parser.add_argument("--seed", type=int, default=20261101)
    parser.add_argument("--peers", help="comma-separated subset (default: all)")
    parser.add_argument(
        "--outlier-rate",
        type=float,
        default=OUTLIER_RATE,
        help=f"share of one-night outliers (default {OUTLIER_RATE}, the simulation's)",
    )
    parser.add_argument(
        "--real-noise",
        type=Path,
        metavar="CSV",
        help="judge steps on this machine's recorded noise (benchmarks/noise_sample.py's CSV) "
        "instead of the simulated scenarios",
    )
    parser.add_argument(
        "--block",
        type=int,
        default=BLOCK,
        help=f"with --real-noise: runs per bootstrap block (default {BLOCK}; 1 draws runs "
        "independently, dropping the recording's run-to-run correlation)",
    )
    parser.add_argument(
        "--per-reference",
        action="store_true",
        help="with --real-noise: judge each run's steady time over its reference workload time",
    )
    parser.add_argument(
        "--repeats",
        type=positive(int),
        default=1,
        help="with --real-noise: each night is bench's summary (median) of this many "
        "recorded runs (see --spacing), as a nightly with that many repeats stores it (default 1: "
        "one process per night)",
    )
    parser.add_argument(
        "--spacing",
        type=positive(int),
        default=1,
        help="with --repeats: a night's repeats are this many recorded runs of the case apart "
        "(default 1: consecutive, as close as a nightly's repeats can be; 5: about how far "
        "apart the shipped 14-case CPU matrix runs them)",
    )
    parser.add_argument(
        "--joint",
        action="store_true",
        help="with --real-noise: draw every recorded case from the same rounds, so bench judges "
        "each time over the run-wide factor (its other cases' movement); needs every case in "
        "every round",
    )
    parser.add_argument(
        "--warehouse-timing",
        action="store_true",
        help="only time each peer judging the latest night of 620 series x 3,652 runs",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    parser.add_argument(
        "--scores",
        metavar="PATH",
        help="also keep every raw score (.npz) for benchmarks.pooled_tuning to re-tune from",
    )
    args = parser.parse_args(argv)
    peers = default_peers()
    if args.peers:
        wanted = set(args.peers.split(","))
        if unknown := wanted - {p.name for p in peers}:
            parser.error(f"unknown peers {sorted(unknown)}; known: {[p.name for p in peers]}")
        peers = [p for p in peers if p.name in wanted]
    if args.warehouse_timing:
        for name, seconds in warehouse_seconds(peers, seed=args.seed).items():
            print(f"{name}: {seconds:.2f} s for the latest night of 620 series x 3,652 runs")
        return 0
    started = time.perf_counter()
    if args.real_noise:
        try:
            factors = load_factors(
                args.real_noise,
                per_reference=args.per_reference,
                repeats=args.repeats,
                spacing=args.spacing,
                joint=args.joint,
            )
        except (OSError, ValueError, KeyError) as exc:
            parser.error(f"cannot read the noise sample {args.real_noise}: {exc}")
        table = score_table(
            peers,
            series=args.series,
            seed=args.seed,
            scenarios=real_scenarios(factors),
            make=series_maker(factors, args.block, args.repeats, args.spacing, joint=args.joint),
        )
        span = night_span(args.repeats, args.spacing)
        runs = sum(map(len, factors.values())) + (span - 1) * len(factors)
        over = ", over the reference" if args.per_reference else ""
        apart = f" {args.spacing} apart" if args.spacing > 1 else ""
        nights = f", nights = median of {args.repeats} runs{apart}" if args.repeats > 1 else ""
        joint = ", cases drawn jointly" if args.joint else ""
        source = (
            f"real noise from {args.real_noise} ({runs} runs{over}{nights}, "
            f"blocks of {args.block} runs{joint})"
        )
    else:
        table = score_table(
            peers, series=args.series, seed=args.seed, outlier_rate=args.outlier_rate
        )
        source = f"outlier rate {args.outlier_rate:g}"
    rows = rows_of(table, peers)
    print(format_rows(rows))
    print(f"\n{args.series} series per scenario, {source}; {time.perf_counter() - started:.0f} s")
    if args.scores:
        save_scores(args.scores, table, source=f"{args.series} series per scenario, {source}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([asdict(r) | {"false_per_1000": r.false_per_1000} for r in rows], handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
