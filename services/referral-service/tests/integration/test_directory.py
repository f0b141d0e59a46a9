import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.db import utc_now
from casebridge_common.events.contracts.referral import ServiceCategory
from casebridge_common.outbox import OutboxMessage
from referral_service.domain.models import Organisation
from referral_service.repositories import ServiceSearch
from referral_service.schemas import DirectoryImport
from referral_service.service_layer.directory import load_directory
from referral_service.unit_of_work import ReferralUnitOfWork

DEMO = Path(__file__).resolve().parents[4] / "deploy" / "demo" / "directory.json"
LATITUDE, LONGITUDE = 14.7167, -17.4677


async def _load_demo(sessions: async_sessionmaker[AsyncSession]) -> DirectoryImport:
    document = DirectoryImport.model_validate_json(DEMO.read_text())
    async with ReferralUnitOfWork(sessions) as uow:
        await load_directory(uow, document, now=utc_now())
        await uow.commit()
    return document


async def test_loading_the_demo_directory_twice_changes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    document = await _load_demo(sessions)
    async with ReferralUnitOfWork(sessions) as uow:
        events_after_first = await uow.session.scalar(select(func.count()).select_from(OutboxMessage))
    await _load_demo(sessions)
    async with ReferralUnitOfWork(sessions) as uow:
        organisations = await uow.session.scalar(select(func.count()).select_from(Organisation))
        offices = await uow.directory.offices(organisation_id="iom-germany", country=None, after=None, limit=10)
        events_after_second = await uow.session.scalar(select(func.count()).select_from(OutboxMessage))
        assert organisations == len(document.organisations)
        assert [o.id for o in offices] == ["de-berlin"]
        assert events_after_first == events_after_second == len(document.services)


def test_every_office_and_organisation_claim_of_the_identity_provider_is_in_the_directory() -> None:
    identities = json.loads((DEMO.parents[1] / "local" / "oidc" / "identities.json").read_text())
    document = DirectoryImport.model_validate_json(DEMO.read_text())
    offices = {o.id: o.organisation_id for o in document.offices}
    organisations = {o.id for o in document.organisations}
    claimed_offices = {v["office_id"]: v["org_id"] for v in identities["offices"].values()}
    claimed_organisations = set(claimed_offices.values()) | {v["org_id"] for v in identities["organisations"].values()}
    assert claimed_offices == {k: v for k, v in offices.items() if k in claimed_offices}
    assert claimed_organisations <= organisations


async def _ids(sessions: async_sessionmaker[AsyncSession], search: ServiceSearch) -> list[str]:
    async with ReferralUnitOfWork(sessions) as uow:
        return [s.id for s, _ in await uow.directory.search_services(search, after=None, limit=50)]


async def test_directory_search_filters_by_category_capacity_language_eligibility_and_distance(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _load_demo(sessions)
    tvet = ServiceCategory.TVET
    assert await _ids(sessions, ServiceSearch(category=tvet)) == [
        "cfp-dakar-apprenticeship-thies",
        "cfp-dakar-tvet-dakar",
    ]
    assert await _ids(sessions, ServiceSearch(category=tvet, accepting_referrals=True)) == ["cfp-dakar-tvet-dakar"]
    assert await _ids(sessions, ServiceSearch(category=tvet, age=50)) == []
    assert await _ids(sessions, ServiceSearch(country="SN", area="Thiès", category=tvet)) == [
        "cfp-dakar-apprenticeship-thies"
    ]
    assert await _ids(sessions, ServiceSearch(language="ar", vulnerability="victims_of_trafficking", age=30)) == [
        "de-berlin-documents-help",
        "de-berlin-legal-counselling",
        "de-berlin-psz-counselling",
        "de-berlin-psz-peer-groups",
    ]
    assert await _ids(sessions, ServiceSearch(min_available_places=10, max_waiting_days=20)) == ["cfp-dakar-tvet-dakar"]
    near = ServiceSearch(category=tvet, radius_km=20, latitude=LATITUDE, longitude=LONGITUDE)
    async with ReferralUnitOfWork(sessions) as uow:
        rows = await uow.directory.search_services(near, after=None, limit=50)
    assert [(s.id, round(d or 0)) for s, d in rows] == [("cfp-dakar-tvet-dakar", 4)]
    assert await _ids(
        sessions, ServiceSearch(category=tvet, radius_km=100, latitude=LATITUDE, longitude=LONGITUDE)
    ) == [
        "cfp-dakar-apprenticeship-thies",
        "cfp-dakar-tvet-dakar",
    ]
