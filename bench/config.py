"""What a benchmark case is, the fixed workload it runs, and how one case is run.

RunSettings.from_env and state_dir read the run's BENCH_* variables; a few others are read
where they are used: the warehouse URL (bench.warehouse.engine), the alert webhook
(bench.analysis.alerting), the compile cache (bench.runner), the data home (bench.data.loading),
the GPU check's hooks (bench.frameworks.base.CheckHooks).
"""

from __future__ import annotations

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
        if self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")

    @classmethod
    def from_env(cls, **overrides: object) -> RunSettings:
        """Defaults, then BENCH_* variables, then explicit overrides (None means 'not given')."""
        env = os.environ
        values: dict[str, object] = {}
        if env.get("BENCH_DATA_HOME"):
            values["data_home"] = env["BENCH_DATA_HOME"]
        if env.get("BENCH_THREADS"):
            values["threads"] = int(env["BENCH_THREADS"])
        if env.get("BENCH_CASE_TIMEOUT"):
            values["timeout_seconds"] = float(env["BENCH_CASE_TIMEOUT"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def state_dir() -> Path:
    """Home of the SQLite warehouse and spooled records: BENCH_HOME or ~/.local/share/bench."""
    base = os.environ.get("BENCH_HOME")
    path = Path(base) if base else Path.home() / ".local" / "share" / "bench"
    return path
