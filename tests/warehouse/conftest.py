"""Shared warehouse fixtures: the same tests run on SQLite and on a real PostgreSQL.

PostgreSQL comes from BENCH_TEST_PG_URL (default: the local server); each test gets a fresh
database, dropped afterwards. An unreachable server fails the tests instead of skipping them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bench.config import Case
from bench.records import EpochMetric, EvalMetric, Record

PG_URL_ENV = "BENCH_TEST_PG_URL"
PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
_names = itertools.count(1)


@pytest.fixture
def backend(warehouse_url: str) -> str:
    return make_url(warehouse_url).get_backend_name()


def make_record(
    run_id: str = "run-1",
    case: tuple[str, str, str] = ("torch", "eager", "cpu"),
    *,
    epochs: int = 30,
    status: str = "ok",
    started_at: datetime = T0,
    steady: float = 0.5,
    trigger: str = "cli",
    environment: dict[str, Any] | None = None,
) -> Record:
    """A complete, plausible record built in code (no training)."""
    record = Record(
        run_id=run_id,
        case=Case(*case),
        trigger=trigger,
        started_at=started_at.isoformat(),
        status=status,
        reason=None if status == "ok" else f"{status} on purpose",
        epochs=[
            EpochMetric(epoch=e, seconds=steady * (3.0 if e == 1 else 1.0), train_mae=1.0 / e)
            for e in range(1, epochs + 1)
        ],
        total_seconds=steady * (epochs + 2),
        peak_rss_bytes=512 * 2**20,
        peak_device_bytes=None,
        eval=[
            EvalMetric(epoch=b, test_mse=0.5 - b / 100, test_mae=0.5 - b / 200)
            for b in (10, 20, 30)
            if b <= epochs
        ],
        dataset_sha256="d" * 64,
        environment=environment
        if environment is not None
        else {
            "python": "3.11.7",
            "cpu_model": "Test CPU",
            "cpu_count": 2,
            "framework": case[0],
            "framework_version": "2.13.0",
            "threads": {"torch": 1, "omp": "1"},
            "gpu_name": None,
            "git_commit": "abc1234",
            "bench_version": "0.1.0",
        },
    )
    record.finalize_timing()
    return record


@pytest.fixture
def record_factory() -> Callable[..., Record]:
    return make_record


def nightly(n: int) -> datetime:
    """Start time of the n-th nightly run."""
    return T0 + timedelta(days=n)
