"""`bench ack`: accept an intended change so the baseline restarts at the run where it began,
or withdraw that acceptance so detection judges the series against its old level again."""

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
) -> list[int]:
    """Store one acknowledgement per metric, all or none; their ids. Unknown metrics, an empty
    note or a metric already acknowledged from that run raise ValueError, an unknown run
    bench.warehouse.NotFound."""
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
    with connect(get_engine(url), write=True) as conn:
        return [
            add_acknowledgement(conn, Acknowledgement(case, metric, from_run_id, note, now))
            for metric in dict.fromkeys(metrics)
        ]


def withdraw_acknowledgement(ack_id: int, *, url: str | None = None) -> Acknowledgement:
    """Delete an acknowledgement and return what it was: from the next judgement on, detection
    no longer restarts the baseline there nor marks flags acknowledged by it. NotFound when
    there is no such id."""
    from bench.warehouse import get_engine, upgrade
    from bench.warehouse.engine import connect
    from bench.warehouse.store import delete_acknowledgement

    upgrade(url)
    with connect(get_engine(url), write=True) as conn:
        return delete_acknowledgement(conn, ack_id)


def list_acknowledgements(*, url: str | None = None) -> list[Acknowledgement]:
    """Every acknowledgement, oldest first."""
    from bench.warehouse import get_engine, upgrade
    from bench.warehouse.engine import connect
    from bench.warehouse.runs import read_acknowledgements

    upgrade(url)
    with connect(get_engine(url)) as conn:
        return read_acknowledgements(conn)
