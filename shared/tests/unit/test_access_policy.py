"""The access policy, one table row per branch of `decide`, `consent_for`, `project` and `disclosure`
(data-protection.md §1 to §6), plus properties that must hold for any principal and any case."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casebridge_common.access import (
    BREAK_GLASS_ROLES,
    ENCRYPTED_AT_REST,
    MINIMUM_EMERGENCY_DATASET,
    SENSITIVITY,
    Action,
    BreakGlassFacts,
    CaseFacts,
    ConsentFacts,
    ConsentScope,
    ConsentStatus,
    DataCategory,
    Decision,
    GivenBy,
    Party,
    Purpose,
    Reason,
    Recipients,
    ReferralFacts,
    Role,
    SensitivityClass,
    ShareFacts,
    ShareMode,
    consent_for,
    decide,
    disclosure,
    project,
)
from casebridge_common.auth import Principal

C, P = DataCategory, Purpose
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
CASE_ID = UUID("00000000-0000-4000-8000-00000000ca5e")
CONSENT = UUID("00000000-0000-4000-8000-00000000c001")
NEWER = UUID("00000000-0000-4000-8000-00000000c002")
SHARE = UUID("00000000-0000-4000-8000-0000000005a1")
OTHER_SHARE = UUID("00000000-0000-4000-8000-0000000005a2")
REFERRAL = UUID("00000000-0000-4000-8000-00000000e4e1")
GRANT = UUID("00000000-0000-4000-8000-00000000b9a5")
EVERY_SCOPE = frozenset({"cases:read", "cases:write", "cases.sensitive:read"})
CLINICAL = ",".join(sorted({Role.CLINICAL, Role.MEDICAL_FOCAL_POINT}))

BERLIN = {"office": "de-berlin", "org": "iom-germany", "country": "DE"}  # the owner office
DAKAR = {"office": "sn-dakar", "org": "iom-senegal", "country": "SN"}
ZIGUINCHOR = {"office": "sn-ziguinchor", "org": "iom-senegal", "country": "SN"}
ERBIL = {"office": "iq-erbil", "org": "iom-iraq", "country": "IQ"}
CFP = {"office": None, "org": "cfp-dakar", "country": "SN"}  # an organisation-bound partner client


def who(
    at: dict[str, str | None] = BERLIN,
    *,
    scopes: frozenset[str] = EVERY_SCOPE,
    roles: frozenset[str] = frozenset({Role.CASE_MANAGER}),
    subject: str = "anna",
) -> Principal:
    return Principal(
        subject=subject,
        client_id=f"{subject}-client",
        organisation_id=at["org"],
        office_id=at["office"],
        country=at["country"],
        scopes=scopes,
        roles=roles,
    )


def scope(
    *categories: DataCategory,
    purposes: tuple[Purpose, ...] = (P.CASE_MANAGEMENT, P.REFERRAL_SERVICE_DELIVERY, P.M_AND_E),
    offices: tuple[str, ...] = ("sn-dakar",),
    organisations: tuple[str, ...] = ("cfp-dakar",),
    organisation_types: tuple[str, ...] = (),
    countries: tuple[str, ...] = (),
) -> ConsentScope:
    return ConsentScope(
        categories=frozenset(categories),
        purposes=frozenset(purposes),
        recipients=Recipients(
            offices=frozenset(offices),
            organisations=frozenset(organisations),
            organisation_types=frozenset(organisation_types),
            countries=frozenset(countries),
        ),
    )


CONTACT_SCOPE = scope(C.CONTACT, C.IDENTITY_BIODATA, C.MIGRATION_HISTORY, C.HEALTH_CLINICAL, C.CHILD_PROTECTION)


def consent(
    *scopes: ConsentScope,
    consent_id: UUID = CONSENT,
    status: ConsentStatus = ConsentStatus.GIVEN,
    given_by: GivenBy = GivenBy.SELF,
    valid_from: datetime | None = NOW - 24 * HOUR,
    valid_until: datetime | None = None,
    child_assent: bool = False,
) -> ConsentFacts:
    return ConsentFacts(
        consent_id=consent_id,
        status=status,
        given_by=given_by,
        scopes=scopes or (CONTACT_SCOPE,),
        valid_from=valid_from,
        valid_until=valid_until,
        child_assent=child_assent,
    )


GUARDIAN_CONSENT = consent(given_by=GivenBy.PARENT, child_assent=True)


def case(
    *consents: ConsentFacts,
    minor: bool = False,
    shares: tuple[ShareFacts, ...] = (),
    referrals: tuple[ReferralFacts, ...] = (),
    break_glass: tuple[BreakGlassFacts, ...] = (),
) -> CaseFacts:
    return CaseFacts(
        case_id=CASE_ID,
        owner_office_id="de-berlin",
        subject_is_minor=minor,
        consents=consents,
        shares=shares,
        referrals=referrals,
        break_glass=break_glass,
    )


def share(
    mode: ShareMode = ShareMode.VIEW, *, office: str = "sn-dakar", expires_at: datetime | None = None, id_: UUID = SHARE
) -> ShareFacts:
    return ShareFacts(share_id=id_, office_id=office, mode=mode, expires_at=expires_at)


def referral(organisation: str = "cfp-dakar", office: str | None = None) -> ReferralFacts:
    return ReferralFacts(referral_id=REFERRAL, destination_organisation_id=organisation, destination_office_id=office)


def grant(
    subject: str = "fatou", office: str | None = "sn-dakar", expires_at: datetime = NOW + 4 * HOUR
) -> BreakGlassFacts:
    return BreakGlassFacts(grant_id=GRANT, subject=subject, office_id=office, expires_at=expires_at)


FATOU = who(DAKAR, subject="fatou")
PARTNER = who(CFP, subject="moussa", roles=frozenset({Role.PARTNER_FOCAL_POINT}))
OWNER = who()


def row(
    id_: str,
    principal: Principal,
    facts: CaseFacts,
    expected: Decision,
    *,
    action: Action = Action.VIEW,
    category: DataCategory = C.CONTACT,
    purpose: Purpose = P.CASE_MANAGEMENT,
    recipient: Party | None = None,
) -> object:
    return pytest.param(principal, facts, action, category, purpose, recipient, expected, id=id_)


def allow(reason: Reason, basis: UUID | str | None) -> Decision:
    return Decision(True, reason, basis)


def deny(reason: Reason, basis: UUID | str | None = None) -> Decision:
    return Decision(False, reason, basis)


DAKAR_PARTY = Party(office_id="sn-dakar", organisation_id="iom-senegal", country="SN")
CFP_PARTY = Party(organisation_id="cfp-dakar", organisation_type="tvet", country="SN")

DECIDE_ROWS = [
    # 1. forbidden purposes, for everyone, before anything else
    row("forbidden-purpose-adult", OWNER, case(), deny(Reason.FORBIDDEN_PURPOSE, P.IMMIGRATION_ENFORCEMENT),
        purpose=P.IMMIGRATION_ENFORCEMENT),
    row("forbidden-purpose-minor-is-the-child-firewall", OWNER, case(minor=True),
        deny(Reason.CHILD_FIREWALL, P.IMMIGRATION_ENFORCEMENT), purpose=P.IMMIGRATION_ENFORCEMENT),
    row("forbidden-purpose-even-with-consent", FATOU, case(consent(scope(C.CONTACT, purposes=tuple(P))),
        shares=(share(),)), deny(Reason.FORBIDDEN_PURPOSE, P.IMMIGRATION_ENFORCEMENT),
        purpose=P.IMMIGRATION_ENFORCEMENT),
    # 2. scope for the action, then scope or role for the sensitivity class
    row("view-needs-cases-read", who(scopes=frozenset({"cases:write"})), case(),
        deny(Reason.MISSING_SCOPE, "cases:read")),
    row("edit-needs-cases-write", who(scopes=frozenset({"cases:read"})), case(),
        deny(Reason.MISSING_SCOPE, "cases:write"), action=Action.EDIT),
    row("disclose-needs-cases-write", who(scopes=frozenset({"cases:read"})), case(),
        deny(Reason.MISSING_SCOPE, "cases:write"), action=Action.DISCLOSE, recipient=DAKAR_PARTY),
    row("c3-needs-the-sensitive-scope", who(scopes=frozenset({"cases:read"})), case(),
        deny(Reason.MISSING_SCOPE, "cases.sensitive:read"), category=C.MIGRATION_HISTORY),
    row("c4-needs-the-sensitive-scope", who(scopes=frozenset({"cases:read"}), roles=frozenset({Role.CLINICAL})),
        case(), deny(Reason.MISSING_SCOPE, "cases.sensitive:read"), category=C.HEALTH_CLINICAL),
    row("c2-needs-no-sensitive-scope", who(scopes=frozenset({"cases:read"})), case(),
        allow(Reason.OWNER, "de-berlin")),
    row("c4-view-needs-a-clinical-role", OWNER, case(), deny(Reason.ROLE_REQUIRED, CLINICAL),
        category=C.HEALTH_CLINICAL),
    row("c4-view-by-a-clinician", who(roles=frozenset({Role.CLINICAL})), case(), allow(Reason.OWNER, "de-berlin"),
        category=C.MH_PRE_ARRIVAL_NOTICE),
    row("c4-view-by-the-medical-focal-point", who(roles=frozenset({Role.MEDICAL_FOCAL_POINT})), case(),
        allow(Reason.OWNER, "de-berlin"), category=C.HEALTH_CLINICAL),
    row("c4-edit-needs-no-clinical-role", OWNER, case(), allow(Reason.OWNER, "de-berlin"),
        action=Action.EDIT, category=C.HEALTH_CLINICAL),
    row("biometrics-need-an-identity-role", who(roles=frozenset({Role.SUPERVISOR, Role.CLINICAL})), case(),
        deny(Reason.ROLE_REQUIRED, Role.IDENTITY_OFFICER), category=C.BIOMETRICS),
    row("biometrics-by-an-identity-officer", who(roles=frozenset({Role.IDENTITY_OFFICER})), case(),
        allow(Reason.OWNER, "de-berlin"), category=C.BIOMETRICS),
    # disclose: the owner only, to a consented recipient; a minor's child-protection data stays behind K14
    row("disclose-by-a-sharee-is-refused", who(DAKAR), case(consent(), shares=(share(ShareMode.EDIT),)),
        deny(Reason.NOT_OWNER), action=Action.DISCLOSE, recipient=CFP_PARTY),
    row("disclose-by-an-office-less-client-is-refused", PARTNER, case(consent()), deny(Reason.NOT_OWNER),
        action=Action.DISCLOSE, recipient=CFP_PARTY),
    row("disclose-with-consent-naming-the-recipient", OWNER, case(consent()), allow(Reason.CONSENT, CONSENT),
        action=Action.DISCLOSE, recipient=CFP_PARTY, purpose=P.REFERRAL_SERVICE_DELIVERY),
    row("disclose-to-a-recipient-the-consent-does-not-name", OWNER, case(consent()),
        deny(Reason.CONSENT_NOT_COVERING, CONSENT), action=Action.DISCLOSE,
        recipient=Party(office_id="iq-erbil", organisation_id="iom-iraq", country="IQ")),
    row("disclose-without-any-consent", OWNER, case(), deny(Reason.NO_CONSENT), action=Action.DISCLOSE,
        recipient=CFP_PARTY),
    row("disclose-child-protection-of-a-minor-for-a-referral", OWNER, case(GUARDIAN_CONSENT, minor=True),
        deny(Reason.CHILD_FIREWALL, P.REFERRAL_SERVICE_DELIVERY), action=Action.DISCLOSE,
        category=C.CHILD_PROTECTION, recipient=CFP_PARTY, purpose=P.REFERRAL_SERVICE_DELIVERY),
    row("disclose-child-protection-of-a-minor-for-case-management", OWNER, case(GUARDIAN_CONSENT, minor=True),
        allow(Reason.CONSENT, CONSENT), action=Action.DISCLOSE, category=C.CHILD_PROTECTION,
        recipient=DAKAR_PARTY),
    row("disclose-child-protection-of-an-adult-for-a-referral", OWNER, case(consent()),
        allow(Reason.CONSENT, CONSENT), action=Action.DISCLOSE, category=C.CHILD_PROTECTION,
        recipient=CFP_PARTY, purpose=P.REFERRAL_SERVICE_DELIVERY),
    # the owner office: its own purposes without a further consent, any other purpose with one
    row("owner-for-case-management", OWNER, case(), allow(Reason.OWNER, "de-berlin")),
    row("owner-for-audit", OWNER, case(), allow(Reason.OWNER, "de-berlin"), purpose=P.AUDIT),
    row("owner-edits", OWNER, case(), allow(Reason.OWNER, "de-berlin"), action=Action.EDIT),
    row("owner-child-protection-of-a-minor", OWNER, case(minor=True), allow(Reason.OWNER, "de-berlin"),
        category=C.CHILD_PROTECTION),
    row("owner-for-m-and-e-without-consent", OWNER, case(), deny(Reason.NO_CONSENT), purpose=P.M_AND_E),
    row("owner-for-m-and-e-with-a-consent-naming-the-office",
        OWNER, case(consent(scope(C.CONTACT, purposes=(P.M_AND_E,), offices=("de-berlin",)))),
        allow(Reason.CONSENT, CONSENT), purpose=P.M_AND_E),
    row("owner-for-research-under-an-m-and-e-consent",
        OWNER, case(consent(scope(C.CONTACT, purposes=(P.M_AND_E,), offices=("de-berlin",)))),
        deny(Reason.CONSENT_NOT_COVERING, CONSENT), purpose=P.RESEARCH),
    # explicit shares, bounded by consent
    row("share-view-with-consent", FATOU, case(consent(), shares=(share(),)),
        allow(Reason.SHARE_AND_CONSENT, CONSENT)),
    row("share-view-of-a-category-not-consented", FATOU, case(consent(), shares=(share(),)),
        deny(Reason.CONSENT_NOT_COVERING, CONSENT), category=C.HOUSEHOLD),
    row("share-view-without-consent", FATOU, case(shares=(share(),)), deny(Reason.NO_CONSENT)),
    row("share-view-does-not-edit", FATOU, case(consent(), shares=(share(),)),
        deny(Reason.SHARE_READ_ONLY, SHARE), action=Action.EDIT),
    row("share-edit-edits-with-consent", FATOU, case(consent(), shares=(share(ShareMode.EDIT),)),
        allow(Reason.SHARE_AND_CONSENT, CONSENT), action=Action.EDIT),
    row("share-edit-reads-with-consent", FATOU, case(consent(), shares=(share(ShareMode.EDIT),)),
        allow(Reason.SHARE_AND_CONSENT, CONSENT)),
    row("share-edit-without-consent", FATOU, case(shares=(share(ShareMode.EDIT),)), deny(Reason.NO_CONSENT),
        action=Action.EDIT),
    row("share-edit-wins-over-a-view-share-of-the-same-office", FATOU,
        case(consent(), shares=(share(), share(ShareMode.EDIT, id_=OTHER_SHARE))),
        allow(Reason.SHARE_AND_CONSENT, CONSENT), action=Action.EDIT),
    row("share-expired", FATOU, case(consent(), shares=(share(expires_at=NOW),)), deny(Reason.NO_RELATION)),
    row("share-not-yet-expired", FATOU, case(consent(), shares=(share(expires_at=NOW + HOUR),)),
        allow(Reason.SHARE_AND_CONSENT, CONSENT)),
    row("share-with-another-office", who(ERBIL), case(consent(scope(C.CONTACT, countries=("IQ",))),
        shares=(share(),)), deny(Reason.NO_RELATION)),
    row("share-child-protection-of-a-minor-for-a-referral", FATOU,
        case(GUARDIAN_CONSENT, minor=True, shares=(share(),)),
        deny(Reason.CHILD_FIREWALL, P.REFERRAL_SERVICE_DELIVERY), category=C.CHILD_PROTECTION,
        purpose=P.REFERRAL_SERVICE_DELIVERY),
    row("share-child-protection-of-a-minor-for-case-management", FATOU,
        case(GUARDIAN_CONSENT, minor=True, shares=(share(),)), allow(Reason.SHARE_AND_CONSENT, CONSENT),
        category=C.CHILD_PROTECTION),
    row("share-minor-without-a-guardians-consent", FATOU, case(consent(), minor=True, shares=(share(),)),
        deny(Reason.GUARDIAN_CONSENT_REQUIRED, CONSENT)),
    # active referrals: their destination reads what the consent names, and never edits
    row("referral-to-the-organisation", PARTNER, case(consent(), referrals=(referral(),)),
        allow(Reason.REFERRAL_AND_CONSENT, CONSENT), purpose=P.REFERRAL_SERVICE_DELIVERY),
    row("referral-to-the-organisation-for-another-purpose", PARTNER, case(consent(), referrals=(referral(),)),
        deny(Reason.CONSENT_NOT_COVERING, CONSENT), purpose=P.RESEARCH),
    row("referral-to-an-office", FATOU, case(consent(), referrals=(referral("iom-senegal", "sn-dakar"),)),
        allow(Reason.REFERRAL_AND_CONSENT, CONSENT)),
    row("referral-to-an-office-not-another-office-of-its-organisation", who(ZIGUINCHOR),
        case(consent(scope(C.CONTACT, organisations=("iom-senegal",))),
             referrals=(referral("iom-senegal", "sn-dakar"),)), deny(Reason.NO_RELATION)),
    row("referral-to-an-office-seen-by-its-organisations-office-less-client",
        who({"office": None, "org": "iom-senegal", "country": "SN"}),
        case(consent(scope(C.CONTACT, organisations=("iom-senegal",))),
             referrals=(referral("iom-senegal", "sn-dakar"),)), allow(Reason.REFERRAL_AND_CONSENT, CONSENT)),
    row("referral-to-the-organisation-seen-by-each-of-its-offices", who(ZIGUINCHOR),
        case(consent(scope(C.CONTACT, organisations=("iom-senegal",))), referrals=(referral("iom-senegal"),)),
        allow(Reason.REFERRAL_AND_CONSENT, CONSENT)),
    row("referral-to-another-organisation", PARTNER, case(consent(), referrals=(referral("iom-senegal"),)),
        deny(Reason.NO_RELATION)),
    row("referral-does-not-edit", PARTNER, case(consent(), referrals=(referral(),)),
        deny(Reason.REFERRAL_READ_ONLY, REFERRAL), action=Action.EDIT),
    row("referral-without-consent", PARTNER, case(referrals=(referral(),)), deny(Reason.NO_CONSENT)),
    row("referral-child-protection-of-a-minor", PARTNER, case(GUARDIAN_CONSENT, minor=True,
        referrals=(referral(),)), deny(Reason.CHILD_FIREWALL, P.REFERRAL_SERVICE_DELIVERY),
        category=C.CHILD_PROTECTION, purpose=P.REFERRAL_SERVICE_DELIVERY),
    row("share-and-referral-the-share-decides", FATOU,
        case(consent(), shares=(share(),), referrals=(referral("iom-senegal"),)),
        deny(Reason.SHARE_READ_ONLY, SHARE), action=Action.EDIT),
    # break-glass: the holder reads, time-boxed, and only the one person of the one office
    row("break-glass-held", FATOU, case(break_glass=(grant(),)), allow(Reason.BREAK_GLASS, GRANT),
        purpose=P.EMERGENCY_LIFE_RISK),
    row("break-glass-expired", FATOU, case(break_glass=(grant(expires_at=NOW),)), deny(Reason.NO_RELATION),
        purpose=P.EMERGENCY_LIFE_RISK),
    row("break-glass-of-another-person", who(DAKAR, subject="aminata"), case(break_glass=(grant(),)),
        deny(Reason.NO_RELATION), purpose=P.EMERGENCY_LIFE_RISK),
    row("break-glass-from-another-office", who(ERBIL, subject="fatou"), case(break_glass=(grant(),)),
        deny(Reason.NO_RELATION), purpose=P.EMERGENCY_LIFE_RISK),
    row("break-glass-does-not-edit", FATOU, case(break_glass=(grant(),)), deny(Reason.BREAK_GLASS_READ_ONLY, GRANT),
        action=Action.EDIT),
    row("break-glass-reads-past-a-shares-consent", FATOU, case(consent(), shares=(share(),), break_glass=(grant(),)),
        allow(Reason.BREAK_GLASS, GRANT), category=C.HOUSEHOLD),
    row("break-glass-reads-past-a-referrals-consent", FATOU,
        case(referrals=(referral("iom-senegal"),), break_glass=(grant(),)), allow(Reason.BREAK_GLASS, GRANT)),
    row("break-glass-with-a-view-share-still-does-not-edit", FATOU,
        case(consent(), shares=(share(),), break_glass=(grant(),)), deny(Reason.SHARE_READ_ONLY, SHARE),
        action=Action.EDIT),
    row("break-glass-stays-behind-the-child-firewall", FATOU, case(minor=True, break_glass=(grant(),)),
        deny(Reason.CHILD_FIREWALL, P.RESEARCH), category=C.CHILD_PROTECTION, purpose=P.RESEARCH),
    row("break-glass-stays-behind-the-clinical-role", FATOU, case(break_glass=(grant(),)),
        deny(Reason.ROLE_REQUIRED, CLINICAL), category=C.HEALTH_CLINICAL),
    # no relation at all: invisible
    row("no-relation", who(ERBIL), case(consent(scope(C.CONTACT, countries=("IQ",)))), deny(Reason.NO_RELATION)),
    row("no-relation-for-an-office-less-client", PARTNER, case(consent()), deny(Reason.NO_RELATION)),
    row("no-relation-to-a-minors-child-protection-data", who(ERBIL), case(minor=True),
        deny(Reason.CHILD_FIREWALL, P.REFERRAL_SERVICE_DELIVERY), category=C.CHILD_PROTECTION,
        purpose=P.REFERRAL_SERVICE_DELIVERY),
]  # fmt: skip


@pytest.mark.parametrize(("principal", "facts", "action", "category", "purpose", "recipient", "expected"), DECIDE_ROWS)
def test_decide(
    principal: Principal,
    facts: CaseFacts,
    action: Action,
    category: DataCategory,
    purpose: Purpose,
    recipient: Party | None,
    expected: Decision,
) -> None:
    assert decide(principal, facts, action, category, purpose, now=NOW, recipient=recipient) == expected


def test_a_disclosure_without_a_recipient_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="recipient"):
        decide(OWNER, case(consent()), Action.DISCLOSE, C.CONTACT, P.CASE_MANAGEMENT, now=NOW)


def c(
    status: ConsentStatus = ConsentStatus.GIVEN,
    *,
    consent_id: UUID = CONSENT,
    given_by: GivenBy = GivenBy.SELF,
    child_assent: bool = False,
    valid_from: datetime | None = NOW - 24 * HOUR,
    valid_until: datetime | None = None,
    categories: tuple[DataCategory, ...] = (C.CONTACT,),
) -> ConsentFacts:
    return consent(
        scope(*categories),
        consent_id=consent_id,
        status=status,
        given_by=given_by,
        child_assent=child_assent,
        valid_from=valid_from,
        valid_until=valid_until,
    )


S = ConsentStatus
CONSENT_ROWS = [
    pytest.param((), False, deny(Reason.NO_CONSENT), id="none"),
    pytest.param((c(),), False, allow(Reason.CONSENT, CONSENT), id="given"),
    pytest.param((c(S.RENEWED),), False, allow(Reason.CONSENT, CONSENT), id="renewed"),
    pytest.param((c(valid_from=None),), False, allow(Reason.CONSENT, CONSENT), id="given-without-a-start"),
    pytest.param((c(valid_until=NOW + HOUR),), False, allow(Reason.CONSENT, CONSENT), id="given-until-later"),
    pytest.param(
        (c(S.NARROWED, categories=(C.CONTACT, C.HOUSEHOLD)), c(consent_id=NEWER, categories=(C.HOUSEHOLD,))),
        False, deny(Reason.CONSENT_NOT_COVERING, NEWER), id="narrowed-the-superseded-terms-no-longer-count",
    ),
    pytest.param(
        (c(S.NARROWED, categories=(C.HOUSEHOLD,)), c(consent_id=NEWER)),
        False, allow(Reason.CONSENT, NEWER), id="narrowed-the-new-record-counts",
    ),
    pytest.param((c(S.NARROWED),), False, deny(Reason.NO_CONSENT, CONSENT), id="narrowed-alone"),
    pytest.param((c(S.EXPIRED),), False, deny(Reason.CONSENT_EXPIRED, CONSENT), id="expired-status"),
    pytest.param((c(valid_until=NOW),), False, deny(Reason.CONSENT_EXPIRED, CONSENT), id="expired-by-valid-until"),
    pytest.param((c(S.RENEWED, valid_until=NOW - HOUR),), False, deny(Reason.CONSENT_EXPIRED, CONSENT),
                 id="renewed-then-lapsed"),
    pytest.param((c(S.WITHDRAWN),), False, deny(Reason.CONSENT_WITHDRAWN, CONSENT), id="withdrawn"),
    pytest.param((c(S.WITHDRAWN, valid_until=NOW - HOUR),), False, deny(Reason.CONSENT_WITHDRAWN, CONSENT),
                 id="withdrawn-and-past-its-end"),
    pytest.param((c(S.REFUSED),), False, deny(Reason.NO_CONSENT, CONSENT), id="refused"),
    pytest.param((c(S.REFUSED, valid_until=NOW - HOUR),), False, deny(Reason.NO_CONSENT, CONSENT),
                 id="refused-is-not-expired"),
    pytest.param((c(S.REQUESTED),), False, deny(Reason.NO_CONSENT, CONSENT), id="requested"),
    pytest.param((c(S.INVALIDATED),), False, deny(Reason.NO_CONSENT, CONSENT), id="invalidated"),
    pytest.param((c(valid_from=NOW + HOUR),), False, deny(Reason.NO_CONSENT, CONSENT), id="not-yet-valid"),
    pytest.param((c(valid_from=NOW),), False, allow(Reason.CONSENT, CONSENT), id="valid-from-now"),
    pytest.param((c(S.WITHDRAWN), c(consent_id=NEWER)), False, allow(Reason.CONSENT, NEWER),
                 id="given-again-after-a-withdrawal"),
    pytest.param((c(categories=(C.HOUSEHOLD,)), c(S.WITHDRAWN, consent_id=NEWER)), False,
                 deny(Reason.CONSENT_NOT_COVERING, CONSENT), id="withdrawn-newest-another-still-in-force"),
    pytest.param((c(categories=(C.HOUSEHOLD,)),), False, deny(Reason.CONSENT_NOT_COVERING, CONSENT),
                 id="another-category"),
    pytest.param((c(),), True, deny(Reason.GUARDIAN_CONSENT_REQUIRED, CONSENT), id="minor-self"),
    pytest.param((c(given_by=GivenBy.PARENT),), True, deny(Reason.GUARDIAN_CONSENT_REQUIRED, CONSENT),
                 id="minor-parent-without-the-childs-assent"),
    pytest.param((c(given_by=GivenBy.CAREGIVER, child_assent=True),), True,
                 deny(Reason.GUARDIAN_CONSENT_REQUIRED, CONSENT), id="minor-caregiver-is-no-guardian"),
    pytest.param((c(given_by=GivenBy.PARENT, child_assent=True),), True, allow(Reason.CONSENT, CONSENT),
                 id="minor-parent-with-the-childs-assent"),
    pytest.param((c(given_by=GivenBy.LEGAL_GUARDIAN, child_assent=True),), True, allow(Reason.CONSENT, CONSENT),
                 id="minor-legal-guardian-with-the-childs-assent"),
    pytest.param((c(), c(consent_id=NEWER, given_by=GivenBy.COURT_APPOINTED, child_assent=True)), True,
                 allow(Reason.CONSENT, NEWER), id="minor-own-consent-then-a-guardians"),
    pytest.param((c(categories=(C.HOUSEHOLD,)),), True, deny(Reason.CONSENT_NOT_COVERING, CONSENT),
                 id="minor-self-and-not-covering-either"),
    pytest.param((c(given_by=GivenBy.PARENT, child_assent=True, valid_until=NOW),), True,
                 deny(Reason.CONSENT_EXPIRED, CONSENT), id="minor-guardians-consent-expired"),
]  # fmt: skip


@pytest.mark.parametrize(("consents", "minor", "expected"), CONSENT_ROWS)
def test_consent_for(consents: tuple[ConsentFacts, ...], minor: bool, expected: Decision) -> None:
    assert consent_for(case(*consents, minor=minor), C.CONTACT, P.CASE_MANAGEMENT, DAKAR_PARTY, now=NOW) == expected


def test_a_consent_names_a_purpose_and_only_that_purpose() -> None:
    facts = case(consent(scope(C.CONTACT, purposes=(P.M_AND_E,))))
    assert consent_for(facts, C.CONTACT, P.M_AND_E, DAKAR_PARTY, now=NOW).allowed
    assert consent_for(facts, C.CONTACT, P.RESEARCH, DAKAR_PARTY, now=NOW) == deny(Reason.CONSENT_NOT_COVERING, CONSENT)


NAMED = Recipients(
    offices=frozenset({"sn-dakar"}),
    organisations=frozenset({"cfp-dakar"}),
    organisation_types=frozenset({"health"}),
    countries=frozenset({"IQ"}),
)


@pytest.mark.parametrize(
    ("party", "included"),
    [
        pytest.param(Party(office_id="sn-dakar"), True, id="by-office"),
        pytest.param(Party(organisation_id="cfp-dakar"), True, id="by-organisation"),
        pytest.param(Party(organisation_id="clinique-pasteur", organisation_type="health"), True, id="by-org-type"),
        pytest.param(Party(office_id="iq-erbil", organisation_id="iom-iraq", country="IQ"), True, id="by-country"),
        pytest.param(Party(office_id="de-berlin", organisation_id="iom-germany", organisation_type="ngo",
                           country="DE"), False, id="none-named"),
        pytest.param(Party(), False, id="a-party-of-nothing"),
    ],
)  # fmt: skip
def test_recipients(party: Party, included: bool) -> None:
    assert NAMED.include(party) is included
    assert Recipients().include(party) is False


def test_a_party_of_a_principal_is_its_office_organisation_and_country() -> None:
    assert Party.of(FATOU) == Party(office_id="sn-dakar", organisation_id="iom-senegal", country="SN")


REALISTIC = case(
    consent(scope(C.CONTACT, C.IDENTITY_BIODATA, C.MIGRATION_HISTORY, offices=("sn-dakar",))),
    shares=(share(),),
)


def test_the_owner_sees_what_its_roles_clear_and_is_told_what_is_withheld() -> None:
    projection = project(OWNER, REALISTIC, P.CASE_MANAGEMENT, now=NOW)
    assert projection.visible
    assert set(projection.withheld) == {C.HEALTH_CLINICAL, C.MH_PRE_ARRIVAL_NOTICE, C.BIOMETRICS}
    assert {d.reason for d in projection.withheld.values()} == {Reason.ROLE_REQUIRED}
    assert set(projection.allowed) == set(DataCategory) - set(projection.withheld)
    assert all(d == allow(Reason.OWNER, "de-berlin") for d in projection.allowed.values())


def test_the_owner_always_sees_its_case_even_with_nothing_allowed() -> None:
    projection = project(who(scopes=frozenset()), REALISTIC, P.CASE_MANAGEMENT, now=NOW)
    assert (projection.visible, projection.allowed) == (True, {})
    assert set(projection.withheld) == set(DataCategory)


def test_a_sharee_sees_the_consented_categories_and_what_is_withheld() -> None:
    projection = project(FATOU, REALISTIC, P.CASE_MANAGEMENT, now=NOW)
    assert projection.visible
    assert set(projection.allowed) == {C.CONTACT, C.IDENTITY_BIODATA, C.MIGRATION_HISTORY}
    assert projection.withheld[C.HOUSEHOLD] == deny(Reason.CONSENT_NOT_COVERING, CONSENT)


@pytest.mark.parametrize(
    ("principal", "facts"),
    [
        pytest.param(FATOU, case(shares=(share(),)), id="sharee-without-consent"),
        pytest.param(FATOU, replace(REALISTIC, consents=(c(S.WITHDRAWN),)), id="sharee-after-withdrawal"),
        pytest.param(PARTNER, case(consent(scope(C.CONTACT, organisations=("iom-iraq",))), referrals=(referral(),)),
                     id="referral-destination-not-consented"),
        pytest.param(who(ERBIL), REALISTIC, id="no-relation"),
        pytest.param(FATOU, case(break_glass=(grant(expires_at=NOW - HOUR),)), id="expired-break-glass"),
    ],
)  # fmt: skip
def test_a_case_without_one_consented_category_does_not_exist_for_a_non_owner(
    principal: Principal, facts: CaseFacts
) -> None:
    assert project(principal, facts, P.CASE_MANAGEMENT, now=NOW) == project(
        principal, facts, P.CASE_MANAGEMENT, now=NOW, categories=()
    )
    projection = project(principal, facts, P.CASE_MANAGEMENT, now=NOW)
    assert (projection.visible, projection.allowed, projection.withheld) == (False, {}, {})


def test_a_break_glass_holder_sees_what_its_roles_clear() -> None:
    projection = project(FATOU, case(break_glass=(grant(),)), P.EMERGENCY_LIFE_RISK, now=NOW)
    assert projection.visible
    assert set(projection.withheld) == {C.HEALTH_CLINICAL, C.MH_PRE_ARRIVAL_NOTICE, C.BIOMETRICS}


def test_a_projection_can_be_limited_to_some_categories() -> None:
    projection = project(FATOU, REALISTIC, P.CASE_MANAGEMENT, now=NOW, categories=(C.CONTACT, C.HOUSEHOLD))
    assert (set(projection.allowed), set(projection.withheld)) == ({C.CONTACT}, {C.HOUSEHOLD})


def test_the_disclosure_manifest_lists_what_would_leave_and_why_the_rest_stays() -> None:
    facts = case(
        consent(
            scope(C.CONTACT, C.SKILLS_EMPLOYMENT, organisation_types=("tvet",), purposes=(P.REFERRAL_SERVICE_DELIVERY,))
        ),
    )
    manifest = disclosure(OWNER, facts, CFP_PARTY, P.REFERRAL_SERVICE_DELIVERY, now=NOW)
    assert manifest.visible
    assert manifest.allowed == {
        C.CONTACT: allow(Reason.CONSENT, CONSENT),
        C.SKILLS_EMPLOYMENT: allow(Reason.CONSENT, CONSENT),
    }
    assert manifest.withheld[C.HOUSEHOLD] == deny(Reason.CONSENT_NOT_COVERING, CONSENT)
    assert manifest.withheld[C.BIOMETRICS] == deny(Reason.ROLE_REQUIRED, Role.IDENTITY_OFFICER)
    assert set(manifest.allowed) | set(manifest.withheld) == set(DataCategory)


def test_nothing_leaves_from_an_office_that_does_not_own_the_case() -> None:
    manifest = disclosure(FATOU, REALISTIC, CFP_PARTY, P.REFERRAL_SERVICE_DELIVERY, now=NOW, categories=(C.CONTACT,))
    assert (manifest.allowed, manifest.withheld) == ({}, {C.CONTACT: deny(Reason.NOT_OWNER)})


def test_the_vocabulary_classifies_every_category() -> None:
    assert set(SENSITIVITY) == set(DataCategory)
    assert {SENSITIVITY[c] for c in ENCRYPTED_AT_REST} == {SensitivityClass.SENSITIVE, SensitivityClass.CLINICAL}
    assert all(
        SENSITIVITY[c] in {SensitivityClass.PERSONAL, SensitivityClass.SENSITIVE} for c in MINIMUM_EMERGENCY_DATASET
    )
    assert Role.PARTNER_FOCAL_POINT not in BREAK_GLASS_ROLES


# --- properties: whatever the principal and the case ------------------------------------------------------

OFFICES = st.sampled_from([BERLIN, DAKAR, ZIGUINCHOR, ERBIL, CFP])
principals = st.builds(
    lambda at, scopes, roles, subject: who(at, scopes=frozenset(scopes), roles=frozenset(roles), subject=subject),
    OFFICES,
    st.sets(st.sampled_from(sorted(EVERY_SCOPE))),
    st.sets(st.sampled_from(list(Role))),
    st.sampled_from(["anna", "fatou"]),
)
recipients = st.builds(
    Recipients,
    offices=st.frozensets(st.sampled_from(["de-berlin", "sn-dakar", "sn-ziguinchor", "iq-erbil"])),
    organisations=st.frozensets(st.sampled_from(["iom-germany", "iom-senegal", "iom-iraq", "cfp-dakar"])),
    countries=st.frozensets(st.sampled_from(["DE", "SN", "IQ"])),
)
scopes = st.builds(
    ConsentScope,
    categories=st.frozensets(st.sampled_from(list(DataCategory)), min_size=1),
    purposes=st.frozensets(st.sampled_from(list(Purpose)), min_size=1),
    recipients=recipients,
)
moments = st.one_of(st.none(), st.sampled_from([NOW - 48 * HOUR, NOW - HOUR, NOW, NOW + HOUR]))
consents = st.builds(
    ConsentFacts,
    consent_id=st.uuids(),
    status=st.sampled_from(list(ConsentStatus)),
    given_by=st.sampled_from(list(GivenBy)),
    scopes=st.lists(scopes, min_size=1, max_size=3).map(tuple),
    valid_from=moments,
    valid_until=moments,
    child_assent=st.booleans(),
)
cases = st.builds(
    lambda cs, minor, shared, referred, glass: case(
        *cs, minor=minor, shares=tuple(shared), referrals=tuple(referred), break_glass=tuple(glass)
    ),
    st.lists(consents, max_size=3),
    st.booleans(),
    st.lists(
        st.builds(share, st.sampled_from(list(ShareMode)), office=st.sampled_from(["sn-dakar", "iq-erbil"]),
                  expires_at=moments, id_=st.uuids()),
        max_size=2,
    ),
    st.lists(
        st.builds(referral, st.sampled_from(["cfp-dakar", "iom-senegal"]), st.sampled_from([None, "sn-dakar"])),
        max_size=2,
    ),
    st.lists(st.builds(grant, st.sampled_from(["anna", "fatou"]), st.sampled_from(["sn-dakar", None]), moments.filter(
        lambda m: m is not None)), max_size=1),
)  # fmt: skip


@given(principals, cases, st.sampled_from(list(Action)), st.sampled_from(list(DataCategory)))
def test_a_forbidden_purpose_is_never_allowed(
    principal: Principal, facts: CaseFacts, action: Action, category: DataCategory
) -> None:
    decision = decide(principal, facts, action, category, P.IMMIGRATION_ENFORCEMENT, now=NOW, recipient=CFP_PARTY)
    assert not decision.allowed
    assert decision.reason is (Reason.CHILD_FIREWALL if facts.subject_is_minor else Reason.FORBIDDEN_PURPOSE)


@given(principals, cases, st.sampled_from(list(Action)), st.sampled_from(list(DataCategory)), st.sampled_from(list(P)))
def test_a_caller_with_no_relation_is_never_allowed(
    principal: Principal, facts: CaseFacts, action: Action, category: DataCategory, purpose: Purpose
) -> None:
    stranger = replace(principal, office_id="xk-pristina", organisation_id="iom-kosovo", subject="karwan")
    decision = decide(stranger, facts, action, category, purpose, now=NOW, recipient=CFP_PARTY)
    assert not decision.allowed
    assert not project(stranger, facts, purpose, now=NOW).visible


@given(principals, cases, st.sampled_from(list(DataCategory)), st.sampled_from(list(P)))
def test_beyond_the_owner_every_allowed_read_rests_on_an_in_force_consent_or_a_live_grant(
    principal: Principal, facts: CaseFacts, category: DataCategory, purpose: Purpose
) -> None:
    decision = decide(principal, facts, Action.VIEW, category, purpose, now=NOW)
    if not decision.allowed or decision.reason is Reason.OWNER:
        return
    if decision.reason is Reason.BREAK_GLASS:
        assert any(g.grant_id == decision.basis and g.held_by(principal, NOW) for g in facts.break_glass)
    else:
        assert any(c.consent_id == decision.basis and c.in_force(NOW) for c in facts.consents)


@given(principals, cases, st.sampled_from(list(P)))
def test_a_projection_is_decide_for_every_category(principal: Principal, facts: CaseFacts, purpose: Purpose) -> None:
    projection = project(principal, facts, purpose, now=NOW)
    is_owner = principal.office_id == facts.owner_office_id
    assert projection.visible is (is_owner or bool(projection.allowed))
    if projection.visible:
        assert set(projection.allowed) | set(projection.withheld) == set(DataCategory)
        for category, decision in {**projection.allowed, **projection.withheld}.items():
            assert decide(principal, facts, Action.VIEW, category, purpose, now=NOW) == decision
