"""Joint evidence of a shift: a log-likelihood ratio over the latest runs, robust to outlier nights.

Each run's z (in baseline spreads) is modelled as normal noise around the series' level or a
one-night slowdown: a flat density above the level (noisy neighbours make runs slower, never
faster), as likely as noise `outlier_z` spreads out. The evidence for "the level moved by m
spreads" is sum(log p(z | m) - log p(z | 0)) over the window. A huge value then counts as an
outlier under both hypotheses and adds ~0 instead of dominating, while a normal-looking run
refutes a shift.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations


def _log_density(z: float, level: float, scale: float, log_slab: float) -> float:
    """log density of a run at z when the series is at `level` with noise `scale` (up to a
    constant shared by all levels)."""
    centred = (z - level) / scale
    log_normal = -0.5 * centred * centred - math.log(scale)
    if centred < 0.0:  # outliers are slowdowns: none below the level
        return log_normal
    high, low = max(log_normal, log_slab), min(log_normal, log_slab)
    return high + math.log1p(math.exp(low - high))


def _log_likelihood(zs: Sequence[float], level: float, scale: float, outlier_z: float) -> float:
    log_slab = -0.5 * outlier_z * outlier_z
    return sum(_log_density(z, level, scale, log_slab) for z in zs)


def _scale(level: float, relative_spread: float) -> float:
    return max(1.0 + level * relative_spread, 0.1)


def log_likelihood_ratio(
    zs: Sequence[float], level: float, *, outlier_z: float, relative_spread: float = 0.0
) -> float:
    """log p(zs | level moved by `level` spreads) - log p(zs | no move).

    The outlier density is set so that, under no move, a run `outlier_z` spreads out is as
    likely an outlier as noise: one run's evidence for a move is at most about outlier_z^2 / 2.
    Noise is relative (timings): at a level moved by m spreads it is 1 + m x relative_spread
    (spread / centre) times wider.
    """
    moved = _log_likelihood(zs, level, _scale(level, relative_spread), outlier_z)
    return moved - _log_likelihood(zs, 0.0, 1.0, outlier_z)


def shift_evidence(
    zs: Sequence[float],
    design: float,
    *,
    direction: int = 1,
    outlier_z: float,
    large_shift_penalty: float,
    relative_spread: float = 0.0,
    inside_cap: float = 0.0,
    uncapped: bool = False,
    inside_design: bool = False,
) -> tuple[float, float]:
    """(evidence, level) for a shift of at least `design` spreads in `direction`.

    The evidence is the log-likelihood ratio at the design shift, or at a larger shift fitted to
    the window (the mean of some of its runs) less `large_shift_penalty`, whichever is more: the
    design shift is the most powerful test near it, the fitted one keeps a +50% step from being
    read as three outlier nights, and the penalty pays for fitting the size. The level may also
    have moved inside the window (when `inside_cap` > 0): then its first runs are at the old
    level (they add nothing) and its last two or more are scored alone against their mean, less
    the same penalty, when that shift is beyond the design one and at most `inside_cap` x
    `design` (beyond it, two runs are as likely two outlier nights; the next run decides), or
    beyond the cap when `uncapped` (the series has (next to) no outlier nights to make two
    in a row); with `inside_design` (a precise series, where the design shift is many spreads)
    also at the design shift itself, less log(number of starts tried).
    """
    still = _log_likelihood(zs, 0.0, 1.0, outlier_z)  # shared by every level tried
    design_level = direction * design
    # the design shift is a few percent: its noise is the baseline's
    best = (_log_likelihood(zs, design_level, 1.0, outlier_z) - still, design_level)
    for size in range(1, len(zs) + 1):
        for subset in combinations(zs, size):
            level = sum(subset) / size
            if direction * level <= design:
                continue
            moved = _log_likelihood(zs, level, _scale(level, relative_spread), outlier_z)
            if moved - still - large_shift_penalty > best[0]:
                best = (moved - still - large_shift_penalty, level)
    if inside_cap <= 0 or len(zs) < 3:
        return best
    looks = math.log(len(zs) - 1)  # the design shift tried from every start, not only the first
    for start in range(1, len(zs) - 1):
        tail = zs[start:]
        unmoved = _log_likelihood(tail, 0.0, 1.0, outlier_z)
        if inside_design:
            evidence = _log_likelihood(tail, design_level, 1.0, outlier_z) - unmoved - looks
            if evidence > best[0]:
                best = (evidence, design_level)
        level = sum(tail) / len(tail)
        if design < direction * level and (direction * level <= inside_cap * design or uncapped):
            moved = _log_likelihood(tail, level, _scale(level, relative_spread), outlier_z)
            if moved - unmoved - large_shift_penalty > best[0]:
                best = (moved - unmoved - large_shift_penalty, level)
    return best
