from datetime import datetime
from uuid import UUID

from fastapi import APIRouter

from casebridge_common.http import DEFAULT_LIMIT, Cursor, CursorParam, InvalidCursor, LimitParam, Page, page_of
from casebridge_common.problems import problems
from notification_service.api.dependencies import InboxRead, UoW
from notification_service.schemas import InboxItemRead
from notification_service.service_layer import inbox

router = APIRouter(prefix="/v1/inbox", tags=["inbox"])


def _after(cursor: list[object] | None) -> tuple[datetime, UUID] | None:
    if cursor is None:
        return None
    try:
        created_at, item_id = cursor
        return datetime.fromisoformat(str(created_at)), UUID(str(item_id))
    except (ValueError, TypeError) as exc:
        raise InvalidCursor(parameter="cursor") from exc


@router.get("", responses=problems(400, 401, 403, 422))
async def list_inbox(
    uow: UoW,
    who: InboxRead,
    unread: bool | None = None,
    case_id: UUID | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[InboxItemRead]:
    """The caller's office's inbox, newest first, in pages (`next_cursor`)."""
    query = {"unread": unread, "case_id": case_id, "office": who.office_id}
    after = _after(Cursor.decode(cursor, query))
    async with uow:
        items = await inbox.office_inbox(uow, actor=who, unread=unread, case_id=case_id, after=after, limit=limit)
    return page_of(
        [InboxItemRead.model_validate(i) for i in items],
        limit=limit,
        sort_key=lambda i: [i.created_at.isoformat(), str(i.id)],
        query=query,
    )
