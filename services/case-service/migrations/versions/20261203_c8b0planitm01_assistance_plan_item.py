"""The plan item an assistance item delivers (reintegration.md §8: plan items link to assistance): a version of
the case's plan and the item's index in it. Plan versions never change, so the link stays true when the plan is
amended. Items planned before this revision have none.

Revision ID: c8b0planitm01
Revises: c8a0pecat001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c8b0planitm01"
down_revision: str | None = "c8a0pecat001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("assistance_items", sa.Column("plan_version", sa.Integer(), nullable=True))
    op.add_column("assistance_items", sa.Column("plan_item", sa.Integer(), nullable=True))
    op.create_check_constraint(
        "plan_item_with_its_version", "assistance_items", "(plan_version IS NULL) = (plan_item IS NULL)"
    )


def downgrade() -> None:
    op.drop_constraint("plan_item_with_its_version", "assistance_items", type_="check")
    op.drop_column("assistance_items", "plan_item")
    op.drop_column("assistance_items", "plan_version")
