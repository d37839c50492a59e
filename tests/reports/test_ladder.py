"""The ladder: rungs of every mode, break-even epochs by hand, sentences and figures per device."""

from __future__ import annotations

import pytest

from bench.arithmetic_floor import FLOOR_KEY
from bench.config import FRAMEWORK_MODES, Case
from bench.records import Record
from bench.reports import figures
from bench.reports.ladder import (
    RUNG_ORDER,
    RUNGS,
    device_ladders,
    ladder_findings,
    rung_modes,
)
from bench.reports.narrative import break_even_epoch
from tests.reports.test_narrative import record

PNG = b"\x89PNG\r\n\x1a\n"


def test_every_mode_of_every_framework_has_one_known_rung() -> None:
    modes = {(fw, mode) for fw, fw_modes in FRAMEWORK_MODES.items() for mode in fw_modes}
    assert set(RUNGS) == modes
    assert set(RUNGS.values()) <= set(RUNG_ORDER)
    listed = [label for _, labels in rung_modes() for label in labels]
    assert len(listed) == len(modes)


@pytest.mark.parametrize(
    ("steady", "compile_s", "previous_steady", "previous_compile", "expected"),
    [
        (0.4, 30.0, 0.5, 0.0, 300),  # 30 / 0.1 exactly: equal totals at 300 count as even
        (0.4, 30.0, 0.5, 0.05, 300),  # 29.95 / 0.1 = 299.5: epoch 300
        (0.02, 25.0, 0.11, 10.7, 159),  # 14.3 / 0.09 = 158.9
        (0.02, 1.0, 0.11, 10.7, 1),  # cheaper to compile and faster: ahead from epoch 1
        (0.5, 30.0, 0.5, 0.0, None),  # no faster: never
        (0.6, 0.0, 0.5, 30.0, None),  # slower: never, however cheap its compile
    ],
)
def test_break_even_epoch_by_hand(
    steady: float,
    compile_s: float,
    previous_steady: float,
    previous_compile: float,
    expected: int | None,
) -> None:
    found = break_even_epoch(
        steady=steady,
        compile_seconds=compile_s,
        previous_steady=previous_steady,
        previous_compile_seconds=previous_compile,
    )
    assert found == expected
    if found is not None:  # the definition itself: totals compared at N and N - 1

        def total(n: int, s: float, c: float) -> float:
            return c + n * s

        assert (
            total(found, steady, compile_s)
            <= total(found, previous_steady, previous_compile) + 1e-9
        )
        if found > 1:
            assert total(found - 1, steady, compile_s) > total(
                found - 1, previous_steady, previous_compile
            )


def torch_ladder() -> list[Record]:
    """DataLoader loop, eager, two step graphs (the faster one stands for the rung), epoch
    graph; one failed mode that must not count."""
    return [
        record("torch", "dataloader", 0.14, compile_s=0.3),
        record("torch", "eager", 0.08, compile_s=0.0),
        record("torch", "compile", 0.11, compile_s=10.0),
        record("torch", "compile-max-autotune", 0.10, compile_s=12.0),
        record("torch", "compile-reduce-overhead", None, status="failed"),
        record("torch", "compile-epoch", 0.02, compile_s=20.0),
    ]


def test_rungs_in_order_each_the_fastest_ok_mode_of_the_rung() -> None:
    (ladder,) = device_ladders(torch_ladder())
    (fw,) = ladder.frameworks
    assert [r.name for r in fw.rungs] == ["idiomatic", "eager", "step graph", "epoch graph"]
    step_graph = fw.rungs[2]
    assert step_graph.record.case == Case("torch", "compile-max-autotune", "cpu")
    assert step_graph.modes == 2
    assert step_graph.label == "step graph (torch.compile max-autotune, fastest of 2)"
    assert ladder.key == "ladder-cpu" and ladder.floor_seconds is None


