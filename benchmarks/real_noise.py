"""Series with this machine's real noise (issue 16): the steady times benchmarks/noise_sample.py
recorded, as factors of their case's median, block-bootstrapped into series of any length, with
a synthetic step or nothing on top. Blocks keep the recording's structure: runs next to each
other in time (one idle or loaded block of the recording) stay together.

Used by `python -m benchmarks.detector_peers --real-noise CSV`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.detection_sim import Scenario

BLOCK = 10  # runs per bootstrap block: the recording's idle/loaded block
STEPS = (0.05, 0.10, 0.20)

# (rng, scenario, count, outlier_rate, warmup) -> (series as rows, index of the first change)
SeriesMaker = Callable[[np.random.Generator, Scenario, int, float, int], tuple[np.ndarray, int]]


def load_factors(path: Path, *, per_reference: bool = False) -> dict[str, np.ndarray]:
    """Per case (framework/mode), its ok runs' steady seconds in recorded order over their
    median: the noise as a multiplicative factor around 1. `per_reference`: the steady time
    over the run's reference workload time (the host's speed, measured just before it)."""
    times: dict[str, list[float]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["status"] != "ok" or not row["steady_s"]:
                continue
            value = float(row["steady_s"])
            if per_reference:
                if not row.get("reference_s"):
                    raise ValueError(f"{path} has runs without reference_s; record a new sample")
                value /= float(row["reference_s"])
            times.setdefault(f"{row['framework']}/{row['mode']}", []).append(value)
    if not times:
        raise ValueError(f"{path} holds no ok run with a steady time")
    return {name: np.array(v) / np.median(v) for name, v in times.items()}


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
    rng: np.random.Generator, values: np.ndarray, count: int, length: int, block: int = BLOCK
) -> np.ndarray:
    """`count` rows of `length`: blocks of `block` consecutive values from random starts
    (wrapping around the recording's end)."""
    blocks = -(-length // block)
    starts = rng.integers(0, len(values), (count, blocks))
    index = (starts[:, :, None] + np.arange(block)) % len(values)
    return values[index.reshape(count, blocks * block)[:, :length]]


def series_maker(factors: dict[str, np.ndarray], block: int = BLOCK) -> SeriesMaker:
    """A make_series for real-noise scenarios: the scenario's step on its case's noise. The
    recorded noise keeps its own outliers; no synthetic ones are added (`outlier_rate` unused)."""

    def make(
        rng: np.random.Generator,
        scenario: Scenario,
        count: int,
        outlier_rate: float,
        warmup: int,
    ) -> tuple[np.ndarray, int]:
        length = warmup + scenario.runs
        noise = block_bootstrap(rng, factors[case_of(scenario)], count, length, block)
        level = np.ones((count, length))
        if scenario.kind == "step":
            level[:, warmup:] += scenario.size
        return level * noise, warmup

    return make
