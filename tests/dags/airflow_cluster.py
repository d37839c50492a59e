"""A distributed Airflow on this host for the tests: every component a subprocess of the test.

Each component runs in its own process group with its log in a file; `stop()` ends every group
(SIGTERM, then SIGKILL) so nothing outlives the test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
STOP_GRACE_SECONDS = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Component:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Cluster:
    """Components started with `start`, sharing one environment; `api` talks to the api-server."""

    env: dict[str, str]
    log_dir: Path
    api_port: int
    components: list[Component] = field(default_factory=list)
    worker_names: dict[str, str] = field(default_factory=dict)  # queue -> Celery hostname

    def start(self, name: str, args: list[str], **extra_env: str) -> Component:
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["airflow", *args], env={**self.env, **extra_env}, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        component = Component(name, process, log)
        self.components.append(component)
        return component

    def check_alive(self) -> None:
        for component in self.components:
            if component.process.poll() is not None:
                raise RuntimeError(
                    f"{component.name} exited with {component.process.returncode}:\n"
                    f"{component.tail()}"
                )

    def logs(self, lines: int = 25) -> str:
        return "\n".join(
            f"--- {c.name} (last {lines} lines of {c.log}) ---\n{c.tail(lines)}"
            for c in self.components
        )

    def wait_for(
        self, what: str, probe: Callable[[], T | None], *, timeout: float, every: float = 2.0
    ) -> T:
        """Poll `probe` until it returns a value other than None; fail with the logs."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                value = probe()
            except (httpx.HTTPError, OSError) as exc:
                value, last_error = None, exc
            if value is not None:
                return value
            time.sleep(every)
        raise TimeoutError(
            f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error})\n"
            f"{self.logs()}"
        )

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"http://127.0.0.1:{self.api_port}/api/v2{path}"
        response = httpx.request(method, url, timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        """End every component's process group: SIGTERM, then SIGKILL after a grace period."""
        for component in self.components:
            _signal_group(component.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for component in self.components:
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for component in self.components:
            _signal_group(component.process, signal.SIGKILL)  # stragglers and grandchildren
            component.process.wait()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
