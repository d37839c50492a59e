"""How sure a measured time is: the median with a 95% interval, the spread, and what a ratio
of two such times may claim.

- One process (epochs 2..N of a run): a distribution-free order-statistic interval for the
  median (ranks from the binomial distribution); it needs at least 6 steady epochs to reach 95%
  and covers only the noise inside one process.
- Repeats (R fresh processes of one case): the median of the repeats' steady medians, with a
  t interval on their logarithms (Kalibera and Jones, "Rigorous benchmarking in reasonable
  time", 2013: process-to-process variation dominates, so the process is the sample).
- A ratio of two estimates: [low_a / high_b, high_a / low_b], conservative (it contains the
  ratio whenever both intervals contain their medians). A difference is claimed only when this
  interval excludes 1.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95
# How a comparison without a direction reads, wherever one is shown.
NO_DIFFERENCE = "no measurable difference"
TOO_FEW_SAMPLES = "too few samples"
# Fewer steady epochs than this: results carry an explicit caveat (one process, few samples).
MIN_STEADY_EPOCHS = 5


@dataclass(frozen=True)
class Estimate:
    """A median with its 95% interval (None when the samples cannot give one) and CV."""

    value: float
    low: float | None = None
    high: float | None = None
    cv: float | None = None
    samples: int = 1

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None and self.low > 0

    @property
    def half_width_pct(self) -> float | None:
        """Half the interval's width as a percentage of the value."""
        if not self.has_interval or not self.value:
            return None
        assert self.low is not None and self.high is not None
        return 100 * (self.high - self.low) / (2 * self.value)


def steady_estimate(
    value: float,
    low: float | None,
    high: float | None,
    cv: float | None,
    *,
    repeats: int,
    epochs: int,
) -> Estimate:
    """A stored steady time as an Estimate: samples are the repeats, else the steady epochs."""
    samples = repeats if repeats > 1 else max(epochs - 1, 1)
    return Estimate(value, low, high, cv, samples)


def median_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Estimate:
    """The median of `values` with its order-statistic interval and coefficient of variation."""
    data = sorted(values)
    n = len(data)
    if n == 0:
        raise ValueError("no values to estimate from")
    median = statistics.median(data)
    cv = statistics.stdev(data) / statistics.fmean(data) if n >= 2 and data[0] >= 0 else None
    rank = _lower_rank(n, confidence)
    if rank is None:
        return Estimate(median, cv=cv, samples=n)
    return Estimate(median, data[rank - 1], data[n - rank], cv, n)


def repeats_interval(medians: Sequence[float], confidence: float = CONFIDENCE) -> Estimate:
    """Across fresh processes: the median of their medians, a t interval on the log scale."""
    data = sorted(m for m in medians if m > 0)
    n = len(data)
    if n == 0:
        raise ValueError("no positive values to estimate from")
    median = statistics.median(data)
    if n < 2:
        return Estimate(median, samples=n)
    cv = statistics.stdev(data) / statistics.fmean(data)
    logs = [math.log(m) for m in data]
    centre = statistics.fmean(logs)
    half = _t_quantile(1 - (1 - confidence) / 2, n - 1) * statistics.stdev(logs) / math.sqrt(n)
    low, high = math.exp(centre - half), math.exp(centre + half)
    # The median, not the geometric mean, is the summary: keep it inside its own interval.
    return Estimate(median, min(low, median), max(high, median), cv, n)


def ratio_interval(a: Estimate, b: Estimate) -> tuple[float, float] | None:
    """Conservative interval of a / b; None when either estimate has no interval."""
    if not (a.has_interval and b.has_interval):
        return None
    assert a.low is not None and a.high is not None and b.low is not None and b.high is not None
    return a.low / b.high, a.high / b.low


def difference(a: Estimate, b: Estimate) -> str:
    """'lower', 'higher' (a against b), 'same' (the ratio's interval holds 1) or 'unknown'."""
    interval = ratio_interval(a, b)
    if interval is None:
        return "unknown"
    low, high = interval
    if high < 1:
        return "lower"
    if low > 1:
        return "higher"
    return "same"


def speed_verdict(a: Estimate | None, b: Estimate | None) -> str:
    """a's time against b's: 'faster' (lower), 'slower', 'same' (the ratio's interval holds
    1) or 'unknown' (no estimate or no interval)."""
    if a is None or b is None:
        return "unknown"
    verdict = difference(a, b)
    return {"lower": "faster", "higher": "slower"}.get(verdict, verdict)


def _lower_rank(n: int, confidence: float) -> int | None:
    """Largest k with P(k <= rank of the median <= n-k+1) >= confidence; None if none does."""
    alpha = 1 - confidence
    best = None
    cumulative = 0.0
    for k in range(1, n // 2 + 1):
        # P(Binomial(n, 1/2) <= k - 1): the k-th order statistic lies above the median.
        cumulative += math.comb(n, k - 1) / 2**n
        if 2 * cumulative <= alpha:
            best = k
        else:
            break
    return best


def _t_quantile(p: float, df: int) -> float:
    from scipy.stats import t  # scipy comes with scikit-learn

    return float(t.ppf(p, df))
