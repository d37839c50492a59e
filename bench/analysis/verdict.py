"""The run's verdict: red or green, and why. One rule for the DAG, `bench detect`, alerts and
the report: a run is red when any of its flags is blocking (bench.records.BLOCKING_LABELS): a
regression, drift or accuracy departure, or a planned case that failed or stored no result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.analysis.assess import new_flag
from bench.records import FLAG_LABELS, STATUS_METRIC, Flag, Record

SUMMARY_LINES = 10


@dataclass(frozen=True)
class Verdict:
    """The blocking flags of one run; red when there is any."""

    run_id: str
    blocking: tuple[Flag, ...] = ()

    @property
    def red(self) -> bool:
        return bool(self.blocking)

    def reasons(self, limit: int = SUMMARY_LINES) -> list[str]:
        """One line per blocking flag (the first `limit`, most severe first)."""
        lines = [flag.describe() for flag in self.blocking[:limit]]
        if len(self.blocking) > limit:
            lines.append(f"... and {len(self.blocking) - limit} more (bench detect --run ID)")
        return lines

    def headline(self) -> str:
        if not self.red:
            return f"run {self.run_id} is green: nothing blocking"
        return f"run {self.run_id} is red: {len(self.blocking)} blocking flag(s)"


def run_verdict(run_id: str, flags: Iterable[Flag], records: Sequence[Record] = ()) -> Verdict:
    """The verdict of a run from its flags; `records` (the run's results) add failed cases
    that detection has not flagged yet, e.g. in a report of a run never judged."""
    flags = list(flags)
    flagged = {(f.case, f.label) for f in flags}
    for record in records:
        if record.status == "failed" and (record.case, "failed") not in flagged:
            flags.append(new_flag(run_id, record.case, STATUS_METRIC, "failed"))
    blocking = sorted((f for f in flags if f.blocking), key=_severity)
    return Verdict(run_id, tuple(blocking))


def _severity(flag: Flag) -> tuple[int, str, str]:
    return FLAG_LABELS.index(flag.label), flag.case.name, flag.metric
