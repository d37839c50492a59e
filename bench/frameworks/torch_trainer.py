"""PyTorch trainer: eager, the model under torch.compile with one of its modes, the whole epoch
compiled as one program (bench.frameworks.torch_epoch), or the DataLoader loop people write."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from bench.config import CUDA_GRAPH_MODES, WORKLOAD, Case
from bench.data.loading import Split
from bench.frameworks import torch_epoch
from bench.frameworks.base import CaseSkipped, CheckHooks
from bench.measure import MIB

COMPILE_MODES = {
    "compile": "default",
    "compile-reduce-overhead": "reduce-overhead",
    "compile-max-autotune": "max-autotune",
}
EPOCH_MODE = "compile-epoch"
DATALOADER_MODE = "dataloader"


class EpochOrder(torch.utils.data.Sampler[int]):
    """The epoch's shared row order, for the DataLoader (set before each epoch)."""

    def __init__(self) -> None:
        self.order: list[int] = []

    def __iter__(self) -> Iterator[int]:
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)


def _check_backend(case: Case) -> torch.device:
    if case.device == "gpu":
        if not torch.cuda.is_available():
            build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "CPU-only build"
            raise CaseSkipped(f"no CUDA GPU visible to torch {torch.__version__} ({build})")
        device = torch.device("cuda")
    else:
        device = torch.device("cpu")
    if case.mode in COMPILE_MODES or case.mode == EPOCH_MODE:
        if case.device == "gpu":
            from torch.utils._triton import has_triton

            if not has_triton():
                raise CaseSkipped("torch.compile on GPU needs triton, which is not installed")
        elif not _cxx_compiler():
            raise CaseSkipped("torch.compile on CPU needs a C++ compiler (set CXX or install g++)")
    return device


def _cxx_compiler() -> str | None:
    for name in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        if name and shutil.which(name):
            return name
    return None


