"""Request and response bodies of referral-service."""

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from casebridge_common.access import DataCategory
from casebridge_common.events.contracts.case import Programme
from casebridge_common.events.contracts.consent import WithdrawalKind
from casebridge_common.events.contracts.referral import (
    DeclineReason,
    MhpssLevel,
    ServiceCategory,
    ServiceDelivered,
    Urgency,
)
from casebridge_common.http import IsoDateTime
from referral_service.domain.lifecycle import ReferralStatus
from referral_service.domain.models import (
    CapacitySource,
    Disclosure,
    Location,
    LocationType,
    OrganisationKind,
    Referral,
    Service,
    ServiceStatus,
)
from referral_service.domain.snapshot import FREE_TEXT_FIELDS, without_free_text

Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$", description="ISO 639 code")]
Sex = Annotated[str, Field(pattern=r"^(female|male|other)$")]
DirectoryId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Strict = ConfigDict(extra="forbid")


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    id: str
    name: str
    kind: OrganisationKind
    country: str
    website: str | None


class OfficeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    id: str
    organisation_id: str
    name: str
    country: str
    city: str
    languages: str


class LocationRead(BaseModel):
    """HSDS `location`."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")

    id: DirectoryId
    organisation_id: str
    office_id: str | None = None
    name: str
    location_type: LocationType = LocationType.PHYSICAL
    address: str | None = None
    city: str | None = None
    admin_area: str | None = None
    country: Country
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    accessibility: str | None = None


class Eligibility(BaseModel):
    """HSDS `service.minimum_age/maximum_age/eligibility_description`; empty lists mean everyone."""

    model_config = Strict

    description: str | None = None
    minimum_age: int | None = Field(default=None, ge=0, le=130)
    maximum_age: int | None = Field(default=None, ge=0, le=130)
    sexes: list[Sex] = []
    target_groups: list[str] = Field(
        default=[], description="vulnerabilities served, e.g. victims_of_trafficking, persons_with_disabilities"
    )


class ServiceArea(BaseModel):
    """HSDS `service_area`: a country and, optionally, the admin areas within it (empty = the whole country)."""

    model_config = Strict

    country: Country
    admin_areas: list[str] = []


class CapacityUpdate(BaseModel):
    """HSDS 3.1 `service_capacity`, kept by the provider: open or not, places, typical waiting time."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"open_for_referrals": True, "available_places": 12, "maximum_places": 40, "waiting_time_days": 14}
            ]
        },
    )

    open_for_referrals: bool
    available_places: int | None = Field(default=None, ge=0)
    maximum_places: int | None = Field(default=None, ge=0)
    waiting_time_days: int | None = Field(default=None, ge=0)
    source: CapacitySource = CapacitySource.PROVIDER_API


class Capacity(CapacityUpdate):
    model_config = ConfigDict(extra="forbid")

    accepting_referrals: bool
    updated_at: IsoDateTime | None


class ServiceImport(BaseModel):
    """One service of a directory document (HSDS `service` + `service_at_location` ids)."""

    model_config = Strict

    id: DirectoryId
    organisation_id: str
    name: str
    description: str = ""
    category: ServiceCategory
    status: ServiceStatus = ServiceStatus.ACTIVE
    url: str | None = None
    email: str | None = None
    languages: list[LanguageCode] = []
    interpretation_services: str | None = None
    application_process: str | None = None
    fees_description: str | None = None
    eligibility: Eligibility = Eligibility()
    service_area: ServiceArea
    capacity: CapacityUpdate = CapacityUpdate(open_for_referrals=True, source=CapacitySource.FOCAL_POINT)
    location_ids: list[str] = []


