"""The consent-projected snapshot (what leaves for a destination, what a withdrawal takes back) and the
provider-feedback consent. No I/O."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from casebridge_common.access import (
    CaseFacts,
    ConsentFacts,
    ConsentScope,
    ConsentStatus,
    DataCategory,
    GivenBy,
    Party,
    Purpose,
    Recipients,
    disclosure,
)
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import Programme
from casebridge_common.events.contracts.consent import WithdrawalKind
from casebridge_common.events.contracts.referral import ServiceCategory, Urgency
from referral_service.domain.feedback import feedback_consent
from referral_service.domain.lifecycle import ReferralStatus
from referral_service.domain.snapshot import (
    PURPOSE,
    allowed_categories,
    build_snapshot,
    discloser,
    erased,
    free_text_withheld,
    redact,
    withdrawn_categories,
    without_free_text,
)

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
C = DataCategory
BERLIN = Principal(
    subject="de-berlin-system",
    client_id="de-berlin-system",
    organisation_id="iom-germany",
    office_id="de-berlin",
    country="DE",
    scopes=frozenset({"referrals:read", "referrals:send"}),
    roles=frozenset({"case_manager"}),
)
CFP = Party(organisation_id="cfp-dakar", organisation_type="tvet", country="SN")


def scope(*categories: DataCategory, purpose: Purpose = PURPOSE, **recipients: frozenset[str]) -> ConsentScope:
    return ConsentScope(frozenset(categories), frozenset({purpose}), Recipients(**recipients))


def consent(
    *scopes: ConsentScope, status: ConsentStatus = ConsentStatus.GIVEN, consent_id: UUID | None = None
) -> ConsentFacts:
    return ConsentFacts(
        consent_id=consent_id or uuid4(),
        status=status,
        given_by=GivenBy.SELF,
        scopes=scopes,
        valid_from=NOW - timedelta(days=1),
        valid_until=None,
    )


def case(*consents: ConsentFacts, owner: str = "de-berlin", minor: bool = False) -> CaseFacts:
    return CaseFacts(case_id=uuid4(), owner_office_id=owner, subject_is_minor=minor, consents=consents)


def snapshot_for(facts: CaseFacts, principal: Principal = BERLIN, recipient: Party = CFP) -> dict[str, object]:
    return build_snapshot(
        case_id=facts.case_id,
        programme=Programme.RETURN_REINTEGRATION,
        category=ServiceCategory.TVET,
        urgency=Urgency.ROUTINE,
        mhpss_level=None,
        reason="Tailoring apprenticeship",
        consent_reference=None,
        recipient=recipient,
        projection=disclosure(discloser(principal), facts, recipient, PURPOSE, now=NOW),
    )


def manifest(snapshot: dict[str, object]) -> dict[str, list[dict[str, str]]]:
    value = snapshot["shared_data_manifest"]
    assert isinstance(value, dict)
    return value


def test_a_referral_token_discloses_as_the_owner_office_with_its_case_roles() -> None:
    policy_view = discloser(BERLIN)
    assert {"cases:write", "cases.sensitive:read"} <= policy_view.scopes
    reader = discloser(
        Principal("r", "r", "iom-germany", "de-berlin", "DE", frozenset({"referrals:send"}), frozenset())
    )
    assert "cases:write" in reader.scopes
    assert "cases.sensitive:read" not in reader.scopes
    assert discloser(
        Principal("p", "p", "cfp-dakar", None, "SN", frozenset({"referrals:read"}), frozenset())
    ).scopes == {"referrals:read"}


def test_only_the_consented_categories_leave_with_their_consent_and_the_rest_is_withheld_with_a_reason() -> None:
    given = consent(scope(C.IDENTITY_BIODATA, C.CONTACT, organisations=frozenset({"cfp-dakar"})))
    snapshot = snapshot_for(case(given))
    assert manifest(snapshot)["allowed"] == [
        {"category": "contact", "class": "C2", "consent_id": str(given.consent_id)},
        {"category": "identity_biodata", "class": "C2", "consent_id": str(given.consent_id)},
    ]
    withheld = {e["category"]: e["reason"] for e in manifest(snapshot)["withheld"]}
    assert len(withheld) == len(DataCategory) - 2
    assert withheld["health_clinical"] == "consent-does-not-cover"
    assert allowed_categories(snapshot) == {C.CONTACT: str(given.consent_id), C.IDENTITY_BIODATA: str(given.consent_id)}


def test_a_consent_naming_the_providers_type_or_country_covers_it_and_another_purpose_does_not() -> None:
    by_type = consent(scope(C.CONTACT, organisation_types=frozenset({"tvet"})))
    by_country = consent(scope(C.SKILLS_EMPLOYMENT, countries=frozenset({"SN"})))
    research = consent(scope(C.HOUSEHOLD, purpose=Purpose.RESEARCH, organisations=frozenset({"cfp-dakar"})))
    assert set(allowed_categories(snapshot_for(case(by_type, by_country, research)))) == {
        C.CONTACT,
        C.SKILLS_EMPLOYMENT,
    }


def test_nothing_leaves_without_consent_or_from_an_office_that_does_not_own_the_case() -> None:
    assert allowed_categories(snapshot_for(case())) == {}
    given = consent(scope(C.CONTACT, organisations=frozenset({"cfp-dakar"})))
    not_owner = snapshot_for(case(given, owner="sn-dakar"))
    assert allowed_categories(not_owner) == {}
    reasons = {e["category"]: e["reason"] for e in manifest(not_owner)["withheld"]}
    assert (reasons["contact"], reasons["biometrics"]) == ("not-owner", "role-required")
    withdrawn = snapshot_for(case(consent(*given.scopes, status=ConsentStatus.WITHDRAWN)))
    assert {e["category"]: e["reason"] for e in manifest(withdrawn)["withheld"]}["contact"] == "consent-withdrawn"


def test_a_minors_data_needs_a_guardians_consent_and_child_protection_data_stays_behind_the_firewall() -> None:
    own = consent(scope(C.CONTACT, C.CHILD_PROTECTION, organisations=frozenset({"cfp-dakar"})))
    refused = {e["category"]: e["reason"] for e in manifest(snapshot_for(case(own, minor=True)))["withheld"]}
    assert refused["contact"] == "guardian-consent-required"
    guardian = ConsentFacts(
        consent_id=uuid4(),
        status=ConsentStatus.GIVEN,
        given_by=GivenBy.PARENT,
        scopes=own.scopes,
        valid_from=NOW - timedelta(days=1),
        valid_until=None,
        child_assent=True,
    )
    snapshot = snapshot_for(case(guardian, minor=True))
    assert set(allowed_categories(snapshot)) == {C.CONTACT}
    assert {e["category"]: e["reason"] for e in manifest(snapshot)["withheld"]}["child_protection"] == (
        "child-protection-firewall"
    )


def test_the_same_consents_build_the_same_snapshot_so_a_preview_can_be_compared_with_the_send() -> None:
    facts = case(consent(scope(C.CONTACT, organisations=frozenset({"cfp-dakar"}))))
    assert snapshot_for(facts) == snapshot_for(facts)


def test_a_withdrawal_takes_back_what_its_scopes_name_unless_another_consent_still_covers_it() -> None:
    first = consent(scope(C.CONTACT, C.IDENTITY_BIODATA, organisations=frozenset({"cfp-dakar"})))
    other = consent(scope(C.IDENTITY_BIODATA, countries=frozenset({"SN"})))
    after = case(consent(*first.scopes, status=ConsentStatus.WITHDRAWN, consent_id=first.consent_id), other)
    taken = withdrawn_categories(
        [C.CONTACT, C.IDENTITY_BIODATA], recipient=CFP, purpose=PURPOSE, withdrawn=first.scopes, case=after, now=NOW
    )
    assert taken == {C.CONTACT}
    elsewhere = scope(C.CONTACT, organisations=frozenset({"another-provider"}))
    assert (
        withdrawn_categories([C.CONTACT], recipient=CFP, purpose=PURPOSE, withdrawn=[elsewhere], case=after, now=NOW)
        == frozenset()
    )


def test_redaction_moves_the_withdrawn_categories_out_of_the_manifest_and_keeps_the_trace() -> None:
    given = consent(scope(C.CONTACT, C.IDENTITY_BIODATA, organisations=frozenset({"cfp-dakar"})))
    snapshot = snapshot_for(case(given))
    withdrawal = uuid4()
    redacted = redact(snapshot, [C.CONTACT], withdrawal_id=withdrawal, kind=WithdrawalKind.NARROWED, now=NOW)
    assert set(allowed_categories(redacted)) == {C.IDENTITY_BIODATA}
    assert manifest(redacted)["redacted"] == [
        {
            "category": "contact",
            "consent_id": str(given.consent_id),
            "withdrawal_id": str(withdrawal),
            "kind": "narrowed",
            "redacted_at": NOW.isoformat(),
        }
    ]
    assert manifest(redacted)["withheld"] == manifest(snapshot)["withheld"]
    assert allowed_categories(snapshot) != allowed_categories(redacted)  # the original is left as it was


def test_the_free_text_is_withheld_once_a_withdrawal_took_back_anything_or_closed_the_referral() -> None:
    snapshot = snapshot_for(case(consent(scope(C.CONTACT, C.IDENTITY_BIODATA, organisations=frozenset({"cfp-dakar"})))))
    assert free_text_withheld(ReferralStatus.ACCEPTED, snapshot) is None
    assert free_text_withheld(ReferralStatus.CONSENT_WITHDRAWN, snapshot) == "consent-withdrawn"
    narrowed = redact(snapshot, [C.CONTACT], withdrawal_id=uuid4(), kind=WithdrawalKind.NARROWED, now=NOW)
    assert free_text_withheld(ReferralStatus.COMPLETED, narrowed) == "consent-narrowed"


def test_removing_the_free_text_keeps_the_rest_of_what_was_shared() -> None:
    snapshot = snapshot_for(case(consent(scope(C.CONTACT, organisations=frozenset({"cfp-dakar"})))))
    scrubbed = without_free_text(snapshot)
    assert "Tailoring" not in str(scrubbed)
    assert scrubbed["shared"] == dict(snapshot["shared"]) | {"reason": None}  # type: ignore[call-overload]
    assert manifest(scrubbed) == manifest(snapshot)
    assert "Tailoring" in str(snapshot)  # the original is left as it was


def test_an_erased_snapshot_keeps_only_its_recipient_and_purpose() -> None:
    snapshot = snapshot_for(case(consent(scope(C.CONTACT, organisations=frozenset({"cfp-dakar"})))))
    gone = erased(snapshot, now=NOW)
    assert set(gone) == {"schema", "purpose", "recipient", "erased_at"}
    assert "Tailoring" not in str(gone)
    assert allowed_categories(gone) == {}


def test_provider_feedback_needs_its_own_consent_naming_the_referring_office() -> None:
    berlin = Party(office_id="de-berlin", organisation_id="iom-germany", country="DE")
    referral_only = consent(scope(C.CONTACT, organisations=frozenset({"cfp-dakar"})))
    assert feedback_consent(case(referral_only), berlin, now=NOW).reason == "consent-does-not-cover"
    feedback = consent(scope(C.ASSISTANCE, purpose=Purpose.PROVIDER_FEEDBACK, offices=frozenset({"de-berlin"})))
    allowed = feedback_consent(case(referral_only, feedback), berlin, now=NOW)
    assert (allowed.allowed, allowed.basis) == (True, feedback.consent_id)
    assert feedback_consent(case(feedback, minor=True), berlin, now=NOW).reason == "guardian-consent-required"
    assert feedback_consent(case(), berlin, now=NOW).reason == "no-consent"
