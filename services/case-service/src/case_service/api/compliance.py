from typing import Annotated
from uuid import UUID

from fastapi import APIRouter

from case_service.api.dependencies import UoW
from case_service.domain.consent import WithdrawalStatus
from case_service.schemas.consent import WithdrawalRead
from case_service.service_layer import consent
from casebridge_common.auth import Principal, Scope, requires
from casebridge_common.db import utc_now
from casebridge_common.http import DEFAULT_LIMIT, Cursor, CursorParam, LimitParam, Page, page_of, time_and_id
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/compliance", tags=["compliance"])
AuditRead = Annotated[Principal, requires(Scope.AUDIT_READ, office=True)]


@router.get("/withdrawals", responses=problems(400, 401, 403, 422))
async def list_withdrawals(
    uow: UoW,
    who: AuditRead,
    status: WithdrawalStatus | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[WithdrawalRead]:
    """Consent withdrawals, narrowings and expiries of the caller's office, newest first, with each holder of
    copies that has acknowledged (purged/redacted counts) or not (`pending`, `overdue` after `acknowledge_by`;
    `reported_at` once the worker escalated the missing receipt to the office's data controller).
    `status`: `pending` (holders still to answer, in time), `overdue` (past the deadline), `complete`."""
    query = {"office": who.office_id, "status": status}
    after = time_and_id(Cursor.decode(cursor, query))
    async with uow:
        rows = await consent.list_withdrawals(uow, actor=who, status=status, after=after, limit=limit, now=utc_now())
        await uow.commit()
    return page_of(rows, limit=limit, sort_key=lambda w: [w.withdrawn_at.isoformat(), str(w.id)], query=query)


@router.get("/withdrawals/{withdrawal_id}", responses=problems(401, 403, 404))
async def get_withdrawal(withdrawal_id: UUID, uow: UoW, who: AuditRead) -> WithdrawalRead:
    """One withdrawal of the caller's office and where each expected holder stands; another office's is 404."""
    async with uow:
        result = await consent.read_withdrawal(uow, withdrawal_id, actor=who, now=utc_now())
        await uow.commit()
    return result
