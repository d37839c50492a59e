"""What a report is made of: bench.records types read once from the warehouse, grouped.

Results are `bench.records.Record` again (rebuilt by bench.warehouse), so the report reasons
about exactly what a run produced. Everything here is data; `data.py` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bench.config import Case
from bench.records import Acknowledgement, Flag, Record, RunInfo, ValidationReport


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

    @property
    def measured(self) -> bool:
        """Whether any of the runs has a value to draw (a series skipped every time has none)."""
        return any(
            p.steady_epoch_seconds is not None or p.peak_rss_bytes or p.test_mae is not None
            for p in self.points
        )
