from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from case_service.api.dependencies import CasesRead, CasesWrite, PurposeParam, UoW
from case_service.schemas import BeneficiaryRead, RegisterBeneficiary
from case_service.service_layer import beneficiaries
from casebridge_common.access import Purpose
from casebridge_common.db import utc_now
from casebridge_common.http import IdempotencyKeyHeader, etag
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/beneficiaries", tags=["beneficiaries"])


@router.post("", status_code=201, response_model=BeneficiaryRead, responses=problems(401, 403, 422))
async def register_beneficiary(
    body: RegisterBeneficiary, uow: UoW, who: CasesWrite, response: Response, key: IdempotencyKeyHeader = None
) -> BeneficiaryRead | JSONResponse:
    """Register a returnee or refugee in the caller's office. Send an `Idempotency-Key` to retry safely."""
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        result = BeneficiaryRead.model_validate(beneficiaries.register_beneficiary(uow, body, actor=who, now=utc_now()))
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
