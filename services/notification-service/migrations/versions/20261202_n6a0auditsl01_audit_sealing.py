"""Audit entries are inserted unsealed at commit and sealed into the hash chain by the worker: seq, prev_hash
and entry_hash become nullable, a partial index queues the unsealed entries, and the append-only trigger lets
the one sealing UPDATE through.

Revision ID: n6a0auditsl01
Revises: n4d0audit0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casebridge_common.audit import GENESIS_HASH, entry_hash

revision: str = "n6a0auditsl01"
down_revision: str | None = "n4d0audit0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHAIN_LOCK = 0x6175646974  # the chain tail's pg_advisory_xact_lock key, as the sealer takes it
HASHES = ("seq", "prev_hash", "entry_hash")

# Frozen copies of the trigger function: after this revision (only an unsealed entry may get its place in the
# chain, every other column unchanged) and before it (no UPDATE at all).
SEALING_APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL
        AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.entry_hash IS NOT NULL
        AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'entry_hash')
            IS NOT DISTINCT FROM (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'entry_hash') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING MESSAGE = 'audit_entries is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END
$$
"""
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'audit_entries is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END
$$
"""


def _seal_pending() -> None:
    """Chain the entries still unsealed onto the tail, oldest first (`at`, then `id`), as the sealer would."""
    bind = op.get_bind()
    bind.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    tail = bind.execute(
        sa.text("SELECT seq, entry_hash FROM audit_entries WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")
    ).first()
    seq, prev = (int(tail[0]), str(tail[1])) if tail is not None else (0, GENESIS_HASH)
    rows = bind.execute(sa.text("SELECT * FROM audit_entries WHERE seq IS NULL ORDER BY at, id")).mappings().all()
    links = []
    for row in rows:
        seq += 1
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
    for column in HASHES:
        op.alter_column("audit_entries", column, nullable=True)
    op.create_index(
        "ix_audit_entries_unsealed",
        "audit_entries",
        ["at", "id"],
        unique=False,
        postgresql_where=sa.text("seq IS NULL"),
    )
    op.execute(SEALING_APPEND_ONLY_FUNCTION)


def downgrade() -> None:
    _seal_pending()  # while the sealing UPDATE is still allowed
    op.execute(APPEND_ONLY_FUNCTION)
    op.drop_index("ix_audit_entries_unsealed", table_name="audit_entries", postgresql_where=sa.text("seq IS NULL"))
    for column in HASHES:
        op.alter_column("audit_entries", column, nullable=False)
