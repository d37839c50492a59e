"""What the training loop needs from a framework, and how a case declines to run."""

from __future__ import annotations

from collections.abc import Callable
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
