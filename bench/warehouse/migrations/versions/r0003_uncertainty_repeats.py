"""Uncertainty, repeats and run conditions: interval and CV columns, noisy, the reference
workload, and result_repeats (every repeat of a case; benchmark_results keeps the summary).

Old rows stay valid: the new result columns are NULL (repeats 1), and they have no repeats.

Revision ID: r0003
Revises: r0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
VIEWS = Path(__file__).resolve().parents[2] / "views"


def _uncertainty_columns() -> list[sa.Column]:
    return [
        sa.Column("steady_ci_low", sa.Float, comment="95% interval of the steady median, s"),
        sa.Column("steady_ci_high", sa.Float, comment="95% interval of the steady median, s"),
        sa.Column("steady_cv", sa.Float, comment="coefficient of variation of the steady time"),
        sa.Column("reference_seconds", sa.Float, comment="the reference workload (calibration)"),
        sa.Column("noisy", sa.Text, comment="why the measurement was disturbed; NULL if not"),
    ]


def upgrade() -> None:
    op.execute("DROP VIEW IF EXISTS series_history")
    op.execute("DROP VIEW IF EXISTS latest_results")
    with op.batch_alter_table("benchmark_results") as batch:
        for column in _uncertainty_columns():
            batch.add_column(column)
        batch.add_column(
            sa.Column(
                "repeats",
                sa.Integer,
                nullable=False,
                server_default="1",
                comment="fresh processes summarized in this row (result_repeats)",
            )
        )
        batch.add_column(sa.Column("conditions", JSON, comment="cores, load, others' CPU time"))
    op.create_table(
        "result_repeats",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.String(250),
            sa.ForeignKey("benchmark_runs.run_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("framework", sa.String(32), nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("device", sa.String(32), nullable=False),
        sa.Column("repeat", sa.Integer, nullable=False, comment="1..repeats, in run order"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("steady_epoch_seconds", sa.Float),
        sa.Column("compile_seconds", sa.Float),
        sa.Column("total_seconds", sa.Float),
        sa.Column("peak_rss_bytes", sa.BigInteger),
        *_uncertainty_columns(),
        sa.Column("record", JSON, nullable=False, comment="the repeat's whole record"),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "run_id", "framework", "mode", "device", "repeat", name="uq_repeats_run_case_repeat"
        ),
        sa.CheckConstraint("status IN ('ok', 'skipped', 'failed')", name="ck_repeats_status"),
    )
    for name in ("latest_results_v2.sql", "series_history_v2.sql"):
        op.execute((VIEWS / name).read_text())


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS series_history")
    op.execute("DROP VIEW IF EXISTS latest_results")
    op.drop_table("result_repeats")
    with op.batch_alter_table("benchmark_results") as batch:
        for name in ("conditions", "repeats", "noisy", "reference_seconds", "steady_cv",
                     "steady_ci_high", "steady_ci_low"):  # fmt: skip
            batch.drop_column(name)
    for name in ("latest_results_v1.sql", "series_history_v1.sql"):
        op.execute((VIEWS / name).read_text())
