"""Case documents.

Revision ID: c5c0documnt01
Revises: c5b0people001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c5c0documnt01"
down_revision: str | None = "c5b0people001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "identity_document",
    "travel_document",
    "medical_record",
    "legal_document",
    "certificate",
    "consent_form",
    "other",
)
MEDIA_TYPES = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)


def upgrade() -> None:
    op.create_table(
        "case_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Enum(*KINDS, name="documentkind", native_enum=False, length=64), nullable=False),
        sa.Column("media_type", sa.Enum(*MEDIA_TYPES, name="mediatype", native_enum=False, length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sealed_metadata", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_case_documents_size_positive")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_documents_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_documents")),
    )
    op.create_index("ix_case_documents_case_uploaded", "case_documents", ["case_id", "uploaded_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_case_documents_case_uploaded", table_name="case_documents")
    op.drop_table("case_documents")
