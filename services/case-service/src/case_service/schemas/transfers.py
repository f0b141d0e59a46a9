"""Request and response bodies of cross-border case transfers."""

from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from case_service.domain.stages import Stage
from case_service.domain.transfers import CaseTransfer, TransferStatus
from case_service.schemas import AssessmentRead, AssistanceRead, BeneficiaryRead, NoteRead, PlanRead
from casebridge_common.access import DataCategory, Purpose
from casebridge_common.events.contracts.case import Programme
from casebridge_common.http import IsoDateTime

_OFFICE = r"^[a-z0-9][a-z0-9-]{1,62}$"
PREVIEW_NOTES = 50


class ProposeTransfer(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "to_office_id": "sn-dakar",
                    "to_organisation_id": "iom-senegal",
                    "to_country": "SN",
                    "respond_by": "2026-12-08T10:00:00Z",
                }
            ]
        },
    )

    to_office_id: str = Field(pattern=_OFFICE, description="the origin-country office that is to own the case")
    to_organisation_id: str = Field(pattern=_OFFICE)
    to_country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    respond_by: AwareDatetime | None = Field(
        default=None, description="the recipient's deadline; by default the service's setting (7 days)"
    )


class DeclineTransfer(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "outside_area"}]})

    reason: str = Field(min_length=1, max_length=500)


class CancelTransfer(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "return_postponed"}]})

    reason: str | None = Field(default=None, min_length=1, max_length=500)


class WithheldRead(BaseModel):
    category: DataCategory
    reason: str = Field(description="the access policy's reason, e.g. `consent-does-not-cover`")


class ManifestRead(BaseModel):
    """What leaves with the case, as previewed when the transfer was proposed (the manifest shown is the
    manifest sent)."""

    purpose: Purpose
    categories: list[DataCategory]
    withheld: list[WithheldRead]
    consent_ids: list[UUID]


class TransferRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a",
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "from_office_id": "de-berlin",
                    "to_office_id": "sn-dakar",
                    "to_organisation_id": "iom-senegal",
                    "to_country": "SN",
                    "status": "proposed",
                    "proposed_by": "de-berlin-system",
                    "proposed_at": "2026-12-01T10:00:00Z",
                    "remind_at": "2026-12-05T10:00:00Z",
                    "reminded_at": None,
                    "respond_by": "2026-12-08T10:00:00Z",
                    "decided_by": None,
                    "decided_at": None,
                    "reason": None,
                    "manifest": {
                        "purpose": "cross_border_handover",
                        "categories": ["identity_biodata", "reintegration_plan"],
                        "withheld": [{"category": "health_clinical", "reason": "consent-does-not-cover"}],
                        "consent_ids": ["5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"],
                    },
                    "version": 1,
                }
            ]
        }
    )

    id: UUID
    case_id: UUID
    from_office_id: str
    to_office_id: str
    to_organisation_id: str
    to_country: str
    status: TransferStatus
    proposed_by: str
    proposed_at: IsoDateTime
    remind_at: IsoDateTime
    reminded_at: IsoDateTime | None
    respond_by: IsoDateTime
    decided_by: str | None
    decided_at: IsoDateTime | None
    reason: str | None
    manifest: ManifestRead
    version: int

    @classmethod
    def of(cls, transfer: CaseTransfer) -> "TransferRead":
        return cls.model_validate(
            {**transfer.model_dump(exclude={"manifest"}), "manifest": transfer.terms().model_dump()}
        )


class CaseSummary(BaseModel):
    """The case without personal data: enough for the recipient to know what it is asked to take on."""

    id: UUID
    programme: Programme
    stage: Stage
    opened_at: IsoDateTime
    owner_office_id: str


class TransferPreview(BaseModel):
    """The consent-projected preview (referrals.md §8.2 RECEIVED): the sections (data categories) that would move
    to the recipient, those withheld and why, and, while the transfer is pending and the consent still covers it,
    the records themselves with only the consented fields. Records with nothing consented are left out."""

    case: CaseSummary
    sections: list[DataCategory]
    withheld: list[WithheldRead]
    consent_still_covers: bool
    beneficiary: BeneficiaryRead | None = None
    assessments: list[AssessmentRead] = Field(default_factory=list, description="the latest of each kind")
    plans: list[PlanRead] = Field(default_factory=list)
    assistance: list[AssistanceRead] = Field(default_factory=list)
    notes: list[NoteRead] = Field(default_factory=list, description=f"the newest {PREVIEW_NOTES}")


class TransferDetail(TransferRead):
    preview: TransferPreview
