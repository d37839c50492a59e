"""Warehouses of the whole matrix, as a first-time user and the nightly make them: `make run`
(2 epochs, 2 repeats, every mode on CPU, GPU cases skipped on a machine without one, run twice
the same day) and a 30-epoch run on CPU and GPU with checks too young to judge.

Steady times follow the development machine (../shared/FINDINGS.md): the three torch.compile
step modes measure alike, which is what crowds a memory scatter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.config import FRAMEWORK_MODES, Case
from bench.measure import MIB
from bench.records import EvalMetric, Record
from bench.reports import write_report
from bench.warehouse import ensure_run, finish_run, get_engine, store_record
from bench.warehouse.models import FLAGS
from tests.builders import make_record, measured_conditions, nightly

# (framework, mode) -> (steady s on CPU, epoch-1 overhead s, peak RSS MiB, test MAE at 30)
CPU_PROFILE: dict[tuple[str, str], tuple[float, float, int, float]] = {
    ("torch", "eager"): (0.28, 0.35, 430, 0.3741),
    ("torch", "compile"): (0.450, 31.0, 780, 0.3738),
    ("torch", "compile-reduce-overhead"): (0.452, 33.0, 781, 0.3738),
    ("torch", "compile-max-autotune"): (0.455, 62.0, 783, 0.3739),
    ("torch", "compile-epoch"): (0.12, 45.0, 820, 0.3740),
    ("torch", "dataloader"): (0.52, 0.40, 440, 0.3742),
    ("tensorflow", "eager"): (10.5, 0.8, 1100, 0.3752),
    ("tensorflow", "function"): (0.63, 1.6, 1150, 0.3749),
    ("tensorflow", "xla"): (0.55, 3.9, 1240, 0.3755),
    ("tensorflow", "function-epoch"): (0.058, 2.5, 1160, 0.3750),
    ("tensorflow", "xla-epoch"): (0.012, 4.5, 1250, 0.3751),
    ("tensorflow", "keras-fit"): (0.64, 1.9, 1180, 0.3753),
    ("jax", "jit"): (0.07, 0.9, 610, 0.3744),
    ("jax", "scan"): (0.025, 1.4, 620, 0.3745),
}
GPU_SPEED = {"eager": 0.9, "dataloader": 0.95}  # a GPU step costs launches: little gain eager
GPU_SKIP = "no CUDA device on this worker"
MAKE_RUNS = ["manual__2026-11-03T09:12:00+00:00", "manual__2026-11-03T14:40:00+00:00"]
NIGHTLY_RUNS = [f"scheduled__2026-11-0{n}T02:00:00+00:00" for n in range(1, 4)]


@dataclass(frozen=True)
class Matrix:
    url: str
    latest: str
    cases: list[Case]
    epochs: int


def matrix_record(
    run_id: str, case: Case, *, epochs: int, repeats: int, run_index: int, gpu: bool
) -> Record:
    """One case's summary record: skipped on GPU unless `gpu`, else measured per the profile."""
    environment = {
        "python": "3.11.7",
        "platform": "Linux-6.1-x86_64",
        "hostname": "bench-worker-1",
        "cpu_model": "Intel(R) Xeon(R) Test CPU @ 2.10GHz",
        "cpu_count": 2,
        "framework": case.framework,
        "framework_version": {"torch": "2.13.0", "tensorflow": "2.21.0", "jax": "0.8.1"}[
            case.framework
        ],
        "numpy": "2.4.6",
        "threads": {"requested": 1, "intra_op": 1, "inter_op": 1, "omp_num_threads": "1"},
        "gpu_name": "NVIDIA H200" if case.device == "gpu" else None,
        "cuda_version": "13.0" if case.device == "gpu" else None,
        "seed": 42,
        "bench_version": "0.1.0",
        "git_commit": "abc1234def56",
        "cores": [1],
    }
    started = nightly(run_index) + timedelta(minutes=5)
    if case.device == "gpu" and not gpu:
        return make_record(run_id, case, status="skipped", reason=GPU_SKIP, trigger="manual",
                           started_at=started, epochs=0, steady=None, peak_rss_bytes=None,
                           dataset_sha256=None, environment=environment)  # fmt: skip
    steady, overhead, rss_mib, mae = CPU_PROFILE[(case.framework, case.mode)]
    if case.device == "gpu":
        steady *= GPU_SPEED.get(case.mode, 0.3)
    steady *= 1 + 0.01 * run_index
    seconds = [steady * (1 + 0.02 * math.sin(3 * e)) for e in range(1, epochs + 1)]
    seconds[0] += overhead
    evals = sorted({b for b in (10, 20, 30) if b <= epochs} | {epochs})
    record = make_record(
        run_id,
        case,
        trigger="manual" if epochs < 10 else "scheduled",
        started_at=started,
        epoch_seconds=seconds,
        train_mae=[mae + 0.9 * math.exp(-e / 4) for e in range(1, epochs + 1)],
        peak_rss_bytes=rss_mib * MIB + run_index * 4096,
        eval_metrics=[EvalMetric(b, 0.28 + 0.3 / b, mae + 0.2 / b) for b in evals],
        environment=environment,
    )
    record.repeats = repeats
    assert record.steady_epoch_seconds is not None
    record.steady_ci_low = record.steady_epoch_seconds * 0.97
    record.steady_ci_high = record.steady_epoch_seconds * 1.03
    record.steady_cv = 0.015
    record.conditions = measured_conditions([1])
    record.reference_seconds = 0.045
    if case.device == "gpu":
        record.peak_device_bytes = (40 + rss_mib // 20) * MIB
    return record


def build_make_run(url: str) -> Matrix:
    """What `make run` leaves, run twice on one day: 2 epochs, 2 repeats, GPU cases skipped."""
    cases = [Case(fw, mode, dev) for fw, modes in FRAMEWORK_MODES.items() for mode in modes
             for dev in ("cpu", "gpu")]  # fmt: skip
    for index, run_id in enumerate(MAKE_RUNS):
        started = nightly(2) + timedelta(hours=7 + 5 * index)
        ensure_run(run_id, trigger="manual", started_at=started, url=url)
        for case, repeat in ((c, n) for n in (1, 2) for c in cases):
            record = matrix_record(run_id, case, epochs=2, repeats=2, run_index=index, gpu=False)
            record.started_at = (started + timedelta(minutes=1)).isoformat()
            record.repeat = repeat
            if record.epochs:  # the second process measures 2% slower
                for epoch in record.epochs:
                    epoch.seconds *= 1 + 0.02 * (repeat - 1)
                record.finalize_timing()
                record.total_seconds = sum(e.seconds for e in record.epochs)
            store_record(record, url=url)
        finish_run(run_id, finished_at=started + timedelta(minutes=30), url=url)
    return Matrix(url=url, latest=MAKE_RUNS[-1], cases=cases, epochs=2)


def build_nightly(url: str) -> Matrix:
    """Three 30-epoch nightly runs of every mode on CPU and GPU; the latest run's checks were
    too young to judge (label insufficient)."""
    cases = [Case(fw, mode, dev) for fw, modes in FRAMEWORK_MODES.items() for mode in modes
             for dev in ("cpu", "gpu")]  # fmt: skip
    for index, run_id in enumerate(NIGHTLY_RUNS):
        ensure_run(run_id, trigger="scheduled", started_at=nightly(index), url=url)
        for case in cases:
            record = matrix_record(run_id, case, epochs=30, repeats=1, run_index=index, gpu=True)
            store_record(record, url=url)
        finish_run(run_id, finished_at=nightly(index) + timedelta(hours=1), url=url)
    with get_engine(url).begin() as conn:
        conn.execute(
            sa.insert(FLAGS),
            [
                {
                    "run_id": NIGHTLY_RUNS[-1],
                    **case.as_dict(),
                    "environment_fingerprint": None,
                    "metric": metric,
                    "baseline_value": None,
                    "value": 1.0,
                    "change_pct": None,
                    "z_score": None,
                    "label": "insufficient",
                    "detector_version": "test-1",
                    "change_point_run_id": None,
                    "created_at": nightly(2) + timedelta(hours=2),
                }
                for case in cases
                if case.device == "cpu"
                for metric in ("steady_epoch_seconds", "peak_rss_bytes")
            ],
        )
    return Matrix(url=url, latest=NIGHTLY_RUNS[-1], cases=cases, epochs=30)


@dataclass(frozen=True)
class Written:
    """A matrix warehouse and the report written from it."""

    matrix: Matrix
    index: Path
    html: str


def _written(folder: Path, builder: Callable[[str], Matrix]) -> Written:
    matrix = builder(f"sqlite:///{folder / 'warehouse.db'}")
    index = write_report(None, folder / "report", url=matrix.url)
    return Written(matrix, index, index.read_text())


@pytest.fixture(scope="session")
def make_run_report(tmp_path_factory: pytest.TempPathFactory) -> Written:
    """The report of the second `make run` of the day (read-only)."""
    return _written(tmp_path_factory.mktemp("make-run"), build_make_run)


@pytest.fixture(scope="session")
def nightly_report(tmp_path_factory: pytest.TempPathFactory) -> Written:
    """The report of the latest 30-epoch nightly on CPU and GPU (read-only)."""
    return _written(tmp_path_factory.mktemp("nightly"), build_nightly)
