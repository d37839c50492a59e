"""Fixtures for detection: small fixed series, and warehouses on SQLite and real PostgreSQL.

The warehouse fixtures (SQLite and a fresh PostgreSQL database per test) are in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bench.config import Case
from bench.records import EvalMetric, Record
from bench.warehouse import store_record

PG_URL_ENV = "BENCH_TEST_PG_URL"
PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
T0 = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
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
    case: tuple[str, str, str] = ("torch", "eager", "cpu"),
    steady: float = 0.5,
    mae: float = 0.4,
    status: str = "ok",
    trigger: str = "scheduled",
) -> Record:
    """A result without training: steady epoch time and test MAE are what the tests vary."""
    ok = status == "ok"
    return Record(
        run_id=run_id,
        case=Case(*case),
        trigger=trigger,
        started_at=(T0 + timedelta(days=day)).isoformat(),
        status=status,
        reason=None if ok else f"{status} on purpose",
        compile_seconds=1.0 if ok else None,
        steady_epoch_seconds=steady if ok else None,
        total_seconds=steady * 30 if ok else None,
        peak_rss_bytes=500 * 2**20 if ok else None,
        eval=[EvalMetric(epoch=30, test_mse=mae * mae * 2, test_mae=mae)] if ok else [],
        dataset_sha256="d" * 64,
        environment={
            "cpu_model": "Test CPU",
            "framework": case[0],
            "framework_version": "2.13.0",
            "threads": 1,
            "gpu_name": None,
        },  # fmt: skip
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
