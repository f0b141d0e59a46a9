"""Request and response bodies of the case API."""

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from case_service.domain.models import Sex, Stage
from casebridge_common.events.contracts.case import Programme


class RegisterBeneficiary(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "given_name": "Awa",
                    "family_name": "Ndiaye",
                    "sex": "female",
                    "born_on": "1994-03-17",
                    "born_on_is_estimated": False,
                    "nationality": "SN",
                }
            ]
        },
    )

    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    sex: Sex
    born_on: date
    born_on_is_estimated: bool = False
    nationality: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class BeneficiaryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    given_name: str
    family_name: str
    sex: Sex
    born_on: date
    born_on_is_estimated: bool
    nationality: str
    registering_office_id: str
    registered_at: datetime
    version: int


class OpenCase(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90",
                    "programme": "return_reintegration",
                    "assigned_worker": "anna.schmidt",
                }
            ]
        },
    )

    beneficiary_id: UUID
    programme: Programme
    assigned_worker: str | None = Field(default=None, max_length=200)


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    beneficiary_id: UUID
    programme: Programme
    stage: Stage
    owner_office_id: str
    owner_organisation_id: str | None
    assigned_worker: str | None
    opened_at: datetime
    version: int