class ServiceRead(BaseModel):
    id: str
    organisation_id: str
    name: str
    description: str
    category: ServiceCategory
    status: ServiceStatus
    url: str | None
    email: str | None
    languages: list[str]
    interpretation_services: str | None
    application_process: str | None
    fees_description: str | None
    eligibility: Eligibility
    service_area: ServiceArea
    capacity: Capacity
    locations: list[LocationRead]
    distance_km: float | None = Field(default=None, description="to the nearest location, when searched by point")
    version: int
    updated_at: IsoDateTime

    @classmethod
    def of(cls, service: Service, locations: list[Location], distance_km: float | None = None) -> "ServiceRead":
        return cls(
            id=service.id,
            organisation_id=service.organisation_id,
            name=service.name,
            description=service.description,
            category=service.category,
            status=service.status,
            url=service.url,
            email=service.email,
            languages=service.languages,
            interpretation_services=service.interpretation_services,
            application_process=service.application_process,
            fees_description=service.fees_description,
            eligibility=Eligibility(
                description=service.eligibility_description,
                minimum_age=service.minimum_age,
                maximum_age=service.maximum_age,
                sexes=service.eligible_sexes,
                target_groups=service.target_groups,
            ),
            service_area=ServiceArea(
                country=service.service_area_country, admin_areas=service.service_area_admin_areas
            ),
            capacity=Capacity(
                open_for_referrals=service.open_for_referrals,
                available_places=service.available_places,
                maximum_places=service.maximum_places,
                waiting_time_days=service.waiting_time_days,
                source=service.capacity_source,
                accepting_referrals=service.accepting_referrals,
                updated_at=service.capacity_updated_at,
            ),
            locations=[LocationRead.model_validate(location) for location in locations],
            distance_km=round(distance_km, 3) if distance_km is not None else None,
            version=service.version,
            updated_at=service.updated_at,
        )


class PathwayRead(BaseModel):
    """A referral pathway: `service_ids` in order, the first to refer to first, the rest fallbacks."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")

    id: DirectoryId
    name: str
    country: Country
    category: ServiceCategory
    default_urgency: Urgency = Urgency.ROUTINE
    service_ids: list[str]
    required_consent_categories: list[DataCategory] = Field(
        default=[], description="data categories a send on this pathway must disclose (pathway-consent-required)"
    )
    redirect_on_missed_acknowledgement: bool = Field(
        default=False,
        description="a missed acknowledgement redirects the referral to the next service of `service_ids` that "
        "accepts referrals (referrals.md §6.3 auto_redirect_after_overdue)",
    )


class DirectoryImport(BaseModel):
    """The demo/seed document: organisations, their offices, locations, services and pathways."""

    model_config = Strict

    organisations: list[OrganisationRead]
    offices: list[OfficeRead]
    locations: list[LocationRead] = []
    services: list[ServiceImport] = []
    pathways: list[PathwayRead] = []


class SuggestionRead(BaseModel):
    rank: int
    eligible: bool
    speaks_language: bool
    reasons: list[str] = Field(description="why it ranks where it does, e.g. pathway-fallback, not-accepting-referrals")
    pathway_step: int | None
    completion_rate: float | None = Field(description="completed / accepted over the last year, for its provider")
    service: ServiceRead


class Suggestions(BaseModel):
    pathway: PathwayRead | None
    items: list[SuggestionRead]


class Destination(BaseModel):
    """Exactly one of: an office, an organisation, or a specific directory service."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"service_id": "cfp-dakar-tvet-dakar"}]})

    office_id: str | None = None
    organisation_id: str | None = None
    service_id: str | None = None


