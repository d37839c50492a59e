"""Issue 13: `make test` stands alone: scripts/services.sh starts a stopped PostgreSQL or Redis
on this machine, or says in one line what to start. The machine's own services stay up: the
stopped ones here are closed ports, and the start commands are stubs that record their calls.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "services.sh"
STARTERS = ("pg_ctlcluster", "redis-server")
# A stand-in for `redis-server --daemonize yes --port N`: answers PING on N once, in the
# background, then exits (within 20 s if nobody asks).
FAKE_REDIS = """#!{python}
import os, socket, subprocess, sys
port = int(sys.argv[sys.argv.index("--port") + 1])
server = '''
import socket, sys
s = socket.create_server(("127.0.0.1", int(sys.argv[1])))
s.settimeout(20)
conn, _ = s.accept()
conn.recv(64)
conn.sendall(b"+PONG\\\\r\\\\n")
'''
subprocess.Popen([sys.executable, "-c", server, str(port)], start_new_session=True)
"""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    """A folder of start commands that only record their arguments in calls.log."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in STARTERS:
        write_executable(folder / name, f'#!/bin/sh\necho "{name} $*" >> "{tmp_path}/calls.log"\n')
    return folder


def write_executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def services(stubs: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", **env}
    environ.setdefault("BENCH_SERVICES_WAIT_S", "1")
    return subprocess.run(["bash", str(SCRIPT)], env=environ, capture_output=True, text=True)


def calls(stubs: Path) -> list[str]:
    log = stubs.parent / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_running_services_pass_quietly_and_nothing_is_started(stubs: Path) -> None:
    # The suite's own PostgreSQL and Redis (the postgres and celery tests fail without them).
    done = services(stubs)
    assert done.returncode == 0, done.stderr
    assert done.stdout == done.stderr == "" and calls(stubs) == []


def test_services_that_stay_down_are_named_in_one_line(stubs: Path) -> None:
    pg, redis = closed_port(), closed_port()
    done = services(
        stubs,
        BENCH_TEST_PG_URL=f"postgresql+psycopg://postgres:pw@127.0.0.1:{pg}/postgres",
        BENCH_TEST_REDIS_URL=f"redis://localhost:{redis}/0",
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (
        f"start PostgreSQL at 127.0.0.1:{pg} and Redis at localhost:{redis} before the tests "
        "(down, and starting here failed), or point BENCH_TEST_PG_URL / BENCH_TEST_REDIS_URL "
        "at a running server\n"
    )
    started = calls(stubs)
    assert f"redis-server --daemonize yes --bind 127.0.0.1 -::1 --port {redis}" in started[-1]
    if Path("/etc/postgresql").is_dir():  # Debian's clusters: each is started
        assert started[0].startswith("pg_ctlcluster --skip-systemctl-redirect ")


def test_a_service_on_another_host_is_named_not_started(stubs: Path) -> None:
    done = services(stubs, BENCH_TEST_REDIS_URL="redis://:secret@192.0.2.1:6390/0")
    assert done.returncode == 1
    assert done.stderr.startswith("start Redis at 192.0.2.1:6390 before the tests")
    assert "secret" not in done.stderr and calls(stubs) == []


def test_a_stopped_local_service_is_started_and_waited_for(stubs: Path) -> None:
    write_executable(stubs / "redis-server", FAKE_REDIS.format(python=sys.executable))
    port = closed_port()
    done = services(
        stubs, BENCH_TEST_REDIS_URL=f"redis://127.0.0.1:{port}/0", BENCH_SERVICES_WAIT_S="20"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"started redis on 127.0.0.1:{port}\n"


def test_make_test_brings_up_the_services_itself() -> None:
    test_sh = (REPO / "scripts" / "test.sh").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "bash scripts/services.sh" in test_sh
    assert test_sh.index("scripts/services.sh") < test_sh.index("pytest")
    assert "make test" in ci and "pg_ctlcluster" not in ci and "redis-server" not in ci
