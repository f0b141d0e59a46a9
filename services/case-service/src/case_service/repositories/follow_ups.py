"""Follow-up visits. The free-text notes are sealed under the beneficiary's key on write and opened on read."""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from case_service.domain.follow_ups import FollowUpVisit, VisitStatus
from case_service.domain.models import Case
from case_service.domain.vault import open_text, row_aad, seal_text
from case_service.repositories.vault import Vault
from casebridge_common.events.contracts.case import FollowUpPhase

TABLE = "follow_up_visits"


@dataclass(frozen=True, slots=True)
class VisitNotes:
    notes: str | None
    psychosocial_notes: str | None
    erased: bool  # sealed under a key that erasure destroyed


class FollowUps:
    def __init__(self, session: AsyncSession, vault: Vault) -> None:
        self._session, self._vault = session, vault

    def add(self, visit: FollowUpVisit) -> None:
        self._session.add(visit)

    async def seal_notes(self, visit: FollowUpVisit, *, notes: str | None, psychosocial_notes: str | None) -> None:
        if notes is None and psychosocial_notes is None:
            return
        key = await self._vault.key_for_writing(await self._vault.beneficiary_of(visit.case_id))
        if notes is not None:
            visit.sealed_notes = seal_text(key, notes, aad=row_aad(TABLE, visit.id, "notes"))
        if psychosocial_notes is not None:
            visit.sealed_psychosocial_notes = seal_text(
                key, psychosocial_notes, aad=row_aad(TABLE, visit.id, "psychosocial_notes")
            )

    async def notes_of(self, visit: FollowUpVisit) -> VisitNotes:
        if visit.sealed_notes is None and visit.sealed_psychosocial_notes is None:
            return VisitNotes(None, None, erased=False)
        key = await self._vault.key(await self._vault.beneficiary_of(visit.case_id))
        if key is None:
            return VisitNotes(None, None, erased=True)
        return VisitNotes(
            notes=None
            if visit.sealed_notes is None
            else open_text(key, visit.sealed_notes, aad=row_aad(TABLE, visit.id, "notes")),
            psychosocial_notes=None
            if visit.sealed_psychosocial_notes is None
            else open_text(key, visit.sealed_psychosocial_notes, aad=row_aad(TABLE, visit.id, "psychosocial_notes")),
            erased=False,
        )

    async def get(self, case_id: UUID, visit_id: UUID, *, for_update: bool = False) -> FollowUpVisit | None:
        query = select(FollowUpVisit).where(col(FollowUpVisit.case_id) == case_id, col(FollowUpVisit.id) == visit_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self._session.scalars(query)).one_or_none()

    async def of_phase(self, case_id: UUID, phase: FollowUpPhase) -> list[FollowUpVisit]:
        """The phase's visits, locked: a reschedule and an outcome on the same case serialise on them."""
        query = (
            select(FollowUpVisit)
            .where(col(FollowUpVisit.case_id) == case_id, col(FollowUpVisit.phase) == phase)
            .order_by(col(FollowUpVisit.planned_on), col(FollowUpVisit.id))
            .with_for_update()
        )
        return list((await self._session.scalars(query)).all())

    async def page(
        self, case_id: UUID, *, status: VisitStatus | None, after: tuple[date, UUID] | None, limit: int
    ) -> list[FollowUpVisit]:
        """Earliest planned first, `id` last so the order is stable; limit + 1 rows signal a next page."""
        query = select(FollowUpVisit).where(col(FollowUpVisit.case_id) == case_id)
        if status is not None:
            query = query.where(col(FollowUpVisit.status) == status)
        if after is not None:
            query = query.where(tuple_(col(FollowUpVisit.planned_on), col(FollowUpVisit.id)) > after)
        query = query.order_by(col(FollowUpVisit.planned_on), col(FollowUpVisit.id)).limit(limit + 1)
        return list((await self._session.scalars(query)).all())

    async def claim_overdue(self, *, planned_before: date, limit: int) -> list[tuple[FollowUpVisit, str]]:
        """Planned visits dated before `planned_before` and not yet reported, with their case's owner office,
        locked; rows another worker holds are skipped, so no visit is reported twice."""
        query = (
            select(FollowUpVisit, col(Case.owner_office_id))
            .join(Case, col(Case.id) == col(FollowUpVisit.case_id))
            .where(
                col(FollowUpVisit.status) == VisitStatus.PLANNED,
                col(FollowUpVisit.overdue_at).is_(None),
                col(FollowUpVisit.planned_on) < planned_before,
            )
            .order_by(col(FollowUpVisit.planned_on), col(FollowUpVisit.id))
            .limit(limit)
            .with_for_update(of=FollowUpVisit, skip_locked=True)
        )
        return [(visit, office) for visit, office in (await self._session.execute(query)).all()]
