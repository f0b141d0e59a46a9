"""A beneficiary's profile revision: bumped under the beneficiary's row lock by every change that re-profiles
its cases (a consent given, narrowed, withdrawn or expired; a personal fact changed). Opening a case checks it
in the one statement that writes the case, so the case's first monitoring profile is built from current
consents or the opening is retried (repositories/openings.py).

Revision ID: c7a0profrev01
Revises: c6f0pendsnap01
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7a0profrev01"
down_revision: str | None = "c6f0pendsnap01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("beneficiaries", sa.Column("profile_revision", sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    op.drop_column("beneficiaries", "profile_revision")
