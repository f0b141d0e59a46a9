"""The access policy: one pure function, :func:`decide`, used by every service that reads or sends personal data.

It answers ``(principal, case, action, data category, purpose)`` → allow or deny, with a stable reason and the
record that authorised an allowed decision (ownership, a share, a referral, a consent, a break-glass grant).
Nothing here does I/O or reads the clock: callers load the facts (:class:`CaseFacts`) and pass ``now``.

Rules, in the order they are applied (data-protection.md §1 to §6):

1. Forbidden purposes are refused for everyone (``immigration_enforcement``, R-M3; a child's data is also
   firewalled by K14, which gets its own reason).
2. The caller's token must carry the scope for the action, and the scope or role for the category's
   sensitivity class (C3 needs ``cases.sensitive:read``; C4 a clinical role; biometrics an identity role).
3. Child-protection data of a minor leaves the owner office only for child-protection purposes (K14).
4. The caller needs a relation to the case: it owns it, holds an explicit share, is the destination of an
   active referral, or holds an active break-glass grant. No relation → the case is invisible (404). Shares
   may allow edits; referrals and break-glass grants only reads. A break-glass grant reads past what a share
   or referral allows, but never past rules 1 to 3.
5. Beyond the owner's own case management, a consent must be active (given or renewed, inside its validity
   period, a guardian's for a minor) and name the category, the purpose and the recipient.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from casebridge_common.auth import Principal, Scope


class SensitivityClass(StrEnum):
    """data-protection.md §1: what a category is, which decides who may read it at all."""

    AGGREGATE = "C0"
    PSEUDONYMOUS = "C1"
    PERSONAL = "C2"
    SENSITIVE = "C3"
    CLINICAL = "C4"
    BIOMETRIC = "CB"


class DataCategory(StrEnum):
    """The consent and permission vocabulary (data-protection.md §1.1), plus the case-file sections that
    CaseBridge stores and the spec's table does not name (economic situation, assistance, plan, notes, scores)."""

    IDENTITY_BIODATA = "identity_biodata"
    CONTACT = "contact"
    LOCATION = "location"
    HOUSEHOLD = "household"
    MIGRATION_HISTORY = "migration_history"
    VULNERABILITY_RESULTS = "vulnerability_results"
    HEALTH_FITNESS_TRAVEL = "health_fitness_travel"
    HEALTH_CLINICAL = "health_clinical"
    MH_PRE_ARRIVAL_NOTICE = "mh_pre_arrival_notice"
    PSYCHOSOCIAL_NOTES = "psychosocial_notes"
    GBV_SOGIESC = "gbv_sogiesc"
    TRAFFICKING_HISTORY = "trafficking_history"
    LEGAL_CRIMINAL = "legal_criminal"
    TESTIMONY = "testimony"
    SKILLS_EMPLOYMENT = "skills_employment"
    FINANCIAL_PAYMENTS = "financial_payments"
    SURVEY_RESPONSES = "survey_responses"
    CHILD_PROTECTION = "child_protection"
    FAMILY_TRACING = "family_tracing"
    BIOMETRICS = "biometrics"
    PDO_FEEDBACK = "pdo_feedback"
    MEDIA = "media"
    ECONOMIC_SITUATION = "economic_situation"
    ASSISTANCE = "assistance"
    REINTEGRATION_PLAN = "reintegration_plan"
    CASE_NOTES = "case_notes"
    SCORES = "scores"


