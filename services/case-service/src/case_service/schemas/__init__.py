"""Request and response bodies of the case API."""

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from case_service.domain.assessments import (
    AssessmentKind,
    BestInterestsDecision,
    ClosureReason,
    ClosureType,
    DraftedIn,
    HealthReturnDecision,
    HowAcquired,
    PlanStatus,
    ScreeningPhase,
    ScreeningType,
    VulnerabilityCategory,
    VulnerabilityNature,
)
from case_service.domain.assistance import AssistanceStatus, AssistanceType, Dimension, Modality
from case_service.domain.models import AvrrCategory, ReturnIntendedDuration, Sex
from case_service.domain.stages import Attestation, ClosureStartReason, ReassessmentReason, Stage, Track, TrackStage
from case_service.schemas.access import Withheld
from case_service.schemas.people import BeneficiaryDetails, Contact, Country, IdentityDocument, ScriptName
from casebridge_common.events.contracts.case import ModeOfReturn, Programme
from casebridge_common.http import IsoDate, IsoDateTime


class RegisterBeneficiary(BeneficiaryDetails):
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
                    "names": [{"script": "Arab", "given_name": "عوا", "family_name": "انجاي"}],
                    "languages": ["wo", "fr"],
                    "contacts": [{"kind": "phone", "value": "+49 151 2345 6789"}],
                    "documents": [
                        {
                            "document_type": "passport",
                            "number": "A01234567",
                            "issuing_country": "SN",
                            "expires_on": "2029-05-31",
                        }
                    ],
                    "country_of_origin": "SN",
                    "country_of_return": "SN",
                    "current_location": "Berlin-Spandau reception centre",
                }
            ]
        },
    )

    given_name: str = Field(min_length=1, max_length=200, description="the primary name, in Latin script")
    family_name: str = Field(min_length=1, max_length=200)
    sex: Sex
    born_on: IsoDate
    born_on_is_estimated: bool = False
    nationality: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    confirm_not_duplicate: bool = Field(
        default=False,
        description="register even though `possible-duplicate` named likely matches (the worker checked them)",
    )


class BeneficiaryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    given_name: str | None = None
    family_name: str | None = None
    sex: Sex | None = None
    born_on: IsoDate | None = None
    born_on_is_estimated: bool | None = None
    nationality: str | None = None
    names: list[ScriptName] | None = None
    languages: list[str] | None = None
    contacts: list[Contact] | None = None
    documents: list[IdentityDocument] | None = None
    country_of_origin: str | None = None
    country_of_return: str | None = None
    country_of_resettlement: str | None = None
    current_location: str | None = None
    registering_office_id: str
    registered_at: IsoDateTime
    version: int
    withheld: list[Withheld] = Field(default_factory=list, description="categories the caller may not see")


# One decimal, as stored (4 years is "4.0" in every answer)
YearsOfAbsence = Annotated[
    Decimal, Field(ge=0, le=100, max_digits=4, decimal_places=1), AfterValidator(lambda d: d.quantize(Decimal("0.1")))
]


class ReturnProfile(BaseModel):
    """The return profile of a return & reintegration case (reintegration.md §5.1), all `migration_history`;
    a resettlement case has none. `returned_on` is recorded on entering `arrived` when not given before."""

    mode_of_return: ModeOfReturn | None = None
    avrr_category: AvrrCategory | None = Field(default=None, description="for an assisted voluntary return")
    return_intended_duration: ReturnIntendedDuration | None = None
    host_country: Country | None = Field(default=None, description="the country returned from, ISO 3166-1 alpha-2")
    length_of_absence_years: YearsOfAbsence | None = Field(default=None, description="years abroad, 0 to 100")
    returned_on: IsoDate | None = Field(default=None, description="the date of return; not in the future")


class OpenCase(ReturnProfile):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "beneficiary_id": "0b7e2f1c-5d9a-4e7b-9a51-2f6c1d3e8a90",
                    "programme": "return_reintegration",
                    "assigned_worker": "anna.schmidt",
                    "mode_of_return": "avrr_voluntary",
                    "avrr_category": "migrant_worker_end_of_contract",
                    "return_intended_duration": "permanent",
                    "host_country": "DE",
                    "length_of_absence_years": "4.5",
                }
            ]
        },
    )

    beneficiary_id: UUID
    programme: Programme
    assigned_worker: str | None = Field(default=None, max_length=200)


