"""What a run says, in sentences computed from its numbers: pure functions over records.

Every sentence cites the values it rests on, formatted as the tables show them, so a reader can
find them in the report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.config import Case
from bench.records import Record
from bench.reports import formatting as fmt
from bench.reports.snapshot import RunSnapshot
from bench.uncertainty import MIN_STEADY_EPOCHS, Estimate, ratio_interval, speed_verdict


@dataclass(frozen=True)
class Speedup:
    """A compiled mode against eager of its framework and device (steady epochs)."""

    case: Case
    eager_seconds: float
    compiled_seconds: float
    compile_seconds: float | None
    eager: Estimate | None = None
    compiled: Estimate | None = None
    # The baseline's own epoch-1 overhead; None counts it as 0 (eager's is a fraction of a second).
    eager_compile_seconds: float | None = None

    @classmethod
    def between(cls, base: Record, record: Record) -> Speedup:
        """`record` against `base` (both ok with a steady time), each one's compile counted."""
        assert base.steady_epoch_seconds and record.steady_epoch_seconds
        return cls(
            record.case,
            base.steady_epoch_seconds,
            record.steady_epoch_seconds,
            record.compile_seconds,
            base.steady,
            record.steady,
            eager_compile_seconds=base.compile_seconds,
        )

    @property
    def factor(self) -> float:
        """Eager time / compiled time: above 1 the compiled mode is faster."""
        return self.eager_seconds / self.compiled_seconds

    @property
    def interval(self) -> tuple[float, float] | None:
        """95% interval of the factor (bench.uncertainty.ratio_interval)."""
        if self.eager is None or self.compiled is None:
            return None
        return ratio_interval(self.eager, self.compiled)

    @property
    def claim(self) -> str:
        """'faster', 'slower', 'same' (no measurable difference) or 'unknown' (no intervals)."""
        return speed_verdict(self.compiled, self.eager)

    @property
    def break_even_epochs(self) -> int | None:
        """Epochs until the saved time pays back compilation; None if it never does."""
        if self.compile_seconds is None:
            return None
        return break_even_epoch(
            steady=self.compiled_seconds,
            compile_seconds=self.compile_seconds,
            previous_steady=self.eager_seconds,
            previous_compile_seconds=self.eager_compile_seconds or 0.0,
        )


def break_even_epoch(
    *,
    steady: float,
    compile_seconds: float,
    previous_steady: float,
    previous_compile_seconds: float = 0.0,
) -> int | None:
    """The first epoch count N >= 1 at which a mode's total time, compile + N x steady, is no
    more than the previous mode's, previous compile + N x previous steady; None (never) when
    the mode is not faster per steady epoch."""
    saved = previous_steady - steady
    if saved <= 0:
        return None
    extra = compile_seconds - previous_compile_seconds
    return max(1, math.ceil(round(extra / saved, 9)))  # round: 30/0.1 is 300, not 300.0000001


@dataclass(frozen=True)
class Finding:
    topic: str  # speed, compile, memory, accuracy, status, regressions, caveat
    text: str


def speedups(records: Sequence[Record]) -> list[Speedup]:
    """One per case whose baseline (its framework's eager mode, JAX's jit step; same device)
    finished ok."""
    eager = {
        r.case: r
        for r in records
        if r.case == r.case.baseline and r.status == "ok" and r.steady_epoch_seconds
    }
    found = []
    for r in records:
        base = eager.get(r.case.baseline)
        if r.case == r.case.baseline or r.status != "ok" or not base or not r.steady_epoch_seconds:
            continue
        found.append(Speedup.between(base, r))
    return found


def comparison(a: Record, b: Record) -> str:
    """How a's steady time compares with b's: 'faster', 'slower', 'same' or 'unknown'."""
    return speed_verdict(a.steady, b.steady)


