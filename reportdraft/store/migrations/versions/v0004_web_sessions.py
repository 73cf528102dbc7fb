"""Review-page sessions shared by every service process.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Until 0003 the review pages kept their sessions in each process's memory, so with
``reportdraft serve --workers N`` a browser signed in on one worker was signed out
whenever its next connection reached another. ``web_sessions`` holds them for all
processes. Nothing to backfill: everyone signs in again once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the session table."""
    op.create_table(
        "web_sessions",
        sa.Column("id_sha256", sa.String(64), primary_key=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("key_sha256", sa.String(64), nullable=True),
        sa.Column("created_s", sa.Float(), nullable=False),
        sa.Column("seen_s", sa.Float(), nullable=False),
        sa.Column("flash", sa.JSON(), nullable=False),
    )
    op.create_index("ix_web_sessions_seen_s", "web_sessions", ["seen_s"])


def downgrade() -> None:
    """Drop the session table (development only)."""
    op.drop_index("ix_web_sessions_seen_s", table_name="web_sessions")
    op.drop_table("web_sessions")
