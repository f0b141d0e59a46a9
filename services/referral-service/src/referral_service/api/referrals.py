from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from casebridge_common.auth import Principal
from casebridge_common.db import utc_now
from casebridge_common.events.contracts.referral import ServiceCategory, Urgency
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
from referral_service.api.dependencies import (
    OfficeReferralsRead,
    Policy,
    ReferralsRead,
    ReferralsRespond,
    ReferralsSend,
    UoW,
)
from referral_service.domain.errors import OrganisationClaimRequired
from referral_service.domain.lifecycle import Action, ReferralStatus
from referral_service.domain.models import Referral
from referral_service.repositories import ReferralFilter
from referral_service.schemas import (
    CancelReferral,
    CompleteReferral,
    CreateReferral,
    DeclineReferral,
    DisclosureRead,
    RedactionRead,
    ReferralDisclosures,
    ReferralRead,
)
from referral_service.service_layer import referrals

router = APIRouter(prefix="/v1/referrals", tags=["referrals"])
STATE_CHANGE = problems(401, 403, 404, 409, 412, 422, 428)


def _view(referral: Referral, who: Principal) -> ReferralRead:
    return ReferralRead.of(referral, free_text_withheld=referrals.free_text_withheld_from(referral, who))


def _answer(referral: Referral, response: Response, who: Principal) -> ReferralRead:
    response.headers["ETag"] = etag(referral.version)
    return _view(referral, who)


@router.post("", status_code=201, response_model=ReferralRead, responses=problems(401, 403, 404, 409, 422))
async def create_referral(
    body: CreateReferral,
    uow: UoW,
    who: ReferralsSend,
    policy: Policy,
    response: Response,
    key: IdempotencyKeyHeader = None,
) -> ReferralRead | JSONResponse:
    """Draft a referral of a case the caller's office owns to an office, an organisation or a directory service.

    The answer carries the `snapshot` that sending will share with the destination: the sender's preview (the
    consent dry-run). Its `shared_data_manifest` lists each data category the beneficiary's consents let go to
    this destination for `referral_service_delivery` (with the consent id), and each withheld one with the
    reason. A case the caller may not see is 404 `case-not-found`; an unknown destination or
    `fallback_service_id` is 422 `unknown-destination`; a service that is not accepting referrals is 409
    `service-not-accepting-referrals`.
    """
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        referral = await referrals.create_referral(uow, body, policy=policy, actor=who, now=utc_now())
        result = ReferralRead.of(referral)
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


def _page(rows: list[Referral], limit: int, query: dict[str, Any], who: Principal) -> Page[ReferralRead]:
    return page_of(
        [_view(r, who) for r in rows],
        limit=limit,
        sort_key=lambda r: [r.created_at.isoformat(), str(r.id)],
        query=query,
    )


