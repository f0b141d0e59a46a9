"""The mobile sync journal: appending (from the session's flush), numbering (by readers), and the reads a
device's sync needs."""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import Insert, event, exists, func, or_, select, text, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session
from sqlmodel import col

from case_service.domain.assessments import Assessment, CaseNote, Plan
from case_service.domain.assistance import AssistanceItem
from case_service.domain.models import Case
from case_service.domain.sharing import BreakGlassGrant, CaseReferralLink, CaseShare
from case_service.domain.sync import ChangeOp, JournalEntry, SyncChange, SyncEntity, journal_entries
from case_service.domain.transfers import CaseTransfer
from case_service.repositories.access import related_to
from case_service.repositories.vault import Vault
from casebridge_common.auth import Principal

# pg_advisory_xact_lock key of the journal's numbering ("sync" in ASCII); one journal per database.
SYNC_NUMBERING_LOCK = 0x73796E63


# `Session.info` key that marks a session as a case-service unit of work's: only those journal their writes.
JOURNALLED = "case_service.sync_journal"


def _journal_flush(session: Session, _context: object, _instances: object) -> None:
    if not session.info.get(JOURNALLED):
        return
    dirty = [o for o in session.dirty if session.is_modified(o, include_collections=False)]
    for entry in journal_entries(list(session.new), dirty, list(session.deleted)):
        session.add(entry.row())


def _journal_referral_link(state: ORMExecuteState) -> None:
    """The referral consumer upserts links with an `INSERT … ON CONFLICT` statement, which no flush sees."""
    statement = state.statement
    if (
        state.session.info.get(JOURNALLED)
        and isinstance(statement, Insert)
        and getattr(statement.table, "name", None) == CaseReferralLink.__tablename__
    ):
        values = statement.compile(dialect=state.session.get_bind().dialect).params
        state.session.add(
            JournalEntry(values["case_id"], None, SyncEntity.ACCESS, values["referral_id"], ChangeOp.UPSERT).row()
        )


# Registered once for every session, on the class: listening on each unit of work's own session cost about
# 0.5 ms a request in SQLAlchemy's event registry. A session not marked by `journal_writes` is left alone.
event.listen(Session, "before_flush", _journal_flush)
event.listen(Session, "do_orm_execute", _journal_referral_link)


def journal_writes(session: AsyncSession) -> None:
    """Append a journal row for every tracked record each flush of `session` writes, and for each referral-link
    upsert, in the same transaction. Other Core statements (`update(...)`) bypass the ORM and are not seen:
    today only the erasure's bulk consent update; its effect reaches devices with the case's next journalled
    change (see `service_layer/sync.py`)."""
    session.info[JOURNALLED] = True


