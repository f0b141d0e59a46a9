"""Beneficiaries (returnees, refugees) and their cases."""

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, Index
from sqlmodel import Field, SQLModel

from casebridge_common.db import enum_type
from casebridge_common.events.contracts.case import Programme


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Stage(StrEnum):
    """Where a case stands. Each programme starts in its first stage (reintegration.md, resettlement.md)."""

    PRE_DEPARTURE_COUNSELLING = "pre_departure_counselling"
    REFERRAL_SUBMISSION = "referral_submission"


FIRST_STAGE: dict[Programme, Stage] = {
    Programme.RETURN_REINTEGRATION: Stage.PRE_DEPARTURE_COUNSELLING,
    Programme.RESETTLEMENT_INTEGRATION: Stage.REFERRAL_SUBMISSION,
}


class Beneficiary(SQLModel, table=True):
    """A returnee or a refugee, registered by one office."""

    __tablename__ = "beneficiaries"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    given_name: str
    family_name: str
    sex: Sex = Field(sa_type=enum_type(Sex))
    born_on: date
    born_on_is_estimated: bool = False
    nationality: str = Field(max_length=2)
    registering_office_id: str = Field(index=True)
    registering_organisation_id: str | None = None
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    version: int = 1


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_owner_opened", "owner_office_id", "opened_at", "id"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    beneficiary_id: UUID = Field(foreign_key="beneficiaries.id", index=True)
    programme: Programme = Field(sa_type=enum_type(Programme))
    stage: Stage = Field(sa_type=enum_type(Stage))
    owner_office_id: str
    owner_organisation_id: str | None = None
    assigned_worker: str | None = None
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    version: int = 1


def open_case_for(
    beneficiary: Beneficiary,
    *,
    programme: Programme,
    office_id: str,
    organisation_id: str | None,
    assigned_worker: str | None,
    now: datetime,
) -> Case:
    return Case(
        beneficiary_id=beneficiary.id,
        programme=programme,
        stage=FIRST_STAGE[programme],
        owner_office_id=office_id,
        owner_organisation_id=organisation_id,
        assigned_worker=assigned_worker,
        opened_at=now,
    )