SENSITIVITY: dict[DataCategory, SensitivityClass] = {
    DataCategory.IDENTITY_BIODATA: SensitivityClass.PERSONAL,
    DataCategory.CONTACT: SensitivityClass.PERSONAL,
    DataCategory.LOCATION: SensitivityClass.PERSONAL,
    DataCategory.HOUSEHOLD: SensitivityClass.PERSONAL,
    DataCategory.MIGRATION_HISTORY: SensitivityClass.SENSITIVE,
    DataCategory.VULNERABILITY_RESULTS: SensitivityClass.SENSITIVE,
    DataCategory.HEALTH_FITNESS_TRAVEL: SensitivityClass.SENSITIVE,
    DataCategory.HEALTH_CLINICAL: SensitivityClass.CLINICAL,
    DataCategory.MH_PRE_ARRIVAL_NOTICE: SensitivityClass.CLINICAL,
    DataCategory.PSYCHOSOCIAL_NOTES: SensitivityClass.SENSITIVE,
    DataCategory.GBV_SOGIESC: SensitivityClass.SENSITIVE,
    DataCategory.TRAFFICKING_HISTORY: SensitivityClass.SENSITIVE,
    DataCategory.LEGAL_CRIMINAL: SensitivityClass.SENSITIVE,
    DataCategory.TESTIMONY: SensitivityClass.SENSITIVE,
    DataCategory.SKILLS_EMPLOYMENT: SensitivityClass.PERSONAL,
    DataCategory.FINANCIAL_PAYMENTS: SensitivityClass.PERSONAL,
    DataCategory.SURVEY_RESPONSES: SensitivityClass.PSEUDONYMOUS,
    DataCategory.CHILD_PROTECTION: SensitivityClass.SENSITIVE,
    DataCategory.FAMILY_TRACING: SensitivityClass.SENSITIVE,
    DataCategory.BIOMETRICS: SensitivityClass.BIOMETRIC,
    DataCategory.PDO_FEEDBACK: SensitivityClass.PERSONAL,
    DataCategory.MEDIA: SensitivityClass.SENSITIVE,
    DataCategory.ECONOMIC_SITUATION: SensitivityClass.PERSONAL,
    DataCategory.ASSISTANCE: SensitivityClass.PERSONAL,
    DataCategory.REINTEGRATION_PLAN: SensitivityClass.PERSONAL,
    DataCategory.CASE_NOTES: SensitivityClass.SENSITIVE,
    DataCategory.SCORES: SensitivityClass.PSEUDONYMOUS,
}

# Encrypted at rest with the beneficiary's own key, so erasure can destroy the key (crypto-shredding).
ENCRYPTED_AT_REST: frozenset[DataCategory] = frozenset(
    c for c, s in SENSITIVITY.items() if s in {SensitivityClass.SENSITIVE, SensitivityClass.CLINICAL}
)

# The minimum emergency dataset a consent override may send (data-protection.md §5).
MINIMUM_EMERGENCY_DATASET: frozenset[DataCategory] = frozenset(
    {DataCategory.IDENTITY_BIODATA, DataCategory.CONTACT, DataCategory.LOCATION, DataCategory.HEALTH_FITNESS_TRAVEL}
)


class Purpose(StrEnum):
    """data-protection.md §1.2. ``immigration_enforcement`` exists only so that asking for it can be refused."""

    CASE_MANAGEMENT = "case_management"
    RECEPTION_PREPARATION = "reception_preparation"
    REFERRAL_SERVICE_DELIVERY = "referral_service_delivery"
    PROVIDER_FEEDBACK = "provider_feedback"
    CROSS_BORDER_HANDOVER = "cross_border_handover"
    HEALTH_CONTINUITY_OF_CARE = "health_continuity_of_care"
    TRAVEL_LOGISTICS = "travel_logistics"
    PLACEMENT = "placement"
    MENTORING_SPONSORSHIP = "mentoring_sponsorship"
    PAYMENTS = "payments"
    M_AND_E = "m_and_e"
    RESEARCH = "research"
    AGGREGATE_REPORTING = "aggregate_reporting"
    AUDIT = "audit"
    EMERGENCY_LIFE_RISK = "emergency_life_risk"
    LEGAL_ACTION = "legal_action"
    IMMIGRATION_ENFORCEMENT = "immigration_enforcement"


FORBIDDEN_PURPOSES: frozenset[Purpose] = frozenset({Purpose.IMMIGRATION_ENFORCEMENT})
# Purposes for which a minor's child-protection data may leave the owner office (K14).
CHILD_PROTECTION_PURPOSES: frozenset[Purpose] = frozenset(
    {Purpose.CASE_MANAGEMENT, Purpose.CROSS_BORDER_HANDOVER, Purpose.EMERGENCY_LIFE_RISK}
)
# The owner office processes its own case file for these without a further consent (it collected the data for
# them at first counselling, C1 to C3); anything else (M&E, research, payments…) needs one.
OWNER_PURPOSES: frozenset[Purpose] = frozenset({Purpose.CASE_MANAGEMENT, Purpose.AUDIT})


