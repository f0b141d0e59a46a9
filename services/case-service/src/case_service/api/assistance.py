from collections.abc import Awaitable, Callable
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from case_service.api.dependencies import CasesRead, CasesWrite, PurposeParam, UoW
from case_service.schemas import AddAssistance, AssistanceRead, CloseAssistance, RecordDelivery
from case_service.schemas.access import ProjectedPage
from case_service.service_layer import assistance
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import Purpose
from casebridge_common.auth import Principal
from casebridge_common.db import utc_now
from casebridge_common.http import (
    DEFAULT_LIMIT,
    Cursor,
    CursorParam,
    IdempotencyKeyHeader,
    IfMatch,
    LimitParam,
    etag,
    page_of,
    time_and_id,
)
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/cases", tags=["cases"])


@router.post(
    "/{case_id}/assistance",
    status_code=201,
    response_model=AssistanceRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def add_assistance(
    case_id: UUID, body: AddAssistance, uow: UoW, who: CasesWrite, key: IdempotencyKeyHeader = None
) -> AssistanceRead | JSONResponse:
    """Plan an assistance item from the catalogue (economic, social, psychosocial) with its tranches."""
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        result = await assistance.add_assistance(uow, case_id, body, actor=who, now=utc_now())
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    return result


@router.get("/{case_id}/assistance", responses=problems(400, 401, 403, 404, 422))
async def list_assistance(
    case_id: UUID,
    uow: UoW,
    who: CasesRead,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
    purpose: PurposeParam = Purpose.CASE_MANAGEMENT,
) -> ProjectedPage[AssistanceRead]:
    """The case's assistance items in the order they were planned, in pages (`next_cursor`). What was given
    (`assistance`) and the amounts and tranches (`financial_payments`) are shown only when the policy allows
    them."""
    query = {"case": str(case_id), "office": who.office_id, "purpose": purpose}
    after = time_and_id(Cursor.decode(cursor, query))
    async with uow:
        rows, kept_back = await assistance.list_assistance(
            uow, case_id, actor=who, purpose=purpose, now=utc_now(), after=after, limit=limit
        )
        await uow.commit()
    page = page_of(rows, limit=limit, sort_key=lambda i: [i.created_at.isoformat(), str(i.id)], query=query)
    return ProjectedPage(items=page.items, next_cursor=page.next_cursor, withheld=kept_back)


async def _change_item(
    uow: CaseUnitOfWork,
    who: Principal,
    body: BaseModel,
    key: str | None,
    response: Response,
    change: Callable[[], Awaitable[AssistanceRead]],
) -> AssistanceRead | JSONResponse:
    """A delivery or closure: the first answer again for a retried Idempotency-Key, else the change, remembered
    for a retry, with the item's ETag for the next If-Match unless its version is withheld (it counts deliveries)."""
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        result = await change()
        await uow.idempotency.remember(status=200, body=result)
        await uow.commit()
    if result.version is not None:
        response.headers["ETag"] = etag(result.version)
    return result


@router.post(
    "/{case_id}/assistance/{item_id}/deliveries",
    response_model=AssistanceRead,
    responses=problems(401, 403, 404, 409, 412, 422),
)
async def record_delivery(
    case_id: UUID,
    item_id: UUID,
    body: RecordDelivery,
    uow: UoW,
    who: CasesWrite,
    response: Response,
    if_match: IfMatch = None,
    key: IdempotencyKeyHeader = None,
) -> AssistanceRead | JSONResponse:
    """Record the hand-over of the next tranche (tranches go in order, once each, on a day not in the future):
    409 `tranche-not-deliverable` otherwise. With `If-Match` (the item's `version` as listed), 412 when the item
    changed since; with `Idempotency-Key`, a retry replays the first answer. Emits
    `casebridge.case.assistance_delivered.v1`."""
    return await _change_item(
        uow,
        who,
        body,
        key,
        response,
        lambda: assistance.record_delivery(uow, case_id, item_id, body, actor=who, now=utc_now(), if_match=if_match),
    )


@router.post(
    "/{case_id}/assistance/{item_id}/closure",
    response_model=AssistanceRead,
    responses=problems(401, 403, 404, 409, 412, 422),
)
async def close_assistance(
    case_id: UUID,
    item_id: UUID,
    body: CloseAssistance,
    uow: UoW,
    who: CasesWrite,
    response: Response,
    if_match: IfMatch = None,
    key: IdempotencyKeyHeader = None,
) -> AssistanceRead | JSONResponse:
    """Cancel an item that will not be delivered, or record it as an unmet need. With `If-Match` (the item's
    `version`), 412 when it changed since, so a cancellation never overrides a delivery it did not see; with
    `Idempotency-Key`, a retry replays the first answer."""
    return await _change_item(
        uow,
        who,
        body,
        key,
        response,
        lambda: assistance.close_assistance(uow, case_id, item_id, body, actor=who, now=utc_now(), if_match=if_match),
    )
