"""Tamper-evident audit hash chain: seq, prev_hash, entry_hash, policy reason and basis, case and request ids;
existing entries are chained in (at, id) order; a trigger makes the table append-only.

Revision ID: r4d0audit0001
Revises: r4a0consent01
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from casebridge_common.audit import GENESIS_HASH, entry_hash

revision: str = "r4d0audit0001"
down_revision: str | None = "r4a0consent01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The append-only trigger as this revision installed it (a frozen copy: the library's current one lets the
# sealer's UPDATE through, see the *auditsl01 revision).
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'audit_entries is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END
$$
"""
APPEND_ONLY_TRIGGERS = (
    "CREATE TRIGGER audit_entries_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()",
    "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()",
)
DROP_APPEND_ONLY = (
    "DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries",
    "DROP TRIGGER IF EXISTS audit_entries_no_update_or_delete ON audit_entries",
    "DROP FUNCTION IF EXISTS audit_entries_append_only()",
)


def _backfill() -> None:
    """Chain the entries written before the chain existed, oldest first (`at`, then `id` to break ties)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT * FROM audit_entries ORDER BY at, id")).mappings().all()
    links, prev = [], GENESIS_HASH
    for seq, row in enumerate(rows, start=1):
        link = {"id": row["id"], "seq": seq, "prev_hash": prev}
        prev = link["entry_hash"] = entry_hash({**row, **link})
        links.append(link)
    if links:
        bind.execute(
            sa.text(
                "UPDATE audit_entries SET seq = :seq, prev_hash = :prev_hash, entry_hash = :entry_hash WHERE id = :id"
            ),
            links,
        )


def upgrade() -> None:
    op.add_column("audit_entries", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_entries", sa.Column("case_id", sa.Uuid(), nullable=True))
    op.add_column("audit_entries", sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column("audit_entries", sa.Column("basis", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column("audit_entries", sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column("audit_entries", sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.add_column("audit_entries", sa.Column("entry_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    _backfill()
    for column in ("seq", "prev_hash", "entry_hash"):
        op.alter_column("audit_entries", column, nullable=False)
    op.create_unique_constraint(op.f("uq_audit_entries_seq"), "audit_entries", ["seq"])
    op.create_index(op.f("ix_audit_entries_case_id"), "audit_entries", ["case_id"], unique=False)
    for statement in (APPEND_ONLY_FUNCTION, *APPEND_ONLY_TRIGGERS):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_APPEND_ONLY:
        op.execute(statement)
    op.drop_index(op.f("ix_audit_entries_case_id"), table_name="audit_entries")
    op.drop_constraint(op.f("uq_audit_entries_seq"), "audit_entries", type_="unique")
    for column in ("entry_hash", "prev_hash", "request_id", "basis", "reason", "case_id", "seq"):
        op.drop_column("audit_entries", column)
