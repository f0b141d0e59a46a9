"""Drop the beneficiary's profile revision: opening a case no longer builds the case's first monitoring profile
(it waits for the weekly publication), so nothing checks the revision any more (repositories/openings.py).

Revision ID: c9a0dropprof01
Revises: c8b0planitm01
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c9a0dropprof01"
down_revision: str | None = "c8b0planitm01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_column("beneficiaries", "profile_revision")


def downgrade() -> None:
    op.add_column("beneficiaries", sa.Column("profile_revision", sa.BigInteger(), server_default="0", nullable=False))
