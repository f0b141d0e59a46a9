"""Append-only, tamper-evident audit of every read and write of personal data (data-protection.md §7).

Entries are recorded in the request's unit of work and inserted *unsealed* with its commit: one multi-row INSERT,
no lock, no read, so audited requests never queue behind each other. The worker's sealer (:func:`seal_pending`,
about every second) then links them into one hash chain per database: ``seq`` orders it, ``prev_hash`` is the
previous entry's ``entry_hash``, and ``entry_hash`` is the SHA-256 of a canonical JSON of the entry's fields and
``prev_hash``. Editing, deleting or inserting a sealed row anywhere but at the end breaks the chain at that
``seq``, which :func:`verify_chain` reports. A trigger (see the services' ``*auditsl01`` migrations) refuses
DELETE, TRUNCATE and every UPDATE but the sealing one, which only fills in an unsealed entry's ``seq`` and hashes.

Denied decisions are recorded too (they reveal probing); since the request that was denied usually fails and
rolls back, the unit of work writes its unsaved ``denied`` entries in a short transaction of their own.
"""

import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    RowMapping,
    String,
    Table,
    bindparam,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel

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
    # the sealer's queue: the unsealed entries in the order it chains them
    __table_args__ = (Index("ix_audit_entries_unsealed", "at", "id", postgresql_where=text("seq IS NULL")),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    # the chain order, NULL until sealed; assigned by the sealer under the chain lock, never by an identity
    # (those follow insert order, not commit order)
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, unique=True))
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
    prev_hash: str | None = Field(default=None, max_length=64)  # NULL until sealed
    entry_hash: str | None = Field(default=None, max_length=64)  # NULL until sealed


# The SQL that makes the table append-only. The services' migrations embed a copy of it (frozen history);
# `metadata.create_all` (the shared library's own test database) installs it through the after_create event.
# The one UPDATE let through is the sealer's: an unsealed entry gets its place in the chain and nothing else of
# it changes (every column but the three is compared, so a column added later is covered too).
APPEND_ONLY_FUNCTION = """
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
APPEND_ONLY_TRIGGERS = (
    "CREATE TRIGGER audit_entries_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()",
    "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()",
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


# An entry as its row's column values, for a Core insert: building ORM objects cost more than the insert.
AuditRow = dict[str, object]


class AuditBuffer:
    """The entries recorded in one unit of work, as rows (columns of ``audit_entries``) until its commit."""

    def __init__(self) -> None:
        self._pending: list[AuditRow] = []
        self._last_at: datetime | None = None

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
        at = _utc_now()
        if self._last_at is not None and at <= self._last_at:
            # The sealer chains by (at, id): strictly later times keep one unit of work's entries in record order.
            at = self._last_at + timedelta(microseconds=1)
        self._last_at = at
        self._pending.append(
            {
                "id": uuid4(),
                "at": at,
                "actor_subject": actor.subject,
                "actor_client_id": actor.client_id,
                "actor_office_id": actor.office_id,
                "actor_organisation_id": actor.organisation_id,
                "action": str(action),
                "resource_type": resource_type,
                "resource_id": _str_or_none(resource_id),
                "case_id": case_id,
                "categories": sorted(str(c) for c in categories or ()),
                "purpose": str(purpose),
                "outcome": str(outcome),
                "reason": _str_or_none(reason),
                "basis": _str_or_none(basis),
                "request_id": request_id if request_id is not None else current_trace_id(),
            }
        )

    @property
    def pending(self) -> list[AuditRow]:
        return self._pending

    def committed(self) -> None:
        """The pending entries are in the database now."""
        self._pending = []


class AuditLog(AuditBuffer):
    """The entries of one unit of work. They reach the database, unsealed, only through :meth:`write` at
    commit; the worker's :func:`seal_pending` chains them."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self._session = session

    async def write(self) -> None:
        """Insert the pending entries, unsealed, into the session's transaction (one executemany). Call right
        before commit; it takes no lock, so concurrent commits do not wait for each other."""
        if self._pending:
            await self._session.execute(insert(AUDIT_TABLE), self._pending)

    def take_unsaved_denials(self) -> list[AuditRow]:
        """The ``denied`` entries that were never committed, for a transaction of their own."""
        unsaved = [entry for entry in self._pending if entry["outcome"] == AuditOutcome.DENIED]
        self._pending = []
        return unsaved

    def extend(self, entries: Iterable[AuditRow]) -> None:
        self._pending.extend(entries)


