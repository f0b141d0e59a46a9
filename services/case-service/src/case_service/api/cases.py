from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic_core import to_json

from case_service.api.dependencies import CasesRead, CasesWrite, PurposeParam, UoW
from case_service.domain.assessments import VulnerabilityCategory
from case_service.domain.errors import CaseOpeningContended, OpeningRaced
from case_service.domain.stages import Stage
from case_service.schemas import CaseRead, OpenCase, UpdateCase
from case_service.service_layer import cases
from case_service.unit_of_work import CaseOpeningWork
from casebridge_common.access import Purpose
from casebridge_common.db import utc_now
from casebridge_common.events.contracts.case import Programme
from casebridge_common.http import (
    DEFAULT_LIMIT,
    Cursor,
    CursorParam,
    IdempotencyClaim,
    IdempotencyKeyHeader,
    IfMatch,
    LimitParam,
    Page,
    etag,
    idempotency_principal,
    idempotency_request_hash,
    idempotent_replay,
    page_of,
    time_and_id,
)
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/cases", tags=["cases"])
OPENING_ATTEMPTS = 3  # a retry finds the answer of the request that raced it: a third race means contention
CountryFilter = Annotated[str | None, Query(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2", examples=["SN"])]


@router.post("", status_code=201, response_model=CaseRead, responses=problems(401, 403, 404, 409, 422))
async def open_case(body: OpenCase, request: Request, who: CasesWrite, key: IdempotencyKeyHeader = None) -> Response:
    """Open a case for a beneficiary registered in the caller's office. Emits `casebridge.case.opened.v1`; the
    case's first monitoring profile leaves with the weekly publication. 404 `beneficiary-not-found` for a
    beneficiary the caller's office did not register."""
    # The hot path of the API (bench/case_service.py): its unit of work is made here rather than by a dependency,
    # and it is one statement (repositories/openings.py). Its answer is serialised once, for the response, and
    # for the Idempotency-Key record within the statement's document.
    claim = None
    if key is not None:
        claim = IdempotencyClaim(idempotency_principal(who), key, idempotency_request_hash(body))
    for _ in range(OPENING_ATTEMPTS):
        async with CaseOpeningWork(request.state.engine) as work:
            result = cases.open_case(work, body, actor=who, now=utc_now(), claim=claim)
            try:
                answered = await work.commit()
            except OpeningRaced:
                continue
        if answered is not None:
            assert claim is not None  # noqa: S101 - only a claimed key has an answer
            return idempotent_replay(answered, claim.request_hash)
        # the same bytes as a JSONResponse of the answer (compact, UTF-8), from pydantic's encoder
        return Response(
            to_json(result), status_code=201, headers={"ETag": etag(result.version)}, media_type="application/json"
        )
    raise CaseOpeningContended()


@router.get("/{case_id}", responses=problems(401, 403, 404, 422))
async def get_case(
    case_id: UUID, uow: UoW, who: CasesRead, response: Response, purpose: PurposeParam = Purpose.CASE_MANAGEMENT
) -> CaseRead:
    """A case as the caller may see it: its owner office sees it whole; an office holding a share, the
    destination of an active referral, or a break-glass holder sees the categories the access policy allows
    (consent, scope, role), and `withheld` lists every other category with the policy's reason. A case the
    caller may not see at all is 404 `case-not-found`, exactly as for an id that does not exist.
    `purpose=immigration_enforcement` is 403 `purpose-forbidden`."""
    async with uow:
        result = await cases.read_case(uow, case_id, actor=who, purpose=purpose, now=utc_now())
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.patch("/{case_id}", responses=problems(401, 403, 404, 412, 422, 428))
async def update_case(
    case_id: UUID, body: UpdateCase, uow: UoW, who: CasesWrite, response: Response, if_match: IfMatch = None
) -> CaseRead:
    """Change the plain fields of a case that no stage transition drives: `assigned_worker` (null unassigns).
    The owner office or an office holding an `edit` share may; a case the caller may not see is 404, visible
    but not writable is 403 `access-denied`. Needs `If-Match` with the case's ETag: 428 without, 412 with
    `current_version` when stale. Stages change through `POST /v1/cases/{id}/stage-transitions`."""
    async with uow:
        result = await cases.patch_case(uow, case_id, body, actor=who, if_match=if_match, now=utc_now())
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.get("", responses=problems(400, 401, 403, 422))
async def list_cases(
    uow: UoW,
    who: CasesRead,
    programme: Programme | None = None,
    stage: Stage | None = None,
    vulnerability: VulnerabilityCategory | None = None,
    assigned_worker: Annotated[str | None, Query(max_length=200)] = None,
    overdue_follow_ups: Annotated[
        bool, Query(description="only cases with a planned follow-up visit reported overdue")
    ] = False,
    office: Annotated[str | None, Query(max_length=200, description="only cases this office owns")] = None,
    country_of_origin: CountryFilter = None,
    country_of_return: CountryFilter = None,
    country_of_resettlement: CountryFilter = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
    purpose: PurposeParam = Purpose.CASE_MANAGEMENT,
) -> Page[CaseRead]:
    """The cases the caller may see, newest first, in pages (`next_cursor`): those its office owns, holds an
    active share of, is the destination of an active referral of, or holds a break-glass grant for, each
    projected as in `GET /v1/cases/{id}`. There are no counts, and hidden cases never shape a page. Filters
    combine: `stage`, `programme`, `vulnerability` (a category of the latest vulnerability screening; only
    cases whose vulnerability results the caller may see match), `assigned_worker`, `overdue_follow_ups=true`
    (a planned visit more than the configured days past its day without an outcome), `office` (the owning
    office), `country_of_origin`, `country_of_return`, `country_of_resettlement` (the beneficiary's, ISO
    3166-1 alpha-2; only cases whose beneficiary field the caller may see match: identity data for the
    origin, migration history for return and resettlement)."""
    countries = {
        name: code
        for name, code in (
            ("country_of_origin", country_of_origin),
            ("country_of_return", country_of_return),
            ("country_of_resettlement", country_of_resettlement),
        )
        if code is not None
    }
    query = {
        "purpose": purpose,
        "subject": who.subject,
        "programme": programme,
        "stage": stage,
        "office": who.office_id,
        "vulnerability": vulnerability,
        "assigned_worker": assigned_worker,
        "overdue_follow_ups": overdue_follow_ups,
        "owner_office": office,
        **countries,
    }
    after = time_and_id(Cursor.decode(cursor, query))
    async with uow:
        rows = await cases.list_cases(
            uow,
            actor=who,
            purpose=purpose,
            now=utc_now(),
            programme=programme,
            stage=stage,
            after=after,
            limit=limit,
            vulnerability=vulnerability,
            assigned_worker=assigned_worker,
            overdue_follow_ups=overdue_follow_ups,
            office=office,
            countries=countries,
        )
        await uow.commit()
    return page_of(
        rows,
        limit=limit,
        sort_key=lambda c: [c.opened_at.isoformat(), str(c.id)],
        query=query,
    )
