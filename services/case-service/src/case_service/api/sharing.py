from datetime import timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from case_service.api.dependencies import CasesRead, CasesWrite, PurposeParam, UoW
from case_service.schemas.access import BreakGlass, BreakGlassRead, DisclosurePreview, ShareCase, ShareRead
from case_service.service_layer import sharing
from case_service.settings import Settings
from casebridge_common.access import Party, Purpose
from casebridge_common.db import utc_now
from casebridge_common.http import IdempotencyKeyHeader, Page
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/cases", tags=["sharing"])
Text200 = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.post("/{case_id}/shares", status_code=201, response_model=ShareRead, responses=problems(401, 403, 404, 422))
async def share_case(
    case_id: UUID, body: ShareCase, uow: UoW, who: CasesWrite, key: IdempotencyKeyHeader = None
) -> ShareRead | JSONResponse:
    """Share the case with another office, `view` or `edit`, until `expires_at` or revocation. Owner office
    only (another office that can see the case gets 403 `access-denied`, reason `not-owner`). The sharee sees
    only the categories the beneficiary's consent names for it: with none at all this is 403
    `consent-required` (R-C1). Send an `Idempotency-Key` to retry safely. Emits `casebridge.case.shared.v1`."""
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        result = await sharing.share_case(uow, case_id, body, actor=who, now=utc_now())
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    return result


@router.get("/{case_id}/shares", responses=problems(401, 403, 404))
async def list_shares(case_id: UUID, uow: UoW, who: CasesWrite) -> Page[ShareRead]:
    """Every share of the case, revoked and expired ones included, oldest first (owner office only)."""
    async with uow:
        rows = await sharing.list_shares(uow, case_id, actor=who, now=utc_now())
        await uow.commit()
    return Page(items=rows)


@router.delete("/{case_id}/shares/{share_id}", responses=problems(401, 403, 404))
async def revoke_share(case_id: UUID, share_id: UUID, uow: UoW, who: CasesWrite) -> ShareRead:
    """Revoke a share at once (owner office only); the office loses access with its next request. Revoking
    again answers the same revoked share. Emits `casebridge.case.share_revoked.v1`."""
    async with uow:
        result = await sharing.revoke_share(uow, case_id, share_id, actor=who, now=utc_now())
        await uow.commit()
    return result


@router.post(
    "/{case_id}/break-glass", status_code=201, response_model=BreakGlassRead, responses=problems(401, 403, 404, 422)
)
async def break_glass(
    case_id: UUID, body: BreakGlass, uow: UoW, who: CasesRead, request: Request, key: IdempotencyKeyHeader = None
) -> BreakGlassRead | JSONResponse:
    """Emergency access to a case outside the caller's access rules (data-protection.md §5): the caller then
    reads it like its owner, for a limited time (`BREAK_GLASS_HOURS`, 4 h by default). Needs one of the
    roles case_manager, supervisor, clinical, medical_focal_point, mental_health_professional,
    child_protection_officer (else 403 `break-glass-role-required`) and a justification of at least 20
    characters, which is audited. The owner office is notified (`casebridge.case.break_glass_used.v1`). Send an
    `Idempotency-Key` to retry safely."""
    settings: Settings = request.state.settings
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        grant = await sharing.break_glass(
            uow, case_id, body, actor=who, now=utc_now(), lasts=timedelta(hours=settings.break_glass_hours)
        )
        result = BreakGlassRead.model_validate(grant, from_attributes=True)
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    return result


@router.get("/{case_id}/disclosure-preview", responses=problems(401, 403, 404, 422))
async def disclosure_preview(
    case_id: UUID,
    uow: UoW,
    who: CasesWrite,
    recipient_office_id: Text200 = None,
    recipient_organisation_id: Text200 = None,
    recipient_organisation_type: Text200 = None,
    recipient_country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    purpose: PurposeParam = Purpose.CASE_MANAGEMENT,
) -> DisclosurePreview:
    """Before sharing, referring or transferring: exactly which data categories and which fields of the case
    file would leave for this recipient and purpose under the beneficiary's current consent, the consent that
    authorises each, and what would be withheld and why. Owner office only; nothing is sent or changed."""
    recipient = Party(
        office_id=recipient_office_id,
        organisation_id=recipient_organisation_id,
        organisation_type=recipient_organisation_type,
        country=recipient_country,
    )
    async with uow:
        result = await sharing.disclosure_preview(uow, case_id, recipient, purpose, actor=who, now=utc_now())
        await uow.commit()
    return result
