"""Apache Otava's change-point detection (E-divisive means, pruned by Student's t-tests),
reimplemented: apache-otava 0.8 pins numpy==2.2.* and scipy<1.17 (bench pins numpy 2.4.6,
scipy 1.17.1) and has no public Python API, and MongoDB's signal-processing-algorithms does not
build here; this follows their published algorithm.

Otava's `analysis.compute_change_points(series, window_len=50, max_pvalue=0.001)`:
`split` runs E-divisive (signal-processing-algorithms' `EDivisive`: repeatedly split the segment
whose best split maximizes the energy statistic q-hat, while a `TTestSignificanceTester` finds
the split significant at 10 x max_pvalue) on windows of 50 runs, each starting at the last new
change point or half a window on; `merge` then removes the change point with the largest p-value
(Student's t-test of the runs between its neighbours), recomputing its neighbours, until every
p-value is below max_pvalue (Otava's `min_magnitude` is 0 in its analysis options: no filter on
the size of a change). Read from Otava's `analysis.py`; the E-divisive step (energy statistic,
alpha 1) from Matteson & James (2014), as signal-processing-algorithms implements it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import stdtr

WINDOW = 50
MAX_PVALUE = 0.001
MIN_SIZE = 2  # runs on each side of a candidate split


def t_test_pvalue(left: np.ndarray, right: np.ndarray) -> float:
    """Otava's `TTestSignificanceTester.compare`: scipy's two-sided Student's t-test from stats
    (`ttest_ind_from_stats`, equal variances) with np.std (ddof 0) as the standard deviations;
    1.0 for two runs or fewer."""
    n1, n2 = len(left), len(right)
    if n1 == 0 or n2 == 0:
        raise ValueError("a t-test needs runs on both sides")
    if n1 + n2 <= 2:
        return 1.0
    std1, std2 = (float(np.std(x)) if len(x) >= 2 else 0.0 for x in (left, right))
    pooled = ((n1 - 1) * std1**2 + (n2 - 1) * std2**2) / (n1 + n2 - 2)
    difference = abs(float(left.mean()) - float(right.mean()))
    if pooled <= 0:  # scipy: t = inf (p 0) or nan (treated as not significant)
        return 0.0 if difference > 0 else 1.0
    t = difference / math.sqrt(pooled * (1 / n1 + 1 / n2))
    return float(2 * stdtr(n1 + n2 - 2, -t))


def best_split(segment: np.ndarray) -> tuple[int, float]:
    """(index, q-hat) of the split maximizing the energy statistic (alpha = 1), or (-1, 0)."""
    n = len(segment)
    if n < 2 * MIN_SIZE:
        return -1, 0.0
    distance = np.abs(segment[:, None] - segment[None, :])
    prefix = np.zeros((n + 1, n + 1))
    prefix[1:, 1:] = distance.cumsum(0).cumsum(1)
    taus = np.arange(MIN_SIZE, n - MIN_SIZE + 1)
    within_left = prefix[taus, taus]
    within_right = prefix[n, n] - 2 * prefix[taus, n] + prefix[taus, taus]
    between = prefix[taus, n] - prefix[taus, taus]
    m, k = taus.astype(float), (n - taus).astype(float)
    qhat = (m * k / n) * (
        2 * between / (m * k) - within_left / (m * (m - 1) / 2) / 2 - within_right / (k * (k - 1))
    )
    best = int(np.argmax(qhat))
    return int(taus[best]), float(qhat[best])


def e_divisive(series: np.ndarray, max_pvalue: float) -> list[int]:
    """Change points of one window: split the best segment while its split is significant."""
    points: list[int] = []
    while True:
        bounds = [0, *sorted(points), len(series)]
        candidates = []
        for start, end in zip(bounds, bounds[1:], strict=False):
            index, qhat = best_split(series[start:end])
            if index > 0:
                candidates.append((qhat, start + index, start, end))
        if not candidates:
            return points
        _, index, start, end = max(candidates)
        if t_test_pvalue(series[start:index], series[index:end]) > max_pvalue:
            return points
        points.append(index)


def _pvalues(series: np.ndarray, points: list[int]) -> list[float]:
    bounds = [0, *points, len(series)]
    return [
        t_test_pvalue(series[bounds[i - 1] : bounds[i]], series[bounds[i] : bounds[i + 1]])
        for i in range(1, len(bounds) - 1)
    ]


def split(series: np.ndarray, *, window: int = WINDOW, max_pvalue: float) -> list[int]:
    """Otava's `split`: E-divisive on windows of `window` runs, each starting at the last new
    change point or half a window on, until the series is covered (repeated points once)."""
    found: set[int] = set()
    start = 0
    while start < len(series):
        end = min(start + window, len(series))
        new = sorted(start + i for i in e_divisive(series[start:end], max_pvalue))
        found.update(new)
        start = max(new[-1] if new else 0, start + window // 2)
    return sorted(found)


def merge_order(series: np.ndarray, points: list[int]) -> list[tuple[int, float]]:
    """Otava's `merge` run to the end: (point, the p-value level at which it is removed).

    `merge` at max_pvalue keeps a point iff some removal up to and including its own saw a
    largest p-value below max_pvalue: its level is the smallest largest-p-value up to its
    removal, so the point survives a threshold exactly when its level is below it.
    """
    remaining, removed, level = list(points), [], math.inf
    while remaining:
        pvalues = _pvalues(series, remaining)
        weakest = int(np.argmax(pvalues))
        level = min(level, pvalues[weakest])
        removed.append((remaining.pop(weakest), level))
    return removed


def compute_change_points(
    series: np.ndarray, *, window: int = WINDOW, max_pvalue: float = MAX_PVALUE
) -> list[int]:
    """Otava's `compute_change_points`: split at 10 x max_pvalue, merge at max_pvalue."""
    points = split(series, window=window, max_pvalue=10 * max_pvalue)
    return sorted(point for point, level in merge_order(series, points) if level < max_pvalue)


def score(
    values: np.ndarray,
    t: int,
    *,
    history: int = 150,
    recent: int = 10,
    split_pvalue: float = 10 * MAX_PVALUE,
) -> float:
    """-log10 of the p-value level of the strongest upward change point within the last
    `recent` runs: it survives Otava's merge at p exactly when score > -log10(p) (0: none).
    The split uses `split_pvalue` (Otava: 10 x max_pvalue, so thresholds up to 10x looser
    than 0.001 are exact only for the default)."""
    series = np.asarray(values[max(t + 1 - history, 0) : t + 1], dtype=float)
    points = split(series, max_pvalue=split_pvalue)
    best = 0.0
    bounds = [0, *points, len(series)]
    for point, level in merge_order(series, points):
        if point < len(series) - recent:
            continue
        i = bounds.index(point)
        if series[point : bounds[i + 1]].mean() > series[bounds[i - 1] : point].mean():
            best = max(best, -math.log10(max(level, 1e-300)))
    return best