class UpdateCase(ReturnProfile):
    """The plain fields of a case that no stage transition drives; a field left out keeps its value, null
    clears it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"assigned_worker": "moussa.diop"}, {"mode_of_return": "forced_deported"}]},
    )

    assigned_worker: str | None = Field(
        default=None, min_length=1, max_length=200, description="null unassigns the case"
    )

    @model_validator(mode="after")
    def _something(self) -> "UpdateCase":
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    beneficiary_id: UUID
    programme: Programme
    stage: Stage
    owner_office_id: str
    owner_organisation_id: str | None
    assigned_worker: str | None
    opened_at: IsoDateTime
    version: int
    stage_changed_at: IsoDateTime | None
    held_from_stage: Stage | None
    hold_reason: str | None = None
    health_track: TrackStage | None = None
    pdo_track: TrackStage | None
    documents_track: TrackStage | None
    vulnerability_categories: list[str] | None = Field(
        default=None, description="absent when `vulnerability_results` is withheld"
    )
    mode_of_return: ModeOfReturn | None = Field(default=None, description="absent when `migration_history` is withheld")
    avrr_category: AvrrCategory | None = None
    return_intended_duration: ReturnIntendedDuration | None = None
    host_country: str | None = None
    length_of_absence_years: Decimal | None = None
    returned_on: IsoDate | None = None
    withheld: list[Withheld] = Field(
        default_factory=list, description="data categories the caller may not see, each with the policy's reason"
    )


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class CloseCase(_Command):
    """The closure record (reintegration.md §11): reason, type, exit review and hand-off."""

    closure_reason: ClosureReason
    closure_type: ClosureType
    early_exit_reason: Text | None = None
    exit_interview_on: IsoDate | None = None
    closing_assessment: Text | None = None
    plan_review: Text | None = None
    hand_off: Text | None = Field(default=None, description="onward referrals for a warm hand-off")
    best_interests_determination_reference: Name | None = None


class ChangeStage(_Command):
    """Move the case to `to_stage`, or one sub-track of a resettlement case (`track`) to `to_track_stage`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "to_stage": "arrived",
                    "attestations": ["handover_package_received_or_waived", "voluntariness_attested"],
                },
                {"track": "health", "to_track_stage": "cleared"},
                {
                    "to_stage": "closed",
                    "closure": {
                        "closure_reason": "support_duration_ended",
                        "closure_type": "planned",
                        "exit_interview_on": "2027-11-02",
                        "closing_assessment": "Stable income from the tailoring shop.",
                    },
                },
            ]
        },
    )

    to_stage: Stage | None = None
    track: Track | None = None
    to_track_stage: TrackStage | None = None
    reason: Text | None = Field(default=None, description="free-text reason; required to put a case on hold")
    attestations: list[Attestation] = Field(default_factory=list, max_length=20)
    reassessment_reason: ReassessmentReason | None = None
    closure_start_reason: ClosureStartReason | None = None
    closure: CloseCase | None = None

    @model_validator(mode="after")
    def _one_target(self) -> "ChangeStage":
        if (self.to_stage is None) == (self.track is None and self.to_track_stage is None):
            raise ValueError("give either to_stage, or track with to_track_stage")
        if (self.track is None) != (self.to_track_stage is None):
            raise ValueError("track and to_track_stage go together")
        return self


class VulnerabilityScreening(_Command):
    kind: Literal[AssessmentKind.VULNERABILITY_SCREENING]
    assessment_type: ScreeningType
    phase: ScreeningPhase
    categories: list[VulnerabilityCategory] = Field(max_length=40)
    vulnerability_nature: list[VulnerabilityNature] = Field(default_factory=list, max_length=2)
    requires_immediate_intervention: bool = False
    requires_long_term_response: bool = False
    followup_screening_due_on: IsoDate | None = None
    shared_with_origin_consent: bool = False
    notes: Text | None = None


