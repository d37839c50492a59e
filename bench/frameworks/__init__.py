"""One module per framework; each exposes `prepare(case, split, *, seed, threads) -> Trainer`."""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.frameworks.base import PrepareFn

_MODULES = {
    "torch": "bench.frameworks.torch_trainer",
    "tensorflow": "bench.frameworks.tf_trainer",
    "jax": "bench.frameworks.jax_trainer",
}
# Set before the framework is imported. JAX: one intra-op thread (XLA ignores OMP_NUM_THREADS);
# a CPU case never initializes a GPU backend (which would take most of the GPU's memory).
_ONE_XLA_THREAD = {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}
_IMPORT_ENV: dict[tuple[str, str], dict[str, str]] = {
    ("jax", "cpu"): {"JAX_PLATFORMS": "cpu", **_ONE_XLA_THREAD},
    ("jax", "gpu"): _ONE_XLA_THREAD,
}


def set_import_env(framework: str, device: str = "cpu") -> None:
    """What the framework must see before its import (threads, platforms); unset names only."""
    for name, value in _IMPORT_ENV.get((framework, device), {}).items():
        os.environ.setdefault(name, value)


def trainer_factory(framework: str, device: str = "cpu") -> PrepareFn:
    """The framework's `prepare` function; importing it imports the framework itself."""
    set_import_env(framework, device)
    module = importlib.import_module(_MODULES[framework])
    prepare: PrepareFn = module.prepare
    return prepare
