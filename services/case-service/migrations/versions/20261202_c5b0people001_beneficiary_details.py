"""Beneficiary details, households and duplicate detection.

Revision ID: c5b0people001
Revises: c5a0followup1
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from case_service.domain.people import normalised_name

revision: str = "c5b0people001"
down_revision: str | None = "c5a0followup1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_RELATIONSHIPS = (
    "head",
    "spouse_or_partner",
    "child",
    "stepchild",
    "parent",
    "sibling",
    "grandchild",
    "grandparent",
    "other_relative",
    "non_relative",
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name in ("names", "contacts", "documents"):
        op.add_column(
            "beneficiaries",
            sa.Column(name, postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        )
    op.add_column(
        "beneficiaries", sa.Column("languages", postgresql.ARRAY(sa.String()), server_default="{}", nullable=False)
    )
    for name in ("country_of_origin", "country_of_return", "country_of_resettlement"):
        op.add_column("beneficiaries", sa.Column(name, sa.String(length=2), nullable=True))
    op.add_column("beneficiaries", sa.Column("current_location", sa.String(length=500), nullable=True))
    op.add_column("beneficiaries", sa.Column("name_key", sa.String(), server_default="", nullable=False))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, given_name, family_name FROM beneficiaries")).all()
    for row in rows:
        connection.execute(
            sa.text("UPDATE beneficiaries SET name_key = :key WHERE id = :id"),
            {"key": normalised_name(row.given_name, row.family_name), "id": row.id},
        )
    op.create_index(
        "ix_beneficiaries_name_key_trgm",
        "beneficiaries",
        ["name_key"],
        postgresql_using="gin",
        postgresql_ops={"name_key": "gin_trgm_ops"},
    )
    op.create_table(
        "households",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("registering_office_id", sa.String(), nullable=False),
        sa.Column("registering_organisation_id", sa.String(), nullable=True),
        sa.Column(
            "return_configuration",
            sa.Enum(
                "individual",
                "family_unit_returning",
                "family_stayed_behind",
                name="returnconfiguration",
                native_enum=False,
                length=64,
            ),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
    )
    op.create_index(op.f("ix_households_registering_office_id"), "households", ["registering_office_id"])
    op.create_table(
        "household_members",
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column(
            "relationship_to_head",
            sa.Enum(*_RELATIONSHIPS, name="relationship", native_enum=False, length=64),
            nullable=False,
        ),
        sa.Column("guardian_beneficiary_id", sa.Uuid(), nullable=True),
        sa.Column("external_guardian", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiaries.id"],
            name=op.f("fk_household_members_beneficiary_id_beneficiaries"),
        ),
        sa.ForeignKeyConstraint(
            ["guardian_beneficiary_id"],
            ["beneficiaries.id"],
            name=op.f("fk_household_members_guardian_beneficiary_id_beneficiaries"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_household_members_household_id_households")
        ),
        sa.PrimaryKeyConstraint("beneficiary_id", name=op.f("pk_household_members")),
    )
    op.create_index(op.f("ix_household_members_household_id"), "household_members", ["household_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_household_members_household_id"), table_name="household_members")
    op.drop_table("household_members")
    op.drop_index(op.f("ix_households_registering_office_id"), table_name="households")
    op.drop_table("households")
    op.drop_index("ix_beneficiaries_name_key_trgm", table_name="beneficiaries")
    for name in (
        "name_key",
        "current_location",
        "country_of_resettlement",
        "country_of_return",
        "country_of_origin",
        "languages",
        "documents",
        "contacts",
        "names",
    ):
        op.drop_column("beneficiaries", name)
