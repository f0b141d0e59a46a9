"""Consumers and the deadline timer on real PostgreSQL."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casebridge_common.access import ConsentStatus, DataCategory, Purpose
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.contracts.consent import ConsentGiven, ScopeTerms
from casebridge_common.events.contracts.referral import Deadline
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.outbox import OutboxMessage
from referral_service.api.dependencies import deadline_policy
from referral_service.consumers import on_case_opened, on_consent_given
from referral_service.domain.lifecycle import ReferralStatus
from referral_service.schemas import CreateReferral, DirectoryImport
from referral_service.service_layer import referrals
from referral_service.service_layer.directory import load_directory
from referral_service.settings import Settings
from referral_service.unit_of_work import ReferralUnitOfWork

BERLIN = Principal(
    subject="de-berlin-system",
    client_id="de-berlin-system",
    organisation_id="iom-germany",
    office_id="de-berlin",
    country="DE",
    scopes=frozenset({"referrals:send"}),
    roles=frozenset(),
)
DEMO = Path(__file__).resolve().parents[4] / "deploy" / "demo" / "directory.json"
SENT_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POLICY = deadline_policy(Settings(database_url="postgresql+asyncpg://x/y", oidc_issuer="http://idp"))


def _opened(case_id: UUID, version: int, owner: str, beneficiary_id: UUID | None = None) -> CloudEvent:
    event = CaseOpened(
        case_id=case_id,
        case_version=version,
        beneficiary_id=beneficiary_id or uuid4(),
        programme=Programme.RETURN_REINTEGRATION,
        owner_office_id=owner,
        owner_organisation_id="iom-germany",
        opened_at=SENT_AT,
    )
    return CloudEvent.wrap(event, source="/casebridge/case-service")


async def test_the_same_case_opened_event_twice_projects_one_owner_and_stale_versions_are_ignored(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    case_id = uuid4()
    event = _opened(case_id, 2, "de-berlin")
    for _ in range(2):
        await on_case_opened(event, ReferralUnitOfWork(sessions))
    await on_case_opened(_opened(case_id, 1, "iq-erbil"), ReferralUnitOfWork(sessions))
    async with ReferralUnitOfWork(sessions) as uow:
        case = await uow.cases.get(case_id)
    assert case is not None
    assert (case.case_version, case.owner_office_id) == (2, "de-berlin")


async def test_a_missed_acknowledgement_is_reported_exactly_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with ReferralUnitOfWork(sessions) as uow:
        await load_directory(uow, DirectoryImport.model_validate_json(DEMO.read_text()), now=SENT_AT)
        await uow.commit()
    case_id, beneficiary_id = uuid4(), uuid4()
    await on_case_opened(_opened(case_id, 1, "de-berlin", beneficiary_id), ReferralUnitOfWork(sessions))
    consent = ConsentGiven(
        consent_id=uuid4(),
        beneficiary_id=beneficiary_id,
        case_ids=[case_id],
        owner_office_id="de-berlin",
        status=ConsentStatus.GIVEN,
        renewed=False,
        supersedes=None,
        scopes=[
            ScopeTerms(
                data_categories=[DataCategory.CONTACT],
                purposes=[Purpose.REFERRAL_SERVICE_DELIVERY],
                organisations=["cfp-dakar"],
            )
        ],
        valid_from=SENT_AT - timedelta(days=1),
        valid_until=None,
    )
    await on_consent_given(CloudEvent.wrap(consent, source="/casebridge/case-service"), ReferralUnitOfWork(sessions))
    async with ReferralUnitOfWork(sessions) as uow:
        body = CreateReferral.model_validate(
            {"case_id": case_id, "destination": {"service_id": "cfp-dakar-tvet-dakar"}, "reason": "Training"}
        )
        draft = await referrals.create_referral(uow, body, policy=POLICY, actor=BERLIN, now=SENT_AT)
        await uow.session.flush()
        sent = await referrals.send_referral(uow, draft.id, policy=POLICY, if_match='"1"', actor=BERLIN, now=SENT_AT)
        await uow.commit()
    assert sent.acknowledge_due_at == datetime(2026, 12, 8, 9, 0, tzinfo=UTC)  # five business days
    emitted = []
    for hours in (24 * 6, 24 * 8, 24 * 9):  # before, after, and again after the deadline
        async with ReferralUnitOfWork(sessions) as uow:
            emitted.append(await referrals.review_deadlines(uow, policy=POLICY, now=SENT_AT + timedelta(hours=hours)))
            await uow.commit()
    assert emitted == [0, 1, 0]
    async with ReferralUnitOfWork(sessions) as uow:
        types = (
            await uow.session.scalars(
                select(OutboxMessage.event["type"].astext).where(col(OutboxMessage.key) == str(sent.id))
            )
        ).all()
        assert sorted(types) == ["casebridge.referral.deadline_missed.v1", "casebridge.referral.sent.v1"]
    async with ReferralUnitOfWork(sessions) as uow:
        assert (
            await referrals.review_deadlines(uow, policy=POLICY, now=SENT_AT + timedelta(days=31)) == 2
        )  # first contact missed; expired
        await uow.commit()
        expired = await uow.referrals.get(sent.id)
        assert expired is not None
        assert expired.status == ReferralStatus.EXPIRED
        assert await uow.referrals.missed(sent.id) == {Deadline.ACKNOWLEDGE, Deadline.FIRST_CONTACT}
