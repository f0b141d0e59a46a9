"""Events of referral-service: topics ``casebridge.referral.events.v1`` and ``casebridge.directory.events.v1``.

Ids and codes only: no reason text, no feedback text, nothing about the person. Consumers (notification-service
for reminders and escalation) read details through the referral API under their own authorisation.
"""

from datetime import datetime
from enum import StrEnum
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import ConfigDict
from pydantic.config import JsonDict

from casebridge_common.events.envelope import Event

REFERRAL_TOPIC = "casebridge.referral.events.v1"
DIRECTORY_TOPIC = "casebridge.directory.events.v1"


class ServiceCategory(StrEnum):
    """The provider categories of the handbook's service mapping (Annex 8), plus child protection."""

    JOB_PLACEMENT = "job_placement"
    TVET = "tvet"
    BUSINESS_DEVELOPMENT_SUPPORT = "business_development_support"
    FINANCIAL_SERVICES = "financial_services"
    HEALTH = "health"
    HOUSING = "housing"
    ADMINISTRATION_DOCUMENTATION = "administration_documentation"
    SOCIAL_PROTECTION = "social_protection"
    LEGAL_JUSTICE = "legal_justice"
    EDUCATION = "education"
    CHILDCARE = "childcare"
    CHILD_PROTECTION = "child_protection"
    PSYCHOSOCIAL = "psychosocial"
    PSYCHOLOGICAL = "psychological"
    PSYCHIATRIC = "psychiatric"


class Urgency(StrEnum):
    ROUTINE = "routine"
    PRIORITY = "priority"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class MhpssLevel(StrEnum):
    """The handbook's three mental-health referral levels."""

    IMMEDIATE_LIFE_SAVING = "level_1_immediate_life_saving"
    PSYCHOLOGICAL_COUNSELLING = "level_2_psychological_counselling"
    PSYCHOSOCIAL_SUPPORT = "level_3_psychosocial_support"


class DeclineReason(StrEnum):
    NOT_ELIGIBLE = "not_eligible"
    NO_CAPACITY = "no_capacity"
    OUT_OF_AREA = "out_of_area"
    SERVICE_UNAVAILABLE = "service_unavailable"
    DUPLICATE = "duplicate"
    OTHER = "other"


class ServiceDelivered(StrEnum):
    YES = "yes"
    PARTIAL = "partial"
    NO = "no"


