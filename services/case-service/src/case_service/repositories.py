"""Every SQL query of case-service. Visibility is part of each query, so an invisible row is simply absent."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from case_service.domain.models import Beneficiary, Case, Stage
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

    async def page_visible(
        self,
        *,
        office_id: str,
        programme: Programme | None,
        stage: Stage | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[Case]:
        """Newest first, `id` as the last sort key so the order is stable; limit + 1 rows signal a next page."""
        query = select(Case).where(col(Case.owner_office_id) == office_id)
        if programme is not None:
            query = query.where(col(Case.programme) == programme)
        if stage is not None:
            query = query.where(col(Case.stage) == stage)
        if after is not None:
            query = query.where(tuple_(col(Case.opened_at), col(Case.id)) < after)
        query = query.order_by(col(Case.opened_at).desc(), col(Case.id).desc()).limit(limit + 1)
        return list((await self._session.scalars(query)).all())
