"""Fixtures for detection: small fixed series, and warehouses on SQLite and real PostgreSQL.

The warehouse fixtures (SQLite and a fresh PostgreSQL database per test) are in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bench.measure import MIB
from bench.records import EvalMetric, Record
from bench.warehouse import store_record
from tests import builders

# A fixed +-2% wobble so series are noisy but every test run sees the same numbers.
WOBBLE = (0.0, 0.02, -0.01, 0.015, -0.02, 0.005, -0.005, 0.01, -0.015, 0.0)


def wobble(i: int, level: float = 1.0) -> float:
    return level * (1 + WOBBLE[i % len(WOBBLE)])


@pytest.fixture(autouse=True)
def _no_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Detection tests never post to a webhook configured on the machine."""
    monkeypatch.delenv("BENCH_ALERT_WEBHOOK", raising=False)


def make_record(
    run_id: str,
    day: int,
    *,
    case: tuple[str, str, str] = builders.CASE,
    steady: float = 0.5,
    mae: float = 0.4,
    status: str = "ok",
    trigger: str = "scheduled",
) -> Record:
    """Day `day` of a detection series: only steady time and test MAE vary; no epoch rows."""
    ok = status == "ok"
    return builders.make_record(
        run_id,
        case,
        status=status,
        trigger=trigger,
        started_at=builders.nightly(day),
        epochs=0,
        steady=steady if ok else None,
        compile_seconds=1.0 if ok else None,
        total_seconds=steady * 30 if ok else None,
        eval_metrics=[EvalMetric(epoch=30, test_mse=mae * mae * 2, test_mae=mae)] if ok else [],
        peak_rss_bytes=500 * MIB if ok else None,
    )


StoreSeries = Callable[..., list[str]]


@pytest.fixture
def store_series(warehouse_url: str) -> StoreSeries:
    """Store one case's series of steady times (one scheduled run per day); returns run ids."""

    def store(
        steadies: list[float],
        *,
        case: tuple[str, str, str] = ("torch", "eager", "cpu"),
        first_day: int = 0,
        trigger: str = "scheduled",
    ) -> list[str]:
        run_ids = []
        for offset, steady in enumerate(steadies):
            day = first_day + offset
            run_id = f"run-{day:03d}"
            store_record(
                make_record(run_id, day, case=case, steady=steady, trigger=trigger),
                url=warehouse_url,
            )
            run_ids.append(run_id)
        return run_ids

    return store
