from dataclasses import asdict
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from casebridge_common.db import utc_now
from casebridge_common.events.contracts.referral import ServiceCategory
from casebridge_common.http import (
    DEFAULT_LIMIT,
    Cursor,
    CursorParam,
    IfMatch,
    IsoDateTime,
    LimitParam,
    Page,
    etag,
    page_of,
)
from casebridge_common.problems import problems
from referral_service.api.dependencies import DirectoryRead, DirectoryWrite, UoW
from referral_service.domain.errors import ServiceNotFound
from referral_service.domain.pathways import Person
from referral_service.repositories import ServiceSearch
from referral_service.schemas import (
    CapacityUpdate,
    HsdsImport,
    HsdsImportResult,
    HsdsService,
    HsdsTabularImportResult,
    OfficeRead,
    OrganisationRead,
    PathwayRead,
    ScorecardRead,
    ServiceRead,
    SuggestionRead,
    Suggestions,
)
from referral_service.service_layer import directory, hsds_tabular

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


@router.get("/services", responses=problems(400, 401, 403, 422))
async def search_services(
    uow: UoW,
    who: DirectoryRead,
    category: ServiceCategory | None = None,
    country: Country = None,
    area: Annotated[str | None, Query(max_length=100, description="an admin area of the service area")] = None,
    language: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$", description="ISO 639 code")] = None,
    age: Annotated[int | None, Query(ge=0, le=130, description="the person's age in years")] = None,
    sex: Annotated[str | None, Query(pattern=r"^(female|male|other)$")] = None,
    vulnerability: Annotated[str | None, Query(max_length=64, description="a target group the service serves")] = None,
    organisation_id: str | None = None,
    accepting_referrals: bool | None = None,
    min_available_places: Annotated[int | None, Query(ge=0)] = None,
    max_waiting_days: Annotated[int | None, Query(ge=0)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float, Query(gt=0, le=2000, description="with lat and lon")] = 50,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[ServiceRead]:
    """Search the directory's services (HSDS `service` with eligibility, service area and live capacity).

    Empty eligibility lists on a service mean it serves everyone. With `lat` and `lon`, only services with a
    location within `radius_km` are returned, each with `distance_km` to its nearest location. Ordered by id.
    """
    search = ServiceSearch(
        category=category,
        country=country,
        area=area,
        language=language,
        age=age,
        sex=sex,
        vulnerability=vulnerability,
        organisation_id=organisation_id,
        accepting_referrals=accepting_referrals,
        min_available_places=min_available_places,
        max_waiting_days=max_waiting_days,
        latitude=lat,
        longitude=lon,
        radius_km=radius_km if lat is not None and lon is not None else None,
    )
    query = asdict(search)
    async with uow:
        rows = await uow.directory.search_services(search, after=_after(Cursor.decode(cursor, query)), limit=limit)
        locations = await uow.directory.locations_of([s.id for s, _ in rows])
    items = [ServiceRead.of(s, locations.get(s.id, []), distance) for s, distance in rows]
    return page_of(items, limit=limit, sort_key=lambda s: [s.id], query=query)


@router.get("/services/{service_id}", responses=problems(401, 403, 404))
async def get_service(service_id: str, uow: UoW, who: DirectoryRead, response: Response) -> ServiceRead:
    """One directory service. Its `ETag` is what a capacity update's `If-Match` names."""
    async with uow:
        service = await uow.directory.service(service_id)
        if service is None:
            raise ServiceNotFound(service_id=service_id)
        locations = await uow.directory.locations_of([service.id])
    response.headers["ETag"] = etag(service.version)
    return ServiceRead.of(service, locations.get(service.id, []))


@router.put("/services/{service_id}/capacity", responses=problems(401, 403, 404, 412, 422, 428))
async def update_capacity(
    service_id: str, body: CapacityUpdate, uow: UoW, who: DirectoryWrite, response: Response, if_match: IfMatch = None
) -> ServiceRead:
    """The provider's live capacity for one of its own services: open for referrals, places, waiting time.

    Only the organisation that provides the service may update it (another organisation gets 404). Needs
    `If-Match`. Emits `casebridge.directory.service_updated.v1`.
    """
    async with uow:
        service = await directory.update_capacity(uow, service_id, body, if_match=if_match, actor=who, now=utc_now())
        locations = await uow.directory.locations_of([service.id])
        result = ServiceRead.of(service, locations.get(service.id, []))
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.get("/organisations/{organisation_id}/scorecard", responses=problems(401, 403, 404, 422))
async def provider_scorecard(
    organisation_id: str,
    uow: UoW,
    who: DirectoryRead,
    since: Annotated[IsoDateTime | None, Query(description="start of the period (default: 90 days ago)")] = None,
    until: Annotated[IsoDateTime | None, Query(description="end of the period, exclusive (default: now)")] = None,
) -> ScorecardRead:
    """Partner scorecard: acknowledgement, acceptance and completion rates and median times of the referrals
    sent to this organisation in the period, and how many acknowledgement and outcome deadlines it missed."""
    end = until or utc_now()
    start = since or end - timedelta(days=90)
    async with uow:
        card = await directory.provider_scorecard(uow, organisation_id, since=start, until=end)
    counts = card.counts
    return ScorecardRead(
        organisation_id=organisation_id,
        since=start,
        until=end,
        sent=counts.sent,
        acknowledged=counts.acknowledged,
        accepted=counts.accepted,
        declined=counts.declined,
        completed=counts.completed,
        acknowledge_deadlines_missed=counts.acknowledge_deadlines_missed,
        outcome_deadlines_missed=counts.outcome_deadlines_missed,
        acknowledgement_rate=card.acknowledgement_rate,
        on_time_acknowledgement_rate=card.on_time_acknowledgement_rate,
        acceptance_rate=card.acceptance_rate,
        completion_rate=card.completion_rate,
        median_hours_to_acknowledge=counts.median_hours_to_acknowledge,
        median_days_to_complete=counts.median_days_to_complete,
    )


@router.get("/pathways", responses=problems(400, 401, 403, 422))
async def list_pathways(
    uow: UoW,
    who: DirectoryRead,
    country: Country = None,
    category: ServiceCategory | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[PathwayRead]:
    """Referral pathways per country and category: whom to refer to first, the fallbacks, required consent."""
    query = {"country": country, "category": category}
    async with uow:
        rows = await uow.directory.pathways(
            country=country, category=category, after=_after(Cursor.decode(cursor, query)), limit=limit
        )
    return page_of([PathwayRead.model_validate(r) for r in rows], limit=limit, sort_key=lambda p: [p.id], query=query)


@router.get("/suggestions", responses=problems(401, 403, 422))
async def suggest_destinations(
    uow: UoW,
    who: DirectoryRead,
    country: Annotated[str, Query(pattern=r"^[A-Z]{2}$", description="where the service is needed")],
    category: ServiceCategory,
    age: Annotated[int | None, Query(ge=0, le=130)] = None,
    sex: Annotated[str | None, Query(pattern=r"^(female|male|other)$")] = None,
    language: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$")] = None,
    vulnerability: Annotated[str | None, Query(max_length=64)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float, Query(gt=0, le=2000)] = 100,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Suggestions:
    """Destinations for a referral, ranked by fit: eligibility, then capacity, then the country's pathway
    (first choice, then fallbacks), then language, distance and the provider's past completion rate.
    The person's facts are used for ranking only and never stored."""
    near = (lat, lon, radius_km) if lat is not None and lon is not None else None
    async with uow:
        ranked = await directory.suggest_destinations(
            uow,
            country=country,
            category=category,
            person=Person(age=age, sex=sex, language=language, vulnerability=vulnerability),
            near=near,
            limit=limit,
            now=utc_now(),
        )
        locations = await uow.directory.locations_of([s.candidate.service_id for s in ranked.suggestions])
    return Suggestions(
        pathway=PathwayRead.model_validate(ranked.pathway) if ranked.pathway else None,
        items=[
            SuggestionRead(
                rank=s.rank,
                eligible=s.eligible,
                speaks_language=s.speaks_language,
                reasons=list(s.reasons),
                pathway_step=s.candidate.pathway_step,
                completion_rate=s.candidate.completion_rate,
                service=ServiceRead.of(
                    ranked.services[s.candidate.service_id],
                    locations.get(s.candidate.service_id, []),
                    s.candidate.distance_km,
                ),
            )
            for s in ranked.suggestions
        ],
    )


@router.get("/hsds/services", responses=problems(400, 401, 403, 422))
async def export_hsds_services(
    uow: UoW,
    who: DirectoryRead,
    organisation_id: str | None = None,
    country: Country = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[HsdsService]:
    """The directory's services as Open Referral HSDS 3.x `service` objects (with `service_capacity`,
    `language`, `service_area`, `service_at_location` ids, the category as a `casebridge-service-types`
    attribute and CaseBridge's `cb_` extensions), in pages. The same shape `POST /v1/directory/hsds` loads."""
    search = ServiceSearch(organisation_id=organisation_id, country=country)
    query = {"hsds": True, "organisation_id": organisation_id, "country": country}
    async with uow:
        rows = await uow.directory.search_services(search, after=_after(Cursor.decode(cursor, query)), limit=limit)
        locations = await uow.directory.location_ids_of([s.id for s, _ in rows])
    items = [HsdsService.of(s, locations.get(s.id, [])) for s, _ in rows]
    return page_of(items, limit=limit, sort_key=lambda s: [s.id], query=query)


@router.post("/hsds", responses=problems(401, 403, 422))
async def import_hsds(body: HsdsImport, uow: UoW, who: DirectoryWrite) -> HsdsImportResult:
    """Load a provider's own services from an HSDS JSON document (`services` array, as exported above).

    All or nothing: if any row is malformed, names another organisation or an unknown location, the answer is
    422 `hsds-import-rejected` listing every bad row (`rejections[]`: row, id, pointer, detail) and nothing is
    stored. Each service created or changed emits `casebridge.directory.service_updated.v1`."""
    async with uow:
        counts = await directory.import_hsds(uow, body, actor=who, now=utc_now())
        await uow.commit()
    return HsdsImportResult(**counts)


ZIP = "application/zip"
ZIP_BODY = {"content": {ZIP: {"schema": {"type": "string", "format": "binary"}}}}


@router.get(
    "/hsds/tabular",
    response_class=Response,
    responses={200: ZIP_BODY | {"description": "a zip of HSDS CSV files"}, **problems(400, 401, 403, 422)},
)
async def export_hsds_tabular(
    uow: UoW, who: DirectoryRead, organisation_id: str | None = None, country: Country = None
) -> Response:
    """The directory's services, their organisations and locations in the tabular form of Open Referral HSDS
    3.x: a zip of CSV files (organization, location, address, accessibility, service, service_at_location,
    language, service_area, service_capacity, unit, attribute with the category as a `casebridge-service-types`
    taxonomy_term, taxonomy_term), joined by their `*_id` columns; CaseBridge's fields are `cb_` columns, lists in
    them `;`-separated. The same archive `POST /v1/directory/hsds/tabular` loads."""
    async with uow:
        archive = await hsds_tabular.export_tabular(uow, organisation_id=organisation_id, country=country)
    return Response(
        archive, media_type=ZIP, headers={"Content-Disposition": 'attachment; filename="hsds-directory.zip"'}
    )


@router.post(
    "/hsds/tabular",
    responses=problems(401, 403, 422),
    openapi_extra={"requestBody": ZIP_BODY | {"required": True}},
)
async def import_hsds_tabular(request: Request, uow: UoW, who: DirectoryWrite) -> HsdsTabularImportResult:
    """Load a provider's own organisation, locations and services from a zip of HSDS CSV files (as exported
    above; other HSDS files and columns are ignored). organization.csv, location.csv, service.csv and
    service_at_location.csv are required.

    All or nothing: if the archive is malformed, or any row is invalid, names another organisation, an unknown
    location, unit or taxonomy term, the answer is 422 `hsds-import-rejected` listing every problem
    (`rejections[]`: file, row as a spreadsheet numbers it, id, column, detail) and nothing is stored. Each
    service created or changed emits `casebridge.directory.service_updated.v1`."""
    data = await request.body()
    async with uow:
        counts = await hsds_tabular.import_tabular(uow, data, actor=who, now=utc_now())
        await uow.commit()
    return HsdsTabularImportResult(**counts)