@router.get("/inbox", responses=problems(400, 401, 403, 422))
async def referral_inbox(
    uow: UoW,
    who: ReferralsRead,
    status: ReferralStatus | None = None,
    category: ServiceCategory | None = None,
    urgency: Urgency | None = None,
    case_id: UUID | None = None,
    case_closed: bool | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[ReferralRead]:
    """Referrals sent to the caller: to its organisation, its services, or (with an office token) its office.
    Newest first. `case_closed=true` lists those whose case was closed while they were under way."""
    if who.organisation_id is None:
        raise OrganisationClaimRequired()
    filters = ReferralFilter(
        status=status, category=category, urgency=urgency, case_id=case_id, case_closed=case_closed
    )
    query = {
        "box": "in",
        "org": who.organisation_id,
        "office": who.office_id,
        "status": status,
        "category": category,
        "urgency": urgency,
        "case_id": case_id,
        "case_closed": case_closed,
    }
    async with uow:
        rows = await referrals.inbox(
            uow, filters, after=time_and_id(Cursor.decode(cursor, query)), limit=limit, actor=who
        )
        await uow.commit()
    return _page(rows, limit, query, who)


@router.get("/outbox", responses=problems(400, 401, 403, 422))
async def referral_outbox(
    uow: UoW,
    who: OfficeReferralsRead,
    status: ReferralStatus | None = None,
    category: ServiceCategory | None = None,
    urgency: Urgency | None = None,
    case_id: UUID | None = None,
    case_closed: bool | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[ReferralRead]:
    """Referrals the caller's office made (or owns since a case transfer), drafts included, newest first.
    `case_closed=true` lists those whose case was closed while they were under way."""
    filters = ReferralFilter(
        status=status, category=category, urgency=urgency, case_id=case_id, case_closed=case_closed
    )
    query = {
        "box": "out",
        "office": who.office_id,
        "status": status,
        "category": category,
        "urgency": urgency,
        "case_id": case_id,
        "case_closed": case_closed,
    }
    async with uow:
        rows = await referrals.outbox(
            uow, filters, after=time_and_id(Cursor.decode(cursor, query)), limit=limit, actor=who
        )
        await uow.commit()
    return _page(rows, limit, query, who)


@router.get("/disclosures", responses=problems(400, 401, 403, 404, 422))
async def case_disclosures(
    uow: UoW,
    who: OfficeReferralsRead,
    case_id: UUID,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[DisclosureRead]:
    """The disclosure ledger of a case, oldest first, for the office that owns the case (read-only): every
    referral that shared its data, to whom, when, for which purpose and under which consent. This is what a
    beneficiary's access request lists. A case the caller does not own is 404 `case-not-found`."""
    query = {"ledger": "case", "office": who.office_id, "case_id": case_id}
    async with uow:
        rows = await referrals.case_disclosures(
            uow, case_id, after=time_and_id(Cursor.decode(cursor, query)), limit=limit, actor=who
        )
        await uow.commit()
    return page_of(
        [DisclosureRead.of(d) for d in rows],
        limit=limit,
        sort_key=lambda d: [d.disclosed_at.isoformat(), str(d.id)],
        query=query,
    )


@router.get("/{referral_id}", responses=problems(401, 403, 404))
async def get_referral(referral_id: UUID, uow: UoW, who: ReferralsRead, response: Response) -> ReferralRead:
    """A referral, for its referring office or its destination; anyone else gets 404. Once a consent withdrawal
    took back what the referral carried, the destination reads its free text (`reason`, `snapshot.shared.reason`)
    as null and `withheld` says why; the referring office still reads it."""
    async with uow:
        referral = await referrals.read_referral(uow, referral_id, actor=who)
        await uow.commit()
    return _answer(referral, response, who)


@router.post("/{referral_id}/send", responses=STATE_CHANGE)
async def send_referral(
    referral_id: UUID, uow: UoW, who: ReferralsSend, policy: Policy, response: Response, if_match: IfMatch = None
) -> ReferralRead:
    """Send the draft (status `requested`) with exactly the snapshot its preview showed, and record the
    disclosure in the ledger. Its acknowledgement, first-contact and outcome deadlines are fixed now from its
    urgency. Emits `casebridge.referral.sent.v1`.

    403 `consent-required` when no consent in force lets any data category go to the destination (R-C1);
    403 `pathway-consent-required` when the pathway for the destination's country and the referral's category
    requires categories the snapshot lacks (`missing_categories`); 409 `referral-preview-outdated` when the
    consents changed since the preview (refresh it first). All carry the current `shared_data_manifest`.

    If the destination misses the acknowledgement deadline, the referral is redirected to its
    `fallback_service_id`, or (when the pathway redirects) to the pathway's next service accepting referrals:
    it ends `expired` with `redirected_to_referral_id`, and the new referral is sent with a snapshot projected
    afresh for the fallback; without consent covering the fallback it stays as it is and only escalates.
    """
    async with uow:
        referral = await referrals.send_referral(
            uow, referral_id, policy=policy, if_match=if_match, actor=who, now=utc_now()
        )
        await uow.commit()
    return _answer(referral, response, who)


@router.post("/{referral_id}/preview", responses=STATE_CHANGE)
async def refresh_referral_preview(
    referral_id: UUID, uow: UoW, who: ReferralsSend, response: Response, if_match: IfMatch = None
) -> ReferralRead:
    """Rebuild a draft's snapshot under the consents in force now (the consent dry-run). Sending then stores
    exactly this snapshot. Only for drafts; the version (ETag) moves on."""
    async with uow:
        referral = await referrals.refresh_preview(uow, referral_id, if_match=if_match, actor=who, now=utc_now())
        await uow.commit()
    return _answer(referral, response, who)


@router.get("/{referral_id}/disclosures", responses=problems(401, 403, 404))
async def get_referral_disclosures(referral_id: UUID, uow: UoW, who: ReferralsRead) -> ReferralDisclosures:
    """The disclosure ledger of a referral, for its referring office only (read-only): which data categories
    left, to whom, when, for which purpose and under which consent, and which of them later withdrawals took
    back from the destination's copy. The destination gets 403 `not-referral-sender`; anyone else 404."""
    async with uow:
        history = await referrals.referral_disclosures(uow, referral_id, actor=who)
        await uow.commit()
    return ReferralDisclosures(
        referral_id=referral_id,
        disclosures=[DisclosureRead.of(d) for d in history.disclosures],
        redactions=[RedactionRead.model_validate(r, from_attributes=True) for r in history.redactions],
    )


async def _respond(
    uow: UoW,
    referral_id: UUID,
    action: Action,
    who: Principal,
    response: Response,
    if_match: str | None,
    *,
    decline: DeclineReferral | None = None,
    complete: CompleteReferral | None = None,
) -> ReferralRead:
    async with uow:
        referral = await referrals.respond(
            uow, referral_id, action, if_match=if_match, actor=who, now=utc_now(), decline=decline, complete=complete
        )
        await uow.commit()
    return _answer(referral, response, who)


@router.post("/{referral_id}/acknowledge", responses=STATE_CHANGE)
async def acknowledge_referral(
    referral_id: UUID, uow: UoW, who: ReferralsRespond, response: Response, if_match: IfMatch = None
) -> ReferralRead:
    """The destination confirms receipt (`received`). Emits `casebridge.referral.acknowledged.v1`."""
    return await _respond(uow, referral_id, Action.ACKNOWLEDGE, who, response, if_match)


@router.post("/{referral_id}/accept", responses=STATE_CHANGE)
async def accept_referral(
    referral_id: UUID, uow: UoW, who: ReferralsRespond, response: Response, if_match: IfMatch = None
) -> ReferralRead:
    """The destination accepts (`accepted`). Emits `casebridge.referral.accepted.v1`."""
    return await _respond(uow, referral_id, Action.ACCEPT, who, response, if_match)


@router.post("/{referral_id}/decline", responses=STATE_CHANGE)
async def decline_referral(
    referral_id: UUID,
    body: DeclineReferral,
    uow: UoW,
    who: ReferralsRespond,
    response: Response,
    if_match: IfMatch = None,
) -> ReferralRead:
    """The destination declines with a reason code (`rejected`). Emits `casebridge.referral.declined.v1`."""
    return await _respond(uow, referral_id, Action.DECLINE, who, response, if_match, decline=body)


@router.post("/{referral_id}/start", responses=STATE_CHANGE)
async def start_referral(
    referral_id: UUID, uow: UoW, who: ReferralsRespond, response: Response, if_match: IfMatch = None
) -> ReferralRead:
    """The destination made first contact and started the service (`in_progress`)."""
    return await _respond(uow, referral_id, Action.START, who, response, if_match)


@router.post("/{referral_id}/complete", responses=STATE_CHANGE)
async def complete_referral(
    referral_id: UUID,
    body: CompleteReferral,
    uow: UoW,
    who: ReferralsRespond,
    response: Response,
    if_match: IfMatch = None,
) -> ReferralRead:
    """The destination reports the outcome and its feedback to the referring office (`completed`).
    Emits `casebridge.referral.completed.v1`."""
    return await _respond(uow, referral_id, Action.COMPLETE, who, response, if_match, complete=body)


@router.post("/{referral_id}/cancel", responses=STATE_CHANGE)
async def cancel_referral(
    referral_id: UUID,
    body: CancelReferral,
    uow: UoW,
    who: ReferralsSend,
    response: Response,
    if_match: IfMatch = None,
) -> ReferralRead:
    """The referring office withdraws the referral before delivery (`cancelled`)."""
    async with uow:
        referral = await referrals.cancel_referral(uow, referral_id, body, if_match=if_match, actor=who, now=utc_now())
        await uow.commit()
    return _answer(referral, response, who)
