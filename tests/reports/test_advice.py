"""Recommendations, budgets and the GPU/CPU comparison are pure functions of records: small
hand-made runs, exact sentences and numbers."""

from __future__ import annotations

from bench.config import Case
from bench.measure import MIB
from bench.records import Record
from bench.reports.advice import recommendations
from bench.reports.budgets import BudgetTime, budget_rows, time_to_epoch
from bench.reports.devices import device_findings, device_pairs, unpaired_note
from tests.builders import make_record


def timed(
    framework: str,
    mode: str,
    steady: float,
    compile_s: float,
    *,
    device: str = "cpu",
    rss_mib: int = 500,
    epochs: int = 30,
) -> Record:
    """`epochs` epochs of `steady` seconds, the first `compile_s` longer; a 2% interval."""
    seconds = [steady + (compile_s if e == 1 else 0.0) for e in range(1, epochs + 1)]
    record = make_record("run-1", Case(framework, mode, device), epoch_seconds=seconds,
                         peak_rss_bytes=rss_mib * MIB)  # fmt: skip
    record.steady_ci_low, record.steady_ci_high = steady * 0.98, steady * 1.02
    return record


def test_time_to_a_budget_is_measured_when_trained_and_projected_beyond() -> None:
    record = timed("torch", "eager", 0.5, 2.0, epochs=12)
    assert time_to_epoch(record, 10) == BudgetTime(10, 2.0 + 10 * 0.5, measured=True)
    assert time_to_epoch(record, 30) == BudgetTime(30, 2.0 + 30 * 0.5, measured=False)
    skipped = make_record(case=Case("torch", "eager", "gpu"), status="skipped", epochs=0,
                          steady=None)  # fmt: skip
    assert time_to_epoch(skipped, 10) is None
    assert [row.record for row in budget_rows([record, skipped])] == [record]
    assert budget_rows([record])[0].projected


def test_short_and_long_training_pick_different_modes_when_compile_decides() -> None:
    """Eager: 1 s an epoch; tf.function: 0.5 s after 8 s of compile; XLA whole epoch: 0.1 s
    after 100 s. 10 epochs: 10 vs 13 vs 101 s; 30 epochs: 30 vs 23 vs 103 s."""
    runs = [
        timed("tensorflow", "eager", 1.0, 0.0, rss_mib=400),
        timed("tensorflow", "function", 0.5, 8.0, rss_mib=700),
        timed("tensorflow", "xla-epoch", 0.1, 100.0, rss_mib=900),
    ]
    short, long, framework, overtakes, pays, memory = [f.text for f in recommendations(runs)]
    assert short == (
        "Short training (10 epochs) on cpu: use TensorFlow eager, 10.0000 s for 10 epochs "
        "including 0.0000 s of compile and warm-up; next is tf.function at 13.0000 s, and the "
        "slowest, XLA whole epoch, takes 101.0000 s. It wins on compile and warm-up (0.0000 s vs "
        "8.0000 s); tf.function is faster per steady epoch."
    )
    assert long.startswith("Long training (30 epochs) on cpu: use tf.function, 23.0000 s")
    assert framework == (
        "Bound to one framework, for 30 epochs on cpu: TensorFlow: tf.function (23.0000 s, of 3 "
        "modes)."
    )
    # (100 - 8) / (0.5 - 0.1) = 230 epochs
    assert overtakes == (
        "Longer still, XLA whole epoch on cpu has the lowest steady epoch (0.1000 s vs 0.5000 s) "
        "and overtakes tf.function after 230 epochs."
    )
    assert pays == (
        "When compilation pays back on cpu, against each framework's baseline (compile + N x "
        "steady epoch): tf.function breaks even after 16 epochs; XLA whole epoch breaks even "
        "after 112 epochs."
    )
    assert memory == (
        "Memory on cpu: tf.function peaks at 700.0 MiB RSS, 300.0 MiB more than the leanest, "
        "TensorFlow eager (400.0 MiB), which needs 30.0000 s instead of 23.0000 s for 30 epochs."
    )


def test_nothing_is_recommended_from_a_single_mode() -> None:
    assert recommendations([timed("torch", "eager", 0.3, 0.1)]) == []


def test_gpu_against_cpu_pairs_each_mode_finished_on_both() -> None:
    cpu = timed("torch", "compile", 0.45, 30.0)
    gpu = timed("torch", "compile", 0.15, 31.0, device="gpu")
    lone = timed("torch", "eager", 0.3, 0.1)
    (pair,) = device_pairs([cpu, gpu, lone])
    assert (pair.cpu, pair.gpu) == (cpu, gpu)
    assert pair.speedup.factor == 3.0 and pair.claim == "GPU faster"
    # 31 + N x 0.15 <= 30 + N x 0.45 from N = 4 (1 / 0.3 = 3.3)
    assert pair.pays_back == "breaks even after 4 epochs"
    assert [f.text for f in device_findings([pair])] == [
        "Per steady epoch, of 1 mode(s) run on both devices: GPU faster for 1 (3.0x: "
        "torch.compile).",
        "Counting compile and warm-up, the GPU run: breaks even after 4 epochs for torch.compile.",
    ]


def test_without_pairs_the_note_says_what_became_of_each_device() -> None:
    skipped = make_record(case=Case("jax", "jit", "gpu"), status="skipped", epochs=0, steady=None,
                          reason="no CUDA device")  # fmt: skip
    note = unpaired_note([timed("jax", "jit", 0.07, 0.9), skipped])
    assert note == (
        "No mode finished on both CPU and GPU in this run (CPU: 1 ok; GPU: 1 skipped "
        "(no CUDA device))."
    )