class CreateReferral(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "destination": {"service_id": "cfp-dakar-tvet-dakar"},
                    "urgency": "routine",
                    "reason": "Wants a tailoring apprenticeship after return, as agreed in the reintegration plan.",
                }
            ]
        },
    )

    case_id: UUID
    destination: Destination
    category: ServiceCategory | None = Field(default=None, description="defaults to the destination service's")
    urgency: Urgency | None = Field(default=None, description="defaults to routine, or the MHPSS level's minimum")
    mhpss_level: MhpssLevel | None = None
    reason: str = Field(min_length=1, max_length=4000, description="plain language, only what the provider needs")
    consent_reference: str | None = Field(default=None, max_length=200)
    acknowledge_within_s: int | None = Field(
        default=None, ge=1, le=86400, description="local/test only: overrides the acknowledgement deadline"
    )
    fallback_service_id: str | None = Field(
        default=None,
        max_length=64,
        description="a directory service to redirect to if the destination misses the acknowledgement deadline, "
        "before the pathway's fallbacks (when the pathway redirects)",
    )

    @model_validator(mode="after")
    def _one_destination(self) -> "CreateReferral":
        named = [
            v for v in (self.destination.office_id, self.destination.organisation_id, self.destination.service_id) if v
        ]
        if len(named) != 1:
            raise ValueError(
                "name exactly one of destination.office_id, destination.organisation_id, destination.service_id"
            )
        return self


class DeclineReferral(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "no_capacity"}]})

    reason: DeclineReason
    note: str | None = Field(
        default=None, max_length=2000, description="only under the beneficiary's provider_feedback consent (R-C2)"
    )


class CompleteReferral(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "service_delivered": "yes",
                    "outcome_summary": "Completed the six-month tailoring course with a certificate.",
                    "feedback": "Ready for business development support; we suggest a start-up kit referral.",
                }
            ]
        },
    )

    service_delivered: ServiceDelivered
    outcome_summary: str | None = Field(
        default=None,
        min_length=1,
        max_length=4000,
        description="to the referring office; only under the beneficiary's provider_feedback consent (R-C2)",
    )
    feedback: str | None = Field(
        default=None,
        max_length=4000,
        description="to the referring office; only under the beneficiary's provider_feedback consent (R-C2)",
    )


class CancelReferral(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "returnee moved away"}]})

    reason: str = Field(min_length=1, max_length=2000)


class Deadlines(BaseModel):
    acknowledge_due_at: IsoDateTime | None
    first_contact_due_at: IsoDateTime | None
    outcome_due_at: IsoDateTime | None


class Outcome(BaseModel):
    service_delivered: ServiceDelivered | None
    outcome_summary: str | None
    feedback: str | None
    completed_at: IsoDateTime | None


class WithheldText(BaseModel):
    field: str = Field(description="`reason` or `snapshot.shared.reason`")
    reason: str = Field(description="`consent-withdrawn`, or `consent-<kind>` of the withdrawal that redacted it")


