import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.envelope import CloudEvent
from notification_service.consumers import on_case_opened
from notification_service.unit_of_work import NotificationUnitOfWork


async def test_same_case_opened_twice_puts_one_item_in_the_owning_offices_inbox(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    opened = CaseOpened(
        case_id=uuid.uuid4(),
        case_version=1,
        beneficiary_id=uuid.uuid4(),
        programme=Programme.RETURN_REINTEGRATION,
        owner_office_id="de-berlin",
        owner_organisation_id="iom-germany",
        opened_at=datetime.now(UTC),
    )
    event = CloudEvent.wrap(opened, source="/casebridge/case-service")
    for _ in range(2):
        await on_case_opened(event, NotificationUnitOfWork(sessions))
    async with NotificationUnitOfWork(sessions) as uow:
        berlin = await uow.inbox_items.page_for_office(
            "de-berlin", unread=None, case_id=opened.case_id, after=None, limit=10
        )
        erbil = await uow.inbox_items.page_for_office(
            "iq-erbil", unread=None, case_id=opened.case_id, after=None, limit=10
        )
        assert [(i.kind, i.source_event_id) for i in berlin] == [("case_opened", event.id)]
        assert erbil == []
