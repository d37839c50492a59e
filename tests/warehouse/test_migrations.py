"""The schema comes from migrations, from an empty database, and matches the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bench.warehouse import get_engine, upgrade
from bench.warehouse.migrate import VERSION_TABLE, current_revision, forget_upgrades, head_revision
from bench.warehouse.models import Base

TABLES = {
    "benchmark_runs",
    "benchmark_results",
    "epoch_metrics",
    "dataset_validations",
    "regression_flags",
    "acknowledgements",
}
VIEWS = {"latest_results", "series_history"}


def test_upgrade_from_empty_creates_tables_views_and_indexes(warehouse_url: str) -> None:
    engine = get_engine(warehouse_url)
    assert not set(sa.inspect(engine).get_table_names()) & TABLES

    assert upgrade(warehouse_url) == head_revision()

    inspector = sa.inspect(engine)
    assert TABLES | {VERSION_TABLE} <= set(inspector.get_table_names())
    assert set(inspector.get_view_names()) >= VIEWS
    indexes = {ix["name"] for ix in inspector.get_indexes("benchmark_results")}
    assert "ix_results_case_started" in indexes
    uniques = {uq["name"] for uq in inspector.get_unique_constraints("benchmark_results")}
    assert "uq_results_run_case" in uniques
    flag_uniques = inspector.get_unique_constraints("regression_flags")
    assert [u["column_names"] for u in flag_uniques] == [
        ["run_id", "framework", "mode", "device", "metric"]
    ]


def test_upgrade_is_idempotent_and_records_the_revision(warehouse_url: str) -> None:
    upgrade(warehouse_url)
    forget_upgrades()  # look at the database again, as a new process would
    upgrade(warehouse_url)
    with get_engine(warehouse_url).connect() as conn:
        assert current_revision(conn) == head_revision()
        assert conn.execute(sa.text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar_one() == 1


def test_models_match_the_migrated_schema(warehouse_url: str) -> None:
    """Alembic's autogenerate finds nothing to change (comments live in the migrations only)."""
    upgrade(warehouse_url)
    with get_engine(warehouse_url).connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        diffs = compare_metadata(context, Base.metadata)
    significant = [d for d in _flatten(diffs) if "comment" not in d[0]]
    assert significant == []


def _flatten(diffs: list) -> list:
    flat = []
    for diff in diffs:
        flat.extend(diff if isinstance(diff, list) else [diff])
    return flat