class NeedsAssessment(_Command):
    kind: Literal[AssessmentKind.NEEDS]
    economic: Text | None = None
    social: Text | None = None
    psychosocial: Text | None = None
    legal: Text | None = None
    immediate_needs: Text | None = None

    @model_validator(mode="after")
    def _some_need(self) -> "NeedsAssessment":
        if not any((self.economic, self.social, self.psychosocial, self.legal, self.immediate_needs)):
            raise ValueError("a needs assessment records at least one dimension")
        return self


class Skill(_Command):
    skill: Name
    how_acquired: HowAcquired


class WorkExperience(_Command):
    occupation: Name
    years: float = Field(ge=0, le=80)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class SkillsAssessment(_Command):
    kind: Literal[AssessmentKind.SKILLS]
    education_level_isced: int | None = Field(default=None, ge=0, le=8)
    work_experience: list[WorkExperience] = Field(default_factory=list, max_length=50)
    skills: list[Skill] = Field(default_factory=list, max_length=100)
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]] = Field(default_factory=list, max_length=20)
    aspirations: Text | None = None
    fit_to_work: bool = True


class HealthSummary(_Command):
    """Sensitive (C3): readable only with `cases.sensitive:read`."""

    kind: Literal[AssessmentKind.HEALTH]
    summary: Text
    return_decision: HealthReturnDecision | None = None
    needs_continuity_of_care: bool = False
    life_saving_treatment_unavailable_in_origin: bool = False


class RiskAssessment(_Command):
    """R14: risk assessment with the individual security plan."""

    kind: Literal[AssessmentKind.RISK]
    risks: list[Text] = Field(min_length=1, max_length=50)
    mitigation: Text
    security_plan: Text
    responsible: Name
    review_on: IsoDate | None = None


class BestInterestsDetermination(_Command):
    kind: Literal[AssessmentKind.BEST_INTERESTS_DETERMINATION]
    determined_on: IsoDate
    decision: BestInterestsDecision
    child_views_recorded: bool
    reference: Name


RecordAssessment = Annotated[
    VulnerabilityScreening
    | NeedsAssessment
    | SkillsAssessment
    | HealthSummary
    | RiskAssessment
    | BestInterestsDetermination,
    Field(discriminator="kind"),
]


class AssessmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    case_id: UUID
    kind: AssessmentKind
    version: int
    is_sensitive: bool
    data: dict[str, object] | None = Field(
        description="the findings the caller may see; withheld fields are left out, null when none is left"
    )
    erased: bool = Field(default=False, description="the person's data was erased on request: the findings are gone")
    recorded_by: str
    recorded_at: IsoDateTime
    withheld: list[Withheld] = Field(default_factory=list)


class PlanAssistanceType(StrEnum):
    """Annex 3 section 2, longer-term assistance."""

    CASH_FOR_WORK = "cash_for_work"
    INCOME_GENERATING_ACTIVITY = "income_generating_activity"
    JOB_PLACEMENT = "job_placement"
    VOCATIONAL_TRAINING = "vocational_training"
    HOUSING_SUPPORT = "housing_support"
    MEDICAL_SUPPORT = "medical_support"
    EDUCATIONAL_SUPPORT = "educational_support"
    SKILLS_DEVELOPMENT = "skills_development"
    LEGAL_SERVICES = "legal_services"
    SOCIAL_PROTECTION_SCHEMES = "social_protection_schemes"
    CHILD_CARE = "child_care"
    SPECIAL_SECURITY_MEASURES = "special_security_measures"
    INDIVIDUAL_AND_FAMILY_LEVEL_ACTIVITIES = "individual_and_family_level_activities"
    COMMUNITY_LEVEL_ACTIVITIES = "community_level_activities"
    OTHER = "other"


class IncomeGeneratingSubType(StrEnum):
    INDIVIDUAL_MICROBUSINESS = "individual_microbusiness"
    COLLECTIVE_PROJECT = "collective_project"
    COMMUNITY_PROJECT = "community_project"
    OTHER = "other"


