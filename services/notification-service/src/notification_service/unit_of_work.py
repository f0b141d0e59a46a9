from sqlalchemy.ext.asyncio import AsyncSession

from casebridge_common.db import UnitOfWork
from notification_service.repositories import InboxItems


class NotificationUnitOfWork(UnitOfWork):
    source = "/casebridge/notification-service"

    def bind(self, session: AsyncSession) -> None:
        self.inbox_items = InboxItems(session)
