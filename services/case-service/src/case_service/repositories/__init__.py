"""Every SQL query of case-service. Visibility is part of each query, so an invisible row is simply absent."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from case_service.domain.assessments import Assessment, AssessmentKind, CaseClosure, CaseNote, Plan, PlanStatus
from case_service.domain.assistance import AssistanceItem, AssistanceStatus
from case_service.domain.models import Beneficiary, Case
from case_service.domain.stages import Stage
from casebridge_common.events.contracts.case import Programme


class Beneficiaries:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, beneficiary: Beneficiary) -> None:
        self._session.add(beneficiary)

    async def get_visible(self, beneficiary_id: UUID, *, office_id: str) -> Beneficiary | None:
        return (
            await self._session.scalars(
                select(Beneficiary).where(
                    col(Beneficiary.id) == beneficiary_id,
                    col(Beneficiary.registering_office_id) == office_id,
                )
            )
        ).one_or_none()


class Cases:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, case: Case) -> None:
        self._session.add(case)

    async def get_visible(self, case_id: UUID, *, office_id: str) -> Case | None:
        return (
            await self._session.scalars(
                select(Case).where(col(Case.id) == case_id, col(Case.owner_office_id) == office_id)
            )
        ).one_or_none()

    async def get_writable(self, case_id: UUID, *, office_id: str) -> Case | None:
        """The case under a row lock, if the office may change it: writers serialise on the version check."""
        return (
            await self._session.scalars(
                select(Case).where(col(Case.id) == case_id, col(Case.owner_office_id) == office_id).with_for_update()
            )
        ).one_or_none()

    async def page_visible(
        self,
        *,
        office_id: str,
        programme: Programme | None,
        stage: Stage | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
        vulnerability: str | None = None,
        assigned_worker: str | None = None,
    ) -> list[Case]:
        """Newest first, `id` as the last sort key so the order is stable; limit + 1 rows signal a next page."""
        query = select(Case).where(col(Case.owner_office_id) == office_id)
        if programme is not None:
            query = query.where(col(Case.programme) == programme)
        if stage is not None:
            query = query.where(col(Case.stage) == stage)
        if vulnerability is not None:
            query = query.where(col(Case.vulnerability_categories).contains([vulnerability]))
        if assigned_worker is not None:
            query = query.where(col(Case.assigned_worker) == assigned_worker)
        if after is not None:
            query = query.where(tuple_(col(Case.opened_at), col(Case.id)) < after)
        query = query.order_by(col(Case.opened_at).desc(), col(Case.id).desc()).limit(limit + 1)
        return list((await self._session.scalars(query)).all())


class Assessments:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, assessment: Assessment) -> None:
        self._session.add(assessment)

    async def latest_version(self, case_id: UUID, kind: AssessmentKind) -> int | None:
        return await self._session.scalar(
            select(func.max(Assessment.version)).where(col(Assessment.case_id) == case_id, col(Assessment.kind) == kind)
        )

    async def latest_by_kind(self, case_id: UUID) -> dict[AssessmentKind, Assessment]:
        latest: dict[AssessmentKind, Assessment] = {}
        for row in await self.history(case_id, None):  # newest version first within each kind
            latest.setdefault(row.kind, row)
        return latest

    async def history(self, case_id: UUID, kind: AssessmentKind | None) -> list[Assessment]:
        query = select(Assessment).where(col(Assessment.case_id) == case_id)
        if kind is not None:
            query = query.where(col(Assessment.kind) == kind)
        query = query.order_by(col(Assessment.kind), col(Assessment.version).desc())
        return list((await self._session.scalars(query)).all())


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
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, note: CaseNote) -> None:
        self._session.add(note)

    async def page(self, case_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int) -> list[CaseNote]:
        """Newest first, `id` last so the order is stable; limit + 1 rows signal a next page."""
        query = select(CaseNote).where(col(CaseNote.case_id) == case_id)
        if after is not None:
            query = query.where(tuple_(col(CaseNote.written_at), col(CaseNote.id)) < after)
        query = query.order_by(col(CaseNote.written_at).desc(), col(CaseNote.id).desc()).limit(limit + 1)
        return list((await self._session.scalars(query)).all())
