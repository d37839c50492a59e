"""What a benchmark case is, the fixed workload it runs, and how one case is run.

RunSettings.from_env and state_dir read the run's BENCH_* variables; a few others are read
where they are used: the warehouse URL (bench.warehouse.engine), the alert webhook
(bench.analysis.alerting), the compile cache (bench.runner), the data home (bench.data.loading),
the GPU check's hooks (bench.frameworks.base.CheckHooks).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

FRAMEWORK_MODES: dict[str, tuple[str, ...]] = {
    "torch": (
        "eager",
        "compile",
        "compile-reduce-overhead",
        "compile-max-autotune",
        "compile-epoch",
        "dataloader",
    ),
    "tensorflow": ("eager", "function", "xla", "function-epoch", "xla-epoch", "keras-fit"),
    "jax": ("jit", "scan"),
}
# The mode a framework's other modes are compared with (speedups, accuracy): its first one.
BASELINE_MODES: dict[str, str] = {fw: modes[0] for fw, modes in FRAMEWORK_MODES.items()}
# torch modes that replay CUDA graphs on a GPU (on CPU they compile like the default mode).
CUDA_GRAPH_MODES: tuple[str, ...] = ("compile-reduce-overhead", "compile-max-autotune")
DEVICES: tuple[str, ...] = ("cpu", "gpu")
TRIGGERS: tuple[str, ...] = ("scheduled", "manual", "cli")
# Epochs after which the test set is evaluated: the published protocol's budgets.
EVAL_BUDGETS: tuple[int, ...] = (10, 20, 30)
# numpy's and TensorFlow's seeds are unsigned 32-bit.
MAX_SEED = 2**32 - 1
# A week: longer is a typo, and threading.Timer rejects huge timeouts mid-run.
MAX_TIMEOUT_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True, order=True)
class Case:
    """One cell of the matrix: framework x mode x device."""

    framework: str
    mode: str
    device: str

    def __post_init__(self) -> None:
        if self.framework not in FRAMEWORK_MODES:
            raise ValueError(
                f"unknown framework {self.framework!r}; choose one of {', '.join(FRAMEWORK_MODES)}"
            )
        if self.mode not in FRAMEWORK_MODES[self.framework]:
            modes = ", ".join(FRAMEWORK_MODES[self.framework])
            raise ValueError(f"unknown {self.framework} mode {self.mode!r}; choose one of {modes}")
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; choose one of {', '.join(DEVICES)}")

    @property
    def baseline(self) -> Case:
        """Its framework's baseline mode on the same device (eager; JAX's jitted step)."""
        return Case(self.framework, BASELINE_MODES[self.framework], self.device)

    @property
    def name(self) -> str:
        """Readable id, e.g. ``torch-compile-cpu`` (used in task names and file names)."""
        return f"{self.framework}-{self.mode}-{self.device}"

    def as_dict(self) -> dict[str, str]:
        return {"framework": self.framework, "mode": self.mode, "device": self.device}


def all_cases(
    *,
    frameworks: tuple[str, ...] | list[str] | None = None,
    modes: tuple[str, ...] | list[str] | None = None,
    devices: tuple[str, ...] | list[str] | None = None,
) -> list[Case]:
    """The matrix, optionally filtered; unknown names raise ValueError naming the choices."""
    frameworks = list(frameworks or FRAMEWORK_MODES)
    devices = list(devices or DEVICES)
    for fw in frameworks:
        if fw not in FRAMEWORK_MODES:
            Case(fw, "eager", "cpu")  # raises with the list of choices
    known_modes = {m for fw in frameworks for m in FRAMEWORK_MODES[fw]}
    for mode in modes or ():
        if mode not in known_modes:
            raise ValueError(
                f"unknown mode {mode!r} for {', '.join(frameworks)}; "
                f"choose from {', '.join(sorted(known_modes))}"
            )
    cases = [
        Case(fw, mode, dev)
        for fw in frameworks
        for mode in FRAMEWORK_MODES[fw]
        if not modes or mode in modes
        for dev in devices
    ]
    for dev in devices:
        if dev not in DEVICES:
            raise ValueError(f"unknown device {dev!r}; choose one of {', '.join(DEVICES)}")
    return cases


@dataclass(frozen=True)
class Workload:
    """The fixed workload; changing any field makes results incomparable with history."""

    batch_size: int = 64
    hidden: int = 128
    learning_rate: float = 1e-3
    test_fraction: float = 0.2


WORKLOAD = Workload()


@dataclass(frozen=True)
class RunSettings:
    """How one case is run: budget, seed, threads, where the data lives."""

    epochs: int = 30
    seed: int = 42
    threads: int = 1
    data_home: str | None = None
    timeout_seconds: float = 3600.0
    # Variables set in the worker's environment on top of this one (the GPU check's hooks).
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        check_threads(self.threads)
        check_seed(self.seed)
        check_timeout(self.timeout_seconds)

    @classmethod
    def from_env(cls, **overrides: object) -> RunSettings:
        """Defaults, then BENCH_* variables, then explicit overrides (None means 'not given').

        A variable out of range is a ValueError naming it and its range, before anything runs.
        """
        env = os.environ
        values: dict[str, object] = {}
        if env.get("BENCH_DATA_HOME"):
            values["data_home"] = env["BENCH_DATA_HOME"]
        if env.get("BENCH_THREADS"):
            values["threads"] = check_threads(env["BENCH_THREADS"], name="BENCH_THREADS")
        if env.get("BENCH_CASE_TIMEOUT"):
            values["timeout_seconds"] = check_timeout(
                env["BENCH_CASE_TIMEOUT"], name="BENCH_CASE_TIMEOUT"
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def check_seed(value: object, *, name: str = "seed") -> int:
    """The seed as an int (from an int or its text), or ValueError naming `name` and the range."""
    seed = _whole(value)
    if seed is None or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{name} must be a whole number from 0 to {MAX_SEED}, got {value!r}")
    return seed


def check_threads(value: object, *, name: str = "threads") -> int:
    """The thread count as an int, or ValueError naming `name` and the range."""
    threads = _whole(value)
    if threads is None or threads < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    return threads


def check_timeout(value: object, *, name: str = "timeout_seconds") -> float:
    """The case timeout in seconds, or ValueError naming `name` and the range (nan, inf and
    anything <= 0 would fail or never end every case)."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not 0 < seconds <= MAX_TIMEOUT_SECONDS:  # nan, inf fail too
        raise ValueError(
            f"{name} must be a number of seconds above 0 and at most {MAX_TIMEOUT_SECONDS} "
            f"(7 days), got {value!r}"
        )
    return seconds


def _whole(value: object) -> int | None:
    """An int, or the int a text spells; None for anything else (bools, floats, words)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def state_dir() -> Path:
    """Home of the SQLite warehouse and spooled records: BENCH_HOME or ~/.local/share/bench."""
    base = os.environ.get("BENCH_HOME")
    path = Path(base) if base else Path.home() / ".local" / "share" / "bench"
    return path
