"""`bench ack`: accept an intended change so the baseline restarts at the run where it began."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bench.config import Case


def acknowledge(
    framework: str,
    mode: str,
    device: str,
    metrics: Sequence[str],
    from_run_id: str,
    *,
    note: str,
    url: str | None = None,
) -> int:
    """Store one acknowledgement per metric; returns how many. Unknown names raise ValueError,
    an unknown run LookupError."""
    from bench.analysis import storage
    from bench.analysis.policy import DEFAULT_CONFIG
    from bench.warehouse import get_engine, upgrade
    from bench.warehouse.engine import connect

    Case(framework, mode, device)  # raises with the choices
    for metric in metrics:
        DEFAULT_CONFIG.policy(metric)
    if not note.strip():
        raise ValueError("say why the change is intended (--note)")
    upgrade(url)
    now = datetime.now(UTC)
    with connect(get_engine(url), write=True) as conn:
        for metric in dict.fromkeys(metrics):
            storage.add_acknowledgement(
                conn,
                {
                    "framework": framework,
                    "mode": mode,
                    "device": device,
                    "metric": metric,
                    "from_run_id": from_run_id,
                    "note": note,
                    "created_at": now,
                },
            )
    return len(dict.fromkeys(metrics))


def list_acknowledgements(*, url: str | None = None) -> list[dict[str, Any]]:
    """Every acknowledgement, oldest first, with the start time of its run."""
    from bench.analysis import storage
    from bench.warehouse import get_engine, upgrade
    from bench.warehouse.engine import connect

    upgrade(url)
    with connect(get_engine(url)) as conn:
        return storage.acknowledgements(conn)
