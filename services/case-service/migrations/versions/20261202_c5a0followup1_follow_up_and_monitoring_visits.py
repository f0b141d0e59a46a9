"""Follow-up and monitoring visits.

Revision ID: c5a0followup1
Revises: c4e0vault0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5a0followup1"
down_revision: str | None = "c4e0vault0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "follow_up_visits",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column(
            "phase",
            sa.Enum("follow_up", "post_closure", name="followupphase", native_enum=False, length=64),
            nullable=False,
        ),
        sa.Column(
            "schedule",
            sa.Enum(
                "standard",
                "vulnerable",
                "victim_of_trafficking",
                "child",
                "resettlement",
                "resettlement_vulnerable",
                "post_closure_child",
                "post_closure",
                "extra",
                name="schedule",
                native_enum=False,
                length=64,
            ),
            nullable=False,
        ),
        sa.Column("anchor_on", sa.Date(), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("home_visit", "phone", "office", name="visitkind", native_enum=False, length=64),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("planned", "completed", "missed", "cancelled", name="visitstatus", native_enum=False, length=64),
            nullable=False,
        ),
        sa.Column("held_on", sa.Date(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "plan_on_track",
                "plan_needs_review",
                "new_needs_identified",
                "safeguarding_concern",
                "not_reached",
                "declined_visit",
                name="visitoutcome",
                native_enum=False,
                length=64,
            ),
            nullable=True,
        ),
        sa.Column("sealed_notes", sa.LargeBinary(), nullable=True),
        sa.Column("sealed_psychosocial_notes", sa.LargeBinary(), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_follow_up_visits_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_visits")),
    )
    op.create_index("ix_follow_up_visits_case_planned", "follow_up_visits", ["case_id", "planned_on", "id"])
    op.create_index(
        "ix_follow_up_visits_due",
        "follow_up_visits",
        ["planned_on"],
        postgresql_where=sa.text("status = 'planned' AND overdue_at IS NULL"),
    )
    op.create_index(
        "ix_follow_up_visits_overdue_case",
        "follow_up_visits",
        ["case_id"],
        postgresql_where=sa.text("status = 'planned' AND overdue_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_follow_up_visits_overdue_case", table_name="follow_up_visits")
    op.drop_index("ix_follow_up_visits_due", table_name="follow_up_visits")
    op.drop_index("ix_follow_up_visits_case_planned", table_name="follow_up_visits")
    op.drop_table("follow_up_visits")