class Action(StrEnum):
    VIEW = "view"
    EDIT = "edit"
    DISCLOSE = "disclose"  # send a copy to another party: share, referral, transfer, export


class Role(StrEnum):
    """Token ``roles`` the policy reads (data-protection.md §4)."""

    CASE_MANAGER = "case_manager"
    SUPERVISOR = "supervisor"
    CLINICAL = "clinical"
    MEDICAL_FOCAL_POINT = "medical_focal_point"
    MENTAL_HEALTH_PROFESSIONAL = "mental_health_professional"
    CHILD_PROTECTION_OFFICER = "child_protection_officer"
    DATA_CONTROLLER = "data_controller"
    IDENTITY_OFFICER = "identity_officer"
    PARTNER_FOCAL_POINT = "partner_focal_point"


CLINICAL_ROLES: frozenset[str] = frozenset({Role.CLINICAL, Role.MEDICAL_FOCAL_POINT})
BIOMETRIC_ROLES: frozenset[str] = frozenset({Role.IDENTITY_OFFICER})
# "Any clinical or case role outside scope" may break the glass (data-protection.md §5).
BREAK_GLASS_ROLES: frozenset[str] = frozenset(
    {
        Role.CASE_MANAGER,
        Role.SUPERVISOR,
        Role.CLINICAL,
        Role.MEDICAL_FOCAL_POINT,
        Role.MENTAL_HEALTH_PROFESSIONAL,
        Role.CHILD_PROTECTION_OFFICER,
    }
)


class Reason(StrEnum):
    """Why a decision came out as it did; stable, so audits and tests can rely on it."""

    OWNER = "owner"
    SHARE_AND_CONSENT = "share-and-consent"
    REFERRAL_AND_CONSENT = "referral-and-consent"
    CONSENT = "consent"
    BREAK_GLASS = "break-glass"
    FORBIDDEN_PURPOSE = "forbidden-purpose"
    CHILD_FIREWALL = "child-protection-firewall"
    MISSING_SCOPE = "missing-scope"
    ROLE_REQUIRED = "role-required"
    NO_RELATION = "no-relation"
    SHARE_READ_ONLY = "share-read-only"
    REFERRAL_READ_ONLY = "referral-read-only"
    BREAK_GLASS_READ_ONLY = "break-glass-read-only"
    NOT_OWNER = "not-owner"
    NO_CONSENT = "no-consent"
    CONSENT_WITHDRAWN = "consent-withdrawn"
    CONSENT_EXPIRED = "consent-expired"
    CONSENT_NOT_COVERING = "consent-does-not-cover"
    GUARDIAN_CONSENT_REQUIRED = "guardian-consent-required"


class ConsentStatus(StrEnum):
    """data-protection.md §2.1 lifecycle; only ``given`` and ``renewed`` authorise anything."""

    REQUESTED = "requested"
    GIVEN = "given"
    REFUSED = "refused"
    RENEWED = "renewed"
    NARROWED = "narrowed"  # superseded by a narrower record; the new record carries the terms now in force
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    INVALIDATED = "invalidated"


ACTIVE_CONSENT: frozenset[ConsentStatus] = frozenset({ConsentStatus.GIVEN, ConsentStatus.RENEWED})


class GivenBy(StrEnum):
    SELF = "self"
    PARENT = "parent"
    LEGAL_GUARDIAN = "legal_guardian"
    COURT_APPOINTED = "court_appointed"
    SUBSTITUTE_PER_LAW = "substitute_per_law"
    CAREGIVER = "caregiver"


GUARDIANS: frozenset[GivenBy] = frozenset(
    {GivenBy.PARENT, GivenBy.LEGAL_GUARDIAN, GivenBy.COURT_APPOINTED, GivenBy.SUBSTITUTE_PER_LAW}
)


@dataclass(frozen=True, slots=True)
class Party:
    """Who receives or reads: an office, an organisation (and its type), a country."""

    office_id: str | None = None
    organisation_id: str | None = None
    organisation_type: str | None = None
    country: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> "Party":
        return cls(office_id=principal.office_id, organisation_id=principal.organisation_id, country=principal.country)


