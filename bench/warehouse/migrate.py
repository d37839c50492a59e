"""Schema migrations (Alembic), run in code with a Config built here, never from the CWD.

Writers call upgrade() before their first write, so several processes may race to migrate a
new database: PostgreSQL serializes them with an advisory lock, SQLite with its write lock.
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

from bench.warehouse.engine import WarehouseError, connect, get_engine, mask_url

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
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            current = current_revision(conn)
            _check_known(current, str(engine.url))
            if current != head:
                command.upgrade(alembic_config(conn), "head")
    with _upgraded_lock:
        _upgraded.add(key)
    return head


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
