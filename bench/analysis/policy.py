"""What detection judges and how strictly: per-metric practical changes and the thresholds.

Every number here is configuration. The defaults were chosen with the simulation in
benchmarks/detection_sim.py (see BENCHMARKS.md, "Regression detection") and are explained in
docs/detection.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bench.config import EVAL_BUDGETS

# robust-lr-11: robust-lr-8 (docs/detection.md, "Configuration", has the lineage) plus, on
# series without outlier nights, a smaller penalty for fitting a shift's size, if precise the
# median gate on the window's last two runs, and a shift sustained over 4 runs (issue 16).
DETECTOR_VERSION = "robust-lr-11"

# Time metrics: a noisy run's shift on them is only `suspected`, and a shift the reference
# workload or the rest of the run shares is `machine` (bench.analysis.assess).
TIME_METRICS: tuple[str, ...] = ("steady_epoch_seconds", "total_seconds")
REFERENCE_METRIC = "reference_seconds"

# Flags that compare a compiled mode's test error with eager's (metric accuracy_vs_eager:...).
ACCURACY_METRICS: tuple[str, ...] = ("test_mae_30", "test_mse_30")


@dataclass(frozen=True)
class MetricPolicy:
    """How one metric is judged: the smallest change that matters (higher values are worse).

    min_change is relative to the baseline; min_abs_change (in the metric's unit) keeps
    near-zero metrics, e.g. the compile time of an eager mode, from flagging tiny absolute moves.
    precise_change: on a precise series a window whose median is DetectionConfig.precise_z
    spreads out need only clear this smaller change, so a step of exactly min_change is not
    missed half the time (None: always min_change).
    """

    min_change: float
    min_abs_change: float = 0.0
    precise_change: float | None = None

    def __post_init__(self) -> None:
        if self.precise_change is not None and not 0 < self.precise_change <= self.min_change:
            raise ValueError(
                f"precise_change must be in (0, min_change={self.min_change}], "
                f"got {self.precise_change}"
            )


TIME = MetricPolicy(min_change=0.05, precise_change=0.03)
COMPILE = MetricPolicy(min_change=0.15, min_abs_change=0.05)
MEMORY = MetricPolicy(min_change=0.10)
ACCURACY = MetricPolicy(min_change=0.02)

METRIC_POLICIES: dict[str, MetricPolicy] = {
    "steady_epoch_seconds": TIME,
    "compile_seconds": COMPILE,
    "total_seconds": TIME,
    "peak_rss_bytes": MEMORY,
    "peak_device_bytes": MEMORY,
    **{f"test_{kind}_{budget}": ACCURACY for budget in EVAL_BUDGETS for kind in ("mse", "mae")},
}


@dataclass(frozen=True)
class DetectionConfig:
    """The detector's knobs; `DetectionConfig()` is the documented default policy."""

    baseline_runs: int = 120  # last N eligible runs before the evidence window
    min_history: int = 10  # fewer baseline runs: label `insufficient`
    include_manual: bool = False  # let manual runs into baselines and evidence windows
    include_noisy: bool = False  # let runs measured under contention into baselines
    machine_share: float = 0.5  # reference slowed >= this x the case's change: `machine`
    over_reference: bool = True  # judge time metrics over the run's reference workload
    over_run: bool = True  # ... and over the run-wide factor (the run's other cases' movement)
    spread_floor: float = 0.005  # spread >= this fraction of the centre (MAD can be 0)
    spread_trim: float = 3.0  # spread: runs within this many MAD-sigmas of the median
    z_threshold: float = 3.0  # one run violates: z beyond this AND beyond min_change
    confirm_runs: int = 3  # evidence window: the latest runs judged together
    evidence_threshold: float = 5.0  # the window's log-likelihood ratio for `regression`
    precise_z: float = 3.0  # practical change >= this many spreads: a precise series
    design_factor: float = 1.0  # shift tested: this x the practical change
    outlier_z: float = 4.5  # a run this far out is as likely a one-night outlier as noise
    large_shift_penalty: float = 9.0  # evidence cost of fitting a shift beyond the design one
    rare_shift_penalty: float = 4.5  # ... on a series whose outlier pairs are rare (below)
    inside_shift_cap: float = 4.5  # a step inside the window (2+ latest runs): up to this x design
    outlier_pair_rate: float = 0.001  # ... or beyond, if outlier pairs are this rare (0: never)
    sustained_runs: int = 4  # a sustained shift: the latest N runs, outlier pairs rare (0: off)
    sustained_z: float = 1.75  # ... their lower half's mean z must reach this
    drift_z: float = 3.5  # z of the recent median against the old baseline for `drift`
    drift_lookback: int = 150  # runs examined for slow drifts
    drift_recent: int = 10  # the drift's "now": median of this many latest runs
    drift_factor: float = 2.0  # a drift must exceed drift_factor x min_change
    changepoint_penalty: float = 3.0  # ruptures penalty, x log(n), on standardized values
    accuracy_tolerance: float = 0.05  # compiled worse than eager by more: `departure`
    metrics: dict[str, MetricPolicy] = field(default_factory=lambda: dict(METRIC_POLICIES))

    def __post_init__(self) -> None:
        if self.min_history < 3 or self.baseline_runs < self.min_history:
            raise ValueError(
                f"need 3 <= min_history <= baseline_runs, got {self.min_history} "
                f"and {self.baseline_runs}"
            )
        positive = (
            "evidence_threshold", "design_factor", "outlier_z", "large_shift_penalty",
            "rare_shift_penalty", "precise_z", "sustained_z",
        )  # fmt: skip
        if bad := [knob for knob in positive if not getattr(self, knob) > 0]:
            raise ValueError(f"{', '.join(bad)} must be positive")
        if self.inside_shift_cap < 0:
            raise ValueError(f"inside_shift_cap must be >= 0 (0: off), got {self.inside_shift_cap}")
        if not 0 <= self.outlier_pair_rate < 1:
            raise ValueError(
                f"outlier_pair_rate must be in [0, 1) (0: never), got {self.outlier_pair_rate}"
            )
        if self.sustained_runs and not 2 <= self.sustained_runs <= 10:
            raise ValueError(f"sustained_runs must be 2..10 (0: off), got {self.sustained_runs}")
        if not 1 <= self.confirm_runs <= 5:
            raise ValueError(f"confirm_runs must be 1..5, got {self.confirm_runs}")
        if self.drift_recent < 3 or self.drift_lookback < self.baseline_runs + self.drift_recent:
            raise ValueError(
                "drift_lookback must cover baseline_runs + drift_recent runs, "
                f"got {self.drift_lookback} < {self.baseline_runs} + {self.drift_recent}"
            )

    def policy(self, metric: str) -> MetricPolicy:
        try:
            return self.metrics[metric]
        except KeyError:
            known = ", ".join(self.metrics)
            raise ValueError(f"no detection policy for metric {metric!r}; known: {known}") from None

    def with_options(self, **changes: object) -> DetectionConfig:
        """A copy with some knobs changed (None means 'keep')."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


DEFAULT_CONFIG = DetectionConfig()
