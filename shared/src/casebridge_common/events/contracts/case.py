"""Events of case-service: topics ``casebridge.case.events.v1``, ``casebridge.beneficiary.events.v1`` and, for
M&E consumers only, ``casebridge.case.monitoring.v1``."""

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import ConfigDict, Field, field_validator
from pydantic.config import JsonDict

from casebridge_common.access import ShareMode
from casebridge_common.events.envelope import Event


class Programme(StrEnum):
    RETURN_REINTEGRATION = "return_reintegration"
    RESETTLEMENT_INTEGRATION = "resettlement_integration"


class BeneficiaryRegistered(Event):
    """A returnee or refugee was registered by an office. No name, no date of birth: ids only."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90", "registering_office_id": "de-berlin"}
            ]
        }
    )
    type: ClassVar[str] = "casebridge.beneficiary.registered.v1"
    topic: ClassVar[str] = "casebridge.beneficiary.events.v1"
    beneficiary_id: UUID
    registering_office_id: str
    registered_at: datetime

    def aggregate_id(self) -> UUID:
        return self.beneficiary_id


class BeneficiaryUpdated(Event):
    """A beneficiary's record changed: the names of the changed fields, never their values.

    Consumers that care read the record through the API under their own authorisation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90",
                    "beneficiary_version": 2,
                    "registering_office_id": "de-berlin",
                    "changed_fields": ["contacts", "current_location"],
                    "updated_at": "2026-12-02T10:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.beneficiary.updated.v1"
    topic: ClassVar[str] = "casebridge.beneficiary.events.v1"
    beneficiary_id: UUID
    beneficiary_version: int  # consumers ignore anything not newer than what they hold
    registering_office_id: str
    changed_fields: list[str]
    updated_at: datetime

    def aggregate_id(self) -> UUID:
        return self.beneficiary_id


