"""Rate limits shared by every service process: one token bucket per API key.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06

Until 0002 each ``reportdraft serve`` process kept its own buckets in memory, so N
processes (``serve --workers N``, or several hosts) admitted N times the configured rate.
``rate_buckets`` holds the one bucket per key; processes lease tokens from it in small
batches (``reportdraft.api.limits``). Nothing to backfill: a missing row is a full bucket.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the bucket table."""
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at_s", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    """Drop the bucket table (development only)."""
    op.drop_table("rate_buckets")
