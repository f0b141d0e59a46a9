from typing import Annotated

from fastapi import APIRouter, Query

from casebridge_common.http import DEFAULT_LIMIT, Cursor, CursorParam, LimitParam, Page, page_of
from casebridge_common.problems import problems
from referral_service.api.dependencies import DirectoryRead, UoW
from referral_service.schemas import OfficeRead, OrganisationRead

router = APIRouter(prefix="/v1/directory", tags=["directory"])
Country = Annotated[str | None, Query(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]


def _after(cursor: list[object] | None) -> str | None:
    return str(cursor[0]) if cursor else None


@router.get("/organisations", responses=problems(400, 401, 403, 422))
async def list_organisations(
    uow: UoW, who: DirectoryRead, country: Country = None, cursor: CursorParam = None, limit: LimitParam = DEFAULT_LIMIT
) -> Page[OrganisationRead]:
    """Organisations in the service directory (offices, agencies, service providers), ordered by id."""
    query = {"country": country}
    async with uow:
        rows = await uow.directory.organisations(
            country=country, after=_after(Cursor.decode(cursor, query)), limit=limit
        )
    return page_of(
        [OrganisationRead.model_validate(r) for r in rows], limit=limit, sort_key=lambda o: [o.id], query=query
    )


@router.get("/offices", responses=problems(400, 401, 403, 422))
async def list_offices(
    uow: UoW,
    who: DirectoryRead,
    organisation_id: str | None = None,
    country: Country = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[OfficeRead]:
    """Offices and service locations, ordered by id; their ids are the `office_id` claim of access tokens."""
    query = {"organisation_id": organisation_id, "country": country}
    async with uow:
        rows = await uow.directory.offices(
            organisation_id=organisation_id, country=country, after=_after(Cursor.decode(cursor, query)), limit=limit
        )
    return page_of([OfficeRead.model_validate(r) for r in rows], limit=limit, sort_key=lambda o: [o.id], query=query)
