"""Change points over a whole series (ruptures): where a shift began, and slow drifts.

The per-run rule compares the latest runs with a rolling baseline, so a slow drift moves the
baseline along with it and is never flagged. Here the level of the latest runs is compared with
the level at the start of a longer lookback; ruptures then names the run where it started.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench.analysis.baseline import Baseline, robust_baseline
from bench.analysis.decision import violates
from bench.analysis.policy import DetectionConfig, MetricPolicy

CLIP_SPREADS = 4.0  # standardized values are clipped so one outlier cannot make a segment
MEDIAN_EFFICIENCY = 1.2533  # sd of a sample median = 1.2533 x sigma / sqrt(n) for normal noise


@dataclass(frozen=True)
class Drift:
    """A shift between the start of the lookback and its latest runs."""

    start_index: int  # index in the examined values where the change began
    reference: Baseline  # the level at the start of the lookback
    level: float  # median of the latest drift_recent runs
    change: float
    z: float


def standardize(values: Sequence[float], *, floor_fraction: float) -> np.ndarray:
    """Values in robust spreads from their median, clipped to +-CLIP_SPREADS."""
    baseline = robust_baseline(values, floor_fraction=floor_fraction)
    scaled = (np.asarray(values, dtype=float) - baseline.centre) / baseline.spread
    return np.clip(scaled, -CLIP_SPREADS, CLIP_SPREADS)


def change_points(
    values: Sequence[float],
    *,
    penalty: float = 3.0,
    min_size: int = 2,
    floor_fraction: float = 0.005,
) -> list[int]:
    """Indices where a new level begins (binary segmentation, L2 cost, penalty x log n).

    The spread comes from first differences, so a step does not inflate its own noise estimate.
    """
    n = len(values)
    if n < 2 * min_size:
        return []
    array = np.asarray(values, dtype=float)
    noise = 1.4826 * float(np.median(np.abs(np.diff(array)))) / math.sqrt(2)
    centre = float(np.median(array))
    spread = max(noise, floor_fraction * abs(centre), 1e-12)
    scaled = np.clip((array - centre) / spread, -3 * CLIP_SPREADS, 3 * CLIP_SPREADS)
    import ruptures as rpt  # scipy with it: ~1 s, paid only when a series needs localizing

    algo = rpt.Binseg(model="l2", min_size=min_size, jump=1).fit(scaled.reshape(-1, 1))
    return [int(i) for i in algo.predict(pen=penalty * math.log(n))[:-1]]


def last_change_point(values: Sequence[float], config: DetectionConfig) -> int | None:
    """Where the current level began: a change point among the last baseline_runs values."""
    found = change_points(
        values[-config.drift_lookback :],
        penalty=config.changepoint_penalty,
        floor_fraction=config.spread_floor,
    )
    index = found[-1] + max(len(values) - config.drift_lookback, 0) if found else None
    return index if index is not None and index >= len(values) - config.baseline_runs else None


def drift_start(values: Sequence[float], *, min_size: int = 5) -> int:
    """The knee of a continuous piecewise-linear fit with one break: where a ramp begins."""
    import ruptures as rpt

    scaled = standardize(values, floor_fraction=0.0).reshape(-1, 1)
    if len(values) < 2 * min_size:
        return 0
    return int(rpt.Binseg(model="clinear", min_size=min_size).fit(scaled).predict(n_bkps=1)[0])


def find_drift(
    values: Sequence[float],
    policy: MetricPolicy,
    config: DetectionConfig,
    *,
    direction: int = 1,
    localize: bool = True,
) -> Drift | None:
    """A drift in `direction` over the last drift_lookback values (oldest first), or None.

    Cheap test first (medians only); ruptures runs only to localize a drift that is there
    (localize=False skips it: start_index is then the start of the lookback).
    """
    span = list(values[-config.drift_lookback :])
    if len(span) < config.baseline_runs + config.drift_recent:
        return None
    reference = robust_baseline(span[: config.baseline_runs], floor_fraction=config.spread_floor)
    level = statistics.median(span[-config.drift_recent :])
    scale = reference.spread * MEDIAN_EFFICIENCY
    z = (level - reference.centre) / (
        scale * math.sqrt(1 / config.drift_recent + 1 / config.baseline_runs)
    )
    bigger = MetricPolicy(
        min_change=policy.min_change * config.drift_factor,
        min_abs_change=policy.min_abs_change * config.drift_factor,
    )
    if direction * z < config.drift_z or not violates(
        reference, level, bigger, -math.inf, direction
    ):
        return None
    start = (drift_start(span) if localize else 0) + len(values) - len(span)
    return Drift(start, reference, level, reference.change(level), z)
