"""Analysts' own SQL (`bench sql`): read-only by the database's rules, and bounded.

Read-only is enforced by the database, not by inspecting the SQL text. PostgreSQL: the query
runs as a role that may only SELECT (read_url; refused if the role can do more, since a read-only
transaction does not stop a superuser), inside a READ ONLY transaction that is always rolled
back, sent with the extended protocol so `; DROP ...` cannot ride along. SQLite: a `mode=ro`
connection with query_only on and an authorizer that allows reads alone (no ATTACH, no VACUUM
INTO, which would create files). Bounded: a time limit, and at most max_rows rows are fetched.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bench.warehouse.engine import (
    READ_URL_ENV,
    NoWarehouse,
    WarehouseError,
    check_url,
    configured_read_url,
    get_engine,
    is_sqlite,
    mask_reason,
    mask_url,
    read_url,
    short_reason,
    sqlite_path,
)
from bench.warehouse.migrate import require_warehouse, upgrade
from bench.warehouse.roles import refusal

Rows = list[tuple[Any, ...]]

# The SQLite authorizer allows these actions, and the PRAGMAs that only describe the schema
# (`PRAGMA table_info(t)`); it denies everything else.
_SQLITE_READS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
_SQLITE_SCHEMA_PRAGMAS = frozenset(
    {"table_info", "table_xinfo", "table_list", "index_list", "index_info", "foreign_key_list"}
)
_SQLITE_DENIED = {
    sqlite3.SQLITE_ATTACH: "ATTACH or VACUUM INTO would create a file",
    sqlite3.SQLITE_PRAGMA: "this PRAGMA may change a setting",
    sqlite3.SQLITE_TRANSACTION: "transaction control is not needed",
}
_SQLITE_CHECK_EVERY = 1_000  # virtual machine steps between two looks at the clock
_PG_QUERY_CANCELED = "57014"


class QueryError(WarehouseError, ValueError):
    """An analyst's query was refused (it writes) or failed; the message is the database's."""


def read_only_query(
    sql: str,
    url: str | None = None,
    *,
    timeout_s: float | None = None,
    max_rows: int | None = None,
) -> tuple[list[str], Rows]:
    """Run one analyst statement read-only; returns (column names, rows).

    timeout_s stops the statement (QueryError) once it has run that long. With max_rows, at
    most max_rows + 1 rows are fetched and returned: one more than max_rows means the answer
    was cut there (the caller says so). A write raises QueryError and changes nothing. `url` is
    the warehouse; the query connects to read_url(url).
    """
    if url is not None or configured_read_url() is None:
        # The schema (and on PostgreSQL the reader's grants) come from the owner's URL; given
        # a read URL of its own, bench sql never connects as the owner. A query never creates
        # a warehouse (NoWarehouse when there is none).
        require_warehouse(url)
        upgrade(url)
    target = read_url(url)
    check_url(target)
    fetch = None if max_rows is None else max_rows + 1
    if is_sqlite(target):
        return _sqlite(target, sql, timeout_s=timeout_s, fetch=fetch)
    return _postgres(target, sql, timeout_s=timeout_s, fetch=fetch)


def _postgres(
    url: str, sql: str, *, timeout_s: float | None, fetch: int | None
) -> tuple[list[str], Rows]:
    try:
        conn = get_engine(url).connect().execution_options(postgresql_readonly=True)
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise WarehouseError(
            f"cannot connect to the warehouse as its read-only role at {mask_url(url)} "
            f"({mask_reason(short_reason(exc), url)}); run `bench db upgrade` as the warehouse "
            f"owner to create the role, or set {READ_URL_ENV} to a role that may only SELECT"
        ) from exc
    try:
        if timeout_s is not None:
            milliseconds = str(max(1, round(timeout_s * 1000)))
            conn.execute(
                sa.text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": milliseconds}
            )
        why = refusal(conn)
        if why:
            raise QueryError(
                f"bench sql will not run as {mask_url(url)}: {why}; run `bench db upgrade` as "
                f"the warehouse owner to create the read-only role, or set {READ_URL_ENV} to a "
                "role that may only SELECT"
            )
        return _stream(conn, sql, timeout_s=timeout_s, fetch=fetch)
    finally:
        # Always rolled back, and no session state (settings, locks) goes back to the pool.
        with contextlib.suppress(Exception):
            conn.rollback()
        conn.invalidate()
        conn.close()


def _stream(
    conn: Connection, sql: str, *, timeout_s: float | None, fetch: int | None
) -> tuple[list[str], Rows]:
    """The statement's rows, fetched one by one (never the whole answer in memory)."""
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        columns = _describe(driver, sql)
        if not columns:
            raise QueryError(
                "query refused: bench sql runs only statements that return rows (SELECT, WITH, "
                "VALUES, TABLE, SHOW, EXPLAIN), not writes, COPY or SET; for CSV use --format csv"
            )
        cursor = driver.cursor()
        with contextlib.closing(cursor.stream(sql)) as rows:
            return columns, [tuple(row) for row in itertools.islice(rows, fetch)]
    except QueryError:
        raise
    except Exception as exc:  # the driver's error class is the database's verdict
        if getattr(exc, "sqlstate", None) == _PG_QUERY_CANCELED and timeout_s is not None:
            raise _timed_out(timeout_s) from exc
        raise QueryError(f"query refused or failed: {short_reason(exc)}") from exc


