"""A withdrawal's missing receipt, consumed on real PostgreSQL and Kafka: one urgent item for the owning office."""

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casebridge_common.auth import Principal
from casebridge_common.db import utc_now
from casebridge_common.events.contracts.consent import ConsentWithdrawalReceiptOverdue
from casebridge_common.events.envelope import CloudEvent, json_bytes
from casebridge_common.kafka import DeadLetters, Topics, consume, make_consumer, make_producer
from notification_service.consumers import CONSUMED_TOPICS, HANDLERS
from notification_service.domain.models import Channel, EmailMessage, InboxItem, Language
from notification_service.service_layer import preferences
from notification_service.unit_of_work import NotificationUnitOfWork


def overdue_receipt(holder: str = "scoring-service") -> ConsentWithdrawalReceiptOverdue:
    return ConsentWithdrawalReceiptOverdue(
        consent_id=uuid.uuid4(),
        beneficiary_id=uuid.uuid4(),
        case_ids=[uuid.uuid4()],
        owner_office_id="de-berlin",
        withdrawal_id=uuid.uuid4(),
        holder=holder,
        acknowledge_by=datetime(2026, 12, 11, 9, 0, tzinfo=UTC),
        reported_at=datetime(2026, 12, 11, 9, 1, tzinfo=UTC),
    )


async def items_from(sessions: async_sessionmaker[AsyncSession], event_ids: list[str]) -> list[InboxItem]:
    async with NotificationUnitOfWork(sessions) as uow:
        query = select(InboxItem).where(col(InboxItem.source_event_id).in_(event_ids))
        return list((await uow.session.scalars(query)).all())


async def test_an_overdue_receipt_puts_one_urgent_item_in_the_owning_offices_inbox_and_mails_it_at_once(
    sessions: async_sessionmaker[AsyncSession], berlin: Principal
) -> None:
    async with NotificationUnitOfWork(sessions) as uow:
        await preferences.set_preferences(
            uow,
            channels=[Channel.EMAIL],
            email_address="dpo@berlin.example",
            language=Language.EN,
            timezone="UTC",
            quiet_hours=None,
            digest=True,  # urgent notices skip the digest
            if_match='"0"',
            actor=berlin,
            now=utc_now(),
        )
        await uow.commit()
    overdue = overdue_receipt()
    event = CloudEvent.wrap(overdue, source="/casebridge/case-service")
    reemitted = CloudEvent.wrap(overdue, source="/casebridge/case-service")  # same holder, a new event id
    handler = HANDLERS[ConsentWithdrawalReceiptOverdue.type]
    for delivery in (event, event, reemitted):
        await handler(delivery, NotificationUnitOfWork(sessions))
    [item] = await items_from(sessions, [event.id, reemitted.id])
    assert (item.kind, item.office_id, item.case_id, item.urgent) == (
        "withdrawal_receipt_overdue",
        "de-berlin",
        None,
        True,
    )
    assert item.title == "Urgent: scoring-service has not confirmed a consent withdrawal due 2026-12-11 09:00 UTC"
    async with NotificationUnitOfWork(sessions) as uow:
        [mail] = (
            await uow.session.scalars(select(EmailMessage).where(col(EmailMessage.inbox_item_id) == item.id))
        ).all()
    assert mail.subject == "Urgent: a consent withdrawal was not confirmed by scoring-service"
    assert f"Withdrawal: {overdue.withdrawal_id}" in mail.text_body


async def test_on_the_broker_an_overdue_receipt_reaches_the_owning_offices_inbox_once(
    committed_sessions: async_sessionmaker[AsyncSession], kafka_topics: Topics, kafka_bootstrap: str
) -> None:
    assert ConsentWithdrawalReceiptOverdue.topic in CONSUMED_TOPICS
    topic = kafka_topics.name(ConsentWithdrawalReceiptOverdue.topic)
    event = CloudEvent.wrap(overdue_receipt("referral-service"), source="/casebridge/case-service")
    producer = make_producer(kafka_bootstrap, client_id="notification-receipt-overdue-test")
    await producer.start()
    consumer = make_consumer(kafka_bootstrap, [topic], group_id=f"g-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    dlq = DeadLetters(producer, kafka_topics.name("casebridge.notification-service.dlq"))
    loop = asyncio.create_task(consume(consumer, HANDLERS, lambda: NotificationUnitOfWork(committed_sessions), dlq))
    try:
        value = json_bytes(event.model_dump(mode="json"))
        for _ in range(2):  # at-least-once delivery
            await producer.send_and_wait(topic, key=event.subject.encode(), value=value)
        async with asyncio.timeout(30):
            while not await items_from(committed_sessions, [event.id]):  # noqa: ASYNC110 - polling a commit
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # room for a wrongful second item
        items = await items_from(committed_sessions, [event.id])
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        await consumer.stop()
        await producer.stop()
    assert [(i.kind, i.office_id, i.urgent) for i in items] == [("withdrawal_receipt_overdue", "de-berlin", True)]
