"""Overdue withdrawal receipts: each holder whose acknowledgement was missing at the deadline, as reported to the
data controller (data-protection.md §2.4.4), once per withdrawal and holder.

Revision ID: c6d0receipt001
Revises: c6c0profseq01
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c6d0receipt001"
down_revision: str | None = "c6c0profseq01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "overdue_withdrawal_receipts",
        sa.Column("withdrawal_id", sa.Uuid(), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("acknowledge_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["withdrawal_id"],
            ["consent_withdrawals.id"],
            name=op.f("fk_overdue_withdrawal_receipts_withdrawal_id_consent_withdrawals"),
        ),
        sa.PrimaryKeyConstraint("withdrawal_id", "holder", name=op.f("pk_overdue_withdrawal_receipts")),
    )


def downgrade() -> None:
    op.drop_table("overdue_withdrawal_receipts")
