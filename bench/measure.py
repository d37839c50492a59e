"""Clocks, peak memory and the environment a result was measured in."""

from __future__ import annotations

import os
import platform
import resource
import socket
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import bench

MIB = 2**20  # memory is measured in bytes and shown in MiB

# Variables that pin native thread pools; set before a framework is imported.
THREAD_ENV_VARS: tuple[str, ...] = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


def thread_env(threads: int) -> dict[str, str]:
    """Environment that pins every native pool to `threads` (interop pools to 1)."""
    env = {name: str(threads) for name in THREAD_ENV_VARS}
    env["TF_NUM_INTEROP_THREADS"] = "1"
    return env


def peak_rss_bytes() -> int:
    """Whole-process peak resident set (VmHWM): sees framework allocations, unlike tracemalloc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


@cache
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@cache
def git_commit() -> str | None:
    """The checkout's commit, when bench runs from a git working tree."""
    root = Path(bench.__file__).resolve().parents[1]
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def base_environment(*, seed: int, threads: dict[str, Any]) -> dict[str, Any]:
    """Framework-independent part of a record's environment; trainers add the rest."""
    import numpy

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "framework": None,
        "framework_version": None,
        "numpy": numpy.__version__,
        "threads": threads,
        "gpu_name": None,
        "cuda_version": None,
        "seed": seed,
        "bench_version": bench.__version__,
        "git_commit": git_commit(),
    }
