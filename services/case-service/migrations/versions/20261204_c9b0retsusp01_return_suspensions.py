"""Return suspensions (reintegration.md R46): an organisation's returns to a country, suspended until lifted; one
in force per organisation and country, which the opening of a return case looks up.

Revision ID: c9b0retsusp01
Revises: c9a0dropprof01
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c9b0retsusp01"
down_revision: str | None = "c9a0dropprof01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "return_suspensions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sqlmodel.AutoString(length=200), nullable=False),
        sa.Column("country", sqlmodel.AutoString(length=2), nullable=False),
        sa.Column("reason", sqlmodel.AutoString(), nullable=False),
        sa.Column("suspended_by", sqlmodel.AutoString(), nullable=False),
        sa.Column("suspended_by_office_id", sqlmodel.AutoString(), nullable=False),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_by", sqlmodel.AutoString(), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_suspensions")),
    )
    op.create_index(
        "uq_return_suspensions_in_force",
        "return_suspensions",
        ["organisation_id", "country"],
        unique=True,
        postgresql_where=sa.text("lifted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_return_suspensions_in_force", table_name="return_suspensions")
    op.drop_table("return_suspensions")
