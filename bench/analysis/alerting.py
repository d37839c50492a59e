"""Telling people: the summary in the log always, and a JSON POST to BENCH_ALERT_WEBHOOK when
the run is red (bench.analysis.verdict).

A webhook that is down must not hide the finding, so delivery failures are logged, not raised.
"""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.parse
import urllib.request

from bench.analysis.detection import DetectionResult
from bench.serialize import to_json

WEBHOOK_ENV = "BENCH_ALERT_WEBHOOK"
TIMEOUT_SECONDS = 10.0

log = logging.getLogger(__name__)


def alert(
    result: DetectionResult,
    *,
    webhook: str | None = None,
    timeout: float = TIMEOUT_SECONDS,
    only_red: bool = True,
) -> bool:
    """Log the summary; POST result.to_dict() to the webhook (default: $BENCH_ALERT_WEBHOOK).

    With only_red (default) the webhook hears only about red runs: a regression, drift or
    departure, or a failed or missing case. Returns True when the webhook accepted the alert.
    """
    red = result.verdict.red
    level = logging.WARNING if red else logging.INFO
    log.log(level, "regression detection: %s", result.summary())
    url = webhook if webhook is not None else os.environ.get(WEBHOOK_ENV)
    if not url or (only_red and not red):
        return False
    body = to_json(result.to_dict(), indent=None).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "bench-detect"}
    try:
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = response.status
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.error("could not deliver the alert to %s: %s", _host(url), exc)
        return False
    if not 200 <= status < 300:
        log.error("the alert webhook %s answered HTTP %s", _host(url), status)
        return False
    log.info("alert delivered to %s", _host(url))
    return True


def _host(url: str) -> str:
    """Scheme and host only: webhook URLs often carry a secret token in the path."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")
