"""Consent projection, disclosure ledger, withdrawal receipts.

Revision ID: r4a0consent01
Revises: d78bbd1ef49f
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "r4a0consent01"
down_revision: str | None = "d78bbd1ef49f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=64)


def _when(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "consent_projections",
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            _enum(
                "consentstatus",
                "requested",
                "given",
                "refused",
                "renewed",
                "narrowed",
                "withdrawn",
                "expired",
                "invalidated",
            ),
            nullable=False,
        ),
        sa.Column(
            "given_by",
            _enum("givenby", "self", "parent", "legal_guardian", "court_appointed", "substitute_per_law", "caregiver"),
            nullable=False,
        ),
        sa.Column("child_assent", sa.Boolean(), nullable=False),
        sa.Column("scopes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        _when("valid_from", nullable=False),
        _when("valid_until"),
        _when("ended_at"),
        _when("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("consent_id", name=op.f("pk_consent_projections")),
    )
    op.create_index(
        "ix_consent_projections_beneficiary",
        "consent_projections",
        ["beneficiary_id", "valid_from", "consent_id"],
        unique=False,
    )
    op.create_table(
        "disclosures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("recipient_office_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("recipient_organisation_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("recipient_organisation_type", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("recipient_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("categories", postgresql.ARRAY(sa.String()), server_default="{}", nullable=False),
        sa.Column("consents", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("disclosed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        _when("disclosed_at", nullable=False),
        _when("erased_at"),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"], name=op.f("fk_disclosures_referral_id_referrals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosures")),
    )
    op.create_index(op.f("ix_disclosures_case_id"), "disclosures", ["case_id"], unique=False)
    op.create_index(op.f("ix_disclosures_referral_id"), "disclosures", ["referral_id"], unique=False)
    op.create_table(
        "snapshot_redactions",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("withdrawal_id", sa.Uuid(), nullable=False),
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("kind", _enum("withdrawalkind", "withdrawn", "narrowed", "expired"), nullable=False),
        sa.Column("categories", postgresql.ARRAY(sa.String()), server_default="{}", nullable=False),
        sa.Column("referral_closed", sa.Boolean(), nullable=False),
        _when("redacted_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_snapshot_redactions_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("referral_id", "withdrawal_id", name=op.f("pk_snapshot_redactions")),
    )
    op.add_column("case_projections", sa.Column("beneficiary_id", sa.Uuid(), nullable=True))
    op.add_column(
        "case_projections",
        sa.Column("subject_is_minor", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("case_projections", _when("closed_at"))
    op.create_index(op.f("ix_case_projections_beneficiary_id"), "case_projections", ["beneficiary_id"], unique=False)
    op.add_column("referrals", _when("consent_withdrawn_at"))
    op.add_column("referrals", _when("case_closed_at"))
    op.add_column("referrals", _when("erased_at"))


def downgrade() -> None:
    for column in ("erased_at", "case_closed_at", "consent_withdrawn_at"):
        op.drop_column("referrals", column)
    op.drop_index(op.f("ix_case_projections_beneficiary_id"), table_name="case_projections")
    for column in ("closed_at", "subject_is_minor", "beneficiary_id"):
        op.drop_column("case_projections", column)
    op.drop_table("snapshot_redactions")
    op.drop_index(op.f("ix_disclosures_referral_id"), table_name="disclosures")
    op.drop_index(op.f("ix_disclosures_case_id"), table_name="disclosures")
    op.drop_table("disclosures")
    op.drop_index("ix_consent_projections_beneficiary", table_name="consent_projections")
    op.drop_table("consent_projections")
