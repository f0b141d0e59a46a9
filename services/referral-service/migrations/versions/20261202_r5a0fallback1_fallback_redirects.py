"""Fallback redirects.

Revision ID: r5a0fallback1
Revises: r4d0audit0001
Create Date: 2026-12-02

Referrals name a fallback service and link to the referral they replace or that replaced them; pathways may
redirect after a missed acknowledgement; the redirect decisions are recorded. The pathways' required consent
categories move to the access policy's DataCategory codes: `health` (only the MHPSS pathways use it) becomes
`psychosocial_notes`, the C3 counselling category a case manager may disclose (`health_clinical` is C4, for
clinical roles only, G8), and `referral_facts` goes (the referral's own facts travel with every referral; they
are no consent category).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "r5a0fallback1"
down_revision: str | None = "r4d0audit0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "pathways",
        sa.Column("redirect_on_missed_acknowledgement", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.execute(
        "UPDATE pathways SET required_consent_categories = "
        "array_remove(array_replace(required_consent_categories, 'health', 'psychosocial_notes'), 'referral_facts')"
    )
    op.add_column("referrals", sa.Column("fallback_service_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column("referrals", sa.Column("redirected_from_referral_id", sa.Uuid(), nullable=True))
    op.add_column("referrals", sa.Column("redirected_to_referral_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_referrals_fallback_service_id_services"), "referrals", "services", ["fallback_service_id"], ["id"]
    )
    op.create_foreign_key(
        op.f("fk_referrals_redirected_from_referral_id_referrals"),
        "referrals",
        "referrals",
        ["redirected_from_referral_id"],
        ["id"],
    )
    op.create_foreign_key(
        op.f("fk_referrals_redirected_to_referral_id_referrals"),
        "referrals",
        "referrals",
        ["redirected_to_referral_id"],
        ["id"],
    )
    op.create_unique_constraint(
        op.f("uq_referrals_redirected_from_referral_id"), "referrals", ["redirected_from_referral_id"]
    )
    op.create_table(
        "fallback_redirects",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "redirected",
                "consent-not-covering",
                "no-fallback-accepting",
                "case-closed",
                name="redirectoutcome",
                native_enum=False,
                length=64,
            ),
            nullable=False,
        ),
        sa.Column("fallback_service_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("redirected_to_referral_id", sa.Uuid(), nullable=True),
        sa.Column("missing_categories", postgresql.ARRAY(sa.String()), server_default="{}", nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fallback_service_id"], ["services.id"], name=op.f("fk_fallback_redirects_fallback_service_id_services")
        ),
        sa.ForeignKeyConstraint(
            ["redirected_to_referral_id"],
            ["referrals.id"],
            name=op.f("fk_fallback_redirects_redirected_to_referral_id_referrals"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_fallback_redirects_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_fallback_redirects")),
    )


def downgrade() -> None:
    op.drop_table("fallback_redirects")
    op.drop_constraint(op.f("uq_referrals_redirected_from_referral_id"), "referrals", type_="unique")
    for name in (
        "fk_referrals_redirected_to_referral_id_referrals",
        "fk_referrals_redirected_from_referral_id_referrals",
        "fk_referrals_fallback_service_id_services",
    ):
        op.drop_constraint(op.f(name), "referrals", type_="foreignkey")
    for column in ("redirected_to_referral_id", "redirected_from_referral_id", "fallback_service_id"):
        op.drop_column("referrals", column)
    op.execute(
        "UPDATE pathways SET required_consent_categories = "
        "array_prepend('referral_facts', array_replace(required_consent_categories, 'psychosocial_notes', 'health'))"
    )
    op.drop_column("pathways", "redirect_on_missed_acknowledgement")
