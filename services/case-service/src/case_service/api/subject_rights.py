"""Data-subject rights: erasure on request, legal holds, the access report (data-protection.md §8)."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from case_service.api.dependencies import CasesAdmin, UoW
from case_service.schemas.subject_rights import AccessReport, ErasureRead, LegalHoldRead, PlaceLegalHold, RequestErasure
from case_service.service_layer import subject_rights
from casebridge_common.auth import Principal, Scope, requires
from casebridge_common.db import utc_now
from casebridge_common.http import IdempotencyKeyHeader
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/beneficiaries", tags=["subject rights"])
AuditRead = Annotated[Principal, requires(Scope.CASES_READ, Scope.AUDIT_READ, office=True)]
_ERASURE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **problems(401, 403, 404, 409, 422),
    200: {"model": ErasureRead, "description": "Erased already: the first erasure's record"},
}


@router.post("/{beneficiary_id}/erasure", status_code=201, responses=_ERASURE_RESPONSES)
async def erase_beneficiary(
    beneficiary_id: UUID, body: RequestErasure, uow: UoW, who: CasesAdmin, response: Response
) -> ErasureRead:
    """Erase a person's data on their request (right to erasure), for the office that registered them or owns
    one of their cases; role `data_controller` or `supervisor` (else 403 `subject-rights-role-required`) and the
    `cases:admin` scope besides `cases:write` (else 403 `insufficient-scope`).

    Refused with 409 `retention-hold` (nothing changes; `holds[]` says why) while a case of the person is open,
    on hold or in post-closure monitoring, within 3 months of the closure of a child's case (R-R2), or while a
    legal hold is in place (R-R1).

    Otherwise, in one transaction: the person's data key is destroyed (crypto-shredding), so every sensitive
    value sealed under it (health, vulnerability and best-interests assessments, confidential notes), in any
    table or backup, is unreadable from now on and reads show those sections as erased; names are replaced and
    the date of birth is cut to its year; the names and words of others in the consent history go; the audit
    trail stays (it holds ids only). `casebridge.beneficiary.erased.v1` is emitted so referral-, scoring- and
    notification-service drop their copies.

    Kafka: events carry ids and non-sensitive facts only (a contract rule, checked by a test over every event
    contract), so what the topics retain holds nothing of the person that erasure would need to reach.

    Idempotent: repeating the request answers 200 with the first erasure's record and changes nothing.
    """
    async with uow:
        erasure, first = await subject_rights.erase_beneficiary(uow, beneficiary_id, body, actor=who, now=utc_now())
        result = ErasureRead.model_validate(erasure)
        await uow.commit()
    if not first:
        response.status_code = 200
    return result


@router.post(
    "/{beneficiary_id}/legal-holds",
    status_code=201,
    response_model=LegalHoldRead,
    responses=problems(401, 403, 404, 422),
)
async def place_legal_hold(
    beneficiary_id: UUID, body: PlaceLegalHold, uow: UoW, who: CasesAdmin, key: IdempotencyKeyHeader = None
) -> LegalHoldRead | JSONResponse:
    """Keep a person's records whatever they ask (litigation, an authority's order): while the hold is in place,
    erasure is refused with 409 `retention-hold`. Role `data_controller` or `supervisor`, scope `cases:admin`.
    Send an `Idempotency-Key` to retry safely."""
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        hold = await subject_rights.place_legal_hold(uow, beneficiary_id, body, actor=who, now=utc_now())
        result = LegalHoldRead.model_validate(hold)
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    return result


@router.post(
    "/{beneficiary_id}/legal-holds/{hold_id}/release",
    responses=problems(401, 403, 404),
)
async def release_legal_hold(beneficiary_id: UUID, hold_id: UUID, uow: UoW, who: CasesAdmin) -> LegalHoldRead:
    """End a legal hold (role `data_controller` or `supervisor`, scope `cases:admin`). Releasing one that is
    released already answers the same and changes nothing."""
    async with uow:
        hold = await subject_rights.release_legal_hold(uow, beneficiary_id, hold_id, actor=who, now=utc_now())
        result = LegalHoldRead.model_validate(hold)
        await uow.commit()
    return result


@router.get(
    "/{beneficiary_id}/access-report",
    response_model=AccessReport,
    responses=problems(401, 403, 404, 422),
)
async def access_report(
    beneficiary_id: UUID,
    uow: UoW,
    who: AuditRead,
    download: Annotated[bool, Query(description="answer as a JSON file to hand to the person")] = False,
) -> AccessReport | JSONResponse:
    """The answer to a person's access request: everything case-service holds about them (identity, cases,
    assessments opened from the vault, plans, notes, assistance, consents with their whole history, legal holds,
    an erasure if one happened) and every disclosure of it: reads by other offices (from the audit log, with the
    categories, purpose and the consent that authorised them), shares, referrals and cross-border transfers.

    Needs scopes `cases:read` and `audit:read` and role `data_controller` or `supervisor`; the office must have
    registered the person or own one of their cases (else 404). Sensitive sections are opened only with
    `cases.sensitive:read`, else listed in `withheld`. The report is recorded in the audit log as an export.
    `?download=true` answers with `Content-Disposition: attachment`.
    """
    async with uow:
        report = await subject_rights.access_report(uow, beneficiary_id, actor=who, now=utc_now())
        await uow.commit()  # the export's audit entries must persist
    if not download:
        return report
    return JSONResponse(
        report.model_dump(mode="json"),
        headers={"Content-Disposition": f'attachment; filename="access-report-{beneficiary_id}.json"'},
    )
