"""Request and response bodies of the consent and compliance API."""

from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from case_service.domain.consent import ConsentMethod, HolderState, WithdrawalChannel, WithdrawalStatus
from casebridge_common.access import ConsentStatus, DataCategory, GivenBy, Purpose
from casebridge_common.events.contracts.consent import ScopeTerms, WithdrawalKind
from casebridge_common.http import IsoDateTime

_SCOPE_EXAMPLE: JsonDict = {
    "data_categories": ["identity_biodata", "contact", "skills_employment"],
    "purposes": ["referral_service_delivery"],
    "organisations": ["cfp-dakar"],
}


class ConsentScope(ScopeTerms):
    """One permission: these data categories, for these purposes, to these recipients (any one of which may
    receive). A scope naming no recipient permits nothing."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_SCOPE_EXAMPLE]})


class GiveConsent(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "given_by": "self",
                    "method": "written",
                    "notice_version": "reintegration-consent-notice-2026-01-fr",
                    "evidence_ref": "attachments/7d1e0a52",
                    "scopes": [_SCOPE_EXAMPLE],
                    "valid_until": "2027-12-01T00:00:00Z",
                },
                {
                    "given_by": "parent",
                    "given_by_name": "Mariama Ndiaye",
                    "capacity_assessed_by": "anna.schmidt",
                    "child_assent": True,
                    "child_views": "I want to go to school in Dakar and see my grandmother.",
                    "method": "verbal_in_person",
                    "interpreter": "interpreter-wolof-12",
                    "notice_version": "child-consent-notice-2026-01-wo",
                    "scopes": [_SCOPE_EXAMPLE],
                },
            ]
        },
    )

    given_by: GivenBy
    given_by_name: str | None = Field(default=None, max_length=200, description="the parent or guardian")
    capacity_assessed_by: str | None = Field(
        default=None, max_length=200, description="required when `given_by` is not `self` (R-C5)"
    )
    child_assent: bool = Field(default=False, description="for a minor: the child agreed too (R-K1)")
    child_views: str | None = Field(default=None, max_length=4000, description="the child's views, in their words")
    method: ConsentMethod
    interpreter: str | None = Field(default=None, max_length=200)
    notice_version: str = Field(min_length=1, max_length=200, description="the plain-language notice shown (R-C3)")
    evidence_ref: str | None = Field(default=None, max_length=500, description="the signed form or audio note")
    scopes: list[ConsentScope] = Field(min_length=1, max_length=50)
    valid_from: IsoDateTime | None = Field(default=None, description="defaults to now")
    valid_until: IsoDateTime | None = Field(default=None, description="open-ended when absent")


class RenewConsent(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "valid_until": "2028-12-01T00:00:00Z",
                    "method": "verbal_phone",
                    "notice_version": "reintegration-consent-notice-2026-01-fr",
                }
            ]
        },
    )

    valid_until: IsoDateTime | None = Field(description="the end of the new period; null for open-ended")
    method: ConsentMethod | None = Field(default=None, description="how it was renewed; defaults to the old method")
    notice_version: str | None = Field(default=None, min_length=1, max_length=200)
    evidence_ref: str | None = Field(default=None, max_length=500)


class NarrowConsent(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "scopes": [
                        {
                            "data_categories": ["identity_biodata", "contact"],
                            "purposes": ["referral_service_delivery"],
                            "organisations": ["cfp-dakar"],
                        }
                    ],
                    "evidence_ref": "attachments/9a0b1c2d",
                }
            ]
        },
    )

    scopes: list[ConsentScope] = Field(min_length=1, max_length=50, description="the terms from now on")
    evidence_ref: str | None = Field(default=None, max_length=500)


class ConsentAnswer(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"


class AnswerConsentRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"answer": "given", "method": "written", "evidence_ref": "attachments/4c5d6e7f"},
                {"answer": "refused", "method": "verbal_phone"},
            ]
        },
    )

    answer: ConsentAnswer
    method: ConsentMethod | None = Field(default=None, description="how it was answered; default: the request's")
    evidence_ref: str | None = Field(default=None, max_length=500, description="the signed form or audio note")


class WithdrawConsent(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"channel": "phone"},
                {
                    "channel": "staff",
                    "scopes": [
                        {
                            "data_categories": ["skills_employment"],
                            "purposes": ["referral_service_delivery"],
                            "organisations": ["cfp-dakar"],
                        }
                    ],
                },
            ]
        },
    )

    channel: WithdrawalChannel
    scopes: list[ConsentScope] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="withdraw only these permissions (a narrowing); all of the consent when absent",
    )
    evidence_ref: str | None = Field(default=None, max_length=500)


class ConsentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    beneficiary_id: UUID
    status: ConsentStatus
    given_by: GivenBy
    given_by_name: str | None
    capacity_assessed_by: str | None
    child_assent: bool
    child_views: str | None
    method: ConsentMethod
    interpreter: str | None
    notice_version: str
    evidence_ref: str | None
    scopes: list[ScopeTerms]
    valid_from: IsoDateTime
    valid_until: IsoDateTime | None
    supersedes: UUID | None
    recorded_by: str
    recorded_by_office_id: str
    recorded_at: IsoDateTime
    withdrawn_at: IsoDateTime | None
    withdrawal_channel: WithdrawalChannel | None
    version: int


class ReceiptParty(BaseModel):
    office_id: str
    organisation_id: str | None


class ReceiptSubject(BaseModel):
    pseudonymous_id: UUID = Field(description="the beneficiary's surrogate id; the receipt carries no name")


class ReceiptRecipients(BaseModel):
    offices: list[str]
    organisations: list[str]
    organisation_types: list[str]
    countries: list[str]


class ReceiptValidity(BaseModel):
    valid_from: IsoDateTime
    valid_until: IsoDateTime | None


class ReceiptLinks(BaseModel):
    supersedes: UUID | None = Field(description="the record this one replaced")
    superseded_by: UUID | None = Field(description="the record that replaced this one by renewal or narrowing")
    record: str
    history: str


class ConsentReceipt(BaseModel):
    """A machine-readable consent receipt in the spirit of ISO/IEC TS 27560, one per state of a record."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "@context": [
                        "https://w3id.org/dpv",
                        "https://casebridge.example/ns/consent-receipt/v1",
                    ],
                    "@type": "ConsentReceipt",
                    "receipt_id": "9f0e1d2c-3b4a-5968-8776-a5b4c3d2e1f0",
                    "receipt_version": "casebridge-27560-1",
                    "consent_id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
                    "consent_version": 1,
                    "status": "given",
                    "issued_at": "2026-12-01T10:00:00Z",
                    "recorded_at": "2026-12-01T10:00:00Z",
                    "controller": {"office_id": "de-berlin", "organisation_id": "iom-germany"},
                    "subject": {"pseudonymous_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90"},
                    "given_by": "self",
                    "method": "written",
                    "notice_version": "reintegration-consent-notice-2026-01-fr",
                    "evidence_ref": "attachments/7d1e0a52",
                    "child_assent": False,
                    "purposes": ["referral_service_delivery"],
                    "data_categories": ["contact", "identity_biodata", "skills_employment"],
                    "recipients": {
                        "offices": [],
                        "organisations": ["cfp-dakar"],
                        "organisation_types": [],
                        "countries": [],
                    },
                    "scopes": [_SCOPE_EXAMPLE | {"offices": [], "organisation_types": [], "countries": []}],
                    "validity": {"valid_from": "2026-12-01T10:00:00Z", "valid_until": "2027-12-01T00:00:00Z"},
                    "withdrawn_at": None,
                    "withdrawal_channel": None,
                    "links": {
                        "supersedes": None,
                        "superseded_by": None,
                        "record": "/v1/consents/5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
                        "history": "/v1/beneficiaries/0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90/consents",
                    },
                }
            ]
        },
    )

    context: list[str] = Field(alias="@context")
    type: Literal["ConsentReceipt"] = Field(default="ConsentReceipt", alias="@type")
    receipt_id: UUID = Field(description="stable for one state (consent id and version) of the record")
    receipt_version: str
    consent_id: UUID
    consent_version: int
    status: ConsentStatus
    issued_at: IsoDateTime = Field(description="when the record reached this state")
    recorded_at: IsoDateTime
    controller: ReceiptParty
    subject: ReceiptSubject
    given_by: GivenBy
    method: ConsentMethod
    notice_version: str
    evidence_ref: str | None
    child_assent: bool
    purposes: list[Purpose]
    data_categories: list[DataCategory]
    recipients: ReceiptRecipients
    scopes: list[ScopeTerms]
    validity: ReceiptValidity
    withdrawn_at: IsoDateTime | None
    withdrawal_channel: WithdrawalChannel | None
    links: ReceiptLinks


