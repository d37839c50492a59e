"""The loop itself, with a stand-in framework: NaN handling, evaluation budgets, timing fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

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


def run_fake(data_home: Path, losses: list[float], epochs: int) -> tuple[Any, FakeTrainer]:
    trainer = FakeTrainer(losses)
    settings = RunSettings(epochs=epochs, data_home=str(data_home))
    record = train_case(
        Case("torch", "eager", "cpu"), settings, run_id="t", prepare=lambda *a, **k: trainer
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


def test_missing_data_fails_with_reason(tmp_path: Path) -> None:
    settings = RunSettings(epochs=1, data_home=str(tmp_path / "absent"))
    record = train_case(Case("torch", "eager", "cpu"), settings, run_id="t")
    assert record.status == "failed"
    assert "BENCH_DATA_HOME" in record.reason
