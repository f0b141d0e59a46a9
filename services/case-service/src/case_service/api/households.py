from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from case_service.api.dependencies import CasesRead, CasesWrite, PurposeParam, UoW
from case_service.schemas.people import CreateHousehold, HouseholdRead
from case_service.service_layer import people
from casebridge_common.access import Purpose
from casebridge_common.db import utc_now
from casebridge_common.http import IdempotencyKeyHeader
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1", tags=["households"])


@router.post("/households", status_code=201, response_model=HouseholdRead, responses=problems(401, 403, 404, 409, 422))
async def create_household(
    body: CreateHousehold, uow: UoW, who: CasesWrite, key: IdempotencyKeyHeader = None
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
    return result


@router.get("/households/{household_id}", responses=problems(401, 403, 404, 422))
async def get_household(
    household_id: UUID, uow: UoW, who: CasesRead, purpose: PurposeParam = Purpose.CASE_MANAGEMENT
) -> HouseholdRead:
    """A household, for the office that registered it; `is_minor` is computed from the date of birth today.
    Anyone else gets 404 `household-not-found`, as for an id that does not exist. The `household` category
    passes the access policy as the head's record does (purpose, consent): what it withholds is in `withheld`."""
    async with uow:
        result = await people.read_household(uow, household_id, actor=who, purpose=purpose, now=utc_now())
        await uow.commit()  # the audit entry of this read must persist
    return result


@router.get("/beneficiaries/{beneficiary_id}/household", responses=problems(401, 403, 404, 422))
async def get_household_of_beneficiary(
    beneficiary_id: UUID, uow: UoW, who: CasesRead, purpose: PurposeParam = Purpose.CASE_MANAGEMENT
) -> HouseholdRead:
    """The household a beneficiary is a member of, as in `GET /v1/households/{id}`; 404 `household-not-found`
    when they belong to none or the caller may not see it."""
    async with uow:
        result = await people.household_of_beneficiary(uow, beneficiary_id, actor=who, purpose=purpose, now=utc_now())
        await uow.commit()
    return result
