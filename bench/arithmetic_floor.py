"""The arithmetic floor of an epoch: its FLOPs at the fastest one-thread float32 GEMM rate that
this core reaches on the network's own GEMM shapes. The workload measures per-step framework
overhead; the floor says how far from pure arithmetic each mode is.

FLOPs of one step of Linear(F,H) -> ReLU -> Linear(H,O) on B rows, L1 loss, Adam (a
multiply-add counts 2; `step_flops`):
- GEMMs 4BFH + 6BHO: forward of both layers 2B(FH + HO), backward the weight gradients of both
  2B(FH + HO) and the hidden activations' gradient 2BHO (the input's gradient is never needed);
- elementwise 4BH + 7BO: bias adds, ReLU, the loss (difference, abs, mean), its gradient (sign,
  scale), ReLU's mask and the two bias gradients' sums;
- Adam 13 per parameter, P = FH + H + HO + O (each moment 3-4, the bias-corrected update 6, as
  bench.frameworks.torch_epoch writes it).
The workload (B 64, F 8, H 128, O 1, 16,512 rows = 258 steps): 80.3 MFLOP of GEMMs, 8.6
elementwise, 4.3 Adam: 93.2 MFLOP per epoch.

The rate: numpy matmul on one thread (threadpoolctl), best of TRIES, for each of the network's
five GEMMs with all the epoch's rows in one call (no per-call cost). The floor takes the fastest
shape's rate for every FLOP, elementwise ones too: a lower bound, not a target.
Every CPU case measures it on its own cores before training (bench.training) and records
`environment["floor_seconds"]`, the report's ladder rung; `python -m benchmarks.floor` measures it
alone.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np

from bench.config import WORKLOAD

TRAIN_ROWS = 16_512  # California Housing's 20,640 rows less the 20% test split: 258 x 64
FEATURES = 8
OUTPUTS = 1
ADAM_FLOPS_PER_PARAMETER = 13
TRIES = 7
# Where a CPU record's environment carries its floor, in seconds per epoch (the ladder's rung).
FLOOR_KEY = "floor_seconds"
CALLS_PER_TRY = 5


class Flops(NamedTuple):
    gemm: int
    elementwise: int
    adam: int

    @property
    def total(self) -> int:
        return self.gemm + self.elementwise + self.adam


@dataclass(frozen=True)
class Floor:
    """The floor's seconds per epoch, the FLOPs and the rate it comes from."""

    seconds: float
    flops: Flops
    gflops: float  # the fastest shape's rate, which the floor uses
    shape_gflops: dict[str, float]
    cores: tuple[int, ...] = ()


def step_flops(batch: int, features: int, hidden: int, outputs: int = OUTPUTS) -> Flops:
    """FLOPs of one training step on `batch` rows (the formula in the module docstring)."""
    parameters = features * hidden + hidden + hidden * outputs + outputs
    return Flops(
        gemm=4 * batch * features * hidden + 6 * batch * hidden * outputs,
        elementwise=4 * batch * hidden + 7 * batch * outputs,
        adam=ADAM_FLOPS_PER_PARAMETER * parameters,
    )


def epoch_flops(
    rows: int = TRAIN_ROWS,
    *,
    batch: int = WORKLOAD.batch_size,
    features: int = FEATURES,
    hidden: int = WORKLOAD.hidden,
    outputs: int = OUTPUTS,
) -> Flops:
    """FLOPs of one epoch: GEMMs and elementwise work scale with the rows, Adam with the steps."""
    per_row = step_flops(1, features, hidden, outputs)
    steps = math.ceil(rows / batch)
    return Flops(rows * per_row.gemm, rows * per_row.elementwise, steps * per_row.adam)


def floor_seconds(flops: int, gflops: float) -> float:
    """Seconds for `flops` at `gflops` GFLOP/s."""
    if gflops <= 0:
        raise ValueError(f"the GEMM rate must be positive, got {gflops}")
    return flops / (gflops * 1e9)


def floor_multiple(seconds: float, floor_s: float) -> float:
    """How many floors a measured epoch time is."""
    if floor_s <= 0:
        raise ValueError(f"the floor must be positive, got {floor_s}")
    return seconds / floor_s


def gemm_shapes(
    rows: int,
    *,
    features: int = FEATURES,
    hidden: int = WORKLOAD.hidden,
    outputs: int = OUTPUTS,
) -> dict[str, tuple[int, int, int]]:
    """The network's GEMMs on `rows` rows as (m, k, n) of an (m, k) @ (k, n) product."""
    return {
        "forward 1": (rows, features, hidden),
        "forward 2": (rows, hidden, outputs),
        "weight grad 2": (outputs, rows, hidden),
        "hidden grad": (rows, outputs, hidden),
        "weight grad 1": (hidden, rows, features),
    }


def gemm_rates(
    rows: int = TRAIN_ROWS,
    *,
    features: int = FEATURES,
    hidden: int = WORKLOAD.hidden,
    outputs: int = OUTPUTS,
    tries: int = TRIES,
) -> dict[str, float]:
    """GFLOP/s of each of the network's GEMMs with `rows` rows, best of `tries`, one thread."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    rates = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for name, (m, k, n) in gemm_shapes(
            rows, features=features, hidden=hidden, outputs=outputs
        ).items():
            a = rng.standard_normal((m, k), dtype=np.float32)
            b = rng.standard_normal((k, n), dtype=np.float32)
            out = np.empty((m, n), dtype=np.float32)
            best = min(_time_calls(a, b, out) for _ in range(tries))
            rates[name] = 2 * m * k * n / best / 1e9
    return rates


def measure_floor(rows: int = TRAIN_ROWS, *, tries: int = TRIES) -> Floor:
    """The workload's floor on this core (pin the process first)."""
    flops = epoch_flops(rows)
    rates = gemm_rates(rows, tries=tries)
    best = max(rates.values())
    return Floor(floor_seconds(flops.total, best), flops, best, rates)


def as_json(floor: Floor) -> dict[str, Any]:
    data = asdict(floor)
    data["flops"] = {**floor.flops._asdict(), "total": floor.flops.total}
    return data


def _time_calls(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> float:
    start = time.perf_counter()
    for _ in range(CALLS_PER_TRY):
        np.matmul(a, b, out=out)
    return (time.perf_counter() - start) / CALLS_PER_TRY
