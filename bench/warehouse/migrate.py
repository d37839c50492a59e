"""Schema migrations (Alembic), run in code with a Config built here, never from the CWD.

Writers call upgrade() before their first write, so several processes may race to migrate a
new database: PostgreSQL serializes them with an advisory lock, SQLite with its write lock.
On PostgreSQL every migration ends by granting the read-only role SELECT on what it made.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bench.warehouse.engine import (
    NoWarehouse,
    WarehouseError,
    check_url,
    connect,
    get_engine,
    is_sqlite,
    mask_url,
    normalize_url,
    reader_role,
    sqlite_path,
    warehouse_url,
)
from bench.warehouse.roles import grant_reader, warehouse_relations

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Not Alembic's default name, so the warehouse can share a database with Airflow's metadata.
VERSION_TABLE = "warehouse_alembic_version"
_PG_LOCK_KEY = 0x62656E6368  # "bench": serializes concurrent upgrades of one database

_upgraded: set[str] = set()
_upgraded_lock = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_table", VERSION_TABLE)
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no warehouse migrations found"
    return head


def current_revision(connection: Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade(url: str | None = None) -> str:
    """Bring the warehouse schema to the newest revision (idempotent); returns that revision.

    Checked once per process and URL; later calls are free.
    """
    engine = get_engine(url)
    key = engine.url.render_as_string(hide_password=False)
    head = head_revision()
    if key in _upgraded:
        return head
    with connect(engine) as conn:
        current = current_revision(conn)
    if current != head:
        with connect(engine, write=True) as conn:
            _lock(conn)
            current = current_revision(conn)
            _check_known(current, str(engine.url))
            if current != head:
                command.upgrade(alembic_config(conn), "head")
                _grant_reader(conn, url)
    with _upgraded_lock:
        _upgraded.add(key)
    return head


def require_warehouse(url: str | None = None) -> None:
    """For commands that only read: NoWarehouse unless a writer (`bench db upgrade`, a run,
    `bench ingest`) made the warehouse at `url`. Creates nothing, no SQLite file or folder and
    no schema, so a mistyped URL is reported instead of becoming a new, empty warehouse."""
    url = normalize_url(url or warehouse_url())
    check_url(url)
    path = sqlite_path(url) if is_sqlite(url) else None
    if path is not None and not Path(path).is_file():
        raise NoWarehouse(url)
    with connect(get_engine(url)) as conn:
        if not sa.inspect(conn).has_table(VERSION_TABLE):
            raise NoWarehouse(url)


def grant_read_access(url: str | None = None) -> bool:
    """Create (when allowed) and grant the read-only role of `url` (bench.warehouse.roles).

    False when, on PostgreSQL, that role does not exist and the connected role may not create
    it; True otherwise (SQLite needs no role: its file is opened read-only).
    """
    engine = get_engine(url)
    if engine.dialect.name != "postgresql":
        return True
    with connect(engine, write=True) as conn:
        _lock(conn)
        return _grant_reader(conn, url)


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _grant_reader(conn: Connection, url: str | None) -> bool:
    role = reader_role(url)
    if conn.dialect.name != "postgresql" or role is None:
        return True
    return grant_reader(conn, role, warehouse_relations(VERSION_TABLE))


def forget_upgrades() -> None:
    """Make the next upgrade() look at the database again (tests that drop databases)."""
    with _upgraded_lock:
        _upgraded.clear()


def _check_known(revision: str | None, url: str) -> None:
    if revision is None:
        return
    script = ScriptDirectory.from_config(alembic_config())
    if revision not in {rev.revision for rev in script.walk_revisions()}:
        raise WarehouseError(
            f"the warehouse at {mask_url(url)} has schema revision {revision}, newer than this "
            f"bench knows (head {head_revision()}); upgrade bench before writing to it"
        )