class HolderAcknowledgement(BaseModel):
    holder: str
    state: HolderState
    expected: bool = Field(description="false for a holder that acknowledged without being on the expected list")
    acknowledged_at: IsoDateTime | None
    purged: int | None
    redacted: int | None
    reported_at: IsoDateTime | None = Field(
        description="when the missing receipt was escalated to the office's data controller (after `acknowledge_by`)"
    )


class WithdrawalRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e",
                    "consent_id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
                    "beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90",
                    "owner_office_id": "de-berlin",
                    "kind": "withdrawn",
                    "superseded_by": None,
                    "withdrawn_scopes": [_SCOPE_EXAMPLE | {"offices": [], "organisation_types": [], "countries": []}],
                    "withdrawn_at": "2026-12-10T09:00:00Z",
                    "acknowledge_by": "2026-12-11T09:00:00Z",
                    "status": "overdue",
                    "holders": [
                        {
                            "holder": "referral-service",
                            "state": "acknowledged",
                            "expected": True,
                            "acknowledged_at": "2026-12-10T09:00:01Z",
                            "purged": 0,
                            "redacted": 2,
                            "reported_at": None,
                        },
                        {
                            "holder": "scoring-service",
                            "state": "overdue",
                            "expected": True,
                            "acknowledged_at": None,
                            "purged": None,
                            "redacted": None,
                            "reported_at": "2026-12-11T09:01:00Z",
                        },
                    ],
                }
            ]
        }
    )

    id: UUID
    consent_id: UUID
    beneficiary_id: UUID
    owner_office_id: str
    kind: WithdrawalKind
    superseded_by: UUID | None
    withdrawn_scopes: list[ScopeTerms]
    withdrawn_at: IsoDateTime
    acknowledge_by: IsoDateTime
    status: WithdrawalStatus
    holders: list[HolderAcknowledgement]
