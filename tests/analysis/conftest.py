"""Fixtures for detection: small fixed series, and warehouses on SQLite and real PostgreSQL.

The PostgreSQL fixtures mirror tests/warehouse/conftest.py (a fresh database per test, dropped
afterwards); an unreachable server fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bench.config import Case
from bench.records import EvalMetric, Record
from bench.warehouse import store_record
from bench.warehouse.engine import mask_url, reset_engines
from bench.warehouse.migrate import forget_upgrades

PG_URL_ENV = "BENCH_TEST_PG_URL"
PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
T0 = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
# A fixed +-2% wobble so series are noisy but every test run sees the same numbers.
WOBBLE = (0.0, 0.02, -0.01, 0.015, -0.02, 0.005, -0.005, 0.01, -0.015, 0.0)


def wobble(i: int, level: float = 1.0) -> float:
    return level * (1 + WOBBLE[i % len(WOBBLE)])


@pytest.fixture(scope="session")
def pg_admin_engine() -> Iterator[sa.Engine]:
    url = os.environ.get(PG_URL_ENV, PG_DEFAULT_URL)
    engine = sa.create_engine(
        url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0]
        pytest.fail(
            f"PostgreSQL at {mask_url(url)} is unreachable ({reason}); start it or set "
            f"{PG_URL_ENV}. The postgres tests fail rather than skip so CI cannot pass without it.",
            pytrace=False,
        )
    yield engine
    engine.dispose()


@pytest.fixture
def pg_database(pg_admin_engine: sa.Engine) -> Iterator[str]:
    name = f"bench_detect_test_{os.getpid()}_{secrets.token_hex(4)}"
    with pg_admin_engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield pg_admin_engine.url.set(database=name).render_as_string(hide_password=False)
    reset_engines()
    with pg_admin_engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
)
def warehouse_url(
    request: pytest.FixtureRequest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty warehouse on each backend, also set as BENCH_WAREHOUSE_URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    else:
        url = request.getfixturevalue("pg_database")
    monkeypatch.setenv("BENCH_WAREHOUSE_URL", url)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BENCH_ALERT_WEBHOOK", raising=False)
    yield url
    reset_engines()
    forget_upgrades()


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
