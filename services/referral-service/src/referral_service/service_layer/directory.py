from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError

from casebridge_common.auth import Principal
from casebridge_common.events.contracts.referral import DirectoryChange, ServiceCategory, ServiceUpdated
from casebridge_common.http import require_if_match
from referral_service.domain.errors import (
    HsdsImportRejected,
    InvalidPeriod,
    OrganisationClaimRequired,
    OrganisationNotFound,
    ServiceNotFound,
)
from referral_service.domain.models import Location, Office, Organisation, Pathway, Service
from referral_service.domain.pathways import Candidate, Person, Suggestion, rank
from referral_service.domain.scorecards import Scorecard, scorecard
from referral_service.repositories import ServiceSearch
from referral_service.schemas import CapacityUpdate, DirectoryImport, HsdsImport, HsdsService, ServiceImport
from referral_service.unit_of_work import ReferralUnitOfWork


def _service_values(item: ServiceImport) -> dict[str, object]:
    return {
        "organisation_id": item.organisation_id,
        "name": item.name,
        "description": item.description,
        "category": item.category,
        "status": item.status,
        "url": item.url,
        "email": item.email,
        "languages": list(item.languages),
        "interpretation_services": item.interpretation_services,
        "application_process": item.application_process,
        "fees_description": item.fees_description,
        "eligibility_description": item.eligibility.description,
        "minimum_age": item.eligibility.minimum_age,
        "maximum_age": item.eligibility.maximum_age,
        "eligible_sexes": list(item.eligibility.sexes),
        "target_groups": list(item.eligibility.target_groups),
        "service_area_country": item.service_area.country,
        "service_area_admin_areas": list(item.service_area.admin_areas),
        "open_for_referrals": item.capacity.open_for_referrals,
        "available_places": item.capacity.available_places,
        "maximum_places": item.capacity.maximum_places,
        "waiting_time_days": item.capacity.waiting_time_days,
        "capacity_source": item.capacity.source,
    }


def _emit_service_updated(uow: ReferralUnitOfWork, service: Service, change: DirectoryChange) -> None:
    uow.outbox.emit(
        ServiceUpdated(
            service_id=service.id,
            organisation_id=service.organisation_id,
            service_version=service.version,
            change=change,
            category=service.category,
            status=service.status,
            accepting_referrals=service.accepting_referrals,
            available_places=service.available_places,
        )
    )


