"""The warehouse schema as typed SQLAlchemy models: a small star keyed on runs and cases.

benchmark_runs (one per DAG run / CLI invocation) -< benchmark_results (one per case per run)
-< epoch_metrics (one per epoch). A result is the summary of the case's repeats (fresh
processes), each kept in result_repeats. dataset_validations and regression_flags hang off the
run.
Units are in column names (`_seconds`, `_bytes`) or column comments. The migrations in
`migrations/versions` are the source of truth for the database; these models must match them.
They describe tables only: the values the code passes around are bench.records types (Record,
Flag, Acknowledgement, ...), mapped to and from rows by bench.warehouse alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Result columns that hold one number per result: what `history` and `compare` may ask for.
METRIC_COLUMNS: tuple[str, ...] = (
    "steady_epoch_seconds",
    "compile_seconds",
    "total_seconds",
    "peak_rss_bytes",
    "peak_device_bytes",
    "reference_seconds",
    "test_mse_10",
    "test_mae_10",
    "test_mse_20",
    "test_mae_20",
    "test_mse_30",
    "test_mae_30",
)
# The result's last evaluation, whatever its epoch (a 2-epoch run has no 10/20/30 metrics):
# shown beside the results, not judged by detection (runs of different budgets differ).
FINAL_EVAL_COLUMNS: tuple[str, ...] = ("eval_epoch", "test_mse", "test_mae")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType, Any: JSONType}


def _now() -> datetime:
    return datetime.now(UTC)


class BenchmarkRun(Base):
    __tablename__ = "benchmark_runs"
    __table_args__ = (
        sa.CheckConstraint("trigger IN ('scheduled', 'manual', 'cli')", name="ck_runs_trigger"),
        sa.CheckConstraint(
            "validation_outcome IN ('passed', 'failed')", name="ck_runs_validation_outcome"
        ),
        sa.Index("ix_runs_started_at", "started_at", "run_id"),
    )

    run_id: Mapped[str] = mapped_column(sa.String(250), primary_key=True)
    trigger: Mapped[str] = mapped_column(sa.String(16))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    dataset_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    validation_outcome: Mapped[str | None] = mapped_column(sa.String(16))
    code_version: Mapped[str | None] = mapped_column(sa.String(64))
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=_now)


class BenchmarkResult(Base):
    __tablename__ = "benchmark_results"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "framework", "mode", "device", name="uq_results_run_case"),
        sa.CheckConstraint("status IN ('ok', 'skipped', 'failed')", name="ck_results_status"),
        sa.Index("ix_results_case_started", "framework", "mode", "device", "started_at", "run_id"),
        sa.Index("ix_results_fingerprint", "environment_fingerprint"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(
        sa.String(250), sa.ForeignKey("benchmark_runs.run_id", ondelete="CASCADE")
    )
    framework: Mapped[str] = mapped_column(sa.String(32))
    mode: Mapped[str] = mapped_column(sa.String(32))
    device: Mapped[str] = mapped_column(sa.String(32))
    started_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    epochs_completed: Mapped[int] = mapped_column(default=0)
    compile_seconds: Mapped[float | None] = mapped_column(sa.Float)
    steady_epoch_seconds: Mapped[float | None] = mapped_column(sa.Float)
    steady_ci_low: Mapped[float | None] = mapped_column(sa.Float)
    steady_ci_high: Mapped[float | None] = mapped_column(sa.Float)
    steady_cv: Mapped[float | None] = mapped_column(sa.Float)
    reference_seconds: Mapped[float | None] = mapped_column(sa.Float)
    noisy: Mapped[str | None] = mapped_column(sa.Text)
    repeats: Mapped[int] = mapped_column(default=1, server_default="1")
    conditions: Mapped[dict[str, Any] | None]
    total_seconds: Mapped[float | None] = mapped_column(sa.Float)
    peak_rss_bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    peak_device_bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    test_mse_10: Mapped[float | None] = mapped_column(sa.Float)
    test_mae_10: Mapped[float | None] = mapped_column(sa.Float)
    test_mse_20: Mapped[float | None] = mapped_column(sa.Float)
    test_mae_20: Mapped[float | None] = mapped_column(sa.Float)
    test_mse_30: Mapped[float | None] = mapped_column(sa.Float)
    test_mae_30: Mapped[float | None] = mapped_column(sa.Float)
    eval_epoch: Mapped[int | None]
    test_mse: Mapped[float | None] = mapped_column(sa.Float)
    test_mae: Mapped[float | None] = mapped_column(sa.Float)
    eval_metrics: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    dataset_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    framework_version: Mapped[str | None] = mapped_column(sa.String(64))
    environment_fingerprint: Mapped[str] = mapped_column(sa.String(32))
    environment: Mapped[dict[str, Any]]
    schema_version: Mapped[int]
    stored_at: Mapped[datetime] = mapped_column(default=_now)


class ResultRepeatRow(Base):
    """One repeat (fresh process) of a case in a run; benchmark_results holds their summary."""

    __tablename__ = "result_repeats"
    __table_args__ = (
        sa.UniqueConstraint(
            "run_id", "framework", "mode", "device", "repeat", name="uq_repeats_run_case_repeat"
        ),
        sa.CheckConstraint("status IN ('ok', 'skipped', 'failed')", name="ck_repeats_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(
        sa.String(250), sa.ForeignKey("benchmark_runs.run_id", ondelete="CASCADE")
    )
    framework: Mapped[str] = mapped_column(sa.String(32))
    mode: Mapped[str] = mapped_column(sa.String(32))
    device: Mapped[str] = mapped_column(sa.String(32))
    repeat: Mapped[int]
    started_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    steady_epoch_seconds: Mapped[float | None] = mapped_column(sa.Float)
    compile_seconds: Mapped[float | None] = mapped_column(sa.Float)
    total_seconds: Mapped[float | None] = mapped_column(sa.Float)
    peak_rss_bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    steady_ci_low: Mapped[float | None] = mapped_column(sa.Float)
    steady_ci_high: Mapped[float | None] = mapped_column(sa.Float)
    steady_cv: Mapped[float | None] = mapped_column(sa.Float)
    reference_seconds: Mapped[float | None] = mapped_column(sa.Float)
    noisy: Mapped[str | None] = mapped_column(sa.Text)
    record: Mapped[dict[str, Any]]
    stored_at: Mapped[datetime] = mapped_column(default=_now)


class EpochMetricRow(Base):
    __tablename__ = "epoch_metrics"

    result_id: Mapped[int] = mapped_column(
        sa.ForeignKey("benchmark_results.id", ondelete="CASCADE"), primary_key=True
    )
    epoch: Mapped[int] = mapped_column(primary_key=True)
    seconds: Mapped[float | None] = mapped_column(sa.Float)
    train_mae: Mapped[float | None] = mapped_column(sa.Float)


class DatasetValidation(Base):
    __tablename__ = "dataset_validations"

    run_id: Mapped[str] = mapped_column(
        sa.String(250), sa.ForeignKey("benchmark_runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    success: Mapped[bool]
    evaluated_expectations: Mapped[int | None]
    unsuccessful_expectations: Mapped[int | None]
    statistics: Mapped[dict[str, Any]]
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    dataset_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    source: Mapped[str] = mapped_column(sa.String(64))
    validated_at: Mapped[datetime]


class RegressionFlagRow(Base):
    __tablename__ = "regression_flags"
    __table_args__ = (
        sa.UniqueConstraint(
            "run_id", "framework", "mode", "device", "metric", name="uq_flags_run_case_metric"
        ),
        sa.Index("ix_flags_case_metric", "framework", "mode", "device", "metric"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(
        sa.String(250), sa.ForeignKey("benchmark_runs.run_id", ondelete="CASCADE")
    )
    framework: Mapped[str] = mapped_column(sa.String(32))
    mode: Mapped[str] = mapped_column(sa.String(32))
    device: Mapped[str] = mapped_column(sa.String(32))
    environment_fingerprint: Mapped[str | None] = mapped_column(sa.String(32))
    metric: Mapped[str] = mapped_column(sa.String(64))
    baseline_value: Mapped[float | None] = mapped_column(sa.Float)
    value: Mapped[float | None] = mapped_column(sa.Float)
    change_pct: Mapped[float | None] = mapped_column(sa.Float)
    z_score: Mapped[float | None] = mapped_column(sa.Float)
    label: Mapped[str] = mapped_column(sa.String(32))
    detector_version: Mapped[str] = mapped_column(sa.String(32))
    change_point_run_id: Mapped[str | None] = mapped_column(sa.String(250))
    created_at: Mapped[datetime] = mapped_column(default=_now)


class AcknowledgementRow(Base):
    __tablename__ = "acknowledgements"
    __table_args__ = (sa.Index("ix_acks_case_metric", "framework", "mode", "device", "metric"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    framework: Mapped[str] = mapped_column(sa.String(32))
    mode: Mapped[str] = mapped_column(sa.String(32))
    device: Mapped[str] = mapped_column(sa.String(32))
    metric: Mapped[str] = mapped_column(sa.String(64))
    from_run_id: Mapped[str] = mapped_column(
        sa.String(250), sa.ForeignKey("benchmark_runs.run_id", ondelete="CASCADE")
    )
    note: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=_now)


# The tables as Core objects, for INSERT/UPDATE statements (typed as Table, not FromClause).
RUNS = cast(sa.Table, BenchmarkRun.__table__)
RESULTS = cast(sa.Table, BenchmarkResult.__table__)
EPOCHS = cast(sa.Table, EpochMetricRow.__table__)
REPEATS = cast(sa.Table, ResultRepeatRow.__table__)
VALIDATIONS = cast(sa.Table, DatasetValidation.__table__)
FLAGS = cast(sa.Table, RegressionFlagRow.__table__)
ACKNOWLEDGEMENTS = cast(sa.Table, AcknowledgementRow.__table__)

_view_metadata = sa.MetaData()  # views are made by migrations, never by create_all

LatestResultsView = sa.Table(
    "latest_results",
    _view_metadata,
    *(sa.Column(c.name, c.type) for c in RESULTS.c if c.name != "environment"),
    sa.Column("trigger", sa.String),
    sa.Column("code_version", sa.String),
    sa.Column("note", sa.Text),
)
SeriesHistoryView = sa.Table(
    "series_history",
    _view_metadata,
    *(
        sa.Column(name, RESULTS.c[name].type)
        for name in ("framework", "mode", "device", "started_at", "run_id", "status", "reason")
        + METRIC_COLUMNS
        + ("environment_fingerprint", "framework_version")
        + ("steady_ci_low", "steady_ci_high", "steady_cv", "repeats", "noisy")
        + FINAL_EVAL_COLUMNS
        + ("epochs_completed",)
    ),
    sa.Column("trigger", sa.String),
    sa.Column("code_version", sa.String),
    sa.Column("validation_outcome", sa.String),
    sa.Column("note", sa.Text),
)