class SyncJournal:
    def __init__(self, session: AsyncSession, vault: Vault) -> None:
        self._session, self._vault = session, vault

    async def number_pending(self) -> int:
        """Number every committed, unnumbered row after the highest number so far, in insertion order, and
        return the high-water mark. Serialised by a transaction-scoped advisory lock, so a row committed after
        this call is numbered above everything it returns."""
        await self._session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SYNC_NUMBERING_LOCK})
        await self._session.execute(
            text(
                "WITH top AS (SELECT coalesce(max(seq), 0) AS seq FROM sync_changes), "
                "pending AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM sync_changes WHERE seq IS NULL) "
                "UPDATE sync_changes SET seq = top.seq + pending.n FROM top, pending WHERE sync_changes.id = pending.id"
            )
        )
        return int(await self._session.scalar(select(func.coalesce(func.max(SyncChange.seq), 0))) or 0)

    async def after(self, seq: int, *, up_to: int, limit: int) -> list[SyncChange]:
        query = (
            select(SyncChange)
            .where(col(SyncChange.seq) > seq, col(SyncChange.seq) <= up_to)
            .order_by(col(SyncChange.seq))
            .limit(limit)
        )
        return list((await self._session.scalars(query)).all())

    async def cases_of_beneficiaries(self, beneficiary_ids: Iterable[UUID]) -> dict[UUID, list[UUID]]:
        ids = list(set(beneficiary_ids))
        if not ids:
            return {}
        rows = await self._session.execute(
            select(col(Case.beneficiary_id), col(Case.id)).where(col(Case.beneficiary_id).in_(ids))
        )
        found: dict[UUID, list[UUID]] = {}
        for beneficiary_id, case_id in rows.all():
            found.setdefault(beneficiary_id, []).append(case_id)
        return found

    async def cases(self, case_ids: Iterable[UUID]) -> dict[UUID, Case]:
        ids = list(set(case_ids))
        if not ids:
            return {}
        return {c.id: c for c in (await self._session.scalars(select(Case).where(col(Case.id).in_(ids)))).all()}

    async def related_after(self, who: Principal, now: datetime, *, after: UUID | None, limit: int) -> list[Case]:
        """Cases related to the caller (the superset the policy narrows), by id, after `after`."""
        query = select(Case).where(related_to(who, now))
        if after is not None:
            query = query.where(col(Case.id) > after)
        return list((await self._session.scalars(query.order_by(col(Case.id)).limit(limit))).all())

    async def lapsed(self, who: Principal, *, after: datetime, up_to: datetime) -> set[UUID]:
        """Cases of which the caller's office held a share, or the caller a break-glass grant, whose time ran
        out in (`after`, `up_to`]: a lapse writes nothing, so the feed asks for them (a revoked share was
        journalled when it was revoked)."""
        shares = select(col(CaseShare.case_id)).where(
            col(CaseShare.office_id) == who.office_id,
            col(CaseShare.revoked_at).is_(None),
            col(CaseShare.expires_at) > after,
            col(CaseShare.expires_at) <= up_to,
        )
        grants = select(col(BreakGlassGrant.case_id)).where(
            col(BreakGlassGrant.subject) == who.subject,
            col(BreakGlassGrant.office_id).is_not_distinct_from(who.office_id),
            col(BreakGlassGrant.expires_at) > after,
            col(BreakGlassGrant.expires_at) <= up_to,
        )
        return set((await self._session.scalars(union(shares, grants))).all())

    async def ever_related(self, who: Principal, case_ids: Iterable[UUID]) -> set[UUID]:
        """Of `case_ids`, those the caller's office owns or once held a share, a transfer, a referral or (the
        caller in person) a break-glass grant of: only these may be told that a case went out of sight, so a
        tombstone never reveals a case to someone who could not have seen it."""
        ids = list(set(case_ids))
        if not ids:
            return set()
        office = who.office_id
        relations = [
            col(Case.owner_office_id) == office,
            exists().where(col(CaseShare.case_id) == col(Case.id), col(CaseShare.office_id) == office),
            exists().where(
                col(CaseTransfer.case_id) == col(Case.id),
                or_(col(CaseTransfer.from_office_id) == office, col(CaseTransfer.to_office_id) == office),
            ),
            exists().where(
                col(BreakGlassGrant.case_id) == col(Case.id),
                col(BreakGlassGrant.subject) == who.subject,
                col(BreakGlassGrant.office_id).is_not_distinct_from(office),
            ),
        ]
        destinations = [col(CaseReferralLink.destination_office_id) == office]
        if who.organisation_id is not None:
            destinations.append(col(CaseReferralLink.destination_organisation_id) == who.organisation_id)
        relations.append(exists().where(col(CaseReferralLink.case_id) == col(Case.id), or_(*destinations)))
        rows = await self._session.scalars(select(col(Case.id)).where(col(Case.id).in_(ids), or_(*relations)))
        return set(rows.all())

    async def assessments(self, case_id: UUID, ids: Iterable[UUID]) -> list[Assessment]:
        wanted = list(set(ids))
        if not wanted:
            return []
        rows = await self._session.scalars(
            select(Assessment).where(col(Assessment.case_id) == case_id, col(Assessment.id).in_(wanted))
        )
        return await self._vault.opened_assessments(list(rows.all()))

    async def notes(self, case_id: UUID, ids: Iterable[UUID]) -> list[CaseNote]:
        wanted = list(set(ids))
        if not wanted:
            return []
        rows = await self._session.scalars(
            select(CaseNote).where(col(CaseNote.case_id) == case_id, col(CaseNote.id).in_(wanted))
        )
        return await self._vault.opened_notes(list(rows.all()))

    async def plans(self, case_id: UUID, ids: Iterable[UUID]) -> list[Plan]:
        wanted = list(set(ids))
        if not wanted:
            return []
        return list(
            (
                await self._session.scalars(select(Plan).where(col(Plan.case_id) == case_id, col(Plan.id).in_(wanted)))
            ).all()
        )

    async def assistance(self, case_id: UUID, ids: Iterable[UUID]) -> list[AssistanceItem]:
        wanted = list(set(ids))
        if not wanted:
            return []
        rows = await self._session.scalars(
            select(AssistanceItem).where(col(AssistanceItem.case_id) == case_id, col(AssistanceItem.id).in_(wanted))
        )
        return list(rows.all())