def _describe(driver: Any, sql: str) -> list[str]:
    """The statement's column names, from parsing it alone (it is not run). Parsing also refuses
    several statements in one."""
    pgconn, encoding = driver.pgconn, driver.info.encoding
    _raise_for(pgconn.prepare(b"", sql.encode(encoding)), encoding)
    described = pgconn.describe_prepared(b"")
    _raise_for(described, encoding)
    return [(described.fname(i) or b"").decode(encoding) for i in range(described.nfields)]


def _raise_for(result: Any, encoding: str) -> None:
    from psycopg import pq

    if result.status == pq.ExecStatus.FATAL_ERROR:
        lines = result.get_error_message(encoding).strip().splitlines()
        raise QueryError(f"query refused or failed: {lines[0] if lines else 'unknown error'}")


def _sqlite(
    url: str, sql: str, *, timeout_s: float | None, fetch: int | None
) -> tuple[list[str], Rows]:
    path = sqlite_path(url)
    if path is None:
        raise QueryError("read-only queries need a file or server database, not :memory:")
    if not Path(path).is_file():
        raise NoWarehouse(url)
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    denied: list[str] = []

    def authorize(action: int, arg1: str | None, *_: str | None) -> int:
        if action in _SQLITE_READS or (
            action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _SQLITE_SCHEMA_PRAGMAS
        ):
            return sqlite3.SQLITE_OK
        denied.append(_SQLITE_DENIED.get(action, "the statement would write or change the schema"))
        return sqlite3.SQLITE_DENY

    deadline = time.monotonic() + (timeout_s if timeout_s is not None else float("inf"))

    def past_deadline() -> bool:  # a true answer interrupts the statement
        return time.monotonic() > deadline

    try:
        conn.execute("PRAGMA query_only = ON")
        conn.set_authorizer(authorize)
        if timeout_s is not None:
            conn.set_progress_handler(past_deadline, _SQLITE_CHECK_EVERY)
        try:
            cursor = conn.execute(sql)
            rows = cursor.fetchall() if fetch is None else cursor.fetchmany(fetch)
        except (sqlite3.Error, sqlite3.Warning) as exc:
            if denied:
                raise QueryError(f"query refused: bench sql only reads, and {denied[0]}") from exc
            if timeout_s is not None and past_deadline():
                raise _timed_out(timeout_s) from exc
            raise QueryError(f"query refused or failed: {short_reason(exc)}") from exc
        return [d[0] for d in cursor.description or ()], [tuple(row) for row in rows]
    finally:
        conn.rollback()
        conn.close()


def _timed_out(timeout_s: float) -> QueryError:
    return QueryError(
        f"query stopped at its time limit of {timeout_s:g} s; narrow it, or raise the limit "
        "(bench sql --timeout SECONDS)"
    )
