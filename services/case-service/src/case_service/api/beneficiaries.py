from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from case_service.api.dependencies import CasesRead, CasesWrite, PurposeParam, UoW
from case_service.schemas import BeneficiaryRead, RegisterBeneficiary
from case_service.schemas.people import UpdateBeneficiary
from case_service.service_layer import beneficiaries
from casebridge_common.access import Purpose
from casebridge_common.db import utc_now
from casebridge_common.http import IdempotencyKeyHeader, IfMatch, etag
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/beneficiaries", tags=["beneficiaries"])


@router.post("", status_code=201, response_model=BeneficiaryRead, responses=problems(401, 403, 409, 422))
async def register_beneficiary(
    body: RegisterBeneficiary, uow: UoW, who: CasesWrite, response: Response, key: IdempotencyKeyHeader = None
) -> BeneficiaryRead | JSONResponse:
    """Register a returnee or refugee in the caller's office. Send an `Idempotency-Key` to retry safely.

    When the office already registered someone of the same nationality, a similar name (trigram similarity of
    the normalised full names at least 0.6) and the same date of birth (within a year when either is
    estimated), nothing is registered: 409 `possible-duplicate` lists them in `matches` (`beneficiary_id`,
    `score`), best first. Resend with `confirm_not_duplicate: true` once the worker has checked they differ.
    Emits `casebridge.beneficiary.registered.v1`."""
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        result = BeneficiaryRead.model_validate(
            await beneficiaries.register_checked(uow, body, actor=who, now=utc_now())
        )
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.get("/{beneficiary_id}", responses=problems(401, 403, 404, 422))
async def get_beneficiary(
    beneficiary_id: UUID, uow: UoW, who: CasesRead, response: Response, purpose: PurposeParam = Purpose.CASE_MANAGEMENT
) -> BeneficiaryRead:
    """A beneficiary as the caller may see them: the registering office sees its own record, anyone else only
    through a case of theirs the caller may see, and only the identity fields consent allows (`withheld` lists
    the rest). Anyone else gets 404 `beneficiary-not-found`, as for an id that does not exist."""
    async with uow:
        result = await beneficiaries.read_beneficiary(uow, beneficiary_id, actor=who, purpose=purpose, now=utc_now())
        await uow.commit()  # the audit entry of this read must persist
    response.headers["ETag"] = etag(result.version)
    return result


@router.patch("/{beneficiary_id}", responses=problems(401, 403, 404, 412, 422, 428))
async def update_beneficiary(
    beneficiary_id: UUID,
    body: UpdateBeneficiary,
    uow: UoW,
    who: CasesWrite,
    response: Response,
    if_match: IfMatch = None,
) -> BeneficiaryRead:
    """Change a beneficiary's details; fields left out keep their value, a list sent replaces the whole list.
    Only the registering office may (anyone else: 404 `beneficiary-not-found`). Needs `If-Match` with the
    record's ETag: 428 without it, 412 with `current_version` when it is stale. Emits
    `casebridge.beneficiary.updated.v1` naming the changed fields (never their values) when anything changed."""
    async with uow:
        beneficiary = await beneficiaries.update_beneficiary(
            uow, beneficiary_id, body, actor=who, if_match=if_match, now=utc_now()
        )
        result = BeneficiaryRead.model_validate(beneficiary)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result
