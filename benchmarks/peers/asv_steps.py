"""airspeed velocity's step detection, imported: `asv.step_detect` from the `asv` package.

asv fits a piecewise-constant model to the history (`detect_steps`, an L1 Potts model with
an automatically chosen penalty) and `detect_regressions` reports the upward steps that leave
the latest level worse than the best, ignoring jumps smaller than `threshold` (asv's default
`regressions_thresholds` is 5%). A run alarms when such a step begins within its last `recent`
runs (asv itself keeps showing a regression until it is fixed).
"""

from __future__ import annotations

import numpy as np
from asv.step_detect import detect_regressions, detect_steps

THRESHOLD = 0.05
GRID = (0.0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0)


def regression_starts(history: np.ndarray, *, threshold: float = THRESHOLD) -> list[int]:
    """Indices where asv's reported regressions begin (the first run of the worse level)."""
    _, _, positions = detect_regressions(detect_steps([float(v) for v in history]), threshold)
    return [after for _, after, _, _ in positions or []]


def score(
    values: np.ndarray,
    t: int,
    *,
    history: int = 150,
    recent: int = 10,
    thresholds: tuple[float, ...] = GRID,
) -> float:
    """The largest threshold in `thresholds` at which a regression begins within the last
    `recent` runs (-1 when none): the run alarms at threshold x exactly when score >= x."""
    window = np.asarray(values[max(t + 1 - history, 0) : t + 1], dtype=float)
    steps = detect_steps([float(v) for v in window])
    first_recent = len(window) - recent
    best = -1.0
    for threshold in sorted(thresholds):
        _, _, positions = detect_regressions(steps, threshold)
        if any(after >= first_recent for _, after, _, _ in positions or []):
            best = threshold
    return best