class ImmediateAssistance(_Command):
    cash_assistance: bool = False
    basic_needs: bool = False
    accommodation: bool = False
    medical: bool = False
    other: Name | None = None


class PlanItem(_Command):
    type: PlanAssistanceType
    income_generating_sub_type: IncomeGeneratingSubType | None = None
    medical_target: list[Literal["returnee", "family"]] = Field(default_factory=list, max_length=2)
    needs_referral: bool = False
    specify: Text | None = None


class GrantLine(_Command):
    description: Name
    estimated_cost: float = Field(ge=0, allow_inf_nan=False)


class PlanReferral(_Command):
    agency: Name
    assistance_to_be_provided: Text
    referral_id: UUID | None = Field(default=None, description="the referral in referral-service, once sent")
    item: int | None = Field(
        default=None, ge=0, description="the plan item this referral serves: its index in this version's `items`"
    )


class BaselineScores(_Command):
    economic: float = Field(ge=0, le=1)
    social: float = Field(ge=0, le=1)
    psychosocial: float = Field(ge=0, le=1)
    composite: float = Field(ge=0, le=1)


class CommunityMember(_Command):
    name: Name
    role: Name


class Signature(_Command):
    name: Name
    signed_on: IsoDate


class PlanContent(_Command):
    """The Annex 3 reintegration plan template, plus the plan content the handbook asks for elsewhere (§8.2)."""

    place_of_return: Name
    summary_economic: Text | None = None
    summary_social: Text | None = None
    summary_psychosocial: Text | None = None
    immediate_assistance: ImmediateAssistance = Field(default_factory=ImmediateAssistance)
    items: list[PlanItem] = Field(default_factory=list, max_length=50)
    grant_currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217")
    grant_lines: list[GrantLine] = Field(default_factory=list, max_length=100)
    referrals: list[PlanReferral] = Field(default_factory=list, max_length=50)
    baseline_scores: BaselineScores | None = None
    community_roster: list[CommunityMember] = Field(default_factory=list, max_length=200)
    objectives: Text | None = None
    monitoring_arrangements: Text | None = None
    information_sharing_arrangements: Text | None = None
    estimated_duration_months: int | None = Field(default=None, ge=1, le=60)
    exit_strategy: Text | None = None
    mainstream_transition: Text | None = None
    done_on: IsoDate | None = None
    done_in: Name | None = None
    returnee_signature: Signature | None = None
    staff_or_partner_signature: Signature | None = None

    @model_validator(mode="after")
    def _referrals_serve_items_of_the_plan(self) -> "PlanContent":
        for referral in self.referrals:
            if referral.item is not None and referral.item >= len(self.items):
                raise ValueError(f"a referral serves item {referral.item}, and the plan has {len(self.items)} items")
        return self

    @model_validator(mode="after")
    def _currency_with_grant(self) -> "PlanContent":
        if self.grant_lines and self.grant_currency is None:
            raise ValueError("grant_currency is required with grant_lines")
        return self


class DraftPlan(_Command):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "drafted_in": "origin",
                    "content": {
                        "place_of_return": "Thiès",
                        "summary_economic": "Tailoring micro-business",
                        "items": [{"type": "income_generating_activity", "needs_referral": True}],
                        "grant_currency": "XOF",
                        "grant_lines": [{"description": "Sewing machine", "estimated_cost": 250000}],
                        "estimated_duration_months": 12,
                        "exit_strategy": "Self-sufficient once the shop covers rent and stock",
                    },
                }
            ]
        },
    )

    drafted_in: DraftedIn
    content: PlanContent


class PlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    case_id: UUID
    version: int
    status: PlanStatus
    drafted_in: DraftedIn
    content: dict[str, object] | None = Field(default=None, description="null when `reintegration_plan` is withheld")
    grant_total: float | None = Field(default=None, description="null when `financial_payments` is withheld")
    drafted_by: str
    drafted_at: IsoDateTime
    approved_by: str | None
    approved_at: IsoDateTime | None
    withheld: list[Withheld] = Field(default_factory=list)


class PlanChange(BaseModel):
    pointer: str
    before: object
    after: object


