"""Python's garbage collector during the timed epochs: settled after warm-up, and watched.

A full (generation-2) collection scans every tracked object of the process. With TensorFlow
loaded that took 0.19 s, once about every dozen epochs, inside whichever epoch tripped the
allocation counter (BENCHMARKS.md): a cost of what the process holds, not of the framework's
step. So after the warm-up epoch the heap is collected once and its survivors frozen
(`gc.freeze`: later collections skip them), outside the epoch clock. The collector stays on;
every collection that still runs from then on (epochs and evaluations) is counted and
timed (GcWatch).
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from typing import Any


def settle_heap() -> dict[str, Any]:
    """Collect everything, then freeze the survivors; returns what it did, for the record."""
    start = time.perf_counter()
    gc.collect()
    gc.freeze()
    return {
        "frozen_objects": gc.get_freeze_count(),
        "settle_seconds": round(time.perf_counter() - start, 4),
    }


@dataclass
class GcWatch:
    """Counts and times the collections between start() and stop() (gc.callbacks)."""

    collections: list[int] = field(default_factory=lambda: [0, 0, 0])
    pauses: list[float] = field(default_factory=list)
    _began: float | None = None

    def start(self) -> None:
        gc.callbacks.append(self._callback)

    def stop(self) -> dict[str, Any]:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)
        return {
            "collections": list(self.collections),
            "pause_seconds": round(sum(self.pauses), 6),
            "max_pause_seconds": round(max(self.pauses, default=0.0), 6),
        }

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        elif self._began is not None:
            self.pauses.append(time.perf_counter() - self._began)
            self.collections[info["generation"]] += 1
            self._began = None
