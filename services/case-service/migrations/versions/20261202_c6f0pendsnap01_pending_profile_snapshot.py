"""The return profile as last published, kept on a pending case's mark beside its date of return: an immediate
profile of the case carries it until the weekly publication, so that its time does not date the return.

Revision ID: c6f0pendsnap01
Revises: c6e0pending001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c6f0pendsnap01"
down_revision: str | None = "c6e0pending001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MODES = ("avrr_voluntary", "forced_deported", "spontaneous", "other")


def upgrade() -> None:
    op.add_column(
        "monitoring_profile_pending",
        sa.Column(
            "published_mode_of_return",
            sa.Enum(*_MODES, name="modeofreturn", native_enum=False, length=64),
            nullable=True,
        ),
    )
    op.add_column(
        "monitoring_profile_pending",
        sa.Column("published_host_country", sa.String(length=2), nullable=True),
    )
    op.add_column(
        "monitoring_profile_pending", sa.Column("published_length_of_absence_years", sa.Numeric(4, 1), nullable=True)
    )
    # A mark made before this revision kept no return profile: the case's current one is the best there is.
    op.execute(
        "UPDATE monitoring_profile_pending AS p SET published_mode_of_return = c.mode_of_return,"
        " published_host_country = c.host_country, published_length_of_absence_years = c.length_of_absence_years"
        " FROM cases AS c WHERE c.id = p.case_id"
    )


def downgrade() -> None:
    for column in ("published_length_of_absence_years", "published_host_country", "published_mode_of_return"):
        op.drop_column("monitoring_profile_pending", column)
