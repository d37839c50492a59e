"""What the GPU check runs (steps) and what it asserts about the records they bring back.

The assertions are pure functions of the records, so their GPU half is tested on records built in
code (tests/benchmarks/test_gpu_check.py); `--dry-run` runs the same steps on cpu, where the
GPU-only claims are skipped with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from bench.config import CUDA_GRAPH_MODES, FRAMEWORK_MODES, Case
from bench.frameworks.base import BALLAST_ENV, EXTRA_SYNC_ENV
from bench.measure import MIB
from bench.records import Record

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
# The (framework, mode) each probe runs on the device. The sync probe runs a CUDA-graph mode:
# a graph replay queues a whole step at once, so un-waited device work would show there first.
PROBE_CASE: dict[str, tuple[str, str]] = {
    "ballast": ("torch", "eager"),
    "sync": ("torch", "compile-reduce-overhead"),
}
# Compiled modes run the same math in another order (tests/core/test_accuracy.py allows the same).
MAE_TOLERANCE, MSE_TOLERANCE = 0.01, 0.02
BALLAST_TOLERANCE_MIB = 10
# Steady time of a 3-epoch run is the mean of 2 epochs, in another process: agree within 1.5x.
SYNC_RATIO_LIMIT = 1.5
MAX_FILES = 8  # what comes back: the records plus summary.md


@dataclass(frozen=True)
class Limits:
    budget_s: float  # no step starts after this many seconds; a case running then is killed
    case_s: float  # one case's timeout


# The lend: 15 minutes with the start, 10 per command; the whole check must take under 6.
GPU_LIMITS = Limits(budget_s=330, case_s=240)
# CPU compiles on a busy 2-core machine are slow; the dry run only has to finish.
DRY_RUN_LIMITS = Limits(budget_s=1200, case_s=600)

# The claims only a GPU can prove, and why each is skipped on the dry run.
DEVICE_MEMORY = "peak_device_bytes > 0 on every gpu case"
BALLAST = f"a {BALLAST_MIB} MiB tensor raises peak_device_bytes by {BALLAST_MIB} MiB"
SYNC = "epoch times agree with and without an extra torch.cuda.synchronize"
CUDA_GRAPHS = "CUDA-graph modes replay every compiled graph (cudagraph_skips == 0)"
GPU_MATCHES_CPU = "gpu eager matches cpu eager test metrics"
GPU_ONLY: dict[str, str] = {
    DEVICE_MEMORY: "peak_device_bytes is null on cpu",
    BALLAST: "the ballast lands in host memory, which peak_device_bytes does not measure",
    SYNC: "the synchronize is a no-op on cpu",
    CUDA_GRAPHS: "no CUDA graphs on cpu (these modes compile like the default one)",
    GPU_MATCHES_CPU: "the gpu case is the cpu case",
}


@dataclass(frozen=True)
class Step:
    """One process: a case, or a probe (a case run with a check hook; never stored)."""

    case: Case
    probe: str | None = None

    @property
    def label(self) -> str:
        return f"{self.case.name} + {self.probe} probe" if self.probe else self.case.name

    @property
    def hook_env(self) -> dict[str, str]:
        """Every hook variable for the worker: this probe's set, the others empty (off)."""
        off = {name: "" for env in PROBE_ENV.values() for name in env}
        return {**off, **(PROBE_ENV[self.probe] if self.probe else {})}


@dataclass(frozen=True)
class Assertion:
    claim: str
    outcome: str  # pass, fail, or skip (GPU-only, on the dry run)
    detail: str


Probes = Mapping[tuple[Case, str], Record]  # (case, probe name) -> the probe's record


def checked_frameworks() -> list[str]:
    return [fw for fw in FRAMEWORK_MODES if fw not in NOT_CHECKABLE]


def plan(*, dry_run: bool) -> list[Step]:
    """Every GPU mode (cpu on the dry run), torch eager on the CPU and the probes, cheap first."""
    device = "cpu" if dry_run else "gpu"
    frameworks = checked_frameworks()
    steps = [Step(Case(fw, FRAMEWORK_MODES[fw][0], device)) for fw in frameworks]
    steps.append(Step(Case(*PROBE_CASE["ballast"], device), "ballast"))
    comparison = Step(Case("torch", "eager", "cpu"))
    if comparison not in steps:  # on the dry run it is the eager case itself
        steps.append(comparison)
    for fw in frameworks:
        steps += [Step(Case(fw, mode, device)) for mode in FRAMEWORK_MODES[fw][1:]]
    steps.append(Step(Case(*PROBE_CASE["sync"], device), "sync"))  # last: the cases come first
    files = sum(1 for s in steps if not s.probe) + 1
    if files > MAX_FILES:
        raise ValueError(f"the check would bring back {files} files; at most {MAX_FILES} fit")
    return steps


