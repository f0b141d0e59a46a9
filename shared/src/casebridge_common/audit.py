"""Append-only, tamper-evident audit of every read and write of personal data (data-protection.md §7).

Entries are recorded in the request's unit of work and written with its commit. Each entry is a link of one
hash chain per database: ``seq`` orders it, ``prev_hash`` is the previous entry's ``entry_hash``, and
``entry_hash`` is the SHA-256 of a canonical JSON of the entry's fields and ``prev_hash``. Editing, deleting or
inserting a row anywhere but at the end breaks the chain at that ``seq``, which :func:`verify_chain` reports.
A trigger (see the services' ``*audit0001`` migrations) refuses UPDATE, DELETE and TRUNCATE on the table.

Denied decisions are recorded too (they reveal probing); since the request that was denied usually fails and
rolls back, the unit of work writes its unsaved ``denied`` entries in a short transaction of their own.
"""

import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import BigInteger, Column, Connection, DateTime, RowMapping, String, Table, event, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from casebridge_common.access import Decision
from casebridge_common.auth import Principal
from casebridge_common.telemetry import current_trace_id

# pg_advisory_xact_lock key of the chain's tail ("audit" in ASCII); one chain per database, so one key.
AUDIT_CHAIN_LOCK = 0x6175646974
GENESIS_HASH = "0" * 64


class AuditAction(StrEnum):
    """What was done (data-protection.md §7: create, read, update, delete, share, export, consent change,
    override, break-glass)."""

    VIEW = "view"
    LIST = "list"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    SHARE = "share"
    DISCLOSE = "disclose"
    EXPORT = "export"
    CONSENT_CHANGE = "consent_change"
    OVERRIDE = "override"
    BREAK_GLASS = "break_glass"
    ERASE = "erase"


class AuditOutcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entries"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    # the chain order; assigned at commit under the chain lock, never by an identity (those follow insert
    # order, not commit order)
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=False, unique=True))
    at: datetime = Field(
        default_factory=_utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    actor_subject: str
    actor_client_id: str
    actor_office_id: str | None
    actor_organisation_id: str | None
    action: str
    resource_type: str
    resource_id: str | None
    case_id: UUID | None = Field(default=None, index=True)
    categories: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String), nullable=False))
    purpose: str
    outcome: str = "allowed"
    reason: str | None = None  # the policy's Reason for the decision
    basis: str | None = None  # the consent, share, referral or grant id that authorised it
    request_id: str | None = None  # the trace id of the request, as problem responses carry it
    prev_hash: str = Field(default=GENESIS_HASH, max_length=64)
    entry_hash: str = Field(default="", max_length=64)


# The SQL that makes the table append-only. The services' migrations install it; `metadata.create_all`
# (the shared library's own test database) installs it through the table's after_create event.
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
AUDIT_TABLE: Table = AuditEntry.__table__  # type: ignore[attr-defined]


@event.listens_for(AUDIT_TABLE, "after_create")
def _install_append_only(target: Table, connection: Connection, **kw: object) -> None:
    for statement in (APPEND_ONLY_FUNCTION, *APPEND_ONLY_TRIGGERS):
        connection.execute(text(statement))


_HASHED_FIELDS = (
    "seq",
    "id",
    "at",
    "actor_subject",
    "actor_client_id",
    "actor_office_id",
    "actor_organisation_id",
    "action",
    "resource_type",
    "resource_id",
    "case_id",
    "categories",
    "purpose",
    "outcome",
    "reason",
    "basis",
    "request_id",
    "prev_hash",
)


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return value


def entry_hash(fields: Mapping[str, object] | RowMapping) -> str:
    """SHA-256 (hex) of the canonical JSON of an entry's fields, ``prev_hash`` included.

    ``fields`` is an entry's ``model_dump()`` or a database row mapping: both give the same hash. The migrations
    use this function to backfill existing rows, so its output must never change for existing entries.
    """
    document = {name: _canonical(fields[name]) for name in _HASHED_FIELDS}
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _str_or_none(value: UUID | str | None) -> str | None:
    return None if value is None else str(value)


