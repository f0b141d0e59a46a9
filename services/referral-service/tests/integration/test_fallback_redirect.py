"""Redirect to a fallback after a missed acknowledgement, on real PostgreSQL, the time driven through `now`."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casebridge_common.access import ConsentStatus, DataCategory, Purpose
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.contracts.consent import ConsentGiven, ConsentWithdrawn, ScopeTerms, WithdrawalKind
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.outbox import OutboxMessage
from referral_service.api.dependencies import deadline_policy
from referral_service.consumers import on_case_opened, on_consent_given
from referral_service.domain.errors import PathwayConsentRequired
from referral_service.domain.lifecycle import ReferralStatus
from referral_service.domain.models import Disclosure, RedirectOutcome, Referral
from referral_service.schemas import CreateReferral, DirectoryImport
from referral_service.service_layer import referrals
from referral_service.service_layer.consents import apply_withdrawal
from referral_service.service_layer.directory import load_directory
from referral_service.settings import Settings
from referral_service.unit_of_work import ReferralUnitOfWork

Sessions = async_sessionmaker[AsyncSession]
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
SENT_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday: the routine acknowledgement is due 8 Dec 09:00
AFTER_ACK = SENT_AT + timedelta(days=8)
POLICY = deadline_policy(Settings(database_url="postgresql+asyncpg://x/y", oidc_issuer="http://idp"))
FIRST, FALLBACK = "cfp-dakar-tvet-dakar", "cfp-dakar-apprenticeship-thies"
ACKNOWLEDGED_TYPES = [
    "casebridge.referral.deadline_missed.v1",
    "casebridge.referral.expired.v1",
    "casebridge.referral.redirected.v1",
    "casebridge.referral.sent.v1",
]


def _directory(*, thies_places: int = 5) -> DirectoryImport:
    """The demo directory; its Thiès apprenticeship (the sn-tvet pathway's fallback) has places."""
    document: dict[str, Any] = json.loads(DEMO.read_text())
    for service in document["services"]:
        if service["id"] == FALLBACK:
            service["capacity"]["available_places"] = thies_places
    return DirectoryImport.model_validate_json(json.dumps(document))


async def _case(sessions: Sessions, *categories: DataCategory, organisations: list[str], thies_places: int = 5) -> UUID:
    consent = await _consented(sessions, *categories, organisations=organisations, thies_places=thies_places)
    return consent.case_ids[0]


async def _consented(
    sessions: Sessions, *categories: DataCategory, organisations: list[str], thies_places: int = 5
) -> ConsentGiven:
    async with ReferralUnitOfWork(sessions) as uow:
        await load_directory(uow, _directory(thies_places=thies_places), now=SENT_AT)
        await uow.commit()
    case_id, beneficiary_id = uuid4(), uuid4()
    opened = CaseOpened(
        case_id=case_id,
        case_version=1,
        beneficiary_id=beneficiary_id,
        programme=Programme.RETURN_REINTEGRATION,
        owner_office_id="de-berlin",
        owner_organisation_id="iom-germany",
        opened_at=SENT_AT,
    )
    await on_case_opened(CloudEvent.wrap(opened, source="/casebridge/case-service"), ReferralUnitOfWork(sessions))
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
                data_categories=list(categories),
                purposes=[Purpose.REFERRAL_SERVICE_DELIVERY],
                organisations=organisations,
            )
        ],
        valid_from=SENT_AT - timedelta(days=1),
        valid_until=None,
    )
    await on_consent_given(CloudEvent.wrap(consent, source="/casebridge/case-service"), ReferralUnitOfWork(sessions))
    return consent


async def _sent(sessions: Sessions, case_id: UUID, service_id: str = FIRST, **extra: object) -> Referral:
    async with ReferralUnitOfWork(sessions) as uow:
        body = CreateReferral.model_validate(
            {"case_id": case_id, "destination": {"service_id": service_id}, "reason": "Training"} | extra
        )
        draft = await referrals.create_referral(uow, body, policy=POLICY, actor=BERLIN, now=SENT_AT)
        await uow.session.flush()
        sent = await referrals.send_referral(uow, draft.id, policy=POLICY, if_match='"1"', actor=BERLIN, now=SENT_AT)
        await uow.commit()
    return sent


async def _review(sessions: Sessions, now: datetime) -> int:
    async with ReferralUnitOfWork(sessions) as uow:
        emitted = await referrals.review_deadlines(uow, policy=POLICY, now=now)
        await uow.commit()
    return emitted


async def _get(sessions: Sessions, referral_id: UUID) -> Referral:
    async with ReferralUnitOfWork(sessions) as uow:
        referral = await uow.referrals.get(referral_id)
    assert referral is not None
    return referral