def assess(results: Mapping[Step, Record | None], *, dry_run: bool) -> list[Assertion]:
    """Every claim of the check on the records of a finished run (None: the step never ran)."""
    ok = {s: r for s, r in results.items() if r is not None and r.status == "ok"}
    plain = {s.case: r for s, r in ok.items() if not s.probe}
    probes = {(s.case, s.probe): r for s, r in ok.items() if s.probe is not None}
    gpu = {c: r for c, r in plain.items() if c.device == "gpu"}
    checks = [
        _all_ok(results),
        _complete(ok),
        _one_graph(plain),
        _compiled_match_eager(plain),
        _probes_marked(probes),
    ]
    if dry_run:
        return checks + [
            Assertion(claim, "skip", f"dry run on cpu: {why}") for claim, why in GPU_ONLY.items()
        ]
    return checks + [
        _device_memory(gpu),
        _ballast(plain, probes),
        _sync(plain, probes),
        _no_cudagraph_skips(gpu),
        _gpu_matches_cpu(plain),
    ]


def _outcome(claim: str, failures: list[str], passed: str) -> Assertion:
    if failures:
        return Assertion(claim, "fail", "; ".join(failures))
    return Assertion(claim, "pass", passed)


def _all_ok(results: Mapping[Step, Record | None]) -> Assertion:
    failures = [
        f"{s.label}: " + ("not run (time budget spent)" if r is None else f"{r.status}: {r.reason}")
        for s, r in results.items()
        if r is None or r.status != "ok"
    ]
    return _outcome("every case and probe ran with status ok", failures, f"{len(results)} runs")


def _complete(ok: Mapping[Step, Record]) -> Assertion:
    failures = []
    for step, record in ok.items():
        final = record.test_metrics_at(EPOCHS)
        if not (
            len(record.epochs) == EPOCHS
            and (record.steady_epoch_seconds or 0) > 0
            and record.compile_seconds is not None
            and final is not None
            and math.isfinite(final.test_mse)
            and math.isfinite(final.test_mae)
            and record.environment.get("framework") == step.case.framework
        ):
            failures.append(f"{step.label}: incomplete record")
    shas = {r.dataset_sha256 for r in ok.values()}
    if len(shas) != 1:
        failures.append(f"{len(shas)} dataset fingerprints, expected 1")
    return _outcome(
        f"records are complete: {EPOCHS} epochs, steady and compile time, test metrics, "
        "one dataset",
        failures,
        f"{len(ok)} records",
    )


def _one_graph(plain: Mapping[Case, Record]) -> Assertion:
    compiled = {c: r for c, r in plain.items() if c.framework == "torch" and c.mode != "eager"}
    failures = [
        f"{c.name}: {r.environment.get('compiled_graphs')} graphs"
        for c, r in compiled.items()
        if r.environment.get("compiled_graphs") != 1
    ]
    return _outcome(
        "one compiled graph per compiled mode (no recompiles)",
        failures,
        ", ".join(f"{c.mode} 1" for c in compiled),
    )


def _metrics_close(a: Record, b: Record) -> tuple[bool, str]:
    x, y = a.test_metrics_at(EPOCHS), b.test_metrics_at(EPOCHS)
    if x is None or y is None:
        return False, f"{a.case.name} vs {b.case.name}: no test metrics"
    d_mae, d_mse = abs(x.test_mae - y.test_mae), abs(x.test_mse - y.test_mse)
    text = f"{a.case.name} vs {b.case.name}: MAE diff {d_mae:.4f}, MSE diff {d_mse:.4f}"
    return d_mae <= MAE_TOLERANCE and d_mse <= MSE_TOLERANCE, text


def _compiled_match_eager(plain: Mapping[Case, Record]) -> Assertion:
    failures, seen = [], []
    for case, record in plain.items():
        eager = plain.get(Case(case.framework, FRAMEWORK_MODES[case.framework][0], case.device))
        if eager is None or eager is record:
            continue
        close, text = _metrics_close(record, eager)
        (seen if close else failures).append(text)
    if not seen and not failures:
        failures.append("no compiled mode with its eager case to compare")
    return _outcome(
        f"compiled modes match eager test metrics (MAE within {MAE_TOLERANCE}, MSE within "
        f"{MSE_TOLERANCE}, after epoch {EPOCHS})",
        failures,
        "; ".join(seen),
    )


