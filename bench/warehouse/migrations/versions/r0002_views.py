"""Views for the common questions: latest result per case, and the series history.

Revision ID: r0002
Revises: r0001
Create Date: 2026-11-20
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None

# Versioned files: a later change to a view adds a new file and a new revision.
VIEWS = Path(__file__).resolve().parents[2] / "views"


def upgrade() -> None:
    for name in ("latest_results_v1.sql", "series_history_v1.sql"):
        op.execute((VIEWS / name).read_text())


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS series_history")
    op.execute("DROP VIEW IF EXISTS latest_results")
