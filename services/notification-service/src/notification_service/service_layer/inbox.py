from datetime import datetime
from uuid import UUID

from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import CaseOpened
from casebridge_common.events.contracts.notification import InboxItemCreated
from notification_service.domain.models import InboxItem, item_for_case_opened
from notification_service.unit_of_work import NotificationUnitOfWork


def notify_case_opened(uow: NotificationUnitOfWork, opened: CaseOpened, *, event_id: str, now: datetime) -> InboxItem:
    """Tell the owning office. Emits `notification.inbox_item_created`."""
    item = item_for_case_opened(opened, event_id=event_id, now=now)
    uow.inbox_items.add(item)
    uow.outbox.emit(
        InboxItemCreated(inbox_item_id=item.id, office_id=item.office_id, kind=item.kind, source_event_id=event_id)
    )
    return item


async def office_inbox(
    uow: NotificationUnitOfWork,
    *,
    actor: Principal,
    unread: bool | None,
    case_id: UUID | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[InboxItem]:
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    return await uow.inbox_items.page_for_office(
        actor.office_id, unread=unread, case_id=case_id, after=after, limit=limit
    )
