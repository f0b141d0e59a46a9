"""Per-beneficiary keys, erasure.

Revision ID: c4e0vault0001
Revises: c4d0audit0001
Create Date: 2026-12-01

Existing rows are not encrypted here: the key-encryption key is a runtime secret that migrations never see.
Rows without a sealed value keep being read as they are, and erasure seals them under the person's key before
destroying it (service_layer/vault.py), so crypto-shredding covers them too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c4e0vault0001"
down_revision: str | None = "c4d0audit0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "beneficiary_keys",
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiaries.id"], name=op.f("fk_beneficiary_keys_beneficiary_id_beneficiaries")
        ),
        sa.PrimaryKeyConstraint("beneficiary_id", name=op.f("pk_beneficiary_keys")),
    )
    op.create_table(
        "beneficiary_erasures",
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("request_reference", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("requested_by_office_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("case_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiaries.id"],
            name=op.f("fk_beneficiary_erasures_beneficiary_id_beneficiaries"),
        ),
        sa.PrimaryKeyConstraint("beneficiary_id", name=op.f("pk_beneficiary_erasures")),
    )
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("authority_reference", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("placed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("placed_by_office_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["beneficiaries.id"], name=op.f("fk_legal_holds_beneficiary_id_beneficiaries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    op.create_index(
        "ix_legal_holds_active_beneficiary",
        "legal_holds",
        ["beneficiary_id"],
        unique=False,
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.add_column("assessments", sa.Column("sealed_data", sa.LargeBinary(), nullable=True))
    op.create_check_constraint(
        op.f("ck_assessments_sealed_has_no_plaintext"), "assessments", "sealed_data IS NULL OR data = '{}'::jsonb"
    )
    op.add_column("case_notes", sa.Column("sealed_body", sa.LargeBinary(), nullable=True))
    op.create_check_constraint(
        op.f("ck_case_notes_sealed_has_no_plaintext"), "case_notes", "sealed_body IS NULL OR body = ''"
    )


def downgrade() -> None:
    # Sealed values cannot be turned back into plaintext here (no key-encryption key): a downgrade would lose
    # them, so it refuses while any exist.
    op.execute(
        """
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM assessments WHERE sealed_data IS NOT NULL)
               OR EXISTS (SELECT 1 FROM case_notes WHERE sealed_body IS NOT NULL) THEN
                RAISE EXCEPTION 'sealed values exist: downgrading would destroy them';
            END IF;
        END
        $$
        """
    )
    op.drop_constraint(op.f("ck_case_notes_sealed_has_no_plaintext"), "case_notes", type_="check")
    op.drop_column("case_notes", "sealed_body")
    op.drop_constraint(op.f("ck_assessments_sealed_has_no_plaintext"), "assessments", type_="check")
    op.drop_column("assessments", "sealed_data")
    op.drop_index(
        "ix_legal_holds_active_beneficiary", table_name="legal_holds", postgresql_where=sa.text("released_at IS NULL")
    )
    op.drop_table("legal_holds")
    op.drop_table("beneficiary_erasures")
    op.drop_table("beneficiary_keys")