class CaseOpened(Event):
    """A case was opened. Consumers read details through the case API under their own authorisation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "case_version": 1,
                    "beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90",
                    "programme": "return_reintegration",
                    "owner_office_id": "de-berlin",
                    "owner_organisation_id": "iom-germany",
                    "opened_at": "2026-12-01T10:00:00Z",
                    "subject_is_minor": False,
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.opened.v1"
    topic: ClassVar[str] = "casebridge.case.events.v1"
    case_id: UUID
    case_version: int
    beneficiary_id: UUID
    programme: Programme
    owner_office_id: str
    owner_organisation_id: str | None
    opened_at: datetime
    # under 18 when the case was opened: holders apply the child-protection gates (K14) without a birth date
    subject_is_minor: bool = False

    def aggregate_id(self) -> UUID:
        return self.case_id


class CaseStageChanged(Event):
    """A case (or one of a resettlement case's sub-tracks: `track`) moved to another stage."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "case_version": 2,
                    "programme": "return_reintegration",
                    "owner_office_id": "de-berlin",
                    "track": None,
                    "from_stage": "pre_departure_counselling",
                    "to_stage": "arrived",
                    "changed_at": "2026-12-01T10:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.stage_changed.v1"
    topic: ClassVar[str] = "casebridge.case.events.v1"
    case_id: UUID
    case_version: int
    programme: Programme
    owner_office_id: str
    track: str | None = None
    from_stage: str
    to_stage: str
    changed_at: datetime

    def aggregate_id(self) -> UUID:
        return self.case_id


class CaseAssessmentRecorded(Event):
    """A new version of an assessment was recorded. The kind only: never its findings."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "assessment_id": "1d2f0c9e-3b8a-4f7e-9c61-0a5b4d3e2f10",
                    "kind": "skills",
                    "assessment_version": 1,
                    "owner_office_id": "de-berlin",
                    "recorded_at": "2026-12-01T10:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.assessment_recorded.v1"
    topic: ClassVar[str] = "casebridge.case.events.v1"
    case_id: UUID
    assessment_id: UUID
    kind: str
    assessment_version: int
    owner_office_id: str
    recorded_at: datetime

    def aggregate_id(self) -> UUID:
        return self.case_id


class CasePlanApproved(Event):
    """A supervisor approved a version of the reintegration or integration plan."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "plan_id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
                    "plan_version": 2,
                    "owner_office_id": "sn-dakar",
                    "approved_at": "2026-12-01T10:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.plan_approved.v1"
    topic: ClassVar[str] = "casebridge.case.events.v1"
    case_id: UUID
    plan_id: UUID
    plan_version: int
    owner_office_id: str
    approved_at: datetime

    def aggregate_id(self) -> UUID:
        return self.case_id


class CaseClosed(Event):
    """A case was closed with a reason from the handbook's list (reintegration.md §11.1)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "case_version": 9,
                    "programme": "return_reintegration",
                    "owner_office_id": "sn-dakar",
                    "closure_reason": "support_duration_ended",
                    "closure_type": "planned",
                    "closed_at": "2026-12-01T10:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.closed.v1"
    topic: ClassVar[str] = "casebridge.case.events.v1"
    case_id: UUID
    case_version: int
    programme: Programme
    owner_office_id: str
    closure_reason: str
    closure_type: str
    closed_at: datetime

    def aggregate_id(self) -> UUID:
        return self.case_id


class CaseAssistanceDelivered(Event):
    """A tranche of an assistance item was handed over (a monitoring contact is due, R39). No amounts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "assistance_item_id": "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d",
                    "assistance_type": "income_generating_activity",
                    "modality": "cash",
                    "tranche_number": 1,
                    "item_fully_delivered": False,
                    "owner_office_id": "sn-dakar",
                    "delivered_on": "2026-12-01",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.assistance_delivered.v1"
    topic: ClassVar[str] = "casebridge.case.events.v1"
    case_id: UUID
    assistance_item_id: UUID
    assistance_type: str
    modality: str
    tranche_number: int
    item_fully_delivered: bool
    owner_office_id: str
    delivered_on: date

    def aggregate_id(self) -> UUID:
        return self.case_id


class CaseShared(Event):
    """The owner office shared a case with another office (bounded by consent: the sharee sees only what the
    beneficiary consented to)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "share_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                    "owner_office_id": "de-berlin",
                    "office_id": "sn-dakar",
                    "mode": "view",
                    "expires_at": None,
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.shared.v1"
    topic: ClassVar[str] = "casebridge.case.events.v1"
    case_id: UUID
    share_id: UUID
    owner_office_id: str
    office_id: str
    mode: ShareMode
    expires_at: datetime | None

    def aggregate_id(self) -> UUID:
        return self.case_id


class CaseShareRevoked(Event):
    """A share ended: revoked by the owner, or cancelled because the consent behind it was withdrawn."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "share_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                    "owner_office_id": "de-berlin",
                    "office_id": "sn-dakar",
                    "revoked_at": "2026-12-05T10:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.share_revoked.v1"
    topic: ClassVar[str] = "casebridge.case.events.v1"
    case_id: UUID
    share_id: UUID
    owner_office_id: str
    office_id: str
    revoked_at: datetime

    def aggregate_id(self) -> UUID:
        return self.case_id


_TRANSFER: JsonDict = {
    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
    "transfer_id": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a",
    "from_office_id": "de-berlin",
    "to_office_id": "sn-dakar",
}


class CaseTransferEvent(Event):
    topic: ClassVar[str] = "casebridge.case.events.v1"
    case_id: UUID
    transfer_id: UUID
    from_office_id: str
    to_office_id: str

    def aggregate_id(self) -> UUID:
        return self.case_id


class CaseTransferProposed(CaseTransferEvent):
    """The owner (host-country) office proposed to hand the case over; the receiving office answers by
    `respond_by` (a reminder is due at `remind_at`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _TRANSFER
                | {
                    "proposed_at": "2026-12-01T10:00:00Z",
                    "remind_at": "2026-12-05T10:00:00Z",
                    "respond_by": "2026-12-08T10:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.transfer_proposed.v1"
    proposed_at: datetime
    remind_at: datetime
    respond_by: datetime


class CaseTransferReminderDue(CaseTransferEvent):
    """A proposed transfer is still unanswered at its reminder time."""

    model_config = ConfigDict(json_schema_extra={"examples": [_TRANSFER | {"respond_by": "2026-12-08T10:00:00Z"}]})
    type: ClassVar[str] = "casebridge.case.transfer_reminder_due.v1"
    respond_by: datetime


class CaseTransferred(CaseTransferEvent):
    """The receiving office accepted: it owns the case from now on. Referrals and schedules follow the owner."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _TRANSFER
                | {"to_organisation_id": "iom-senegal", "case_version": 7, "transferred_at": "2026-12-03T10:00:00Z"}
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.transferred.v1"
    to_organisation_id: str | None
    case_version: int
    transferred_at: datetime


class TransferOutcome(StrEnum):
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # by the sender, or because consent for the handover was withdrawn


class CaseTransferEnded(CaseTransferEvent):
    """A proposed transfer ended without a handover; ownership stays with the sender."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _TRANSFER | {"outcome": "declined", "reason": "outside_area", "ended_at": "2026-12-02T10:00:00Z"}
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.transfer_ended.v1"
    outcome: TransferOutcome
    reason: str | None
    ended_at: datetime


class BreakGlassUsed(Event):
    """Someone outside the case's access rules opened it under a time-boxed emergency grant; the owner office
    is told at once and a review is due. The justification stays in case-service's audit log."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "grant_id": "3e4f5a6b-7c8d-4e9f-0a1b-2c3d4e5f6a7b",
                    "owner_office_id": "de-berlin",
                    "actor_subject": "karwan.aziz",
                    "actor_office_id": "iq-erbil",
                    "granted_at": "2026-12-01T10:00:00Z",
                    "expires_at": "2026-12-01T14:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.break_glass_used.v1"
    topic: ClassVar[str] = "casebridge.case.events.v1"
    case_id: UUID
    grant_id: UUID
    owner_office_id: str
    actor_subject: str
    actor_office_id: str | None
    granted_at: datetime
    expires_at: datetime

    def aggregate_id(self) -> UUID:
        return self.case_id


class ReturnsSuspended(Event):
    """An organisation suspended its returns to a country (reintegration.md R46): until it lifts the suspension,
    its offices open no return case in pre-departure counselling for a person returning there. The reason is
    read through the case API (`GET /v1/return-suspensions`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "suspension_id": "5b0c8e51-2f4d-4c8a-9d3e-7a1b6c2d9e04",
                    "organisation_id": "iom-germany",
                    "country": "SO",
                    "suspended_by_office_id": "de-berlin",
                    "suspended_at": "2026-12-04T09:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.returns_suspended.v1"
    topic: ClassVar[str] = "casebridge.case.events.v1"
    suspension_id: UUID
    organisation_id: str
    country: str
    suspended_by_office_id: str
    suspended_at: datetime

    def aggregate_id(self) -> UUID:
        return self.suspension_id


class ReturnsResumed(Event):
    """An organisation lifted a suspension of its returns to a country: its offices may open return cases
    there again."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "suspension_id": "5b0c8e51-2f4d-4c8a-9d3e-7a1b6c2d9e04",
                    "organisation_id": "iom-germany",
                    "country": "SO",
                    "lifted_at": "2027-02-01T09:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.returns_resumed.v1"
    topic: ClassVar[str] = "casebridge.case.events.v1"
    suspension_id: UUID
    organisation_id: str
    country: str
    lifted_at: datetime

    def aggregate_id(self) -> UUID:
        return self.suspension_id


class AgeGroup(StrEnum):
    """The age band at case opening (D-core: child/adult and band); `0-17` is a child."""

    CHILD = "0-17"
    ADULT_18_24 = "18-24"
    ADULT_25_34 = "25-34"
    ADULT_35_49 = "35-49"
    ADULT_50_PLUS = "50+"


class ModeOfReturn(StrEnum):
    """How a returnee came back (reintegration.md §5.1; D-RSS: assisted voluntary or other)."""

    AVRR_VOLUNTARY = "avrr_voluntary"
    FORCED_DEPORTED = "forced_deported"
    SPONTANEOUS = "spontaneous"
    OTHER = "other"


class AbsenceBand(StrEnum):
    """The length of absence before return in completed years (D-RSS), never the exact figure."""

    UNDER_1 = "<1"
    YEARS_1_2 = "1-2"
    YEARS_3_5 = "3-5"
    YEARS_6_10 = "6-10"
    OVER_10 = ">10"


def quarter(day: date) -> str:
    """The calendar quarter of a day, as `2026-Q4`: the form of `CaseMonitoringProfile.return_quarter` and of the
    indicators' quarterly cells."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 UTC of the ISO week of `moment` (a naive moment is taken as UTC)."""
    day = (moment if moment.tzinfo is None else moment.astimezone(UTC)).date()
    return datetime.combine(day - timedelta(days=day.weekday()), time(), tzinfo=UTC)


class CaseMonitoringProfile(Event):
    """The pseudonymous (C1) monitoring profile of a case for M&E consumers, on its own topic so that it can be
    ACL'd to them: coarse, banded facts keyed by the case and the beneficiary's surrogate id, never a name or a
    birth date. Each personal field is filled only while a consent in force lets the owner organisation have its
    data category for `m_and_e` (R-C1); null means "not disclosed". Consumers keep the highest `profile_version`
    of a case. The case's timeline is coarsened, never an exact date (a quasi-identifier): `return_quarter` is
    the calendar quarter of the recorded date of return and `days_return_to_plan` the days from it to the first
    plan approval in whole weeks (a multiple of 7; negative when approved before the return; null until both are
    known): the weekly publication already tells in which week each day fell, and an exact gap would pin it. Both, and
    `mode_of_return`, `host_country` and `length_of_absence` (return cases only), are `migration_history`.
    `as_of` is a week, not a moment: the start (Monday 00:00 UTC) of the ISO week the profile was built in, and a
    case's first profile and a profile after a timeline change (arrival, plan approval, return profile) are
    published only in the week after, so that neither `as_of` nor the publication time tells the day of opening or
    of return."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90",
                    "programme": "return_reintegration",
                    "owner_office_id": "de-berlin",
                    "owner_organisation_id": "iom-germany",
                    "profile_version": 1764583200000000,
                    "as_of": "2026-11-30T00:00:00Z",
                    "sex": "female",
                    "age_group": "25-34",
                    "country_of_origin": "SN",
                    "country_of_return": None,
                    "return_quarter": "2026-Q4",
                    "days_return_to_plan": None,
                    "mode_of_return": "avrr_voluntary",
                    "host_country": "DE",
                    "length_of_absence": "3-5",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.monitoring_profile.v1"
    topic: ClassVar[str] = "casebridge.case.monitoring.v1"
    case_id: UUID
    beneficiary_id: UUID
    programme: Programme
    owner_office_id: str
    owner_organisation_id: str | None
    profile_version: int  # monotonic per case: consumers ignore anything not newer than what they hold
    as_of: datetime
    sex: str | None = None  # identity_biodata
    age_group: AgeGroup | None = None  # identity_biodata, at case opening
    country_of_origin: str | None = None  # ISO 3166-1 alpha-2, identity_biodata
    country_of_return: str | None = None  # of return or resettlement (by programme), migration_history
    return_quarter: str | None = Field(default=None, pattern=r"^\d{4}-Q[1-4]$")  # of the return, migration_history
    days_return_to_plan: int | None = None  # from the return to the first plan approval, migration_history
    mode_of_return: ModeOfReturn | None = None  # migration_history
    host_country: str | None = None  # ISO 3166-1 alpha-2, the country returned from, migration_history
    length_of_absence: AbsenceBand | None = None  # migration_history

    @field_validator("as_of")
    @classmethod
    def _a_week(cls, as_of: datetime) -> datetime:
        # floored rather than refused: a profile emitted before as_of became a week still parses, coarsened
        return week_start(as_of)

    def aggregate_id(self) -> UUID:
        return self.case_id


class BeneficiaryErased(Event):
    """A beneficiary's personal data was erased on request: their key is destroyed (crypto-shredding), so every
    copy encrypted under it, in any store or topic, is unreadable. Holders drop what they keep on the cases."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90",
                    "case_ids": ["7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11"],
                    "erased_at": "2026-12-20T10:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.beneficiary.erased.v1"
    topic: ClassVar[str] = "casebridge.beneficiary.events.v1"
    beneficiary_id: UUID
    case_ids: list[UUID]
    erased_at: datetime

    def aggregate_id(self) -> UUID:
        return self.beneficiary_id


class VisitKind(StrEnum):
    """How a follow-up or monitoring contact is held (face to face preferred, reintegration.md L1261)."""

    HOME_VISIT = "home_visit"
    PHONE = "phone"
    OFFICE = "office"


class FollowUpPhase(StrEnum):
    FOLLOW_UP = "follow_up"  # from plan signature (return) or the follow-up stage (resettlement)
    POST_CLOSURE = "post_closure"  # post-closure monitoring (≥ 3 months for a child case)


class CaseFollowUpDue(Event):
    """A planned follow-up visit was not recorded within the allowed days after its date; the owner office is
    reminded once per visit. No outcome and no notes: the case API has them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "visit_id": "4f5a6b7c-8d9e-4f0a-1b2c-3d4e5f6a7b8c",
                    "owner_office_id": "sn-dakar",
                    "phase": "follow_up",
                    "kind": "home_visit",
                    "planned_on": "2026-12-01",
                    "overdue_at": "2026-12-09T00:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.case.follow_up_due.v1"
    topic: ClassVar[str] = "casebridge.case.events.v1"
    case_id: UUID
    visit_id: UUID
    owner_office_id: str
    phase: FollowUpPhase
    kind: VisitKind
    planned_on: date
    overdue_at: datetime

    def aggregate_id(self) -> UUID:
        return self.case_id
