"""Time to reach each training budget, per case: what a reader of the published protocol looks
up first. Measured from the epochs a run trained; beyond them, projected as compile + N x steady
epoch, the model bench.reports.narrative.break_even_epoch compares modes with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.config import EVAL_BUDGETS
from bench.records import Record

__all__ = ["BudgetRow", "BudgetTime", "budget_rows", "time_to_epoch"]


@dataclass(frozen=True)
class BudgetTime:
    """Seconds of training until the end of epoch `epochs`."""

    epochs: int
    seconds: float
    measured: bool  # False: projected (the run trained fewer epochs)


@dataclass(frozen=True)
class BudgetRow:
    record: Record
    times: list[BudgetTime]

    @property
    def projected(self) -> bool:
        """Whether a budget lies beyond the epochs the case trained."""
        return not all(t.measured for t in self.times)


def time_to_epoch(record: Record, epochs: int) -> BudgetTime | None:
    """The sum of the first `epochs` epoch times; compile + epochs x steady when the record
    has fewer epochs; None without a steady time."""
    trained = [e.seconds for e in record.epochs if e.epoch <= epochs]
    if len(trained) == epochs:
        return BudgetTime(epochs, sum(trained), measured=True)
    if record.steady_epoch_seconds is None:
        return None
    overhead = record.compile_seconds or 0.0
    return BudgetTime(epochs, overhead + epochs * record.steady_epoch_seconds, measured=False)


def budget_rows(
    records: Sequence[Record], budgets: Sequence[int] = EVAL_BUDGETS
) -> list[BudgetRow]:
    """One row per finished, timed case: its time to each budget."""
    rows = []
    for r in records:
        if r.status != "ok":
            continue
        times = [time_to_epoch(r, b) for b in budgets]
        if all(t is not None for t in times):
            rows.append(BudgetRow(r, [t for t in times if t is not None]))
    return rows
