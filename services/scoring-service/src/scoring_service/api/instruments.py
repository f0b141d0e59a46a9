from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from casebridge_common.db import utc_now
from casebridge_common.http import DEFAULT_LIMIT, Cursor, CursorParam, IdempotencyKeyHeader, LimitParam, Page, page_of
from casebridge_common.problems import problems
from scoring_service.api.dependencies import InstrumentsRead, InstrumentsWrite, UoW
from scoring_service.domain.errors import InstrumentInvalid
from scoring_service.domain.instruments import InstrumentDocument
from scoring_service.schemas import InstrumentRead, InstrumentSummary
from scoring_service.service_layer import instruments

router = APIRouter(prefix="/v1/instruments", tags=["instruments"])


@router.get("", responses=problems(400, 401, 403, 422))
async def list_instruments(
    uow: UoW,
    who: InstrumentsRead,
    code: Annotated[str | None, Query(max_length=64, description="only this instrument")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[InstrumentSummary]:
    """Every loaded instrument version, by code and version. `casebridge-default` marks this project's defaults."""
    query = {"code": code}
    after = Cursor.decode(cursor, query)
    async with uow:
        rows = await uow.instruments.page(code=code, after=[str(a) for a in after] if after else None, limit=limit)
    return page_of(
        [InstrumentSummary.model_validate(r) for r in rows],
        limit=limit,
        sort_key=lambda i: [i.code, i.version],
        query=query,
    )


@router.get("/{code}/versions/{version}", responses=problems(401, 403, 404))
async def get_instrument_version(code: str, version: str, uow: UoW, who: InstrumentsRead) -> InstrumentRead:
    """One instrument version: questions and options in order, routing, dimensions, values, weights, thresholds."""
    async with uow:
        return InstrumentRead.model_validate(await instruments.get_instrument(uow, code, version))


@router.post("/{code}/versions", status_code=201, response_model=InstrumentRead, responses=problems(401, 403, 409, 422))
async def load_instrument_version(
    code: str,
    document: InstrumentDocument,
    uow: UoW,
    who: InstrumentsWrite,
    response: Response,
    key: IdempotencyKeyHeader = None,
) -> InstrumentRead | JSONResponse:
    """Load an organisation's own version of an instrument, for example IOM's official calculator values.

    Versions are immutable: an existing `version` is a 409. Stored scores keep the version they were computed with.
    """
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, document)) is not None:
            return replay
        if document.code != code:
            raise InstrumentInvalid(
                "The document's code differs from the path.",
                errors=[{"pointer": "#/code", "detail": f"must be {code}"}],
            )
        result = InstrumentRead.model_validate(
            await instruments.load_instrument(uow, document, actor=who, now=utc_now())
        )
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    response.headers["Location"] = f"/v1/instruments/{result.code}/versions/{result.version}"
    return result
