"""Consent withdrawal and erasure of notification copies.

Revision ID: n4a0consent01
Revises: f7a36126330b
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "n4a0consent01"
down_revision: str | None = "f7a36126330b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("inbox_items", sa.Column("urgent", sa.Boolean(), server_default="false", nullable=False))
    op.add_column("inbox_items", sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("email_messages", sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("sms_messages", sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("webhook_deliveries", sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))
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
        sa.Column("withheld", sa.Integer(), nullable=False),
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
        sa.Column("purged", sa.Integer(), nullable=False),
        sa.Column("redacted", sa.Integer(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("beneficiary_id", name=op.f("pk_beneficiary_erasures")),
    )


def downgrade() -> None:
    op.drop_table("beneficiary_erasures")
    op.drop_index(op.f("ix_withdrawal_receipts_beneficiary_id"), table_name="withdrawal_receipts")
    op.drop_table("withdrawal_receipts")
    op.drop_column("webhook_deliveries", "redacted_at")
    op.drop_column("sms_messages", "redacted_at")
    op.drop_column("email_messages", "redacted_at")
    op.drop_column("inbox_items", "redacted_at")
    op.drop_column("inbox_items", "urgent")
