"""Every SQL query of case-service. Case lists narrow to the cases related to the caller in SQL (so pages and
cursors are computed over candidate rows only); what a caller may see of a case is the access policy's answer,
applied in the service layer."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from uuid import UUID

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from case_service.domain.assessments import Assessment, AssessmentKind, CaseClosure, CaseNote, Plan, PlanStatus
from case_service.domain.assistance import AssistanceItem, AssistanceStatus
from case_service.domain.follow_ups import FollowUpVisit, VisitStatus
from case_service.domain.models import Beneficiary, Case
from case_service.domain.stages import Stage
from case_service.repositories.access import related_elsewhere
from case_service.repositories.vault import Vault
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import Programme

# Statements every read of a case runs, built once (a statement made per call cost more to build than to run)
_BENEFICIARIES = select(Beneficiary).where(col(Beneficiary.id).in_(bindparam("ids", expanding=True)))
_CASE = select(Case).where(col(Case.id) == bindparam("case_id"))
_CASE_FOR_UPDATE = _CASE.with_for_update()


class Beneficiaries:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, beneficiary: Beneficiary) -> None:
        self._session.add(beneficiary)

    async def get_visible(
        self, beneficiary_id: UUID, *, office_id: str, for_update: bool = False
    ) -> Beneficiary | None:
        query = select(Beneficiary).where(
            col(Beneficiary.id) == beneficiary_id,
            col(Beneficiary.registering_office_id) == office_id,
        )
        if for_update:
            query = query.with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    async def lock_for_reprofiling(self, beneficiary_id: UUID) -> None:
        """Lock the beneficiary's row until commit (whoever registered it), before its cases are listed: a case
        opening concurrently, which locks the row too (repositories/openings.py), is then among them or opens
        after this transaction commits."""
        await self._session.execute(
            select(col(Beneficiary.id)).where(col(Beneficiary.id) == beneficiary_id).with_for_update()
        )

    async def get(self, beneficiary_id: UUID) -> Beneficiary | None:
        """Any beneficiary: the caller decides with the access policy what the reader may see of it."""
        return await self._session.get(Beneficiary, beneficiary_id)

    async def many(self, beneficiary_ids: Iterable[UUID]) -> dict[UUID, Beneficiary]:
        ids = list(set(beneficiary_ids))
        if not ids:
            return {}
        rows = await self._session.scalars(_BENEFICIARIES, {"ids": ids})
        return {b.id: b for b in rows.all()}


class Cases:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, case: Case) -> None:
        self._session.add(case)

    async def get(self, case_id: UUID, *, for_update: bool = False) -> Case | None:
        """Any case, unfiltered: callers decide with the access policy and answer 404 when it is not visible."""
        query = _CASE_FOR_UPDATE if for_update else _CASE
        return (await self._session.scalars(query, {"case_id": case_id})).one_or_none()

    async def of_beneficiary(self, beneficiary_id: UUID) -> list[Case]:
        query = select(Case).where(col(Case.beneficiary_id) == beneficiary_id)
        return list((await self._session.scalars(query.order_by(col(Case.opened_at), col(Case.id)))).all())

    async def page_related(
        self,
        *,
        who: Principal,
        now: datetime,
        programme: Programme | None,
        stage: Stage | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
        vulnerability: str | None = None,
        assigned_worker: str | None = None,
        overdue_follow_ups: bool = False,
        office: str | None = None,
        countries: Mapping[str, str] | None = None,
    ) -> list[Case]:
        """Cases related to the caller (`related_to`), newest first, `id` last so the order is stable; up to
        `limit` rows after the keyset position `after`. `overdue_follow_ups`: only cases with a planned visit
        the follow-up job reported overdue; `office`: only cases that office owns; `countries`: beneficiary
        country fields (`country_of_origin`, …) to the ISO code they must hold.

        Two branches, each newest first and limited, then merged: the caller's own cases walk the
        `(owner_office_id, opened_at, id)` index and stop after `limit` rows; cases related through shares,
        referrals and grants come from those (small) tables. One OR over both would scan every case."""

        def filtered(query: Select[UUID, datetime]) -> Select[UUID, datetime]:
            if programme is not None:
                query = query.where(col(Case.programme) == programme)
            if stage is not None:
                query = query.where(col(Case.stage) == stage)
            if vulnerability is not None:
                query = query.where(col(Case.vulnerability_categories).contains([vulnerability]))
            if assigned_worker is not None:
                query = query.where(col(Case.assigned_worker) == assigned_worker)
            if office is not None:
                query = query.where(col(Case.owner_office_id) == office)
            if countries:
                query = query.where(
                    exists().where(
                        col(Beneficiary.id) == col(Case.beneficiary_id),
                        *(getattr(Beneficiary, name) == code for name, code in countries.items()),
                    )
                )
            if overdue_follow_ups:
                query = query.where(
                    exists().where(
                        col(FollowUpVisit.case_id) == col(Case.id),
                        col(FollowUpVisit.status) == VisitStatus.PLANNED,
                        col(FollowUpVisit.overdue_at).is_not(None),
                    )
                )
            if after is not None:
                query = query.where(tuple_(col(Case.opened_at), col(Case.id)) < after)
            return query.order_by(col(Case.opened_at).desc(), col(Case.id).desc()).limit(limit)

        keys = select(col(Case.id), col(Case.opened_at))
        own = filtered(keys.where(col(Case.owner_office_id) == who.office_id))
        elsewhere = filtered(
            keys.where(
                col(Case.owner_office_id).is_distinct_from(who.office_id),
                col(Case.id).in_(related_elsewhere(who, now)),
            )
        )
        page = union_all(own, elsewhere).subquery()
        query = (
            select(Case)
            .join(page, page.c.id == col(Case.id))
            .order_by(page.c.opened_at.desc(), page.c.id.desc())
            .limit(limit)
        )
        return list((await self._session.scalars(query)).all())


class Assessments:
    """Sensitive kinds are sealed under the beneficiary's key on write and opened on read (repositories/vault.py)."""

    def __init__(self, session: AsyncSession, vault: Vault) -> None:
        self._session, self._vault = session, vault

    async def add(self, assessment: Assessment) -> None:
        await self._vault.store_assessment(assessment)

    async def latest_version(self, case_id: UUID, kind: AssessmentKind) -> int | None:
        return await self._session.scalar(
            select(func.max(Assessment.version)).where(col(Assessment.case_id) == case_id, col(Assessment.kind) == kind)
        )

    async def latest_by_kind(self, case_id: UUID) -> dict[AssessmentKind, Assessment]:
        latest: dict[AssessmentKind, Assessment] = {}
        for row in await self.history(case_id, None):  # newest version first within each kind
            latest.setdefault(row.kind, row)
        return latest

    async def page(
        self, case_id: UUID, kind: AssessmentKind | None, *, after: tuple[AssessmentKind, int] | None, limit: int
    ) -> list[Assessment]:
        """By kind, newest version first within a kind; limit + 1 rows signal a next page."""
        query = select(Assessment).where(col(Assessment.case_id) == case_id)
        if kind is not None:
            query = query.where(col(Assessment.kind) == kind)
        if after is not None:
            after_kind, after_version = after
            query = query.where(
                or_(
                    col(Assessment.kind) > after_kind,
                    and_(col(Assessment.kind) == after_kind, col(Assessment.version) < after_version),
                )
            )
        query = query.order_by(col(Assessment.kind), col(Assessment.version).desc()).limit(limit + 1)
        return await self._vault.opened_assessments(list((await self._session.scalars(query)).all()))

    async def history(self, case_id: UUID, kind: AssessmentKind | None) -> list[Assessment]:
        query = select(Assessment).where(col(Assessment.case_id) == case_id)
        if kind is not None:
            query = query.where(col(Assessment.kind) == kind)
        query = query.order_by(col(Assessment.kind), col(Assessment.version).desc())
        return await self._vault.opened_assessments(list((await self._session.scalars(query)).all()))


