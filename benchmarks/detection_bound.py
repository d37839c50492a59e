"""The best detection any rule could reach on the simulation's model (BENCHMARKS.md).

A Neyman-Pearson likelihood ratio that knows everything the detector has to estimate: the level,
the noise (CV 3%), the step (+10%) and the outlier distribution (benchmarks.detection_sim's:
5% of runs x U(1.2, 2.0)); its runs are drawn by the simulation's make_series.
Its threshold gives 1 false alarm per 1000 noise windows; its power over k shifted runs bounds
what a k-run rule can catch.
Usage: .venv/bin/python -m benchmarks.detection_bound   # 1-3 minutes (host-dependent), 1 GB
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from benchmarks.detection_sim import OUTLIER_FACTORS, OUTLIER_RATE, Scenario, make_series

CV, STEP, FALSE_ALARMS = 0.03, 0.10, 0.001
FACTORS = np.linspace(*OUTLIER_FACTORS, 401)


def density(y: np.ndarray) -> np.ndarray:
    """Density of (1 + noise) x outlier factor at y (level 1)."""
    outlier = np.trapezoid(norm.pdf(y[..., None] / FACTORS, 1, CV) / FACTORS, FACTORS, axis=-1)
    width = OUTLIER_FACTORS[1] - OUTLIER_FACTORS[0]
    return (1 - OUTLIER_RATE) * norm.pdf(y, 1, CV) + OUTLIER_RATE * outlier / width


def sample(rng: np.random.Generator, n: int, k: int, step: float) -> np.ndarray:
    """n windows of k runs, all after a step of `step` (0: noise only)."""
    scenario = Scenario("bound", CV, "step", step, runs=k)
    return make_series(rng, scenario, n, OUTLIER_RATE, warmup=0)[0]


def log_ratio(values: np.ndarray) -> np.ndarray:
    level = 1 + STEP
    chunks = np.array_split(values, max(len(values) // 20_000, 1))  # bounds the memory used
    return np.concatenate([
        np.sum(np.log(density(chunk / level) / level) - np.log(density(chunk)), axis=1)
        for chunk in chunks
    ])  # fmt: skip


def main() -> None:
    rng = np.random.default_rng(1)
    for k in (1, 2, 3):
        threshold = np.quantile(log_ratio(sample(rng, 400_000, k, 0.0)), 1 - FALSE_ALARMS)
        power = np.mean(log_ratio(sample(rng, 100_000, k, STEP)) > threshold)
        print(f"{k} shifted run(s): best possible detection {power:.1%} at 1 false alarm/1000")


if __name__ == "__main__":
    main()