def interval_text(interval: tuple[float, float] | None) -> str:
    """``95% interval 1.20x-1.40x``, or nothing."""
    return "" if interval is None else f"95% interval {fmt.ratio_interval(interval)}"


def caveat(records: Sequence[Record]) -> Finding | None:
    """Said once when the run's timings rest on too few samples to compare."""
    short = [r for r in records if r.steady is not None and not r.steady.has_interval]
    if not short:
        return None
    fewest = min(r.steady_epochs for r in short)
    return Finding(
        "caveat",
        f"{len(short)} case(s) measured {fewest} steady epoch(s) in a single process "
        f"(fewer than {MIN_STEADY_EPOCHS + 1} gives no 95% interval): their speed comparisons "
        f"are not tested. Run at least {MIN_STEADY_EPOCHS + 2} epochs, or repeats, to compare "
        "them.",
    )


def findings(snapshot: RunSnapshot) -> list[Finding]:
    """The run's headline facts: speedups, compile cost, fastest, memory, accuracy, status."""
    ok = snapshot.ok_records
    found = _lone_case(ok)
    found += [_speed_sentence(s) for s in speedups(ok)]
    found += [_compile_sentence(s) for s in speedups(ok) if s.compile_seconds is not None]
    found += _fastest(ok) + _eager_frameworks(ok) + _memory(ok) + _accuracy(ok)
    found += _status(snapshot.records) + _noise(ok) + _regressions(snapshot)
    noted = caveat(ok)
    return found + ([noted] if noted else [])


def _lone_case(ok: Sequence[Record]) -> list[Finding]:
    """What a run with fewer than two finished cases measured: the comparisons below need two."""
    if not ok:
        return [Finding("status", "No case finished ok: there is nothing to compare.")]
    if len(ok) > 1:
        return []
    (r,) = ok
    facts = [f"{fmt.seconds(r.steady_epoch_seconds)} s per steady epoch"]
    if r.compile_seconds is not None:
        facts.append(f"{fmt.seconds(r.compile_seconds)} s of compile and warm-up")
    if r.peak_rss_bytes:
        facts.append(f"peak RSS {fmt.mib(r.peak_rss_bytes)} MiB")
    if r.eval:
        last = r.eval[-1]
        facts.append(f"test MAE {fmt.metric(last.test_mae)} after {last.epoch} epoch(s)")
    return [
        Finding(
            "status",
            f"One case finished, {fmt.case_label(r.case)}"
            + (f", after {len(r.epochs)} epoch(s)" if r.epochs else "")
            + f": {', '.join(facts)}. No other case finished, so nothing is compared.",
        )
    ]


def _speed_sentence(s: Speedup) -> Finding:
    """A difference is stated only when the factor's 95% interval excludes 1."""
    name = fmt.case_label(s.case, device=False)
    base = fmt.case_label(s.case.baseline, device=False)  # PyTorch eager, JAX jit step, ...
    numbers = f"{fmt.seconds(s.compiled_seconds)} s vs {fmt.seconds(s.eager_seconds)} s"
    interval = s.interval
    if s.claim == "faster":
        text = (
            f"{name} trains {fmt.ratio(s.factor)} faster than {base} on {s.case.device} "
            f"(steady epoch {numbers}; {interval_text(interval)})."
        )
    elif s.claim == "slower":
        assert interval is not None
        text = (
            f"{name} is slower than {base} on {s.case.device} for this model: "
            f"{fmt.ratio(1 / s.factor)} the time per steady epoch ({numbers}; "
            f"{interval_text((1 / interval[1], 1 / interval[0]))})."
        )
    elif s.claim == "same":
        text = (
            f"No measurable difference between {name} and {base} on {s.case.device} "
            f"({numbers} per steady epoch; the factor's {interval_text(interval)} includes 1)."
        )
    else:
        text = (
            f"{name} measured {numbers} per steady epoch against {base} on "
            f"{s.case.device}: too few samples to say which is faster."
        )
    return Finding("speed", text)


