"""The conditions a case ran under: the cores it is pinned to, and whether anything else ran there.

A CPU case runs on the cores of BENCH_CPU_CORES (default: the last `threads` cores this process
may use, one per thread); a GPU case (CPU-bound for this small network) runs on the other cores,
so the two never share a core on one host. While the case trains, CpuWatch reads /proc/stat:
the CPU time other processes took on the case's cores, and hypervisor steal. A case measured
under contention is marked noisy with the reason; its result is kept and shown, and detection
leaves it out of baselines.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORES_ENV = "BENCH_CPU_CORES"
# Noisy when others took at least this share of the case's cores (and OTHERS_MIN_SECONDS)...
OTHERS_LIMIT = 0.10
OTHERS_MIN_SECONDS = 0.10
# ... or the hypervisor stole at least this share of them.
STEAL_LIMIT = 0.05


class CoresError(ValueError):
    """BENCH_CPU_CORES cannot be used here."""


def parse_cores(text: str) -> set[int]:
    """'3', '0-3', '1,3' or '0-1,4' as a set of core numbers."""
    cores: set[int] = set()
    try:
        for part in text.replace(" ", "").split(","):
            first, _, last = part.partition("-")
            cores.update(range(int(first), int(last or first) + 1))
    except ValueError:
        raise CoresError(
            f"{CORES_ENV}={text!r} is not a core list; write e.g. 3, 0-3 or 1,3"
        ) from None
    if not cores:
        raise CoresError(f"{CORES_ENV}={text!r} names no core; write e.g. 3, 0-3 or 1,3")
    return cores


def allowed_cores() -> set[int]:
    try:
        return set(os.sched_getaffinity(0))
    except AttributeError:  # not Linux: no affinity, run where the OS puts us
        return set(range(os.cpu_count() or 1))


# The cgroup's cpuset (v2, then v1): a container's cores.
_CPUSETS = ("/sys/fs/cgroup/cpuset.cpus.effective", "/sys/fs/cgroup/cpuset/cpuset.effective_cpus")


def pinnable_cores() -> set[int]:
    """The cores a worker may pin to: the online cores within the cgroup's cpuset. Wider than
    a mask inherited from a parent pinned elsewhere (Airflow on the service cores)."""
    cores = _read_cores("/sys/devices/system/cpu/online") or allowed_cores()
    for cpuset in _CPUSETS:
        cores &= _read_cores(cpuset) or cores
    return cores


def cpu_case_cores(threads: int) -> tuple[int, ...]:
    """The cores CPU cases run on: BENCH_CPU_CORES (any pinnable cores), else the last
    `threads` cores of this process's own mask (so `taskset ... bench run` stays inside it)."""
    text = os.environ.get(CORES_ENV, "").strip()
    if text:
        cores = parse_cores(text)
        usable = pinnable_cores()
        if not cores <= usable:
            raise CoresError(
                f"{CORES_ENV}={text} names core(s) {_format(cores - usable)} this process may "
                f"not use (allowed: {_format(usable)}); pick cores from that list"
            )
        return tuple(sorted(cores))
    return tuple(sorted(allowed_cores())[-threads:])


def case_cores(device: str, threads: int) -> tuple[int, ...]:
    """Where a case of `device` runs: CPU cases on their cores, GPU cases on the others."""
    cpu_cores = cpu_case_cores(threads)
    if device == "cpu":
        return cpu_cores
    rest = sorted(allowed_cores() - set(cpu_cores))
    return tuple(rest) if rest else cpu_cores  # a one-core host: nothing to keep apart


def service_cores(threads: int = 1) -> tuple[int, ...]:
    """Cores for everything that is not a CPU case (schedulers, light tasks, GPU cases)."""
    return case_cores("gpu", threads)


def pin(cores: tuple[int, ...]) -> None:
    """Pin this process (and what it starts) to `cores`, where the OS supports it."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cores)


def format_cores(cores: tuple[int, ...] | list[int]) -> str:
    """'0,2,3': the form parse_cores, taskset -c and compose's cpuset read."""
    return _format(set(cores))


