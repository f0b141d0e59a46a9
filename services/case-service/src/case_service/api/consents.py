from collections.abc import Awaitable, Callable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from case_service.api.dependencies import CasesRead, UoW
from case_service.domain.consent import ConsentRecord
from case_service.schemas.consent import (
    AnswerConsentRequest,
    ConsentRead,
    ConsentReceipt,
    GiveConsent,
    NarrowConsent,
    RenewConsent,
    WithdrawConsent,
)
from case_service.service_layer import consent
from case_service.service_layer.consent import WithdrawalPolicy
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.auth import Principal, Scope, requires
from casebridge_common.db import utc_now
from casebridge_common.http import (
    DEFAULT_LIMIT,
    Cursor,
    CursorParam,
    IdempotencyKeyHeader,
    IfMatch,
    LimitParam,
    Page,
    etag,
    page_of,
    time_and_id,
)
from casebridge_common.problems import problems

router = APIRouter(tags=["consents"])
ConsentsWrite = Annotated[Principal, requires(Scope.CONSENTS_WRITE, office=True)]


def _policy(request: Request) -> WithdrawalPolicy:
    return WithdrawalPolicy.of(request.state.settings)


Policy = Annotated[WithdrawalPolicy, Depends(_policy)]


def _answer(response: Response, record: ConsentRead) -> ConsentRead:
    response.headers["ETag"] = etag(record.version)
    return record


RecordConsent = Callable[..., Awaitable[ConsentRecord]]


async def _record(
    uow: CaseUnitOfWork,
    who: Principal,
    response: Response,
    key: str | None,
    body: GiveConsent,
    beneficiary_id: UUID,
    record_with: RecordConsent,
) -> ConsentRead | JSONResponse:
    """A new consent record (given or requested), replayed for a repeated Idempotency-Key."""
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        result = ConsentRead.model_validate(await record_with(uow, beneficiary_id, body, actor=who, now=utc_now()))
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    return _answer(response, result)


@router.post(
    "/v1/beneficiaries/{beneficiary_id}/consents",
    status_code=201,
    response_model=ConsentRead,
    responses=problems(401, 403, 404, 422),
)
async def give_consent(
    beneficiary_id: UUID,
    body: GiveConsent,
    uow: UoW,
    who: ConsentsWrite,
    response: Response,
    key: IdempotencyKeyHeader = None,
) -> ConsentRead | JSONResponse:
    """Record the consent a beneficiary of the caller's office gave: who gave it (for a minor, a parent or guardian
    with the child's assent and views), how, after which notice, and its scopes (data categories by purposes by
    recipients) and validity. Consent for `immigration_enforcement` is refused (422 `forbidden-purpose`).
    Emits `casebridge.consent.given.v1`. Send an `Idempotency-Key` to retry safely."""
    return await _record(uow, who, response, key, body, beneficiary_id, consent.give_consent)


@router.post(
    "/v1/beneficiaries/{beneficiary_id}/consent-requests",
    status_code=201,
    response_model=ConsentRead,
    responses=problems(401, 403, 404, 422),
)
async def request_consent(
    beneficiary_id: UUID,
    body: GiveConsent,
    uow: UoW,
    who: ConsentsWrite,
    response: Response,
    key: IdempotencyKeyHeader = None,
) -> ConsentRead | JSONResponse:
    """Record a consent asked for but not answered yet (status `requested`): the notice shown and the terms
    proposed, with the same rules as a given consent. It authorises nothing until
    `POST /v1/consents/{id}/answer` records the person's answer. Send an `Idempotency-Key` to retry safely."""
    return await _record(uow, who, response, key, body, beneficiary_id, consent.request_consent)


@router.post("/v1/consents/{consent_id}/answer", responses=problems(401, 403, 404, 409, 412, 422, 428))
async def answer_consent(
    consent_id: UUID,
    body: AnswerConsentRequest,
    uow: UoW,
    who: ConsentsWrite,
    response: Response,
    if_match: IfMatch = None,
) -> ConsentRead:
    """The person's answer to a requested consent: `given` (it authorises from now on; emits
    `casebridge.consent.given.v1`) or `refused` (it never authorises). Needs `If-Match`; a record that is not
    `requested` is 409 `consent-not-requested`."""
    async with uow:
        record = await consent.answer_consent(uow, consent_id, body, actor=who, if_match=if_match, now=utc_now())
        result = ConsentRead.model_validate(record)
        await uow.commit()
    return _answer(response, result)


