"""A fixed reference workload measured on the case's cores before it trains.

The same host measured torch eager 2.6x apart on two days: the machine changed, not the code.
Each case times a framework-free reference (a float32 GEMM burst at the model's layer width and
a pure-Python loop, the two costs a small network's step is made of), best of a few tries, and
stores it; results are shown also relative to it, and detection tells a slower machine (the
reference moved with the case) from slower code (the case moved alone).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

TRIES = 5
GEMM_SIZE = 128  # the hidden width of the benchmark's model
GEMM_REPEATS = 600
LOOP_ITERATIONS = 400_000


def reference_workload() -> tuple[float, dict[str, Any]]:
    """(seconds of one reference pass, details): best-of-TRIES GEMM burst plus Python loop."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((GEMM_SIZE, GEMM_SIZE)).astype(np.float32)
    b = rng.standard_normal((GEMM_SIZE, GEMM_SIZE)).astype(np.float32)
    gemm = min(_time(lambda: _gemm_burst(a, b)) for _ in range(TRIES))
    loop = min(_time(_python_loop) for _ in range(TRIES))
    flops = 2 * GEMM_SIZE**3 * GEMM_REPEATS
    details = {
        "gemm_seconds": gemm,
        "gemm_gflops": flops / gemm / 1e9,
        "python_loop_seconds": loop,
        "tries": TRIES,
    }
    return gemm + loop, details


def _gemm_burst(a: np.ndarray, b: np.ndarray) -> None:
    out = np.empty_like(a)
    for _ in range(GEMM_REPEATS):
        np.matmul(a, b, out=out)


def _python_loop() -> None:
    total = 0
    for i in range(LOOP_ITERATIONS):
        total += i * i % 7


def _time(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
