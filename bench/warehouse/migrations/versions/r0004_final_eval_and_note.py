"""The final evaluation as columns, and the run's note: `benchmark_results.eval_epoch`,
`test_mse`, `test_mae` (the last evaluation, whatever its epoch: a 2-epoch run has no 10/20/30
metrics), and `benchmark_runs.note` (why the run was made). Views v3 show them.

Old results are backfilled from their `eval_metrics` JSON (the entry with the greatest epoch);
a result without a readable evaluation keeps NULL. Old runs have no note (NULL).

Revision ID: r0004
Revises: r0003
Create Date: 2026-12-10
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None

VIEWS = Path(__file__).resolve().parents[2] / "views"
TARGET_UNITS = "California housing target units (100,000 USD)"

# One statement per dialect; both take each result's evaluation with the greatest numeric epoch
# and leave NULL where there is none (or a value is not a number).
_SQLITE_FINAL = (
    "FROM json_each(benchmark_results.eval_metrics) e "
    "WHERE CASE WHEN e.type = 'object' THEN json_type(e.value, '$.epoch') END "
    "IN ('integer', 'real') "
    "ORDER BY json_extract(e.value, '$.epoch') DESC LIMIT 1"
)


def _sqlite_number(key: str) -> str:
    return (
        f"(SELECT CASE WHEN json_type(e.value, '$.{key}') IN ('integer', 'real') "
        f"THEN json_extract(e.value, '$.{key}') END {_SQLITE_FINAL})"
    )


SQLITE_BACKFILL = f"""
UPDATE benchmark_results SET
    eval_epoch = (SELECT CAST(json_extract(e.value, '$.epoch') AS INTEGER) {_SQLITE_FINAL}),
    test_mse = {_sqlite_number("test_mse")},
    test_mae = {_sqlite_number("test_mae")}
WHERE json_valid(eval_metrics) AND json_type(eval_metrics) = 'array'
"""


def _pg_number(key: str) -> str:
    return f"CASE WHEN jsonb_typeof(e -> '{key}') = 'number' THEN (e ->> '{key}')::float8 END"


POSTGRES_BACKFILL = f"""
UPDATE benchmark_results AS r
SET eval_epoch = final.epoch, test_mse = final.test_mse, test_mae = final.test_mae
FROM (
    SELECT DISTINCT ON (x.id) x.id,
        round((e ->> 'epoch')::numeric)::integer AS epoch,
        {_pg_number("test_mse")} AS test_mse,
        {_pg_number("test_mae")} AS test_mae
    FROM benchmark_results x, jsonb_array_elements(
        CASE WHEN jsonb_typeof(x.eval_metrics) = 'array' THEN x.eval_metrics ELSE '[]' END
    ) e
    WHERE jsonb_typeof(e -> 'epoch') = 'number'
    ORDER BY x.id, (e ->> 'epoch')::numeric DESC
) final
WHERE r.id = final.id
"""


def upgrade() -> None:
    op.execute("DROP VIEW IF EXISTS series_history")
    op.execute("DROP VIEW IF EXISTS latest_results")
    with op.batch_alter_table("benchmark_runs") as batch:
        batch.add_column(
            sa.Column("note", sa.Text, comment="why the run was made (Param note, --note)")
        )
    with op.batch_alter_table("benchmark_results") as batch:
        batch.add_column(
            sa.Column("eval_epoch", sa.Integer, comment="epoch of the last test evaluation")
        )
        batch.add_column(
            sa.Column("test_mse", sa.Float, comment=f"test MSE at eval_epoch, {TARGET_UNITS}")
        )
        batch.add_column(
            sa.Column("test_mae", sa.Float, comment=f"test MAE at eval_epoch, {TARGET_UNITS}")
        )
    dialect = op.get_bind().dialect.name
    op.execute(POSTGRES_BACKFILL if dialect == "postgresql" else SQLITE_BACKFILL)
    for name in ("latest_results_v3.sql", "series_history_v3.sql"):
        op.execute((VIEWS / name).read_text())


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS series_history")
    op.execute("DROP VIEW IF EXISTS latest_results")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch would copy and drop the table,
    # and with foreign keys on, dropping benchmark_runs would delete every result (cascade).
    for name in ("test_mae", "test_mse", "eval_epoch"):
        op.drop_column("benchmark_results", name)
    op.drop_column("benchmark_runs", "note")
    for name in ("latest_results_v2.sql", "series_history_v2.sql"):
        op.execute((VIEWS / name).read_text())