class PlanDiff(BaseModel):
    from_version: int
    to_version: int
    changes: list[PlanChange]
    withheld: list[Withheld] = Field(default_factory=list)


class ClosureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: UUID
    closure_reason: ClosureReason
    closure_type: ClosureType
    early_exit_reason: str | None = None
    exit_interview_on: IsoDate | None
    closing_assessment: str | None = None
    plan_review: str | None = None
    hand_off: str | None = None
    best_interests_determination_reference: str | None = None
    closed_by: str
    closed_at: IsoDateTime
    withheld: list[Withheld] = Field(default_factory=list)


class PlanTranche(_Command):
    amount: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    due_on: IsoDate


class PlanItemLink(_Command):
    """An item of a plan version (versions never change, so the link stays true when the plan is amended)."""

    plan_version: int = Field(ge=1, le=2**31 - 1)
    item: int = Field(ge=0, lt=50, description="the index in that version's `items`")


class AddAssistance(_Command):
    """An assistance item: a catalogue type, its modality, the amount in an ISO 4217 currency and its tranches."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "assistance_type": "income_generating_activity",
                    "modality": "cash",
                    "amount": "300000",
                    "currency": "XOF",
                    "provider": "CFP Dakar",
                    "tranches": [
                        {"amount": "200000", "due_on": "2027-01-15"},
                        {"amount": "100000", "due_on": "2027-04-15"},
                    ],
                    "plan_item": {"plan_version": 2, "item": 0},
                }
            ]
        },
    )

    assistance_type: AssistanceType
    modality: Modality
    amount: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217")
    provider: Name | None = None
    tranches: list[PlanTranche] = Field(min_length=1, max_length=24)
    plan_item: PlanItemLink | None = Field(default=None, description="the plan item this assistance delivers")

    @model_validator(mode="after")
    def _amounts_add_up(self) -> "AddAssistance":
        if self.modality in {Modality.CASH, Modality.VOUCHER} and (self.amount is None or self.currency is None):
            raise ValueError("cash and voucher assistance need an amount and a currency")
        if self.amount is not None and sum(t.amount for t in self.tranches) != self.amount:
            raise ValueError("the tranches must add up to the amount")
        return self


class RecordDelivery(_Command):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"tranche_number": 1, "delivered_on": "2027-01-15"}]}
    )

    tranche_number: int = Field(ge=1)
    delivered_on: IsoDate


class CloseAssistance(_Command):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status": "unmet_need", "reason": "No vocational school within reach"}]},
    )

    status: Literal[AssistanceStatus.CANCELLED, AssistanceStatus.UNMET_NEED]
    reason: Text


class TrancheRead(BaseModel):
    number: int
    amount: Decimal
    due_on: IsoDate
    delivered_on: IsoDate | None


class AssistanceRead(BaseModel):
    id: UUID
    case_id: UUID
    assistance_type: AssistanceType | None = Field(default=None, description="null when `assistance` is withheld")
    dimension: Dimension | None = None
    modality: Modality | None = None
    amount: Decimal | None = Field(default=None, description="null when `financial_payments` is withheld")
    currency: str | None = None
    provider: str | None = None
    plan_item: PlanItemLink | None = Field(default=None, description="the plan item it delivers, if linked")
    status: AssistanceStatus
    tranches: list[TrancheRead] | None = None
    created_at: IsoDateTime
    version: int | None = Field(
        default=None,
        description="moves on with each delivered tranche and with the closure (a sync push names it); null when "
        "`financial_payments` is withheld, as it counts the deliveries",
    )
    withheld: list[Withheld] = Field(default_factory=list)


class WriteNote(_Command):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "Returnee reached by phone; shop opened", "is_confidential": False}]},
    )

    body: Text
    is_confidential: bool = False


class NoteRead(BaseModel):
    id: UUID
    case_id: UUID
    body: str | None = Field(
        default=None,
        description="null when `case_notes` (and, for a confidential note, `psychosocial_notes`) is withheld",
    )
    is_confidential: bool
    erased: bool = Field(default=False, description="the person's data was erased on request: the body is gone")
    author: str
    written_at: IsoDateTime
    withheld: list[Withheld] = Field(default_factory=list)
