"""referral-service as a holder of consent-governed copies, on real PostgreSQL: the consent projection, the
consent-projected snapshot and the ledger, and its reactions to withdrawal, closure, transfer and erasure."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.access import ConsentStatus, DataCategory, GivenBy, Purpose
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import (
    BeneficiaryErased,
    CaseClosed,
    CaseOpened,
    CaseTransferred,
    Programme,
)
from casebridge_common.events.contracts.consent import ConsentGiven, ConsentWithdrawn, ScopeTerms, WithdrawalKind
from casebridge_common.events.contracts.referral import DeclineReason, ServiceDelivered
from casebridge_common.events.envelope import CloudEvent, Event
from casebridge_common.outbox import OutboxMessage
from referral_service.api.dependencies import deadline_policy
from referral_service.consumers import (
    on_beneficiary_erased,
    on_case_closed,
    on_case_opened,
    on_case_transferred,
    on_consent_given,
    on_consent_withdrawn,
)
from referral_service.domain.errors import (
    ConsentRequired,
    ProviderFeedbackConsentRequired,
    ReferralNotFound,
    ReferralPreviewOutdated,
)
from referral_service.domain.lifecycle import Action, ReferralStatus
from referral_service.domain.models import Referral
from referral_service.domain.snapshot import allowed_categories
from referral_service.repositories import ReferralFilter
from referral_service.schemas import CompleteReferral, CreateReferral, DeclineReferral, DirectoryImport
from referral_service.service_layer import referrals
from referral_service.service_layer.directory import load_directory
from referral_service.settings import Settings
from referral_service.unit_of_work import ReferralUnitOfWork

DEMO = Path(__file__).resolve().parents[4] / "deploy" / "demo" / "directory.json"
POLICY = deadline_policy(Settings(database_url="postgresql+asyncpg://x/y", oidc_issuer="http://idp"))
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GIVEN_AT = NOW - timedelta(days=30)
BERLIN = Principal(
    subject="de-berlin-system",
    client_id="de-berlin-system",
    organisation_id="iom-germany",
    office_id="de-berlin",
    country="DE",
    scopes=frozenset({"referrals:send", "referrals:read"}),
    roles=frozenset({"case_manager"}),
)
DAKAR = Principal(
    subject="sn-dakar-system",
    client_id="sn-dakar-system",
    organisation_id="iom-senegal",
    office_id="sn-dakar",
    country="SN",
    scopes=frozenset({"referrals:send", "referrals:read"}),
    roles=frozenset({"case_manager"}),
)
CFP_PARTNER = Principal(
    subject="cfp-dakar-partner",
    client_id="cfp-dakar-partner",
    organisation_id="cfp-dakar",
    office_id=None,
    country="SN",
    scopes=frozenset({"referrals:respond", "referrals:read"}),
    roles=frozenset({"partner_focal_point"}),
)
SERVICE = "cfp-dakar-tvet-dakar"
C = DataCategory
Sessions = async_sessionmaker[AsyncSession]


def wrap(event: Event) -> CloudEvent:
    return CloudEvent.wrap(event, source="/casebridge/case-service")


def terms(*categories: DataCategory, **recipients: list[str]) -> ScopeTerms:
    return ScopeTerms(data_categories=list(categories), purposes=[Purpose.REFERRAL_SERVICE_DELIVERY], **recipients)


class Beneficiary:
    """One beneficiary with one case owned by the Berlin office, as the case events describe them."""

    def __init__(self) -> None:
        self.id, self.case_id = uuid4(), uuid4()

    def opened(self, *, minor: bool = False) -> CloudEvent:
        return wrap(
            CaseOpened(
                case_id=self.case_id,
                case_version=1,
                beneficiary_id=self.id,
                programme=Programme.RETURN_REINTEGRATION,
                owner_office_id="de-berlin",
                owner_organisation_id="iom-germany",
                opened_at=GIVEN_AT,
                subject_is_minor=minor,
            )
        )

    def consent(self, *scopes: ScopeTerms) -> ConsentGiven:
        return ConsentGiven(
            consent_id=uuid4(),
            beneficiary_id=self.id,
            case_ids=[self.case_id],
            owner_office_id="de-berlin",
            status=ConsentStatus.GIVEN,
            renewed=False,
            supersedes=None,
            scopes=list(scopes),
            valid_from=GIVEN_AT,
            valid_until=None,
        )

    def withdrawal(
        self, given: ConsentGiven, *scopes: ScopeTerms, kind: WithdrawalKind = WithdrawalKind.WITHDRAWN
    ) -> ConsentWithdrawn:
        return ConsentWithdrawn(
            consent_id=given.consent_id,
            beneficiary_id=self.id,
            case_ids=[self.case_id],
            owner_office_id="de-berlin",
            withdrawal_id=uuid4(),
            kind=kind,
            superseded_by=None,
            withdrawn_scopes=list(scopes or given.scopes),
            withdrawn_at=NOW + timedelta(days=1),
            acknowledge_by=NOW + timedelta(days=2),
        )


@pytest.fixture
async def beneficiary(sessions: Sessions) -> Beneficiary:
    async with ReferralUnitOfWork(sessions) as uow:
        await load_directory(uow, DirectoryImport.model_validate_json(DEMO.read_text()), now=NOW)
        await uow.commit()
    person = Beneficiary()
    await on_case_opened(person.opened(), ReferralUnitOfWork(sessions))
    return person


async def give(sessions: Sessions, given: ConsentGiven) -> None:
    await on_consent_given(wrap(given), ReferralUnitOfWork(sessions))


async def draft(sessions: Sessions, person: Beneficiary, service_id: str = SERVICE) -> Referral:
    async with ReferralUnitOfWork(sessions) as uow:
        body = CreateReferral.model_validate(
            {"case_id": person.case_id, "destination": {"service_id": service_id}, "reason": "Tailoring course"}
        )
        referral = await referrals.create_referral(uow, body, policy=POLICY, actor=BERLIN, now=NOW)
        await uow.commit()
    return referral


async def send(sessions: Sessions, referral: Referral) -> Referral:
    async with ReferralUnitOfWork(sessions) as uow:
        sent = await referrals.send_referral(
            uow, referral.id, policy=POLICY, if_match=f'"{referral.version}"', actor=BERLIN, now=NOW
        )
        await uow.commit()
    return sent


async def reload(sessions: Sessions, referral_id: UUID) -> Referral:
    async with ReferralUnitOfWork(sessions) as uow:
        referral = await uow.referrals.get(referral_id)
    assert referral is not None
    return referral


async def events_of(sessions: Sessions, event_type: str) -> list[dict[str, object]]:
    async with ReferralUnitOfWork(sessions) as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.event["type"].astext == event_type).order_by(OutboxMessage.seq)
        )
        return [dict(r.event["data"]) for r in rows.all()]


async def test_the_owner_sends_exactly_the_consented_preview_and_the_ledger_records_it(
    sessions: Sessions, beneficiary: Beneficiary
) -> None:
    given = beneficiary.consent(terms(C.IDENTITY_BIODATA, C.CONTACT, organisations=["cfp-dakar"]))
    await give(sessions, given)
    preview = await draft(sessions, beneficiary)
    assert allowed_categories(preview.snapshot) == {
        C.CONTACT: str(given.consent_id),
        C.IDENTITY_BIODATA: str(given.consent_id),
    }
    sent = await send(sessions, preview)
    assert sent.status == ReferralStatus.REQUESTED
    assert sent.snapshot == preview.snapshot
    async with ReferralUnitOfWork(sessions) as uow:
        [entry] = await uow.disclosures.of_referral(sent.id)
    assert (entry.recipient_organisation_id, entry.recipient_organisation_type, entry.recipient_country) == (
        "cfp-dakar",
        "tvet",
        "SN",
    )
    assert (entry.purpose, entry.categories) == ("referral_service_delivery", ["contact", "identity_biodata"])
    assert entry.consents == {"contact": str(given.consent_id), "identity_biodata": str(given.consent_id)}
    assert entry.disclosed_at == NOW


async def test_a_consent_for_the_providers_type_covers_it_but_not_another_kind_of_provider(
    sessions: Sessions, beneficiary: Beneficiary
) -> None:
    await give(sessions, beneficiary.consent(terms(C.SKILLS_EMPLOYMENT, organisation_types=["tvet"])))
    assert set(allowed_categories((await draft(sessions, beneficiary)).snapshot)) == {C.SKILLS_EMPLOYMENT}
    other = await draft(sessions, beneficiary, "cfp-dakar-business-start")
    assert allowed_categories(other.snapshot) == {}


async def test_sending_without_consent_is_refused_and_changes_nothing(
    sessions: Sessions, beneficiary: Beneficiary
) -> None:
    preview = await draft(sessions, beneficiary)
    with pytest.raises(ConsentRequired) as refused:
        await send(sessions, preview)
    assert (refused.value.status, refused.value.code) == (403, "consent-required")
    manifest = refused.value.context["shared_data_manifest"]
    assert isinstance(manifest, dict)
    assert manifest["allowed"] == []
    assert (await reload(sessions, preview.id)).status == ReferralStatus.DRAFT
    assert await events_of(sessions, "casebridge.referral.sent.v1") == []
    async with ReferralUnitOfWork(sessions) as uow:
        assert await uow.disclosures.of_referral(preview.id) == []


async def test_a_consent_change_after_the_preview_needs_a_fresh_preview_before_sending(
    sessions: Sessions, beneficiary: Beneficiary
) -> None:
    await give(sessions, beneficiary.consent(terms(C.CONTACT, organisations=["cfp-dakar"])))
    preview = await draft(sessions, beneficiary)
    await give(sessions, beneficiary.consent(terms(C.SKILLS_EMPLOYMENT, organisations=["cfp-dakar"])))
    with pytest.raises(ReferralPreviewOutdated) as outdated:
        await send(sessions, preview)
    assert outdated.value.code == "referral-preview-outdated"
    async with ReferralUnitOfWork(sessions) as uow:
        refreshed = await referrals.refresh_preview(uow, preview.id, if_match='"1"', actor=BERLIN, now=NOW)
        await uow.commit()
    assert refreshed.version == 2
    assert set(allowed_categories(refreshed.snapshot)) == {C.CONTACT, C.SKILLS_EMPLOYMENT}
    sent = await send(sessions, refreshed)
    assert sent.snapshot == refreshed.snapshot


async def _walk_to_completion(sessions: Sessions, referral: Referral) -> None:
    version = referral.version
    for action in (Action.ACKNOWLEDGE, Action.ACCEPT, Action.START, Action.COMPLETE):
        async with ReferralUnitOfWork(sessions) as uow:
            complete = CompleteReferral(service_delivered=ServiceDelivered.YES) if action == Action.COMPLETE else None
            await referrals.respond(
                uow, referral.id, action, if_match=f'"{version}"', actor=CFP_PARTNER, now=NOW, complete=complete
            )
            await uow.commit()
        version += 1


async def test_a_withdrawal_redacts_the_copies_ends_open_referrals_and_is_acknowledged_once(
    sessions: Sessions, beneficiary: Beneficiary
) -> None:
    given = beneficiary.consent(terms(C.IDENTITY_BIODATA, C.CONTACT, organisations=["cfp-dakar"]))
    await give(sessions, given)
    open_one = await send(sessions, await draft(sessions, beneficiary))
    finished = await send(sessions, await draft(sessions, beneficiary))
    await _walk_to_completion(sessions, finished)
    never_sent = await draft(sessions, beneficiary)

    event = wrap(beneficiary.withdrawal(given))
    for _ in range(2):  # Kafka redelivers: at-least-once
        await on_consent_withdrawn(event, ReferralUnitOfWork(sessions))

    closed = await reload(sessions, open_one.id)
    assert closed.status == ReferralStatus.CONSENT_WITHDRAWN
    assert closed.consent_withdrawn_at is not None
    assert allowed_categories(closed.snapshot) == {}
    manifest = closed.snapshot["shared_data_manifest"]
    assert isinstance(manifest, dict)
    assert sorted(e["category"] for e in manifest["redacted"]) == ["contact", "identity_biodata"]
    kept = await reload(sessions, finished.id)
    assert kept.status == ReferralStatus.COMPLETED  # finished: redacted, not re-opened or ended again
    assert allowed_categories(kept.snapshot) == {}
    assert (await reload(sessions, never_sent.id)).snapshot == never_sent.snapshot  # nothing left with anyone

    [acknowledgement] = await events_of(sessions, "casebridge.consent.withdrawal_acknowledged.v1")
    assert acknowledgement["holder"] == "referral-service"
    assert (acknowledgement["purged"], acknowledgement["redacted"]) == (2, 0)
    assert acknowledgement["withdrawal_id"] == event.data["withdrawal_id"]
    [ended] = await events_of(sessions, "casebridge.referral.consent_withdrawn.v1")
    assert (ended["referral_id"], ended["withdrawn_categories"]) == (str(open_one.id), ["contact", "identity_biodata"])
    async with ReferralUnitOfWork(sessions) as uow:
        [redaction] = await uow.disclosures.redactions(open_one.id)
        assert redaction.referral_closed is True
        assert len(await uow.disclosures.of_referral(open_one.id)) == 1  # the ledger keeps what happened
    await give(sessions, given)  # a late copy of the consent never brings it back
    async with ReferralUnitOfWork(sessions) as uow:
        consent = await uow.consents.get(given.consent_id)
        assert consent is not None
        assert consent.status == ConsentStatus.WITHDRAWN


async def test_a_narrowing_takes_back_only_what_it_names_and_leaves_other_holders_alone(
    sessions: Sessions, beneficiary: Beneficiary
) -> None:
    given = beneficiary.consent(
        terms(C.IDENTITY_BIODATA, C.CONTACT, organisations=["cfp-dakar"]),
        terms(C.CONTACT, organisations=["de-berlin-psz"]),
    )
    await give(sessions, given)
    cfp = await send(sessions, await draft(sessions, beneficiary))
    narrowed = beneficiary.withdrawal(
        given, terms(C.CONTACT, organisations=["cfp-dakar"]), kind=WithdrawalKind.NARROWED
    )
    await on_consent_withdrawn(wrap(narrowed), ReferralUnitOfWork(sessions))
    after = await reload(sessions, cfp.id)
    assert after.status == ReferralStatus.CONSENT_WITHDRAWN
    assert set(allowed_categories(after.snapshot)) == {C.IDENTITY_BIODATA}
    [acknowledgement] = await events_of(sessions, "casebridge.consent.withdrawal_acknowledged.v1")
    assert (acknowledgement["purged"], acknowledgement["redacted"]) == (0, 1)


async def test_a_withdrawal_that_covers_nothing_held_is_still_acknowledged(
    sessions: Sessions, beneficiary: Beneficiary
) -> None:
    given = beneficiary.consent(terms(C.CONTACT, organisations=["cfp-dakar"]))
    await give(sessions, given)
    sent = await send(sessions, await draft(sessions, beneficiary))
    elsewhere = beneficiary.withdrawal(given, terms(C.CONTACT, organisations=["de-berlin-psz"]))
    await on_consent_withdrawn(wrap(elsewhere), ReferralUnitOfWork(sessions))
    assert (await reload(sessions, sent.id)).status == ReferralStatus.REQUESTED
    [acknowledgement] = await events_of(sessions, "casebridge.consent.withdrawal_acknowledged.v1")
    assert (acknowledgement["purged"], acknowledgement["redacted"]) == (0, 0)


async def test_a_closed_case_flags_its_open_referrals_without_cancelling_them(
    sessions: Sessions, beneficiary: Beneficiary
) -> None:
    await give(sessions, beneficiary.consent(terms(C.CONTACT, organisations=["cfp-dakar"])))
    sent = await send(sessions, await draft(sessions, beneficiary))
    closed_at = NOW + timedelta(days=3)
    event = wrap(
        CaseClosed(
            case_id=beneficiary.case_id,
            case_version=9,
            programme=Programme.RETURN_REINTEGRATION,
            owner_office_id="de-berlin",
            closure_reason="support_duration_ended",
            closure_type="planned",
            closed_at=closed_at,
        )
    )
    for _ in range(2):
        await on_case_closed(event, ReferralUnitOfWork(sessions))
    flagged = await reload(sessions, sent.id)
    assert (flagged.status, flagged.case_closed_at, flagged.version) == (ReferralStatus.REQUESTED, closed_at, 3)
    later = await draft(sessions, beneficiary)
    assert later.case_closed_at == closed_at
    async with ReferralUnitOfWork(sessions) as uow:
        outbox = await referrals.outbox(
            uow, ReferralFilter(case_id=beneficiary.case_id, case_closed=True), after=None, limit=10, actor=BERLIN
        )
        still = await referrals.outbox(
            uow, ReferralFilter(case_id=beneficiary.case_id, case_closed=False), after=None, limit=10, actor=BERLIN
        )
    assert {r.id for r in outbox} == {sent.id, later.id}
    assert still == []


async def test_a_transferred_case_takes_its_referrals_to_the_new_owner(
    sessions: Sessions, beneficiary: Beneficiary
) -> None:
    await give(sessions, beneficiary.consent(terms(C.CONTACT, organisations=["cfp-dakar"])))
    sent = await send(sessions, await draft(sessions, beneficiary))
    event = wrap(
        CaseTransferred(
            case_id=beneficiary.case_id,
            transfer_id=uuid4(),
            from_office_id="de-berlin",
            to_office_id="sn-dakar",
            to_organisation_id="iom-senegal",
            case_version=7,
            transferred_at=NOW + timedelta(days=2),
        )
    )
    for _ in range(2):
        await on_case_transferred(event, ReferralUnitOfWork(sessions))
    async with ReferralUnitOfWork(sessions) as uow:
        moved = await referrals.read_referral(uow, sent.id, actor=DAKAR)
        assert (moved.referring_office_id, moved.referring_country, moved.version) == ("sn-dakar", "SN", 3)
        with pytest.raises(ReferralNotFound):
            await referrals.read_referral(uow, sent.id, actor=BERLIN)
        case = await uow.cases.get(beneficiary.case_id)
        assert case is not None
        assert (case.owner_office_id, case.case_version) == ("sn-dakar", 7)


async def test_an_erased_beneficiary_leaves_no_snapshot_ledger_detail_or_consent_behind(
    sessions: Sessions, beneficiary: Beneficiary
) -> None:
    await give(sessions, beneficiary.consent(terms(C.CONTACT, organisations=["cfp-dakar"])))
    sent = await send(sessions, await draft(sessions, beneficiary))
    event = wrap(BeneficiaryErased(beneficiary_id=beneficiary.id, case_ids=[beneficiary.case_id], erased_at=NOW))
    for _ in range(2):
        await on_beneficiary_erased(event, ReferralUnitOfWork(sessions))
    purged = await reload(sessions, sent.id)
    assert purged.erased_at is not None
    assert "shared_data_manifest" not in purged.snapshot
    assert purged.reason == ""
    assert purged.version == 3
    async with ReferralUnitOfWork(sessions) as uow:
        [entry] = await uow.disclosures.of_referral(sent.id)
        assert (entry.recipient_organisation_id, entry.categories, entry.consents) == ("cfp-dakar", [], {})
        assert entry.erased_at is not None
        assert await uow.consents.of_beneficiary(beneficiary.id) == []


async def test_a_provider_writes_back_more_than_the_status_only_under_a_provider_feedback_consent(
    sessions: Sessions, beneficiary: Beneficiary
) -> None:
    await give(sessions, beneficiary.consent(terms(C.CONTACT, organisations=["cfp-dakar"])))
    sent = await send(sessions, await draft(sessions, beneficiary))
    async with ReferralUnitOfWork(sessions) as uow:
        await referrals.respond(uow, sent.id, Action.ACKNOWLEDGE, if_match='"2"', actor=CFP_PARTNER, now=NOW)
        await uow.commit()
    note = DeclineReferral(reason=DeclineReason.NO_CAPACITY, note="Full until March; try the Thies centre")
    async with ReferralUnitOfWork(sessions) as uow:
        with pytest.raises(ProviderFeedbackConsentRequired) as refused:
            await referrals.respond(
                uow, sent.id, Action.DECLINE, if_match='"3"', actor=CFP_PARTNER, now=NOW, decline=note
            )
    assert (refused.value.status, refused.value.context["reason"]) == (403, "consent-does-not-cover")
    assert (await reload(sessions, sent.id)).status == ReferralStatus.RECEIVED
    feedback = ScopeTerms(data_categories=[C.ASSISTANCE], purposes=[Purpose.PROVIDER_FEEDBACK], countries=["DE"])
    await give(sessions, beneficiary.consent(feedback))
    async with ReferralUnitOfWork(sessions) as uow:
        declined = await referrals.respond(
            uow, sent.id, Action.DECLINE, if_match='"3"', actor=CFP_PARTNER, now=NOW, decline=note
        )
        await uow.commit()
    assert (declined.status, declined.decline_note) == (ReferralStatus.REJECTED, note.note)


async def test_a_minors_referral_shares_only_under_a_guardians_consent_with_the_childs_assent(
    sessions: Sessions, beneficiary: Beneficiary
) -> None:
    child = Beneficiary()
    await on_case_opened(child.opened(minor=True), ReferralUnitOfWork(sessions))
    await give(sessions, child.consent(terms(C.CONTACT, organisations=["cfp-dakar"])))
    own = await draft(sessions, child)
    manifest = own.snapshot["shared_data_manifest"]
    assert isinstance(manifest, dict)
    assert {e["category"]: e["reason"] for e in manifest["withheld"]}["contact"] == "guardian-consent-required"
    guardian = child.consent(terms(C.CONTACT, organisations=["cfp-dakar"])).model_copy(
        update={"given_by": GivenBy.PARENT, "child_assent": True}
    )
    await give(sessions, guardian)
    assert allowed_categories((await draft(sessions, child)).snapshot) == {C.CONTACT: str(guardian.consent_id)}
