"""Where the warehouse lives and how to connect to it: one cached engine per database URL.

SQLite (the embedded default) gets WAL and a busy timeout so several writer processes can
share one file; PostgreSQL goes through psycopg 3.
"""

from __future__ import annotations

import contextlib
import os
import re
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
READ_URL_ENV = "BENCH_WAREHOUSE_READ_URL"
# The role read-only queries connect as on PostgreSQL (bench.warehouse.roles grants it SELECT).
READER_ROLE = "bench_reader"
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
        reason = mask_reason(reason, url)
        super().__init__(
            f"cannot reach the warehouse at {self.url} ({reason}); start the database "
            f"or set {URL_ENV} to a reachable one"
        )


class NotFound(WarehouseError):
    """No such run, result or report in the warehouse; the message says how to find one."""


class NoWarehouse(NotFound):
    """A reader found no warehouse at the URL: only writers create one, so a mistyped URL is
    reported instead of becoming a new, empty database."""

    def __init__(self, url: str) -> None:
        self.url = mask_url(url)
        super().__init__(
            f"no warehouse at {self.url}; run `bench db upgrade` or a benchmark first, or set "
            f"{URL_ENV} to the warehouse's URL"
        )


# What get_engine connects to: (backend, driver) pairs, and how to spell them.
SUPPORTED_DRIVERS = frozenset({("sqlite", "pysqlite"), ("postgresql", "psycopg")})
SUPPORTED_URLS = "sqlite:///PATH or postgresql+psycopg://USER[:PASSWORD]@HOST[:PORT]/DATABASE"


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


def read_url(url: str | None = None) -> str:
    """Where read-only queries (`bench sql`, the dashboard) connect.

    For the configured warehouse (no `url`): BENCH_WAREHOUSE_READ_URL if set. Otherwise, on
    PostgreSQL, the warehouse URL with READER_ROLE as its user and no password (trust auth; set
    BENCH_WAREHOUSE_READ_URL where a password is needed); an SQLite URL is kept as it is (the
    file is opened read-only).
    """
    configured = configured_read_url()
    if url is None and configured:
        return configured
    url = normalize_url(url or warehouse_url())
    if make_url(url).get_backend_name() != "postgresql":
        return url
    reader = make_url(url).set(username=READER_ROLE, password=None)
    return reader.render_as_string(hide_password=False)


def configured_read_url() -> str | None:
    """BENCH_WAREHOUSE_READ_URL, or None when it is not set."""
    configured = os.environ.get(READ_URL_ENV)
    return normalize_url(configured) if configured else None


def reader_role(url: str | None = None) -> str | None:
    """The PostgreSQL role read_url(url) connects as; None for SQLite or a URL without a user."""
    reader = make_url(read_url(url))
    return reader.username if reader.get_backend_name() == "postgresql" else None


# `password=...` (also sslpassword, passwd, pwd, secret, token) in a query string or a libpq
# key/value string; the value runs to the next `&`, `;` or blank, or is quoted.
_SECRET_PARAM = re.compile(
    r"(?i)((?:^|[?&;\s])[^=&?;\s]*(?:pass|pwd|secret|token)[^=&?;\s]*=)"
    r"('(?:[^'\\]|\\.)*'|[^&;\s]*)"
)


def mask_url(url: str) -> str:
    """The URL with every password replaced by `***`, safe for logs, errors and reports.

    Parses nothing it could get wrong (a raw `@`, `:` or `/` in a password misled SQLAlchemy's
    parser): password-like parameters first, since their values may hold an `@`; then the
    credentials, everything between `://` and the last `@`, shown up to the user name."""
    url = _SECRET_PARAM.sub(r"\1***", url)
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    user, colon, _password = credentials.partition(":")
    return f"{scheme}://{user}:***@{host}" if sep and at and colon else url


def mask_reason(reason: str, url: str) -> str:
    """A driver's message about `url` without any piece of its password: given a raw `@` in
    a password, the driver quotes the part after it as the host it could not resolve."""
    credentials = url.partition("://")[2].rpartition("@")[0]
    hidden = [m.group(2) for m in _SECRET_PARAM.finditer(url)] + [credentials.partition(":")[2]]
    for piece in re.split(r"[@:/\s]+", " ".join(hidden)):
        if len(piece) >= 3 and piece != "***":
            reason = reason.replace(piece, "***")
    return reason


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> str | None:
    """The file of an SQLite URL, or None for an in-memory database."""
    database = make_url(url).database
    return None if not database or database == ":memory:" else database


def check_url(url: str) -> None:
    """WarehouseError, one line naming the supported URLs, unless `url` is one of them (a
    `mysql://` URL would otherwise end in a traceback about a missing driver module)."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise WarehouseError(
            f"{mask_url(url)!r} is not a database URL; the warehouse takes {SUPPORTED_URLS} "
            f"(set {URL_ENV})"
        ) from None
    if (parsed.get_backend_name(), parsed.get_driver_name()) not in SUPPORTED_DRIVERS:
        raise WarehouseError(
            f"unsupported warehouse URL {mask_url(url)}: the warehouse takes {SUPPORTED_URLS} "
            f"(set {URL_ENV})"
        )


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default: warehouse_url()), created once per process and URL;
    WarehouseError for a URL of another database (check_url)."""
    url = normalize_url(url or warehouse_url())
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            check_url(url)
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
