"""The framework-independent training loop: epochs, timing, evaluation, the record.

Runs inside the per-case worker process (bench.worker); never call it in a process that
has already imported the other framework.
"""

from __future__ import annotations

import gc
import math
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.arithmetic_floor import FLOOR_KEY, measure_floor
from bench.calibration import reference_workload
from bench.conditions import CpuWatch, allowed_cores
from bench.config import EVAL_BUDGETS, Case, RunSettings
from bench.data.loading import load_dataset, split_dataset
from bench.frameworks import trainer_factory
from bench.frameworks.base import CaseSkipped, PrepareFn, Trainer
from bench.heap import GcWatch, settle_heap
from bench.measure import base_environment, peak_rss_bytes
from bench.records import EpochMetric, EvalMetric, Record

# Called after every epoch with (epoch, seconds, train_mae); the worker streams it to the parent.
EpochCallback = Callable[[int, float, float], None]


class NonFiniteLoss(RuntimeError):
    pass


def eval_epochs(epochs: int) -> list[int]:
    """The protocol's budgets within the run, plus the final epoch of a shorter or longer run."""
    return sorted({b for b in EVAL_BUDGETS if b <= epochs} | {epochs})


def train_case(
    case: Case,
    settings: RunSettings,
    *,
    run_id: str,
    trigger: str = "cli",
    on_epoch: EpochCallback | None = None,
    prepare: PrepareFn | None = None,
    repeat: int = 1,
    repeats: int = 1,
) -> Record:
    """Train one case and return its record; never raises for a skipped or failed case.

    The conditions (bench.conditions) cover the training epochs: what happened on this
    process's cores meanwhile. A skipped case has no conditions and is never noisy.
    """
    record = Record(
        run_id=run_id, case=case, trigger=trigger, repeat=repeat, repeats=max(repeats, repeat)
    )
    threads: dict[str, Any] = {"requested": settings.threads}
    record.environment = base_environment(seed=settings.seed, threads=threads)
    cores = tuple(sorted(allowed_cores()))  # the worker pinned itself before calling us
    record.environment["cores"] = list(cores)
    watch = CpuWatch(cores)
    try:
        record.reference_seconds, reference = reference_workload()
        record.conditions["reference"] = reference
        dataset = load_dataset(settings.data_home)
        record.dataset_sha256 = dataset.sha256
        split = split_dataset(dataset, seed=settings.seed)
        if case.device == "cpu":  # the ladder's floor rung; no floor is measured for a GPU
            floor = measure_floor(len(split.x_train))
            record.environment[FLOOR_KEY] = floor.seconds
            record.conditions["floor"] = {
                "gflops": round(floor.gflops, 2),
                "mflop": round(floor.flops.total / 1e6, 2),
            }
        trainer = (prepare or trainer_factory(case.framework, case.device))(
            case, split, seed=settings.seed, threads=settings.threads
        )
        watch.start()
        try:
            _train(record, trainer, settings, len(split.x_train), on_epoch)
        finally:  # after training, so it can report e.g. how often a function was traced
            _update_environment(record, trainer)
            conditions, record.noisy = watch.stop()
            record.conditions.update(conditions)
    except CaseSkipped as exc:
        record.status, record.reason = "skipped", str(exc)
    except Exception as exc:  # a crashing case must not stop the matrix
        traceback.print_exc(file=sys.stderr)
        record.status, record.reason = "failed", _one_line(exc)
    if record.status != "skipped":  # a skipped case measured nothing
        record.peak_rss_bytes = peak_rss_bytes()
    record.finalize_timing()
    return record


def _update_environment(record: Record, trainer: Trainer) -> None:
    env = trainer.environment()
    threads = {**record.environment["threads"], **env.pop("threads", {})}
    record.environment.update(env)
    record.environment["threads"] = threads


def _train(
    record: Record,
    trainer: Trainer,
    settings: RunSettings,
    n_train: int,
    on_epoch: EpochCallback | None,
) -> None:
    shuffle = np.random.default_rng(settings.seed + 1)  # same batch order in both frameworks
    evaluate_after = set(eval_epochs(settings.epochs))
    total = 0.0
    gc_watch = GcWatch()
    try:
        for epoch in range(1, settings.epochs + 1):
            if epoch == 2:  # after warm-up, off the clock (bench.heap)
                record.conditions["gc"] = settle_heap()
                gc_watch.start()
            total += _epoch(record, trainer, epoch, shuffle.permutation(n_train), on_epoch)
            record.total_seconds = total
            if epoch in evaluate_after:
                _evaluate(record, trainer, epoch)
    finally:
        if "gc" in record.conditions:
            record.conditions["gc"].update(gc_watch.stop())
            gc.unfreeze()  # a caller's process (tests) gets its heap back
    record.peak_device_bytes = trainer.peak_device_bytes()


def _epoch(
    record: Record,
    trainer: Trainer,
    epoch: int,
    order: np.ndarray,
    on_epoch: EpochCallback | None,
) -> float:
    start = time.perf_counter()
    train_mae = trainer.train_epoch(order)  # returns after the device is synchronized
    seconds = time.perf_counter() - start
    if not math.isfinite(train_mae):
        raise NonFiniteLoss(f"train loss became {train_mae} at epoch {epoch}")
    record.epochs.append(EpochMetric(epoch=epoch, seconds=seconds, train_mae=train_mae))
    if on_epoch is not None:
        on_epoch(epoch, seconds, train_mae)
    return seconds


def _evaluate(record: Record, trainer: Trainer, epoch: int) -> None:
    mse, mae = trainer.evaluate()
    if not (math.isfinite(mse) and math.isfinite(mae)):
        raise NonFiniteLoss(f"test metrics became non-finite at epoch {epoch}")
    record.eval.append(EvalMetric(epoch=epoch, test_mse=mse, test_mae=mae))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:500] if text else type(exc).__name__
