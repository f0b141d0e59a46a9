"""Queries of households and of duplicate detection."""

from datetime import date, timedelta
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from case_service.domain.models import Beneficiary, Case
from case_service.domain.people import DUPLICATE_THRESHOLD, MAX_DUPLICATE_MATCHES, Candidate, Household, HouseholdMember


class Households:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, household: Household, members: list[HouseholdMember]) -> None:
        self._session.add(household)
        self._session.add_all(members)

    def add_members(self, members: list[HouseholdMember]) -> None:
        self._session.add_all(members)

    async def remove_member(self, member: HouseholdMember) -> None:
        await self._session.delete(member)

    async def get(self, household_id: UUID, *, for_update: bool = False) -> Household | None:
        return await self._session.get(Household, household_id, with_for_update=for_update)

    async def cases_of_members(self, household_id: UUID) -> list[Case]:
        """Every case of every member, by id: another office sees the household through these."""
        query = (
            select(Case)
            .join(HouseholdMember, col(HouseholdMember.beneficiary_id) == col(Case.beneficiary_id))
            .where(col(HouseholdMember.household_id) == household_id)
            .order_by(col(Case.id))
        )
        return list((await self._session.scalars(query)).all())

    async def members_of(self, household_id: UUID) -> list[HouseholdMember]:
        query = select(HouseholdMember).where(col(HouseholdMember.household_id) == household_id)
        return list((await self._session.scalars(query.order_by(col(HouseholdMember.beneficiary_id)))).all())

    async def household_of(self, beneficiary_id: UUID) -> UUID | None:
        return await self._session.scalar(
            select(col(HouseholdMember.household_id)).where(col(HouseholdMember.beneficiary_id) == beneficiary_id)
        )

    async def already_members(self, beneficiary_ids: list[UUID]) -> set[UUID]:
        rows = await self._session.scalars(
            select(col(HouseholdMember.beneficiary_id)).where(col(HouseholdMember.beneficiary_id).in_(beneficiary_ids))
        )
        return set(rows.all())


class DuplicateCandidates:
    """Beneficiaries of one office who might be the person being registered (pg_trgm on `name_key`)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def similar(self, *, name_key: str, born_on: date, nationality: str, office_id: str) -> list[Candidate]:
        """Same nationality, born within a year either side, and a name similarity at or above the threshold;
        the domain rule (`likely_duplicates`) then applies the exact-or-estimated date rule. The `%` operator's
        own threshold (0.3 by default) lets the GIN trigram index narrow the rows first."""
        score = func.similarity(col(Beneficiary.name_key), name_key)
        query = (
            select(col(Beneficiary.id), score, col(Beneficiary.born_on), col(Beneficiary.born_on_is_estimated))
            .where(
                col(Beneficiary.name_key).op("%")(name_key),
                score >= DUPLICATE_THRESHOLD,
                col(Beneficiary.nationality) == nationality,
                col(Beneficiary.registering_office_id) == office_id,
                col(Beneficiary.born_on).between(born_on - timedelta(days=366), born_on + timedelta(days=366)),
            )
            .order_by(score.desc(), col(Beneficiary.id))
            .limit(MAX_DUPLICATE_MATCHES * 2)
        )
        rows = (await self._session.execute(query)).all()
        return [Candidate(row[0], float(row[1]), row[2], bool(row[3])) for row in rows]
