"""The best detection any rule could reach on the simulation's model (BENCHMARKS.md).

A Neyman-Pearson likelihood ratio that knows everything the detector has to estimate: the level,
the noise (CV 3%), the step (+10%) and the outlier distribution (5% of runs x U(1.2, 2.0)).
Its threshold gives 1 false alarm per 1000 noise windows; its power over k shifted runs bounds
what a k-run rule can catch.
Usage: .venv/bin/python benchmarks/detection_bound.py   # about 30 s
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

CV, SHARE, STEP, FALSE_ALARMS = 0.03, 0.05, 1.10, 0.001
FACTORS = np.linspace(1.2, 2.0, 401)


def density(y: np.ndarray) -> np.ndarray:
    """Density of (1 + noise) x outlier factor at y (level 1)."""
    outlier = np.trapezoid(norm.pdf(y[..., None] / FACTORS, 1, CV) / FACTORS, FACTORS, axis=-1)
    return (1 - SHARE) * norm.pdf(y, 1, CV) + SHARE * outlier / 0.8


def sample(rng: np.random.Generator, n: int, k: int, level: float) -> np.ndarray:
    noise = rng.normal(0, CV, (n, k))
    factor = np.where(rng.random((n, k)) < SHARE, rng.uniform(1.2, 2.0, (n, k)), 1.0)
    return level * (1 + noise) * factor


def log_ratio(values: np.ndarray) -> np.ndarray:
    return np.sum(np.log(density(values / STEP) / STEP) - np.log(density(values)), axis=1)


def main() -> None:
    rng = np.random.default_rng(1)
    for k in (1, 2, 3):
        threshold = np.quantile(log_ratio(sample(rng, 400_000, k, 1.0)), 1 - FALSE_ALARMS)
        power = np.mean(log_ratio(sample(rng, 100_000, k, STEP)) > threshold)
        print(f"{k} shifted run(s): best possible detection {power:.1%} at 1 false alarm/1000")


if __name__ == "__main__":
    main()
