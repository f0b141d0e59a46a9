from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from case_service.api.dependencies import CasesRead, CasesWrite, PurposeParam, UoW
from case_service.schemas.people import CreateHousehold, HouseholdRead, UpdateHousehold
from case_service.service_layer import people
from casebridge_common.access import Purpose
from casebridge_common.db import utc_now
from casebridge_common.http import IdempotencyKeyHeader, IfMatch, etag
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1", tags=["households"])


@router.post("/households", status_code=201, response_model=HouseholdRead, responses=problems(401, 403, 404, 409, 422))
async def create_household(
    body: CreateHousehold, uow: UoW, who: CasesWrite, response: Response, key: IdempotencyKeyHeader = None
) -> HouseholdRead | JSONResponse:
    """Register a household: beneficiaries the caller's office registered, each with their relationship to the
    head (exactly one `head`). A member under 18 today needs a `guardian`: another adult member
    (`beneficiary_id`) or an external person (`external`). Refusals: 404 `beneficiary-not-found` (a member the
    office did not register), 422 `household-head-required`, `household-member-repeated`, `guardian-required`,
    `guardian-not-member`, `guardian-not-adult`, 409 `already-in-household`. Send an `Idempotency-Key` to
    retry safely."""
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        result = await people.create_household(uow, body, actor=who, now=utc_now())
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.get("/households/{household_id}", responses=problems(401, 403, 404, 422))
async def get_household(
    household_id: UUID,
    uow: UoW,
    who: CasesRead,
    response: Response,
    purpose: PurposeParam = Purpose.CASE_MANAGEMENT,
) -> HouseholdRead:
    """A household as the caller may see it; `is_minor` is computed from the date of birth today. The office
    that registered it sees it whole, the `household` category passing the access policy as the head's record
    does (purpose, consent). Another office sees it through the cases of its members that the policy lets it
    see (owner after a transfer, share, referral, break-glass), and only the members whose case it may see with
    `household`; a member guardian it may not see is left out of the ward's `guardian`. Anyone else gets 404
    `household-not-found`, as for an id that does not exist. What the policy withholds is in `withheld`."""
    async with uow:
        result = await people.read_household(uow, household_id, actor=who, purpose=purpose, now=utc_now())
        await uow.commit()  # the audit entry of this read must persist
    response.headers["ETag"] = etag(result.version)
    return result


@router.patch("/households/{household_id}", responses=problems(401, 403, 404, 409, 412, 422, 428))
async def update_household(
    household_id: UUID,
    body: UpdateHousehold,
    uow: UoW,
    who: CasesWrite,
    response: Response,
    if_match: IfMatch = None,
) -> HouseholdRead:
    """Edit a household: `remove_members`, `add_members` (as at registration), `change_members` (a new
    `relationship_to_head` and/or `guardian`; `guardian` null removes it) and `return_configuration`, applied
    together; a new head means changing the old head's relationship in the same request. Only the registering
    office may (anyone else: 404 `household-not-found`). Needs `If-Match` with the household's ETag: 428
    without it, 412 with `current_version` when it is stale. The household it makes is checked as at
    registration: 422 `household-head-required`, `guardian-required`, `guardian-not-member` (also for a ward
    whose guardian is removed), `guardian-not-adult`; a problem of a member the request does not name points
    at `#/change_members` and names it (`beneficiary_id`). Also 422 `household-member-not-found` (removing or
    changing someone who is not a member), `household-member-repeated` (naming someone twice, or adding a
    member), 404 `beneficiary-not-found` (adding someone the office did not register), 409
    `already-in-household` (adding a member of another household). The version moves on only when something
    changed. Emits no event (households have none)."""
    async with uow:
        result = await people.update_household(uow, household_id, body, actor=who, if_match=if_match, now=utc_now())
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.get("/beneficiaries/{beneficiary_id}/household", responses=problems(401, 403, 404, 422))
async def get_household_of_beneficiary(
    beneficiary_id: UUID,
    uow: UoW,
    who: CasesRead,
    response: Response,
    purpose: PurposeParam = Purpose.CASE_MANAGEMENT,
) -> HouseholdRead:
    """The household a beneficiary is a member of, as in `GET /v1/households/{id}`; 404 `household-not-found`
    when they belong to none or the caller may not see it."""
    async with uow:
        result = await people.household_of_beneficiary(uow, beneficiary_id, actor=who, purpose=purpose, now=utc_now())
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result
