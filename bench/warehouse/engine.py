"""Where the warehouse lives and how to connect to it: one cached engine per database URL.

SQLite (the embedded default) gets WAL and a busy timeout so several writer processes can
share one file; PostgreSQL goes through psycopg 3.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url

from bench.config import state_dir

URL_ENV = "BENCH_WAREHOUSE_URL"
SQLITE_BUSY_TIMEOUT_MS = 60_000
PG_CONNECT_TIMEOUT_S = 10

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


class WarehouseError(RuntimeError):
    """A warehouse problem a user can act on; the message is one line."""


class WarehouseUnavailable(WarehouseError):
    """The database cannot be reached; the message is one line naming the masked URL and the fix."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = mask_url(url)
        super().__init__(
            f"cannot reach the warehouse at {self.url} ({reason}); start the database "
            f"or set {URL_ENV} to a reachable one"
        )


class NotFound(WarehouseError):
    """No such run, result or report in the warehouse; the message says how to find one."""


def default_url() -> str:
    """The embedded default: an SQLite file in the bench state directory."""
    return f"sqlite:///{state_dir() / 'warehouse.db'}"


def warehouse_url() -> str:
    """BENCH_WAREHOUSE_URL if set, else the embedded SQLite default."""
    return normalize_url(os.environ.get(URL_ENV) or default_url())


def normalize_url(url: str) -> str:
    """Send plain `postgresql://` and `postgres://` URLs through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def mask_url(url: str) -> str:
    """The URL with its password replaced by `***`, safe for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown without its credentials
        return url.rsplit("@", 1)[-1]


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> str | None:
    """The file of an SQLite URL, or None for an in-memory database."""
    database = make_url(url).database
    return None if not database or database == ":memory:" else database


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default: warehouse_url()), created once per process and URL."""
    url = normalize_url(url or warehouse_url())
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = _create_engine(url)
    return engine


def reset_engines() -> None:
    """Close every cached engine (tests, and after fork so children open their own sockets)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _forget_engines_in_child() -> None:
    # A forked child must not reuse the parent's sockets or file handles.
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()


os.register_at_fork(after_in_child=_forget_engines_in_child)


def _create_engine(url: str) -> Engine:
    if is_sqlite(url):
        path = sqlite_path(url)
        if path:
            try:
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            except OSError as exc:
                raise WarehouseUnavailable(
                    url, f"cannot create its folder: {exc.strerror}"
                ) from exc
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if make_url(url).get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    return sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def _switch_to_wal(cursor: Any) -> None:
    """PRAGMA journal_mode = WAL, waiting like the busy timeout: on a new database the switch
    needs the database to itself and SQLite answers "locked" at once instead of waiting, which
    failed writers racing a first migration."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _configure_sqlite(engine: Engine) -> None:
    """WAL for concurrent readers, a busy timeout for queued writers, and real BEGINs.

    pysqlite's own transaction handling defers BEGIN; we emit it ourselves so a writer can
    take the write lock up front (BEGIN IMMEDIATE) instead of failing on lock upgrade.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous = FULL")  # a commit survives a power cut too
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


@contextlib.contextmanager
def connect(engine: Engine, *, write: bool = False) -> Iterator[Connection]:
    """A connection in a transaction (committed on success); connect failures become
    WarehouseUnavailable. `write=True` takes SQLite's write lock at BEGIN."""
    try:
        conn = engine.connect()
        if write and engine.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        conn.begin()
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise WarehouseUnavailable(str(engine.url), short_reason(exc)) from exc
    with conn:
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def short_reason(exc: BaseException) -> str:
    """The driver's message, first line only, without SQLAlchemy's background link."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0].strip() if text else type(orig).__name__
