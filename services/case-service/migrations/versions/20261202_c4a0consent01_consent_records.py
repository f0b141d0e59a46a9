"""Consent records, withdrawals and acknowledgements.

Revision ID: c4a0consent01
Revises: 66142efa57ed
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c4a0consent01"
down_revision: str | None = "66142efa57ed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_STATUSES = ("requested", "given", "refused", "renewed", "narrowed", "withdrawn", "expired", "invalidated")
_GIVEN_BY = ("self", "parent", "legal_guardian", "court_appointed", "substitute_per_law", "caregiver")
_METHODS = ("written", "verbal_in_person", "verbal_phone", "remote_video", "electronic_signature")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=64)


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("status", _enum("consentstatus", *_STATUSES), nullable=False),
        sa.Column("given_by", _enum("givenby", *_GIVEN_BY), nullable=False),
        sa.Column("given_by_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("capacity_assessed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("child_assent", sa.Boolean(), nullable=False),
        sa.Column("child_views", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("method", _enum("consentmethod", *_METHODS), nullable=False),
        sa.Column("interpreter", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("notice_version", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("evidence_ref", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("scopes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("supersedes", sa.Uuid(), nullable=True),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("recorded_by_office_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawal_channel", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiaries.id"], name=op.f("fk_consent_records_beneficiary_id_beneficiaries")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes"], ["consent_records.id"], name=op.f("fk_consent_records_supersedes_consent_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    op.create_index(
        "ix_consent_records_beneficiary_recorded",
        "consent_records",
        ["beneficiary_id", "recorded_at", "id"],
        unique=False,
    )
    op.create_table(
        "consent_receipts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("consent_version", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consent_records.id"], name=op.f("fk_consent_receipts_consent_id_consent_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_receipts")),
        sa.UniqueConstraint("consent_id", "consent_version", name=op.f("uq_consent_receipts_consent_id")),
    )
    op.create_table(
        "consent_withdrawals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("owner_office_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", _enum("withdrawalkind", "withdrawn", "narrowed", "expired"), nullable=False),
        sa.Column("superseded_by", sa.Uuid(), nullable=True),
        sa.Column("withdrawn_scopes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("expected_holders", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledge_by", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiaries.id"], name=op.f("fk_consent_withdrawals_beneficiary_id_beneficiaries")
        ),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consent_records.id"], name=op.f("fk_consent_withdrawals_consent_id_consent_records")
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by"],
            ["consent_records.id"],
            name=op.f("fk_consent_withdrawals_superseded_by_consent_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_withdrawals")),
    )
    op.create_index(op.f("ix_consent_withdrawals_consent_id"), "consent_withdrawals", ["consent_id"], unique=False)
    op.create_index(
        "ix_consent_withdrawals_office_withdrawn",
        "consent_withdrawals",
        ["owner_office_id", "withdrawn_at", "id"],
        unique=False,
    )
    op.create_table(
        "withdrawal_acknowledgements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("withdrawal_id", sa.Uuid(), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("purged", sa.Integer(), nullable=False),
        sa.Column("redacted", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["withdrawal_id"],
            ["consent_withdrawals.id"],
            name=op.f("fk_withdrawal_acknowledgements_withdrawal_id_consent_withdrawals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawal_acknowledgements")),
        sa.UniqueConstraint("withdrawal_id", "holder", name=op.f("uq_withdrawal_acknowledgements_withdrawal_id")),
    )


def downgrade() -> None:
    op.drop_table("withdrawal_acknowledgements")
    op.drop_index("ix_consent_withdrawals_office_withdrawn", table_name="consent_withdrawals")
    op.drop_index(op.f("ix_consent_withdrawals_consent_id"), table_name="consent_withdrawals")
    op.drop_table("consent_withdrawals")
    op.drop_table("consent_receipts")
    op.drop_index("ix_consent_records_beneficiary_recorded", table_name="consent_records")
    op.drop_table("consent_records")
