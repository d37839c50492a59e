"""bench.arithmetic_floor and benchmarks.floor: the FLOP count from the shapes, floor, multiples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.arithmetic_floor import (
    TRAIN_ROWS,
    Flops,
    epoch_flops,
    floor_multiple,
    floor_seconds,
    gemm_shapes,
    measure_floor,
    step_flops,
)
from bench.config import WORKLOAD
from bench.data.loading import load_dataset, split_dataset
from benchmarks.floor import read_floor_seconds

REPO = Path(__file__).resolve().parents[2]


def test_step_flops_on_small_shapes_counted_by_hand() -> None:
    # batch 2, 3 features, 4 hidden, 1 output. GEMMs (2 per multiply-add): forward 2*2*3*4 = 48
    # and 2*2*4*1 = 16; backward weight grads 16 and 48, the hidden activations' grad 16.
    # Elementwise: bias add, ReLU, ReLU mask, bias-1 grad sum (2*4 each = 32); bias-2 add,
    # difference, abs, mean, sign, scale, bias-2 grad sum (2*1 each = 14). Adam: 13 x 21.
    assert step_flops(2, 3, 4) == Flops(gemm=144, elementwise=46, adam=273)
    assert step_flops(2, 3, 4).total == 463


def test_the_gemm_count_is_the_sum_of_the_networks_gemm_shapes() -> None:
    for batch, features, hidden, outputs in [(2, 3, 4, 1), (64, 8, 128, 1), (5, 7, 11, 3)]:
        shapes = gemm_shapes(batch, features=features, hidden=hidden, outputs=outputs)
        assert len(shapes) == 5
        by_shapes = sum(2 * m * k * n for m, k, n in shapes.values())
        assert by_shapes == step_flops(batch, features, hidden, outputs).gemm


def test_the_workloads_epoch_is_258_steps_and_93_2_mflop(data_home: Path) -> None:
    split = split_dataset(load_dataset(data_home), seed=42)
    assert split.x_train.shape == (TRAIN_ROWS, 8) and TRAIN_ROWS // WORKLOAD.batch_size == 258
    flops = epoch_flops()
    assert flops == Flops(gemm=258 * 311_296, elementwise=258 * 33_216, adam=258 * 16_653)
    assert flops.total == 93_180_570


def test_a_last_partial_batch_costs_its_rows_and_one_more_adam_step() -> None:
    full, partial = epoch_flops(128, batch=64), epoch_flops(129, batch=64)
    one_row = step_flops(1, 8, WORKLOAD.hidden)
    assert partial.gemm - full.gemm == one_row.gemm
    assert partial.adam == 3 * one_row.adam and full.adam == 2 * one_row.adam


def test_floor_seconds_and_multiples() -> None:
    assert floor_seconds(93_180_570, 93.18057) == pytest.approx(0.001)
    assert floor_multiple(0.025, 0.0025) == pytest.approx(10.0)
    with pytest.raises(ValueError, match="positive"):
        floor_seconds(1, 0.0)
    with pytest.raises(ValueError, match="positive"):
        floor_multiple(0.01, 0.0)


def test_the_measured_floor_is_the_epochs_flops_at_the_fastest_shapes_rate() -> None:
    floor = measure_floor(tries=2)
    assert set(floor.shape_gflops) == set(gemm_shapes(TRAIN_ROWS))
    assert floor.gflops == max(floor.shape_gflops.values()) > 0
    assert floor.seconds == pytest.approx(floor.flops.total / (floor.gflops * 1e9))
    assert 0 < floor.seconds < 0.1  # 93.2 MFLOP at more than 1 GFLOP/s


def test_the_command_pins_itself_and_writes_the_floor_for_the_table(tmp_path: Path) -> None:
    path = tmp_path / "floor.json"
    cmd = [sys.executable, "-m", "benchmarks.floor", "--tries", "2", "--json", str(path)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True, timeout=60)
    printed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert printed == json.loads(path.read_text())
    assert printed["flops"]["total"] == 93_180_570 and len(printed["cores"]) == 1
    assert read_floor_seconds(path) == printed["seconds"] > 0
    assert "MFLOP" in proc.stderr
