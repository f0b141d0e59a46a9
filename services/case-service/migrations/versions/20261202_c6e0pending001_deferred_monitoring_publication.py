"""Deferred monitoring publication: the cases whose timeline changed (arrival, plan approval, return profile) and
whose profile the weekly job publishes, so that a profile's publication time does not reveal the day of return;
with the date of return as last published, which an immediate profile of a pending case carries meanwhile.

Revision ID: c6e0pending001
Revises: c6d0receipt001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c6e0pending001"
down_revision: str | None = "c6d0receipt001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_profile_pending",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_returned_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_monitoring_profile_pending_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_monitoring_profile_pending")),
    )


def downgrade() -> None:
    op.drop_table("monitoring_profile_pending")
