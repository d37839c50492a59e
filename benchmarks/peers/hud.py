"""The PyTorch HUD compile dashboard's regression rule, reimplemented.

Follows the rule as the issue states it for pytorch/test-infra's benchmark regression report:
the median of a baseline window against the latest runs; a run violates when its ratio to that
median is at least 1.15 (higher is worse), and a regression needs at least 2 consecutive
violations at the tail. The baseline is the `baseline` runs before those tail runs (a week of
nightlies by default).
"""

from __future__ import annotations

import numpy as np

THRESHOLD = 1.15
CONSECUTIVE = 2
BASELINE = 7


def score(
    values: np.ndarray, t: int, *, baseline: int = BASELINE, consecutive: int = CONSECUTIVE
) -> float:
    """The smallest ratio of the last `consecutive` runs to the baseline median: every tail run
    violates (and the rule fires) exactly when this reaches the threshold."""
    start = t + 1 - consecutive
    if start - baseline < 0:
        return 0.0
    centre = float(np.median(values[start - baseline : start]))
    return float(np.min(values[start : t + 1]) / centre) if centre > 0 else 0.0