@router.get("/v1/beneficiaries/{beneficiary_id}/consents", responses=problems(400, 401, 403, 404, 422))
async def list_consents(
    beneficiary_id: UUID,
    uow: UoW,
    who: CasesRead,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[ConsentRead]:
    """Every consent record of the beneficiary, oldest first: the full version history (a renewal or narrowing
    is a new record whose `supersedes` names the one it replaced)."""
    query = {"beneficiary": str(beneficiary_id), "office": who.office_id}
    after = time_and_id(Cursor.decode(cursor, query))
    async with uow:
        rows = await consent.list_consents(uow, beneficiary_id, actor=who, after=after, limit=limit)
        await uow.commit()  # the audit entry of this read must persist
    return page_of(
        [ConsentRead.model_validate(r) for r in rows],
        limit=limit,
        sort_key=lambda c: [c.recorded_at.isoformat(), str(c.id)],
        query=query,
    )


@router.get("/v1/consents/{consent_id}", responses=problems(401, 403, 404))
async def get_consent(consent_id: UUID, uow: UoW, who: CasesRead, response: Response) -> ConsentRead:
    """One consent record, with its `ETag` for renewal, narrowing or withdrawal. A record of a beneficiary the
    caller's office may not see is 404."""
    async with uow:
        result = ConsentRead.model_validate(await consent.read_consent(uow, consent_id, actor=who))
        await uow.commit()
    return _answer(response, result)


@router.get("/v1/consents/{consent_id}/receipt", responses=problems(401, 403, 404, 422))
async def get_consent_receipt(
    consent_id: UUID,
    uow: UoW,
    who: CasesRead,
    version: Annotated[int | None, Query(ge=1, description="the record version; the current one when absent")] = None,
) -> ConsentReceipt:
    """The consent receipt to give to the beneficiary: a JSON-LD document in the spirit of ISO/IEC TS 27560
    (controller, pseudonymous subject, purposes, categories, recipients, validity, status, withdrawal, links to
    the superseded and superseding records). One is issued and kept each time the record reaches a state (given,
    renewed, narrowed, withdrawn, expired): `version` picks an earlier one. A version without a receipt is 404
    `consent-receipt-not-found`."""
    async with uow:
        document = await consent.consent_receipt(uow, consent_id, actor=who, version=version)
        await uow.commit()
    return ConsentReceipt.model_validate(document)


@router.post(
    "/v1/consents/{consent_id}/renewal",
    status_code=201,
    responses=problems(401, 403, 404, 409, 412, 422, 428),
)
async def renew_consent(
    consent_id: UUID, body: RenewConsent, uow: UoW, who: ConsentsWrite, response: Response, if_match: IfMatch = None
) -> ConsentRead:
    """Renew a given or renewed consent for a new period with the same terms: answered with the new `renewed`
    record; the old one becomes `expired`. Needs `If-Match` with the old record's ETag (412 `version-mismatch`
    with `current_version` otherwise). A consent not in force is 409 `consent-not-active`.
    Emits `casebridge.consent.given.v1` with `renewed` true."""
    async with uow:
        record = await consent.renew_consent(uow, consent_id, body, actor=who, if_match=if_match, now=utc_now())
        result = ConsentRead.model_validate(record)
        await uow.commit()
    return _answer(response, result)


@router.post(
    "/v1/consents/{consent_id}/narrowing",
    status_code=201,
    responses=problems(401, 403, 404, 409, 412, 422, 428),
)
async def narrow_consent(
    consent_id: UUID,
    body: NarrowConsent,
    uow: UoW,
    who: ConsentsWrite,
    policy: Policy,
    response: Response,
    if_match: IfMatch = None,
) -> ConsentRead:
    """Narrow a consent to the `scopes` given: answered with the new record; the old one becomes `narrowed`.
    The new terms must be inside the old ones (422 `consent-narrowing-widens`) and narrower
    (422 `consent-narrowing-unchanged`). Needs `If-Match`. Emits `casebridge.consent.given.v1` for the new record
    and `casebridge.consent.withdrawn.v1` (kind `narrowed`) with what holders must purge or redact."""
    async with uow:
        record = await consent.narrow_consent(
            uow, consent_id, body, actor=who, if_match=if_match, policy=policy, now=utc_now()
        )
        result = ConsentRead.model_validate(record)
        await uow.commit()
    return _answer(response, result)


@router.post("/v1/consents/{consent_id}/withdrawal", responses=problems(401, 403, 404, 409, 412, 422, 428))
async def withdraw_consent(
    consent_id: UUID,
    body: WithdrawConsent,
    uow: UoW,
    who: ConsentsWrite,
    policy: Policy,
    response: Response,
    if_match: IfMatch = None,
) -> ConsentRead:
    """Withdraw a consent, through any `channel`; it takes effect at once, and services and goods continue.
    Answered with the withdrawn record, and `casebridge.consent.withdrawn.v1` (kind `withdrawn`) asks every holder
    of copies to purge or redact them and acknowledge. With `scopes`, only those permissions are withdrawn: that is
    a narrowing, answered with the new record. Needs `If-Match`."""
    async with uow:
        record = await consent.withdraw_consent(
            uow, consent_id, body, actor=who, if_match=if_match, policy=policy, now=utc_now()
        )
        result = ConsentRead.model_validate(record)
        await uow.commit()
    return _answer(response, result)