async def _seal_batch(session: AsyncSession, batch: int) -> int:
    table = AUDIT_TABLE
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_CHAIN_LOCK})
    # Read only after the lock is held: under READ COMMITTED each statement sees what the previous holder committed.
    queue = select(table).where(table.c.seq.is_(None)).order_by(table.c.at, table.c.id).limit(batch)
    unsealed = (await session.execute(queue)).mappings().all()
    if not unsealed:
        return 0
    last = select(table.c.seq, table.c.entry_hash).where(table.c.seq.is_not(None)).order_by(table.c.seq.desc())
    tail = (await session.execute(last.limit(1))).first()
    seq, prev = (int(tail[0]), str(tail[1])) if tail is not None else (0, GENESIS_HASH)
    links = []
    for row in unsealed:
        seq += 1
        link = {"b_id": row["id"], "b_seq": seq, "b_prev_hash": prev}
        prev = link["b_entry_hash"] = entry_hash({**row, "seq": seq, "prev_hash": prev})
        links.append(link)
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(seq=bindparam("b_seq"), prev_hash=bindparam("b_prev_hash"), entry_hash=bindparam("b_entry_hash")),
        links,
    )
    return len(links)


async def seal_pending(sessions: async_sessionmaker[AsyncSession], *, batch: int = 1000) -> int:
    """Chain every committed unsealed entry onto the log's tail, oldest (``at``, then ``id``) first, in
    transactions of at most ``batch`` entries, until none is left; returns how many it sealed.

    Safe to run anywhere at any time: sealers serialise on the transaction-scoped chain lock and each continues
    the tail the previous one committed (should a stale snapshot ever fork the chain, the unique ``seq`` refuses
    it, and the trigger refuses sealing an entry twice). Entries committed meanwhile wait for the next call.
    """
    sealed = 0
    while True:
        async with sessions() as session, session.begin():
            count = await _seal_batch(session, batch)
        sealed += count
        if count < batch:
            return sealed


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The outcome of :func:`verify_chain`. ``first_broken_seq`` is the first entry whose hash, link or place
    in the sequence is wrong; ``problem`` says which. ``sealed_before_check`` counts the entries that were still
    unsealed when the check began: they were sealed first and checked with the rest."""

    ok: bool
    entries_checked: int
    first_broken_seq: int | None = None
    problem: str | None = None
    last_seq: int | None = None
    sealed_before_check: int = 0


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
    sessions: async_sessionmaker[AsyncSession],
    *,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> ChainVerification:
    """Seal what is pending, then walk the whole log in ``seq`` order and recompute every link. Changes nothing
    but the sealing; ``progress`` is called with the number of entries checked after each batch.

    A chain cannot show rows cut off its end: compare ``last_seq`` with a value kept elsewhere for that."""
    sealed = await seal_pending(sessions)
    checked, expected_seq, prev = 0, 1, GENESIS_HASH
    async with sessions() as session:
        async for row in _rows(session, batch):
            problem = None
            if row["seq"] != expected_seq:
                problem = "sequence-gap"
            elif row["prev_hash"] != prev:
                problem = "link-mismatch"
            elif row["entry_hash"] != entry_hash(row):
                problem = "hash-mismatch"
            if problem is not None:
                return ChainVerification(
                    False, checked, first_broken_seq=expected_seq, problem=problem, sealed_before_check=sealed
                )
            checked += 1
            expected_seq, prev = expected_seq + 1, str(row["entry_hash"])
            if progress is not None and checked % batch == 0:
                progress(checked)
    return ChainVerification(True, checked, last_seq=checked or None, sealed_before_check=sealed)
