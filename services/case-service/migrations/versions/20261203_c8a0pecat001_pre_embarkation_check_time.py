"""When a resettlement case's pre-embarkation check was passed: departure (`in_transit`) needs one passed within
the last 72 hours (resettlement.md §2.2, the fitness-to-travel check 24-72 h before departure). A case that
passed its check before this revision has no time recorded, and records the check again before it departs.

Revision ID: c8a0pecat001
Revises: c7b0country01
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c8a0pecat001"
down_revision: str | None = "c7b0country01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("pec_passed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("cases", "pec_passed_at")
