"""Bodies of the access endpoints (shares, break-glass, disclosure preview) and the `withheld` list every
projected read carries."""

from typing import Annotated, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from casebridge_common.access import DataCategory, Purpose, Reason, ShareMode
from casebridge_common.http import IsoDateTime, Page

T = TypeVar("T")
BREAK_GLASS_MIN_JUSTIFICATION = 20


class Withheld(BaseModel):
    """A data category the caller may not see here, and the policy's reason."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"category": "health_clinical", "reason": "no-consent"}]})

    category: DataCategory
    reason: Reason


class ProjectedPage(Page[T], Generic[T]):
    """A page of a case's records as the caller may see them, with the categories withheld from it."""

    withheld: list[Withheld] = Field(default_factory=list)


class ShareCase(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"office_id": "sn-dakar", "mode": "view", "expires_at": "2027-03-01T00:00:00Z"}]
        },
    )

    office_id: str = Field(min_length=1, max_length=200)
    mode: ShareMode
    expires_at: IsoDateTime | None = Field(default=None, description="the share ends by itself then (RFC 3339, UTC)")


class ShareRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    case_id: UUID
    office_id: str
    mode: ShareMode
    granted_by: str
    granted_at: IsoDateTime
    expires_at: IsoDateTime | None
    revoked_at: IsoDateTime | None
    active: bool


class BreakGlass(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"justification": "Returnee collapsed at the Erbil office; need medication history for the ambulance"}
            ]
        },
    )

    justification: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=BREAK_GLASS_MIN_JUSTIFICATION, max_length=2000)
    ] = Field(description="why the case must be opened now; kept in the audit log")


class BreakGlassRead(BaseModel):
    id: UUID
    case_id: UUID
    subject: str
    office_id: str | None
    justification: str
    granted_at: IsoDateTime
    expires_at: IsoDateTime


class DisclosedCategory(BaseModel):
    category: DataCategory
    fields: list[str] = Field(description="`section.field` names of the case file that would leave")
    consent_id: UUID | None = Field(description="the consent record that authorises it")


class WithheldCategory(BaseModel):
    category: DataCategory
    reason: Reason
    fields: list[str]
    consent_id: UUID | None = Field(default=None, description="the consent that fell short, where there is one")


class Recipient(BaseModel):
    office_id: str | None
    organisation_id: str | None
    organisation_type: str | None
    country: str | None


class DisclosurePreview(BaseModel):
    """The consent dry-run (data-protection.md §2.5): exactly what would leave, and what would not and why."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "purpose": "case_management",
                    "recipient": {
                        "office_id": "sn-dakar",
                        "organisation_id": None,
                        "organisation_type": None,
                        "country": None,
                    },
                    "disclosed": [
                        {
                            "category": "identity_biodata",
                            "fields": ["beneficiary.given_name", "beneficiary.family_name"],
                            "consent_id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
                        }
                    ],
                    "withheld": [
                        {"category": "health_clinical", "reason": "consent-does-not-cover", "fields": []},
                    ],
                }
            ]
        }
    )

    case_id: UUID
    purpose: Purpose
    recipient: Recipient
    disclosed: list[DisclosedCategory]
    withheld: list[WithheldCategory]
