"""The ladder: for each framework, from the loop people write to what the hardware allows.

Rungs, in order: idiomatic (the framework's usual training loop), eager (a hand-written step
loop), step graph (one compiled training step), epoch graph (a whole epoch as one compiled
program) and the floor (the epoch's FLOPs at the machine's one-thread GEMM rate). Each step up
says what it buys: steady time, with the claim its interval allows, against compile cost, and
the epoch at which that cost is paid back. Pure functions over records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.arithmetic_floor import FLOOR_KEY
from bench.config import FRAMEWORK_MODES
from bench.records import Record
from bench.reports import formatting as fmt
from bench.reports.narrative import Finding, Speedup, interval_text
from bench.uncertainty import NO_DIFFERENCE, TOO_FEW_SAMPLES

__all__ = [
    "DeviceLadder",
    "FLOOR",
    "FrameworkLadder",
    "RUNGS",
    "RUNG_ORDER",
    "Rung",
    "Step",
    "device_ladders",
    "ladder_findings",
    "pays_back",
    "rung_modes",
]

RUNG_ORDER: tuple[str, ...] = ("idiomatic", "eager", "step graph", "epoch graph")
FLOOR = "floor"
RUNGS: dict[tuple[str, str], str] = {
    ("torch", "dataloader"): "idiomatic",
    ("torch", "eager"): "eager",
    ("torch", "compile"): "step graph",
    ("torch", "compile-reduce-overhead"): "step graph",
    ("torch", "compile-max-autotune"): "step graph",
    ("torch", "compile-epoch"): "epoch graph",
    ("tensorflow", "keras-fit"): "idiomatic",
    ("tensorflow", "eager"): "eager",
    ("tensorflow", "function"): "step graph",
    ("tensorflow", "xla"): "step graph",
    ("tensorflow", "function-epoch"): "epoch graph",
    ("tensorflow", "xla-epoch"): "epoch graph",
    ("jax", "jit"): "step graph",
    ("jax", "scan"): "epoch graph",
}


@dataclass(frozen=True)
class Rung:
    """One rung of a framework on a device: its fastest ok mode, of `modes` measured."""

    name: str
    record: Record
    modes: int = 1

    @property
    def steady_seconds(self) -> float:
        assert self.record.steady_epoch_seconds is not None
        return self.record.steady_epoch_seconds

    @property
    def label(self) -> str:
        """``step graph (torch.compile, fastest of 3)``."""
        mode = fmt.case_label(self.record.case, device=False)
        return f"{self.name} ({mode}{f', fastest of {self.modes}' if self.modes > 1 else ''})"


@dataclass(frozen=True)
class Step:
    """From one rung to the next one measured: the upper rung against the lower."""

    lower: Rung
    upper: Rung

    @property
    def speedup(self) -> Speedup:
        """Lower steady / upper steady, its interval and claim, and the break-even epoch
        (each rung's own compile counted: bench.reports.narrative.break_even_epoch)."""
        return Speedup.between(self.lower.record, self.upper.record)


@dataclass(frozen=True)
class FrameworkLadder:
    framework: str
    device: str
    rungs: list[Rung]

    @property
    def steps(self) -> list[Step]:
        return [Step(a, b) for a, b in zip(self.rungs, self.rungs[1:], strict=False)]

    @property
    def top(self) -> Rung:
        """The rung with the lowest steady time."""
        return min(self.rungs, key=lambda r: r.steady_seconds)


@dataclass(frozen=True)
class DeviceLadder:
    """Every framework with two or more rungs measured on one device, and the floor if known."""

    device: str
    frameworks: list[FrameworkLadder]
    floor_seconds: float | None = None

    @property
    def key(self) -> str:
        """The figure's name: ``ladder-cpu``."""
        return f"ladder-{self.device}"

    @property
    def findings(self) -> list[Finding]:
        return ladder_findings(self)


def device_ladders(
    records: Sequence[Record], *, floor_seconds: Mapping[str, float] | None = None
) -> list[DeviceLadder]:
    """One ladder per device where a framework has ok, timed records on two rungs or more.

    The floor of a device is `floor_seconds[device]`, else the lowest FLOOR_KEY its records'
    environments carry (a floor is a lower bound), else unknown (None)."""
    timed = [r for r in records if r.status == "ok" and r.steady_epoch_seconds]
    found = []
    for device in sorted({r.case.device for r in timed}):
        on_device = [r for r in timed if r.case.device == device]
        frameworks = []
        for framework in FRAMEWORK_MODES:
            rungs = _rungs([r for r in on_device if r.case.framework == framework])
            if len(rungs) >= 2:
                frameworks.append(FrameworkLadder(framework, device, rungs))
        if frameworks:
            floor = (floor_seconds or {}).get(device) or _recorded_floor(on_device)
            found.append(DeviceLadder(device, frameworks, floor))
    return found


def _rungs(records: Sequence[Record]) -> list[Rung]:
    rungs = []
    for name in RUNG_ORDER:
        members = [r for r in records if RUNGS[(r.case.framework, r.case.mode)] == name]
        if members:
            fastest = min(members, key=lambda r: r.steady_epoch_seconds or 0.0)
            rungs.append(Rung(name, fastest, len(members)))
    return rungs


def _recorded_floor(records: Sequence[Record]) -> float | None:
    values = [
        value
        for r in records
        if isinstance(value := r.environment.get(FLOOR_KEY), int | float)
        and not isinstance(value, bool)
        and value > 0
    ]
    return min(values) if values else None


def ladder_findings(ladder: DeviceLadder) -> list[Finding]:
    """Per framework, what each rung buys over the one below it; then how far the top rung
    stands from the floor, when the floor is known."""
    found = [_step_sentence(fw, step) for fw in ladder.frameworks for step in fw.steps]
    if ladder.floor_seconds:
        found += [_floor_sentence(fw, ladder.floor_seconds) for fw in ladder.frameworks]
    return found


def pays_back(speedup: Speedup) -> str:
    """Whether and when a rung's compile cost is paid back, in the words reports use."""
    epochs = speedup.break_even_epochs
    if speedup.claim == "unknown":
        return "too few samples to tell whether it pays back"
    if speedup.claim != "faster":
        return "never pays back"
    if epochs is None:
        return "break-even unknown (no compile time)"
    return "ahead from the first epoch" if epochs == 1 else f"breaks even after {epochs} epochs"


def _step_sentence(ladder: FrameworkLadder, step: Step) -> Finding:
    s = step.speedup
    lower, upper = step.lower, step.upper
    head = (
        f"{fmt.FRAMEWORK_LABELS[ladder.framework]} on {ladder.device}, {lower.label} to "
        f"{upper.label}:"
    )
    numbers = f"{fmt.seconds(s.compiled_seconds)} s vs {fmt.seconds(s.eager_seconds)} s"
    cost = (
        f"compile and warm-up {fmt.seconds(upper.record.compile_seconds)} s vs "
        f"{fmt.seconds(lower.record.compile_seconds)} s: {pays_back(s)}"
    )
    if s.claim == "faster":
        text = (
            f"{head} {fmt.ratio(s.factor)} faster per steady epoch ({numbers}; "
            f"{interval_text(s.interval)}); {cost}."
        )
    elif s.claim == "slower":
        assert s.interval is not None
        text = (
            f"{head} slower, {fmt.ratio(1 / s.factor)} the time per steady epoch ({numbers}; "
            f"{interval_text((1 / s.interval[1], 1 / s.interval[0]))}); {cost}."
        )
    elif s.claim == "same":
        text = (
            f"{head} {NO_DIFFERENCE} per steady epoch ({numbers}; the factor's "
            f"{interval_text(s.interval)} includes 1); {cost}."
        )
    else:
        text = (
            f"{head} {numbers} per steady epoch, {TOO_FEW_SAMPLES} to say which is faster; {cost}."
        )
    return Finding("ladder", text)


def _floor_sentence(ladder: FrameworkLadder, floor: float) -> Finding:
    top = ladder.top
    return Finding(
        "ladder",
        f"{fmt.FRAMEWORK_LABELS[ladder.framework]} on {ladder.device}: its fastest rung, "
        f"{top.label}, takes {fmt.ratio(top.steady_seconds / floor)} the arithmetic floor "
        f"({fmt.seconds(top.steady_seconds)} s vs {fmt.seconds(floor)} s per epoch).",
    )


def rung_modes() -> list[tuple[str, list[str]]]:
    """Each rung with the modes it holds, as the report names them."""
    return [
        (rung, [fmt.MODE_LABELS[key] for key, name in RUNGS.items() if name == rung])
        for rung in RUNG_ORDER
    ]