def test_each_rung_says_what_it_buys_and_when_its_compile_pays_back() -> None:
    (ladder,) = device_ladders(torch_ladder())
    texts = [f.text for f in ladder.findings]
    assert {f.topic for f in ladder.findings} == {"ladder"}
    assert texts == [
        "PyTorch on cpu, idiomatic (PyTorch DataLoader loop) to eager (PyTorch eager): 1.75x "
        "faster per steady epoch (0.0800 s vs 0.1400 s; 95% interval 1.68x-1.82x); compile "
        "and warm-up 0.0000 s vs 0.3000 s: ahead from the first epoch.",
        "PyTorch on cpu, eager (PyTorch eager) to step graph (torch.compile max-autotune, "
        "fastest of 2): slower, 1.25x the time per steady epoch (0.1000 s vs 0.0800 s; 95% "
        "interval 1.20x-1.30x); compile and warm-up 12.0000 s vs 0.0000 s: never pays back.",
        # (20 - 12) / (0.10 - 0.02) = 100 epochs
        "PyTorch on cpu, step graph (torch.compile max-autotune, fastest of 2) to epoch graph "
        "(torch.compile whole epoch): 5.0x faster per steady epoch (0.0200 s vs 0.1000 s; 95% "
        "interval 4.8x-5.2x); compile and warm-up 20.0000 s vs 12.0000 s: breaks even after "
        "100 epochs.",
    ]


def test_a_rung_within_the_intervals_of_the_previous_is_no_measurable_difference() -> None:
    runs = [record("jax", "jit", 0.050, compile_s=0.8), record("jax", "scan", 0.049, compile_s=2)]
    (ladder,) = device_ladders(runs)
    (text,) = [f.text for f in ladder.findings]
    assert text == (
        "JAX on cpu, step graph (JAX jit step) to epoch graph (JAX scan epoch): no measurable "
        "difference per steady epoch (0.0490 s vs 0.0500 s; the factor's 95% interval "
        "0.98x-1.06x includes 1); compile and warm-up 2.0000 s vs 0.8000 s: never pays back."
    )


def test_without_intervals_nothing_is_claimed() -> None:
    runs = [
        record("tensorflow", "eager", 2.8, spread=None),
        record("tensorflow", "function", 0.1, compile_s=1.6, spread=None),
    ]
    (ladder,) = device_ladders(runs)
    (text,) = [f.text for f in ladder.findings]
    assert text.endswith(
        "0.1000 s vs 2.8000 s per steady epoch, too few samples to say which is faster; compile "
        "and warm-up 1.6000 s vs 0.1000 s: too few samples to tell whether it pays back."
    )


def test_the_floor_is_drawn_and_cited_only_when_a_record_carries_it() -> None:
    runs = torch_ladder()
    (without,) = device_ladders(runs)
    assert not any("floor" in f.text for f in ladder_findings(without))
    runs[1].environment[FLOOR_KEY] = 0.002
    runs[2].environment[FLOOR_KEY] = 0.001  # a floor is a lower bound: the lowest counts
    (ladder,) = device_ladders(runs)
    assert ladder.floor_seconds == 0.001
    assert ladder.findings[-1].text == (
        "PyTorch on cpu: its fastest rung, epoch graph (torch.compile whole epoch), takes 20x "
        "the arithmetic floor (0.0200 s vs 0.0010 s per epoch)."
    )
    (given,) = device_ladders(torch_ladder(), floor_seconds={"cpu": 0.004})
    assert given.floor_seconds == 0.004
    assert figures.ladder_png(ladder).startswith(PNG)


def test_one_ladder_per_device_and_only_frameworks_with_two_rungs() -> None:
    runs = [
        *torch_ladder(),
        record("tensorflow", "function", 0.1),  # one rung of TensorFlow on cpu
        record("tensorflow", "xla", 0.09),  # same rung
        record("torch", "eager", 0.05, device="gpu"),  # one rung on gpu
        record("jax", "jit", 0.02, device="gpu", status="skipped"),
    ]
    (ladder,) = device_ladders(runs)
    assert ladder.device == "cpu"
    assert [fw.framework for fw in ladder.frameworks] == ["torch"]
    assert device_ladders(runs[6:]) == []


def test_the_ladder_figure_is_a_png() -> None:
    runs = [*torch_ladder(), record("jax", "jit", 0.05), record("jax", "scan", 0.01)]
    (ladder,) = device_ladders(runs)
    png = figures.ladder_png(ladder)
    assert png.startswith(PNG) and len(png) > 20_000