class TorchTrainer:
    def __init__(self, case: Case, split: Split, *, seed: int, threads: int) -> None:
        torch.set_num_threads(threads)
        # Raises once parallel work has started in this process; the value is then fixed.
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(1)
        self.case = case
        self.device = _check_backend(case)
        torch.manual_seed(seed)
        self.model = nn.Sequential(
            nn.Linear(split.x_train.shape[1], WORKLOAD.hidden),
            nn.ReLU(),
            nn.Linear(WORKLOAD.hidden, 1),
        ).to(self.device)
        # Fused Adam: one kernel for all parameters; same update rule as the default, which the
        # DataLoader loop keeps (what people write).
        fused = None if case.mode == DATALOADER_MODE else True
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=WORKLOAD.learning_rate, fused=fused
        )
        self.forward = (
            torch.compile(self.model, mode=COMPILE_MODES[case.mode])
            if case.mode in COMPILE_MODES
            else self.model
        )
        self.cuda_graphs = self.device.type == "cuda" and case.mode in CUDA_GRAPH_MODES
        self.loss_fn = nn.L1Loss()
        self.x_train = torch.from_numpy(split.x_train).to(self.device)
        self.y_train = torch.from_numpy(split.y_train).to(self.device)
        self.x_test = torch.from_numpy(split.x_test).to(self.device)
        self.y_test = torch.from_numpy(split.y_test).to(self.device)
        if case.mode == EPOCH_MODE:
            if len(split.x_train) % WORKLOAD.batch_size:
                raise ValueError("compile-epoch needs whole batches: the split has a remainder")
            self.state = torch_epoch.initial_state(self.model)
            self.epoch = torch.compile(torch_epoch.train_epoch, fullgraph=True)
        if case.mode == DATALOADER_MODE:
            self.sampler = EpochOrder()
            self.loader = torch.utils.data.DataLoader(
                torch.utils.data.TensorDataset(
                    torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)
                ),
                batch_size=WORKLOAD.batch_size,
                sampler=self.sampler,
            )
        self.hooks = CheckHooks.from_env()
        # Allocated, never written: it counts in max_memory_allocated without queuing a kernel.
        self.ballast = (
            torch.empty(self.hooks.ballast_mib * MIB, dtype=torch.uint8, device=self.device)
            if self.hooks.ballast_mib
            else None
        )

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def train_epoch(self, order: np.ndarray) -> float:
        if self.hooks.extra_sync:
            self._sync()
        self.model.train()
        if self.case.mode == EPOCH_MODE:
            index = torch.from_numpy(order).to(self.device)
            self.state, loss = self.epoch(self.state, self.x_train, self.y_train, index)
            return self._finish_epoch(loss)
        if self.case.mode == DATALOADER_MODE:
            return self._loader_epoch(order)
        index = torch.from_numpy(order).to(self.device)
        # One gather per epoch; batches are views, so no per-step host work or copies.
        xs = self.x_train.index_select(0, index).split(WORKLOAD.batch_size)
        ys = self.y_train.index_select(0, index).split(WORKLOAD.batch_size)
        losses = []
        for xb, yb in zip(xs, ys, strict=True):
            if self.cuda_graphs:
                # Each step is a new CUDA-graph generation: earlier outputs may be overwritten.
                torch.compiler.cudagraph_mark_step_begin()
            loss = self.loss_fn(self.forward(xb), yb)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            losses.append(loss.detach())
        return self._finish_epoch(torch.stack(losses).mean())

    def _loader_epoch(self, order: np.ndarray) -> float:
        """The loop in PyTorch's tutorials: batches from a DataLoader, copied to the device."""
        self.sampler.order = order.tolist()
        losses = []
        for xb, yb in self.loader:
            xb, yb = xb.to(self.device), yb.to(self.device)
            loss = self.loss_fn(self.model(xb), yb)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(loss.detach())
        return self._finish_epoch(torch.stack(losses).mean())

    def _finish_epoch(self, mean_loss: torch.Tensor) -> float:
        mean = mean_loss.item()  # .item() waits for the device
        self._sync()
        if self.hooks.extra_sync:
            self._sync()  # a second wait at the clock read: epoch times must not change
        return float(mean)

    @torch.no_grad()
    def evaluate(self) -> tuple[float, float]:
        # The eager module shares the compiled one's weights; no recompile for the test shape.
        if self.case.mode == EPOCH_MODE:
            torch_epoch.load_weights(self.model, self.state)
        self.model.eval()
        err = self.model(self.x_test) - self.y_test
        return float((err * err).mean().item()), float(err.abs().mean().item())

    def peak_device_bytes(self) -> int | None:
        return int(torch.cuda.max_memory_allocated()) if self.device.type == "cuda" else None

    def environment(self) -> dict[str, Any]:
        env: dict[str, Any] = {
            "framework": "torch",
            "framework_version": torch.__version__,
            "threads": {
                "intra_op": torch.get_num_threads(),
                "inter_op": torch.get_num_interop_threads(),
                "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            },
        }
        if self.case.mode in COMPILE_MODES or self.case.mode == EPOCH_MODE:
            env["compile_mode"] = COMPILE_MODES.get(self.case.mode, "default")
            env["compile_cache"] = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
            # Graphs dynamo compiled: more than one means a recompile (e.g. a new batch shape).
            env["compiled_graphs"] = torch._dynamo.utils.counters["stats"]["unique_graphs"]
        if self.cuda_graphs:
            # Compiled graphs that fell back to running without CUDA graphs (0: all replayed).
            env["cudagraph_skips"] = torch._dynamo.utils.counters["inductor"]["cudagraph_skips"]
        if self.hooks.active():
            env["check_hooks"] = self.hooks.active()
        if self.device.type == "cuda":
            env["gpu_name"] = torch.cuda.get_device_name(0)
            env["cuda_version"] = torch.version.cuda
        return env


def prepare(case: Case, split: Split, *, seed: int, threads: int) -> TorchTrainer:
    return TorchTrainer(case, split, seed=seed, threads=threads)
