"""The mobile sync change journal and the rules of a sync: which writes are journalled, how a device's cursor
reads, and when an offline edit conflicts with what the server holds.

Every flush of a tracked record appends one `SyncChange` row in the same transaction (the unit of work's
`before_flush` hook calls :func:`journal_entries`), so a write path cannot forget it. The rows are numbered
(`seq`) by the reader, not the writer: a reader first numbers every committed, unnumbered row under one advisory
lock, after the highest number handed out. A transaction that commits later therefore always gets higher
numbers than anything a device has already been given, which numbering at insert time (an identity column)
would not guarantee between concurrent writers. No writer waits on the lock.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import BigInteger, Column, Identity, Index, text
from sqlmodel import Field, SQLModel

from case_service.domain.assessments import Assessment, CaseNote, Plan
from case_service.domain.assistance import AssistanceItem
from case_service.domain.consent import ConsentRecord
from case_service.domain.models import Case
from case_service.domain.sharing import BreakGlassGrant, CaseReferralLink, CaseShare
from case_service.domain.transfers import CaseTransfer
from casebridge_common.db import enum_type, stored_instant


class SyncEntity(StrEnum):
    CASE = "case"
    ASSESSMENT = "assessment"
    PLAN = "plan"
    NOTE = "note"
    ASSISTANCE = "assistance"
    # a share, transfer, referral link, break-glass grant or consent changed who may see what of the case
    ACCESS = "access"


class ChangeOp(StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"


class SyncChange(SQLModel, table=True):
    """One journalled change. `case_id` is null for a consent change, which concerns every case of
    `beneficiary_id`; `seq` is null until a reader numbers the row (see the module docstring)."""

    __tablename__ = "sync_changes"
    __table_args__ = (
        Index("ix_sync_changes_seq", "seq", unique=True),
        Index("ix_sync_changes_unnumbered", "id", postgresql_where=text("seq IS NULL")),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    case_id: UUID | None = None
    beneficiary_id: UUID | None = None
    entity_type: SyncEntity = Field(sa_type=enum_type(SyncEntity))
    entity_id: UUID
    op: ChangeOp = Field(sa_type=enum_type(ChangeOp))


@dataclass(frozen=True, slots=True)
class JournalEntry:
    case_id: UUID | None
    beneficiary_id: UUID | None
    entity_type: SyncEntity
    entity_id: UUID
    op: ChangeOp

    def row(self) -> SyncChange:
        return SyncChange(
            case_id=self.case_id,
            beneficiary_id=self.beneficiary_id,
            entity_type=self.entity_type,
            entity_id=self.entity_id,
            op=self.op,
        )


_ENTITY_OF: dict[type, SyncEntity] = {
    Assessment: SyncEntity.ASSESSMENT,
    Plan: SyncEntity.PLAN,
    CaseNote: SyncEntity.NOTE,
    AssistanceItem: SyncEntity.ASSISTANCE,
    CaseShare: SyncEntity.ACCESS,
    CaseTransfer: SyncEntity.ACCESS,
    BreakGlassGrant: SyncEntity.ACCESS,
}


def _entry(record: object, op: ChangeOp) -> JournalEntry | None:
    if isinstance(record, Case):
        return JournalEntry(record.id, None, SyncEntity.CASE, record.id, op)
    if isinstance(record, ConsentRecord):
        return JournalEntry(None, record.beneficiary_id, SyncEntity.ACCESS, record.id, op)
    if isinstance(record, CaseReferralLink):
        return JournalEntry(record.case_id, None, SyncEntity.ACCESS, record.referral_id, op)
    if isinstance(record, Assessment | Plan | CaseNote | AssistanceItem | CaseShare | CaseTransfer | BreakGlassGrant):
        return JournalEntry(record.case_id, None, _ENTITY_OF[type(record)], record.id, op)
    return None


def journal_entries(new: Iterable[object], dirty: Iterable[object], deleted: Iterable[object]) -> list[JournalEntry]:
    """The journal rows for one flush: one per tracked record written (the same record twice in a flush
    once). Untracked records (audit, outbox, the journal itself) give none."""
    entries: dict[tuple[SyncEntity, UUID], JournalEntry] = {}
    for records, op in ((new, ChangeOp.UPSERT), (dirty, ChangeOp.UPSERT), (deleted, ChangeOp.DELETE)):
        for record in records:
            entry = _entry(record, op)
            if entry is not None:
                entries[(entry.entity_type, entry.entity_id)] = entry
    return list(entries.values())


class TombstoneReason(StrEnum):
    DELETED = "deleted"
    NO_LONGER_VISIBLE = "no_longer_visible"


@dataclass(frozen=True, slots=True)
class SyncPosition:
    """Where a device is. A snapshot walks the visible caseload by case id (`after_case`) and then continues
    with the changes after `seq`, the journal's high-water mark when the snapshot began. `since` is the time up
    to which lapses of access (a share or break-glass grant whose time ran out, which writes nothing to the
    journal) have been accounted for: the next page of changes, read at `now`, also reports the caller's lapses
    in (`since`, `now`] and continues from `now`. The windows join up whatever the servers' clocks say (a page
    read on a server behind only repeats some), and a share written after a window closed is journalled."""

    seq: int
    since: datetime
    snapshot: bool = False
    after_case: UUID | None = None

    def encode(self) -> list[object]:
        since = self.since.isoformat()
        if self.snapshot:
            return ["snapshot", self.seq, since, None if self.after_case is None else str(self.after_case)]
        return ["changes", self.seq, since]

    @classmethod
    def decode(cls, after: list[object]) -> "SyncPosition":
        """ValueError for anything a server never issued."""
        match after:
            case ["changes", int() as seq, str() as since] if _is_seq(seq):
                return cls(seq=seq, since=_instant(since))
            case ["snapshot", int() as seq, str() as since, str() | None as case] if _is_seq(seq):
                try:
                    after_case = None if case is None else UUID(case)
                except ValueError:
                    raise ValueError("not a sync position") from None
                return cls(seq=seq, since=_instant(since), snapshot=True, after_case=after_case)
        raise ValueError("not a sync position")


def _is_seq(value: int) -> bool:
    """A journal number (`sync_changes.seq`, a bigint): a larger one was never issued, nor a bool."""
    return not isinstance(value, bool) and 0 <= value < 2**63


def _instant(value: str) -> datetime:
    """An aware timestamp in range (ValueError otherwise: also for a naive one, which a server never issues)."""
    try:
        return stored_instant(value)
    except ValueError:
        raise ValueError("not a sync position") from None


def is_stale(base_version: int | None, current_version: int | None) -> bool:
    """An offline edit made on `base_version` conflicts when the server has moved on (or, for a record the
    device never saw, when one now exists). Equal versions, or nothing on either side, apply."""
    return (base_version or 0) != (current_version or 0)
