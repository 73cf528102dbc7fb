"""Trust boundaries: facility scoping of reports, API keys and webhooks; radiologist keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06

* ``reports.facility``: the case's ``study.performing_facility.identifier``, backfilled
  from the stored case documents, so listings can be filtered in SQL.
* ``api_keys.facilities`` / ``all_facilities``: what a key may see. Existing keys get no
  facilities and ``all_facilities`` false: after the upgrade a non-admin key reads nothing
  until an admin assigns its facilities (or marks it all-facilities explicitly). Failing
  closed is the choice for patient data; the refusal names the reason, so it is visible.
* ``webhooks.facilities`` / ``all_facilities``: existing subscriptions are marked
  all-facilities, so the critical-result webhooks an admin set up keep arriving (a silent
  stop would lose alerts); new subscriptions must name their scope.
* ``radiologist_keys``: each radiologist's own Ed25519 keys, the private half encrypted at
  rest under a key-encryption key (``kek_id`` names which), with revocation time.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from reportdraft.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _facility_of(case_doc: Any) -> str | None:
    study = case_doc.get("study") if isinstance(case_doc, dict) else None
    facility = study.get("performing_facility") if isinstance(study, dict) else None
    identifier = facility.get("identifier") if isinstance(facility, dict) else None
    return identifier if isinstance(identifier, str) and identifier else None


def upgrade() -> None:
    """Add the scoping columns (backfilled) and the radiologist key table."""
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("facility", sa.String(64), nullable=True))
        batch.create_index("ix_reports_facility", ["facility"])
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column("facilities", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(
            sa.Column("all_facilities", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(
            sa.Column("facilities", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(
            sa.Column("all_facilities", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "radiologist_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column(
            "radiologist_id",
            sa.String(64),
            sa.ForeignKey("radiologists.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("private_key_enc", sa.Text(), nullable=True),
        sa.Column("kek_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revocation_reason", sa.String(200), nullable=True),
    )
    bind = op.get_bind()
    reports = sa.table(
        "reports", sa.column("id", sa.String), sa.column("case_doc", sa.JSON), sa.column("facility")
    )
    for report_id, case_doc in bind.execute(sa.select(reports.c.id, reports.c.case_doc)).all():
        facility = _facility_of(case_doc)
        if facility is not None:
            bind.execute(
                reports.update().where(reports.c.id == report_id).values(facility=facility)
            )
    webhooks = sa.table("webhooks", sa.column("all_facilities", sa.Boolean))
    bind.execute(webhooks.update().values(all_facilities=True))


def downgrade() -> None:
    """Drop the key table and the scoping columns (development only)."""
    op.drop_table("radiologist_keys")
    for table in ("webhooks", "api_keys"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("all_facilities")
            batch.drop_column("facilities")
    with op.batch_alter_table("reports") as batch:
        batch.drop_index("ix_reports_facility")
        batch.drop_column("facility")
