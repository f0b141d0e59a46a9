"""Bulk caseload imports.

Revision ID: c5e0import001
Revises: c5d0sync00001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c5e0import001"
down_revision: str | None = "c5d0sync00001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "case_imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("office_id", _STR(), nullable=False),
        sa.Column("organisation_id", _STR(), nullable=True),
        sa.Column("submitted_by", _STR(), nullable=False),
        sa.Column("client_id", _STR(), nullable=False),
        sa.Column("country", _STR(), nullable=True),
        sa.Column("scopes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("roles", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("file_name", _STR(length=255), nullable=False),
        sa.Column(
            "file_format", sa.Enum("csv", "xlsx", name="importformat", native_enum=False, length=64), nullable=False
        ),
        sa.Column("file_sha256", _STR(length=64), nullable=False),
        sa.Column("ignored_columns", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status",
            sa.Enum("queued", "running", "completed", name="importstatus", native_enum=False, length=64),
            nullable=False,
        ),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_imports")),
    )
    op.create_index(op.f("ix_case_imports_office_id"), "case_imports", ["office_id"], unique=False)
    op.create_index("ix_case_imports_status_created", "case_imports", ["status", "created_at"], unique=False)
    op.create_table(
        "case_import_rows",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("office_id", _STR(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum("pending", "imported", "skipped", "rejected", name="rowoutcome", native_enum=False, length=64),
            nullable=False,
        ),
        sa.Column("cells", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("external_id", _STR(length=200), nullable=True),
        sa.Column("content_hash", _STR(length=64), nullable=True),
        sa.Column("problems", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"], ["case_imports.id"], name=op.f("fk_case_import_rows_import_id_case_imports")
        ),
        sa.PrimaryKeyConstraint("import_id", "row_number", name=op.f("pk_case_import_rows")),
    )
    op.create_index(
        "uq_case_import_rows_office_external_id",
        "case_import_rows",
        ["office_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("outcome = 'imported' AND external_id IS NOT NULL"),
    )
    op.create_index(
        "uq_case_import_rows_office_content_hash",
        "case_import_rows",
        ["office_id", "content_hash"],
        unique=True,
        postgresql_where=sa.text("outcome = 'imported'"),
    )


def downgrade() -> None:
    op.drop_index("uq_case_import_rows_office_content_hash", table_name="case_import_rows")
    op.drop_index("uq_case_import_rows_office_external_id", table_name="case_import_rows")
    op.drop_table("case_import_rows")
    op.drop_index("ix_case_imports_status_created", table_name="case_imports")
    op.drop_index(op.f("ix_case_imports_office_id"), table_name="case_imports")
    op.drop_table("case_imports")
