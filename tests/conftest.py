"""Shared fixtures: the real California Housing copy and a way to prove code stays offline."""

from __future__ import annotations

import itertools
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bench.warehouse.engine import mask_url, reset_engines
from bench.warehouse.migrate import forget_upgrades

PG_URL_ENV = "BENCH_TEST_PG_URL"
PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_names = itertools.count(1)
DEFAULT_DATA_HOME = Path(__file__).resolve().parents[1] / "../shared/data/scikit_learn_data"


@pytest.fixture(scope="session")
def data_home() -> Path:
    """sklearn data folder with cal_housing_py3.pkz: BENCH_DATA_HOME, else ../shared/data."""
    path = Path(os.environ.get("BENCH_DATA_HOME") or DEFAULT_DATA_HOME).resolve()
    if not (path / "cal_housing_py3.pkz").is_file():
        pytest.fail(
            f"California Housing cache not found at {path / 'cal_housing_py3.pkz'}; "
            "set BENCH_DATA_HOME to a folder holding sklearn's cal_housing_py3.pkz",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def compile_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One warm inductor cache for the whole session: compile cases then cost ~10 s, not ~30 s."""
    return tmp_path_factory.mktemp("inductor")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every connection attempt and DNS lookup raises OSError; returns the attempted addresses."""
    attempts: list[object] = []

    def refuse_connect(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network blocked by test")

    def refuse_lookup(host: object, *args: object, **kwargs: object) -> list[object]:
        attempts.append(host)
        raise socket.gaierror("network blocked by test")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse_connect)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_lookup)
    return attempts


@pytest.fixture(scope="session")
def pg_admin_engine() -> Iterator[sa.Engine]:
    """An AUTOCOMMIT engine on the server's admin database (for CREATE/DROP DATABASE)."""
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
    """A new, empty PostgreSQL database for one test; its URL."""
    name = f"bench_test_{os.getpid()}_{secrets.token_hex(3)}_{next(_names)}"
    with pg_admin_engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = pg_admin_engine.url.set(database=name).render_as_string(hide_password=False)
    yield url
    reset_engines()
    with pg_admin_engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
)
def warehouse_url(
    request: pytest.FixtureRequest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty warehouse on each backend, also set as BENCH_WAREHOUSE_URL (BENCH_HOME: tmp)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    else:
        url = request.getfixturevalue("pg_database")
    monkeypatch.setenv("BENCH_WAREHOUSE_URL", url)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path / "home"))
    yield url
    reset_engines()
    forget_upgrades()
