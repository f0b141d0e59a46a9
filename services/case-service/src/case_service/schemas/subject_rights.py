"""Request and response bodies of the data-subject rights API: erasure, legal holds, the access report."""

from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from case_service.domain.assessments import AssessmentKind, DraftedIn, PlanStatus
from case_service.domain.assistance import AssistanceStatus, AssistanceType, Dimension, Modality
from case_service.domain.consent import ConsentMethod
from case_service.domain.documents import DocumentKind, MediaType
from case_service.domain.follow_ups import Schedule, VisitOutcome, VisitStatus
from case_service.domain.models import Sex
from case_service.domain.stages import Stage
from casebridge_common.access import ConsentStatus, GivenBy
from casebridge_common.events.contracts.case import FollowUpPhase, Programme, VisitKind
from casebridge_common.http import IsoDate, IsoDateTime


class RequestErasure(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reason": "The returnee asked in writing that their data be erased after closure.",
                    "request_reference": "DSR-2026-0042",
                }
            ]
        },
    )

    reason: str = Field(min_length=1, max_length=2000, description="why, in the data controller's words")
    request_reference: str = Field(min_length=1, max_length=200, description="the request's reference (form, letter)")


class ErasureRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90",
                    "reason": "The returnee asked in writing that their data be erased after closure.",
                    "request_reference": "DSR-2026-0042",
                    "requested_by": "de-berlin-dpo",
                    "requested_by_office_id": "de-berlin",
                    "case_ids": ["7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11"],
                    "erased_at": "2026-12-20T10:00:00Z",
                }
            ]
        },
    )

    beneficiary_id: UUID
    reason: str
    request_reference: str
    requested_by: str
    requested_by_office_id: str
    case_ids: list[UUID]
    erased_at: IsoDateTime


class PlaceLegalHold(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"reason": "Witness in a pending trafficking prosecution", "authority_reference": "StA Berlin 12/26"}
            ]
        },
    )

    reason: str = Field(min_length=1, max_length=2000)
    authority_reference: str | None = Field(default=None, max_length=200)


class LegalHoldRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    beneficiary_id: UUID
    reason: str
    authority_reference: str | None
    placed_by: str
    placed_by_office_id: str
    placed_at: IsoDateTime
    released_by: str | None
    released_at: IsoDateTime | None


