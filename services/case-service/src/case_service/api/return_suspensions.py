"""Suspended returns (reintegration.md R46): while an organisation's returns to a country are suspended, its
offices open no voluntary return case there (`POST /v1/cases` fails the guard `returns_not_suspended`)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from case_service.api.dependencies import CasesAdmin, CasesRead, UoW
from case_service.schemas.return_suspensions import ReturnSuspensionRead, SuspendReturns
from case_service.service_layer import return_suspensions
from casebridge_common.db import utc_now
from casebridge_common.http import (
    DEFAULT_LIMIT,
    Cursor,
    CursorParam,
    IdempotencyKeyHeader,
    LimitParam,
    Page,
    page_of,
    time_and_id,
)
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/return-suspensions", tags=["return suspensions"])
CountryParam = Annotated[str | None, Query(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2", examples=["SO"])]


@router.post("", status_code=201, response_model=ReturnSuspensionRead, responses=problems(401, 403, 409, 422))
async def suspend_returns(
    body: SuspendReturns, uow: UoW, who: CasesAdmin, key: IdempotencyKeyHeader = None
) -> ReturnSuspensionRead | JSONResponse:
    """Suspend the caller's organisation's returns to a country (its security or operational situation threatens
    returning migrants or staff): until lifted, none of its offices opens a return case in pre-departure
    counselling for a person returning there (their country of return, else of origin); `POST /v1/cases` answers
    409 `stage-guard-failed` with `guard: returns_not_suspended`, the `country` and the `suspension_id`. Cases
    already open and returns opened on arrival (forced, spontaneous) go on. Role `supervisor` (else 403
    `return-suspension-role-required`), scopes `cases:write cases:admin`. 409 `return-suspension-exists` while the
    country's returns are suspended already. Emits `casebridge.case.returns_suspended.v1`. Send an
    `Idempotency-Key` to retry safely."""
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        suspension = await return_suspensions.suspend_returns(uow, body, actor=who, now=utc_now())
        result = ReturnSuspensionRead.model_validate(suspension)
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    return result


@router.get("", responses=problems(401, 403, 422))
async def list_return_suspensions(
    uow: UoW,
    who: CasesRead,
    country: CountryParam = None,
    in_force: Annotated[bool | None, Query(description="true: not lifted; false: lifted")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[ReturnSuspensionRead]:
    """The suspensions of the caller's organisation, newest first, in pages (`next_cursor`); `country` and
    `in_force` filter."""
    query = {"organisation": who.organisation_id, "country": country, "in_force": in_force}
    after = time_and_id(Cursor.decode(cursor, query))
    async with uow:
        rows = await return_suspensions.list_suspensions(
            uow, actor=who, country=country, in_force=in_force, after=after, limit=limit
        )
        await uow.commit()
    return page_of(
        [ReturnSuspensionRead.model_validate(s) for s in rows],
        limit=limit,
        sort_key=lambda s: [s.suspended_at.isoformat(), str(s.id)],
        query=query,
    )


@router.post("/{suspension_id}/lifting", responses=problems(401, 403, 404))
async def lift_return_suspension(suspension_id: UUID, uow: UoW, who: CasesAdmin) -> ReturnSuspensionRead:
    """Lift a suspension: its organisation's offices may open return cases to the country again (emits
    `casebridge.case.returns_resumed.v1`). Role `supervisor`, scopes `cases:write cases:admin`. Lifting a lifted
    suspension answers the same and changes nothing; another organisation's suspension is 404
    `return-suspension-not-found`."""
    async with uow:
        suspension = await return_suspensions.lift_suspension(uow, suspension_id, actor=who, now=utc_now())
        result = ReturnSuspensionRead.model_validate(suspension)
        await uow.commit()
    return result
