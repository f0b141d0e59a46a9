"""Monitoring profile versions come from a sequence, not the wall clock: a clock stepping back (NTP, failover)
must not give a newer profile a lower version. It starts above every clock-based version emitted before.

Revision ID: c6c0profseq01
Revises: c6b0return001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c6c0profseq01"
down_revision: str | None = "c6b0return001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE case_monitoring_profile_versions AS bigint")
    # the versions so far were the database clock in microseconds: continue above them
    op.execute(
        "SELECT setval('case_monitoring_profile_versions', "
        "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint + 1000000)"
    )


def downgrade() -> None:
    op.execute("DROP SEQUENCE case_monitoring_profile_versions")
