"""Events of case-service: topics ``casebridge.case.events.v1`` and ``casebridge.beneficiary.events.v1``."""

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import ConfigDict

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
