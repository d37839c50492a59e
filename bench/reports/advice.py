"""Recommendations computed from a run: which mode to use for short and long training, when
compilation pays back, what speed costs in memory. Pure functions over records; every sentence
cites the numbers it rests on, as the tables show them."""

from __future__ import annotations

from collections.abc import Sequence

from bench.config import EVAL_BUDGETS, FRAMEWORK_MODES
from bench.records import Record
from bench.reports import formatting as fmt
from bench.reports.budgets import time_to_epoch
from bench.reports.ladder import pays_back
from bench.reports.narrative import Finding, break_even_epoch, comparison, speedups

__all__ = ["recommendations"]


def recommendations(
    records: Sequence[Record], budgets: Sequence[int] = EVAL_BUDGETS
) -> list[Finding]:
    """Per device with two or more finished modes: the fastest mode to `min(budgets)` and to
    `max(budgets)` epochs (compile included), the best of each framework, where the lowest
    steady epoch overtakes, when each compiled mode pays back, and the memory it costs."""
    timed = [r for r in records if r.status == "ok" and r.steady_epoch_seconds]
    found = []
    short, long = min(budgets), max(budgets)
    for device in sorted({r.case.device for r in timed}):
        mine = [r for r in timed if r.case.device == device]
        if len(mine) < 2:
            continue
        found.append(_fastest_to(mine, short, "Short training"))
        found.append(_fastest_to(mine, long, "Long training"))
        found += _per_framework(mine, long) + _overtaking(mine, long)
        found += _compile_pays_back(mine, device) + _memory(mine, long)
    return found


def _ranked(records: Sequence[Record], epochs: int) -> list[tuple[Record, float, bool]]:
    """(record, seconds to `epochs`, measured) fastest first."""
    times = [(r, t.seconds, t.measured) for r in records if (t := time_to_epoch(r, epochs))]
    return sorted(times, key=lambda x: x[1])


def _fastest_to(records: Sequence[Record], epochs: int, title: str) -> Finding:
    ranked = _ranked(records, epochs)
    (best, seconds, measured), (second, second_seconds, _) = ranked[0], ranked[1]
    slowest, slowest_seconds, _ = ranked[-1]
    device = best.case.device
    how = "" if measured else f" (projected: compile + {epochs} x steady epoch)"
    text = (
        f"{title} ({epochs} epochs) on {device}: use {fmt.case_label(best.case, device=False)}, "
        f"{fmt.seconds(seconds)} s for {epochs} epochs{how} including "
        f"{fmt.seconds(best.compile_seconds)} s of compile and warm-up; next is "
        f"{fmt.case_label(second.case, device=False)} at {fmt.seconds(second_seconds)} s"
    )
    if slowest is not second:
        text += (
            f", and the slowest, {fmt.case_label(slowest.case, device=False)}, takes "
            f"{fmt.seconds(slowest_seconds)} s"
        )
    other = fmt.case_label(second.case, device=False)
    if (best.steady_epoch_seconds or 0.0) > (second.steady_epoch_seconds or 0.0):
        per_epoch = (
            f"{other} is faster per steady epoch"
            if comparison(second, best) == "faster"
            else "per steady epoch the two are not measurably different"
        )
        text += (
            f". It wins on compile and warm-up ({fmt.seconds(best.compile_seconds)} s vs "
            f"{fmt.seconds(second.compile_seconds)} s); {per_epoch}"
        )
    elif comparison(best, second) != "faster":
        text += f". Per steady epoch it is not measurably faster than {other}"
    return Finding("advice", text + ".")


def _per_framework(records: Sequence[Record], epochs: int) -> list[Finding]:
    best = []
    for framework in FRAMEWORK_MODES:
        ranked = _ranked([r for r in records if r.case.framework == framework], epochs)
        if len(ranked) >= 2:
            r, seconds, _ = ranked[0]
            best.append(
                f"{fmt.FRAMEWORK_LABELS[framework]}: {fmt.case_label(r.case, device=False)} "
                f"({fmt.seconds(seconds)} s, of {len(ranked)} modes)"
            )
    if not best:
        return []
    device = records[0].case.device
    return [
        Finding(
            "advice",
            f"Bound to one framework, for {epochs} epochs on {device}: {'; '.join(best)}.",
        )
    ]


def _overtaking(records: Sequence[Record], epochs: int) -> list[Finding]:
    """Past the longest budget the lowest steady epoch wins; from which epoch on."""
    leader = _ranked(records, epochs)[0][0]
    lowest = min(records, key=lambda r: r.steady_epoch_seconds or 0.0)
    if lowest is leader or comparison(lowest, leader) != "faster":
        return []
    assert lowest.steady_epoch_seconds and leader.steady_epoch_seconds
    after = break_even_epoch(
        steady=lowest.steady_epoch_seconds,
        compile_seconds=lowest.compile_seconds or 0.0,
        previous_steady=leader.steady_epoch_seconds,
        previous_compile_seconds=leader.compile_seconds or 0.0,
    )
    return [
        Finding(
            "advice",
            f"Longer still, {fmt.case_label(lowest.case)} has the lowest steady epoch "
            f"({fmt.seconds(lowest.steady_epoch_seconds)} s vs "
            f"{fmt.seconds(leader.steady_epoch_seconds)} s) and overtakes "
            f"{fmt.case_label(leader.case, device=False)} after {after} epochs.",
        )
    ]


def _compile_pays_back(records: Sequence[Record], device: str) -> list[Finding]:
    found = speedups(records)
    if not found:
        return []
    parts = [f"{fmt.case_label(s.case, device=False)} {pays_back(s)}" for s in found]
    return [
        Finding(
            "advice",
            f"When compilation pays back on {device}, against each framework's baseline "
            f"(compile + N x steady epoch): {'; '.join(parts)}.",
        )
    ]


def _memory(records: Sequence[Record], epochs: int) -> list[Finding]:
    measured = [r for r in records if r.peak_rss_bytes]
    if len(measured) < 2:
        return []
    leader = _ranked(measured, epochs)[0][0]
    lean = min(measured, key=lambda r: r.peak_rss_bytes or 0)
    device = leader.case.device
    if lean is leader:
        text = (
            f"Memory on {device}: {fmt.case_label(leader.case, device=False)} is also the "
            f"leanest, at {fmt.mib(leader.peak_rss_bytes)} MiB peak RSS."
        )
    else:
        assert lean.peak_rss_bytes and leader.peak_rss_bytes
        lean_time, leader_time = time_to_epoch(lean, epochs), time_to_epoch(leader, epochs)
        assert lean_time and leader_time
        text = (
            f"Memory on {device}: {fmt.case_label(leader.case, device=False)} peaks at "
            f"{fmt.mib(leader.peak_rss_bytes)} MiB RSS, "
            f"{fmt.mib(leader.peak_rss_bytes - lean.peak_rss_bytes)} MiB more than the leanest, "
            f"{fmt.case_label(lean.case, device=False)} ({fmt.mib(lean.peak_rss_bytes)} MiB), "
            f"which needs {fmt.seconds(lean_time.seconds)} s instead of "
            f"{fmt.seconds(leader_time.seconds)} s for {epochs} epochs."
        )
    if leader.peak_device_bytes:
        text += (
            f" On the device its framework allocator peaks at "
            f"{fmt.mib(leader.peak_device_bytes)} MiB."
        )
    return [Finding("advice", text)]
