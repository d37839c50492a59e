"""PostgreSQL roles: the read-only role that `bench sql` and the dashboard connect as.

A read-only transaction does not stop a superuser: `COPY ... TO PROGRAM` runs a shell command as
the server's OS user, and pg_read_file, pg_ls_dir, lo_import and pg_reload_conf all work. So
reads go through a role that holds SELECT on the warehouse's tables and views and nothing else,
and read_only_query refuses to run as any role that can do more (`refusal`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bench.warehouse.models import Base, LatestResultsView, SeriesHistoryView

# Server roles that read or write the server's files or run programs on it.
SERVER_ROLES: tuple[str, ...] = (
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
)
_ROLE_EXISTS = ("42710", "23505")  # duplicate_object; unique_violation when two create at once

# What would make the connected role more than a reader: superuser, a server-file role, or a
# write privilege on any table or view outside the system schemas.
_POWERS = sa.text(
    """
    SELECT current_user,
           r.rolsuper,
           (SELECT string_agg(s, ', ') FROM unnest(CAST(:server_roles AS text[])) AS s
             WHERE pg_has_role(current_user, s, 'MEMBER')),
           (SELECT c.oid::regclass::text FROM pg_class c
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
               AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg\\_toast%'
               AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
             ORDER BY 1 LIMIT 1)
      FROM pg_roles r WHERE r.rolname = current_user
    """
)


def warehouse_relations(version_table: str) -> list[str]:
    """Every table and view of the warehouse schema (what the reader may SELECT)."""
    views = [LatestResultsView.name, SeriesHistoryView.name]
    return [*Base.metadata.tables, *views, version_table]


def grant_reader(conn: Connection, role: str, relations: list[str]) -> bool:
    """Give `role` SELECT on those of `relations` that exist in the current schema, creating
    it (LOGIN, no password) when missing and the connected role may create roles.

    Returns False when the role does not exist and cannot be created. Idempotent; run it after
    every migration, since a view made again by a migration loses its grants.
    """
    if not _role_exists(conn, role) and not _create_role(conn, role):
        return False
    quote = conn.dialect.identifier_preparer.quote_identifier
    existing = conn.execute(
        sa.text(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = "
            "CAST(current_schema() AS regnamespace) AND c.relname = ANY(:names) ORDER BY 1"
        ),
        {"names": relations},
    ).scalars()
    for name in existing:
        conn.execute(sa.text(f"GRANT SELECT ON {quote(name)} TO {quote(role)}"))
    return True


def refusal(conn: Connection) -> str | None:
    """Why the connected role is more than a reader (one phrase), or None when it only reads."""
    user, superuser, server_roles, writable = conn.execute(
        _POWERS, {"server_roles": list(SERVER_ROLES)}
    ).one()
    if superuser:
        return f"role {user} is a superuser"
    if server_roles:
        return f"role {user} is a member of {server_roles}"
    if writable:
        return f"role {user} can write to {writable}"
    return None


def _role_exists(conn: Connection, role: str) -> bool:
    query = sa.text("SELECT 1 FROM pg_roles WHERE rolname = :role")
    return conn.execute(query, {"role": role}).first() is not None


def _create_role(conn: Connection, role: str) -> bool:
    allowed = conn.execute(
        sa.text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
    ).scalar_one()
    if not allowed:
        return False
    quoted = conn.dialect.identifier_preparer.quote_identifier(role)
    try:
        with conn.begin_nested():  # another database's upgrade may create it at the same time
            conn.execute(sa.text(f"CREATE ROLE {quoted} LOGIN"))
    except sa.exc.DBAPIError as exc:
        if _sqlstate(exc) not in _ROLE_EXISTS:
            raise
    return True


def _sqlstate(exc: sa.exc.DBAPIError) -> Any:
    return getattr(exc.orig, "sqlstate", None)