def _compile_sentence(s: Speedup) -> Finding:
    name = fmt.case_label(s.case)
    cost = f"{name} spends {fmt.seconds(s.compile_seconds)} s compiling and warming up"
    epochs = s.break_even_epochs
    if s.claim == "unknown" and epochs is not None:
        return Finding("compile", f"{cost}; too few samples to tell whether it pays back.")
    if epochs is None or s.claim != "faster":
        return Finding(
            "compile",
            f"{cost}, never earned back: it is not measurably faster than "
            f"{fmt.case_label(s.case.baseline, device=False)}.",
        )
    saved = fmt.seconds(s.eager_seconds - s.compiled_seconds)
    base = fmt.case_label(s.case.baseline, device=False)
    base_cost = fmt.seconds(s.eager_compile_seconds or 0.0)
    return Finding(
        "compile",
        f"{cost} ({base}: {base_cost} s); saving {saved} s per epoch, it breaks even after "
        f"{epochs} epoch(s).",
    )


def _fastest(ok: Sequence[Record]) -> list[Finding]:
    found = []
    for device in sorted({r.case.device for r in ok}):
        timed = sorted(
            (r for r in ok if r.case.device == device and r.steady_epoch_seconds),
            key=lambda r: r.steady_epoch_seconds or 0.0,
        )
        if len(timed) < 2:
            continue
        fast, slow = timed[0], timed[-1]
        assert fast.steady_epoch_seconds and slow.steady_epoch_seconds
        factor = slow.steady_epoch_seconds / fast.steady_epoch_seconds
        if comparison(fast, slow) != "faster":
            found.append(
                Finding(
                    "speed",
                    f"On {device}, no case is measurably faster than another: the fastest, "
                    f"{fmt.case_label(fast.case, device=False)} "
                    f"({fmt.seconds(fast.steady_epoch_seconds)} s), and the slowest, "
                    f"{fmt.case_label(slow.case, device=False)} "
                    f"({fmt.seconds(slow.steady_epoch_seconds)} s), are within their intervals.",
                )
            )
            continue
        found.append(
            Finding(
                "speed",
                f"Fastest on {device}: {fmt.case_label(fast.case, device=False)} at "
                f"{fmt.seconds(fast.steady_epoch_seconds)} s per steady epoch, {fmt.ratio(factor)} "
                f"faster than the slowest, {fmt.case_label(slow.case, device=False)} "
                f"({fmt.seconds(slow.steady_epoch_seconds)} s).",
            )
        )
    return found


def _eager_frameworks(ok: Sequence[Record]) -> list[Finding]:
    found = []
    for device in sorted({r.case.device for r in ok}):
        eager = {
            r.case.framework: r
            for r in ok
            if r.case.device == device and r.case.mode == "eager" and r.steady_epoch_seconds
        }
        if len(eager) != 2:
            continue
        fast, slow = sorted(eager.values(), key=lambda r: r.steady_epoch_seconds or 0.0)
        t_fast, t_slow = fast.steady_epoch_seconds, slow.steady_epoch_seconds
        assert t_fast and t_slow
        numbers = f"{fmt.seconds(t_fast)} s vs {fmt.seconds(t_slow)} s per steady epoch"
        fast_name = fmt.FRAMEWORK_LABELS[fast.case.framework]
        slow_name = fmt.FRAMEWORK_LABELS[slow.case.framework]
        if comparison(fast, slow) == "faster":
            text = (
                f"In eager mode on {device}, {fast_name} trains {fmt.ratio(t_slow / t_fast)} "
                f"faster than {slow_name} ({numbers})."
            )
        else:
            text = (
                f"In eager mode on {device}, no measurable difference between {fast_name} and "
                f"{slow_name} ({numbers})."
            )
        found.append(Finding("speed", text))
    return found


