"""The robust baseline of a series: median centre and a floored, MAD-based spread."""

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


def robust_baseline(values: Sequence[float], *, floor_fraction: float) -> Baseline:
    """median; 1.4826 x MAD, floored at floor_fraction x |median| (identical runs have MAD 0)."""
    if len(values) == 0:
        raise ValueError("a baseline needs at least one value")
    numbers = [float(v) for v in values]  # small series: plain sorting beats numpy's overhead
    centre = statistics.median(numbers)
    mad = statistics.median([abs(v - centre) for v in numbers])
    spread = max(MAD_TO_SIGMA * mad, floor_fraction * abs(centre), 1e-12)
    return Baseline(centre=centre, spread=spread, count=len(numbers))
