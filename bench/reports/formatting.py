"""How numbers and cases read in reports: one format per quantity, so the HTML, the findings
and the tests agree on what a stored value looks like."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bench.conditions import format_cores
from bench.config import EVAL_BUDGETS, Case
from bench.measure import MIB
from bench.uncertainty import NO_DIFFERENCE, TOO_FEW_SAMPLES

FRAMEWORK_LABELS: dict[str, str] = {"torch": "PyTorch", "tensorflow": "TensorFlow", "jax": "JAX"}
MODE_LABELS: dict[tuple[str, str], str] = {
    ("torch", "eager"): "PyTorch eager",
    ("torch", "compile"): "torch.compile",
    ("torch", "compile-reduce-overhead"): "torch.compile reduce-overhead",
    ("torch", "compile-max-autotune"): "torch.compile max-autotune",
    ("tensorflow", "eager"): "TensorFlow eager",
    ("tensorflow", "function"): "tf.function",
    ("tensorflow", "xla"): "tf.function with XLA",
    ("torch", "compile-epoch"): "torch.compile whole epoch",
    ("torch", "dataloader"): "PyTorch DataLoader loop",
    ("tensorflow", "function-epoch"): "tf.function whole epoch",
    ("tensorflow", "xla-epoch"): "XLA whole epoch",
    ("tensorflow", "keras-fit"): "Keras fit",
    ("jax", "jit"): "JAX jit step",
    ("jax", "scan"): "JAX scan epoch",
}
DASH = "-"
# California Housing's target (median house value) is in units of 100,000 USD, and so are its
# errors (MAE; MSE in that unit squared).
MAE_UNIT = "100,000 USD"


def case_label(case: Case, *, device: bool = True) -> str:
    """Readable name of a case, e.g. ``tf.function on cpu``."""
    label = MODE_LABELS.get((case.framework, case.mode), f"{case.framework} {case.mode}")
    return f"{label} on {case.device}" if device else label


def seconds(value: float | None) -> str:
    """Seconds with four decimals (the CLI's precision): ``0.5234``."""
    return DASH if value is None else f"{value:.4f}"


def metric(value: float | None) -> str:
    """Test or train MSE/MAE, four decimals."""
    return DASH if value is None else f"{value:.4f}"


def mib(value: float | None) -> str:
    """Bytes as MiB with one decimal: ``512.0``."""
    return DASH if value is None else f"{value / MIB:.1f}"


def ratio(value: float | None) -> str:
    """A speedup or slowdown factor: ``20x``, ``1.3x``, ``0.87x``."""
    if value is None:
        return DASH
    if value >= 10:
        return f"{value:.0f}x"
    if value >= 2:
        return f"{value:.1f}x"
    return f"{value:.2f}x"


def interval(low: float | None, high: float | None) -> str:
    """A 95% interval of seconds: ``0.0781-0.0802``."""
    if low is None or high is None:
        return DASH
    return f"{seconds(low)}-{seconds(high)}"


def cv(value: float | None) -> str:
    """A coefficient of variation as a percentage: ``2.1%``."""
    return DASH if value is None else f"{100 * value:.1f}%"


def ratio_interval(interval: tuple[float, float] | None) -> str:
    """A 95% interval of a factor: ``1.20x-1.40x``."""
    return DASH if interval is None else f"{ratio(interval[0])}-{ratio(interval[1])}"


def share(value: float | None) -> str:
    """A share of CPU time as a percentage, the CV's format: ``3.1%``."""
    return cv(value)


def load(values: list[float] | None) -> str:
    """Load averages over 1, 5 and 15 minutes: ``0.52 0.40 0.33``."""
    return DASH if not values else " ".join(f"{v:.2f}" for v in values)


def cores(values: list[int] | None) -> str:
    """Core numbers as taskset and BENCH_CPU_CORES write them: ``2,3``."""
    return DASH if not values else format_cores(values)


def gc_pauses(value: dict[str, Any] | None) -> str:
    """What the garbage collector took from the timed epochs (bench.heap): ``0.0034 s, 0 full``."""
    if not value or "pause_seconds" not in value:
        return DASH
    full = (value.get("collections") or [0, 0, 0])[-1]
    return f"{value['pause_seconds']:.4f} s, {full} full"


def repeats_used(used: list[int] | None, repeats: int) -> str:
    """Which repeats a case's summary rests on: ``1,2,4 of 4``."""
    return DASH if not used else f"{','.join(str(u) for u in used)} of {repeats}"


# What a speedup's interval lets a report claim (bench.reports.narrative.Speedup.claim).
CLAIM_LABELS: dict[str, str] = {
    "faster": "faster than its baseline",
    "slower": "slower than its baseline",
    "same": NO_DIFFERENCE,
    "unknown": TOO_FEW_SAMPLES,
}


def claim(value: str) -> str:
    """A speedup's claim in words: ``no measurable difference``."""
    return CLAIM_LABELS.get(value, value)


def percent(value: float | None) -> str:
    return DASH if value is None else f"{value:+.1f}%"


def when(value: datetime | str | None) -> str:
    """A UTC timestamp to the minute: ``2026-11-01 02:00 UTC``."""
    if value is None:
        return DASH
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def metric_value(name: str, value: float | None) -> str:
    """A warehouse metric column in its unit's format (bytes as MiB, seconds, errors)."""
    if name.endswith("_bytes"):
        return mib(value)
    if name.endswith("_seconds"):
        return seconds(value)
    return metric(value)


METRIC_LABELS: dict[str, str] = {
    "steady_epoch_seconds": "steady epoch (s)",
    "compile_seconds": "compile (s)",
    "total_seconds": "total training (s)",
    "peak_rss_bytes": "peak RSS (MiB)",
    "peak_device_bytes": "peak device memory (MiB)",
    **{f"test_{m}_{b}": f"test {m.upper()} @{b}" for m in ("mse", "mae") for b in EVAL_BUDGETS},
}


def metric_label(name: str) -> str:
    return METRIC_LABELS.get(name, name)
