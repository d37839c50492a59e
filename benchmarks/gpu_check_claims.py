"""What the GPU check asserts about the records its steps bring back (benchmarks.gpu_check_plan).

The assertions are pure functions of the records, so their GPU half is tested on records built in
code (tests/benchmarks/test_gpu_check.py); `--dry-run` runs the same steps on cpu, where the
GPU-only claims are skipped with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.config import CUDA_GRAPH_MODES, Case
from bench.measure import MIB
from bench.records import Record
from bench.uncertainty import Estimate, repeats_interval
from benchmarks.gpu_check_plan import (
    BALLAST_MIB,
    EPOCHS,
    PROBE_CASE,
    PROBE_HOOKS,
    SYNC_EPOCHS,
    SYNC_ROUNDS,
    SYNC_SIDES,
    Step,
)

# Modes that build no graph: no compiled-graph count to check.
NO_GRAPH = {("torch", "eager"), ("torch", "dataloader")}
# Compiled modes run the same math in another order (tests/core/test_accuracy.py allows the same).
MAE_TOLERANCE, MSE_TOLERANCE = 0.01, 0.02
BALLAST_TOLERANCE_MIB = 10
# The extra synchronize costs two waits per epoch (microseconds); queued work escaping the clock
# would make the epochs with it take a multiple of those without. A 95% interval of the median
# per-round ratio inside [1/1.5, 1.5] shows agreement; one beyond it on one side, disagreement;
# one wider than the band shows nothing (3 rounds need a per-round spread under ~16% for that).
SYNC_RATIO_LIMIT = 1.5
# The claims only a GPU can prove, and why each is skipped on the dry run.
DEVICE_MEMORY = "peak_device_bytes > 0 on every gpu case"
BALLAST = f"a {BALLAST_MIB} MiB tensor raises peak_device_bytes by {BALLAST_MIB} MiB"
SYNC = (
    f"epoch times agree with and without an extra torch.cuda.synchronize ({SYNC_ROUNDS} "
    f"rounds: 95% interval of the median ratio within {1 / SYNC_RATIO_LIMIT:.2f}-"
    f"{SYNC_RATIO_LIMIT}x)"
)
CUDA_GRAPHS = "CUDA-graph modes replay every compiled graph (cudagraph_skips == 0)"
GPU_MATCHES_CPU = "gpu eager matches cpu eager test metrics"
GPU_ONLY: dict[str, str] = {
    DEVICE_MEMORY: "peak_device_bytes is null on cpu",
    BALLAST: "the ballast lands in host memory, which peak_device_bytes does not measure",
    SYNC: "the synchronize is a no-op on cpu (the rounds' ratios are shown, not asserted)",
    CUDA_GRAPHS: "no CUDA graphs on cpu (these modes compile like the default one)",
    GPU_MATCHES_CPU: "the gpu case is the cpu case",
}
ALL_OK = "every case and probe ran with status ok"
ONE_GRAPH = (
    "one graph per compiled mode, no recompiles (torch: compiled_graphs 1; JAX: one trace, "
    "no compile after the warm-up epoch)"
)
MATCH_BASELINE = (
    f"every mode matches its baseline's test metrics (MAE within {MAE_TOLERANCE}, MSE within "
    f"{MSE_TOLERANCE}, after epoch {EPOCHS})"
)
HOOKS_MARKED = "each probe's record names its check hook, and no other record names one"


@dataclass(frozen=True)
class Assertion:
    claim: str
    outcome: str  # pass, fail, or skip (GPU-only, on the dry run)
    detail: str


Probes = Mapping[tuple[Case, str], Record]  # (case, probe name) -> the probe's record


def assess(results: Mapping[Step, Record | None], *, dry_run: bool) -> list[Assertion]:
    """Every claim of the check on the records of a finished run (None: the step never ran)."""
    ok = {s: r for s, r in results.items() if r is not None and r.status == "ok"}
    plain = {s.case: r for s, r in ok.items() if s.stored}
    probes = {(s.case, s.probe): r for s, r in ok.items() if s.probe is not None and not s.round}
    gpu = {c: r for c, r in plain.items() if c.device == "gpu"}
    checks = [
        _all_ok(results),
        _complete(ok),
        _one_graph(plain),
        _modes_match_baseline(plain),
        _hooks_marked(ok, results),
    ]
    if dry_run:
        return checks + [
            Assertion(claim, "skip", f"dry run on cpu: {why}") for claim, why in GPU_ONLY.items()
        ]
    return checks + [
        _device_memory(gpu),
        _ballast(plain, probes),
        _sync(results),
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
    return _outcome(ALL_OK, failures, f"{len(results)} runs")


def _complete(ok: Mapping[Step, Record]) -> Assertion:
    failures = []
    for step, record in ok.items():
        final = record.test_metrics_at(step.epochs)
        if not (
            len(record.epochs) == step.epochs
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
        f"records are complete: {EPOCHS} epochs ({SYNC_EPOCHS} in the sync rounds), steady and "
        "compile time, test metrics, one dataset",
        failures,
        f"{len(ok)} records",
    )


def graphs(case: Case, record: Record) -> str:
    """The record's graph count as the summary shows it: torch's compiled graphs, JAX's traces
    and compilations after the warm-up epoch ('-' for a mode that builds none)."""
    env = record.environment
    if case.framework == "jax":
        late = (env.get("compiles") or {}).get("steady")
        return f"{env.get('traces')} trace(s), {late} late compile(s)"
    return str(env.get("compiled_graphs", "-"))


def _one_graph(plain: Mapping[Case, Record]) -> Assertion:
    compiled = {c: r for c, r in plain.items() if (c.framework, c.mode) not in NO_GRAPH}
    failures = []
    for case, record in compiled.items():
        env = record.environment
        if case.framework == "jax":
            good = env.get("traces") == 1 and (env.get("compiles") or {}).get("steady") == 0
        else:
            good = env.get("compiled_graphs") == 1
        if not good:
            failures.append(f"{case.name}: {_graph_text(case, record)}")
    passed = ", ".join(f"{c.name}: {_graph_text(c, r)}" for c, r in compiled.items())
    return _outcome(ONE_GRAPH, failures, passed)


def _graph_text(case: Case, record: Record) -> str:
    text = graphs(case, record)
    return text if case.framework == "jax" else f"{text} compiled graph(s)"


def _metrics_close(a: Record, b: Record) -> tuple[bool, str]:
    x, y = a.test_metrics_at(EPOCHS), b.test_metrics_at(EPOCHS)
    if x is None or y is None:
        return False, f"{a.case.name} vs {b.case.name}: no test metrics"
    d_mae, d_mse = abs(x.test_mae - y.test_mae), abs(x.test_mse - y.test_mse)
    text = f"{a.case.name} vs {b.case.name}: MAE diff {d_mae:.4f}, MSE diff {d_mse:.4f}"
    return d_mae <= MAE_TOLERANCE and d_mse <= MSE_TOLERANCE, text


def _modes_match_baseline(plain: Mapping[Case, Record]) -> Assertion:
    failures: list[str] = []
    seen: list[str] = []
    for case, record in plain.items():
        baseline = plain.get(case.baseline)
        if case == case.baseline or baseline is None:
            continue  # a missing baseline already fails ALL_OK
        close, text = _metrics_close(record, baseline)
        (seen if close else failures).append(text)
    if not seen and not failures:
        failures.append("no mode with its baseline to compare")
    return _outcome(MATCH_BASELINE, failures, "; ".join(seen))


def _hooks_marked(ok: Mapping[Step, Record], results: Mapping[Step, Record | None]) -> Assertion:
    """The hooks reached the worker, and only where asked: a record made with one names it, so it
    can never pass as a result, and a record meant as one names none."""
    failures = [
        f"{s.label}: check_hooks {r.environment.get('check_hooks')}"
        for s, r in ok.items()
        if r.environment.get("check_hooks") != (PROBE_HOOKS[s.probe] if s.probe else None)
    ]
    missing = {s.probe for s in results if s.probe} - {s.probe for s in ok if s.probe}
    failures += [f"the {probe} probe has no ok record" for probe in sorted(missing)]
    probes = sum(1 for s in ok if s.probe)
    return _outcome(HOOKS_MARKED, failures, f"{probes} probe records, {len(ok) - probes} others")


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
        ", ".join(f"{c.name} {(r.peak_device_bytes or 0) / MIB:.1f} MiB" for c, r in gpu.items()),
    )


def _ballast(plain: Mapping[Case, Record], probes: Probes) -> Assertion:
    case = Case(*PROBE_CASE["ballast"], "gpu")
    base, probe = plain.get(case), probes.get((case, "ballast"))
    if base is None or probe is None:
        detail = f"no ok record of {case.name} with and without the ballast probe"
        return Assertion(BALLAST, "fail", detail)
    growth = ((probe.peak_device_bytes or 0) - (base.peak_device_bytes or 0)) / MIB
    detail = f"{case.name}: +{growth:.1f} MiB (tolerance {BALLAST_TOLERANCE_MIB} MiB)"
    close = abs(growth - BALLAST_MIB) <= BALLAST_TOLERANCE_MIB
    return Assertion(BALLAST, "pass" if close else "fail", detail)


@dataclass(frozen=True)
class SyncRound:
    """One round of the sync probe: steady s/epoch without and with the extra synchronize."""

    round: int
    first: str  # the side that ran first: "without" or "with"
    without_s: float | None
    with_s: float | None

    @property
    def ratio(self) -> float | None:
        if not self.without_s or not self.with_s:
            return None
        return self.with_s / self.without_s


def sync_rounds(results: Mapping[Step, Record | None]) -> list[SyncRound]:
    """The sync probe's rounds in order, each side's steady time (None: not run or not ok)."""

    def steady(step: Step) -> float | None:
        record = results.get(step)
        return record.steady_epoch_seconds if record and record.status == "ok" else None

    rounds = []
    order = [s for s in results if s.round]
    for n in sorted({s.round for s in order}):
        sides = [s for s in order if s.round == n]
        first = "with" if sides[0].probe else "without"
        without, with_ = (next((s for s in sides if s.probe == p), None) for p in SYNC_SIDES)
        rounds.append(
            SyncRound(
                n, first, steady(without) if without else None, steady(with_) if with_ else None
            )
        )
    return rounds


def ratio_estimate(rounds: Sequence[SyncRound]) -> Estimate | None:
    """The median per-round ratio with its 95% interval (bench.uncertainty.repeats_interval: the
    sides of a round ran back to back, so its ratio cancels what the machine did that minute)."""
    ratios = [r.ratio for r in rounds if r.ratio is not None]
    return repeats_interval(ratios) if ratios else None


def _sync(results: Mapping[Step, Record | None]) -> Assertion:
    rounds = sync_rounds(results)
    ratios = [f"{r.ratio:.3f}" for r in rounds if r.ratio is not None]
    estimate = ratio_estimate(rounds)
    if estimate is None or not estimate.has_interval:
        detail = (
            f"{len(ratios)} of {SYNC_ROUNDS} rounds have an ok record on both sides; an interval "
            "needs 2 or more"
        )
        return Assertion(SYNC, "fail", detail)
    assert estimate.low is not None and estimate.high is not None
    low, high, limit = estimate.low, estimate.high, SYNC_RATIO_LIMIT
    detail = (
        f"{PROBE_CASE['sync'][1]}, with/without per round {', '.join(ratios)}: median "
        f"{estimate.value:.3f}, 95% interval {low:.3f}-{high:.3f}"
    )
    if 1 / limit <= low and high <= limit:
        return Assertion(SYNC, "pass", detail)
    if low > limit or high < 1 / limit:
        return Assertion(SYNC, "fail", f"{detail}: the times disagree")
    return Assertion(
        SYNC,
        "fail",
        f"{detail}: not shown, the interval reaches past {1 / limit:.2f}-{limit}x (rounds too "
        "noisy to tell); run the check again",
    )


def _no_cudagraph_skips(gpu: Mapping[Case, Record]) -> Assertion:
    cuda = {c: r for c, r in gpu.items() if c.framework == "torch" and c.mode in CUDA_GRAPH_MODES}
    failures = [
        f"{c.name}: cudagraph_skips {r.environment.get('cudagraph_skips')}"
        for c, r in cuda.items()
        if r.environment.get("cudagraph_skips") != 0
    ]
    if len(cuda) != len(CUDA_GRAPH_MODES):
        failures.append(f"{len(cuda)} of {len(CUDA_GRAPH_MODES)} CUDA-graph modes ran ok")
    return _outcome(CUDA_GRAPHS, failures, ", ".join(f"{c.mode} 0" for c in cuda))


def _gpu_matches_cpu(plain: Mapping[Case, Record]) -> Assertion:
    gpu, cpu = plain.get(Case("torch", "eager", "gpu")), plain.get(Case("torch", "eager", "cpu"))
    if gpu is None or cpu is None:
        return Assertion(GPU_MATCHES_CPU, "fail", "no ok record of torch eager on gpu and on cpu")
    close, text = _metrics_close(gpu, cpu)
    return Assertion(GPU_MATCHES_CPU, "pass" if close else "fail", text)
