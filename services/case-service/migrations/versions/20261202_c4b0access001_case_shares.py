"""Case shares, referral links and break-glass grants.

Revision ID: c4b0access001
Revises: c4a0consent01
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4b0access001"
down_revision: str | None = "c4a0consent01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_shares",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("office_id", sa.String(), nullable=False),
        sa.Column("mode", sa.Enum("view", "edit", name="sharemode", native_enum=False, length=64), nullable=False),
        sa.Column("granted_by", sa.String(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_shares_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_shares")),
    )
    op.create_index(op.f("ix_case_shares_case_id"), "case_shares", ["case_id"])
    op.create_index("ix_case_shares_office_case", "case_shares", ["office_id", "case_id"])
    op.create_table(
        "case_referral_links",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("destination_organisation_id", sa.String(), nullable=False),
        sa.Column("destination_office_id", sa.String(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("referral_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_referral_links_case_id_cases")),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_case_referral_links")),
    )
    op.create_index("ix_case_referral_links_case_active", "case_referral_links", ["case_id", "active"])
    op.create_table(
        "break_glass_grants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("office_id", sa.String(), nullable=True),
        sa.Column("justification", sa.String(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_break_glass_grants_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_grants")),
    )
    op.create_index("ix_break_glass_grants_subject_case", "break_glass_grants", ["subject", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_break_glass_grants_subject_case", table_name="break_glass_grants")
    op.drop_table("break_glass_grants")
    op.drop_index("ix_case_referral_links_case_active", table_name="case_referral_links")
    op.drop_table("case_referral_links")
    op.drop_index("ix_case_shares_office_case", table_name="case_shares")
    op.drop_index(op.f("ix_case_shares_case_id"), table_name="case_shares")
    op.drop_table("case_shares")
