import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from referral_service.domain.models import Organisation
from referral_service.schemas import DirectoryImport
from referral_service.service_layer.directory import load_directory
from referral_service.unit_of_work import ReferralUnitOfWork

DEMO = Path(__file__).resolve().parents[4] / "deploy" / "demo" / "directory.json"


async def test_loading_the_demo_directory_twice_changes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    document = DirectoryImport.model_validate_json(DEMO.read_text())
    for _ in range(2):
        async with ReferralUnitOfWork(sessions) as uow:
            await load_directory(uow, document)
            await uow.commit()
    async with ReferralUnitOfWork(sessions) as uow:
        organisations = await uow.session.scalar(select(func.count()).select_from(Organisation))
        offices = await uow.directory.offices(organisation_id="iom-germany", country=None, after=None, limit=10)
        assert organisations == len(document.organisations)
        assert [o.id for o in offices] == ["de-berlin"]


def test_every_office_and_organisation_claim_of_the_identity_provider_is_in_the_directory() -> None:
    identities = json.loads((DEMO.parents[1] / "local" / "oidc" / "identities.json").read_text())
    document = DirectoryImport.model_validate_json(DEMO.read_text())
    offices = {o.id: o.organisation_id for o in document.offices}
    organisations = {o.id for o in document.organisations}
    claimed_offices = {v["office_id"]: v["org_id"] for v in identities["offices"].values()}
    claimed_organisations = set(claimed_offices.values()) | {v["org_id"] for v in identities["organisations"].values()}
    assert claimed_offices == {k: v for k, v in offices.items() if k in claimed_offices}
    assert claimed_organisations <= organisations
