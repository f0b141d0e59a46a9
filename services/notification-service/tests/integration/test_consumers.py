import asyncio
import contextlib
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casebridge_common.auth import Principal
from casebridge_common.db import utc_now
from casebridge_common.events.contracts.case import CaseFollowUpDue, CaseOpened, FollowUpPhase, Programme, VisitKind
from casebridge_common.events.contracts.scoring import Administration, SurveyDue
from casebridge_common.events.envelope import CloudEvent, json_bytes
from casebridge_common.kafka import DeadLetters, Topics, consume, make_consumer, make_producer
from notification_service.consumers import CONSUMED_TOPICS, HANDLERS
from notification_service.consumers.events import on_event
from notification_service.domain.models import Channel, EmailMessage, InboxItem, Language
from notification_service.service_layer import preferences, subscriptions
from notification_service.unit_of_work import NotificationUnitOfWork


def case_opened_event(office: str = "de-berlin") -> CloudEvent:
    opened = CaseOpened(
        case_id=uuid.uuid4(),
        case_version=1,
        beneficiary_id=uuid.uuid4(),
        programme=Programme.RETURN_REINTEGRATION,
        owner_office_id=office,
        owner_organisation_id="iom-germany",
        opened_at=datetime.now(UTC),
    )
    return CloudEvent.wrap(opened, source="/casebridge/case-service")


async def inbox_of(sessions: async_sessionmaker[AsyncSession], who: Principal, case_id: uuid.UUID) -> list[str]:
    async with NotificationUnitOfWork(sessions) as uow:
        items = await uow.inbox_items.page(
            who, unread=None, kind=None, case_id=case_id, archived=False, after=None, limit=10
        )
    return [i.kind for i in items]


async def test_the_worker_handles_every_subscribable_type_on_the_consumed_topics() -> None:
    assert {CaseOpened.type, SurveyDue.type} <= set(HANDLERS)


async def test_same_case_opened_twice_puts_one_item_in_the_owning_offices_inbox_and_queues_one_delivery(
    sessions: async_sessionmaker[AsyncSession], berlin: Principal, erbil: Principal
) -> None:
    async with NotificationUnitOfWork(sessions) as uow:
        berlin_hook = subscriptions.create_subscription(
            uow,
            event_types=[CaseOpened.type],
            url="https://berlin.example/hooks",
            event_filter={},
            description=None,
            environment="test",
            actor=berlin,
            now=utc_now(),
        )
        erbil_hook = subscriptions.create_subscription(
            uow,
            event_types=[CaseOpened.type],
            url="https://erbil.example/hooks",
            event_filter={},
            description=None,
            environment="test",
            actor=erbil,
            now=utc_now(),
        )
        await uow.commit()
    event = case_opened_event()
    case_id = uuid.UUID(event.subject)
    for _ in range(2):  # Kafka redelivers: at-least-once
        await on_event(event, NotificationUnitOfWork(sessions))
    assert await inbox_of(sessions, berlin, case_id) == ["case_opened"]
    assert await inbox_of(sessions, erbil, case_id) == []
    async with NotificationUnitOfWork(sessions) as uow:
        berlin = await uow.deliveries.page(berlin_hook.id, status=None, after=None, limit=10)
        erbil = await uow.deliveries.page(erbil_hook.id, status=None, after=None, limit=10)
    assert [(d.event_id, d.status) for d in berlin] == [(event.id, "pending")]
    assert erbil == []  # the Iraq office may not see a German case


async def test_a_filter_narrows_what_a_subscription_receives(
    sessions: async_sessionmaker[AsyncSession], berlin: Principal, cfp: Principal
) -> None:
    async with NotificationUnitOfWork(sessions) as uow:
        resettlement_only = subscriptions.create_subscription(
            uow,
            event_types=[CaseOpened.type],
            url="https://berlin.example/hooks",
            event_filter={"programme": "resettlement_integration"},
            description=None,
            environment="test",
            actor=berlin,
            now=utc_now(),
        )
        partner = subscriptions.create_subscription(
            uow,
            event_types=[CaseOpened.type],
            url="https://cfp.example/hooks",
            event_filter={},
            description=None,
            environment="test",
            actor=cfp,
            now=utc_now(),
        )
        await uow.commit()
    await on_event(case_opened_event(), NotificationUnitOfWork(sessions))
    async with NotificationUnitOfWork(sessions) as uow:
        assert await uow.deliveries.page(resettlement_only.id, status=None, after=None, limit=10) == []
        assert await uow.deliveries.page(partner.id, status=None, after=None, limit=10) == []


