from sqlalchemy.ext.asyncio import AsyncSession

from casebridge_common.db import UnitOfWork
from notification_service.repositories import (
    Deliveries,
    Erasures,
    InboxItems,
    Mails,
    Preferences,
    Receipts,
    Subscriptions,
    Templates,
    Texts,
)


class NotificationUnitOfWork(UnitOfWork):
    source = "/casebridge/notification-service"

    def bind(self, session: AsyncSession) -> None:
        self.inbox_items = InboxItems(session)
        self.subscriptions = Subscriptions(session)
        self.deliveries = Deliveries(session)
        self.preferences = Preferences(session)
        self.mails = Mails(session)
        self.templates = Templates(session)
        self.texts = Texts(session)
        self.receipts = Receipts(session)
        self.erasures = Erasures(session)
