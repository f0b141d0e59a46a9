"""Consent events of case-service (topic ``casebridge.consent.events.v1``, with the escalation of a holder's
missing receipt) and the holders' acknowledgements of a withdrawal (topic ``casebridge.consent.acknowledgements.v1``,
published by every service that holds copies).

The consents of one beneficiary form one aggregate, keyed by ``beneficiary_id`` (a surrogate id, no names), so a
narrowing and the withdrawal that follows it arrive in order. Payloads carry consent terms, never personal data.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from casebridge_common.access import ConsentScope, ConsentStatus, DataCategory, GivenBy, Purpose, Recipients
from casebridge_common.events.envelope import Event

CONSENT_TOPIC = "casebridge.consent.events.v1"
ACKNOWLEDGEMENT_TOPIC = "casebridge.consent.acknowledgements.v1"


class ScopeTerms(BaseModel):
    """One permission of a consent: these categories, for these purposes, to these recipients."""

    model_config = ConfigDict(frozen=True)

    data_categories: list[DataCategory] = Field(min_length=1)
    purposes: list[Purpose] = Field(min_length=1)
    offices: list[str] = Field(default_factory=list)
    organisations: list[str] = Field(default_factory=list)
    organisation_types: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)

    def to_policy(self) -> ConsentScope:
        return ConsentScope(
            categories=frozenset(self.data_categories),
            purposes=frozenset(self.purposes),
            recipients=Recipients(
                offices=frozenset(self.offices),
                organisations=frozenset(self.organisations),
                organisation_types=frozenset(self.organisation_types),
                countries=frozenset(self.countries),
            ),
        )


_SCOPE: dict[str, Any] = {
    "data_categories": ["identity_biodata", "contact", "skills_employment"],
    "purposes": ["referral_service_delivery"],
    "offices": [],
    "organisations": ["cfp-dakar"],
    "organisation_types": [],
    "countries": [],
}
_CONSENT: dict[str, Any] = {
    "consent_id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
    "beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90",
    "case_ids": ["7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11"],
    "owner_office_id": "de-berlin",
}


class ConsentEvent(Event):
    topic: ClassVar[str] = CONSENT_TOPIC
    consent_id: UUID
    beneficiary_id: UUID
    # the beneficiary's cases when the event was written: what holders key their copies on
    case_ids: list[UUID]
    owner_office_id: str

    def aggregate_id(self) -> UUID:
        return self.beneficiary_id


class ConsentGiven(ConsentEvent):
    """A consent was given (or renewed, `renewed` true); from now on it authorises what `scopes` name."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _CONSENT
                | {
                    "status": "given",
                    "renewed": False,
                    "supersedes": None,
                    "scopes": [_SCOPE],
                    "valid_from": "2026-12-01T10:00:00Z",
                    "valid_until": "2027-12-01T10:00:00Z",
                    "given_by": "self",
                    "child_assent": False,
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.consent.given.v1"
    status: ConsentStatus
    renewed: bool
    supersedes: UUID | None
    scopes: list[ScopeTerms]
    valid_from: datetime
    valid_until: datetime | None
    # who consented and whether the child assented: holders need both to apply the guardian rule for a minor
    given_by: GivenBy = GivenBy.SELF
    child_assent: bool = False


class WithdrawalKind(StrEnum):
    WITHDRAWN = "withdrawn"
    NARROWED = "narrowed"
    EXPIRED = "expired"


class ConsentWithdrawn(ConsentEvent):
    """Consent was withdrawn, narrowed or expired. Every holder of copies covered by `withdrawn_scopes` purges or
    redacts them and answers with `casebridge.consent.withdrawal_acknowledged.v1` before `acknowledge_by`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _CONSENT
                | {
                    "withdrawal_id": "6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e",
                    "kind": "withdrawn",
                    "superseded_by": None,
                    "withdrawn_scopes": [_SCOPE],
                    "withdrawn_at": "2026-12-10T09:00:00Z",
                    "acknowledge_by": "2026-12-11T09:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.consent.withdrawn.v1"
    withdrawal_id: UUID
    kind: WithdrawalKind
    superseded_by: UUID | None  # the narrower record now in force, for `narrowed`
    withdrawn_scopes: list[ScopeTerms]
    withdrawn_at: datetime
    acknowledge_by: datetime


class ConsentWithdrawalAcknowledged(Event):
    """A holder purged or redacted its copies after a withdrawal: the receipt the compliance view counts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "withdrawal_id": "6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e",
                    "consent_id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
                    "beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90",
                    "holder": "referral-service",
                    "purged": 0,
                    "redacted": 2,
                    "acknowledged_at": "2026-12-10T09:00:01Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.consent.withdrawal_acknowledged.v1"
    topic: ClassVar[str] = ACKNOWLEDGEMENT_TOPIC
    withdrawal_id: UUID
    consent_id: UUID
    beneficiary_id: UUID
    holder: str  # the service (or partner organisation) that held copies
    purged: int = Field(ge=0)
    redacted: int = Field(ge=0)
    acknowledged_at: datetime

    def aggregate_id(self) -> UUID:
        return self.withdrawal_id

    @classmethod
    def of(
        cls, withdrawn: ConsentWithdrawn, *, holder: str, purged: int, redacted: int, at: datetime
    ) -> "ConsentWithdrawalAcknowledged":
        """The receipt a holder sends for ``withdrawn``."""
        return cls(
            withdrawal_id=withdrawn.withdrawal_id,
            consent_id=withdrawn.consent_id,
            beneficiary_id=withdrawn.beneficiary_id,
            holder=holder,
            purged=purged,
            redacted=redacted,
            acknowledged_at=at,
        )


class ConsentWithdrawalReceiptOverdue(ConsentEvent):
    """A holder of copies sent no receipt for a withdrawal by `acknowledge_by` (data-protection.md §2.4.4): the
    owner office's data controller must follow it up. Emitted once per withdrawal and holder, keyed like the
    withdrawal itself; ids, the holder and the deadline only."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _CONSENT
                | {
                    "withdrawal_id": "6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e",
                    "holder": "scoring-service",
                    "acknowledge_by": "2026-12-11T09:00:00Z",
                    "reported_at": "2026-12-11T09:01:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.consent.withdrawal_receipt_overdue.v1"
    withdrawal_id: UUID
    holder: str  # the service (or partner organisation) whose receipt is missing
    acknowledge_by: datetime
    reported_at: datetime