def _probes_marked(probes: Probes) -> Assertion:
    """The hooks reached the worker: its record names them, so it can never pass as a result."""
    expected = {"ballast": {"ballast_mib": BALLAST_MIB}, "sync": {"extra_sync": True}}
    failures = [
        f"{case.name} {probe}: check_hooks {r.environment.get('check_hooks')}"
        for (case, probe), r in probes.items()
        if r.environment.get("check_hooks") != expected[probe]
    ]
    if set(expected) - {p for _, p in probes}:
        failures.append("a probe has no ok record")
    return _outcome("each probe's record names its check hook", failures, f"{len(probes)} probes")


def _device_memory(gpu: Mapping[Case, Record]) -> Assertion:
    failures = [
        f"{c.name}: peak_device_bytes {r.peak_device_bytes}, gpu {r.environment.get('gpu_name')}"
        for c, r in gpu.items()
        if not (r.peak_device_bytes or 0) > 0 or not r.environment.get("gpu_name")
    ]
    if not gpu:
        failures.append("no ok gpu record")
    return _outcome(
        DEVICE_MEMORY,
        failures,
        ", ".join(f"{c.mode} {(r.peak_device_bytes or 0) / MIB:.1f} MiB" for c, r in gpu.items()),
    )


def _probe_pair(
    plain: Mapping[Case, Record], probes: Probes, probe: str, claim: str
) -> tuple[Case, Record, Record] | Assertion:
    """The probe's gpu case without and with its hook, or the failed assertion if one is absent."""
    case = Case(*PROBE_CASE[probe], "gpu")
    base, changed = plain.get(case), probes.get((case, probe))
    if base is None or changed is None:
        detail = f"no ok record of {case.name} with and without the {probe} probe"
        return Assertion(claim, "fail", detail)
    return case, base, changed


def _ballast(plain: Mapping[Case, Record], probes: Probes) -> Assertion:
    pair = _probe_pair(plain, probes, "ballast", BALLAST)
    if isinstance(pair, Assertion):
        return pair
    case, base, probe = pair
    growth = ((probe.peak_device_bytes or 0) - (base.peak_device_bytes or 0)) / MIB
    detail = f"{case.name}: +{growth:.1f} MiB (tolerance {BALLAST_TOLERANCE_MIB} MiB)"
    close = abs(growth - BALLAST_MIB) <= BALLAST_TOLERANCE_MIB
    return Assertion(BALLAST, "pass" if close else "fail", detail)


def _sync(plain: Mapping[Case, Record], probes: Probes) -> Assertion:
    pair = _probe_pair(plain, probes, "sync", SYNC)
    if isinstance(pair, Assertion):
        return pair
    case, base, probe = pair
    ratio = (probe.steady_epoch_seconds or 0) / (base.steady_epoch_seconds or math.inf)
    detail = (
        f"{case.name} steady {base.steady_epoch_seconds or 0:.4f} s, with the extra sync "
        f"{probe.steady_epoch_seconds or 0:.4f} s: ratio {ratio:.2f} (limit {SYNC_RATIO_LIMIT}x)"
    )
    agree = 1 / SYNC_RATIO_LIMIT <= ratio <= SYNC_RATIO_LIMIT
    return Assertion(SYNC, "pass" if agree else "fail", detail)


def _no_cudagraph_skips(gpu: Mapping[Case, Record]) -> Assertion:
    graphs = {c: r for c, r in gpu.items() if c.framework == "torch" and c.mode in CUDA_GRAPH_MODES}
    failures = [
        f"{c.name}: cudagraph_skips {r.environment.get('cudagraph_skips')}"
        for c, r in graphs.items()
        if r.environment.get("cudagraph_skips") != 0
    ]
    if len(graphs) != len(CUDA_GRAPH_MODES):
        failures.append(f"{len(graphs)} of {len(CUDA_GRAPH_MODES)} CUDA-graph modes ran ok")
    return _outcome(
        CUDA_GRAPHS,
        failures,
        ", ".join(f"{c.mode} 0" for c in graphs),
    )


def _gpu_matches_cpu(plain: Mapping[Case, Record]) -> Assertion:
    gpu, cpu = plain.get(Case("torch", "eager", "gpu")), plain.get(Case("torch", "eager", "cpu"))
    if gpu is None or cpu is None:
        return Assertion(GPU_MATCHES_CPU, "fail", "no ok record of torch eager on gpu and on cpu")
    close, text = _metrics_close(gpu, cpu)
    return Assertion(GPU_MATCHES_CPU, "pass" if close else "fail", text)
