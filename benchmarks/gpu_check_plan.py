"""What the GPU check runs: the steps in their order, the time budget, the folder that comes back.

What it asserts about the records is benchmarks.gpu_check_claims; gpu_check runs the steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.config import FRAMEWORK_MODES, Case
from bench.frameworks.base import BALLAST_ENV, EXTRA_SYNC_ENV
from bench.repeats import interleaved

EPOCHS = 3
BALLAST_MIB = 100
# Frameworks the check cannot run on the GPU machine, and why (the docs say the same).
NOT_CHECKABLE = {
    "tensorflow": "no TensorFlow on the GPU machine, and its CUDA wheel (572 MB) exceeds the "
    "64 MiB that can travel",
}
# The probes change a run through a check hook (bench.frameworks.base.CheckHooks).
PROBE_ENV: dict[str, dict[str, str]] = {
    "ballast": {BALLAST_ENV: str(BALLAST_MIB)},
    "sync": {EXTRA_SYNC_ENV: "1"},
}
# What each probe's record must name in environment["check_hooks"].
PROBE_HOOKS: dict[str, dict[str, object]] = {
    "ballast": {"ballast_mib": BALLAST_MIB},
    "sync": {"extra_sync": True},
}
# The (framework, mode) each probe runs on the device. The sync probe runs a CUDA-graph mode:
# a graph replay queues a whole step at once, so un-waited device work would show there first.
PROBE_CASE: dict[str, tuple[str, str]] = {
    "ballast": ("torch", "eager"),
    "sync": ("torch", "compile-reduce-overhead"),
}
# The sync probe is a comparison of two sides, so it runs in rounds (issue 12): each round runs
# the mode without and with the extra synchronize back to back, the side that goes first
# alternating. 3 rounds is the fewest that give a usable 95% interval of the median per-round
# ratio (t with 2 degrees of freedom: 4.3; with 2 rounds, 12.7); each further round costs two
# warm-compile processes (~30 s on the GPU, a guess), which the budget has no room for. The
# rounds' processes train SYNC_EPOCHS epochs, so each side's steady time is the median of 9
# epochs, not 2 (epochs cost ~0.05 s there; a process ~15 s).
SYNC_ROUNDS = 3
SYNC_EPOCHS = 10
SYNC_SIDES = (None, "sync")  # without, with
# Modes that compile nothing run right after the baselines; the sync probe's mode runs after the
# other compiled modes so that its rounds follow it; max-autotune has the least priority: on a
# GPU it autotunes its matrix products for minutes, so it runs last, where the budget cutting
# it off costs that mode alone.
CHEAP_MODES = ("dataloader", "scan")
LAST_MODES = ("compile-max-autotune",)

# What comes back (at most MAX_FILES files): the stored records in one bundle, one record per
# line, and summary.md, however many cases the check runs.
RECORDS = "records.jsonl"
SUMMARY = "summary.md"
MAX_FILES = 8


@dataclass(frozen=True)
class Limits:
    budget_s: float  # no step starts after this many seconds; a case running then is killed
    case_s: float  # one case's timeout


# The lend: 15 minutes of device time with a start of a few, at most 10 minutes a command. The
# check stops at 480 s (8 minutes); the step guesses below add up to about 440 s.
GPU_LIMITS = Limits(budget_s=480, case_s=300)
# CPU compiles on a busy 2-core machine are slow; the dry run only has to finish.
DRY_RUN_LIMITS = Limits(budget_s=1200, case_s=600)
# Seconds one process takes on the H200 machine, its start included: GUESSES (no step has run on
# a GPU yet), for --prepare's table and the budget; the summary shows the real ones.
GUESS_S: dict[tuple[str, str], float] = {
    ("torch", "eager"): 12,
    ("torch", "dataloader"): 12,
    ("torch", "compile"): 35,
    ("torch", "compile-epoch"): 50,
    ("torch", "compile-reduce-overhead"): 40,
    ("torch", "compile-max-autotune"): 150,
    ("jax", "jit"): 15,
    ("jax", "scan"): 15,
}
WARM_REPEAT_S = 15  # a sync round's process: the compile cache is warm by then
CPU_EAGER_S = 10


@dataclass(frozen=True)
class Step:
    """One process: a case, a probe (a case run with a check hook), or a side of a sync round.

    round: the sync round (1..SYNC_ROUNDS) the step is a side of, 0 for none. Only a case's
    plain run outside the rounds is `stored`; the rounds' processes are repeats.
    """

    case: Case
    probe: str | None = None
    round: int = 0

    @property
    def stored(self) -> bool:
        return self.probe is None and not self.round

    @property
    def epochs(self) -> int:
        return SYNC_EPOCHS if self.round else EPOCHS

    @property
    def shares_cache(self) -> bool:
        """The sync probe's mode and its rounds share one compile cache: the stored case fills
        it (a cold compile, as every other case's), the rounds' repeats find it warm."""
        return (self.case.framework, self.case.mode) == PROBE_CASE["sync"]

    @property
    def label(self) -> str:
        label = f"{self.case.name} + {self.probe} probe" if self.probe else self.case.name
        return f"{label} (sync round {self.round})" if self.round else label

    @property
    def hook_env(self) -> dict[str, str]:
        """Every hook variable for the worker: this probe's set, the others empty (off)."""
        off = {name: "" for env in PROBE_ENV.values() for name in env}
        return {**off, **(PROBE_ENV[self.probe] if self.probe else {})}

    @property
    def guess_s(self) -> float:
        """Seconds this process is guessed to take on the H200 machine (GUESS_S)."""
        if self.case.device == "cpu":
            return CPU_EAGER_S
        if self.round:
            return WARM_REPEAT_S
        return GUESS_S.get((self.case.framework, self.case.mode), 30)


def checked_frameworks() -> list[str]:
    return [fw for fw in FRAMEWORK_MODES if fw not in NOT_CHECKABLE]


def plan(*, dry_run: bool) -> list[Step]:
    """Every mode of every checkable framework on the GPU (cpu on the dry run), most telling first:
    the baselines (a machine without a GPU stops after the first), the ballast probe, torch eager
    on the CPU, the modes that compile nothing, the other compiled ones, the sync probe's mode and
    its rounds, and max-autotune last."""
    device = "cpu" if dry_run else "gpu"
    cases = [Case(fw, mode, device) for fw in checked_frameworks() for mode in FRAMEWORK_MODES[fw]]
    sync_case = Case(*PROBE_CASE["sync"], device)
    steps = [Step(c) for c in cases if c == c.baseline]
    steps.append(Step(Case(*PROBE_CASE["ballast"], device), "ballast"))
    comparison = Step(Case("torch", "eager", "cpu"))
    if comparison not in steps:  # on the dry run it is the eager case itself
        steps.append(comparison)
    rest = [c for c in cases if c != c.baseline and c != sync_case]
    steps += [Step(c) for c in rest if c.mode in CHEAP_MODES]
    steps += [Step(c) for c in rest + [sync_case] if c.mode not in CHEAP_MODES + LAST_MODES]
    steps += [Step(sync_case, probe, n) for probe, n in interleaved(SYNC_SIDES, SYNC_ROUNDS)]
    steps += [Step(c) for c in rest if c.mode in LAST_MODES]
    return steps
