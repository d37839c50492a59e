"""Series with this machine's real noise (issue 16): the steady times benchmarks/noise_sample.py
recorded, as factors of their case's median, block-bootstrapped into series of any length, with
a synthetic step or nothing on top. Blocks keep the recording's structure: runs next to each
other in time (one idle or loaded block of the recording) stay together.

With `repeats` N, each value is a nightly-style result instead of one process: bench's own summary
(bench.repeats.summarize) over N recorded runs of the case, `spacing` runs apart. The recording
runs its cases round robin, as an interleaved nightly of those three cases would, so N
consecutive runs (spacing 1) are that nightly's N repeats: the closest together a nightly's
repeats can be, so a slow minute moves as many of them as it can. The shipped matrix runs about
14 CPU cases between two repeats of one, about 5 rounds of the recording (`spacing` 5).

With `joint`, every case of a series is drawn from the same recorded rounds: the scenario's
case (with its step) first, then the other recorded cases at the same moments, unchanged, as
the rest of a nightly run would have measured them (for the run-wide factor bench judges
times over, bench.analysis.host_speed.run_factors).

Used by `python -m benchmarks.detector_peers --real-noise CSV [--repeats N [--spacing S]]
[--joint]`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.config import Case
from bench.records import Record
from bench.repeats import summarize
from benchmarks.detection_sim import Scenario

BLOCK = 10  # runs per bootstrap block: the recording's idle/loaded block
STEPS = (0.05, 0.10, 0.20)

# (rng, scenario, count, outlier_rate, warmup) -> (series as rows, index of the first change)
SeriesMaker = Callable[[np.random.Generator, Scenario, int, float, int], tuple[np.ndarray, int]]


def load_runs(path: Path) -> dict[str, list[Record]]:
    """Per case (framework/mode), its ok runs with a steady time, in recorded order, as the
    records bench would have stored (steady and reference seconds, the noisy reason)."""
    runs: dict[str, list[Record]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["status"] != "ok" or not row["steady_s"]:
                continue
            case = Case(row["framework"], row["mode"], "cpu")
            reference = row.get("reference_s")
            record = Record(
                run_id=f"sample-{row['round']}",
                case=case,
                steady_epoch_seconds=float(row["steady_s"]),
                reference_seconds=float(reference) if reference else None,
                noisy=row.get("noisy") or None,
            )
            runs.setdefault(f"{case.framework}/{case.mode}", []).append(record)
    if not runs:
        raise ValueError(f"{path} holds no ok run with a steady time")
    return runs


def require_same_rounds(runs: dict[str, list[Record]]) -> None:
    """Joint draws need every case in every recorded round (a sample with a failed run cannot
    be drawn jointly)."""
    first, *rest = ([r.run_id for r in records] for records in runs.values())
    if any(other != first for other in rest):
        raise ValueError("its cases ran in different rounds (a failed run?); drop --joint")


def night_span(repeats: int, spacing: int) -> int:
    """Recorded runs from a night's first repeat to its last, both included."""
    return (repeats - 1) * spacing + 1


def load_factors(
    path: Path,
    *,
    per_reference: bool = False,
    repeats: int = 1,
    spacing: int = 1,
    joint: bool = False,
) -> dict[str, np.ndarray]:
    """Per case, its results over their median: the noise as a multiplicative factor around 1.
    A result is one run's steady seconds, or with `repeats` N the summary of runs i, i+s, ...,
    i+(N-1)s (s = `spacing`) for every i (bench.repeats.summarize, as a nightly with N repeats
    stores it).
    `per_reference`: the steady time over the reference workload time (the host's speed,
    measured just before the run; for a summary, the median of its repeats').
    `joint`: refuse a sample whose cases did not all run in the same rounds."""
    if repeats < 1 or spacing < 1:
        raise ValueError(f"repeats and spacing must be at least 1, got {repeats} and {spacing}")
    span = night_span(repeats, spacing)
    factors = {}
    runs = load_runs(path)
    if joint:
        require_same_rounds(runs)
    for name, records in runs.items():
        # a zero reference would make vs_reference None, a NaN factor here: refuse it too
        if per_reference and any(not r.reference_seconds for r in records):
            raise ValueError(f"{path} has runs without a positive reference_s; record a new sample")
        if repeats > 1:
            if len(records) < span:
                raise ValueError(
                    f"{name} has {len(records)} runs, fewer than {repeats} repeats "
                    f"{spacing} apart need ({span})"
                )
            records = [
                summarize([replace(r, repeat=k + 1, repeats=repeats) for k, r in enumerate(window)])
                for window in (
                    records[i : i + span : spacing] for i in range(len(records) - span + 1)
                )
            ]
        values = np.array(
            [r.vs_reference if per_reference else r.steady_epoch_seconds for r in records],
            dtype=float,
        )
        factors[name] = values / np.median(values)
    return factors


