"""Issue 13: killing `bench run` takes its worker with it at once and leaves no temporary
folder, however it is killed (real processes; Linux: the worker's parent-death signal)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench import runner

pytestmark = pytest.mark.integration

GONE_WITHIN = 1.5  # seconds: the kernel's SIGKILL is immediate; the margin is for a busy machine
CLEAN_WITHIN = 5.0  # the janitor's start-up on a busy machine


def processes(match: Callable[[list[str]], bool]) -> list[int]:
    """Pids of running (not zombie) processes whose argv matches."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode().split("\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X") and match(argv):
            found.append(int(entry.name))
    return found


def running(pid: int) -> bool:
    return pid in processes(lambda argv: True)


def wait_for(condition: Callable[[], object], seconds: float) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return condition()


def workers_of(parent: int) -> list[int]:
    def match(argv: list[str]) -> bool:
        if "bench.worker" not in argv or "--parent-pid" not in argv:
            return False
        return argv[argv.index("--parent-pid") + 1] == str(parent)

    return processes(match)


def janitors_of(folder: Path) -> list[int]:
    return processes(lambda argv: "bench.janitor" in argv and argv[-2].startswith(str(folder)))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: /proc and prctl")
@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGKILL, signal.SIGINT], ids=lambda s: s.name
)
def test_killing_bench_run_kills_its_worker_and_leaves_no_temp_folder(
    signum: signal.Signals, tmp_path: Path, data_home: Path
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(temp),
        "BENCH_HOME": str(tmp_path / "home"),
        "BENCH_DATA_HOME": str(data_home),
        "PYTHONFAULTHANDLER": "1",  # SIGABRT dumps every thread's stack: why it hangs, if it does
    }
    parent = subprocess.Popen(
        [sys.executable, "-m", "bench", "run", "--framework", "torch", "--mode", "eager",
         "--epochs", "500", "--quiet", "--no-store"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        found = wait_for(lambda: workers_of(parent.pid), 120)
        assert found, f"no worker started: {parent.poll()=}"
        [worker] = found  # type: ignore[misc]
        assert any(temp.iterdir()), "the worker's temporary folder exists while it trains"
        time.sleep(1.0)  # into training
        parent.send_signal(signum)
        try:
            parent.wait(timeout=30)
        except subprocess.TimeoutExpired:
            parent.send_signal(signal.SIGABRT)
            _, stderr = parent.communicate(timeout=30)
            pytest.fail(f"bench run outlived {signum.name} by 30 s; its threads:\n{stderr}")
        assert wait_for(lambda: not running(worker), GONE_WITHIN), "the worker outlived bench"
        assert wait_for(lambda: not any(temp.iterdir()), CLEAN_WITHIN), list(temp.iterdir())
        assert wait_for(lambda: not janitors_of(temp), CLEAN_WITHIN), "the janitor lingers"
        assert "Traceback" not in (parent.stderr.read() if parent.stderr else "")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in workers_of(parent.pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: getppid semantics")
def test_a_worker_whose_parent_is_already_gone_does_not_train(tmp_path: Path) -> None:
    out = tmp_path / "record.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.worker", "--framework", "torch", "--mode", "eager",
         "--device", "cpu", "--epochs", "1", "--seed", "42", "--threads", "1", "--run-id", "r",
         "--trigger", "cli", "--out", str(out), "--parent-pid", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1 and "gone" in result.stderr
    assert not out.exists()


def test_an_interrupt_as_the_case_timer_starts_leaves_nothing_to_hold_the_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The case timer is a thread waiting out BENCH_CASE_TIMEOUT (an hour): an interrupt that
    lands as it starts must still cancel it and kill the worker, or the process exits only when
    the timer fires (the suspect of a CI run whose `bench run` outlived SIGINT by 30 s)."""
    started: list[threading.Timer] = []
    real_start = threading.Timer.start

    def start_then_interrupt(self: threading.Timer) -> None:
        real_start(self)
        started.append(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Timer, "start", start_then_interrupt)
    worker = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        with pytest.raises(KeyboardInterrupt):
            runner._follow(worker, 3600.0, None)
        [timer] = started
        assert timer.daemon, "a timer that is not a daemon holds the interpreter's exit"
        timer.join(timeout=5)
        assert not timer.is_alive(), "the interrupt left the case timer running"
        assert worker.wait(timeout=10) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
