from datetime import timedelta
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from case_service.api.dependencies import CasesRead, CasesWrite, UoW
from case_service.domain.transfers import TransferRole, TransferStatus
from case_service.schemas.transfers import (
    CancelTransfer,
    DeclineTransfer,
    ProposeTransfer,
    TransferDetail,
    TransferRead,
)
from case_service.service_layer import transfers
from case_service.settings import Settings
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

router = APIRouter(tags=["transfers"])


def _timers(request: Request) -> transfers.TransferTimers:
    settings: Settings = request.state.settings
    return transfers.TransferTimers(
        respond_within=timedelta(days=settings.transfer_respond_within_days),
        remind_after=timedelta(days=settings.transfer_reminder_after_days),
    )


@router.post(
    "/v1/cases/{case_id}/transfers",
    status_code=201,
    response_model=TransferRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def propose_transfer(
    case_id: UUID,
    body: ProposeTransfer,
    request: Request,
    uow: UoW,
    who: CasesWrite,
    response: Response,
    key: IdempotencyKeyHeader = None,
) -> TransferRead | JSONResponse:
    """Propose to hand the case over to another (usually origin-country) office. Only the owner office may.

    The consent dry-run for purpose `cross_border_handover` to the named office, organisation and country decides
    which categories would leave; that answer is stored as the transfer's `manifest` and is exactly what moves on
    acceptance. No consented category → 403 `consent-required` (with `withheld`); a transfer already awaiting an
    answer → 409 `transfer-already-pending`. The recipient answers by `respond_by` (default 7 days) and is reminded
    once (default after 4 days). Emits `casebridge.case.transfer_proposed.v1`.
    """
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        transfer = await transfers.propose_transfer(
            uow, case_id, body, actor=who, timers=_timers(request), now=utc_now()
        )
        result = TransferRead.of(transfer)
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.get("/v1/transfers/{transfer_id}", responses=problems(401, 403, 404))
async def get_transfer(transfer_id: UUID, uow: UoW, who: CasesRead, response: Response) -> TransferDetail:
    """A transfer, for its sending office and its proposed recipient only (anyone else: 404).

    `preview` is what the recipient would take on: a summary of the case without personal data, the sections
    (data categories) the consent lets move, those withheld with the policy's reason, and whether the consent still
    covers every previewed section at this moment."""
    async with uow:
        transfer, preview = await transfers.read_transfer(uow, transfer_id, actor=who, now=utc_now())
        result = TransferDetail(**TransferRead.of(transfer).model_dump(), preview=preview)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.get("/v1/transfers", responses=problems(400, 401, 403, 422))
async def list_transfers(
    uow: UoW,
    who: CasesRead,
    role: TransferRole | None = None,
    status: TransferStatus | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[TransferRead]:
    """Transfers the caller's office sent (`role=outgoing`), was offered (`role=incoming`), or both; newest
    proposal first, in pages (`next_cursor`); `status` filters."""
    query = {"office": who.office_id, "role": role, "status": status}
    after = time_and_id(Cursor.decode(cursor, query))
    async with uow:
        rows = await transfers.list_transfers(uow, actor=who, role=role, status=status, after=after, limit=limit)
        await uow.commit()
    return page_of(
        [TransferRead.of(t) for t in rows],
        limit=limit,
        sort_key=lambda t: [t.proposed_at.isoformat(), str(t.id)],
        query=query,
    )


@router.post("/v1/transfers/{transfer_id}/acceptance", responses=problems(401, 403, 404, 409, 412, 428))
async def accept_transfer(
    transfer_id: UUID, uow: UoW, who: CasesWrite, response: Response, if_match: IfMatch = None
) -> TransferRead:
    """The recipient office accepts: from now on it owns the case, with its plan, assessments, assistance history
    and notes. Needs `If-Match` with the transfer's ETag.

    Consent is checked again at this moment: if it no longer covers every previewed category, nothing changes and
    the answer is 403 `consent-required`. Only the recipient may accept (403 `not-transfer-recipient`); an answered,
    cancelled or expired transfer is 409 `transfer-not-pending`. The former owner keeps a consent-bounded `view`
    share. Emits `casebridge.case.transferred.v1` and `casebridge.case.shared.v1`."""
    async with uow:
        transfer, _ = await transfers.accept_transfer(uow, transfer_id, actor=who, if_match=if_match, now=utc_now())
        result = TransferRead.of(transfer)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.post("/v1/transfers/{transfer_id}/decline", responses=problems(401, 403, 404, 409, 412, 422))
async def decline_transfer(
    transfer_id: UUID, body: DeclineTransfer, uow: UoW, who: CasesWrite, response: Response, if_match: IfMatch = None
) -> TransferRead:
    """The recipient office declines, with a reason; the sender keeps the case. `If-Match` is checked when sent.
    Emits `casebridge.case.transfer_ended.v1` (outcome `declined`)."""
    async with uow:
        transfer = await transfers.decline_transfer(uow, transfer_id, body, actor=who, if_match=if_match, now=utc_now())
        result = TransferRead.of(transfer)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.post("/v1/transfers/{transfer_id}/cancellation", responses=problems(401, 403, 404, 409, 412, 422))
async def cancel_transfer(
    transfer_id: UUID, body: CancelTransfer, uow: UoW, who: CasesWrite, response: Response, if_match: IfMatch = None
) -> TransferRead:
    """The sending office withdraws its proposal before it is answered (403 `not-transfer-sender` for anyone else).
    `If-Match` is checked when sent. Emits `casebridge.case.transfer_ended.v1` (outcome `cancelled`)."""
    async with uow:
        transfer = await transfers.cancel_transfer(uow, transfer_id, body, actor=who, if_match=if_match, now=utc_now())
        result = TransferRead.of(transfer)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result
