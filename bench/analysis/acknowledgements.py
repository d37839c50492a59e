"""`bench ack`: accept an intended change so the baseline restarts at the run where it began."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bench.config import Case
from bench.records import Acknowledgement


def acknowledge(
    case: Case,
    metrics: Sequence[str],
    from_run_id: str,
    *,
    note: str,
    url: str | None = None,
) -> int:
    """Store one acknowledgement per metric; returns how many. Unknown metrics raise
    ValueError, an unknown run bench.warehouse.NotFound."""
    from bench.analysis.policy import DEFAULT_CONFIG
    from bench.warehouse import get_engine, upgrade
    from bench.warehouse.engine import connect
    from bench.warehouse.store import add_acknowledgement

    for metric in metrics:
        DEFAULT_CONFIG.policy(metric)
    if not note.strip():
        raise ValueError("say why the change is intended (--note)")
    upgrade(url)
    now = datetime.now(UTC)
    unique = list(dict.fromkeys(metrics))
    with connect(get_engine(url), write=True) as conn:
        for metric in unique:
            add_acknowledgement(conn, Acknowledgement(case, metric, from_run_id, note, now))
    return len(unique)


def list_acknowledgements(*, url: str | None = None) -> list[Acknowledgement]:
    """Every acknowledgement, oldest first."""
    from bench.warehouse import get_engine, upgrade
    from bench.warehouse.engine import connect
    from bench.warehouse.runs import read_acknowledgements

    upgrade(url)
    with connect(get_engine(url)) as conn:
        return read_acknowledgements(conn)
