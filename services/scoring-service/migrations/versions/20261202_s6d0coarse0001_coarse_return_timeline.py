"""Coarse return timeline in monitoring profiles: the quarter of return and the days to the first plan approval
replace the exact date of return and approval time.

The exact dates were received whatever the consent, so they are dropped, not converted: each case's next
profile brings the coarse facts when M&E consent to migration history covers them.

Revision ID: s6d0coarse0001
Revises: s6c0return001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s6d0coarse0001"
down_revision: str | None = "s6c0return001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_column("case_monitoring_profiles", "first_plan_approved_at")
    op.drop_column("case_monitoring_profiles", "returned_on")
    op.add_column("case_monitoring_profiles", sa.Column("return_quarter", sa.String(length=7)))
    op.add_column("case_monitoring_profiles", sa.Column("days_return_to_plan", sa.Integer()))


def downgrade() -> None:
    op.drop_column("case_monitoring_profiles", "days_return_to_plan")
    op.drop_column("case_monitoring_profiles", "return_quarter")
    op.add_column("case_monitoring_profiles", sa.Column("returned_on", sa.Date()))
    op.add_column("case_monitoring_profiles", sa.Column("first_plan_approved_at", sa.DateTime(timezone=True)))
