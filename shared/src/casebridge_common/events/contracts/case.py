"""Events of case-service: topics ``casebridge.case.events.v1`` and ``casebridge.beneficiary.events.v1``."""

from datetime import datetime
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
