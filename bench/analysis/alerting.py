"""Telling people: the summary in the log always, and a JSON POST to BENCH_ALERT_WEBHOOK when
the run is red (bench.analysis.verdict).

Alerting can never change the verdict nor hold up the run: only http(s) URLs are posted to, the
whole delivery has a deadline (BENCH_ALERT_DEADLINE, 15 s), and every failure is one log line.
"""

from __future__ import annotations

import logging
import os
import threading
import urllib.error
import urllib.parse
import urllib.request

from bench.analysis.detection import DetectionResult
from bench.serialize import to_json

WEBHOOK_ENV = "BENCH_ALERT_WEBHOOK"
DEADLINE_ENV = "BENCH_ALERT_DEADLINE"
TIMEOUT_SECONDS = 10.0  # per socket operation
DEADLINE_SECONDS = 15.0  # for the whole delivery: a trickling reply resets the timeout per byte
SCHEMES = ("http", "https")

log = logging.getLogger(__name__)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would be replayed as a GET without the alert (or to another scheme)."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def alert(
    result: DetectionResult,
    *,
    webhook: str | None = None,
    timeout: float = TIMEOUT_SECONDS,
    deadline: float | None = None,
    only_red: bool = True,
) -> bool:
    """Log the summary; POST result.to_dict() to the webhook (default: $BENCH_ALERT_WEBHOOK).

    With only_red (default) the webhook hears only about red runs: a regression, drift or
    departure, or a failed or missing case. Returns True when the webhook accepted the alert
    within `deadline` seconds (default: $BENCH_ALERT_DEADLINE, else 15); never raises.
    """
    red = result.verdict.red
    level = logging.WARNING if red else logging.INFO
    log.log(level, "regression detection: %s", result.summary())
    url = webhook if webhook is not None else os.environ.get(WEBHOOK_ENV)
    if not url or (only_red and not red):
        return False
    scheme = _scheme(url)
    if scheme not in SCHEMES:
        log.error(
            "alert not sent: the webhook is no http(s) URL (scheme %r); set %s to an http(s) "
            "URL (the run's verdict stands)", scheme, WEBHOOK_ENV,
        )  # fmt: skip
        return False
    seconds = _deadline() if deadline is None else deadline
    why = _post_within(url, result, timeout=min(timeout, seconds), deadline=seconds)
    if why is not None:
        log.error(
            "alert not delivered to %s: %s; check the webhook or %s (the run's verdict stands)",
            _host(url), why, WEBHOOK_ENV,
        )  # fmt: skip
        return False
    log.info("alert delivered to %s", _host(url))
    return True


def _deadline() -> float:
    """$BENCH_ALERT_DEADLINE in seconds; a bad value is logged and the default used."""
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    if not raw:
        return DEADLINE_SECONDS
    try:
        seconds = float(raw)
        if seconds > 0:
            return seconds
    except ValueError:
        pass
    log.warning(
        "%s=%r is not a positive number of seconds; using %g s", DEADLINE_ENV, raw, DEADLINE_SECONDS
    )
    return DEADLINE_SECONDS


def _post_within(
    url: str, result: DetectionResult, *, timeout: float, deadline: float
) -> str | None:
    """POST in a daemon thread joined with the deadline: a timeout alone is per socket read, so
    a reply trickled a byte at a time never trips it. None when accepted, else why not."""
    outcome: list[str | None] = []
    worker = threading.Thread(
        target=lambda: outcome.append(_post(url, result, timeout=timeout)),
        name="bench-alert",
        daemon=True,  # abandoned past the deadline: its socket times out or dies with the process
    )
    worker.start()
    worker.join(deadline)
    if not outcome:
        return f"no complete answer within {deadline:g} s ({DEADLINE_ENV})"
    return outcome[0]


def _post(url: str, result: DetectionResult, *, timeout: float) -> str | None:
    """One POST; None when a 2xx came back, else why not, on one line."""
    headers = {"Content-Type": "application/json", "User-Agent": "bench-detect"}
    try:
        body = to_json(result.to_dict(), indent=None).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        with _OPENER.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
    except urllib.error.URLError as exc:  # no reply: refused, unknown host, TLS
        return _one_line(exc.reason)
    except Exception as exc:  # whatever else (a garbage reply, a reset): the verdict stands
        return _one_line(exc)
    if not 200 <= status < 300:
        return f"it answered HTTP {status}"
    return None


def _scheme(url: str) -> str:
    """The URL's scheme, lower case; empty for no scheme or a URL that does not parse."""
    try:
        return urllib.parse.urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""


def _one_line(reason: object) -> str:
    text = f"{type(reason).__name__}: {reason}" if isinstance(reason, BaseException) else reason
    return " ".join(str(text).split())


def _host(url: str) -> str:
    """Scheme and host only: webhook URLs often carry a secret token in the path."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a port that is not a number
        port = None
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{port}" if port else "")
