from datetime import datetime
from uuid import UUID

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from notification_service.domain.models import InboxItem


class InboxItems:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, item: InboxItem) -> None:
        self._session.add(item)

    async def page_for_office(
        self,
        office_id: str,
        *,
        unread: bool | None,
        case_id: UUID | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[InboxItem]:
        query = select(InboxItem).where(col(InboxItem.office_id) == office_id)
        if unread is not None:
            query = query.where(col(InboxItem.read_at).is_(None) if unread else col(InboxItem.read_at).is_not(None))
        if case_id is not None:
            query = query.where(col(InboxItem.case_id) == case_id)
        if after is not None:
            query = query.where(tuple_(col(InboxItem.created_at), col(InboxItem.id)) < after)
        query = query.order_by(col(InboxItem.created_at).desc(), col(InboxItem.id).desc()).limit(limit + 1)
        return list((await self._session.scalars(query)).all())