class Deadline(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    FIRST_CONTACT = "first_contact"
    OUTCOME = "outcome"


class ReferralEvent(Event):
    topic: ClassVar[str] = REFERRAL_TOPIC
    referral_id: UUID
    case_id: UUID
    referral_version: int
    referring_office_id: str
    destination_organisation_id: str
    destination_office_id: str | None
    destination_service_id: str | None

    def aggregate_id(self) -> UUID:
        return self.referral_id


_REFERRAL: JsonDict = {
    "referral_id": "3d2b9a7e-1f0c-4b5e-8a8d-6c1e2f3a4b5c",
    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
    "referral_version": 2,
    "referring_office_id": "de-berlin",
    "destination_organisation_id": "cfp-dakar",
    "destination_office_id": None,
    "destination_service_id": "cfp-dakar-tvet-dakar",
}


class ReferralSent(ReferralEvent):
    """A referral was sent to its destination; its deadlines start now."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _REFERRAL
                | {
                    "category": "tvet",
                    "urgency": "routine",
                    "mhpss_level": None,
                    "cross_border": True,
                    "acknowledge_due_at": "2026-12-08T10:00:00Z",
                    "first_contact_due_at": "2026-12-15T10:00:00Z",
                    "outcome_due_at": "2027-01-12T10:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.referral.sent.v1"
    category: ServiceCategory
    urgency: Urgency
    mhpss_level: MhpssLevel | None
    cross_border: bool
    acknowledge_due_at: datetime
    first_contact_due_at: datetime
    outcome_due_at: datetime


class ReferralAcknowledged(ReferralEvent):
    """The destination confirmed it received the referral."""

    type: ClassVar[str] = "casebridge.referral.acknowledged.v1"


class ReferralAccepted(ReferralEvent):
    """The destination accepted the referral."""

    type: ClassVar[str] = "casebridge.referral.accepted.v1"


class ReferralDeclined(ReferralEvent):
    """The destination declined the referral, with a reason code."""

    type: ClassVar[str] = "casebridge.referral.declined.v1"
    reason: DeclineReason


class ReferralStarted(ReferralEvent):
    """The destination made first contact and started the service."""

    type: ClassVar[str] = "casebridge.referral.started.v1"


class ReferralCompleted(ReferralEvent):
    """The destination reported the outcome; the feedback is readable by the referring office."""

    type: ClassVar[str] = "casebridge.referral.completed.v1"
    service_delivered: ServiceDelivered


class ReferralCancelled(ReferralEvent):
    """The referring office cancelled the referral."""

    type: ClassVar[str] = "casebridge.referral.cancelled.v1"


class ReferralExpired(ReferralEvent):
    """Nobody accepted or declined the referral within its expiry window."""

    type: ClassVar[str] = "casebridge.referral.expired.v1"


class ReferralConsentWithdrawn(ReferralEvent):
    """The consent behind an open referral was withdrawn, narrowed or expired: sharing stops, the destination
    drops what it received, and the referral ends (data-protection.md §2.4 step 5)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _REFERRAL
                | {
                    "consent_id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
                    "withdrawal_id": "6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e",
                    "withdrawn_categories": ["contact"],
                    "withdrawn_at": "2026-12-10T09:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.referral.consent_withdrawn.v1"
    consent_id: UUID
    withdrawal_id: UUID
    withdrawn_categories: list[str]
    withdrawn_at: datetime


class ReferralDeadlineMissed(ReferralEvent):
    """A deadline passed without the step it guards; emitted once per referral and deadline."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _REFERRAL | {"deadline": "acknowledge", "due_at": "2026-12-08T10:00:00Z", "urgency": "routine"}
            ]
        }
    )
    type: ClassVar[str] = "casebridge.referral.deadline_missed.v1"
    deadline: Deadline
    due_at: datetime
    urgency: Urgency


class ReferralRedirected(ReferralEvent):
    """The destination missed the acknowledgement deadline and the referral went to a fallback service instead:
    this referral ended (`casebridge.referral.expired.v1` follows it) and `redirected_to_referral_id` was sent
    (`casebridge.referral.sent.v1`) with a snapshot projected afresh for the fallback."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _REFERRAL
                | {
                    "redirected_to_referral_id": "4e3c0b8f-2a1d-4c6f-9b9e-7d2f3a4b5c6d",
                    "fallback_organisation_id": "cfp-dakar",
                    "fallback_service_id": "cfp-dakar-apprenticeship-thies",
                    "due_at": "2026-12-08T10:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.referral.redirected.v1"
    redirected_to_referral_id: UUID
    fallback_organisation_id: str
    fallback_service_id: str
    due_at: datetime


class DirectoryChange(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    CAPACITY = "capacity"


class ServiceUpdated(Event):
    """A directory service was created, changed, or its provider updated its capacity."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "service_id": "cfp-dakar-tvet-dakar",
                    "organisation_id": "cfp-dakar",
                    "service_version": 3,
                    "change": "capacity",
                    "category": "tvet",
                    "status": "active",
                    "accepting_referrals": True,
                    "available_places": 12,
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.directory.service_updated.v1"
    topic: ClassVar[str] = DIRECTORY_TOPIC
    service_id: str
    organisation_id: str
    service_version: int
    change: DirectoryChange
    category: ServiceCategory
    status: str
    accepting_referrals: bool
    available_places: int | None

    def aggregate_id(self) -> UUID:
        return service_key(self.service_id)


def service_key(service_id: str) -> UUID:
    """Directory ids are strings (HSDS allows any); the Kafka key is a stable UUID derived from one."""
    return uuid5(NAMESPACE_URL, f"urn:casebridge:directory:service:{service_id}")
