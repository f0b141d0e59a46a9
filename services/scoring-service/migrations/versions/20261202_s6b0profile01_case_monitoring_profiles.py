"""Pseudonymous case monitoring profiles for indicator disaggregation.

Revision ID: s6b0profile01
Revises: s6a0auditsl01
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "s6b0profile01"
down_revision: str | None = "s6a0auditsl01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_monitoring_profiles",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("profile_version", sa.BigInteger(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sex", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("age_group", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("country_of_origin", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("country_of_return", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.Column("first_plan_approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_monitoring_profiles")),
    )
    op.create_index(
        op.f("ix_case_monitoring_profiles_beneficiary_id"), "case_monitoring_profiles", ["beneficiary_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_case_monitoring_profiles_beneficiary_id"), table_name="case_monitoring_profiles")
    op.drop_table("case_monitoring_profiles")
