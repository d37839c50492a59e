"""Initial warehouse schema: runs, results, epochs, validations, regression flags, acks.

Revision ID: r0001
Revises:
Create Date: 2026-11-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC_TIME = sa.DateTime(timezone=True)
RUN_ID = sa.String(250)
TARGET_UNITS = "California housing target units (100,000 USD)"


def _case_columns() -> list[sa.Column]:
    return [
        sa.Column("framework", sa.String(32), nullable=False, comment="torch or tensorflow"),
        sa.Column(
            "mode", sa.String(32), nullable=False, comment="eager, compile, function, xla..."
        ),
        sa.Column("device", sa.String(32), nullable=False, comment="cpu or gpu"),
    ]


def _metric(name: str, what: str) -> sa.Column:
    return sa.Column(name, sa.Float, comment=f"{what}, {TARGET_UNITS}")


def upgrade() -> None:
    op.create_table(
        "benchmark_runs",
        sa.Column("run_id", RUN_ID, primary_key=True, comment="Airflow run_id or CLI run id"),
        sa.Column("trigger", sa.String(16), nullable=False, comment="scheduled, manual or cli"),
        sa.Column("started_at", UTC_TIME, nullable=False, comment="UTC"),
        sa.Column("finished_at", UTC_TIME, comment="UTC; NULL while running or never finished"),
        sa.Column("dataset_sha256", sa.String(64), comment="SHA-256 of the dataset used"),
        sa.Column("validation_outcome", sa.String(16), comment="passed, failed, NULL = none"),
        sa.Column("code_version", sa.String(64), comment="git commit, else bench version"),
        sa.Column("created_at", UTC_TIME, nullable=False, comment="UTC, row first written"),
        sa.CheckConstraint("trigger IN ('scheduled', 'manual', 'cli')", name="ck_runs_trigger"),
        sa.CheckConstraint(
            "validation_outcome IN ('passed', 'failed')", name="ck_runs_validation_outcome"
        ),
    )
    op.create_index("ix_runs_started_at", "benchmark_runs", ["started_at", "run_id"])

    op.create_table(
        "benchmark_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            RUN_ID,
            sa.ForeignKey("benchmark_runs.run_id", ondelete="CASCADE"),
            nullable=False,
        ),
        *_case_columns(),
        sa.Column("started_at", UTC_TIME, nullable=False, comment="UTC, when this case started"),
        sa.Column("status", sa.String(16), nullable=False, comment="ok, skipped or failed"),
        sa.Column("reason", sa.Text, comment="why skipped or failed"),
        sa.Column("epochs_completed", sa.Integer, nullable=False, comment="epochs measured"),
        sa.Column("compile_seconds", sa.Float, comment="s, first epoch minus steady epoch"),
        sa.Column("steady_epoch_seconds", sa.Float, comment="s, median epoch after the first"),
        sa.Column("total_seconds", sa.Float, comment="s, wall time of the whole case"),
        sa.Column("peak_rss_bytes", sa.BigInteger, comment="bytes, peak host resident memory"),
        sa.Column("peak_device_bytes", sa.BigInteger, comment="bytes, peak accelerator memory"),
        _metric("test_mse_10", "test MSE after 10 epochs, squared"),
        _metric("test_mae_10", "test MAE after 10 epochs"),
        _metric("test_mse_20", "test MSE after 20 epochs, squared"),
        _metric("test_mae_20", "test MAE after 20 epochs"),
        _metric("test_mse_30", "test MSE after 30 epochs, squared"),
        _metric("test_mae_30", "test MAE after 30 epochs"),
        sa.Column("eval_metrics", JSON, nullable=False, comment="all evaluations, JSON list"),
        sa.Column("dataset_sha256", sa.String(64), comment="SHA-256 of the dataset used"),
        sa.Column("framework_version", sa.String(64), comment="e.g. 2.13.0"),
        sa.Column(
            "environment_fingerprint",
            sa.String(32),
            nullable=False,
            comment="hash of what makes results comparable",
        ),
        sa.Column("environment", JSON, nullable=False, comment="captured environment, JSON"),
        sa.Column("schema_version", sa.Integer, nullable=False, comment="record schema"),
        sa.Column("stored_at", UTC_TIME, nullable=False, comment="UTC, last (re)write"),
        sa.UniqueConstraint("run_id", "framework", "mode", "device", name="uq_results_run_case"),
        sa.CheckConstraint("status IN ('ok', 'skipped', 'failed')", name="ck_results_status"),
    )
    op.create_index(
        "ix_results_case_started",
        "benchmark_results",
        ["framework", "mode", "device", "started_at", "run_id"],
    )
    op.create_index("ix_results_fingerprint", "benchmark_results", ["environment_fingerprint"])

    op.create_table(
        "epoch_metrics",
        sa.Column(
            "result_id",
            sa.Integer,
            sa.ForeignKey("benchmark_results.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("epoch", sa.Integer, primary_key=True, comment="1-based"),
        sa.Column("seconds", sa.Float, comment="s, wall time of this epoch"),
        _metric("train_mae", "training MAE over this epoch"),
    )

    op.create_table(
        "dataset_validations",
        sa.Column(
            "run_id",
            RUN_ID,
            sa.ForeignKey("benchmark_runs.run_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("evaluated_expectations", sa.Integer),
        sa.Column("unsuccessful_expectations", sa.Integer),
        sa.Column("statistics", JSON, nullable=False, comment="Great Expectations statistics"),
        sa.Column("failures", JSON, nullable=False, comment="failed expectations, JSON list"),
        sa.Column("dataset_sha256", sa.String(64)),
        sa.Column("source", sa.String(64), nullable=False, comment="where the data came from"),
        sa.Column("validated_at", UTC_TIME, nullable=False, comment="UTC"),
    )

    op.create_table(
        "regression_flags",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            RUN_ID,
            sa.ForeignKey("benchmark_runs.run_id", ondelete="CASCADE"),
            nullable=False,
        ),
        *_case_columns(),
        sa.Column("environment_fingerprint", sa.String(32)),
        sa.Column("metric", sa.String(64), nullable=False, comment="a benchmark_results column"),
        sa.Column("baseline_value", sa.Float, comment="unit of the metric"),
        sa.Column("value", sa.Float, comment="unit of the metric"),
        sa.Column("change_pct", sa.Float, comment="%, (value - baseline) / baseline * 100"),
        sa.Column("z_score", sa.Float, comment="standard deviations from the baseline"),
        sa.Column("label", sa.String(32), nullable=False, comment="regression, suspected, ..."),
        sa.Column("detector_version", sa.String(32), nullable=False),
        sa.Column("change_point_run_id", RUN_ID, comment="first run of the new level"),
        sa.Column("created_at", UTC_TIME, nullable=False, comment="UTC"),
        sa.UniqueConstraint(
            "run_id", "framework", "mode", "device", "metric", name="uq_flags_run_case_metric"
        ),
    )
    op.create_index(
        "ix_flags_case_metric", "regression_flags", ["framework", "mode", "device", "metric"]
    )

    op.create_table(
        "acknowledgements",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *_case_columns(),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column(
            "from_run_id",
            RUN_ID,
            sa.ForeignKey("benchmark_runs.run_id", ondelete="CASCADE"),
            nullable=False,
            comment="the accepted level starts at this run",
        ),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False, comment="UTC"),
    )
    op.create_index(
        "ix_acks_case_metric", "acknowledgements", ["framework", "mode", "device", "metric"]
    )


def downgrade() -> None:
    for table in (
        "acknowledgements",
        "regression_flags",
        "dataset_validations",
        "epoch_metrics",
        "benchmark_results",
        "benchmark_runs",
    ):
        op.drop_table(table)
