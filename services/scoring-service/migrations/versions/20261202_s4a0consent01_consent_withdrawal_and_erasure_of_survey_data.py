"""Consent withdrawal and erasure of survey data.

Revision ID: s4a0consent01
Revises: 514d34e04a38
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "s4a0consent01"
down_revision: str | None = "514d34e04a38"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("case_version", sa.Integer(), server_default="1", nullable=False))
    op.add_column("cases", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_cases_beneficiary_id"), "cases", ["beneficiary_id"], unique=False)
    op.create_table(
        "analysis_exclusions",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("withdrawal_id", sa.Uuid(), nullable=False),
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("excluded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_analysis_exclusions")),
    )
    op.create_table(
        "withdrawal_receipts",
        sa.Column("withdrawal_id", sa.Uuid(), nullable=False),
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("withdrawn", "narrowed", "expired", name="withdrawalkind", native_enum=False, length=64),
            nullable=False,
        ),
        sa.Column("case_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("concerned_survey_data", sa.Boolean(), nullable=False),
        sa.Column("cases_excluded", sa.Integer(), nullable=False),
        sa.Column("surveys_excluded", sa.Integer(), nullable=False),
        sa.Column("purged", sa.Integer(), nullable=False),
        sa.Column("redacted", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("withdrawal_id", name=op.f("pk_withdrawal_receipts")),
    )
    op.create_index(
        op.f("ix_withdrawal_receipts_beneficiary_id"), "withdrawal_receipts", ["beneficiary_id"], unique=False
    )
    op.create_table(
        "beneficiary_erasures",
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("case_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("surveys_purged", sa.Integer(), nullable=False),
        sa.Column("scores_purged", sa.Integer(), nullable=False),
        sa.Column("schedules_purged", sa.Integer(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("beneficiary_id", name=op.f("pk_beneficiary_erasures")),
    )


def downgrade() -> None:
    op.drop_table("beneficiary_erasures")
    op.drop_index(op.f("ix_withdrawal_receipts_beneficiary_id"), table_name="withdrawal_receipts")
    op.drop_table("withdrawal_receipts")
    op.drop_table("analysis_exclusions")
    op.drop_index(op.f("ix_cases_beneficiary_id"), table_name="cases")
    op.drop_column("cases", "erased_at")
    op.drop_column("cases", "case_version")
