"""The loop itself, with a stand-in framework: NaN handling, evaluation budgets, timing fields."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.arithmetic_floor import FLOOR_KEY, epoch_flops
from bench.config import Case, RunSettings
from bench.training import eval_epochs, train_case


class FakeTrainer:
    """Deterministic stand-in for a framework; the loop under test is the real one."""

    def __init__(self, losses: list[float]) -> None:
        self.losses = losses
        self.orders: list[np.ndarray] = []

    def train_epoch(self, order: np.ndarray) -> float:
        self.orders.append(order)
        return self.losses[len(self.orders) - 1]

    def evaluate(self) -> tuple[float, float]:
        return 0.3, 0.4

    def peak_device_bytes(self) -> int | None:
        return None

    def environment(self) -> dict[str, Any]:
        return {"framework": "fake", "framework_version": "1.0", "threads": {"intra_op": 1}}


def run_fake(
    data_home: Path, losses: list[float], epochs: int, device: str = "cpu"
) -> tuple[Any, FakeTrainer]:
    trainer = FakeTrainer(losses)
    settings = RunSettings(epochs=epochs, data_home=str(data_home))
    record = train_case(
        Case("torch", "eager", device), settings, run_id="t", prepare=lambda *a, **k: trainer
    )
    return record, trainer


def test_eval_budgets() -> None:
    assert eval_epochs(2) == [2]
    assert eval_epochs(10) == [10]
    assert eval_epochs(25) == [10, 20, 25]
    assert eval_epochs(30) == [10, 20, 30]


def test_nan_loss_fails_the_case(data_home: Path) -> None:
    record, _ = run_fake(data_home, [0.9, 0.8, float("nan"), 0.7], epochs=4)
    assert record.status == "failed"
    assert "NonFiniteLoss" in record.reason and "epoch 3" in record.reason
    assert [e.epoch for e in record.epochs] == [1, 2]
    record.to_json()  # a failed record is still valid JSON (no NaN)


def test_loop_fills_the_record(data_home: Path) -> None:
    record, trainer = run_fake(data_home, [0.9] * 12, epochs=12)
    assert record.status == "ok"
    assert [m.epoch for m in record.eval] == [10, 12]
    assert len(record.epochs) == 12 and record.total_seconds is not None
    assert record.environment["threads"] == {"requested": 1, "intra_op": 1}
    assert record.dataset_sha256 and len(record.dataset_sha256) == 64
    # A new shuffle every epoch, of the 16,512 training rows, reproducible from the seed.
    assert len(trainer.orders[0]) == 16512
    assert not np.array_equal(trainer.orders[0], trainer.orders[1])
    _, again = run_fake(data_home, [0.9] * 12, epochs=12)
    assert np.array_equal(trainer.orders[5], again.orders[5])


def test_cpu_case_records_its_arithmetic_floor(data_home: Path) -> None:
    """The ladder's floor rung: the epoch's FLOPs at this core's GEMM rate, per CPU case."""
    record, _ = run_fake(data_home, [0.9] * 2, epochs=2)
    floor = record.environment[FLOOR_KEY]
    rate = record.conditions["floor"]["gflops"]
    assert record.conditions["floor"]["mflop"] == pytest.approx(
        epoch_flops(16512).total / 1e6, abs=0.01
    )
    assert floor == pytest.approx(epoch_flops(16512).total / (rate * 1e9), rel=1e-3)
    assert 0 < floor < 0.1  # 93.2 MFLOP at more than 1 GFLOP/s
    gpu, _ = run_fake(data_home, [0.9] * 2, epochs=2, device="gpu")
    assert FLOOR_KEY not in gpu.environment and "floor" not in gpu.conditions


def test_missing_data_fails_with_reason(tmp_path: Path) -> None:
    settings = RunSettings(epochs=1, data_home=str(tmp_path / "absent"))
    record = train_case(Case("torch", "eager", "cpu"), settings, run_id="t")
    assert record.status == "failed"
    assert "BENCH_DATA_HOME" in record.reason


class HeapTrainer(FakeTrainer):
    """Builds a large live heap while warming up, then forces a full collection in epoch 3."""

    def train_epoch(self, order: np.ndarray) -> float:
        if not self.orders:
            self.heap = [[i] for i in range(200_000)]  # what a framework holds after tracing
        if len(self.orders) == 2:
            gc.collect()
        return super().train_epoch(order)


def test_heap_settled_after_warm_up_and_collections_recorded(data_home: Path) -> None:
    trainer = HeapTrainer([0.9] * 4)
    settings = RunSettings(epochs=4, data_home=str(data_home))
    record = train_case(
        Case("torch", "eager", "cpu"), settings, run_id="t", prepare=lambda *a, **k: trainer
    )
    assert record.status == "ok", record.reason
    collector = record.conditions["gc"]
    # The warm-up's heap was frozen off the clock, and given back afterwards.
    assert collector["frozen_objects"] >= 200_000
    assert collector["settle_seconds"] >= 0 and gc.get_freeze_count() == 0
    # The full collection inside a timed epoch is counted and timed, not hidden.
    assert collector["collections"][2] >= 1
    assert collector["max_pause_seconds"] > 0 and collector["pause_seconds"] > 0


def test_one_epoch_settles_nothing(data_home: Path) -> None:
    record, _ = run_fake(data_home, [0.9], epochs=1)
    assert record.status == "ok" and "gc" not in record.conditions
