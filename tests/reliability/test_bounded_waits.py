"""Issue 13: a webhook that trickles, answers garbage or is no http(s) URL at all can neither hold
up the run's last task nor change its verdict (real sockets on localhost)."""

from __future__ import annotations

import logging
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench import pipeline
from bench.analysis import DETECTOR_VERSION, DetectionResult, alert
from bench.config import Case
from bench.records import Flag
from bench.warehouse import ensure_run, store_record
from bench.warehouse.engine import reset_engines
from tests.builders import T0, make_record

DEADLINE = 2.0
MARGIN = 2.0  # thread start, join and logging on a busy 2-core machine
TRICKLE_SECONDS = 60
LOGGER = "bench.analysis.alerting"
RED = DetectionResult(
    "r9", "scheduled",
    [Flag(run_id="r9", case=Case("torch", "eager", "cpu"), metric="status", label="failed",
          detector_version=DETECTOR_VERSION)],
)  # fmt: skip

Reply = Callable[[socket.socket, threading.Event], None]


def trickle(sock: socket.socket, stop: threading.Event) -> None:
    """A valid HTTP reply, one byte a second for a minute: each read is quick, the whole is not."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: "
    reply = head + b"." * (TRICKLE_SECONDS - len(head) - 4) + b"\r\n\r\n"
    for byte in reply:
        if stop.wait(1.0):
            return
        sock.sendall(bytes([byte]))


def garbage(sock: socket.socket, stop: threading.Event) -> None:
    sock.sendall(b"\x16\x03\x01\x00 this is not HTTP\r\n\r\n")


def hang_up(sock: socket.socket, stop: threading.Event) -> None:
    """Close without a word."""


def _read_request(sock: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n")
         if line.lower().startswith(b"content-length:")), 0,
    )  # fmt: skip
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return
        body += chunk


@pytest.fixture
def webhook(request: pytest.FixtureRequest) -> Iterator[str]:
    """A raw TCP server on localhost that reads the POST, then replies with request.param."""
    reply: Reply = request.param
    stop = threading.Event()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            _read_request(self.request)
            reply(self.request, stop)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads, server.block_on_close = True, False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/secret-token"
    stop.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= 40]


@pytest.mark.parametrize("webhook", [trickle], indirect=True)
def test_a_trickling_webhook_is_given_up_at_the_deadline(
    webhook: str, caplog: pytest.LogCaptureFixture
) -> None:
    start = time.monotonic()
    assert alert(RED, webhook=webhook, deadline=DEADLINE) is False
    assert time.monotonic() - start < DEADLINE + MARGIN
    [error] = _errors(caplog)
    assert "\n" not in error and f"within {DEADLINE:g} s" in error
    assert "secret-token" not in error


@pytest.mark.parametrize("webhook", [garbage, hang_up], indirect=True)
def test_a_reply_that_is_not_http_is_one_logged_line(
    webhook: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("BENCH_ALERT_DEADLINE", str(DEADLINE))
    assert alert(RED, webhook=webhook) is False
    [error] = _errors(caplog)
    assert "\n" not in error and "verdict stands" in error
    assert "secret-token" not in error


# Audit events seen while `_watching` holds a path: opening it, or any urllib request at all.
_seen: list[str] = []
_watching: list[str] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _watching and (
        event == "urllib.Request" or (event == "open" and str(args[0]) == _watching[0])
    ):
        _seen.append(event)


sys.addaudithook(_audit)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "file://{path}", "ftp://127.0.0.1/x"])
def test_a_webhook_that_is_not_http_is_refused_without_a_request(
    url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for webhooks\n")
    url = url.format(path=secret)
    _seen.clear()
    _watching[:] = [urllib.parse.urlsplit(url).path]
    try:
        assert alert(RED, webhook=url) is False
    finally:
        _watching.clear()
    assert _seen == [], "no request is made and no file is opened"
    [error] = _errors(caplog)
    assert "\n" not in error and "http(s)" in error and "BENCH_ALERT_WEBHOOK" in error


@pytest.fixture
def red_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A SQLite warehouse holding one manual run whose only case failed: a red verdict."""
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BENCH_ALERT_WEBHOOK", raising=False)
    ensure_run("night-00", trigger="manual", started_at=T0, url=url)
    store_record(make_record("night-00", status="failed", reason="boom", trigger="manual"), url=url)
    yield url
    reset_engines()


def _judge(url: str) -> tuple[str, float]:
    """The message of the RunFailed the DAG's last task raises, and how long judging took."""
    start = time.monotonic()
    with pytest.raises(pipeline.RunFailed) as info:
        pipeline.judge_run(
            "night-00", trigger="manual", frameworks=["torch"], modes=["eager"],
            devices=["cpu"], url=url,
        )  # fmt: skip
    return str(info.value), time.monotonic() - start


@pytest.mark.parametrize("webhook", [trickle, garbage, hang_up], indirect=True)
def test_the_last_task_keeps_its_verdict_and_its_time_whatever_the_webhook_does(
    red_run: str, webhook: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    verdict, alone = _judge(red_run)
    monkeypatch.setenv("BENCH_ALERT_WEBHOOK", webhook)
    monkeypatch.setenv("BENCH_ALERT_DEADLINE", str(DEADLINE))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        with_webhook, seconds = _judge(red_run)
    assert with_webhook == verdict
    assert seconds < alone + DEADLINE + MARGIN + 3, "the webhook held up the last task"
    [error] = _errors(caplog)
    assert "\n" not in error


@pytest.mark.parametrize("url", ["file:///etc/passwd", "not a url"])
def test_the_last_task_keeps_its_verdict_with_a_webhook_that_is_not_http(
    red_run: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    verdict, _ = _judge(red_run)
    monkeypatch.setenv("BENCH_ALERT_WEBHOOK", url)
    assert _judge(red_run)[0] == verdict
