"""Directory records: organisations and their offices (HSDS `organization` and `location`).

Their ids are the `org_id` and `office_id` claims the identity provider puts into access tokens.
"""

from enum import StrEnum

from sqlmodel import Field, SQLModel

from casebridge_common.db import enum_type


class OrganisationKind(StrEnum):
    INTERNATIONAL_ORGANISATION = "international_organisation"
    GOVERNMENT = "government"
    NGO = "ngo"
    SERVICE_PROVIDER = "service_provider"


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
