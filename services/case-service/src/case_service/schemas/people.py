"""Request and response bodies of a beneficiary's details and of households."""

import re
from enum import StrEnum
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from case_service.domain.models import Sex
from case_service.domain.people import Relationship, ReturnConfiguration
from case_service.schemas.access import Withheld
from casebridge_common.http import IsoDate, IsoDateTime

Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}$", description="ISO 639-1 or 639-3")]
Script = Annotated[str, Field(pattern=r"^[A-Z][a-z]{3}$", description="ISO 15924, e.g. Arab, Ethi, Cyrl")]
PersonName = Annotated[str, Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScriptName(_Strict):
    """The name in another script than the primary (Latin) one."""

    script: Script
    given_name: PersonName
    family_name: PersonName
    transliteration_of: Script | None = Field(
        default=None, description="the script this spelling was transliterated from, when it is not the original"
    )

    @model_validator(mode="after")
    def _other_script(self) -> Self:
        if self.transliteration_of == self.script:
            raise ValueError("a name is not a transliteration of its own script")
        return self


class ContactKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"


class ContactHolder(StrEnum):
    """Whose contact it is: the person's own, or a relative or friend they trust (R-C8)."""

    SELF = "self"
    FAMILY_MEMBER = "family_member"
    TRUSTED_FRIEND = "trusted_friend"


_PATTERNS = {
    ContactKind.PHONE: r"^\+?[0-9][0-9 ()-]{4,29}$",
    ContactKind.EMAIL: r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
}


class Contact(_Strict):
    kind: ContactKind
    value: str = Field(min_length=1, max_length=500)
    holder: ContactHolder = ContactHolder.SELF
    holder_name: PersonName | None = Field(default=None, description="for a relative's or friend's contact")
    relationship: str | None = Field(default=None, max_length=100)
    consented_by_subject: bool = Field(
        default=False,
        description="R-C8: the person agreed that this relative or friend may be contacted; outreach needs it",
    )
    most_trusted: bool = Field(default=False, description="the relative or friend the person trusts most")

    @model_validator(mode="after")
    def _well_formed(self) -> Self:
        pattern = _PATTERNS.get(self.kind)
        if pattern is not None and re.match(pattern, self.value) is None:
            raise ValueError(f"not a valid {self.kind}")
        if self.holder is ContactHolder.SELF and (self.holder_name or self.relationship or self.most_trusted):
            raise ValueError("holder_name, relationship and most_trusted describe someone else's contact")
        return self


class DocumentType(StrEnum):
    PASSPORT = "passport"
    NATIONAL_ID = "national_id"
    BIRTH_CERTIFICATE = "birth_certificate"
    REFUGEE_ID = "refugee_id"
    TRAVEL_DOCUMENT = "travel_document"
    LAISSEZ_PASSER = "laissez_passer"
    RESIDENCE_PERMIT = "residence_permit"
    OTHER = "other"


class IdentityDocument(_Strict):
    document_type: DocumentType
    number: str = Field(min_length=1, max_length=64)
    issuing_country: Country
    issued_on: IsoDate | None = None
    expires_on: IsoDate | None = None

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.issued_on is not None and self.expires_on is not None and self.expires_on <= self.issued_on:
            raise ValueError("a document expires after it is issued")
        return self


def _unique(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} are listed twice")


class BeneficiaryDetails(_Strict):
    """The details beside the primary name, sex, date of birth and nationality."""

    names: list[ScriptName] = Field(default_factory=list, max_length=10)
    languages: list[Language] = Field(default_factory=list, max_length=20)
    contacts: list[Contact] = Field(default_factory=list, max_length=20)
    documents: list[IdentityDocument] = Field(default_factory=list, max_length=20)
    country_of_origin: Country | None = None
    country_of_return: Country | None = None
    country_of_resettlement: Country | None = None
    current_location: str | None = Field(default=None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _no_repeats(self) -> Self:
        _unique([n.script for n in self.names], "scripts")
        _unique(self.languages, "languages")
        _unique([f"{d.document_type}/{d.issuing_country}/{d.number}" for d in self.documents], "documents")
        return self


class UpdateBeneficiary(_Strict):
    """The fields to change; a field left out keeps its value. Lists replace the whole list."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "languages": ["wo", "fr"],
                    "current_location": "Pikine, Dakar",
                    "contacts": [
                        {"kind": "phone", "value": "+221 77 123 45 67"},
                        {
                            "kind": "phone",
                            "value": "+221 76 000 11 22",
                            "holder": "family_member",
                            "holder_name": "Fatou Ndiaye",
                            "relationship": "sister",
                            "consented_by_subject": True,
                            "most_trusted": True,
                        },
                    ],
                }
            ]
        },
    )

    given_name: PersonName | None = None
    family_name: PersonName | None = None
    sex: Sex | None = None
    born_on: IsoDate | None = None
    born_on_is_estimated: bool | None = None
    nationality: Country | None = None
    names: list[ScriptName] | None = Field(default=None, max_length=10)
    languages: list[Language] | None = Field(default=None, max_length=20)
    contacts: list[Contact] | None = Field(default=None, max_length=20)
    documents: list[IdentityDocument] | None = Field(default=None, max_length=20)
    country_of_origin: Country | None = None
    country_of_return: Country | None = None
    country_of_resettlement: Country | None = None
    current_location: str | None = Field(default=None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _something_valid(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        required = {"given_name", "family_name", "sex", "born_on", "born_on_is_estimated", "nationality"}
        required |= {"names", "languages", "contacts", "documents"}
        cleared = sorted(f for f in self.model_fields_set & required if getattr(self, f) is None)
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be null")
        BeneficiaryDetails.model_validate(
            {f: getattr(self, f) for f in self.model_fields_set if f in BeneficiaryDetails.model_fields}
        )
        return self


class ExternalGuardian(_Strict):
    """A guardian who is not a member of the household (reintegration.md, the `Guardian` record)."""

    full_name: PersonName
    relationship: str = Field(min_length=1, max_length=100, examples=["legal_guardian", "aunt"])
    appointing_authority: str | None = Field(default=None, max_length=200)
    decision_reference: str | None = Field(default=None, max_length=200)
    appointed_on: IsoDate | None = None


class Guardian(_Strict):
    """Exactly one of: another member of the household (`beneficiary_id`) or an external person."""

    beneficiary_id: UUID | None = None
    external: ExternalGuardian | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.beneficiary_id is None) == (self.external is None):
            raise ValueError("give either beneficiary_id or external")
        return self


class NewMember(_Strict):
    beneficiary_id: UUID
    relationship_to_head: Relationship
    guardian: Guardian | None = None


class CreateHousehold(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "return_configuration": "family_unit_returning",
                    "members": [
                        {"beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90", "relationship_to_head": "head"},
                        {
                            "beneficiary_id": "5a1d7c2e-9b3f-4e1a-8c6d-2f7e9a0b1c3d",
                            "relationship_to_head": "child",
                            "guardian": {"beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90"},
                        },
                    ],
                }
            ]
        },
    )

    members: list[NewMember] = Field(min_length=1, max_length=50)
    return_configuration: ReturnConfiguration | None = None


class MemberChange(_Strict):
    """A member's new relationship to the head and/or guardian; a field left out keeps its value, `guardian`
    null removes it (an adult's)."""

    beneficiary_id: UUID
    relationship_to_head: Relationship | None = None
    guardian: Guardian | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set - {"beneficiary_id"}:
            raise ValueError("name relationship_to_head or guardian")
        if "relationship_to_head" in self.model_fields_set and self.relationship_to_head is None:
            raise ValueError("relationship_to_head cannot be null")
        return self


class UpdateHousehold(_Strict):
    """The changes, applied together and checked on the household they make: members removed, members added,
    members changed (not one removed or added in the same request), and the household's own fields. A field
    left out keeps its value; `return_configuration` null clears it. A new head means changing the old head's
    relationship in the same request."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "return_configuration": "family_stayed_behind",
                    "add_members": [
                        {
                            "beneficiary_id": "8e4c2b1a-7d3f-4a6e-9c5b-1f2e3d4c5b6a",
                            "relationship_to_head": "child",
                            "guardian": {"beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90"},
                        }
                    ],
                    "change_members": [
                        {"beneficiary_id": "5a1d7c2e-9b3f-4e1a-8c6d-2f7e9a0b1c3d", "relationship_to_head": "stepchild"}
                    ],
                }
            ]
        },
    )

    return_configuration: ReturnConfiguration | None = None
    add_members: list[NewMember] = Field(default_factory=list, max_length=50)
    remove_members: list[UUID] = Field(default_factory=list, max_length=50)
    change_members: list[MemberChange] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("name at least one change")
        return self


class MemberRead(BaseModel):
    beneficiary_id: UUID
    relationship_to_head: Relationship
    is_minor: bool
    guardian: Guardian | None = None


class HouseholdRead(BaseModel):
    id: UUID
    registering_office_id: str
    return_configuration: ReturnConfiguration | None = None
    members: list[MemberRead] | None = Field(
        default=None,
        description="absent when `household` is withheld; for an office that sees the household through cases of "
        "its members, only the members whose case it may see with `household` (a guardian it may not see is left "
        "out of `guardian`)",
    )
    created_at: IsoDateTime
    version: int
    withheld: list[Withheld] = Field(default_factory=list, description="categories the caller may not see")