async def _event_types(sessions: Sessions, referral_id: UUID) -> list[str]:
    async with ReferralUnitOfWork(sessions) as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage.event["type"].astext).where(col(OutboxMessage.key) == str(referral_id))
        )
        return sorted(rows.all())


async def _redirected_event(sessions: Sessions) -> dict[str, object]:
    async with ReferralUnitOfWork(sessions) as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.event["type"].astext == "casebridge.referral.redirected.v1")
        )
        return dict(rows.one().event["data"])


async def _sent_to(sessions: Sessions, service_id: str) -> list[Referral]:
    async with ReferralUnitOfWork(sessions) as uow:
        rows = await uow.session.scalars(select(Referral).where(col(Referral.destination_service_id) == service_id))
        return list(rows.all())


async def test_a_missed_acknowledgement_redirects_to_the_pathways_fallback_with_a_fresh_snapshot(
    sessions: Sessions,
) -> None:
    case_id = await _case(sessions, DataCategory.CONTACT, organisations=["cfp-dakar"])
    original = await _sent(sessions, case_id)
    assert await _review(sessions, SENT_AT + timedelta(days=6)) == 0  # not due yet
    assert await _review(sessions, AFTER_ACK) == 4  # missed, redirected, expired, sent
    assert await _review(sessions, AFTER_ACK + timedelta(hours=1)) == 0  # decided once

    ended = await _get(sessions, original.id)
    assert ended.status == ReferralStatus.EXPIRED
    assert ended.expired_at == AFTER_ACK
    assert ended.redirected_to_referral_id is not None
    fallback = await _get(sessions, ended.redirected_to_referral_id)
    assert (fallback.status, fallback.destination_service_id) == (ReferralStatus.REQUESTED, FALLBACK)
    assert fallback.redirected_from_referral_id == original.id
    assert (fallback.case_id, fallback.referring_office_id, fallback.requested_by) == (
        case_id,
        "de-berlin",
        original.requested_by,
    )
    assert fallback.sent_at == AFTER_ACK
    assert fallback.acknowledge_due_at == datetime(2026, 12, 16, 9, 0, tzinfo=UTC)  # five business days on
    manifest: Any = fallback.snapshot["shared_data_manifest"]
    assert [e["category"] for e in manifest["allowed"]] == ["contact"]
    assert fallback.snapshot["recipient"] == {
        "office_id": None,
        "organisation_id": "cfp-dakar",
        "organisation_type": "tvet",
        "country": "SN",
    }
    assert await _event_types(sessions, original.id) == sorted(["casebridge.referral.sent.v1", *ACKNOWLEDGED_TYPES[:3]])
    assert await _event_types(sessions, fallback.id) == ["casebridge.referral.sent.v1"]
    event = await _redirected_event(sessions)
    assert (event["redirected_to_referral_id"], event["fallback_service_id"]) == (str(fallback.id), FALLBACK)
    async with ReferralUnitOfWork(sessions) as uow:
        decision = await uow.referrals.redirect_of(original.id)
        ledger = (await uow.session.scalars(select(Disclosure).where(col(Disclosure.referral_id) == fallback.id))).all()
    assert decision is not None
    assert (decision.outcome, decision.redirected_to_referral_id) == (RedirectOutcome.REDIRECTED, fallback.id)
    assert [d.categories for d in ledger] == [["contact"]]


async def test_a_fallback_the_consent_does_not_cover_is_not_sent_and_the_reason_is_recorded(
    sessions: Sessions,
) -> None:
    case_id = await _case(sessions, DataCategory.CONTACT, organisations=["cfp-dakar"])
    original = await _sent(
        sessions, case_id, "cfp-dakar-business-start", fallback_service_id="sn-thies-savings-microcredit"
    )
    assert await _review(sessions, AFTER_ACK) == 1  # the escalation event only

    kept = await _get(sessions, original.id)
    assert (kept.status, kept.redirected_to_referral_id) == (ReferralStatus.REQUESTED, None)
    assert await _sent_to(sessions, "sn-thies-savings-microcredit") == []
    assert await _event_types(sessions, original.id) == [
        "casebridge.referral.deadline_missed.v1",
        "casebridge.referral.sent.v1",
    ]
    async with ReferralUnitOfWork(sessions) as uow:
        decision = await uow.referrals.redirect_of(original.id)
    assert decision is not None
    assert decision.outcome == RedirectOutcome.CONSENT_NOT_COVERING
    assert (decision.fallback_service_id, decision.missing_categories) == ("sn-thies-savings-microcredit", ["contact"])


async def test_the_referrals_own_fallback_comes_before_the_pathways(
    sessions: Sessions,
) -> None:
    case_id = await _case(sessions, DataCategory.CONTACT, organisations=["cfp-dakar"])
    original = await _sent(sessions, case_id, fallback_service_id="cfp-dakar-business-start")
    assert await _review(sessions, AFTER_ACK) == 4
    ended = await _get(sessions, original.id)
    assert ended.redirected_to_referral_id is not None
    fallback = await _get(sessions, ended.redirected_to_referral_id)
    assert fallback.destination_service_id == "cfp-dakar-business-start"
    assert fallback.category == original.category  # the need stays what it was


