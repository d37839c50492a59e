"""The published protocol on the real data: 30 epochs, every CPU mode reaches the accuracy bar."""

from __future__ import annotations

import pytest

from bench.config import RunSettings, all_cases
from bench.records import Record
from bench.runner import run_case

pytestmark = [pytest.mark.slow, pytest.mark.integration]

MAE_BAR, MSE_BAR = 0.42, 0.36
# Compiled modes run the same math in another order: allowed drift from eager after 30 epochs.
MAE_TOLERANCE, MSE_TOLERANCE = 0.01, 0.02


@pytest.fixture(scope="module")
def records(data_home, compile_cache, tmp_path_factory) -> dict[str, Record]:  # type: ignore[no-untyped-def]
    mp = pytest.MonkeyPatch()
    mp.setenv("BENCH_COMPILE_CACHE", str(compile_cache))
    settings = RunSettings(epochs=30, seed=42, threads=1, data_home=str(data_home))
    try:
        return {
            c.name: run_case(c, settings, run_id="accuracy") for c in all_cases(devices=["cpu"])
        }
    finally:
        mp.undo()


@pytest.mark.parametrize("name", [c.name for c in all_cases(devices=["cpu"])])
def test_reaches_the_accuracy_bar(records: dict[str, Record], name: str) -> None:
    record = records[name]
    assert record.status == "ok", record.reason
    assert [m.epoch for m in record.eval] == [10, 20, 30]
    final = record.test_metrics_at(30)
    assert final is not None
    assert final.test_mae < MAE_BAR, f"{name}: test MAE {final.test_mae:.4f}"
    assert final.test_mse < MSE_BAR, f"{name}: test MSE {final.test_mse:.4f}"


@pytest.mark.parametrize("name", [c.name for c in all_cases(devices=["cpu"]) if c != c.baseline])
def test_mode_agrees_with_its_baseline(records: dict[str, Record], name: str) -> None:
    """Every mode matches its framework's baseline (eager; JAX's jit step) at 10, 20, 30."""
    compiled = records[name]
    eager = records[compiled.case.baseline.name]
    for epoch in (10, 20, 30):
        a, b = compiled.test_metrics_at(epoch), eager.test_metrics_at(epoch)
        assert a is not None and b is not None
        assert abs(a.test_mae - b.test_mae) <= MAE_TOLERANCE, (epoch, a, b)
        assert abs(a.test_mse - b.test_mse) <= MSE_TOLERANCE, (epoch, a, b)


GRAPH_MODES = [c.name for c in all_cases(devices=["cpu"]) if c.mode not in ("eager", "dataloader")]


@pytest.mark.parametrize("name", GRAPH_MODES)
def test_graph_modes_trace_once(records: dict[str, Record], name: str) -> None:
    """No hidden recompilation over 30 epochs: one trace (TensorFlow, JAX) or one compiled graph
    (torch.compile), and no JAX compilation after the warm-up epoch."""
    env = records[name].environment
    if records[name].case.framework == "torch":
        assert env["compiled_graphs"] == 1, env
    else:
        assert env["traces"] == 1, env
    if records[name].case.framework == "jax":
        assert env["compiles"]["steady"] == 0 and env["compiles"]["warm_up"] >= 1, env


def test_whole_epoch_modes_report_each_epochs_train_mae(records: dict[str, Record]) -> None:
    """The mean of the epoch's step losses comes back from the graph: same as the step loop's."""
    pairs = [
        ("tensorflow-function-epoch-cpu", "tensorflow-function-cpu"),
        ("torch-compile-epoch-cpu", "torch-eager-cpu"),
        ("jax-scan-cpu", "jax-jit-cpu"),
    ]
    for epoch_mode, step_mode in pairs:
        a, b = records[epoch_mode].epochs, records[step_mode].epochs
        assert len(a) == len(b) == 30
        for x, y in zip(a, b, strict=True):
            assert x.train_mae == pytest.approx(y.train_mae, abs=1e-3), (epoch_mode, x, y)
