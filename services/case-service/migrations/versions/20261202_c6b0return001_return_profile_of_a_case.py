"""The return profile of a case: mode of return, AVRR category, intended duration, host country, length of
absence and the date of return (reintegration.md §5.1).

Revision ID: c6b0return001
Revises: c6a0auditsl01
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c6b0return001"
down_revision: str | None = "c6a0auditsl01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENUMS = {
    "mode_of_return": ("ModeOfReturn", ("avrr_voluntary", "forced_deported", "spontaneous", "other")),
    "avrr_category": (
        "AvrrCategory",
        ("stranded_migrant", "asylum_seeker_withdrew", "migrant_worker_end_of_contract", "visa_overstayer", "other"),
    ),
    "return_intended_duration": ("ReturnIntendedDuration", ("permanent", "temporary")),
}


def upgrade() -> None:
    for column, (name, values) in _ENUMS.items():
        op.add_column(
            "cases",
            sa.Column(column, sa.Enum(*values, name=name.lower(), native_enum=False, length=64), nullable=True),
        )
    op.add_column("cases", sa.Column("host_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True))
    op.add_column("cases", sa.Column("length_of_absence_years", sa.Numeric(4, 1), nullable=True))
    op.add_column("cases", sa.Column("returned_on", sa.Date(), nullable=True))
    # A case in its arrival stage today entered it on its last stage change: keep that day as its return.
    op.execute("UPDATE cases SET returned_on = (stage_changed_at AT TIME ZONE 'UTC')::date WHERE stage = 'arrived'")


def downgrade() -> None:
    for column in ("returned_on", "length_of_absence_years", "host_country", *reversed(list(_ENUMS))):
        op.drop_column("cases", column)
