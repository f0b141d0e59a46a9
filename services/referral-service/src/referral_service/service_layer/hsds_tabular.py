"""Import and export of the directory in the tabular (CSV) form of Open Referral HSDS 3.x. Runs inside the
caller's unit of work and never commits."""

from datetime import datetime

from pydantic import ValidationError

from casebridge_common.auth import Principal
from referral_service.domain import hsds_tabular
from referral_service.domain.errors import HsdsImportRejected, OrganisationClaimRequired
from referral_service.domain.hsds_tabular import SourcedRecord, locate, rejection
from referral_service.domain.models import Service
from referral_service.repositories import ServiceSearch
from referral_service.schemas import DirectoryImport, HsdsService, LocationRead, OrganisationRead, ServiceImport
from referral_service.service_layer.directory import load_directory
from referral_service.unit_of_work import ReferralUnitOfWork

EXPORT_PAGE = 1000
MAX_ARCHIVE_BYTES = 16 * 1024 * 1024


async def export_tabular(uow: ReferralUnitOfWork, *, organisation_id: str | None, country: str | None) -> bytes:
    """The matching services, their organisations and locations as a zip of HSDS CSV files."""
    search = ServiceSearch(organisation_id=organisation_id, country=country)
    services: list[Service] = []
    after: str | None = None
    while True:
        rows = await uow.directory.search_services(search, after=after, limit=EXPORT_PAGE)
        services.extend(s for s, _ in rows[:EXPORT_PAGE])
        if len(rows) <= EXPORT_PAGE:
            break
        after = services[-1].id
    organisations = [
        o
        for o in [await uow.directory.organisation(i) for i in sorted({s.organisation_id for s in services})]
        if o is not None
    ]
    locations = await uow.directory.locations_of([s.id for s in services])
    return hsds_tabular.write_zip(hsds_tabular.export_tables(organisations, services, locations))


def _errors(record: SourcedRecord, exc: ValidationError) -> list[dict[str, object]]:
    found = []
    for error in exc.errors():
        source, column = locate(record, tuple(error["loc"]))
        found.append(rejection(source, column, error["msg"]))
    return found


def _organisations(
    records: list[SourcedRecord], actor: Principal, problems: list[dict[str, object]]
) -> list[OrganisationRead]:
    valid = []
    for record in records:
        if record.values.get("id") != actor.organisation_id:
            problems.append(rejection(record.source, "id", "a provider imports its own organisation only"))
            continue
        try:
            valid.append(OrganisationRead.model_validate(record.values | {"website": record.values.get("website")}))
        except ValidationError as exc:
            problems.extend(_errors(record, exc))
    return valid


async def _locations(
    uow: ReferralUnitOfWork, records: list[SourcedRecord], actor: Principal, problems: list[dict[str, object]]
) -> list[LocationRead]:
    valid = []
    for record in records:
        if record.values.get("organisation_id") != actor.organisation_id:
            problems.append(
                rejection(record.source, "organization_id", "a provider imports its own organisation's locations only")
            )
            continue
        try:
            location = LocationRead.model_validate(record.values)
        except ValidationError as exc:
            problems.extend(_errors(record, exc))
            continue
        existing = await uow.directory.location(location.id)
        if existing is not None and existing.organisation_id != actor.organisation_id:
            problems.append(rejection(record.source, "id", "this id belongs to another organisation's location"))
            continue
        if location.office_id is not None:
            office = await uow.directory.office(location.office_id)
            if office is None or office.organisation_id != actor.organisation_id:
                problems.append(rejection(record.source, "cb_office_id", "unknown office of this organisation"))
                continue
        valid.append(location)
    return valid


async def _services(
    uow: ReferralUnitOfWork,
    records: list[SourcedRecord],
    location_ids: set[str],
    actor: Principal,
    problems: list[dict[str, object]],
) -> list[ServiceImport]:
    valid = []
    for record in records:
        try:
            service = HsdsService.model_validate(record.values)
            service.category()
        except ValidationError as exc:
            problems.extend(_errors(record, exc))
            continue
        except ValueError as exc:
            problems.append(rejection(record.source, "attributes", str(exc)))
            continue
        if service.organization_id != actor.organisation_id:
            problems.append(
                rejection(record.source, "organization_id", "a provider imports its own organisation's services only")
            )
            continue
        existing = await uow.directory.service(service.id)
        if existing is not None and existing.organisation_id != actor.organisation_id:
            problems.append(rejection(record.source, "id", "this id belongs to another organisation's service"))
            continue
        unknown = False
        for position, link in enumerate(service.service_at_locations):
            if link.location_id in location_ids:
                continue
            location = await uow.directory.location(link.location_id)
            if location is None or location.organisation_id != actor.organisation_id:
                source, _ = locate(record, ("service_at_locations", position))
                problems.append(rejection(source, "location_id", "unknown location"))
                unknown = True
        if not unknown:
            valid.append(service.to_import())
    return valid


async def import_tabular(uow: ReferralUnitOfWork, data: bytes, *, actor: Principal, now: datetime) -> dict[str, int]:
    """All or nothing: every file and row is checked first, and one bad row rejects the archive with every
    row's problems (`file`, `row`, `id`, `column`, `detail`). Emits `casebridge.directory.service_updated.v1`
    for each service created or changed."""
    if actor.organisation_id is None:
        raise OrganisationClaimRequired()
    if len(data) > MAX_ARCHIVE_BYTES:
        raise HsdsImportRejected(
            "The archive is too large",
            rejections=[
                {"file": "", "row": None, "id": None, "column": None, "detail": f"over {MAX_ARCHIVE_BYTES} bytes"}
            ],
        )
    tables, problems = hsds_tabular.read_zip(data)
    if problems:
        raise HsdsImportRejected(f"{len(problems)} problem(s) in the archive", rejections=problems)
    package = hsds_tabular.assemble(tables)
    problems = package.rejections
    organisations = _organisations(package.organizations, actor, problems)
    locations = await _locations(uow, package.locations, actor, problems)
    services = await _services(uow, package.services, {loc.id for loc in locations}, actor, problems)
    if problems:
        raise HsdsImportRejected(f"{len(problems)} problem(s) in the archive", rejections=problems)
    counts = await load_directory(
        uow,
        DirectoryImport(organisations=organisations, offices=[], locations=locations, services=services),
        now=now,
    )
    return {
        "organisations_received": len(organisations),
        "locations_received": len(locations),
        "services_received": len(services),
        "services_changed": counts["services_changed"],
    }
