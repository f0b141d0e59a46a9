"""Indexes on the beneficiary's countries: `GET /v1/cases?country_of_origin=…` (and of return, resettlement)
for a country few of an office's cases have walked every case of the office (431 ms p95 at 1M cases in
bench/case_service.py); with them the planner starts from the matching beneficiaries.

Built `CONCURRENTLY`, outside the migration's transaction, so a live beneficiaries table keeps taking writes while
they build. A build that failed leaves an invalid index behind; migrating again drops it and builds it anew.

Revision ID: c7b0country01
Revises: c7a0profrev01
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "c7b0country01"
down_revision: str | None = "c7a0profrev01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("country_of_origin", "country_of_return", "country_of_resettlement")


def _invalid(index: str) -> bool:
    found = op.get_bind().execute(
        sa.text("SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(:index) AND NOT indisvalid"), {"index": index}
    )
    return found.first() is not None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for column in _COLUMNS:
            name = f"ix_beneficiaries_{column}"
            if not context.is_offline_mode() and _invalid(name):  # left by a build that failed
                op.drop_index(name, table_name="beneficiaries", postgresql_concurrently=True)
            op.create_index(
                name,
                "beneficiaries",
                [column],
                postgresql_concurrently=True,
                if_not_exists=True,
            )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for column in reversed(_COLUMNS):
            op.drop_index(
                f"ix_beneficiaries_{column}", table_name="beneficiaries", postgresql_concurrently=True, if_exists=True
            )