class Plans:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, plan: Plan) -> None:
        self._session.add(plan)

    async def latest_version(self, case_id: UUID) -> int | None:
        return await self._session.scalar(select(func.max(Plan.version)).where(col(Plan.case_id) == case_id))

    async def get(self, case_id: UUID, version: int) -> Plan | None:
        return (
            await self._session.scalars(select(Plan).where(col(Plan.case_id) == case_id, col(Plan.version) == version))
        ).one_or_none()

    async def page(self, case_id: UUID, *, below_version: int | None, limit: int) -> list[Plan]:
        """Newest version first; limit + 1 rows signal a next page."""
        query = select(Plan).where(col(Plan.case_id) == case_id)
        if below_version is not None:
            query = query.where(col(Plan.version) < below_version)
        return list((await self._session.scalars(query.order_by(col(Plan.version).desc()).limit(limit + 1))).all())

    async def all_of(self, case_id: UUID) -> list[Plan]:
        return list(
            (
                await self._session.scalars(
                    select(Plan).where(col(Plan.case_id) == case_id).order_by(col(Plan.version).desc())
                )
            ).all()
        )

    async def approved(self, case_id: UUID) -> Plan | None:
        return (
            await self._session.scalars(
                select(Plan).where(col(Plan.case_id) == case_id, col(Plan.status) == PlanStatus.APPROVED)
            )
        ).one_or_none()


