from pydantic import BaseModel, ConfigDict

from referral_service.domain.models import OrganisationKind


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: OrganisationKind
    country: str
    website: str | None


class OfficeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organisation_id: str
    name: str
    country: str
    city: str
    languages: str


class DirectoryImport(BaseModel):
    """The demo/seed document: organisations and their offices."""

    model_config = ConfigDict(extra="forbid")

    organisations: list[OrganisationRead]
    offices: list[OfficeRead]
