"""What the training loop needs from a framework, how a case declines to run, the check hooks."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np


class CaseSkipped(Exception):
    """The case cannot run on this machine (no GPU, no compiler backend); the message says why."""


class Trainer(Protocol):
    def train_epoch(self, order: np.ndarray) -> float:
        """Train one epoch over the rows in `order`; return mean train MAE, device synced."""
        ...

    def evaluate(self) -> tuple[float, float]:
        """Test (MSE, MAE) with the current weights."""
        ...

    def peak_device_bytes(self) -> int | None:
        """Framework allocator peak on the accelerator; None on CPU."""
        ...

    def environment(self) -> dict[str, Any]:
        """Framework versions, thread settings, GPU name and CUDA version."""
        ...


PrepareFn = Callable[..., Trainer]


# Hooks of the GPU check (scripts/gpu_check.sh), off unless set. A record made with one names it
# in environment["check_hooks"]; the check keeps such records out of the warehouse.
BALLAST_ENV = "BENCH_CHECK_DEVICE_BALLAST_MIB"
EXTRA_SYNC_ENV = "BENCH_CHECK_EXTRA_SYNC"


@dataclass(frozen=True)
class CheckHooks:
    """What the GPU check asks of one case (read from the environment here only).

    ballast_mib: hold a tensor of that many MiB on the device while training, so
    peak_device_bytes must grow by as much. extra_sync: wait for the whole device at the start
    and the end of every epoch, apart from the trainer's own wait, so epoch times must not change.
    """

    ballast_mib: int = 0
    extra_sync: bool = False

    @classmethod
    def from_env(cls) -> CheckHooks:
        return cls(
            ballast_mib=int(os.environ.get(BALLAST_ENV) or 0),
            extra_sync=os.environ.get(EXTRA_SYNC_ENV) == "1",
        )

    def active(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value}
