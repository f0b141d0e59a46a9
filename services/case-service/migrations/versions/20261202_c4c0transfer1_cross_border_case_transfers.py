"""Cross-border case transfers.

Revision ID: c4c0transfer1
Revises: c4b0access001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c4c0transfer1"
down_revision: str | None = "c4b0access001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = ("proposed", "accepted", "declined", "expired", "cancelled")


def upgrade() -> None:
    op.create_table(
        "case_transfers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("from_office_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("from_organisation_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("to_office_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("to_organisation_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("to_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*_STATUS, name="transferstatus", native_enum=False, length=64),
            nullable=False,
        ),
        sa.Column("proposed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("respond_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("manifest", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_transfers_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_transfers")),
    )
    op.create_index(op.f("ix_case_transfers_case_id"), "case_transfers", ["case_id"], unique=False)
    op.create_index(
        "uq_case_transfers_pending_case",
        "case_transfers",
        ["case_id"],
        unique=True,
        postgresql_where=sa.text("status = 'proposed'"),
    )
    op.create_index(
        "ix_case_transfers_to_office_proposed", "case_transfers", ["to_office_id", "proposed_at", "id"], unique=False
    )
    op.create_index(
        "ix_case_transfers_from_office_proposed",
        "case_transfers",
        ["from_office_id", "proposed_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_case_transfers_pending_respond_by",
        "case_transfers",
        ["respond_by"],
        unique=False,
        postgresql_where=sa.text("status = 'proposed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_case_transfers_pending_respond_by", table_name="case_transfers")
    op.drop_index("ix_case_transfers_from_office_proposed", table_name="case_transfers")
    op.drop_index("ix_case_transfers_to_office_proposed", table_name="case_transfers")
    op.drop_index("uq_case_transfers_pending_case", table_name="case_transfers")
    op.drop_index(op.f("ix_case_transfers_case_id"), table_name="case_transfers")
    op.drop_table("case_transfers")
