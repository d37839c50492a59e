"""Conbench's lookback z-score, for one series of results (Conbench is a server, not a library).

Follows conbench/conbench `conbench/entities/history.py` (`_detect_shifts_with_trimmed_estimators`,
`_add_rolling_stats_columns_to_df`, `_calculate_z_score`) and docs/pages/lookback_zscore.md:
a result is an *outlier* when its jump from the previous result and the next jump are both
beyond 5 z of the rolling (100) mean and std of the first differences, with the differences
outside their 5-95% quantiles left out; outliers are left out of the distribution. The
distribution is the last 100 earlier non-outlier results: mean, and the std of the residuals
(each result minus the mean of the up to 100 non-outlier results before it). The contender's
z = (value - mean) / std; Conbench flags |z| > 5 (`DEFAULT_THRESHOLD_Z`), here z > 5 because
higher is worse. One result per commit; no distribution-change annotations.
"""

from __future__ import annotations

import numpy as np

WINDOW = 100  # Conbench's DISTRIBUTION_COMMITS
THRESHOLD = 5.0


def _rolling(values: np.ndarray, window: int, *, std: bool) -> np.ndarray:
    """pandas' rolling(window, min_periods=1).mean() / .std(), skipping NaNs, including the row."""
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)

    def windowed(column: np.ndarray) -> np.ndarray:
        total = np.concatenate([[0.0], np.cumsum(column)])
        ends = np.arange(1, len(column) + 1)
        return total[ends] - total[np.maximum(ends - window, 0)]

    count, first, second = windowed(present.astype(float)), windowed(filled), windowed(filled**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = first / count
        if not std:
            return np.where(count > 0, mean, np.nan)
        variance = np.maximum(second - count * mean**2, 0.0) / (count - 1)
        return np.where(count > 1, np.sqrt(variance), np.nan)


def outliers(values: np.ndarray, *, z_threshold: float = THRESHOLD) -> np.ndarray:
    """Conbench's `is_outlier` column for one series (oldest first)."""
    diff = np.diff(values, prepend=np.nan)
    finite = diff[~np.isnan(diff)]
    clipped = diff.copy()
    if len(finite):
        low, high = np.quantile(finite, [0.05, 0.95])
        clipped[(diff < low) | (diff > high)] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (diff - _rolling(clipped, WINDOW, std=False)) / _rolling(clipped, WINDOW, std=True)
    shift = np.abs(z) > z_threshold  # NaN compares False, as in pandas
    reverts = shift & np.append(shift[1:], False)
    return shift & reverts


def lookback_z(history: np.ndarray, value: float, *, window: int = WINDOW) -> float:
    """The contender's z against the distribution of its earlier results (oldest first)."""
    kept = history[~outliers(history)]
    if len(kept) < 2:
        return 0.0
    # each result minus the mean of the (up to) `window` results before it; the first: itself
    before = np.concatenate([[kept[0]], _rolling(kept, window, std=False)[:-1]])
    residuals = kept - before
    mean = kept[-window:].mean()
    std = float(np.std(residuals[-window:], ddof=1))
    return 0.0 if std == 0 else float((value - mean) / std)


def score(values: np.ndarray, t: int, *, history: int = 150) -> float:
    """z of run t against the runs before it (Conbench reads the series' history from its
    database; here the last `history` results)."""
    return lookback_z(np.asarray(values[max(t - history, 0) : t], dtype=float), float(values[t]))
