"""The robust baseline of a series: median centre and a floored, trimmed-MAD-based spread."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MAD_TO_SIGMA = 1.4826  # makes the MAD estimate the standard deviation of normal noise


@dataclass(frozen=True)
class Baseline:
    """Centre and spread of the recent history; `z` and `change` measure a value against it."""

    centre: float
    spread: float
    count: int

    def z(self, value: float) -> float:
        return (value - self.centre) / self.spread

    def change(self, value: float) -> float:
        """Relative change from the centre (0.1 = 10% higher); infinite from a zero centre."""
        if self.centre == 0:
            return 0.0 if value == 0 else math.copysign(math.inf, value)
        return (value - self.centre) / abs(self.centre)


def robust_baseline(
    values: Sequence[float], *, floor_fraction: float, trim: float | None = None
) -> Baseline:
    """median; 1.4826 x MAD or, with `trim`, the spread of the runs within trim x that of the
    median; floored at floor_fraction x |median| (identical runs have MAD 0).

    The trimmed spread (a one-step reweighting of the MAD) keeps the MAD's robustness to outlier
    nights but is a far less noisy estimate under normal noise (~90% efficient against ~37%).
    """
    if len(values) == 0:
        raise ValueError("a baseline needs at least one value")
    numbers = [float(v) for v in values]  # small series: plain sorting beats numpy's overhead
    centre = statistics.median(numbers)
    scale = MAD_TO_SIGMA * statistics.median([abs(v - centre) for v in numbers])
    if trim is not None and scale > 0:
        kept = [v - centre for v in numbers if abs(v - centre) <= trim * scale]
        if len(kept) > 1:
            scale = math.sqrt(sum(d * d for d in kept) / (len(kept) - 1) / _trimmed_variance(trim))
    spread = max(scale, floor_fraction * abs(centre), 1e-12)
    return Baseline(centre=centre, spread=spread, count=len(numbers))


def _trimmed_variance(trim: float) -> float:
    """The variance of a standard normal truncated to +-trim: makes the trimmed spread unbiased."""
    inside = math.erf(trim / math.sqrt(2))
    density = math.exp(-trim * trim / 2) / math.sqrt(2 * math.pi)
    return 1 - 2 * trim * density / inside