@dataclass(frozen=True, slots=True)
class Recipients:
    """Whom a consent scope names. A party matches if any one of its attributes is named."""

    offices: frozenset[str] = frozenset()
    organisations: frozenset[str] = frozenset()
    organisation_types: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()

    def include(self, party: Party) -> bool:
        return (
            (party.office_id is not None and party.office_id in self.offices)
            or (party.organisation_id is not None and party.organisation_id in self.organisations)
            or (party.organisation_type is not None and party.organisation_type in self.organisation_types)
            or (party.country is not None and party.country in self.countries)
        )


@dataclass(frozen=True, slots=True)
class ConsentScope:
    categories: frozenset[DataCategory]
    purposes: frozenset[Purpose]
    recipients: Recipients

    def covers(self, category: DataCategory, purpose: Purpose, party: Party) -> bool:
        return category in self.categories and purpose in self.purposes and self.recipients.include(party)


@dataclass(frozen=True, slots=True)
class ConsentFacts:
    consent_id: UUID
    status: ConsentStatus
    given_by: GivenBy
    scopes: tuple[ConsentScope, ...]
    valid_from: datetime | None
    valid_until: datetime | None
    child_assent: bool = False

    def in_force(self, now: datetime) -> bool:
        return (
            self.status in ACTIVE_CONSENT
            and (self.valid_from is None or self.valid_from <= now)
            and (self.valid_until is None or now < self.valid_until)
        )


class ShareMode(StrEnum):
    VIEW = "view"
    EDIT = "edit"


@dataclass(frozen=True, slots=True)
class ShareFacts:
    share_id: UUID
    office_id: str
    mode: ShareMode
    expires_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True, slots=True)
class ReferralFacts:
    """An active referral (sent, not yet closed) makes its destination a reader of the case."""

    referral_id: UUID
    destination_organisation_id: str
    destination_office_id: str | None = None

    def addressed_to(self, party: Party) -> bool:
        """The destination organisation; when the referral names one of its offices, only that office (and the
        organisation's own office-less clients): the same rule as referral-service's ``relation_to``."""
        if party.organisation_id != self.destination_organisation_id:
            return False
        return self.destination_office_id is None or party.office_id in {None, self.destination_office_id}


