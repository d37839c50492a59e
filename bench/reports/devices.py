"""The same framework and mode on GPU and on CPU: what the accelerator buys, per steady epoch
and counting compile. Pure functions over records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.config import FRAMEWORK_MODES
from bench.records import Record
from bench.reports import formatting as fmt
from bench.reports.ladder import pays_back
from bench.reports.narrative import Finding, Speedup
from bench.uncertainty import NO_DIFFERENCE, TOO_FEW_SAMPLES

__all__ = ["DEVICE_CLAIMS", "DevicePair", "device_findings", "device_pairs", "unpaired_note"]

# What a GPU-over-CPU factor's interval lets a report claim (Speedup.claim).
DEVICE_CLAIMS: dict[str, str] = {
    "faster": "GPU faster",
    "slower": "GPU slower",
    "same": NO_DIFFERENCE,
    "unknown": TOO_FEW_SAMPLES,
}


@dataclass(frozen=True)
class DevicePair:
    """One framework and mode, finished on both devices in the run."""

    cpu: Record
    gpu: Record

    @property
    def speedup(self) -> Speedup:
        """CPU steady / GPU steady (above 1 the GPU is faster), its interval and claim, and the
        epoch from which the GPU's compile + N x steady is no more than the CPU's."""
        return Speedup.between(self.cpu, self.gpu)

    @property
    def label(self) -> str:
        return fmt.case_label(self.gpu.case, device=False)

    @property
    def claim(self) -> str:
        return DEVICE_CLAIMS[self.speedup.claim]

    @property
    def pays_back(self) -> str:
        return pays_back(self.speedup)


def device_pairs(records: Sequence[Record]) -> list[DevicePair]:
    """Every framework and mode with an ok, timed record on both CPU and GPU, in matrix order."""
    timed = {r.case: r for r in records if r.status == "ok" and r.steady_epoch_seconds}
    order = [(fw, mode) for fw, modes in FRAMEWORK_MODES.items() for mode in modes]
    pairs = []
    for framework, mode in order:
        cpu = next((r for c, r in timed.items() if (c.framework, c.mode, c.device) ==
                    (framework, mode, "cpu")), None)  # fmt: skip
        gpu = next((r for c, r in timed.items() if (c.framework, c.mode, c.device) ==
                    (framework, mode, "gpu")), None)  # fmt: skip
        if cpu and gpu:
            pairs.append(DevicePair(cpu, gpu))
    return pairs


def device_findings(pairs: Sequence[DevicePair]) -> list[Finding]:
    """What the table says, in two sentences: for how many modes the GPU is faster per steady
    epoch (as the intervals allow, with the range of factors), and when it is ahead counting
    compile; the table holds each mode's numbers."""
    if not pairs:
        return []
    by_claim: dict[str, list[DevicePair]] = {}
    for pair in pairs:
        by_claim.setdefault(pair.speedup.claim, []).append(pair)
    parts = []
    for claim in ("faster", "slower", "same", "unknown"):
        members = by_claim.get(claim, [])
        if not members:
            continue
        factors = sorted(p.speedup.factor for p in members)
        span = fmt.ratio(factors[0]) + (f" to {fmt.ratio(factors[-1])}" if len(factors) > 1 else "")
        names = ", ".join(p.label for p in members)
        parts.append(f"{DEVICE_CLAIMS[claim]} for {len(members)} ({span}: {names})")
    by_payback: dict[str, list[str]] = {}
    for pair in pairs:
        by_payback.setdefault(pair.pays_back, []).append(pair.label)
    paybacks = "; ".join(f"{words} for {', '.join(names)}" for words, names in
                         by_payback.items())  # fmt: skip
    return [
        Finding(
            "devices",
            f"Per steady epoch, of {len(pairs)} mode(s) run on both devices: {'; '.join(parts)}.",
        ),
        Finding("devices", f"Counting compile and warm-up, the GPU run: {paybacks}."),
    ]


def unpaired_note(records: Sequence[Record]) -> str:
    """Why no mode is compared across devices: what became of each device's cases."""
    parts = []
    for device in ("cpu", "gpu"):
        on_device = [r for r in records if r.case.device == device]
        if not on_device:
            parts.append(f"no {device.upper()} case ran")
            continue
        counts: dict[str, int] = {}
        for r in on_device:
            key = r.status if r.status == "ok" else f"{r.status} ({r.reason or 'no reason given'})"
            counts[key] = counts.get(key, 0) + 1
        states = ", ".join(f"{n} {key}" for key, n in sorted(counts.items()))
        parts.append(f"{device.upper()}: {states}")
    return f"No mode finished on both CPU and GPU in this run ({'; '.join(parts)})."