class AuditLog:
    """The entries of one unit of work. They reach the database only through :meth:`seal` at commit."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._pending: list[AuditEntry] = []

    def record(
        self,
        actor: Principal,
        action: AuditAction,
        *,
        resource_type: str,
        resource_id: UUID | str | None,
        categories: Iterable[str] | None = None,
        purpose: str = "case_management",
        outcome: str = AuditOutcome.ALLOWED,
        reason: str | None = None,
        basis: UUID | str | None = None,
        case_id: UUID | None = None,
        request_id: str | None = None,
        decision: Decision | None = None,
    ) -> None:
        """Record one access. ``decision`` (from :func:`casebridge_common.access.decide`) sets ``outcome``,
        ``reason`` and ``basis`` at once. ``request_id`` defaults to the current trace id.

        An entry with ``outcome="denied"`` is written even if the unit of work then rolls back."""
        if decision is not None:
            outcome = AuditOutcome.ALLOWED if decision.allowed else AuditOutcome.DENIED
            reason, basis = decision.reason, decision.basis
        self._pending.append(
            AuditEntry(
                actor_subject=actor.subject,
                actor_client_id=actor.client_id,
                actor_office_id=actor.office_id,
                actor_organisation_id=actor.organisation_id,
                action=str(action),
                resource_type=resource_type,
                resource_id=_str_or_none(resource_id),
                case_id=case_id,
                categories=sorted(str(c) for c in categories or ()),
                purpose=str(purpose),
                outcome=str(outcome),
                reason=_str_or_none(reason),
                basis=_str_or_none(basis),
                request_id=request_id if request_id is not None else current_trace_id(),
            )
        )

    async def seal(self) -> None:
        """Chain the pending entries onto the log's tail and add them to the session. Call right before commit.

        Everything else in the session is flushed *before* the chain lock is taken: holding the lock, this
        transaction then only inserts audit rows, so it never waits for another transaction's row locks while
        others wait for it (no deadlock), and the lock is held only for the insert and the commit. The lock is
        transaction-scoped: the next writer reads the tail only after this commit is visible (READ COMMITTED;
        under a stale snapshot the unique ``seq`` refuses a fork instead).
        """
        if not self._pending:
            return
        await self._session.flush()
        await self._session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_CHAIN_LOCK})
        tail = (
            await self._session.execute(
                select(col(AuditEntry.seq), col(AuditEntry.entry_hash)).order_by(col(AuditEntry.seq).desc()).limit(1)
            )
        ).first()
        seq, prev = (tail[0] or 0, tail[1]) if tail is not None else (0, GENESIS_HASH)
        for entry in self._pending:
            seq += 1
            entry.seq, entry.prev_hash = seq, prev
            entry.entry_hash = prev = entry_hash(entry.model_dump())
        self._session.add_all(self._pending)
        await self._session.flush()

    def committed(self) -> None:
        """The pending entries are in the database now."""
        self._pending = []

    def take_unsaved_denials(self) -> list[AuditEntry]:
        """Fresh copies of the ``denied`` entries that were never committed, for a transaction of their own."""
        unsaved = [
            AuditEntry.model_validate(entry.model_dump(exclude={"seq", "prev_hash", "entry_hash"}))
            for entry in self._pending
            if entry.outcome == AuditOutcome.DENIED
        ]
        self._pending = []
        return unsaved

    def extend(self, entries: Iterable[AuditEntry]) -> None:
        self._pending.extend(entries)


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The outcome of :func:`verify_chain`. ``first_broken_seq`` is the first entry whose hash, link or place
    in the sequence is wrong; ``problem`` says which."""

    ok: bool
    entries_checked: int
    first_broken_seq: int | None = None
    problem: str | None = None
    last_seq: int | None = None


async def _rows(session: AsyncSession, batch: int) -> AsyncIterator[RowMapping]:
    table = AUDIT_TABLE
    after = 0
    while True:
        rows = (
            (await session.execute(select(table).where(table.c.seq > after).order_by(table.c.seq).limit(batch)))
            .mappings()
            .all()
        )
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        after = int(rows[-1]["seq"])


async def verify_chain(
    session: AsyncSession,
    *,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> ChainVerification:
    """Walk the whole log in ``seq`` order and recompute every link. Read-only; ``progress`` is called with
    the number of entries checked after each batch.

    A chain cannot show rows cut off its end: compare ``last_seq`` with a value kept elsewhere for that."""
    checked, expected_seq, prev = 0, 1, GENESIS_HASH
    async for row in _rows(session, batch):
        problem = None
        if row["seq"] != expected_seq:
            problem = "sequence-gap"
        elif row["prev_hash"] != prev:
            problem = "link-mismatch"
        elif row["entry_hash"] != entry_hash(row):
            problem = "hash-mismatch"
        if problem is not None:
            return ChainVerification(False, checked, first_broken_seq=expected_seq, problem=problem)
        checked += 1
        expected_seq, prev = expected_seq + 1, str(row["entry_hash"])
        if progress is not None and checked % batch == 0:
            progress(checked)
    return ChainVerification(True, checked, last_seq=checked or None)