@dataclass(frozen=True, slots=True)
class BreakGlassFacts:
    grant_id: UUID
    subject: str
    office_id: str | None
    expires_at: datetime

    def held_by(self, principal: Principal, now: datetime) -> bool:
        return self.subject == principal.subject and self.office_id == principal.office_id and now < self.expires_at


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """Everything the policy needs to know about one case; loaded by the caller, read-only here."""

    case_id: UUID
    owner_office_id: str
    subject_is_minor: bool = False
    consents: tuple[ConsentFacts, ...] = ()
    shares: tuple[ShareFacts, ...] = ()
    referrals: tuple[ReferralFacts, ...] = ()
    break_glass: tuple[BreakGlassFacts, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason
    # the record that authorised (or, for consent denials, the consent that fell short): audit keeps it
    basis: UUID | str | None = None


_ACTION_SCOPE: dict[Action, Scope] = {
    Action.VIEW: Scope.CASES_READ,
    Action.EDIT: Scope.CASES_WRITE,
    Action.DISCLOSE: Scope.CASES_WRITE,
}


_NEEDS_SENSITIVE_SCOPE = frozenset({SensitivityClass.SENSITIVE, SensitivityClass.CLINICAL})
_CLINICAL_ROLES_NAMED = ",".join(sorted(CLINICAL_ROLES))
_BIOMETRIC_ROLES_NAMED = ",".join(sorted(BIOMETRIC_ROLES))


def _deny(reason: Reason, basis: UUID | str | None = None) -> Decision:
    return Decision(False, reason, basis)


def _clearance(principal: Principal, action: Action, category: DataCategory) -> Decision | None:
    """Scope for the action, then scope or role for the category's sensitivity; None when cleared."""
    if _ACTION_SCOPE[action] not in principal.scopes:
        return _deny(Reason.MISSING_SCOPE, _ACTION_SCOPE[action])
    sensitivity = SENSITIVITY[category]
    if sensitivity in _NEEDS_SENSITIVE_SCOPE and Scope.CASES_SENSITIVE_READ not in principal.scopes:
        return _deny(Reason.MISSING_SCOPE, Scope.CASES_SENSITIVE_READ)
    if sensitivity is SensitivityClass.CLINICAL and action is Action.VIEW and not principal.roles & CLINICAL_ROLES:
        return _deny(Reason.ROLE_REQUIRED, _CLINICAL_ROLES_NAMED)
    if sensitivity is SensitivityClass.BIOMETRIC and not principal.roles & BIOMETRIC_ROLES:
        return _deny(Reason.ROLE_REQUIRED, _BIOMETRIC_ROLES_NAMED)
    return None


@dataclass(frozen=True, slots=True)
class _Standing:
    """What a decision needs of the caller's relation to a case at ``now``, independent of the category; worked
    out once per read by :func:`project` and :func:`disclosure`, and per call by :func:`decide`."""

    principal: Principal
    case: CaseFacts
    now: datetime
    is_owner: bool
    party: Party
    in_force: tuple[ConsentFacts, ...]
    share: ShareFacts | None
    referral: ReferralFacts | None
    grant: BreakGlassFacts | None


def _standing(principal: Principal, case: CaseFacts, now: datetime) -> _Standing:
    party = Party.of(principal)
    share: ShareFacts | None = None
    for candidate in case.shares:  # among several active shares of the office, an edit share counts
        if candidate.office_id == principal.office_id and candidate.active(now):
            share = candidate
            if candidate.mode is ShareMode.EDIT:
                break
    return _Standing(
        principal=principal,
        case=case,
        now=now,
        is_owner=principal.office_id is not None and principal.office_id == case.owner_office_id,
        party=party,
        in_force=tuple(c for c in case.consents if c.in_force(now)),
        share=share,
        referral=next((r for r in case.referrals if r.addressed_to(party)), None),
        grant=next((g for g in case.break_glass if g.held_by(principal, now)), None),
    )


def _consent(
    case: CaseFacts,
    in_force: tuple[ConsentFacts, ...],
    category: DataCategory,
    purpose: Purpose,
    party: Party,
    now: datetime,
) -> Decision:
    if not case.consents:
        return _deny(Reason.NO_CONSENT)
    guardian_missing: ConsentFacts | None = None
    for consent in in_force:
        if not any(scope.covers(category, purpose, party) for scope in consent.scopes):
            continue
        if case.subject_is_minor and (consent.given_by not in GUARDIANS or not consent.child_assent):
            guardian_missing = consent  # it would cover, but a minor's consent needs a guardian and the child
            continue
        return Decision(True, Reason.CONSENT, consent.consent_id)
    if guardian_missing is not None:
        return _deny(Reason.GUARDIAN_CONSENT_REQUIRED, guardian_missing.consent_id)
    if in_force:
        return _deny(Reason.CONSENT_NOT_COVERING, in_force[-1].consent_id)
    latest = case.consents[-1]  # callers pass consents oldest first
    if latest.status is ConsentStatus.WITHDRAWN:
        return _deny(Reason.CONSENT_WITHDRAWN, latest.consent_id)
    lapsed = latest.status in ACTIVE_CONSENT and latest.valid_until is not None and latest.valid_until <= now
    if latest.status is ConsentStatus.EXPIRED or lapsed:
        return _deny(Reason.CONSENT_EXPIRED, latest.consent_id)
    return _deny(Reason.NO_CONSENT, latest.consent_id)


def consent_for(case: CaseFacts, category: DataCategory, purpose: Purpose, party: Party, *, now: datetime) -> Decision:
    """The consent that lets ``party`` have ``category`` for ``purpose``, or why there is none."""
    return _consent(case, tuple(c for c in case.consents if c.in_force(now)), category, purpose, party, now)


def decide(
    principal: Principal,
    case: CaseFacts,
    action: Action,
    category: DataCategory,
    purpose: Purpose,
    *,
    now: datetime,
    recipient: Party | None = None,
) -> Decision:
    """May ``principal`` perform ``action`` on ``category`` of ``case`` for ``purpose``?

    ``recipient`` is the party a ``disclose`` sends to (a share's office, a referral's destination, a transfer's
    receiving office); it defaults to the caller for ``view`` and ``edit``.
    """
    return _decide(_standing(principal, case, now), action, category, purpose, recipient)


def _decide(
    standing: _Standing, action: Action, category: DataCategory, purpose: Purpose, recipient: Party | None
) -> Decision:
    principal, case, now = standing.principal, standing.case, standing.now
    if purpose in FORBIDDEN_PURPOSES:
        return _deny(Reason.CHILD_FIREWALL if case.subject_is_minor else Reason.FORBIDDEN_PURPOSE, purpose)
    if (refused := _clearance(principal, action, category)) is not None:
        return refused

    if action is Action.DISCLOSE:
        if not standing.is_owner:
            return _deny(Reason.NOT_OWNER)
        if recipient is None:
            raise ValueError("a disclosure needs its recipient")
        if (
            case.subject_is_minor
            and category is DataCategory.CHILD_PROTECTION
            and purpose not in CHILD_PROTECTION_PURPOSES
        ):
            return _deny(Reason.CHILD_FIREWALL, purpose)
        return _consent(case, standing.in_force, category, purpose, recipient, now)

    if standing.is_owner:
        if purpose in OWNER_PURPOSES:
            return Decision(True, Reason.OWNER, case.owner_office_id)
        return _consent(case, standing.in_force, category, purpose, standing.party, now)

    if case.subject_is_minor and category is DataCategory.CHILD_PROTECTION and purpose not in CHILD_PROTECTION_PURPOSES:
        return _deny(Reason.CHILD_FIREWALL, purpose)

    share, referral, grant = standing.share, standing.referral, standing.grant
    decision: Decision | None = None
    if share is not None:
        if action is Action.EDIT and share.mode is not ShareMode.EDIT:
            decision = _deny(Reason.SHARE_READ_ONLY, share.share_id)
        else:
            consent = _consent(case, standing.in_force, category, purpose, standing.party, now)
            decision = Decision(True, Reason.SHARE_AND_CONSENT, consent.basis) if consent.allowed else consent
    elif referral is not None:
        if action is Action.EDIT:
            decision = _deny(Reason.REFERRAL_READ_ONLY, referral.referral_id)
        else:
            consent = _consent(case, standing.in_force, category, purpose, standing.party, now)
            decision = Decision(True, Reason.REFERRAL_AND_CONSENT, consent.basis) if consent.allowed else consent
    if decision is not None and decision.allowed:
        return decision
    # break-glass reaches past what a share or referral allows: it exists for the record one may not read
    if grant is not None:
        if action is Action.VIEW:
            return Decision(True, Reason.BREAK_GLASS, grant.grant_id)
        return decision or _deny(Reason.BREAK_GLASS_READ_ONLY, grant.grant_id)
    return decision or _deny(Reason.NO_RELATION)


@dataclass(frozen=True, slots=True)
class Projection:
    """What one caller may see of a case: the categories allowed, and those withheld with the reason."""

    visible: bool
    allowed: dict[DataCategory, Decision] = field(default_factory=dict)
    withheld: dict[DataCategory, Decision] = field(default_factory=dict)


def project(
    principal: Principal,
    case: CaseFacts,
    purpose: Purpose,
    *,
    now: datetime,
    categories: Iterable[DataCategory] = tuple(DataCategory),
) -> Projection:
    """Decide every category for a read. A case is visible to its owner, to a break-glass holder, and to a
    share or referral holder only while at least one category is consented to: otherwise it does not exist
    for that caller (a 404, and absent from lists)."""
    standing = _standing(principal, case, now)
    allowed: dict[DataCategory, Decision] = {}
    withheld: dict[DataCategory, Decision] = {}
    for category in categories:
        decision = _decide(standing, Action.VIEW, category, purpose, None)
        (allowed if decision.allowed else withheld)[category] = decision
    visible = bool(allowed) or standing.is_owner
    return Projection(visible=visible, allowed=allowed if visible else {}, withheld=withheld if visible else {})


def disclosure(
    principal: Principal,
    case: CaseFacts,
    recipient: Party,
    purpose: Purpose,
    *,
    now: datetime,
    categories: Iterable[DataCategory] = tuple(DataCategory),
) -> Projection:
    """The consent dry-run (data-protection.md §2.5): which categories would leave for ``recipient``."""
    standing = _standing(principal, case, now)
    allowed: dict[DataCategory, Decision] = {}
    withheld: dict[DataCategory, Decision] = {}
    for category in categories:
        decision = _decide(standing, Action.DISCLOSE, category, purpose, recipient)
        (allowed if decision.allowed else withheld)[category] = decision
    return Projection(visible=True, allowed=allowed, withheld=withheld)