def robust_cv(factors: np.ndarray) -> float:
    """1.4826 x MAD of the factors (their median is 1): the noise's CV without its outliers."""
    return float(1.4826 * np.median(np.abs(factors - np.median(factors))))


def real_scenarios(factors: dict[str, np.ndarray], noise_runs: int = 150) -> list[Scenario]:
    """Per recorded case: its noise alone, then +5/+10/+20% steps on it."""
    scenarios = []
    for name, values in factors.items():
        cv = robust_cv(values)
        scenarios.append(Scenario(f"real {name} noise", cv, "noise", runs=noise_runs))
        for size in STEPS:
            scenarios.append(Scenario(f"real {name} step +{size:.0%}", cv, "step", size))
    return scenarios


def case_of(scenario: Scenario) -> str:
    """The recorded case a real-noise scenario draws from ('real torch/eager step +5%')."""
    return scenario.name.split()[1]


def block_bootstrap(
    rng: np.random.Generator,
    values: np.ndarray,
    count: int,
    length: int,
    block: int = BLOCK,
    stride: int = 1,
) -> np.ndarray:
    """`count` rows of `length`: blocks of `block` values `stride` apart from random starts
    (wrapping around the recording's end). Over nights of N repeats s runs apart, stride N x s:
    each night starts where the one before ended, as the next night's repeats would."""
    blocks = -(-length // block)
    starts = rng.integers(0, len(values), (count, blocks))
    index = (starts[:, :, None] + stride * np.arange(block)) % len(values)
    return values[index.reshape(count, blocks * block)[:, :length]]


def series_maker(
    factors: dict[str, np.ndarray],
    block: int = BLOCK,
    repeats: int = 1,
    spacing: int = 1,
    *,
    joint: bool = False,
) -> SeriesMaker:
    """A make_series for real-noise scenarios: the scenario's step on its case's noise. The
    recorded noise keeps its own outliers; no synthetic ones are added (`outlier_rate` unused).
    `block` counts recorded runs; with `repeats` N and `spacing` s (factors from load_factors'
    summaries) a night takes N x s runs, the next one starting after them, and a block holds
    ceil(block / (N x s)) nights. `joint`: rows of shape (cases, length), the scenario's case
    first and the others, without the step, drawn from the same rounds (the scenario's own row
    is the one drawn without `joint`)."""
    stride = repeats * spacing
    nights = -(-block // stride)

    def make(
        rng: np.random.Generator,
        scenario: Scenario,
        count: int,
        outlier_rate: float,
        warmup: int,
    ) -> tuple[np.ndarray, int]:
        length = warmup + scenario.runs
        own = case_of(scenario)
        values = factors[own]
        if joint:
            # the rounds drawn for the scenario's case (an index series), for every case
            index = block_bootstrap(rng, np.arange(len(values)), count, length, nights, stride)
            names = [own, *(name for name in factors if name != own)]
            noise = np.stack([factors[name][index] for name in names], axis=1)
        else:
            noise = block_bootstrap(rng, values, count, length, nights, stride)
        level = np.ones(noise.shape)
        if scenario.kind == "step":
            stepped = level[:, 0] if joint else level  # a view: the scenario's case only
            stepped[:, warmup:] += scenario.size
        return level * noise, warmup

    return make
