"""Mobile sync change journal.

Revision ID: c5d0sync00001
Revises: c5c0documnt01
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5d0sync00001"
down_revision: str | None = "c5c0documnt01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_ENTITIES = ("case", "assessment", "plan", "note", "assistance", "access")
_OPS = ("upsert", "delete")


def upgrade() -> None:
    op.create_table(
        "sync_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=True),
        sa.Column("entity_type", sa.Enum(*_ENTITIES, name="syncentity", native_enum=False, length=64), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("op", sa.Enum(*_OPS, name="changeop", native_enum=False, length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_changes")),
    )
    op.create_index("ix_sync_changes_seq", "sync_changes", ["seq"], unique=True)
    op.create_index(
        "ix_sync_changes_unnumbered", "sync_changes", ["id"], unique=False, postgresql_where=sa.text("seq IS NULL")
    )


def downgrade() -> None:
    op.drop_index("ix_sync_changes_unnumbered", table_name="sync_changes")
    op.drop_index("ix_sync_changes_seq", table_name="sync_changes")
    op.drop_table("sync_changes")
