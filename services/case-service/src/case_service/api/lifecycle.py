from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Query, Response
from fastapi.responses import JSONResponse

from case_service.api.dependencies import MAX_VERSION, CasesRead, CasesWrite, PlanVersion, PurposeParam, UoW
from case_service.domain.assessments import AssessmentKind
from case_service.schemas import (
    AssessmentRead,
    CaseRead,
    ChangeStage,
    ClosureRead,
    DraftPlan,
    NoteRead,
    PlanDiff,
    PlanRead,
    RecordAssessment,
    WriteNote,
)
from case_service.schemas.access import ProjectedPage
from case_service.service_layer import lifecycle
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
    time_and_id,
    whole_number,
)
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/cases", tags=["cases"])


@router.post("/{case_id}/stage-transitions", responses=problems(401, 403, 404, 409, 412, 422, 428))
async def change_stage(
    case_id: UUID, body: ChangeStage, uow: UoW, who: CasesWrite, response: Response, if_match: IfMatch = None
) -> CaseRead:
    """Move the case to another stage of its programme, or a resettlement sub-track (`track`) to another state.

    Needs `If-Match` with the case's ETag. A stage the programme cannot reach from here is 409
    `illegal-transition`; a handbook guard that is not met is 409 `stage-guard-failed` with the guard's name in
    `guard` (for example `voluntariness-attested` when a return case departs, `pre-embarkation-check-passed`
    when a resettlement case departs without a health check passed in the last 72 hours). Emits
    `casebridge.case.stage_changed.v1`, and `casebridge.case.closed.v1` on closure.
    """
    async with uow:
        case = await lifecycle.change_stage(uow, case_id, body, actor=who, if_match=if_match, now=utc_now())
        result = CaseRead.model_validate(case)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.post(
    "/{case_id}/assessments",
    status_code=201,
    response_model=AssessmentRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def record_assessment(
    case_id: UUID,
    body: Annotated[RecordAssessment, Body()],
    uow: UoW,
    who: CasesWrite,
    key: IdempotencyKeyHeader = None,
) -> AssessmentRead | JSONResponse:
    """Record a new version of an assessment (`kind`): vulnerability screening, needs, skills, health summary,
    risk assessment with security plan, or best-interests determination. Earlier versions stay in the history.
    Emits `casebridge.case.assessment_recorded.v1`."""
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        result = await lifecycle.record_assessment(uow, case_id, body, actor=who, now=utc_now())
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    return result


@router.get("/{case_id}/assessments", responses=problems(400, 401, 403, 404, 422))
async def assessment_history(
    case_id: UUID,
    uow: UoW,
    who: CasesRead,
    kind: AssessmentKind | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
    purpose: PurposeParam = Purpose.CASE_MANAGEMENT,
) -> ProjectedPage[AssessmentRead]:
    """Every version of the case's assessments by kind, newest version first per kind, in pages
    (`next_cursor`). Each finding is shown only when the access policy allows its data category (vulnerability
    results, health, child protection, skills, economic situation, ...: sensitive ones need
    `cases.sensitive:read`, clinical ones a clinical role, and other offices a consent); withheld findings are
    left out of `data` and listed in `withheld`."""
    query = {"case": str(case_id), "office": who.office_id, "purpose": purpose, "kind": kind}
    after = _kind_and_version(Cursor.decode(cursor, query))
    async with uow:
        rows, kept_back = await lifecycle.assessment_history(
            uow, case_id, kind, actor=who, purpose=purpose, now=utc_now(), after=after, limit=limit
        )
        await uow.commit()
    page = page_of(rows, limit=limit, sort_key=lambda a: [a.kind, a.version], query=query)
    return ProjectedPage(items=page.items, next_cursor=page.next_cursor, withheld=kept_back)


def _kind_and_version(after: list[Any] | None) -> tuple[AssessmentKind, int] | None:
    """The keyset position of the assessment history, from a decoded cursor."""
    if after is None:
        return None
    if len(after) != 2 or not isinstance(after[0], str) or after[0] not in set(AssessmentKind):
        raise InvalidCursor(parameter="cursor")
    return AssessmentKind(after[0]), whole_number(after[1])


@router.post("/{case_id}/plans", status_code=201, response_model=PlanRead, responses=problems(401, 403, 404, 409, 422))
async def draft_plan(
    case_id: UUID, body: DraftPlan, uow: UoW, who: CasesWrite, key: IdempotencyKeyHeader = None
) -> PlanRead | JSONResponse:
    """Draft a new version of the reintegration (or integration) plan with the Annex 3 template fields."""
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        result = await lifecycle.draft_plan(uow, case_id, body, actor=who, now=utc_now())
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    return result


@router.get("/{case_id}/plans", responses=problems(400, 401, 403, 404, 422))
async def list_plans(
    case_id: UUID,
    uow: UoW,
    who: CasesRead,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
    purpose: PurposeParam = Purpose.CASE_MANAGEMENT,
) -> ProjectedPage[PlanRead]:
    """Every plan version, newest first, in pages (`next_cursor`). `content` is null when `reintegration_plan`
    is withheld from the caller, `grant_total` when `financial_payments` is."""
    query = {"case": str(case_id), "office": who.office_id, "purpose": purpose}
    after = Cursor.decode(cursor, query)
    if after is not None and len(after) != 1:
        raise InvalidCursor(parameter="cursor")
    below = None if after is None else whole_number(after[0])
    async with uow:
        rows, kept_back = await lifecycle.list_plans(
            uow, case_id, actor=who, purpose=purpose, now=utc_now(), below_version=below, limit=limit
        )
        await uow.commit()
    page = page_of(rows, limit=limit, sort_key=lambda p: [p.version], query=query)
    return ProjectedPage(items=page.items, next_cursor=page.next_cursor, withheld=kept_back)


@router.get("/{case_id}/plans/{version}", responses=problems(401, 403, 404, 422))
async def read_plan(
    case_id: UUID, version: PlanVersion, uow: UoW, who: CasesRead, purpose: PurposeParam = Purpose.CASE_MANAGEMENT
) -> PlanRead:
    """One plan version, projected as in the list."""
    async with uow:
        result = await lifecycle.read_plan(uow, case_id, version, actor=who, purpose=purpose, now=utc_now())
        await uow.commit()
    return result


@router.post("/{case_id}/plans/{version}/approval", responses=problems(401, 403, 404, 409))
async def approve_plan(case_id: UUID, version: PlanVersion, uow: UoW, who: CasesWrite) -> PlanRead:
    """A supervisor (role `supervisor`) approves the latest draft version; the previous versions become
    superseded. Without a recorded needs assessment this is 409 `stage-guard-failed`
    (`needs-assessment-recorded`). Emits `casebridge.case.plan_approved.v1`."""
    async with uow:
        result = await lifecycle.approve_plan(uow, case_id, version, actor=who, now=utc_now())
        await uow.commit()
    return result


@router.get("/{case_id}/plans/{version}/diff", responses=problems(401, 403, 404, 422))
async def diff_plans(
    case_id: UUID,
    version: PlanVersion,
    uow: UoW,
    who: CasesRead,
    against: Annotated[int, Query(ge=1, le=MAX_VERSION)],
    purpose: PurposeParam = Purpose.CASE_MANAGEMENT,
) -> PlanDiff:
    """What changed from plan version `against` to `version`: one JSON pointer per changed field (none, with
    `reintegration_plan` in `withheld`, when the caller may not see the plan's content)."""
    async with uow:
        result = await lifecycle.diff_plans(uow, case_id, version, against, actor=who, purpose=purpose, now=utc_now())
        await uow.commit()
    return result


@router.get("/{case_id}/closure", responses=problems(401, 403, 404, 422))
async def read_closure(
    case_id: UUID, uow: UoW, who: CasesRead, purpose: PurposeParam = Purpose.CASE_MANAGEMENT
) -> ClosureRead:
    """The closure record of a closed case: reason, type, exit review and hand-off, each narrative field
    only when its category is allowed (`withheld` lists the rest). 404 `closure-not-found` while open."""
    async with uow:
        result = await lifecycle.read_closure(uow, case_id, actor=who, purpose=purpose, now=utc_now())
        await uow.commit()
    return result


@router.post("/{case_id}/notes", status_code=201, response_model=NoteRead, responses=problems(401, 403, 404, 422))
async def write_note(
    case_id: UUID, body: WriteNote, uow: UoW, who: CasesWrite, key: IdempotencyKeyHeader = None
) -> NoteRead | JSONResponse:
    """Add a case note; mark it `is_confidential` to show it only to callers with `cases.sensitive:read`."""
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        result = await lifecycle.write_note(uow, case_id, body, actor=who, now=utc_now())
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    return result


@router.get("/{case_id}/notes", responses=problems(400, 401, 403, 404, 422))
async def list_notes(
    case_id: UUID,
    uow: UoW,
    who: CasesRead,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
    purpose: PurposeParam = Purpose.CASE_MANAGEMENT,
) -> ProjectedPage[NoteRead]:
    """The case's notes, newest first, in pages (`next_cursor`). A body is shown only when `case_notes` is
    allowed (and `psychosocial_notes` too for a confidential note); `withheld` says why not."""
    query = {"case": str(case_id), "office": who.office_id, "purpose": purpose}
    after = time_and_id(Cursor.decode(cursor, query))
    async with uow:
        rows, kept_back = await lifecycle.list_notes(
            uow, case_id, actor=who, purpose=purpose, now=utc_now(), after=after, limit=limit
        )
        await uow.commit()
    page = page_of(rows, limit=limit, sort_key=lambda n: [n.written_at.isoformat(), str(n.id)], query=query)
    return ProjectedPage(items=page.items, next_cursor=page.next_cursor, withheld=kept_back)
