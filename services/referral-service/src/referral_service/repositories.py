from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from referral_service.domain.models import Office, Organisation


class Directory:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert_organisation(self, organisation: Organisation) -> None:
        values = organisation.model_dump()
        await self._session.execute(
            insert(Organisation).values(**values).on_conflict_do_update(index_elements=["id"], set_=values)
        )

    async def upsert_office(self, office: Office) -> None:
        values = office.model_dump()
        await self._session.execute(
            insert(Office).values(**values).on_conflict_do_update(index_elements=["id"], set_=values)
        )

    async def organisations(self, *, country: str | None, after: str | None, limit: int) -> list[Organisation]:
        query = select(Organisation)
        if country is not None:
            query = query.where(col(Organisation.country) == country)
        if after is not None:
            query = query.where(col(Organisation.id) > after)
        return list((await self._session.scalars(query.order_by(col(Organisation.id)).limit(limit + 1))).all())

    async def offices(
        self, *, organisation_id: str | None, country: str | None, after: str | None, limit: int
    ) -> list[Office]:
        query = select(Office)
        if organisation_id is not None:
            query = query.where(col(Office.organisation_id) == organisation_id)
        if country is not None:
            query = query.where(col(Office.country) == country)
        if after is not None:
            query = query.where(col(Office.id) > after)
        return list((await self._session.scalars(query.order_by(col(Office.id)).limit(limit + 1))).all())