async def test_a_fallback_without_places_is_not_sent_to_and_the_referral_stays_open(sessions: Sessions) -> None:
    case_id = await _case(sessions, DataCategory.CONTACT, organisations=["cfp-dakar"], thies_places=0)
    original = await _sent(sessions, case_id)
    assert await _review(sessions, AFTER_ACK) == 1
    assert (await _get(sessions, original.id)).status == ReferralStatus.REQUESTED
    assert await _sent_to(sessions, FALLBACK) == []
    async with ReferralUnitOfWork(sessions) as uow:
        decision = await uow.referrals.redirect_of(original.id)
    assert decision is not None
    assert (decision.outcome, decision.fallback_service_id) == (RedirectOutcome.NO_FALLBACK_ACCEPTING, None)


async def test_a_missed_acknowledgement_without_a_fallback_only_escalates(sessions: Sessions) -> None:
    case_id = await _case(sessions, DataCategory.CONTACT, organisations=["cfp-dakar"])
    original = await _sent(sessions, case_id, "cfp-dakar-business-start")  # its pathway-less category
    assert await _review(sessions, AFTER_ACK) == 1
    assert (await _get(sessions, original.id)).status == ReferralStatus.REQUESTED
    async with ReferralUnitOfWork(sessions) as uow:
        assert await uow.referrals.redirect_of(original.id) is None


async def test_a_redirected_referral_that_misses_again_does_not_go_back_to_a_service_already_tried(
    sessions: Sessions,
) -> None:
    case_id = await _case(sessions, DataCategory.CONTACT, organisations=["cfp-dakar"])
    original = await _sent(sessions, case_id)
    assert await _review(sessions, AFTER_ACK) == 4
    fallback_id = (await _get(sessions, original.id)).redirected_to_referral_id
    assert fallback_id is not None
    assert await _review(sessions, AFTER_ACK + timedelta(days=8)) == 1  # the fallback missed too: escalate only
    assert (await _get(sessions, fallback_id)).status == ReferralStatus.REQUESTED
    assert [r.id for r in await _sent_to(sessions, FIRST)] == [original.id]


async def test_a_withdrawal_after_the_redirect_reaches_the_fallbacks_copy(sessions: Sessions) -> None:
    consent = await _consented(sessions, DataCategory.CONTACT, organisations=["cfp-dakar"])
    original = await _sent(sessions, consent.case_ids[0])
    assert await _review(sessions, AFTER_ACK) == 4
    withdrawn = ConsentWithdrawn(
        consent_id=consent.consent_id,
        beneficiary_id=consent.beneficiary_id,
        case_ids=consent.case_ids,
        owner_office_id="de-berlin",
        withdrawal_id=uuid4(),
        kind=WithdrawalKind.WITHDRAWN,
        superseded_by=None,
        withdrawn_scopes=consent.scopes,
        withdrawn_at=AFTER_ACK + timedelta(days=1),
        acknowledge_by=AFTER_ACK + timedelta(days=2),
    )
    async with ReferralUnitOfWork(sessions) as uow:
        effect = await apply_withdrawal(uow, withdrawn, now=AFTER_ACK + timedelta(days=1))
        await uow.commit()
    fallback = (await _sent_to(sessions, FALLBACK))[0]
    assert fallback.redirected_from_referral_id == original.id
    assert fallback.status == ReferralStatus.CONSENT_WITHDRAWN
    assert effect.referrals_closed == 1  # the original had ended already; its copy is purged all the same
    assert effect.purged == 2


async def test_a_send_lacking_a_category_the_pathway_requires_is_refused(sessions: Sessions) -> None:
    case_id = await _case(sessions, DataCategory.IDENTITY_BIODATA, organisations=["cfp-dakar"])
    with pytest.raises(PathwayConsentRequired) as refused:
        await _sent(sessions, case_id)  # sn-tvet requires contact
    assert refused.value.status == 403
    assert refused.value.context["missing_categories"] == ["contact"]
    assert await _sent_to(sessions, FIRST) == []


async def test_two_workers_redirect_a_referral_once(committed_sessions: Sessions) -> None:
    case_id = await _case(committed_sessions, DataCategory.CONTACT, organisations=["cfp-dakar"])
    original = await _sent(committed_sessions, case_id)
    counts = await asyncio.gather(*(_review(committed_sessions, AFTER_ACK) for _ in range(2)))
    assert sorted(counts) == [0, 4]
    assert len(await _sent_to(committed_sessions, FALLBACK)) == 1
    assert (await _get(committed_sessions, original.id)).status == ReferralStatus.EXPIRED