@dataclass
class CpuWatch:
    """Other processes' CPU time and steal on `cores` between start() and stop().

    `subtract_own=False` counts this session's processes too: how busy cores were that the
    session's work did not run on."""

    cores: tuple[int, ...]
    subtract_own: bool = True
    _start: dict[str, Any] = field(default_factory=dict)

    def start(self) -> None:
        self._start = _snapshot(self.cores)

    def stop(self) -> tuple[dict[str, Any], str | None]:
        """(conditions, noisy reason or None)."""
        end = _snapshot(self.cores)
        conditions: dict[str, Any] = {
            "cores": list(self.cores),
            "load_before": self._start.get("load"),
            "load_after": end.get("load"),
            "governor": governor(self.cores),
        }
        if self._start.get("busy") is None or end.get("busy") is None:
            conditions["cpu_watch"] = "unavailable: /proc/stat could not be read"
            return conditions, None
        wall = end["wall"] - self._start["wall"]
        capacity = wall * len(self.cores)
        own = end["own"] - self._start["own"] if self.subtract_own else 0.0
        others = max(0.0, end["busy"] - self._start["busy"] - own)
        steal = max(0.0, end["steal"] - self._start["steal"])
        conditions.update(
            window_seconds=round(wall, 3),
            own_cpu_seconds=round(own, 3),
            others_cpu_seconds=round(others, 3),
            others_share=round(others / capacity, 4) if capacity else None,
            steal_share=round(steal / capacity, 4) if capacity else None,
        )
        return conditions, noisy_reason(conditions)


def noisy_reason(conditions: dict[str, Any]) -> str | None:
    """Why these conditions disturbed the measurement, or None."""
    where = f"core(s) {format_cores(conditions.get('cores') or [])}"
    others, share = conditions.get("others_cpu_seconds"), conditions.get("others_share")
    reasons = []
    if share is not None and share >= OTHERS_LIMIT and (others or 0) >= OTHERS_MIN_SECONDS:
        reasons.append(f"other processes used {100 * share:.0f}% of {where} ({others:.2f} s)")
    steal = conditions.get("steal_share")
    if steal is not None and steal >= STEAL_LIMIT:
        reasons.append(f"the hypervisor stole {100 * steal:.0f}% of {where}")
    return "; ".join(reasons) or None


def governor(cores: tuple[int, ...]) -> str | None:
    """The cpufreq governor of the cores (e.g. performance), where the kernel exposes it."""
    found = set()
    for core in cores:
        path = Path(f"/sys/devices/system/cpu/cpu{core}/cpufreq/scaling_governor")
        try:
            found.add(path.read_text().strip())
        except OSError:
            return None
    return ",".join(sorted(found)) or None


def _snapshot(cores: tuple[int, ...]) -> dict[str, Any]:
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    snap: dict[str, Any] = {"wall": time.monotonic(), "own": _session_cpu_seconds(tick)}
    try:
        snap["load"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        snap["load"] = None
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return snap
    busy = steal = 0
    wanted = {f"cpu{core}" for core in cores}
    for line in lines:
        name, *fields = line.split()
        if name in wanted:
            # user nice system idle iowait irq softirq steal ...: busy excludes idle and iowait
            values = [int(x) for x in fields[:8]] + [0] * (8 - len(fields[:8]))
            busy += values[0] + values[1] + values[2] + values[5] + values[6]
            steal += values[7]
    snap["busy"], snap["steal"] = busy / tick, steal / tick
    return snap


def _session_cpu_seconds(tick: int) -> float:
    """CPU time of this process's session (the case's worker and everything it started)."""
    times = os.times()
    own = times.user + times.system + times.children_user + times.children_system
    try:
        session = os.getsid(0)
        me = os.getpid()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == me:
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            # fields[3] is the session id; [11], [12] utime, stime; [13], [14] reaped children
            if int(fields[3]) == session:
                own += sum(int(x) for x in fields[11:15]) / tick
    except (OSError, AttributeError, ValueError, IndexError):
        pass
    return own


def _read_cores(path: str) -> set[int]:
    try:
        return parse_cores(Path(path).read_text())
    except (OSError, CoresError):
        return set()


def _format(cores: set[int]) -> str:
    return ",".join(str(c) for c in sorted(cores)) or "none"
