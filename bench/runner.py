"""Run each case in a fresh process with pinned threads; collect records, even from crashes.

A worker never outlives this process: it dies with it (bench.worker), this process kills the
worker's process group on SIGTERM, Ctrl-C and exit, and a janitor process (bench.janitor)
removes the case's temporary folder even when this one is killed outright.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import FrameType

from bench.conditions import case_cores, format_cores
from bench.config import Case, RunSettings
from bench.measure import thread_env
from bench.records import Record
from bench.repeats import interleaved
from bench.training import EpochCallback
from bench.worker import PROGRESS_PREFIX

STDERR_TAIL_LINES = 40


def new_run_id() -> str:
    return "cli-" + uuid.uuid4().hex[:12]


def worker_env(settings: RunSettings, compile_cache: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(thread_env(settings.threads))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONUNBUFFERED"] = "1"
    if compile_cache:
        env["TORCHINDUCTOR_CACHE_DIR"] = compile_cache
    env.update(settings.extra_env)
    return env


def run_case(
    case: Case,
    settings: RunSettings,
    *,
    run_id: str,
    trigger: str = "cli",
    on_epoch: EpochCallback | None = None,
    repeat: int = 1,
    repeats: int = 1,
) -> Record:
    """Train `case` in a new Python process and return its record (status ok/skipped/failed).

    The process is pinned to the case's cores (bench.conditions.case_cores); CoresError when
    BENCH_CPU_CORES cannot be used here.
    """
    cores = case_cores(case.device, settings.threads)
    # The janitor may remove the folder first: cleanup errors (it is gone) are fine.
    with (
        tempfile.TemporaryDirectory(
            prefix=f"bench-{case.name}-", ignore_cleanup_errors=True
        ) as tmp,
        _janitor(tmp) as janitor,
    ):
        out = Path(tmp) / "record.json"
        # Cold inductor cache unless BENCH_COMPILE_CACHE names a warm one: comparable compile times.
        cache = os.environ.get("BENCH_COMPILE_CACHE") or str(Path(tmp) / "inductor")
        cmd = [
            sys.executable, "-m", "bench.worker",
            "--framework", case.framework, "--mode", case.mode, "--device", case.device,
            "--epochs", str(settings.epochs), "--seed", str(settings.seed),
            "--threads", str(settings.threads), "--run-id", run_id, "--trigger", trigger,
            "--out", str(out), "--cores", format_cores(cores),
            "--repeat", str(repeat), "--repeats", str(repeats), "--parent-pid", str(os.getpid()),
        ]  # fmt: skip
        if settings.data_home:
            cmd += ["--data-home", os.fspath(settings.data_home)]
        returncode, stderr_tail = _run_worker(
            cmd, worker_env(settings, cache), settings.timeout_seconds, on_epoch, janitor
        )
        if out.exists():
            return Record.read(out)
    crashed = _crashed_record(case, settings, run_id, trigger, returncode, stderr_tail)
    crashed.repeat, crashed.repeats = repeat, repeats
    crashed.environment["cores"] = list(cores)
    return crashed


def _run_worker(
    cmd: list[str],
    env: dict[str, str],
    timeout: float,
    on_epoch: EpochCallback | None,
    janitor: Callable[[int | None], None],
) -> tuple[int | None, list[str]]:
    """Stream progress lines from the worker; return (exit code or None on timeout, stderr tail)."""
    with _sigterm_exits():
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        _live.add(proc)
        try:
            janitor(proc.pid)
            return _follow(proc, timeout, on_epoch)
        finally:
            _live.discard(proc)
            if proc.poll() is None:  # an exception on the way out: reap what _follow killed
                _kill(proc)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
            if proc.returncode is not None:
                janitor(None)  # ended and reaped: its group id may be reused, never kill it


def _follow(
    proc: subprocess.Popen[str], timeout: float, on_epoch: EpochCallback | None
) -> tuple[int | None, list[str]]:
    """Read the worker's progress until it ends; kill it on timeout or on any exception."""
    tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    drain = threading.Thread(target=lambda: tail.extend(proc.stderr or ()), daemon=True)
    drain.start()
    timed_out = threading.Event()

    def on_timeout() -> None:
        timed_out.set()
        _kill(proc)

    # A daemon, started inside the try: an interrupt landing anywhere here still cancels it,
    # and it can never hold this process's exit for the case timeout.
    timer = threading.Timer(timeout, on_timeout)
    timer.daemon = True
    try:
        timer.start()
        for line in proc.stdout or ():
            if line.startswith(PROGRESS_PREFIX) and on_epoch is not None:
                event = json.loads(line[len(PROGRESS_PREFIX) :])
                on_epoch(event["epoch"], event["seconds"], event["train_mae"])
        proc.wait()
    except BaseException:
        _kill(proc)
        raise
    finally:
        timer.cancel()
        drain.join(timeout=5)
    return (None if timed_out.is_set() else proc.returncode), [line.rstrip() for line in tail]


