"""Tables of referral-service: the service directory on Open Referral HSDS 3.x lines, the case and consent
projections, referrals, and the disclosure ledger.

Organisation and office ids are the `org_id` and `office_id` claims the identity provider puts into access
tokens. HSDS `organization` → Organisation; `location` → Location (an office is a location of kind office);
`service` (+ `service_capacity`, `language`, eligibility, `service_area`) → Service; `service_at_location`
→ ServiceAtLocation.
"""

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from casebridge_common.access import ConsentFacts, ConsentStatus, GivenBy, Party
from casebridge_common.db import empty_list, enum_type
from casebridge_common.events.contracts.case import Programme
from casebridge_common.events.contracts.consent import ScopeTerms, WithdrawalKind
from casebridge_common.events.contracts.referral import (
    Deadline,
    DeclineReason,
    MhpssLevel,
    ServiceCategory,
    ServiceDelivered,
    Urgency,
)
from referral_service.domain.lifecycle import ReferralStatus


class OrganisationKind(StrEnum):
    INTERNATIONAL_ORGANISATION = "international_organisation"
    GOVERNMENT = "government"
    NGO = "ngo"
    SERVICE_PROVIDER = "service_provider"


class ServiceStatus(StrEnum):
    """HSDS `service.status`."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    DEFUNCT = "defunct"
    TEMPORARILY_CLOSED = "temporarily_closed"


class LocationType(StrEnum):
    PHYSICAL = "physical"
    POSTAL = "postal"
    VIRTUAL = "virtual"


class CapacitySource(StrEnum):
    PROVIDER_API = "provider_api"
    FOCAL_POINT = "focal_point"
    STAFF_ESTIMATE = "staff_estimate"


class Organisation(SQLModel, table=True):
    __tablename__ = "organisations"

    id: str = Field(primary_key=True, max_length=64)
    name: str
    kind: OrganisationKind = Field(sa_type=enum_type(OrganisationKind))
    country: str = Field(max_length=2, index=True)
    website: str | None = None


class Office(SQLModel, table=True):
    __tablename__ = "offices"

    id: str = Field(primary_key=True, max_length=64)
    organisation_id: str = Field(foreign_key="organisations.id", index=True)
    name: str
    country: str = Field(max_length=2, index=True)
    city: str
    languages: str = Field(default="", description="comma-separated BCP 47 tags")


def _strings() -> Column[list[str]]:
    return Column(ARRAY(String), nullable=False, server_default="{}")


class Location(SQLModel, table=True):
    """HSDS `location`: where services are delivered. Coordinates are WGS 84 degrees."""

    __tablename__ = "locations"
    __table_args__ = (Index("ix_locations_lat_lon", "latitude", "longitude"),)

    id: str = Field(primary_key=True, max_length=64)
    organisation_id: str = Field(foreign_key="organisations.id", index=True)
    office_id: str | None = Field(default=None, foreign_key="offices.id")
    name: str
    location_type: LocationType = Field(default=LocationType.PHYSICAL, sa_type=enum_type(LocationType))
    address: str | None = None
    city: str | None = None
    admin_area: str | None = None
    country: str = Field(max_length=2)
    latitude: float | None = None
    longitude: float | None = None
    accessibility: str | None = None


class Service(SQLModel, table=True):
    """HSDS `service` with its eligibility, languages, service area and live capacity (`service_capacity`)."""

    __tablename__ = "services"
    __table_args__ = (
        Index("ix_services_category_country", "category", "service_area_country", "id"),
        Index("ix_services_languages", "languages", postgresql_using="gin"),
        Index("ix_services_admin_areas", "service_area_admin_areas", postgresql_using="gin"),
    )

    id: str = Field(primary_key=True, max_length=64)
    organisation_id: str = Field(foreign_key="organisations.id", index=True)
    name: str
    description: str = ""
    category: ServiceCategory = Field(sa_type=enum_type(ServiceCategory))
    status: ServiceStatus = Field(default=ServiceStatus.ACTIVE, sa_type=enum_type(ServiceStatus))
    url: str | None = None
    email: str | None = None
    languages: list[str] = Field(default_factory=empty_list, sa_column=_strings())
    interpretation_services: str | None = None
    application_process: str | None = None
    fees_description: str | None = None
    eligibility_description: str | None = None
    minimum_age: int | None = None
    maximum_age: int | None = None
    eligible_sexes: list[str] = Field(default_factory=empty_list, sa_column=_strings())
    target_groups: list[str] = Field(default_factory=empty_list, sa_column=_strings())
    service_area_country: str = Field(max_length=2)
    service_area_admin_areas: list[str] = Field(default_factory=empty_list, sa_column=_strings())
    open_for_referrals: bool = True
    available_places: int | None = None
    maximum_places: int | None = None
    waiting_time_days: int | None = None
    capacity_source: CapacitySource = Field(default=CapacitySource.FOCAL_POINT, sa_type=enum_type(CapacitySource))
    capacity_updated_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    version: int = 1
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))

    @property
    def accepting_referrals(self) -> bool:
        """referrals.md §2.1: open for referrals and either places left or no capacity data at all."""
        return (
            self.status == ServiceStatus.ACTIVE
            and self.open_for_referrals
            and (self.available_places is None or self.available_places > 0)
        )


class Pathway(SQLModel, table=True):
    """A referral pathway for one country and category: the services to refer to first, then the fallbacks,
    and the consent categories a referral on it needs (referrals.md §4)."""

    __tablename__ = "pathways"
    __table_args__ = (Index("ix_pathways_country_category", "country", "category", unique=True),)

    id: str = Field(primary_key=True, max_length=64)
    name: str
    country: str = Field(max_length=2)
    category: ServiceCategory = Field(sa_type=enum_type(ServiceCategory))
    default_urgency: Urgency = Field(default=Urgency.ROUTINE, sa_type=enum_type(Urgency))
    service_ids: list[str] = Field(default_factory=empty_list, sa_column=_strings())
    # casebridge_common.access.DataCategory codes a send on this pathway must disclose
    required_consent_categories: list[str] = Field(default_factory=empty_list, sa_column=_strings())
    # referrals.md §6.3 `auto_redirect_after_overdue`: a missed acknowledgement redirects to the next service
    redirect_on_missed_acknowledgement: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})


class ServiceAtLocation(SQLModel, table=True):
    __tablename__ = "service_at_locations"

    service_id: str = Field(foreign_key="services.id", primary_key=True)
    location_id: str = Field(foreign_key="locations.id", primary_key=True, index=True)


class CaseProjection(SQLModel, table=True):
    """What referral-service knows of a case, from the case events: ids, its owner, whether the beneficiary was
    a minor at opening (the child-protection gates), and whether it is closed."""

    __tablename__ = "case_projections"

    case_id: UUID = Field(primary_key=True)
    case_version: int
    programme: Programme = Field(sa_type=enum_type(Programme))
    owner_office_id: str = Field(index=True)
    owner_organisation_id: str | None = None
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    beneficiary_id: UUID | None = Field(default=None, index=True)
    subject_is_minor: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class ConsentProjection(SQLModel, table=True):
    """A beneficiary's consent as `casebridge.consent.events.v1` describes it: enough for the access policy's
    `CaseFacts`, no personal data (the beneficiary is a surrogate id)."""

    __tablename__ = "consent_projections"
    __table_args__ = (Index("ix_consent_projections_beneficiary", "beneficiary_id", "valid_from", "consent_id"),)

    consent_id: UUID = Field(primary_key=True)
    beneficiary_id: UUID
    status: ConsentStatus = Field(sa_type=enum_type(ConsentStatus))
    given_by: GivenBy = Field(sa_type=enum_type(GivenBy))
    child_assent: bool = False
    scopes: list[dict[str, object]] = Field(sa_column=Column(JSONB, nullable=False))  # ScopeTerms documents
    valid_from: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    valid_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    ended_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))

    def to_facts(self) -> ConsentFacts:
        return ConsentFacts(
            consent_id=self.consent_id,
            status=self.status,
            given_by=self.given_by,
            scopes=tuple(ScopeTerms.model_validate(s).to_policy() for s in self.scopes),
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            child_assent=self.child_assent,
        )


class Referral(SQLModel, table=True):
    """A referral of a case to an office, an organisation or a specific service (FHIR Task vocabulary)."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_outbox", "referring_office_id", "created_at", "id"),
        Index("ix_referrals_inbox", "destination_organisation_id", "created_at", "id"),
        Index(
            "ix_referrals_open_deadlines",
            "outcome_due_at",
            postgresql_where=text("status IN ('requested', 'received', 'accepted', 'in_progress')"),
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_id: UUID = Field(foreign_key="case_projections.case_id", index=True)
    programme: Programme = Field(sa_type=enum_type(Programme))
    referring_office_id: str
    referring_organisation_id: str | None = None
    referring_country: str | None = Field(default=None, max_length=2)
    requested_by: str
    destination_organisation_id: str = Field(foreign_key="organisations.id")
    destination_office_id: str | None = Field(default=None, foreign_key="offices.id")
    destination_service_id: str | None = Field(default=None, foreign_key="services.id")
    destination_country: str = Field(max_length=2)
    category: ServiceCategory = Field(sa_type=enum_type(ServiceCategory))
    urgency: Urgency = Field(sa_type=enum_type(Urgency))
    mhpss_level: MhpssLevel | None = Field(default=None, sa_type=enum_type(MhpssLevel))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    consent_reference: str | None = None
    snapshot: dict[str, object] = Field(sa_column=Column(JSONB, nullable=False))
    status: ReferralStatus = Field(sa_type=enum_type(ReferralStatus))
    decline_reason: DeclineReason | None = Field(default=None, sa_type=enum_type(DeclineReason))
    decline_note: str | None = None
    cancel_reason: str | None = None
    service_delivered: ServiceDelivered | None = Field(default=None, sa_type=enum_type(ServiceDelivered))
    outcome_summary: str | None = Field(default=None, sa_column=Column(Text))
    feedback: str | None = Field(default=None, sa_column=Column(Text))
    acknowledge_within_s: int | None = None
    # where a missed acknowledgement redirects to, before the pathway's fallbacks
    fallback_service_id: str | None = Field(default=None, foreign_key="services.id")
    redirected_from_referral_id: UUID | None = Field(default=None, foreign_key="referrals.id", unique=True)
    redirected_to_referral_id: UUID | None = Field(default=None, foreign_key="referrals.id")
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    accepted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    declined_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    started_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    completed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    expired_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    acknowledge_due_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    first_contact_due_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    outcome_due_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    consent_withdrawn_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    case_closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    erased_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    version: int = 1


class MissedDeadline(SQLModel, table=True):
    """One row per (referral, deadline): the primary key makes `deadline_missed` fire exactly once."""

    __tablename__ = "missed_deadlines"

    referral_id: UUID = Field(foreign_key="referrals.id", primary_key=True)
    deadline: Deadline = Field(sa_type=enum_type(Deadline), primary_key=True)
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    detected_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class RedirectOutcome(StrEnum):
    REDIRECTED = "redirected"
    CONSENT_NOT_COVERING = "consent-not-covering"  # the fallback would not get what the pathway or referral needs
    NO_FALLBACK_ACCEPTING = "no-fallback-accepting"  # every fallback is closed, full or already tried
    CASE_CLOSED = "case-closed"  # the case was closed meanwhile: nothing new is sent


class FallbackRedirect(SQLModel, table=True):
    """What the deadline timer decided about redirecting a referral whose acknowledgement was missed. The
    primary key makes the decision once per referral, whichever worker gets there first."""

    __tablename__ = "fallback_redirects"

    referral_id: UUID = Field(foreign_key="referrals.id", primary_key=True)
    outcome: RedirectOutcome = Field(sa_type=enum_type(RedirectOutcome))
    fallback_service_id: str | None = Field(default=None, foreign_key="services.id")
    redirected_to_referral_id: UUID | None = Field(default=None, foreign_key="referrals.id")
    missing_categories: list[str] = Field(default_factory=empty_list, sa_column=_strings())
    decided_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Disclosure(SQLModel, table=True):
    """The disclosure ledger (data-protection.md §7): one row per send, naming the recipient, the categories that
    left and the consent that authorised each. Withdrawal propagation finds the holders of copies here, and the
    beneficiary's access report lists it. Erasure keeps the row (to whom, when) and drops the details."""

    __tablename__ = "disclosures"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    referral_id: UUID = Field(foreign_key="referrals.id", index=True)
    case_id: UUID = Field(index=True)
    recipient_office_id: str | None = None
    recipient_organisation_id: str
    recipient_organisation_type: str | None = None
    recipient_country: str = Field(max_length=2)
    purpose: str
    categories: list[str] = Field(default_factory=empty_list, sa_column=_strings())
    # category → the consent id that authorised it
    consents: dict[str, str] = Field(sa_column=Column(JSONB, nullable=False))
    disclosed_by: str
    disclosed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    erased_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

    @property
    def recipient(self) -> Party:
        return Party(
            office_id=self.recipient_office_id,
            organisation_id=self.recipient_organisation_id,
            organisation_type=self.recipient_organisation_type,
            country=self.recipient_country,
        )


class SnapshotRedaction(SQLModel, table=True):
    """The audit trace of a withdrawal applied to a stored snapshot: which categories were dropped, and why.
    The primary key makes a redelivered withdrawal redact a referral once."""

    __tablename__ = "snapshot_redactions"

    referral_id: UUID = Field(foreign_key="referrals.id", primary_key=True)
    withdrawal_id: UUID = Field(primary_key=True)
    consent_id: UUID
    kind: WithdrawalKind = Field(sa_type=enum_type(WithdrawalKind))
    categories: list[str] = Field(default_factory=empty_list, sa_column=_strings())
    referral_closed: bool  # the open referral moved to consent_withdrawn
    redacted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
