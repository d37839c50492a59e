"""Which devices this host can benchmark on, found cheaply: DAG files call it while parsing, so
it imports no framework (torch alone takes seconds) and runs no program when the driver's files
answer.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from bench.config import DEVICES

AUTO = "auto"
# One folder per GPU the NVIDIA driver has found (also inside containers given a GPU).
NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")
NVIDIA_SMI_TIMEOUT_S = 5


def resolve_devices(setting: str) -> list[str]:
    """A devices setting (`[bench] devices`) as a list: comma-separated names of DEVICES, or
    `auto`: cpu, plus gpu when this host has one (has_gpu). ValueError names the choices."""
    if setting.strip() == AUTO:
        return ["cpu", "gpu"] if has_gpu() else ["cpu"]
    devices = [name.strip() for name in setting.split(",") if name.strip()]
    unknown = [name for name in devices if name not in DEVICES]
    if unknown or not devices:
        raise ValueError(
            f"devices {setting!r}: use {AUTO} or a comma-separated list of {', '.join(DEVICES)}"
        )
    return devices


@functools.cache
def has_gpu() -> bool:
    """Whether an NVIDIA GPU is visible here: the driver lists one, or `nvidia-smi -L` does
    (where /proc has no driver folder, e.g. WSL). CUDA_VISIBLE_DEVICES set to nothing or -1
    hides them, as it does from the frameworks."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", "0").strip() in ("", "-1"):
        return False
    try:
        if any(NVIDIA_GPUS.iterdir()):
            return True
    except OSError:
        pass
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        listed = subprocess.run(
            [smi, "-L"], capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return listed.returncode == 0 and "GPU" in listed.stdout
