"""The alert hook against a real HTTP server on localhost, and when the webhook is down."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from bench.analysis import DETECTOR_VERSION, DetectionResult, alert
from bench.config import Case
from bench.records import Flag

REGRESSION = Flag(
    run_id="r9", case=Case("torch", "compile", "cpu"), metric="steady_epoch_seconds",
    label="regression", detector_version=DETECTOR_VERSION, environment_fingerprint="fp",
    baseline_value=0.5, value=0.6, change_pct=20.0, z_score=8.1, change_point_run_id="r8",
)  # fmt: skip
CRASHED = [
    Flag(run_id="r9", case=Case("torch", mode, "cpu"), metric="status", label="failed",
         detector_version=DETECTOR_VERSION)
    for mode in ("eager", "compile")
]  # fmt: skip


class Recorder(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        length = int(self.headers["Content-Length"])
        Recorder.received.append(
            {"body": json.loads(self.rfile.read(length)), "type": self.headers["Content-Type"]}
        )
        self.send_response(Recorder.status)
        if 300 <= Recorder.status < 400:
            self.send_header("Location", "/elsewhere")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.received, Recorder.status = [], 200
    httpd = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/hooks/secret-token"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_regression_is_logged_and_posted(
    server: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("BENCH_ALERT_WEBHOOK", server)
    result = DetectionResult("r9", "scheduled", [REGRESSION], series_judged=12)
    with caplog.at_level(logging.INFO, logger="bench.analysis.alerting"):
        assert alert(result) is True
    [post] = Recorder.received
    assert post["type"] == "application/json"
    assert post["body"]["red"] is True and post["body"]["run_id"] == "r9"
    assert post["body"]["flags"][0]["change_point_run_id"] == "r8"
    assert "regression torch-compile-cpu steady_epoch_seconds" in caplog.text
    assert "secret-token" not in caplog.text  # the webhook's path is not logged


def test_a_run_whose_cases_all_crashed_is_alerted(server: str) -> None:
    result = DetectionResult("r9", "scheduled", CRASHED, series_judged=0)
    assert result.verdict.red
    assert alert(result, webhook=server) is True
    [post] = Recorder.received
    assert post["body"]["red"] is True
    assert "failed torch-eager-cpu status" in post["body"]["summary"]


def test_quiet_runs_are_logged_not_posted(server: str, caplog: pytest.LogCaptureFixture) -> None:
    quiet = DetectionResult("r9", "scheduled", [], series_judged=12)
    with caplog.at_level(logging.INFO, logger="bench.analysis.alerting"):
        assert alert(quiet, webhook=server) is False
    assert Recorder.received == [] and "no flags" in caplog.text
    assert alert(quiet, webhook=server, only_red=False) is True
    assert Recorder.received[0]["body"]["red"] is False


def test_an_unreachable_or_failing_webhook_is_logged_not_raised(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    result = DetectionResult("r9", "scheduled", [REGRESSION])
    Recorder.status = 500
    assert alert(result, webhook=server) is False
    assert alert(result, webhook="http://127.0.0.1:1/x", timeout=2) is False
    assert alert(result, webhook="not a url") is False
    assert alert(result, webhook="http://[::1/unclosed") is False
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 4 and all("verdict stands" in e and "\n" not in e for e in errors)
    assert "answered HTTP 500" in errors[0] and "ConnectionRefusedError" in errors[1]
    assert "http(s)" in errors[2] and "http(s)" in errors[3]


def test_a_redirect_is_not_followed(server: str, caplog: pytest.LogCaptureFixture) -> None:
    """A redirected POST would be replayed as a GET without the alert, or to another scheme."""
    Recorder.status = 302
    result = DetectionResult("r9", "scheduled", [REGRESSION])
    assert alert(result, webhook=server) is False
    assert len(Recorder.received) == 1 and "answered HTTP 302" in caplog.text


@pytest.mark.parametrize("value", ["", "2.5", "soon", "-1"])
def test_the_deadline_comes_from_the_environment(
    value: str, server: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("BENCH_ALERT_DEADLINE", value)
    result = DetectionResult("r9", "scheduled", [REGRESSION])
    assert alert(result, webhook=server) is True  # a bad value falls back to the default
    bad = value in ("soon", "-1")
    assert ("BENCH_ALERT_DEADLINE=" in caplog.text) is bad
