from datetime import date
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from case_service.api.dependencies import CasesRead, CasesWrite, PurposeParam, UoW
from case_service.domain.follow_ups import VisitStatus
from case_service.schemas.access import ProjectedPage
from case_service.schemas.follow_ups import FollowUpRead, FollowUpScheduleRead, RecordVisitOutcome, ScheduleVisit
from case_service.service_layer import follow_ups
from casebridge_common.access import Purpose
from casebridge_common.db import utc_now
from casebridge_common.http import (
    DEFAULT_LIMIT,
    Cursor,
    CursorParam,
    IdempotencyKeyHeader,
    IfMatch,
    InvalidCursor,
    LimitParam,
    etag,
    page_of,
)
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/cases/{case_id}", tags=["follow-ups"])


def _date_and_id(after: list[object] | None) -> tuple[date, UUID] | None:
    if after is None:
        return None
    try:
        planned_on, visit_id = after
        return date.fromisoformat(str(planned_on)), UUID(str(visit_id))
    except (ValueError, TypeError) as exc:
        raise InvalidCursor(parameter="cursor") from exc


@router.get("/follow-ups", responses=problems(400, 401, 403, 404, 422))
async def list_follow_ups(
    case_id: UUID,
    uow: UoW,
    who: CasesRead,
    status: VisitStatus | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
    purpose: PurposeParam = Purpose.CASE_MANAGEMENT,
) -> ProjectedPage[FollowUpRead]:
    """The case's follow-up and monitoring visits, earliest first, in pages (`next_cursor`); `status` filters.

    Each visit shows its schedule (`victim_of_trafficking`, `child`, `standard`, ... or `extra`), day, kind and
    status to anyone who may see the case; the outcome and `notes` need `case_notes`, `psychosocial_notes` its
    own category, and `withheld` lists what the policy kept back. `is_overdue` is set once the visit is more
    than the configured days (default 7) past its day without an outcome. Invisible case: 404."""
    query = {
        "case": str(case_id),
        "subject": who.subject,
        "office": who.office_id,
        "status": status,
        "purpose": purpose,
    }
    after = _date_and_id(Cursor.decode(cursor, query))
    async with uow:
        items, kept_back = await follow_ups.list_follow_ups(
            uow, case_id, actor=who, purpose=purpose, now=utc_now(), status=status, after=after, limit=limit
        )
        await uow.commit()
    page = page_of(items, limit=limit, sort_key=lambda v: [v.planned_on.isoformat(), str(v.id)], query=query)
    return ProjectedPage(items=page.items, next_cursor=page.next_cursor, withheld=kept_back)


@router.post("/follow-ups", status_code=201, response_model=FollowUpRead, responses=problems(401, 403, 404, 409, 422))
async def schedule_visit(
    case_id: UUID, body: ScheduleVisit, uow: UoW, who: CasesWrite, response: Response, key: IdempotencyKeyHeader = None
) -> FollowUpRead | JSONResponse:
    """Add an extra visit to the case's schedule (status `planned`, schedule `extra`): from today up to three
    years ahead (otherwise 422 `follow-up-date-invalid`). Allowed on an active case and in post-closure
    monitoring; a closed case is 409 `case-not-active`. Send an `Idempotency-Key` to retry safely."""
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        result = await follow_ups.add_visit(uow, case_id, body, actor=who, now=utc_now())
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.post("/follow-up-schedule", responses=problems(401, 403, 404, 409, 422))
async def schedule_follow_ups(case_id: UUID, uow: UoW, who: CasesWrite) -> FollowUpScheduleRead:
    """Generate, or recompute, the visit schedule of the phase the case is in, from its programme, the latest
    vulnerability screening and the beneficiary's age. It is generated on its own when the case reaches the
    stage where follow-up starts (a return case's implementation, a resettlement case's follow-up, post-closure
    monitoring) and recomputed after each vulnerability screening; this asks for it explicitly. Upcoming visits
    the schedule no longer has are cancelled (`cancelled`); past, recorded and extra visits stay. Outside a
    follow-up stage: 409 `follow-up-not-started`. Calling it again changes nothing."""
    async with uow:
        result = await follow_ups.schedule_follow_ups(uow, case_id, actor=who, now=utc_now())
        await uow.commit()
    return result


@router.post(
    "/follow-ups/{visit_id}/outcome",
    responses=problems(401, 403, 404, 409, 412, 422, 428),
)
async def record_outcome(
    case_id: UUID,
    visit_id: UUID,
    body: RecordVisitOutcome,
    uow: UoW,
    who: CasesWrite,
    response: Response,
    if_match: IfMatch = None,
) -> FollowUpRead:
    """Record a planned visit as `completed` (with `held_on`, not in the future) or `missed` (outcome
    `not_reached` or `declined_visit`), with its structured outcome and free-text notes (`notes`: case notes;
    `psychosocial_notes`: counselling content, which needs that category to be read back). Needs `If-Match` with
    the visit's ETag (428 without, 412 on a stale one). A visit is recorded once: 409 `follow-up-visit-closed`."""
    async with uow:
        result = await follow_ups.record_outcome(
            uow, case_id, visit_id, body, actor=who, if_match=if_match, now=utc_now()
        )
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result