class ReferralRead(BaseModel):
    id: UUID
    case_id: UUID
    programme: Programme
    status: ReferralStatus
    referring_office_id: str
    referring_organisation_id: str | None
    requested_by: str
    destination: Destination
    destination_country: str
    cross_border: bool
    category: ServiceCategory
    urgency: Urgency
    mhpss_level: MhpssLevel | None
    reason: str | None = Field(
        description="the referral's free text; null for the destination once a consent withdrawal took back "
        "anything it carried (`withheld` says why)"
    )
    consent_reference: str | None
    snapshot: dict[str, Any] = Field(
        description="what is (or, for a draft, will be) sent to the destination: the referral's facts and the "
        "`shared_data_manifest` (categories `allowed` with their consent, `withheld` with the reason, `redacted` "
        "by a later withdrawal)"
    )
    decline_reason: DeclineReason | None
    decline_note: str | None
    cancel_reason: str | None
    outcome: Outcome
    deadlines: Deadlines
    created_at: IsoDateTime
    sent_at: IsoDateTime | None
    acknowledged_at: IsoDateTime | None
    accepted_at: IsoDateTime | None
    declined_at: IsoDateTime | None
    started_at: IsoDateTime | None
    cancelled_at: IsoDateTime | None
    expired_at: IsoDateTime | None
    consent_withdrawn_at: IsoDateTime | None = Field(description="the consent behind it was withdrawn; sharing stopped")
    case_closed_at: IsoDateTime | None = Field(description="the case was closed while this referral was under way")
    fallback_service_id: str | None = Field(description="where a missed acknowledgement redirects to first")
    redirected_from_referral_id: UUID | None = Field(
        description="the referral whose missed acknowledgement this one replaces"
    )
    redirected_to_referral_id: UUID | None = Field(
        description="the referral to a fallback that replaced this one after a missed acknowledgement"
    )
    version: int
    withheld: list[WithheldText] = Field(
        default_factory=list, description="free text the caller may no longer read, and why"
    )

    @classmethod
    def of(cls, r: Referral, *, free_text_withheld: str | None = None) -> "ReferralRead":
        """`free_text_withheld`: the reason the caller (the destination) may no longer read the free text."""
        hide = free_text_withheld is not None
        return cls(
            id=r.id,
            case_id=r.case_id,
            programme=r.programme,
            status=r.status,
            referring_office_id=r.referring_office_id,
            referring_organisation_id=r.referring_organisation_id,
            requested_by=r.requested_by,
            destination=Destination(
                office_id=r.destination_office_id,
                organisation_id=r.destination_organisation_id,
                service_id=r.destination_service_id,
            ),
            destination_country=r.destination_country,
            cross_border=r.referring_country is not None and r.referring_country != r.destination_country,
            category=r.category,
            urgency=r.urgency,
            mhpss_level=r.mhpss_level,
            reason=None if hide else r.reason,
            consent_reference=r.consent_reference,
            snapshot=without_free_text(r.snapshot) if hide else dict(r.snapshot),
            decline_reason=r.decline_reason,
            decline_note=r.decline_note,
            cancel_reason=r.cancel_reason,
            outcome=Outcome(
                service_delivered=r.service_delivered,
                outcome_summary=r.outcome_summary,
                feedback=r.feedback,
                completed_at=r.completed_at,
            ),
            deadlines=Deadlines(
                acknowledge_due_at=r.acknowledge_due_at,
                first_contact_due_at=r.first_contact_due_at,
                outcome_due_at=r.outcome_due_at,
            ),
            created_at=r.created_at,
            sent_at=r.sent_at,
            acknowledged_at=r.acknowledged_at,
            accepted_at=r.accepted_at,
            declined_at=r.declined_at,
            started_at=r.started_at,
            cancelled_at=r.cancelled_at,
            expired_at=r.expired_at,
            consent_withdrawn_at=r.consent_withdrawn_at,
            case_closed_at=r.case_closed_at,
            fallback_service_id=r.fallback_service_id,
            redirected_from_referral_id=r.redirected_from_referral_id,
            redirected_to_referral_id=r.redirected_to_referral_id,
            version=r.version,
            withheld=[WithheldText(field=f, reason=free_text_withheld) for f in FREE_TEXT_FIELDS]
            if free_text_withheld is not None
            else [],
        )


class Recipient(BaseModel):
    office_id: str | None
    organisation_id: str
    organisation_type: str | None = Field(description="the directory's service category or organisation kind")
    country: str


class DisclosureRead(BaseModel):
    """One entry of the disclosure ledger: what left, to whom, when, for what, and under which consent."""

    id: UUID
    referral_id: UUID
    recipient: Recipient
    purpose: str
    categories: list[str]
    consents: dict[str, UUID] = Field(description="data category → the consent that authorised it")
    disclosed_by: str
    disclosed_at: IsoDateTime
    erased_at: IsoDateTime | None = Field(description="the beneficiary's data was erased: the details are gone")

    @classmethod
    def of(cls, d: Disclosure) -> "DisclosureRead":
        return cls(
            id=d.id,
            referral_id=d.referral_id,
            recipient=Recipient(
                office_id=d.recipient_office_id,
                organisation_id=d.recipient_organisation_id,
                organisation_type=d.recipient_organisation_type,
                country=d.recipient_country,
            ),
            purpose=d.purpose,
            categories=list(d.categories),
            consents={c: UUID(i) for c, i in d.consents.items()},
            disclosed_by=d.disclosed_by,
            disclosed_at=d.disclosed_at,
            erased_at=d.erased_at,
        )


