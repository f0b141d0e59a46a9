from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from case_service.api.dependencies import CasesRead, CasesWrite, PurposeParam, UoW
from case_service.schemas import AddAssistance, AssistanceRead, CloseAssistance, RecordDelivery
from case_service.schemas.access import ProjectedPage
from case_service.service_layer import assistance
from casebridge_common.access import Purpose
from casebridge_common.db import utc_now
from casebridge_common.http import IdempotencyKeyHeader
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


@router.get("/{case_id}/assistance", responses=problems(401, 403, 404, 422))
async def list_assistance(
    case_id: UUID, uow: UoW, who: CasesRead, purpose: PurposeParam = Purpose.CASE_MANAGEMENT
) -> ProjectedPage[AssistanceRead]:
    """The case's assistance items in the order they were planned. What was given (`assistance`) and the
    amounts and tranches (`financial_payments`) are shown only when the policy allows them."""
    async with uow:
        result = await assistance.list_assistance(uow, case_id, actor=who, purpose=purpose, now=utc_now())
        await uow.commit()
    return result


@router.post("/{case_id}/assistance/{item_id}/deliveries", responses=problems(401, 403, 404, 409, 422))
async def record_delivery(
    case_id: UUID, item_id: UUID, body: RecordDelivery, uow: UoW, who: CasesWrite
) -> AssistanceRead:
    """Record the hand-over of the next tranche (tranches go in order, once each): 409
    `tranche-not-deliverable` otherwise. Emits `casebridge.case.assistance_delivered.v1`."""
    async with uow:
        result = await assistance.record_delivery(uow, case_id, item_id, body, actor=who, now=utc_now())
        await uow.commit()
    return result


@router.post("/{case_id}/assistance/{item_id}/closure", responses=problems(401, 403, 404, 409, 422))
async def close_assistance(
    case_id: UUID, item_id: UUID, body: CloseAssistance, uow: UoW, who: CasesWrite
) -> AssistanceRead:
    """Cancel an item that will not be delivered, or record it as an unmet need."""
    async with uow:
        result = await assistance.close_assistance(uow, case_id, item_id, body, actor=who, now=utc_now())
        await uow.commit()
    return result