async def load_directory(uow: ReferralUnitOfWork, document: DirectoryImport, *, now: datetime) -> dict[str, int]:
    """Insert or update every record; loading the same document twice changes nothing and emits nothing.

    Emits `casebridge.directory.service_updated.v1` for each service created or changed.
    """
    for organisation in document.organisations:
        await uow.directory.upsert_organisation(Organisation.model_validate(organisation.model_dump()))
    for office in document.offices:
        await uow.directory.upsert_office(Office.model_validate(office.model_dump()))
    for location in document.locations:
        await uow.directory.upsert_location(Location.model_validate(location.model_dump()))
    changed = 0
    for item in document.services:
        values = _service_values(item)
        service = await uow.directory.service(item.id, for_update=True)
        if service is None:
            service = Service.model_validate({"id": item.id, "updated_at": now, "capacity_updated_at": now, **values})
            uow.directory.add_service(service)
            await uow.session.flush()
            _emit_service_updated(uow, service, DirectoryChange.CREATED)
            changed += 1
        elif any(getattr(service, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(service, key, value)
            service.version += 1
            service.updated_at = now
            _emit_service_updated(uow, service, DirectoryChange.UPDATED)
            changed += 1
        await uow.directory.link_service_to_locations(item.id, item.location_ids)
    for pathway in document.pathways:
        await uow.directory.upsert_pathway(Pathway.model_validate(pathway.model_dump()))
    return {
        "organisations": len(document.organisations),
        "offices": len(document.offices),
        "locations": len(document.locations),
        "services": len(document.services),
        "services_changed": changed,
        "pathways": len(document.pathways),
    }


async def update_capacity(
    uow: ReferralUnitOfWork,
    service_id: str,
    update: CapacityUpdate,
    *,
    if_match: str | None,
    actor: Principal,
    now: datetime,
) -> Service:
    """A provider updates the live capacity of one of its own services. Another organisation's service is 404."""
    if actor.organisation_id is None:
        raise OrganisationClaimRequired()
    service = await uow.directory.service(service_id, for_update=True)
    if service is None or service.organisation_id != actor.organisation_id:
        raise ServiceNotFound(service_id=service_id)
    require_if_match(if_match, service.version)
    service.open_for_referrals = update.open_for_referrals
    service.available_places = update.available_places
    service.maximum_places = update.maximum_places
    service.waiting_time_days = update.waiting_time_days
    service.capacity_source = update.source
    service.capacity_updated_at = service.updated_at = now
    service.version += 1  # bumped under the row lock, so concurrent providers' updates serialise
    _emit_service_updated(uow, service, DirectoryChange.CAPACITY)
    return service


async def provider_scorecard(
    uow: ReferralUnitOfWork, organisation_id: str, *, since: datetime, until: datetime
) -> Scorecard:
    """Aggregates only: no referral, case or person is identifiable from a scorecard."""
    if until <= since:
        raise InvalidPeriod(parameter="until")
    if await uow.directory.organisation(organisation_id) is None:
        raise OrganisationNotFound(organisation_id=organisation_id)
    return scorecard(await uow.referrals.scorecard_counts(organisation_id, since=since, until=until))


COMPLETION_WINDOW = timedelta(days=365)
CANDIDATE_LIMIT = 200


@dataclass(frozen=True, slots=True)
class RankedDestinations:
    pathway: Pathway | None
    suggestions: list[Suggestion]
    services: dict[str, Service]


async def suggest_destinations(
    uow: ReferralUnitOfWork,
    *,
    country: str,
    category: ServiceCategory,
    person: Person,
    near: tuple[float, float, float] | None,
    limit: int,
    now: datetime,
) -> RankedDestinations:
    """Active services of the category in the country, and every service on the pathway, ranked by fit."""
    pathway = await uow.directory.pathway_for(country, category)
    latitude, longitude, radius_km = near if near is not None else (None, None, None)
    found = await uow.directory.search_services(
        ServiceSearch(category=category, country=country, latitude=latitude, longitude=longitude, radius_km=radius_km),
        after=None,
        limit=CANDIDATE_LIMIT,
    )
    services = {s.id: s for s, _ in found}
    distances = {s.id: d for s, d in found}
    steps = {service_id: position for position, service_id in enumerate(pathway.service_ids)} if pathway else {}
    for service in await uow.directory.services_by_id([i for i in steps if i not in services]):
        services[service.id] = service  # on the pathway even when outside the radius
    rates = await uow.referrals.completion_rates(
        sorted({s.organisation_id for s in services.values()}), since=now - COMPLETION_WINDOW
    )
    candidates = [
        Candidate(
            service_id=s.id,
            minimum_age=s.minimum_age,
            maximum_age=s.maximum_age,
            eligible_sexes=tuple(s.eligible_sexes),
            target_groups=tuple(s.target_groups),
            languages=tuple(s.languages),
            accepting_referrals=s.accepting_referrals,
            distance_km=distances.get(s.id),
            completion_rate=rates.get(s.organisation_id),
            pathway_step=steps.get(s.id),
        )
        for s in services.values()
    ]
    return RankedDestinations(pathway, rank(candidates, person)[:limit], services)


async def _row_problems(
    uow: ReferralUnitOfWork, index: int, row: dict[str, object], actor: Principal
) -> list[dict[str, object]]:
    def problem(pointer: str, detail: str) -> dict[str, object]:
        return {"row": index, "id": row.get("id"), "pointer": f"#/services/{index}{pointer}", "detail": detail}

    try:
        service = HsdsService.model_validate(row)
        service.category()
    except ValidationError as exc:
        return [problem("/" + "/".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
    except ValueError as exc:
        return [problem("/attributes", str(exc))]
    if service.organization_id != actor.organisation_id:
        return [problem("/organization_id", "a provider imports its own organisation's services only")]
    existing = await uow.directory.service(service.id)
    if existing is not None and existing.organisation_id != actor.organisation_id:
        return [problem("/id", "this id belongs to another organisation's service")]
    found = []
    for position, link in enumerate(service.service_at_locations):
        location = await uow.directory.location(link.location_id)
        if location is None or location.organisation_id != actor.organisation_id:
            found.append(problem(f"/service_at_locations/{position}/location_id", "unknown location"))
    return found


async def import_hsds(
    uow: ReferralUnitOfWork, document: HsdsImport, *, actor: Principal, now: datetime
) -> dict[str, int]:
    """All or nothing: every row is checked, and one bad row rejects the document with every row's problems."""
    if actor.organisation_id is None:
        raise OrganisationClaimRequired()
    rejections = [p for index, row in enumerate(document.services) for p in await _row_problems(uow, index, row, actor)]
    if rejections:
        raise HsdsImportRejected(f"{len(rejections)} problem(s) in the document", rejections=rejections)
    services = [HsdsService.model_validate(row).to_import() for row in document.services]
    counts = await load_directory(uow, DirectoryImport(organisations=[], offices=[], services=services), now=now)
    return {"services_received": len(services), "services_changed": counts["services_changed"]}
