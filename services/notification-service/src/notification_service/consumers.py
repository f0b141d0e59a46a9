"""Kafka handlers of notification-service. Each claims the event id in the same transaction as its effects."""

from casebridge_common.db import utc_now
from casebridge_common.events.contracts.case import CaseOpened
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.kafka import Handler
from notification_service.service_layer import inbox
from notification_service.unit_of_work import NotificationUnitOfWork


async def on_case_opened(event: CloudEvent, uow: NotificationUnitOfWork) -> None:
    opened = CaseOpened.model_validate(event.data)
    async with uow:
        if not await uow.inbox.claim(consumer="notification-service.on_case_opened", event_id=event.id):
            return  # a redelivery: the first delivery's effects are committed
        inbox.notify_case_opened(uow, opened, event_id=event.id, now=utc_now())
        await uow.commit()


HANDLERS: dict[str, Handler[NotificationUnitOfWork]] = {CaseOpened.type: on_case_opened}
CONSUMED_TOPICS = [CaseOpened.topic]