class RedactionRead(BaseModel):
    """A withdrawal that took categories back from the snapshot the destination holds."""

    withdrawal_id: UUID
    consent_id: UUID
    kind: WithdrawalKind
    categories: list[str]
    referral_closed: bool = Field(description="the referral was open and moved to consent_withdrawn")
    redacted_at: IsoDateTime


class ReferralDisclosures(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "referral_id": "3d2b9a7e-1f0c-4b5e-8a8d-6c1e2f3a4b5c",
                    "disclosures": [
                        {
                            "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                            "referral_id": "3d2b9a7e-1f0c-4b5e-8a8d-6c1e2f3a4b5c",
                            "recipient": {
                                "office_id": None,
                                "organisation_id": "cfp-dakar",
                                "organisation_type": "tvet",
                                "country": "SN",
                            },
                            "purpose": "referral_service_delivery",
                            "categories": ["contact", "identity_biodata"],
                            "consents": {
                                "contact": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
                                "identity_biodata": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
                            },
                            "disclosed_by": "de-berlin-system",
                            "disclosed_at": "2026-12-01T10:00:00Z",
                            "erased_at": None,
                        }
                    ],
                    "redactions": [
                        {
                            "withdrawal_id": "6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e",
                            "consent_id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
                            "kind": "withdrawn",
                            "categories": ["contact"],
                            "referral_closed": True,
                            "redacted_at": "2026-12-10T09:00:01Z",
                        }
                    ],
                }
            ]
        }
    )

    referral_id: UUID
    disclosures: list[DisclosureRead]
    redactions: list[RedactionRead]


class ScorecardRead(BaseModel):
    """How a provider answered the referrals sent to it in [since, until)."""

    organisation_id: str
    since: IsoDateTime
    until: IsoDateTime
    sent: int
    acknowledged: int
    accepted: int
    declined: int
    completed: int
    acknowledge_deadlines_missed: int
    outcome_deadlines_missed: int
    acknowledgement_rate: float | None
    on_time_acknowledgement_rate: float | None
    acceptance_rate: float | None
    completion_rate: float | None
    median_hours_to_acknowledge: float | None
    median_days_to_complete: float | None


class HsdsLanguage(BaseModel):
    name: str | None = None
    code: LanguageCode


class HsdsServiceArea(BaseModel):
    name: str = Field(description="an admin area; the country is `cb_country`")
    extent_type: str | None = None


class HsdsUnit(BaseModel):
    name: str = "places"


class HsdsCapacity(BaseModel):
    """HSDS 3.1 `service_capacity`."""

    unit: HsdsUnit = HsdsUnit()
    available: int | None = Field(default=None, ge=0)
    maximum: int | None = Field(default=None, ge=0)
    updated: IsoDateTime | None = None


class HsdsServiceAtLocation(BaseModel):
    location_id: str


class HsdsTaxonomyTerm(BaseModel):
    code: str
    taxonomy: str = "casebridge-service-types"


class HsdsAttribute(BaseModel):
    taxonomy_term: HsdsTaxonomyTerm