async def test_survey_due_tells_the_owning_office(
    sessions: async_sessionmaker[AsyncSession], berlin: Principal
) -> None:
    due = SurveyDue(
        survey_schedule_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        owner_office_id="de-berlin",
        administration=Administration.BASELINE,
        instrument="rss",
        due_on=date(2027, 1, 3),
    )
    event = CloudEvent.wrap(due, source="/casebridge/scoring-service")
    for _ in range(2):
        await on_event(event, NotificationUnitOfWork(sessions))
    assert await inbox_of(sessions, berlin, due.case_id) == ["survey_due"]


def overdue_visit(office: str = "de-berlin", visit_id: uuid.UUID | None = None) -> CaseFollowUpDue:
    return CaseFollowUpDue(
        case_id=uuid.uuid4(),
        visit_id=visit_id or uuid.uuid4(),
        owner_office_id=office,
        phase=FollowUpPhase.FOLLOW_UP,
        kind=VisitKind.HOME_VISIT,
        planned_on=date(2026, 12, 1),
        overdue_at=datetime(2026, 12, 9, tzinfo=UTC),
    )


async def items_of_case(sessions: async_sessionmaker[AsyncSession], case_id: uuid.UUID) -> list[InboxItem]:
    async with NotificationUnitOfWork(sessions) as uow:
        return list((await uow.session.scalars(select(InboxItem).where(col(InboxItem.case_id) == case_id))).all())


async def test_an_overdue_visit_puts_one_item_in_the_owning_offices_inbox_and_mails_it_once_per_visit(
    sessions: async_sessionmaker[AsyncSession], berlin: Principal, erbil: Principal
) -> None:
    async with NotificationUnitOfWork(sessions) as uow:
        await preferences.set_preferences(
            uow,
            channels=[Channel.EMAIL],
            email_address="case-team@berlin.example",
            language=Language.FR,
            timezone="UTC",
            quiet_hours=None,
            digest=False,
            if_match='"0"',
            actor=berlin,
            now=utc_now(),
        )
        await uow.commit()
    due = overdue_visit()
    event = CloudEvent.wrap(due, source="/casebridge/case-service")
    # Kafka redelivers the event; a re-emission for the same visit is another event with the same visit id.
    reemitted = CloudEvent.wrap(
        CaseFollowUpDue.model_validate(due.model_dump() | {"overdue_at": utc_now()}), source="/casebridge/case-service"
    )
    for delivery in (event, event, reemitted):
        await on_event(delivery, NotificationUnitOfWork(sessions))
    assert await inbox_of(sessions, berlin, due.case_id) == ["follow_up_due"]
    assert await inbox_of(sessions, erbil, due.case_id) == []
    [item] = await items_of_case(sessions, due.case_id)
    assert (item.office_id, item.title) == ("de-berlin", "Overdue follow-up home visit planned for 2026-12-01")
    async with NotificationUnitOfWork(sessions) as uow:
        mails = (
            await uow.session.scalars(select(EmailMessage).where(col(EmailMessage.inbox_item_id) == item.id))
        ).all()
    [mail] = mails
    assert mail.subject == "Visite de suivi en retard : prévue le 2026-12-01"
    assert f"Visite : {due.visit_id}" in mail.text_body


async def test_on_the_broker_an_overdue_visit_reaches_the_owning_offices_inbox_once(
    committed_sessions: async_sessionmaker[AsyncSession], kafka_topics: Topics, kafka_bootstrap: str, berlin: Principal
) -> None:
    assert CaseFollowUpDue.topic in CONSUMED_TOPICS
    topic = kafka_topics.name(CaseFollowUpDue.topic)
    due = overdue_visit()
    event = CloudEvent.wrap(due, source="/casebridge/case-service")
    producer = make_producer(kafka_bootstrap, client_id="notification-follow-up-test")
    await producer.start()
    consumer = make_consumer(kafka_bootstrap, [topic], group_id=f"g-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    dlq = DeadLetters(producer, kafka_topics.name("casebridge.notification-service.dlq"))
    loop = asyncio.create_task(consume(consumer, HANDLERS, lambda: NotificationUnitOfWork(committed_sessions), dlq))
    try:
        value = json_bytes(event.model_dump(mode="json"))
        for _ in range(2):
            await producer.send_and_wait(topic, key=event.subject.encode(), value=value)
        async with asyncio.timeout(30):
            while not await items_of_case(committed_sessions, due.case_id):  # noqa: ASYNC110 - polling a commit
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # room for a wrongful second item
        items = await items_of_case(committed_sessions, due.case_id)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        await consumer.stop()
        await producer.stop()
    assert [(i.kind, i.office_id, i.source_event_id) for i in items] == [("follow_up_due", "de-berlin", event.id)]
    assert await inbox_of(committed_sessions, berlin, due.case_id) == ["follow_up_due"]