class Closures:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, closure: CaseClosure) -> None:
        self._session.add(closure)

    async def of_case(self, case_id: UUID) -> CaseClosure | None:
        return (
            await self._session.scalars(select(CaseClosure).where(col(CaseClosure.case_id) == case_id))
        ).one_or_none()


class Assistance:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, item: AssistanceItem) -> None:
        self._session.add(item)

    async def get(self, case_id: UUID, item_id: UUID) -> AssistanceItem | None:
        return (
            await self._session.scalars(
                select(AssistanceItem).where(col(AssistanceItem.case_id) == case_id, col(AssistanceItem.id) == item_id)
            )
        ).one_or_none()

    async def page(self, case_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int) -> list[AssistanceItem]:
        """In the order they were planned; limit + 1 rows signal a next page."""
        query = select(AssistanceItem).where(col(AssistanceItem.case_id) == case_id)
        if after is not None:
            query = query.where(tuple_(col(AssistanceItem.created_at), col(AssistanceItem.id)) > after)
        query = query.order_by(col(AssistanceItem.created_at), col(AssistanceItem.id)).limit(limit + 1)
        return list((await self._session.scalars(query)).all())

    async def of_case(self, case_id: UUID) -> list[AssistanceItem]:
        query = (
            select(AssistanceItem)
            .where(col(AssistanceItem.case_id) == case_id)
            .order_by(col(AssistanceItem.created_at), col(AssistanceItem.id))
        )
        return list((await self._session.scalars(query)).all())

    async def open_count(self, case_id: UUID) -> int:
        return (
            await self._session.scalar(
                select(func.count())
                .select_from(AssistanceItem)
                .where(col(AssistanceItem.case_id) == case_id, col(AssistanceItem.status) == AssistanceStatus.PLANNED)
            )
        ) or 0


class Notes:
    """Confidential bodies are sealed under the beneficiary's key on write and opened on read."""

    def __init__(self, session: AsyncSession, vault: Vault) -> None:
        self._session, self._vault = session, vault

    async def add(self, note: CaseNote) -> None:
        await self._vault.store_note(note)

    async def page(self, case_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int) -> list[CaseNote]:
        """Newest first, `id` last so the order is stable; limit + 1 rows signal a next page."""
        query = select(CaseNote).where(col(CaseNote.case_id) == case_id)
        if after is not None:
            query = query.where(tuple_(col(CaseNote.written_at), col(CaseNote.id)) < after)
        query = query.order_by(col(CaseNote.written_at).desc(), col(CaseNote.id).desc()).limit(limit + 1)
        return await self._vault.opened_notes(list((await self._session.scalars(query)).all()))

    async def all_of(self, case_id: UUID) -> list[CaseNote]:
        query = select(CaseNote).where(col(CaseNote.case_id) == case_id)
        query = query.order_by(col(CaseNote.written_at), col(CaseNote.id))
        return await self._vault.opened_notes(list((await self._session.scalars(query)).all()))