class HsdsService(BaseModel):
    """An HSDS 3.x `service` with CaseBridge's `cb_` extensions (referrals.md §2.1). Other HSDS fields are
    accepted and ignored, so a whole HSDS export can be loaded."""

    model_config = ConfigDict(extra="ignore")

    id: DirectoryId
    organization_id: str
    name: str
    description: str | None = None
    url: str | None = None
    email: str | None = None
    status: ServiceStatus = ServiceStatus.ACTIVE
    interpretation_services: str | None = None
    application_process: str | None = None
    fees_description: str | None = None
    eligibility_description: str | None = None
    minimum_age: int | None = Field(default=None, ge=0, le=130)
    maximum_age: int | None = Field(default=None, ge=0, le=130)
    languages: list[HsdsLanguage] = []
    service_areas: list[HsdsServiceArea] = []
    capacities: list[HsdsCapacity] = []
    service_at_locations: list[HsdsServiceAtLocation] = []
    attributes: list[HsdsAttribute] = Field(min_length=1, description="one `casebridge-service-types` term")
    cb_country: Country
    cb_target_groups: list[str] = []
    cb_eligible_sexes: list[Sex] = []
    cb_open_for_referrals: bool = True
    cb_waiting_time_days: int | None = Field(default=None, ge=0)
    cb_capacity_source: CapacitySource = CapacitySource.PROVIDER_API

    def category(self) -> ServiceCategory:
        codes = [
            a.taxonomy_term.code for a in self.attributes if a.taxonomy_term.taxonomy == "casebridge-service-types"
        ]
        if not codes:
            raise ValueError("no attribute of the casebridge-service-types taxonomy")
        return ServiceCategory(codes[0])  # ValueError for a code outside the taxonomy

    def to_import(self) -> ServiceImport:
        places = next((c for c in self.capacities if c.unit.name == "places"), None)
        return ServiceImport(
            id=self.id,
            organisation_id=self.organization_id,
            name=self.name,
            description=self.description or "",
            category=self.category(),
            status=self.status,
            url=self.url,
            email=self.email,
            languages=[language.code for language in self.languages],
            interpretation_services=self.interpretation_services,
            application_process=self.application_process,
            fees_description=self.fees_description,
            eligibility=Eligibility(
                description=self.eligibility_description,
                minimum_age=self.minimum_age,
                maximum_age=self.maximum_age,
                sexes=self.cb_eligible_sexes,
                target_groups=self.cb_target_groups,
            ),
            service_area=ServiceArea(country=self.cb_country, admin_areas=[a.name for a in self.service_areas]),
            capacity=CapacityUpdate(
                open_for_referrals=self.cb_open_for_referrals,
                available_places=places.available if places else None,
                maximum_places=places.maximum if places else None,
                waiting_time_days=self.cb_waiting_time_days,
                source=self.cb_capacity_source,
            ),
            location_ids=[s.location_id for s in self.service_at_locations],
        )

    @classmethod
    def of(cls, service: Service, location_ids: list[str]) -> "HsdsService":
        return cls(
            id=service.id,
            organization_id=service.organisation_id,
            name=service.name,
            description=service.description,
            url=service.url,
            email=service.email,
            status=service.status,
            interpretation_services=service.interpretation_services,
            application_process=service.application_process,
            fees_description=service.fees_description,
            eligibility_description=service.eligibility_description,
            minimum_age=service.minimum_age,
            maximum_age=service.maximum_age,
            languages=[HsdsLanguage(code=code) for code in service.languages],
            service_areas=[HsdsServiceArea(name=a, extent_type="admin_area") for a in service.service_area_admin_areas],
            capacities=[
                HsdsCapacity(
                    available=service.available_places,
                    maximum=service.maximum_places,
                    updated=service.capacity_updated_at,
                )
            ],
            service_at_locations=[HsdsServiceAtLocation(location_id=i) for i in location_ids],
            attributes=[HsdsAttribute(taxonomy_term=HsdsTaxonomyTerm(code=service.category))],
            cb_country=service.service_area_country,
            cb_target_groups=service.target_groups,
            cb_eligible_sexes=service.eligible_sexes,
            cb_open_for_referrals=service.open_for_referrals,
            cb_waiting_time_days=service.waiting_time_days,
            cb_capacity_source=service.capacity_source,
        )


class HsdsImport(BaseModel):
    """An HSDS JSON document's `services`; each row is checked on its own and every bad row is reported."""

    model_config = ConfigDict(extra="ignore")

    services: list[dict[str, Any]] = Field(min_length=1, max_length=5000)


class HsdsImportResult(BaseModel):
    services_received: int
    services_changed: int


class HsdsTabularImportResult(BaseModel):
    """What an HSDS CSV archive held and how many services it created or changed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"organisations_received": 1, "locations_received": 2, "services_received": 3, "services_changed": 1}
            ]
        }
    )

    organisations_received: int
    locations_received: int
    services_received: int
    services_changed: int
