"""Repeats of a case in fresh processes: the order they run in, and the case's summary.

Interleaved order: round robin over the cases, the starting case rotated each repeat, so a slow
minute on the host spreads over cases instead of landing on one. The summary is what the
warehouse keeps as the case's result (what `bench results`, detection and reports read);
every repeat is kept too (table result_repeats).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import replace
from typing import TypeVar

from bench.records import Record
from bench.uncertainty import repeats_interval

T = TypeVar("T")


def interleaved(cases: Sequence[T], repeats: int) -> list[tuple[T, int]]:
    """(case, repeat number from 1) in run order: round robin, rotated by one each repeat."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    order = []
    for repeat in range(repeats):
        shift = repeat % len(cases) if cases else 0
        order += [(case, repeat + 1) for case in [*cases[shift:], *cases[:shift]]]
    return order


def summarize(records: Sequence[Record]) -> Record:
    """One case's summary over its repeats in a run (repeat 0: not one process's record;
    repeats: how many it summarizes).

        - A failed repeat makes the case failed (its reason names the repeat): a crash is a bug
          whatever the other repeats did.
        - Otherwise the summary is built from the `ok` repeats measured without contention (all
          `ok` repeats when every one was noisy, and then the summary is noisy too): steady,
          compile and total seconds and the reference are medians, peak memory the largest, and
          the steady interval is across processes (bench.uncertainty.repeats_interval). Epochs,
          test metrics and environment are those of the repeat whose steady time is the median.
    """
    if not records:
        raise ValueError("no repeat to summarize")
    ordered = sorted(records, key=lambda r: r.repeat)
    planned = max(max(r.repeats for r in ordered), len(ordered))
    stored = len(ordered)
    failed = [r for r in ordered if r.status == "failed"]
    if failed:
        first = failed[0]
        reason = (
            first.reason if planned == 1 else f"repeat {first.repeat} of {planned}: {first.reason}"
        )
        return replace(first, reason=reason, repeat=0, repeats=stored)
    ok = [r for r in ordered if r.status == "ok" and r.steady_epoch_seconds is not None]
    if len(ordered) == 1 or not ok:
        done = [r for r in ordered if r.status == "ok"] or ordered
        return replace(done[0], repeat=0, repeats=stored)
    clean = [r for r in ok if not r.noisy] or ok
    by_steady = sorted(clean, key=lambda r: r.steady_epoch_seconds or 0.0)
    middle = by_steady[(len(by_steady) - 1) // 2]
    noisy_count = sum(1 for r in ok if r.noisy)
    if len(clean) == 1:
        steady = clean[0].steady
        assert steady is not None
    else:
        steady = repeats_interval([r.steady_epoch_seconds or 0.0 for r in clean])
    return replace(
        middle,
        repeat=0,
        repeats=stored,
        steady_epoch_seconds=steady.value,
        steady_ci_low=steady.low,
        steady_ci_high=steady.high,
        steady_cv=steady.cv,
        compile_seconds=_median([r.compile_seconds for r in clean]),
        total_seconds=_median([r.total_seconds for r in clean]),
        reference_seconds=_median([r.reference_seconds for r in clean]),
        peak_rss_bytes=_largest([r.peak_rss_bytes for r in clean]),
        peak_device_bytes=_largest([r.peak_device_bytes for r in clean]),
        noisy=(f"all {len(ok)} repeats noisy; {middle.noisy}" if noisy_count == len(ok) else None),
        conditions={
            **middle.conditions,
            "repeats_used": [r.repeat for r in clean],
            "repeats_noisy": [r.repeat for r in ok if r.noisy],
        },
    )


def summaries(records: Sequence[Record]) -> list[Record]:
    """One summary per case, in the order the cases first appear."""
    by_case: dict[object, list[Record]] = {}
    for record in records:
        by_case.setdefault(record.case, []).append(record)
    return [summarize(group) for group in by_case.values()]


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _largest(values: Sequence[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None
