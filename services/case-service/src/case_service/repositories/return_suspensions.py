from datetime import datetime
from uuid import UUID

from sqlalchemy import tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from case_service.domain.return_suspensions import ReturnSuspension


class ReturnSuspensions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, suspension: ReturnSuspension) -> bool:
        """Insert it now, in a savepoint; False when a suspension of the same organisation and country came into
        force meanwhile (the unique index of suspensions in force)."""
        try:
            async with self._session.begin_nested():
                self._session.add(suspension)
                await self._session.flush()
        except IntegrityError:
            return False
        return True

    async def get(
        self, suspension_id: UUID, *, organisation_id: str, for_update: bool = False
    ) -> ReturnSuspension | None:
        """The organisation's suspension; another organisation's is not found."""
        query = select(ReturnSuspension).where(
            col(ReturnSuspension.id) == suspension_id, col(ReturnSuspension.organisation_id) == organisation_id
        )
        if for_update:
            query = query.with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    async def in_force(self, *, organisation_id: str, country: str) -> ReturnSuspension | None:
        query = select(ReturnSuspension).where(
            col(ReturnSuspension.organisation_id) == organisation_id,
            col(ReturnSuspension.country) == country,
            col(ReturnSuspension.lifted_at).is_(None),
        )
        return (await self._session.scalars(query)).one_or_none()

    async def page(
        self,
        *,
        organisation_id: str,
        country: str | None,
        in_force: bool | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[ReturnSuspension]:
        """Newest first, ``id`` last so the order is stable; limit + 1 rows signal a next page."""
        query = select(ReturnSuspension).where(col(ReturnSuspension.organisation_id) == organisation_id)
        if country is not None:
            query = query.where(col(ReturnSuspension.country) == country)
        if in_force is not None:
            lifted = col(ReturnSuspension.lifted_at)
            query = query.where(lifted.is_(None) if in_force else lifted.is_not(None))
        if after is not None:
            query = query.where(tuple_(col(ReturnSuspension.suspended_at), col(ReturnSuspension.id)) < after)
        query = query.order_by(col(ReturnSuspension.suspended_at).desc(), col(ReturnSuspension.id).desc())
        return list((await self._session.scalars(query.limit(limit + 1))).all())
