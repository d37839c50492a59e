"""Alembic environment: runs on the connection bench.warehouse.migrate hands over (online only)."""

from __future__ import annotations

from alembic import context

from bench.warehouse.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run warehouse migrations with `bench db upgrade`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=config.get_main_option("version_table") or "alembic_version",
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
