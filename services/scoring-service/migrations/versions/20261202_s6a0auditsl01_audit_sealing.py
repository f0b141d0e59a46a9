"""Audit entries are sealed into the hash chain after commit (STUB: owner fills in).

Revision ID: s6a0auditsl01
Revises: s5a0scoring01
Create Date: 2026-12-02
"""

from collections.abc import Sequence

revision: str = "s6a0auditsl01"
down_revision: str | None = "s5a0scoring01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
