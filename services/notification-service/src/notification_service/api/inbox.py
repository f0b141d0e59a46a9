from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from casebridge_common.auth import Principal
from casebridge_common.db import utc_now
from casebridge_common.http import (
    DEFAULT_LIMIT,
    Cursor,
    CursorParam,
    IfMatch,
    InvalidCursor,
    LimitParam,
    Page,
    etag,
    page_of,
    time_and_id,
)
from casebridge_common.problems import problems
from notification_service.api.dependencies import InboxRead, InboxWrite, UoW
from notification_service.domain.models import InboxKind
from notification_service.schemas import InboxChanges, InboxItemPatch, InboxItemRead, UnreadCounts
from notification_service.service_layer import inbox

router = APIRouter(prefix="/v1/inbox", tags=["inbox"])


def _viewer(who: Principal) -> dict[str, str | None]:
    return {"office": who.office_id, "organisation": who.organisation_id, "subject": who.subject}


@router.get("", responses=problems(400, 401, 403, 422))
async def list_inbox(
    uow: UoW,
    who: InboxRead,
    unread: bool | None = None,
    kind: InboxKind | None = None,
    case_id: UUID | None = None,
    archived: Annotated[bool, Query(description="true: the archive instead of the inbox")] = False,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[InboxItemRead]:
    """The caller's inbox, newest first, in pages (`next_cursor`): the office's items plus, for a user's token,
    the items addressed to that user. An organisation-bound partner sees its organisation's items."""
    query = {"unread": unread, "kind": kind, "case_id": case_id, "archived": archived, **_viewer(who)}
    after = time_and_id(Cursor.decode(cursor, query))
    async with uow:
        items = await inbox.list_items(
            uow, actor=who, unread=unread, kind=kind, case_id=case_id, archived=archived, after=after, limit=limit
        )
        await uow.commit()
    return page_of(
        [InboxItemRead.model_validate(i) for i in items],
        limit=limit,
        sort_key=lambda i: [i.created_at.isoformat(), str(i.id)],
        query=query,
    )


@router.get("/unread-counts", responses=problems(401, 403))
async def unread_counts(uow: UoW, who: InboxRead) -> UnreadCounts:
    """Unread, unarchived items of the caller's inbox, in total and per kind (kinds with none are left out)."""
    async with uow:
        counts = await inbox.unread_counts(uow, actor=who)
    return UnreadCounts(total=sum(counts.values()), by_kind=counts)


@router.get("/changes", responses=problems(400, 401, 403, 422))
async def inbox_changes(
    uow: UoW,
    who: InboxRead,
    since: Annotated[
        str | None, Query(max_length=2048, description="`next_cursor` of the previous sync; omit for a full sync")
    ] = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> InboxChanges:
    """Mobile delta sync: items created or changed (read, unread, archived, unarchived) since the cursor,
    each in its current state, oldest change first. Keep calling with `next_cursor` while `has_more`."""
    query = {"view": "changes", **_viewer(who)}
    decoded = Cursor.decode(since, query)
    try:
        after_seq = int(str(decoded[0])) if decoded else 0
    except ValueError as exc:
        raise InvalidCursor(parameter="since") from exc
    async with uow:
        items = await inbox.changes_since(uow, actor=who, after_seq=after_seq, limit=limit)
        await uow.commit()
    kept = items[:limit]
    last_seq = kept[-1].change_seq if kept else after_seq
    return InboxChanges(
        items=[InboxItemRead.model_validate(i) for i in kept],
        next_cursor=Cursor.encode([last_seq], query),
        has_more=len(items) > limit,
    )


@router.get("/{item_id}", responses=problems(401, 403, 404))
async def get_inbox_item(item_id: UUID, uow: UoW, who: InboxRead, response: Response) -> InboxItemRead:
    """One item of the caller's inbox. An item addressed to someone else is answered 404."""
    async with uow:
        result = InboxItemRead.model_validate(await inbox.read_item(uow, item_id, actor=who))
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.patch("/{item_id}", responses=problems(401, 403, 404, 412, 422, 428))
async def update_inbox_item(
    item_id: UUID, body: InboxItemPatch, uow: UoW, who: InboxWrite, response: Response, if_match: IfMatch = None
) -> InboxItemRead:
    """Mark read or unread, archive or restore. Needs `If-Match` with the item's ETag."""
    async with uow:
        item = await inbox.change_state(
            uow, item_id, read=body.read, archived=body.archived, if_match=if_match, actor=who, now=utc_now()
        )
        result = InboxItemRead.model_validate(item)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result