def _kill(proc: subprocess.Popen[str]) -> None:
    """Kill the worker and anything it started (compiler subprocesses)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


# Workers running now, killed at exit if an exception path ever missed one.
_live: set[subprocess.Popen[str]] = set()


@atexit.register
def _kill_live() -> None:
    for proc in list(_live):
        _kill(proc)


@contextlib.contextmanager
def _sigterm_exits() -> Iterator[None]:
    """While a worker runs, SIGTERM raises SystemExit(143) in this process, so the worker is
    killed and its folder removed on the way out. A handler someone else installed (Airflow's
    task runner) is left alone; so are threads other than the main one (they cannot)."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def _janitor(folder: str) -> Iterator[Callable[[int | None], None]]:
    """Start bench.janitor for `folder`; yields `watch(group)`: the worker group to kill if this
    process dies, or None once the worker has ended. Closing its pipe lets it clean up."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.janitor", folder], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    pipe = proc.stdin
    proc.stdout.readline()  # "ready": its start-up is over before the worker's starts
    proc.stdout.close()

    def watch(group: int | None) -> None:
        with contextlib.suppress(BrokenPipeError):
            pipe.write(f"{'done' if group is None else group}\n")
            pipe.flush()

    try:
        yield watch
    finally:
        with contextlib.suppress(BrokenPipeError):
            pipe.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


def _crashed_record(
    case: Case,
    settings: RunSettings,
    run_id: str,
    trigger: str,
    returncode: int | None,
    stderr_tail: list[str],
) -> Record:
    if returncode is None:
        why = f"timed out after {settings.timeout_seconds:g} s (BENCH_CASE_TIMEOUT) and was killed"
    elif returncode < 0:
        why = f"worker died from signal {signal.Signals(-returncode).name}"
    else:
        why = f"worker exited with code {returncode} without writing a record"
    last = next((line for line in reversed(stderr_tail) if line.strip()), "")
    reason = f"{why}; last stderr line: {last}" if last else why
    return Record(run_id=run_id, case=case, trigger=trigger, status="failed", reason=reason[:500])


def run_matrix(
    cases: Iterable[Case],
    settings: RunSettings,
    *,
    run_id: str,
    trigger: str = "cli",
    on_case_start: Callable[[Case], EpochCallback | None] | None = None,
    on_case_end: Callable[[Record], None] | None = None,
    repeats: int = 1,
) -> list[Record]:
    """Run cases one after another, each in its own process; a failure never stops the rest.

    With repeats, every case runs `repeats` times in interleaved order (bench.repeats); the
    records come back in run order, one per repeat.
    """
    records = []
    for case, repeat in interleaved(list(cases), repeats):
        on_epoch = on_case_start(case) if on_case_start else None
        record = run_case(
            case,
            settings,
            run_id=run_id,
            trigger=trigger,
            on_epoch=on_epoch,
            repeat=repeat,
            repeats=repeats,
        )
        records.append(record)
        if on_case_end:
            on_case_end(record)
    return records