def _memory(ok: Sequence[Record]) -> list[Finding]:
    measured = sorted((r for r in ok if r.peak_rss_bytes), key=lambda r: r.peak_rss_bytes or 0)
    if len(measured) < 2:
        return []
    lean, heavy = measured[0], measured[-1]
    found = [
        Finding(
            "memory",
            f"Peak memory ranges from {fmt.mib(lean.peak_rss_bytes)} MiB "
            f"({fmt.case_label(lean.case)}) to {fmt.mib(heavy.peak_rss_bytes)} MiB "
            f"({fmt.case_label(heavy.case)}).",
        )
    ]
    timed = [r for r in measured if r.steady_epoch_seconds]
    if timed:
        fastest = min(timed, key=lambda r: r.steady_epoch_seconds or 0.0)
        if fastest is not lean and fastest.peak_rss_bytes and lean.peak_rss_bytes:
            extra = fastest.peak_rss_bytes - lean.peak_rss_bytes
            found.append(
                Finding(
                    "memory",
                    f"Speed costs memory: the fastest case, {fmt.case_label(fastest.case)}, "
                    f"peaks at {fmt.mib(fastest.peak_rss_bytes)} MiB, {fmt.mib(extra)} MiB more "
                    f"than the leanest ({fmt.case_label(lean.case)}).",
                )
            )
    return found


def _accuracy(ok: Sequence[Record]) -> list[Finding]:
    """Spread of test MAE at the longest evaluated epoch that at least two cases reached."""
    for budget in sorted({m.epoch for r in ok for m in r.eval}, reverse=True):
        scored = [(r, m.test_mae) for r in ok if (m := r.test_metrics_at(budget))]
        if len(scored) >= 2:
            break
    else:
        return []
    (best, low), (worst, high) = min(scored, key=lambda x: x[1]), max(scored, key=lambda x: x[1])
    return [
        Finding(
            "accuracy",
            f"After {budget} epochs test MAE ranges from {fmt.metric(low)} "
            f"({fmt.case_label(best.case)}) to {fmt.metric(high)} ({fmt.case_label(worst.case)}): "
            f"a spread of {fmt.metric(high - low)} across {len(scored)} cases.",
        )
    ]


def _status(records: Sequence[Record]) -> list[Finding]:
    found = []
    for status in ("failed", "skipped"):
        hit = [r for r in records if r.status == status]
        if hit:
            by_reason: dict[str, list[str]] = {}
            for r in hit:
                by_reason.setdefault(r.reason or "no reason given", []).append(r.case.name)
            cases = "; ".join(f"{', '.join(names)} ({why})" for why, names in by_reason.items())
            found.append(Finding("status", f"{len(hit)} case(s) {status}: {cases}."))
    return found


def _noise(ok: Sequence[Record]) -> list[Finding]:
    """Cases measured under contention: their numbers, and claims resting on them, are weak."""
    noisy = [r for r in ok if r.noisy]
    if not noisy:
        return []
    cases = "; ".join(f"{r.case.name} ({r.noisy})" for r in noisy)
    return [
        Finding(
            "caveat",
            f"{len(noisy)} case(s) measured under contention, kept but left out of detection "
            f"baselines; comparisons with them are weaker than their intervals say: {cases}.",
        )
    ]


def _regressions(snapshot: RunSnapshot) -> list[Finding]:
    alerts = [f for f in snapshot.flags if f.is_alert]
    if not alerts:
        return []
    parts = [
        f"{f.case.name} {fmt.metric_label(f.metric)} {f.label} "
        f"{fmt.metric_value(f.metric, f.value)} vs baseline "
        f"{fmt.metric_value(f.metric, f.baseline_value)} ({fmt.percent(f.change_pct)})"
        + (" [acknowledged]" if f.acknowledgement else "")
        for f in alerts
    ]
    return [Finding("regressions", f"{len(alerts)} flag(s) on this run: {'; '.join(parts)}.")]
