"""One module per framework; each exposes `prepare(case, split, *, seed, threads) -> Trainer`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.frameworks.base import PrepareFn

_MODULES = {"torch": "bench.frameworks.torch_trainer", "tensorflow": "bench.frameworks.tf_trainer"}


def trainer_factory(framework: str) -> PrepareFn:
    """The framework's `prepare` function; importing it imports the framework itself."""
    module = importlib.import_module(_MODULES[framework])
    prepare: PrepareFn = module.prepare
    return prepare
