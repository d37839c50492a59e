"""What a report is made of, as plain values read once from the warehouse.

Results are `bench.records.Record` again (rebuilt from the warehouse rows), so the report reasons
about exactly what a run produced. Everything here is data; the queries are in `data.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from bench.config import Case
from bench.records import Record, ValidationReport

# Flag labels that ask a person to look: detection's blocking labels
# (bench.analysis.policy.BLOCKING_LABELS, kept equal by a test; not imported, since
# bench.analysis loads ruptures and SciPy) and "suspected". The others inform.
ALERT_LABELS: tuple[str, ...] = ("departure", "drift", "regression", "suspected")


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None = None
    dataset_sha256: str | None = None
    validation_outcome: str | None = None
    code_version: str | None = None


@dataclass(frozen=True)
class Acknowledgement:
    """A person accepting a case's new level of one metric from a run on."""

    case: Case
    metric: str
    from_run_id: str
    note: str
    created_at: datetime


@dataclass(frozen=True)
class Flag:
    """A regression-detection verdict on one run, case and metric."""

    run_id: str
    case: Case
    metric: str
    label: str
    value: float | None
    baseline_value: float | None
    change_pct: float | None
    z_score: float | None
    detector_version: str
    change_point_run_id: str | None
    created_at: datetime
    acknowledgement: Acknowledgement | None = None

    @property
    def is_alert(self) -> bool:
        return self.label in ALERT_LABELS

    @property
    def is_open(self) -> bool:
        """An alert nobody has acknowledged yet."""
        return self.is_alert and self.acknowledgement is None


def acknowledge(flags: list[Flag], acks: list[Acknowledgement]) -> list[Flag]:
    """Attach to each flag the first acknowledgement of its case and metric made after it.

    A person acknowledges what they have seen: an acknowledgement covers the flags of its case and
    metric that existed when it was made, never later ones (those judge the new level).
    """
    by_key: dict[tuple[Case, str], list[Acknowledgement]] = {}
    for ack in sorted(acks, key=lambda a: a.created_at):
        by_key.setdefault((ack.case, ack.metric), []).append(ack)
    matched = []
    for flag in flags:
        candidates = by_key.get((flag.case, flag.metric), [])
        covering = next((a for a in candidates if a.created_at >= flag.created_at), None)
        matched.append(replace(flag, acknowledgement=covering))
    return matched


@dataclass(frozen=True)
class RunSnapshot:
    """One run: its row, its results as records, its dataset validation and its flags."""

    run: RunInfo
    records: list[Record]
    validation: ValidationReport | None = None
    flags: list[Flag] = field(default_factory=list)

    def record(self, case: Case) -> Record | None:
        return next((r for r in self.records if r.case == case), None)

    @property
    def ok_records(self) -> list[Record]:
        return [r for r in self.records if r.status == "ok"]


@dataclass(frozen=True)
class SeriesPoint:
    """One run of a series: the history's three headline metrics."""

    run_id: str
    started_at: datetime
    status: str
    steady_epoch_seconds: float | None
    peak_rss_bytes: int | None
    test_mae: float | None


@dataclass(frozen=True)
class SeriesHistory:
    """The last N runs of one case, with the flags and acknowledgements of those runs."""

    case: Case
    points: list[SeriesPoint]
    test_mae_metric: str
    flags: list[Flag] = field(default_factory=list)
    acknowledgements: list[Acknowledgement] = field(default_factory=list)

    def flags_of(self, run_id: str) -> list[Flag]:
        return [f for f in self.flags if f.run_id == run_id]
