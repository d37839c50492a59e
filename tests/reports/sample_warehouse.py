"""A small, realistic warehouse built in code: five nightly runs of seven cases, with flags.

Shared by tests/reports and tests/plugins (their conftests import the fixture). Numbers follow
the development machine's measurements (BENCHMARKS.md): TensorFlow eager ~20x slower than
tf.function, torch.compile max-autotune slower than eager on CPU, one GPU case skipped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bench.conditions import noisy_reason
from bench.config import Case
from bench.measure import MIB
from bench.records import EvalMetric, Record, ValidationReport
from bench.warehouse import ensure_run, finish_run, get_engine, store_record, store_validation
from bench.warehouse.engine import reset_engines
from bench.warehouse.migrate import forget_upgrades
from bench.warehouse.models import ACKNOWLEDGEMENTS, FLAGS
from tests.builders import make_record, measured_conditions, nightly

EPOCHS = 30
# case -> (steady s, epoch-1 overhead s, peak RSS MiB, final test MAE)
PROFILE: dict[Case, tuple[float, float, int, float]] = {
    Case("torch", "eager", "cpu"): (0.52, 0.35, 420, 0.3741),
    Case("torch", "compile", "cpu"): (0.45, 31.0, 780, 0.3738),
    Case("torch", "compile-max-autotune", "cpu"): (0.61, 62.0, 910, 0.3744),
    Case("tensorflow", "eager", "cpu"): (10.5, 0.8, 1100, 0.3752),
    Case("tensorflow", "function", "cpu"): (0.63, 1.6, 1150, 0.3749),
    Case("tensorflow", "xla", "cpu"): (0.55, 3.9, 1240, 0.3755),
}
SKIPPED = Case("torch", "eager", "gpu")
SKIP_REASON = "no CUDA device on this worker"
RUNS = [f"scheduled__2026-11-0{n}T02:00:00+00:00" for n in range(1, 6)]
LATEST = RUNS[-1]
REGRESSED = Case("torch", "compile", "cpu")  # slower in the latest run: an open flag
ACKED = Case("tensorflow", "function", "cpu")  # a memory flag on run 3, acknowledged
IMPROVED = Case("tensorflow", "xla", "cpu")  # an improvement flag on run 4: not an alert
NOISY = Case("tensorflow", "eager", "cpu")  # others took 23% of its core in the latest run
CORES = [1]
REFERENCE_SECONDS = 0.045  # the reference workload, 1% slower every night


@dataclass(frozen=True)
class Sample:
    url: str
    runs: list[str]
    latest: str
    cases: list[Case]


def sample_record(run_index: int, case: Case) -> Record:
    """A 30-epoch record of `case` in run `run_index`, slightly different every night."""
    run_id = RUNS[run_index]
    environment = {
        "python": "3.11.7",
        "platform": "Linux-6.1-x86_64",
        "hostname": "bench-worker-1",
        "cpu_model": "Intel(R) Xeon(R) Test CPU @ 2.10GHz",
        "cpu_count": 2,
        "framework": case.framework,
        "framework_version": "2.13.0" if case.framework == "torch" else "2.21.0",
        "numpy": "2.4.6",
        "threads": {"intra_op": 1, "omp": "1"},
        "gpu_name": None,
        "cuda_version": None,
        "seed": 42,
        "bench_version": "0.1.0",
        "git_commit": "abc1234def56",
    }
    if case == SKIPPED:
        return make_record(
            run_id,
            case,
            status="skipped",
            reason=SKIP_REASON,
            trigger="scheduled",
            started_at=nightly(run_index),
            epochs=0,
            steady=None,
            peak_rss_bytes=None,
            dataset_sha256=None,
            environment=environment,
        )
    steady, overhead, rss_mib, mae = PROFILE[case]
    drift = 1 + 0.01 * run_index
    if case == REGRESSED and run_id == LATEST:
        drift = 0.60 / steady
    if case == ACKED and run_index >= 2:
        rss_mib += 150
    seconds = [steady * drift * (1 + 0.03 * math.sin(e)) for e in range(1, EPOCHS + 1)]
    seconds[0] += overhead
    record = make_record(
        run_id,
        case,
        trigger="scheduled",
        started_at=nightly(run_index) + timedelta(minutes=len(PROFILE)),
        epoch_seconds=seconds,
        train_mae=[mae + 0.9 * math.exp(-e / 4) + 0.001 * run_index for e in range(1, EPOCHS + 1)],
        peak_rss_bytes=rss_mib * MIB + run_index * 4096,
        eval_metrics=[
            EvalMetric(b, round(0.29 + (mae - 0.37) * 2 + 0.3 / b, 6), round(mae + 0.2 / b, 6))
            for b in (10, 20, 30)
        ],
        dataset_sha256="a" * 64,
        environment={**environment, "cores": CORES},
    )
    noisy = case == NOISY and run_id == LATEST
    record.conditions = measured_conditions(CORES, others_share=0.23 if noisy else 0.01)
    record.noisy = noisy_reason(record.conditions)
    record.reference_seconds = REFERENCE_SECONDS * (1 + 0.01 * run_index)
    return record


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    """The sample warehouse (SQLite in a temp folder), shared by a test module (read-only)."""
    folder = tmp_path_factory.mktemp("warehouse")
    yield build(f"sqlite:///{folder / 'warehouse.db'}")
    reset_engines()
    forget_upgrades()


def build(url: str) -> Sample:
    """Store the five runs, their validations, flags and one acknowledgement at `url`."""
    cases = [*PROFILE, SKIPPED]
    for index, run_id in enumerate(RUNS):
        ensure_run(run_id, trigger="scheduled", started_at=nightly(index), url=url)
        report = ValidationReport(
            success=True,
            statistics={"evaluated_expectations": 15, "unsuccessful_expectations": 0},
            failures=[],
            dataset_sha256="a" * 64,
            validated_at=nightly(index).isoformat(),
        )
        store_validation(run_id, report, url=url)
        for case in cases:
            store_record(sample_record(index, case), url=url)
        finish_run(run_id, finished_at=nightly(index) + timedelta(hours=1), url=url)
    with get_engine(url).begin() as conn:
        flags = [
            _flag(4, REGRESSED, "steady_epoch_seconds", 0.60, 0.4545),
            _flag(2, ACKED, "peak_rss_bytes", 1300 * MIB, 1150 * MIB),
            _flag(3, IMPROVED, "steady_epoch_seconds", 0.50, 0.56, label="improvement"),
        ]
        conn.execute(sa.insert(FLAGS), flags)
        conn.execute(
            sa.insert(ACKNOWLEDGEMENTS),
            {
                **ACKED.as_dict(),
                "metric": "peak_rss_bytes",
                "from_run_id": RUNS[2],
                "note": "TensorFlow 2.21 raised memory; new level accepted",
                "created_at": nightly(2) + timedelta(hours=5),
            },
        )
    return Sample(url=url, runs=list(RUNS), latest=LATEST, cases=cases)


def _flag(
    run_index: int,
    case: Case,
    metric: str,
    value: float,
    baseline: float,
    *,
    label: str = "regression",
) -> dict[str, object]:
    return {
        "run_id": RUNS[run_index],
        **case.as_dict(),
        "environment_fingerprint": None,
        "metric": metric,
        "baseline_value": baseline,
        "value": value,
        "change_pct": (value - baseline) / baseline * 100,
        "z_score": 8.1 if label == "regression" else -3.2,
        "label": label,
        "detector_version": "test-1",
        "change_point_run_id": RUNS[run_index],
        "created_at": nightly(run_index) + timedelta(hours=2),
    }
