"""Return facts in monitoring profiles: mode of return, host country and the band of the length of absence.

Revision ID: s6c0return001
Revises: s6b0profile01
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "s6c0return001"
down_revision: str | None = "s6b0profile01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("case_monitoring_profiles", sa.Column("mode_of_return", sqlmodel.sql.sqltypes.AutoString()))
    op.add_column("case_monitoring_profiles", sa.Column("host_country", sqlmodel.sql.sqltypes.AutoString(length=2)))
    op.add_column("case_monitoring_profiles", sa.Column("length_of_absence", sqlmodel.sql.sqltypes.AutoString()))


def downgrade() -> None:
    for column in ("length_of_absence", "host_country", "mode_of_return"):
        op.drop_column("case_monitoring_profiles", column)
