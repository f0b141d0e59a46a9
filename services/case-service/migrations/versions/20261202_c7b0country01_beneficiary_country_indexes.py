"""Indexes on the beneficiary's countries: `GET /v1/cases?country_of_origin=…` (and of return, resettlement)
for a country few of an office's cases have walked every case of the office (431 ms p95 at 1M cases in
bench/case_service.py); with them the planner starts from the matching beneficiaries.

Revision ID: c7b0country01
Revises: c7a0profrev01
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c7b0country01"
down_revision: str | None = "c7a0profrev01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("country_of_origin", "country_of_return", "country_of_resettlement")


def upgrade() -> None:
    for column in _COLUMNS:
        op.create_index(f"ix_beneficiaries_{column}", "beneficiaries", [column])


def downgrade() -> None:
    for column in reversed(_COLUMNS):
        op.drop_index(f"ix_beneficiaries_{column}", table_name="beneficiaries")
