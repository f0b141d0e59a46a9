import uuid
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.auth import Principal
from casebridge_common.db import utc_now
from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.contracts.scoring import Administration, SurveyDue
from casebridge_common.events.envelope import CloudEvent
from notification_service.consumers import HANDLERS
from notification_service.consumers.events import on_event
from notification_service.service_layer import subscriptions
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
