"""Scoring wave 2: a screening's (DoMV) vulnerability index and band in their own labelled columns.

Revision ID: s5a0scoring01
Revises: s4d0audit0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "s5a0scoring01"
down_revision: str | None = "s4d0audit0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("scores", sa.Column("vulnerability_index", sa.Float(precision=53), nullable=True))
    op.add_column("scores", sa.Column("vulnerability_band", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    # Screening scores stored so far kept V and its band in the generic composite columns.
    op.execute(
        "UPDATE scores SET vulnerability_index = composite, vulnerability_band = composite_band "
        "WHERE instrument_code IN (SELECT code FROM instruments WHERE kind = 'screening')"
    )


def downgrade() -> None:
    op.drop_column("scores", "vulnerability_band")
    op.drop_column("scores", "vulnerability_index")