class BeneficiaryRecord(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    given_name: str
    family_name: str
    sex: Sex
    born_on: IsoDate
    born_on_is_estimated: bool
    nationality: str
    registering_office_id: str
    registering_organisation_id: str | None
    registered_at: IsoDateTime


class AssessmentRecord(BaseModel):
    id: UUID
    kind: AssessmentKind
    version: int
    is_sensitive: bool
    data: dict[str, object] | None = Field(description="null when erased or withheld from this report")
    erased: bool = Field(description="sealed under the person's destroyed key: unreadable for good")
    recorded_by: str
    recorded_at: IsoDateTime


class NoteRecord(BaseModel):
    id: UUID
    body: str | None = Field(description="null when erased or withheld from this report")
    is_confidential: bool
    erased: bool
    author: str
    written_at: IsoDateTime


class PlanRecord(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    version: int
    status: PlanStatus
    drafted_in: DraftedIn
    content: dict[str, object]
    drafted_by: str
    drafted_at: IsoDateTime
    approved_by: str | None
    approved_at: IsoDateTime | None


class AssistanceRecord(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    assistance_type: AssistanceType
    dimension: Dimension
    modality: Modality
    amount: Decimal | None
    currency: str | None
    provider: str | None
    status: AssistanceStatus
    tranches: list[dict[str, str | int | None]]
    created_at: IsoDateTime


class DocumentRecord(BaseModel):
    """A document's metadata, never its content; soft-deleted documents are listed too (their sealed data stays
    until erasure)."""

    id: UUID
    kind: DocumentKind
    media_type: MediaType
    filename: str | None = Field(default=None, description="null when erased or withheld from this report")
    description: str | None = None
    size_bytes: int
    sha256: str
    erased: bool
    uploaded_by: str
    uploaded_at: IsoDateTime
    deleted_by: str | None = None
    deleted_at: IsoDateTime | None = None


class FollowUpRecord(BaseModel):
    id: UUID
    phase: FollowUpPhase
    schedule: Schedule
    anchor_on: IsoDate
    planned_on: IsoDate
    kind: VisitKind
    status: VisitStatus
    held_on: IsoDate | None = None
    outcome: VisitOutcome | None = Field(default=None, description="null when not recorded or withheld")
    notes: str | None = Field(default=None, description="null when erased or withheld from this report")
    psychosocial_notes: str | None = None
    is_overdue: bool
    overdue_at: IsoDateTime | None = None
    erased: bool
    created_by: str
    created_at: IsoDateTime
    recorded_by: str | None = None
    recorded_at: IsoDateTime | None = None
    version: int


class CaseRecord(BaseModel):
    id: UUID
    programme: Programme
    stage: Stage
    owner_office_id: str
    opened_at: IsoDateTime
    assessments: list[AssessmentRecord]
    plans: list[PlanRecord]
    notes: list[NoteRecord]
    assistance: list[AssistanceRecord]
    documents: list[DocumentRecord]
    follow_ups: list[FollowUpRecord]


class WithdrawalRecord(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    kind: str
    withdrawn_scopes: list[dict[str, object]]
    withdrawn_at: IsoDateTime


class ConsentHistoryRecord(BaseModel):
    """One version of a consent; the list is the person's consent history, oldest first."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    status: ConsentStatus
    given_by: GivenBy
    given_by_name: str | None
    child_assent: bool
    child_views: str | None
    method: ConsentMethod
    notice_version: str
    evidence_ref: str | None
    scopes: list[dict[str, object]]
    valid_from: IsoDateTime
    valid_until: IsoDateTime | None
    supersedes: UUID | None
    recorded_by: str
    recorded_by_office_id: str
    recorded_at: IsoDateTime
    withdrawn_at: IsoDateTime | None
    withdrawal_channel: str | None
    withdrawals: list[WithdrawalRecord]


class Disclosure(BaseModel):
    """Who outside the owning office received or read the person's data: what, when, and on what basis."""

    kind: str = Field(description="read | share | referral | transfer | disclose | export | break_glass")
    case_id: UUID | None
    recipient_office_id: str | None
    recipient_organisation_id: str | None
    categories: list[str]
    purpose: str | None
    at: IsoDateTime
    until: IsoDateTime | None = Field(default=None, description="when a share or referral ended, if it has")
    basis: str | None = Field(description="the consent (or share, referral, grant) id that authorised it")
    status: str | None = None


class AccessReport(BaseModel):
    """Everything CaseBridge's case-service holds about one person, and every disclosure of it (§8 access)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90",
                    "generated_at": "2026-12-20T10:00:00Z",
                    "generated_by": "de-berlin-dpo",
                    "generated_by_office_id": "de-berlin",
                    "beneficiary": {
                        "id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90",
                        "given_name": "Awa",
                        "family_name": "Ndiaye",
                        "sex": "female",
                        "born_on": "1994-03-17",
                        "born_on_is_estimated": False,
                        "nationality": "SN",
                        "registering_office_id": "de-berlin",
                        "registering_organisation_id": "iom-germany",
                        "registered_at": "2026-12-01T10:00:00Z",
                    },
                    "erasure": None,
                    "legal_holds": [],
                    "cases": [],
                    "consents": [],
                    "disclosures": [
                        {
                            "kind": "share",
                            "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                            "recipient_office_id": "sn-dakar",
                            "recipient_organisation_id": None,
                            "categories": [],
                            "purpose": None,
                            "at": "2026-12-02T10:00:00Z",
                            "until": None,
                            "basis": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                            "status": "view",
                        }
                    ],
                    "withheld": [],
                }
            ]
        }
    )

    beneficiary_id: UUID
    generated_at: IsoDateTime
    generated_by: str
    generated_by_office_id: str
    beneficiary: BeneficiaryRecord
    erasure: ErasureRead | None
    legal_holds: list[LegalHoldRead]
    cases: list[CaseRecord]
    consents: list[ConsentHistoryRecord]
    disclosures: list[Disclosure]
    withheld: list[str] = Field(
        description="sections left out of this report: sensitive content needs the cases.sensitive:read scope"
    )
